/*
 * store.h - a log directory: every partition log under it, the checkpoint files Kafka keeps
 * beside them (recovery-point-offset-checkpoint, log-start-offset-checkpoint,
 * replication-offset-checkpoint), the clean-shutdown marker, an exclusive lock against a
 * second process, and a background thread that runs retention, time-based flushes and
 * checkpoints on their intervals.
 *
 * Threads: all functions are thread-safe. The table of logs is guarded by a rwlock: lookups
 * and the background pass share it, create and delete take it exclusively. A struct sl_log
 * returned by sl_store_get stays valid until sl_store_delete of that partition or
 * sl_store_close.
 */
#ifndef SL_STORE_H
#define SL_STORE_H

#include <stdint.h>

#include "../common/sl_err.h"
#include "config.h"
#include "log.h"

struct sl_store;

struct sl_store_config {
    const char *log_dir;
    struct sl_log_config defaults;         /* the broker's log.* settings */
    int64_t retention_check_interval_ms;   /* log.retention.check.interval.ms (300000) */
    int64_t flush_check_interval_ms;       /* how often flush.ms is checked (1000) */
    int64_t checkpoint_interval_ms;        /* log.flush.offset.checkpoint.interval.ms (60000) */
};

/* Kafka's defaults (log_dir is left NULL). */
void sl_store_config_default(struct sl_store_config *cfg);

/* What opening found, summed over every log. */
struct sl_store_open_info {
    int clean;                        /* the clean-shutdown marker was there */
    int logs;                         /* partitions opened */
    struct sl_log_recovery_info rec;  /* totals; first_error of the first damaged log */
};

/*
 * Open (creating it if needed) and lock the log directory, read the checkpoints, and open
 * every <topic>-<partition> in it, recovering after an unclean stop. Directories named
 * *-delete (a topic deletion interrupted by a crash) are removed. info may be NULL.
 * Returns 0, SL_EBUSY (another process holds the directory), or an I/O / corruption error.
 */
int sl_store_open(const struct sl_store_config *cfg, struct sl_store **out,
                  struct sl_store_open_info *info, struct sl_err *err);

/*
 * Stop the background thread, close every log (clean: flushed), write the checkpoints and
 * then the clean-shutdown marker, and release the lock. With clean == 0 nothing is flushed
 * and no marker is written (what a crash leaves, for tests). Frees the store.
 */
int sl_store_close(struct sl_store *st, int clean);

/* The log of topic/partition, or NULL. Borrowed (see above). */
struct sl_log *sl_store_get(struct sl_store *st, const char *topic, int32_t partition);

/*
 * Create the partition log (directory and first segment) with cfg (NULL: the topic's
 * configuration if set, else the defaults). Returns 0 (and *out, borrowed), SL_EEXIST, or an
 * error. Topic names follow Kafka's rule: [a-zA-Z0-9._-], 1..249 characters.
 */
int sl_store_create(struct sl_store *st, const char *topic, int32_t partition,
                    const struct sl_log_config *cfg, struct sl_log **out, struct sl_err *err);

/* Close the log and delete its directory. Returns 0, SL_ENOENT, or an I/O error. */
int sl_store_delete(struct sl_store *st, const char *topic, int32_t partition,
                    struct sl_err *err);

/* Apply cfg to every partition of topic, now and when created later. */
void sl_store_set_topic_config(struct sl_store *st, const char *topic,
                               const struct sl_log_config *cfg);

/* The configuration a new partition of topic gets. */
void sl_store_topic_config(struct sl_store *st, const char *topic, struct sl_log_config *cfg);

/* Call cb for every log (under the shared lock: cb must not create or delete). */
typedef void (*sl_store_each_cb)(void *arg, struct sl_log *log);
void sl_store_each(struct sl_store *st, sl_store_each_cb cb, void *arg);

/* Write the three checkpoint files now. */
int sl_store_checkpoint(struct sl_store *st, struct sl_err *err);

/* One pass of retention over every log. Returns segments deleted, or an error. */
int sl_store_retain(struct sl_store *st, int64_t now_ms);

/* Start / stop the background thread (retention, flush.ms, checkpoints). */
int sl_store_start(struct sl_store *st);
void sl_store_stop(struct sl_store *st);

/* 1 when the name is a legal Kafka topic name. */
int sl_store_topic_name_ok(const char *topic);

#endif
