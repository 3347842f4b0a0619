/*
 * config.h - per-log (per-topic) configuration with Kafka's key names. A topic's
 * configuration starts from the broker's defaults (log.segment.bytes, log.retention.hours,
 * ...) and is overridden key by key with the topic-level names (segment.bytes,
 * retention.ms, ...). Plain values: copy freely between threads.
 */
#ifndef SL_STORE_CONFIG_H
#define SL_STORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "../common/sl_err.h"

struct sl_log_config {
    int64_t segment_bytes;        /* segment.bytes / log.segment.bytes (1 GiB) */
    int64_t segment_ms;           /* segment.ms / log.roll.ms|hours (7 days) */
    int64_t segment_index_bytes;  /* segment.index.bytes / log.index.size.max.bytes (10 MiB) */
    int64_t index_interval_bytes; /* index.interval.bytes / log.index.interval.bytes (4096) */
    int64_t retention_ms;         /* retention.ms / log.retention.ms|minutes|hours; -1 = keep */
    int64_t retention_bytes;      /* retention.bytes / log.retention.bytes; -1 = unlimited */
    int64_t flush_messages;       /* flush.messages / log.flush.interval.messages */
    int64_t flush_ms;             /* flush.ms / log.flush.interval.ms */
    int64_t max_message_bytes;    /* max.message.bytes / message.max.bytes (1048588) */
    int64_t log_append_time;      /* message.timestamp.type: 1 = LogAppendTime, 0 = CreateTime */
    /* Which of the time keys set retention_ms / segment_ms, so that Kafka's precedence
     * (ms over minutes over hours) holds whatever order the keys arrive in. */
    int8_t retention_ms_rank;
    int8_t segment_ms_rank;
};

/* Kafka's defaults. */
void sl_log_config_default(struct sl_log_config *cfg);

/*
 * Set a topic-level key ("segment.bytes", "retention.ms", ...) from its text value.
 * Returns 0, or SL_ECONFIG with err naming the key and saying what is wrong (unknown key,
 * not a number, out of range).
 */
int sl_log_config_set(struct sl_log_config *cfg, const char *key, const char *value,
                      struct sl_err *err);

/*
 * Set a broker-level default ("log.segment.bytes", "log.retention.hours", ...). Returns 0,
 * SL_ENOENT if key is not a log key (the caller may own it), or SL_ECONFIG for a bad value.
 */
int sl_log_config_set_broker(struct sl_log_config *cfg, const char *key, const char *value,
                             struct sl_err *err);

/* Callback for sl_log_config_each: a topic-level key and its current value as text. */
typedef void (*sl_log_config_each_cb)(void *arg, const char *key, const char *value);

/* Call cb for every topic-level key with its value (for DescribeConfigs and --check). */
void sl_log_config_each(const struct sl_log_config *cfg, sl_log_config_each_cb cb, void *arg);

#endif
