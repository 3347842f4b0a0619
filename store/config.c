/*
 * config.c - the table of log configuration keys: topic name, broker name, field, bounds.
 * Immutable tables; the structs it fills belong to the caller.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/sl_macros.h"
#include "config.h"

enum kind { K_INT, K_TS_TYPE };

struct key {
    const char *topic_key;
    const char *broker_key;
    size_t offset;
    int64_t min;
    int64_t max;
    int64_t scale; /* broker value * scale = stored value (hours -> ms) */
    int8_t rank;   /* precedence among keys sharing a field; 0 = none */
    enum kind kind;
};

#define F(field) offsetof(struct sl_log_config, field)
#define HOUR_MS  3600000LL

static const struct key keys[] = {
    {"segment.bytes", "log.segment.bytes", F(segment_bytes), 14, INT32_MAX, 1, 0, K_INT},
    {"segment.ms", "log.roll.ms", F(segment_ms), 1, INT64_MAX, 1, 2, K_INT},
    {NULL, "log.roll.hours", F(segment_ms), 1, INT64_MAX / HOUR_MS, HOUR_MS, 1, K_INT},
    {"segment.index.bytes", "log.index.size.max.bytes", F(segment_index_bytes), 8, INT32_MAX,
     1, 0, K_INT},
    {"index.interval.bytes", "log.index.interval.bytes", F(index_interval_bytes), 0, INT32_MAX,
     1, 0, K_INT},
    {"retention.ms", "log.retention.ms", F(retention_ms), -1, INT64_MAX, 1, 3, K_INT},
    {NULL, "log.retention.minutes", F(retention_ms), -1, INT64_MAX / 60000, 60000, 2, K_INT},
    {NULL, "log.retention.hours", F(retention_ms), -1, INT64_MAX / HOUR_MS, HOUR_MS, 1, K_INT},
    {"retention.bytes", "log.retention.bytes", F(retention_bytes), -1, INT64_MAX, 1, 0, K_INT},
    {"flush.messages", "log.flush.interval.messages", F(flush_messages), 1, INT64_MAX, 1, 0,
     K_INT},
    {"flush.ms", "log.flush.interval.ms", F(flush_ms), 0, INT64_MAX, 1, 0, K_INT},
    {"max.message.bytes", "message.max.bytes", F(max_message_bytes), 0, INT32_MAX, 1, 0,
     K_INT},
    {"message.timestamp.type", "log.message.timestamp.type", F(log_append_time), 0, 1, 1, 0,
     K_TS_TYPE},
};

void sl_log_config_default(struct sl_log_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->segment_bytes = 1073741824;
    cfg->segment_ms = 7 * 24 * HOUR_MS;
    cfg->segment_index_bytes = 10485760;
    cfg->index_interval_bytes = 4096;
    cfg->retention_ms = 7 * 24 * HOUR_MS;
    cfg->retention_bytes = -1;
    cfg->flush_messages = INT64_MAX;
    cfg->flush_ms = INT64_MAX;
    cfg->max_message_bytes = 1048588;
    cfg->log_append_time = 0;
}

static int8_t *rank_field(struct sl_log_config *cfg, size_t offset)
{
    if (offset == F(retention_ms)) {
        return &cfg->retention_ms_rank;
    }
    if (offset == F(segment_ms)) {
        return &cfg->segment_ms_rank;
    }
    return NULL;
}

static int parse_value(const struct key *k, const char *name, const char *value, int64_t *out,
                       struct sl_err *err)
{
    if (k->kind == K_TS_TYPE) {
        if (strcmp(value, "CreateTime") == 0) {
            *out = 0;
        } else if (strcmp(value, "LogAppendTime") == 0) {
            *out = 1;
        } else {
            return sl_err_set(err, SL_ECONFIG,
                              "%s: '%s' is not CreateTime or LogAppendTime", name, value);
        }
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0') {
        return sl_err_set(err, SL_ECONFIG, "%s: '%s' is not an integer", name, value);
    }
    if (v < k->min || v > k->max) {
        return sl_err_set(err, SL_ECONFIG, "%s: %lld is out of range [%" PRId64 ", %" PRId64 "]",
                          name, v, k->min, k->max);
    }
    /* -1 means "unlimited" and is not scaled. */
    *out = v < 0 ? v : v * k->scale;
    return 0;
}

static int apply(struct sl_log_config *cfg, const struct key *k, const char *name,
                 const char *value, struct sl_err *err)
{
    int64_t v = 0;
    int rc = parse_value(k, name, value, &v, err);
    if (rc != 0) {
        return rc;
    }
    int8_t *rank = rank_field(cfg, k->offset);
    if (rank) {
        /* A topic-level key always wins; broker keys obey ms > minutes > hours. */
        int8_t r = k->topic_key && strcmp(name, k->topic_key) == 0 ? INT8_MAX : k->rank;
        if (r < *rank) {
            return 0;
        }
        *rank = r;
    }
    memcpy((char *)cfg + k->offset, &v, sizeof(v));
    return 0;
}

int sl_log_config_set(struct sl_log_config *cfg, const char *key, const char *value,
                      struct sl_err *err)
{
    for (size_t i = 0; i < SL_ARRAY_SIZE(keys); i++) {
        if (keys[i].topic_key && strcmp(keys[i].topic_key, key) == 0) {
            return apply(cfg, &keys[i], key, value, err);
        }
    }
    return sl_err_set(err, SL_ECONFIG, "unknown topic configuration key '%s'", key);
}

int sl_log_config_set_broker(struct sl_log_config *cfg, const char *key, const char *value,
                             struct sl_err *err)
{
    for (size_t i = 0; i < SL_ARRAY_SIZE(keys); i++) {
        if (strcmp(keys[i].broker_key, key) == 0) {
            return apply(cfg, &keys[i], key, value, err);
        }
    }
    return SL_ENOENT;
}

void sl_log_config_each(const struct sl_log_config *cfg, sl_log_config_each_cb cb, void *arg)
{
    for (size_t i = 0; i < SL_ARRAY_SIZE(keys); i++) {
        if (!keys[i].topic_key) {
            continue;
        }
        int64_t v;
        memcpy(&v, (const char *)cfg + keys[i].offset, sizeof(v));
        char buf[32];
        if (keys[i].kind == K_TS_TYPE) {
            snprintf(buf, sizeof(buf), "%s", v ? "LogAppendTime" : "CreateTime");
        } else {
            snprintf(buf, sizeof(buf), "%" PRId64, v);
        }
        cb(arg, keys[i].topic_key, buf);
    }
}
