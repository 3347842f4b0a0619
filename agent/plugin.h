/*
 * plugin.h - the three kinds of pipeline component (source, channel, sink): each plugin's
 * const ops struct and config map, the component structs the runtime builds around them,
 * and the channel transaction API every source and sink goes through.
 *
 * Threads: a channel is shared by its sources (on the source loop thread) and its sinks (one
 * thread each); the channel ops are thread-safe. A source belongs to the source loop thread;
 * a sink to its own thread. Counters are written with relaxed atomics by their owner and may
 * be read from any thread.
 */
#ifndef SL_AGENT_PLUGIN_H
#define SL_AGENT_PLUGIN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "agent/event.h"
#include "common/sl_err.h"
#include "conf/confmap.h"

struct sl_agent;
struct sl_channel;
struct sl_source;
struct sl_sink;
struct sl_sinkgroup;
struct sl_icpt_chain;
struct sl_selector;

#define SL_COMP_NAME_MAX 64

/* ---- channels ---------------------------------------------------------------------- */

struct sl_chan_stats {
    uint64_t size;     /* events held (queued + taken, not yet committed) */
    uint64_t capacity; /* events */
    uint64_t bytes;    /* bytes held */
};

struct sl_channel_ops {
    const char *name;
    const struct sl_conf_map *conf;
    size_t ctx_size;
    /* Config bound; set c->tx_capacity; allocate. 0 or an error in err. */
    int (*init)(struct sl_channel *c, struct sl_err *err);
    void (*fini)(struct sl_channel *c);
    /*
     * Make n events (bytes in total, by sl_event_size) part of the channel, all or none.
     * wait_ms: how long to wait for room (-1 = the channel's keep-alive). Returns 0 (the
     * channel owns the events), SL_ERETRY (no room in time; the caller keeps them) or
     * SL_ETOOLARGE (they can never fit).
     */
    int (*commit_put)(struct sl_channel *c, struct sl_event **evs, size_t n, uint64_t bytes,
                      int64_t wait_ms);
    /*
     * Move up to max events from the head into out (still counted against capacity until
     * commit_take). Waits up to wait_ms for the first one. Returns how many.
     */
    size_t (*take)(struct sl_channel *c, struct sl_event **out, size_t max, int64_t wait_ms);
    /* Taken events are gone for good: release their room (the caller frees them). */
    void (*commit_take)(struct sl_channel *c, struct sl_event **evs, size_t n, uint64_t bytes);
    /* Taken events go back to the head, in their order. */
    void (*rollback_take)(struct sl_channel *c, struct sl_event **evs, size_t n);
    void (*stats)(struct sl_channel *c, struct sl_chan_stats *st);
    /* Wake every thread waiting in take (shutdown). */
    void (*wakeup)(struct sl_channel *c);
    /*
     * Optional, main thread. start: before any source or sink starts (not for --check): open
     * files, recover; an error fails agent startup. stop: after every source and sink stopped
     * (no put or take runs any more) and the runtime read its final stats: close.
     */
    int (*start)(struct sl_channel *c, struct sl_err *err);
    void (*stop)(struct sl_channel *c);
    /* Events held at stop stay for the next start: the sinks do not drain the backlog at
     * shutdown, they only finish the batches in flight. */
    int durable;
};

struct sl_channel {
    const struct sl_channel_ops *ops;
    char name[SL_COMP_NAME_MAX];
    char comp[SL_COMP_NAME_MAX * 2]; /* "channel:memory:c1", the log prefix */
    void *ctx;                       /* ops->ctx_size bytes: config, then plugin state */
    size_t tx_capacity;              /* events per transaction */
    int inited;
    int started; /* ops->start succeeded (or there is none); ops->stop not yet called */
    /*
     * Set by the runtime before anything runs: called (from any thread, without the channel's
     * lock) when room frees up after a non-blocking put found the channel full, so a paused
     * source resumes at once instead of on its next poll. NULL = nobody listens.
     */
    void (*room_cb)(void *arg);
    void *room_arg;
    /* Flume's channel counters. */
    uint64_t put_attempts, put_successes, take_attempts, take_successes;
};

/* A put or take transaction; lives on the caller's stack. */
struct sl_chan_tx {
    struct sl_channel *ch;
    int take;
    struct sl_event **evs; /* put: borrowed until commit; take: owned */
    size_t n, cap;
    uint64_t bytes;
};

/* Start a transaction. Returns 0 or -ENOMEM. */
int sl_chan_begin(struct sl_channel *ch, int take, struct sl_chan_tx *tx);

/*
 * Put side: add ev. The transaction borrows ev; a successful commit hands it to the channel,
 * a rollback or a failed commit leaves it with the caller. Returns 0, or SL_ETOOLARGE when
 * the transaction already holds transactionCapacity events ("commit more frequently").
 */
int sl_chan_put(struct sl_chan_tx *tx, struct sl_event *ev);

