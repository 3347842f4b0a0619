/*
 * broker.h - the single-node Kafka-compatible broker: its configuration (Kafka's key names),
 * its state (log directories, topics, the network server, fetch waiters, producer state)
 * and its lifecycle on a libuv loop.
 *
 * Threads: a struct sl_broker and everything it points to belong to the thread running its
 * loop (the "broker loop thread"); only sl_broker_config_* may be used elsewhere (before
 * create), and sl_broker_metrics_read from any thread while the broker exists. The store's
 * own background thread does retention, flush.ms and checkpoints.
 */
#ifndef SL_BROKER_H
#define SL_BROKER_H

#include <stdint.h>
#include <uv.h>

#include "../common/sl_err.h"
#include "../store/store.h"
#include "group/group.h"

#define SL_BROKER_MAX_LOG_DIRS 16

struct sl_broker_config {
    int32_t broker_id;                 /* broker.id (0) */
    char listen_host[256];             /* listeners: PLAINTEXT://host:port or host:port */
    int listen_port;                   /* (0.0.0.0:9092); port 0 = pick a free one */
    char advertised_host[256];         /* advertised.listeners; empty = from listeners */
    int advertised_port;               /* 0 = the listening port */
    char log_dirs[SL_BROKER_MAX_LOG_DIRS][1024]; /* log.dirs / log.dir (/tmp/sluice-logs) */
    int nlog_dirs;
    int32_t num_partitions;            /* num.partitions (1) */
    int16_t default_replication_factor; /* default.replication.factor (1) */
    int auto_create_topics;            /* auto.create.topics.enable (true) */
    int64_t socket_request_max_bytes;  /* socket.request.max.bytes (104857600) */
    int64_t fetch_max_bytes;           /* fetch.max.bytes (57671680): cap per Fetch response */
    struct sl_groups_config groups;    /* group.*.session.timeout.ms, offsets.* */
    struct sl_store_config store;      /* log.* defaults, retention/flush/checkpoint timers;
                                          store.log_dir is set per directory at create */
};

/* Kafka's defaults. */
void sl_broker_config_default(struct sl_broker_config *cfg);

/*
 * Set one key from its text value ("broker.id", "listeners", "log.retention.hours", ...).
 * Returns 0, or SL_ECONFIG with err naming the key: an unknown key, a value of the wrong
 * type or out of range. err->file/line/col are left for the caller (the YAML loader) to set.
 */
int sl_broker_config_set(struct sl_broker_config *cfg, const char *key, const char *value,
                         struct sl_err *err);

/* Call cb for every key with its current value as text (DescribeConfigs of the broker). */
typedef void (*sl_broker_config_each_cb)(void *arg, const char *key, const char *value);
void sl_broker_config_each(const struct sl_broker_config *cfg, sl_broker_config_each_cb cb,
                           void *arg);

/*
 * Counters since start, for the agent's /metrics. Only the broker loop thread adds to them
 * (relaxed atomics, SL_BROKER_METRIC_ADD); any thread may read them through
 * sl_broker_metrics_read. Each counter is exact on its own; a read is not a consistent
 * snapshot across counters.
 */
#define SL_BROKER_METRICS_API_KEYS 64 /* API keys 0..63; every key in sl_api_table fits */

struct sl_broker_api_metrics {
    uint64_t requests;    /* requests that reached the handler and ended (answered, no
                             response for acks=0, failed, or cancelled while parked) */
    uint64_t time_us_sum; /* sum of their times from frame parsed to response queued (or
                             the end), parked time included (long-poll Fetch, JoinGroup) */
};

struct sl_broker_metrics {
    uint64_t bytes_in;    /* record batch bytes appended by Produce */
    uint64_t messages_in; /* records appended by Produce */
    uint64_t bytes_out;   /* record batch bytes put into Fetch responses */
    struct sl_broker_api_metrics api[SL_BROKER_METRICS_API_KEYS]; /* by API key */
};

#define SL_BROKER_METRIC_ADD(counter, n) \
    ((void)__atomic_fetch_add(&(counter), (uint64_t)(n), __ATOMIC_RELAXED))

struct sl_server;
struct sl_topics;
struct sl_fetch_waiters;
struct sl_producers;

struct sl_broker {
    struct sl_broker_config cfg;
    uv_loop_t *loop;
    struct sl_store *stores[SL_BROKER_MAX_LOG_DIRS]; /* one per log dir */
    int nstores;
    struct sl_topics *topics;             /* topic registry (broker/topics.c) */
    struct sl_server *server;             /* listener and connections (broker/server.c) */
    struct sl_fetch_waiters *fetch_waiters; /* parked long-poll fetches (handlers/fetch.c) */
    struct sl_producers *producers;       /* idempotent producer state (handlers/producer.c) */
    struct sl_groups *groups;             /* group coordinator (broker/group) */
    char cluster_id[64];                  /* persisted in meta.properties of the first dir */
    int stopping;
    struct sl_broker_metrics metrics;     /* the one field other threads read (see above) */
};

/*
 * Open the log directories (recovering after an unclean stop), load the topic registry,
 * and start listening on cfg->listeners, all on loop. On success *out owns the broker.
 * Returns 0, SL_EBUSY (a log directory is locked by another process), SL_ECONFIG, -errno
 * (e.g. -EADDRINUSE), or a store error; err says which. Blocks while recovering.
 */
int sl_broker_create(const struct sl_broker_config *cfg, uv_loop_t *loop,
                     struct sl_broker **out, struct sl_err *err);

/* The port actually bound (useful with port 0). */
int sl_broker_port(const struct sl_broker *b);

/*
 * Stop accepting and close every connection (asynchronously, on the loop). Call uv_run
 * until it returns, then sl_broker_destroy.
 */
void sl_broker_stop(struct sl_broker *b);

/* Close the logs (clean: flushed and marked clean) and free the broker. NULL is a no-op. */
int sl_broker_destroy(struct sl_broker *b, int clean);

/*
 * Copy the counters into *out. Any thread, as long as b is not destroyed meanwhile; each
 * counter is read atomically (relaxed).
 */
void sl_broker_metrics_read(const struct sl_broker *b, struct sl_broker_metrics *out);

/* The partition's log, or NULL when the topic or partition does not exist. Borrowed. */
struct sl_log *sl_broker_log(struct sl_broker *b, const char *topic, int32_t partition);

#endif
