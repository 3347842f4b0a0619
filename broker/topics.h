/*
 * topics.h - the broker's topic registry: which topics exist, their partition counts and
 * their per-topic configuration overrides. Partitions live in the store (one directory per
 * partition, spread over the log dirs); the overrides are persisted in the first log dir as
 * `topic-configs` (one `topic key value` line each, written atomically), so they survive
 * restarts. Single node: this broker leads every partition, replicas = ISR = {broker.id}.
 *
 * Threads: the broker loop thread.
 */
#ifndef SL_TOPICS_H
#define SL_TOPICS_H

#include <stdint.h>

#include "../common/sl_err.h"
#include "../store/config.h"

struct sl_broker;
struct sl_topics;

struct sl_topic_override {
    char *key;
    char *value;
};

struct sl_topic {
    char *name;
    int32_t partitions;
    int internal;                        /* __consumer_offsets and the like */
    struct sl_log_config cfg;            /* effective: broker defaults + overrides */
    struct sl_topic_override *overrides; /* as set by the user, in the order set */
    int noverrides;
};

/* Load the registry from the log dirs (partitions found on disk) and topic-configs. */
int sl_topics_create(struct sl_broker *b, struct sl_topics **out, struct sl_err *err);
void sl_topics_destroy(struct sl_topics *t);

/* The topic, or NULL. Borrowed until the topic is deleted or changed. */
const struct sl_topic *sl_topics_get(struct sl_topics *t, const char *name);

/* Topics sorted by name: index 0..count-1. */
int sl_topics_count(struct sl_topics *t);
const struct sl_topic *sl_topics_at(struct sl_topics *t, int i);

/*
 * Create a topic with `partitions` partitions and the given overrides (topic-level keys,
 * validated with sl_log_config_set). With validate_only nothing is created.
 * Returns 0; SL_EEXIST (exists); SL_EUNSUPPORTED (illegal name: Kafka's
 * [a-zA-Z0-9._-]{1,249}, not "." or ".."); SL_ERANGE (partitions < 1); SL_ECONFIG (a bad
 * override: err names it); or an I/O error (partially created partitions are removed).
 */
int sl_topics_add(struct sl_broker *b, const char *name, int32_t partitions,
                  const struct sl_topic_override *overrides, int noverrides, int validate_only,
                  struct sl_err *err);

/* Delete the topic and its partition directories. Returns 0, SL_ENOENT, or an I/O error. */
int sl_topics_delete(struct sl_broker *b, const char *name, struct sl_err *err);

/*
 * Grow the topic to `total` partitions. Returns 0, SL_ENOENT, SL_ERANGE (total is not more
 * than today: Kafka's INVALID_PARTITIONS, err says "Topic currently has N partitions, which
 * is higher than the requested M."), or an I/O error. validate_only as above.
 */
int sl_topics_grow(struct sl_broker *b, const char *name, int32_t total, int validate_only,
                   struct sl_err *err);

/*
 * Replace (incremental == 0: AlterConfigs semantics, unspecified keys revert to defaults) or
 * change (incremental: set / delete individual keys; value NULL = delete) the topic's
 * overrides, apply them to every partition, persist them. Returns 0, SL_ENOENT, SL_ECONFIG.
 */
int sl_topics_set_config(struct sl_broker *b, const char *name,
                         const struct sl_topic_override *changes, int nchanges, int incremental,
                         int validate_only, struct sl_err *err);

#endif