/* Take side: take up to max events (bounded by transactionCapacity), waiting up to wait_ms
 * for the first. Returns how many were added to tx->evs. */
size_t sl_chan_take(struct sl_chan_tx *tx, size_t max, int64_t wait_ms);

/*
 * Commit. Put: waits up to the channel's keep-alive for room (sl_chan_commit_wait: wait_ms,
 * 0 = never block); returns 0, SL_ERETRY (channel full) or SL_ETOOLARGE; on failure the
 * transaction is rolled back. Take: the events are freed. Either way tx is finished.
 */
int sl_chan_commit(struct sl_chan_tx *tx);
int sl_chan_commit_wait(struct sl_chan_tx *tx, int64_t wait_ms);

/* Roll back and finish tx: taken events return to the channel head in order. */
void sl_chan_rollback(struct sl_chan_tx *tx);

/* ---- sources ----------------------------------------------------------------------- */

typedef void (*sl_done_cb)(struct sl_source *s);

struct sl_source_ops {
    const char *name;
    const struct sl_conf_map *conf;
    size_t ctx_size;
    int (*init)(struct sl_source *s, struct sl_err *err); /* config bound; no I/O yet */
    int (*start)(struct sl_source *s, uv_loop_t *loop, struct sl_err *err);
    void (*stop)(struct sl_source *s, sl_done_cb done); /* asynchronous, like uv_close */
    void (*fini)(struct sl_source *s);                  /* free config-time state */
    /* Optional, source loop thread: a channel that was full has room again (see room_cb). */
    void (*room)(struct sl_source *s);
};

struct sl_source {
    const struct sl_source_ops *ops;
    char name[SL_COMP_NAME_MAX];
    char comp[SL_COMP_NAME_MAX * 2];
    void *ctx;
    struct sl_channel **channels; /* every channel the selector may pick (default: all) */
    size_t nchannels;
    struct sl_agent *agent;
    int inited;
    int started;
    /* Flume's source counters. */
    uint64_t received, accepted, failed, truncated, conns_created, conns_closed, bytes_received;
    /* Loss ledger: read but not yet in every channel; lost when a connection closed first;
     * dropped because a channel was full and the input cannot wait (UDP datagrams). */
    uint64_t pending, lost_unacked, dropped_full;
    /* Interceptor chain and channel selector (agent/interceptor.h, agent/selector.h), both
     * run by sl_source_put; NULL = none, and every event is replicated to every channel. */
    struct sl_icpt_chain *icpt;
    struct sl_selector *selector;
    /* Routing ledger: events the interceptors filtered out; events no channel was selected
     * for; event copies an optional channel could not take (dropped); and the sum over put
     * events of (channels selected - nchannels), so that received * nchannels +
     * fanout_adjust counts the copies that entered routing. */
    uint64_t filtered, unrouted, dropped_optional;
    int64_t fanout_adjust;
};

/*
 * Put evs (n ≤ the smallest transactionCapacity) into every channel of s, one transaction
 * per channel, never blocking. *next_chan starts at 0; channels before it already hold the
 * events. Returns 0 (every channel committed; channels own the events), SL_ERETRY (a channel
 * is full: *next_chan says which; the caller keeps evs and tries later) or SL_ETOOLARGE
 * (cannot ever fit). Source loop thread.
 * First s's interceptors run, once per event (not again on a retry): they may rewrite an
 * event, replace it (evs[i] then points at the new one) or filter it out. Then s's selector
 * picks each event's channels: a channel gets the subset of evs routed to it, required
 * channels in order (a full one is SL_ERETRY as above), then optional ones without retry
 * (a full optional channel drops its copies, counted). On 0, the filtered and unrouted
 * events are destroyed too: the caller forgets all of evs[0..n) either way.
 */
int sl_source_put(struct sl_source *s, struct sl_event **evs, size_t n, size_t *next_chan);

/*
 * The commit state of a source's queue of events, for sl_source_put_next. Zeroed to start;
 * kept by the source between calls (one per queue: a connection, a file, the netcat queue).
 */
struct sl_put_state {
    size_t inflight;  /* events in the chunk being retried (0 = none) */
    size_t next_chan; /* the channels before it hold that chunk */
    size_t chunk_max; /* 0 = the transaction size; less after a chunk was too large */
    size_t split_n;   /* events of a refused chunk still to put from split_chan on */
    size_t split_chan;
};

/*
 * Put the next chunk of the queue evs[0..n) (n > 0, at most max events; 0 = the smallest
 * transactionCapacity) with sl_source_put. Returns
 *  0            *done events from the front are in every channel (the source drops them from
 *               its queue; they may be 0: call again),
 *  SL_ERETRY    a channel is full: call again later with the same front of the queue,
 *  SL_ETOOLARGE evs[0] can never fit in channel *at (nor, then, in the ones after it): the
 *               source drops and destroys it (channels before *at hold copies).
 * A chunk some channels took before another one was full is retried as exactly that chunk
 * from that channel on: events queued meanwhile wait behind it and go to every channel in a
 * later chunk. A chunk refused as too large by the first channel is halved until the pieces
 * fit or an event is alone; one refused by channel c > 0 is put again one event at a time
 * from channel c on, since the channels before c hold all of it already (sl_source_put hands
 * no original to a channel before *next_chan).
 */
int sl_source_put_next(struct sl_source *s, struct sl_put_state *ps, struct sl_event **evs,
                       size_t n, size_t max, size_t *done, size_t *at);

/* The smallest transactionCapacity of s's channels. */
size_t sl_source_tx_capacity(const struct sl_source *s);

/* ---- sinks ------------------------------------------------------------------------- */

/*
 * One take transaction in flight in a pipelined sink (ops->submit). The runtime owns it and
 * keeps its address stable until it is committed or rolled back; the plugin only counts
 * reports into it on the sink's thread. Done when pending == 0 after submit returned.
 */
struct sl_sink_batch {
    struct sl_chan_tx tx; /* the events are tx.evs[0..tx.n) */
    size_t pending;       /* records handed to the destination, report not yet in */
    size_t failed;        /* records not acknowledged, or not handed over at all */
    int err;              /* SL_E* or -errno for those (the plugin logs its own detail) */
};

struct sl_sink_ops {
    const char *name;
    const struct sl_conf_map *conf;
    size_t ctx_size;
    /* Config bound; set s->batch_size. No I/O. */
    int (*init)(struct sl_sink *s, struct sl_err *err);
    /* On the sink's thread, before the first deliver. */
    int (*start)(struct sl_sink *s, struct sl_err *err);
    /*
     * Deliver a batch and wait for the destination's acknowledgement. Returns SL_OK (the
     * runtime commits the take), SL_ERETRY or a negative error (the runtime rolls back and
     * retries with backoff). Must return within a bounded time once sl_sink_aborting(s).
     */
    int (*deliver)(struct sl_sink *s, struct sl_event **evs, size_t n);
    /*
     * Optional pipelined delivery, used instead of deliver when set: submit hands b's events
     * to the destination and returns without waiting (b->pending = records whose report will
     * come, b->failed = records that could not be handed over); poll waits up to wait_ms for
     * reports and counts them into their batches. The runtime keeps up to s->max_inflight
     * batches submitted, commits them strictly in order once each is done with failed == 0,
     * and on a failure waits for every batch in flight, then rolls them all back (the
     * events are redelivered in order; ones already acknowledged repeat: at least once).
     * The events stay valid until the batch is done. poll must return within a bounded time
     * once sl_sink_aborting(s), with every report counted.
     * Ordering: when an older batch fails after a newer one was acknowledged, the newer
     * records are delivered again after the older ones, so first deliveries are then out of
     * order (at least once never promised no duplicates; in-order first deliveries hold as
     * long as batches fail oldest first, as they do when the destination is down).
     */
    void (*submit)(struct sl_sink *s, struct sl_sink_batch *b);
    void (*poll)(struct sl_sink *s, int wait_ms);
    void (*stop)(struct sl_sink *s); /* on the sink's thread, after the last deliver */
    /* Optional, on the sink's thread: a take found the channel empty (called about every
     * 100 ms while idle), e.g. to close a file whose roll interval has passed. */
    void (*idle)(struct sl_sink *s);
    void (*fini)(struct sl_sink *s);
};

struct sl_sink {
    const struct sl_sink_ops *ops;
    char name[SL_COMP_NAME_MAX];
    char comp[SL_COMP_NAME_MAX * 2];
    void *ctx;
    struct sl_channel *channel;
    struct sl_agent *agent;
    size_t batch_size;
    size_t max_inflight; /* pipelined sinks: batches in flight at once (0 or 1 = one) */
    /* The failover or load_balance group that runs this sink on its thread (sinkgroup.h);
     * NULL = the sink runs its own thread (Flume's default processor). */
    struct sl_sinkgroup *group;
    int inited;
    pthread_t thread;
    int started;
    int stopping;        /* atomic: drain, then exit */
    int64_t abort_at_ms; /* atomic: monotonic deadline after which deliver must give up */
    pthread_mutex_t mu;  /* for the backoff sleep */
    pthread_cond_t cond;
    /* Flume's sink counters. */
    uint64_t drain_attempts, drain_successes, rollbacks, batches_empty, batches_complete;
};

/* True once the runtime wants deliver to give up (shutdown with a dead destination). */
int sl_sink_aborting(struct sl_sink *s);

/* "host:port" of the embedded broker, or NULL when the pipeline has none. */
const char *sl_agent_embedded_bootstrap(const struct sl_agent *a);

/*
 * The embedded broker's in-process produce endpoint (broker/local.h) while it runs (from
 * before the sinks start until after they stop), or NULL when the pipeline has none.
 */
struct sl_local;
struct sl_local *sl_agent_embedded_local(const struct sl_agent *a);

#endif
