/*
 * runtime.c - running a built pipeline: the embedded broker on its own thread and loop, one
 * thread per sink (take a batch, deliver, commit only once the destination acknowledged,
 * else roll back and retry with backoff) or per sink group (sinkgroup.c: the processor picks
 * the member sink for each batch), the sources on the main thread's loop, and the
 * orderly stop on SIGTERM/SIGINT: sources first, then sinks drain what the channels hold
 * (bounded by drainTimeoutMs; a lone sink of a durable channel only finishes its batches in
 * flight, the rest stays on disk), then the metrics server, then the broker, then the
 * channels. Channels with a start op (the file channel opens and recovers its log there)
 * start before everything else, so one that cannot start fails the agent's startup.
 *
 * Threads: struct sl_agent and the sources belong to the main (source loop) thread; each
 * struct sl_sink to its thread once started (stopping/abort_at_ms are atomics written by
 * main), a grouped sink and its struct sl_sinkgroup to the group's thread; struct sl_ebroker
 * to the broker thread after its start handshake.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/sinkgroup.h"
#include "broker/local.h"
#include "common/sl_assert.h"
#include "common/sl_log.h"
#include "common/sl_macros.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define TAKE_WAIT_MS   100

/* ---- embedded broker ---------------------------------------------------------------- */

struct sl_ebroker {
    pthread_t thread;
    uv_loop_t loop;
    uv_async_t stop;
    struct sl_broker *b;
    struct sl_local *local; /* in-process produce (broker/local.h) for the kafka sinks */
    const struct sl_broker_config *cfg;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int state; /* 0 starting, 1 running, -1 failed */
    int port;
    int rc;
    struct sl_err err;
};

static void ebroker_on_stop(uv_async_t *h)
{
    struct sl_ebroker *e = h->data;
    sl_local_close(e->local); /* answers what is queued; the sinks have stopped by now */
    sl_broker_stop(e->b);
    uv_close((uv_handle_t *)&e->stop, NULL);
}

static void *ebroker_main(void *arg)
{
    struct sl_ebroker *e = arg;
    int rc = uv_loop_init(&e->loop);
    if (rc == 0) {
        rc = sl_broker_create(e->cfg, &e->loop, &e->b, &e->err);
        if (rc != 0) {
            uv_run(&e->loop, UV_RUN_DEFAULT);
            uv_loop_close(&e->loop);
        }
    } else {
        sl_err_set(&e->err, rc, "event loop: %s", uv_strerror(rc));
    }
    if (rc == 0) {
        rc = sl_local_open(e->b, &e->local);
        if (rc != 0) {
            sl_err_set(&e->err, rc, "in-process endpoint: %s", sl_strerror(rc));
            sl_broker_stop(e->b);
            uv_run(&e->loop, UV_RUN_DEFAULT);
            sl_broker_destroy(e->b, 1);
            uv_run(&e->loop, UV_RUN_DEFAULT);
            uv_loop_close(&e->loop);
        }
    }
    if (rc == 0) {
        uv_async_init(&e->loop, &e->stop, ebroker_on_stop);
        e->stop.data = e;
        e->port = sl_broker_port(e->b);
    }
    pthread_mutex_lock(&e->mu);
    e->state = rc == 0 ? 1 : -1;
    e->rc = rc;
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->mu);
    if (rc != 0) {
        return NULL;
    }
    uv_run(&e->loop, UV_RUN_DEFAULT);
    e->rc = sl_broker_destroy(e->b, 1);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    uv_loop_close(&e->loop);
    return NULL;
}

static int ebroker_start(struct sl_agent *a)
{
    struct sl_ebroker *e = calloc(1, sizeof(*e));
    if (!e) {
        return -ENOMEM;
    }
    e->cfg = &a->broker_cfg;
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cond, NULL);
    if (pthread_create(&e->thread, NULL, ebroker_main, e) != 0) {
        free(e);
        return -EAGAIN;
    }
    pthread_mutex_lock(&e->mu);
    while (e->state == 0) {
        pthread_cond_wait(&e->cond, &e->mu);
    }
    pthread_mutex_unlock(&e->mu);
    if (e->state < 0) {
        sl_log(SL_LOG_ERROR, "cannot start the embedded broker: %s", e->err.msg);
        pthread_join(e->thread, NULL);
        free(e);
        return SL_ECONFIG;
    }
    a->ebroker = e;
    a->broker = e->b; /* published to the metrics thread by its creation, which comes later */
    const char *h = a->broker_cfg.listen_host;
    if (!h[0] || strcmp(h, "0.0.0.0") == 0) {
        h = "127.0.0.1";
    }
    snprintf(a->broker_bootstrap, sizeof(a->broker_bootstrap), strchr(h, ':') ? "[%s]:%d" : "%s:%d",
             h, e->port);
    sl_log(SL_LOG_INFO, "embedded broker listening on %s (log dirs %s%s)", a->broker_bootstrap,
           a->broker_cfg.log_dirs[0], a->broker_cfg.nlog_dirs > 1 ? ",..." : "");
    return 0;
}

static int ebroker_stop(struct sl_agent *a)
{
    struct sl_ebroker *e = a->ebroker;
    if (!e) {
        return 0;
    }
    SL_ASSERT(!a->metrics); /* its thread reads a->broker: stopped first (sl_agent_run) */
    a->broker = NULL;
    uv_async_send(&e->stop);
    pthread_join(e->thread, NULL);
    int rc = e->rc;
    sl_local_free(e->local);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cond);
    free(e);
    a->ebroker = NULL;
    if (rc != 0) {
        sl_log(SL_LOG_ERROR, "embedded broker: unclean shutdown: %s", sl_strerror(rc));
    } else {
        sl_log(SL_LOG_INFO, "embedded broker stopped cleanly");
    }
    return rc;
}

struct sl_local *sl_agent_embedded_local(const struct sl_agent *a)
{
    return a->ebroker ? a->ebroker->local : NULL;
}

const char *sl_agent_embedded_bootstrap(const struct sl_agent *a)
{
    return a->has_broker ? a->broker_bootstrap : NULL;
}

/* ---- sinks -------------------------------------------------------------------------- */

int sl_sink_aborting(struct sl_sink *s)
{
    return __atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE) &&
           sl_mono_ms() >= __atomic_load_n(&s->abort_at_ms, __ATOMIC_ACQUIRE);
}

/* Sleep up to ms, or until the runtime asks the sink to stop. */
static void sink_sleep(struct sl_sink *s, int64_t ms)
{
    struct timespec until;
    sl_mono_deadline(&until, ms);
    pthread_mutex_lock(&s->mu);
    if (!__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE)) {
        pthread_cond_timedwait(&s->cond, &s->mu, &until);
    }
    pthread_mutex_unlock(&s->mu);
}

static void *sink_main_pipelined(struct sl_sink *s);

static void *sink_main(void *arg)
{
    struct sl_sink *s = arg;
    if (s->ops->submit) {
        return sink_main_pipelined(s);
    }
    int64_t backoff = BACKOFF_MIN_MS;
    int64_t last_warn = 0;
    uint64_t failures = 0;
    for (;;) {
        int stopping = __atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE);
        if (stopping && s->channel->ops->durable) {
            break; /* the backlog (and a batch that failed) stays in the channel */
        }
        struct sl_chan_tx tx;
        sl_chan_begin(s->channel, 1, &tx);
        size_t n = sl_chan_take(&tx, s->batch_size, stopping ? 0 : TAKE_WAIT_MS);
        if (n == 0) {
            sl_chan_rollback(&tx);
            __atomic_add_fetch(&s->batches_empty, 1, __ATOMIC_RELAXED);
            if (stopping) {
                break;
            }
            if (s->ops->idle) {
                s->ops->idle(s);
            }
            continue;
        }
        __atomic_add_fetch(&s->drain_attempts, n, __ATOMIC_RELAXED);
        int rc = s->ops->deliver(s, tx.evs, n);
        if (rc == SL_OK) {
            sl_chan_commit(&tx);
            __atomic_add_fetch(&s->drain_successes, n, __ATOMIC_RELAXED);
            if (n == s->batch_size) {
                __atomic_add_fetch(&s->batches_complete, 1, __ATOMIC_RELAXED);
            }
            if (failures) {
                sl_clog(s->comp, SL_LOG_INFO, "delivering again after %llu failed attempts",
                        (unsigned long long)failures);
            }
            failures = 0;
            backoff = BACKOFF_MIN_MS;
            continue;
        }
        sl_chan_rollback(&tx);
        __atomic_add_fetch(&s->rollbacks, 1, __ATOMIC_RELAXED);
        failures++;
        if (sl_every_ms(&last_warn, 10000)) {
            sl_clog(s->comp, SL_LOG_WARN,
                    "delivery of %zu events failed (%s); rolled back, retrying in %lld ms", n,
                    sl_strerror(rc), (long long)backoff);
        }
        if (sl_sink_aborting(s)) {
            break;
        }
        sink_sleep(s, backoff);
        backoff = SL_MIN(backoff * 2, BACKOFF_MAX_MS);
    }
    if (s->ops->stop) {
        s->ops->stop(s);
    }
    return NULL;
}

/*
 * The pipelined loop (ops->submit): up to max_inflight take transactions in flight, kept in a
 * ring in take order. Each is committed only when every record of it was acknowledged, and
 * only after every older one was committed, so the channel sees the same sequence of commits
 * as with one batch at a time. A failure stops the taking, waits until every batch in flight
 * is done (their events are still referenced by the destination until then), and rolls all
 * of them back newest first, which puts the events back at the channel's head in their order.
 */
struct inflight {
    struct sl_sink_batch *ring;
    size_t cap, head, count;
};

#define RING_AT(f, i) (&(f)->ring[((f)->head + (i)) % (f)->cap])

static int inflight_failed(const struct inflight *f)
{
    for (size_t i = 0; i < f->count; i++) {
        if (RING_AT(f, i)->failed) {
            return 1;
        }
    }
    return 0;
}

/* Commit the done, successful batches at the head. */
static void retire(struct sl_sink *s, struct inflight *f, uint64_t *failures, int64_t *backoff)
{
    while (f->count) {
        struct sl_sink_batch *b = RING_AT(f, 0);
        if (b->pending || b->failed) {
            return;
        }
        size_t n = b->tx.n;
        sl_chan_commit(&b->tx);
        __atomic_add_fetch(&s->drain_successes, n, __ATOMIC_RELAXED);
        if (n == s->batch_size) {
            __atomic_add_fetch(&s->batches_complete, 1, __ATOMIC_RELAXED);
        }
        if (*failures) {
            sl_clog(s->comp, SL_LOG_INFO, "delivering again after %llu failed attempts",
                    (unsigned long long)*failures);
            *failures = 0;
        }
        *backoff = BACKOFF_MIN_MS;
        f->head = (f->head + 1) % f->cap;
        f->count--;
    }
}

static void *sink_main_pipelined(struct sl_sink *s)
{
    struct inflight f = {0};
    f.cap = s->max_inflight ? s->max_inflight : 1;
    f.ring = calloc(f.cap, sizeof(*f.ring));
    if (!f.ring) {
        sl_clog(s->comp, SL_LOG_ERROR, "out of memory: the sink does not run");
        return NULL;
    }
    int64_t backoff = BACKOFF_MIN_MS;
    int64_t last_warn = 0;
    uint64_t failures = 0;
    for (;;) {
        int stopping = __atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE);
        /* Fill: take and submit while there is room in flight and nothing has failed; a
         * durable channel keeps its backlog at shutdown: only the batches in flight finish. */
        int took = 0;
        int fill = !(stopping && s->channel->ops->durable);
        while (fill && f.count < f.cap && !inflight_failed(&f)) {
            struct sl_sink_batch *b = RING_AT(&f, f.count);
            memset(b, 0, sizeof(*b));
            sl_chan_begin(s->channel, 1, &b->tx);
            /* Block for events only when nothing is in flight (no reports to wait for). */
            int64_t wait = (f.count || stopping) ? 0 : TAKE_WAIT_MS;
            size_t n = sl_chan_take(&b->tx, s->batch_size, wait);
            if (n == 0) {
                sl_chan_rollback(&b->tx);
                if (!f.count) {
                    __atomic_add_fetch(&s->batches_empty, 1, __ATOMIC_RELAXED);
                }
                break;
            }
            __atomic_add_fetch(&s->drain_attempts, n, __ATOMIC_RELAXED);
            s->ops->submit(s, b);
            f.count++;
            took = 1;
        }
        if (f.count == 0) {
            if (stopping) {
                break;
            }
            if (s->ops->idle) {
                s->ops->idle(s);
            }
            continue;
        }
        /*
         * Wait for reports: long when the pipe is full or failing (nothing else to do),
         * briefly when the channel was empty (new events may come), not at all when there
         * may be more to take.
         */
        int wait_ms = 0;
        if (f.count == f.cap || inflight_failed(&f)) {
            wait_ms = 100;
        } else if (!took) {
            wait_ms = 2;
        }
        s->ops->poll(s, wait_ms);
        retire(s, &f, &failures, &backoff);
        if (f.count == 0 || !RING_AT(&f, 0)->failed) {
            continue;
        }
        /* The oldest batch failed: let every batch in flight finish, then roll all back. */
        for (;;) {
            size_t busy = 0;
            for (size_t i = 0; i < f.count; i++) {
                busy += RING_AT(&f, i)->pending;
            }
            if (!busy) {
                break;
            }
            s->ops->poll(s, 100);
        }
        size_t nev = 0, nfailed = 0;
        int err = RING_AT(&f, 0)->err ? RING_AT(&f, 0)->err : SL_ERETRY;
        for (size_t i = f.count; i-- > 0;) {
            struct sl_sink_batch *b = RING_AT(&f, i);
            nev += b->tx.n;
            nfailed += b->failed;
            sl_chan_rollback(&b->tx);
        }
        f.count = 0;
        f.head = 0;
        __atomic_add_fetch(&s->rollbacks, 1, __ATOMIC_RELAXED);
        failures++;
        if (sl_every_ms(&last_warn, 10000)) {
            sl_clog(s->comp, SL_LOG_WARN,
                    "%zu records not acknowledged (%s); the %zu events in flight rolled back, "
                    "retrying in %lld ms",
                    nfailed, sl_strerror(err), nev, (long long)backoff);
        }
        if (sl_sink_aborting(s)) {
            break;
        }
        sink_sleep(s, backoff);
        backoff = SL_MIN(backoff * 2, BACKOFF_MAX_MS);
    }
    free(f.ring);
    if (s->ops->stop) {
        s->ops->stop(s);
    }
    return NULL;
}

/*
 * Start the sinks of every failover or load_balance group, then the group's thread, which
 * runs their deliveries. Their start runs here on the main thread, as a lone sink's does in
 * sinks_start, so a sink that cannot start stops the agent from starting; their stop runs on
 * the group's thread after its last delivery. On failure this group's started sinks are
 * stopped here; earlier groups are stopped and joined by sinks_stop.
 */
static int groups_start(struct sl_agent *a)
{
    for (size_t i = 0; i < a->ngroups; i++) {
        struct sl_sinkgroup *g = &a->groups[i];
        if (g->kind == SL_SGP_DEFAULT) {
            continue; /* its one sink runs its own thread */
        }
        size_t started = 0;
        int rc = 0;
        for (; started < g->nmembers; started++) {
            struct sl_sink *s = g->members[started].sink;
            struct sl_err err;
            sl_err_clear(&err);
            if (s->ops->start && s->ops->start(s, &err) != 0) {
                sl_clog(s->comp, SL_LOG_ERROR, "cannot start: %s", err.msg);
                rc = SL_ECONFIG;
                break;
            }
        }
        if (rc == 0 && pthread_create(&g->thread, NULL, sl_sinkgroup_main, g) != 0) {
            sl_clog(g->comp, SL_LOG_ERROR, "cannot start its thread");
            rc = -EAGAIN;
        }
        if (rc != 0) {
            while (started-- > 0) {
                struct sl_sink *s = g->members[started].sink;
                if (s->ops->stop) {
                    s->ops->stop(s);
                }
            }
            return rc;
        }
        g->started = 1;
        char names[256];
        size_t n = 0;
        names[0] = '\0';
        for (size_t j = 0; j < g->nmembers && n < sizeof(names); j++) {
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", j ? ", " : "",
                                  g->members[j].sink->name);
        }
        sl_clog(g->comp, SL_LOG_INFO, "started, draining channel %s through sinks %s",
                g->channel->name, names);
    }
    return 0;
}

static int sinks_start(struct sl_agent *a)
{
    for (size_t i = 0; i < a->nsinks; i++) {
        struct sl_sink *s = &a->sinks[i];
        struct sl_err err;
        sl_err_clear(&err);
        if (s->group) {
            continue; /* groups_start */
        }
        if (s->ops->start && s->ops->start(s, &err) != 0) {
            sl_clog(s->comp, SL_LOG_ERROR, "cannot start: %s", err.msg);
            return SL_ECONFIG;
        }
        if (pthread_create(&s->thread, NULL, sink_main, s) != 0) {
            sl_clog(s->comp, SL_LOG_ERROR, "cannot start its thread");
            if (s->ops->stop) {
                s->ops->stop(s);
            }
            return -EAGAIN;
        }
        s->started = 1;
        sl_clog(s->comp, SL_LOG_INFO, "started, draining channel %s in batches of %zu",
                s->channel->name, s->batch_size);
    }
    return groups_start(a);
}

static void sinks_stop(struct sl_agent *a)
{
    int64_t abort_at = sl_mono_ms() + a->drain_timeout_ms;
    for (size_t i = 0; i < a->nsinks; i++) {
        struct sl_sink *s = &a->sinks[i];
        __atomic_store_n(&s->abort_at_ms, abort_at, __ATOMIC_RELEASE);
        pthread_mutex_lock(&s->mu);
        __atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->mu);
        s->channel->ops->wakeup(s->channel);
    }
    for (size_t i = 0; i < a->ngroups; i++) {
        struct sl_sinkgroup *g = &a->groups[i];
        if (!g->sync_inited) {
            continue;
        }
        __atomic_store_n(&g->abort_at_ms, abort_at, __ATOMIC_RELEASE);
        pthread_mutex_lock(&g->mu);
        __atomic_store_n(&g->stopping, 1, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&g->cond);
        pthread_mutex_unlock(&g->mu);
    }
    for (size_t i = 0; i < a->ngroups; i++) {
        struct sl_sinkgroup *g = &a->groups[i];
        if (g->started) {
            pthread_join(g->thread, NULL);
            g->started = 0;
            for (size_t j = 0; j < g->nmembers; j++) {
                g->members[j].sink->started = 1; /* for the counters line below */
            }
        }
    }
    for (size_t i = 0; i < a->nsinks; i++) {
        struct sl_sink *s = &a->sinks[i];
        if (s->started) {
            if (!s->group) {
                pthread_join(s->thread, NULL);
            }
            s->started = 0;
            sl_clog(s->comp, SL_LOG_INFO,
                    "stopped: EventDrainAttemptCount=%llu EventDrainSuccessCount=%llu "
                    "RollbackCount=%llu",
                    (unsigned long long)s->drain_attempts, (unsigned long long)s->drain_successes,
                    (unsigned long long)s->rollbacks);
        }
    }
}

/* ---- sources and signals ------------------------------------------------------------ */

static void on_source_stopped(struct sl_source *s)
{
    struct sl_agent *a = s->agent;
    a->sources_running--;
    sl_clog(s->comp, SL_LOG_INFO,
            "stopped: EventReceivedCount=%llu EventAcceptedCount=%llu EventFailedCount=%llu "
            "TruncatedCount=%llu",
            (unsigned long long)s->received, (unsigned long long)s->accepted,
            (unsigned long long)s->failed, (unsigned long long)s->truncated);
}

/* Any thread (a sink's commit): a channel that refused a put has room again. */
static void room_cb(void *arg)
{
    struct sl_agent *a = arg;
    pthread_mutex_lock(&a->room_mu);
    if (a->room_open) {
        uv_async_send(&a->room);
    }
    pthread_mutex_unlock(&a->room_mu);
}

static void on_room(uv_async_t *h)
{
    struct sl_agent *a = h->data;
    for (size_t i = 0; i < a->nsources; i++) {
        struct sl_source *s = &a->sources[i];
        if (s->started && s->ops->room) {
            s->ops->room(s);
        }
    }
}

static void room_close(struct sl_agent *a)
{
    pthread_mutex_lock(&a->room_mu);
    int was_open = a->room_open;
    a->room_open = 0;
    pthread_mutex_unlock(&a->room_mu);
    if (was_open) {
        uv_close((uv_handle_t *)&a->room, NULL);
    }
}

static void sources_stop(struct sl_agent *a)
{
    room_close(a);
    for (size_t i = a->nsources; i-- > 0;) {
        struct sl_source *s = &a->sources[i];
        if (s->started) {
            s->started = 0;
            s->ops->stop(s, on_source_stopped);
        }
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct sl_agent *a = h->data;
    sl_log(SL_LOG_INFO, "%s received: stopping agent %s", signum == SIGTERM ? "SIGTERM" : "SIGINT",
           a->name);
    sources_stop(a);
    /* Closed, a second signal has its default action and ends the process at once. */
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_close((uv_handle_t *)&a->sigint, NULL);
}

/* ---- channels ----------------------------------------------------------------------- */

static int channels_start(struct sl_agent *a)
{
    for (size_t i = 0; i < a->nchannels; i++) {
        struct sl_channel *c = &a->channels[i];
        struct sl_err err;
        sl_err_clear(&err);
        if (c->ops->start && c->ops->start(c, &err) != 0) {
            sl_clog(c->comp, SL_LOG_ERROR, "cannot start: %s", err.msg);
            return SL_ECONFIG;
        }
        c->started = 1;
    }
    return 0;
}

/* After the sources and sinks stopped: report what each channel still holds, then close. */
static void channels_stop(struct sl_agent *a)
{
    for (size_t i = 0; i < a->nchannels; i++) {
        struct sl_channel *c = &a->channels[i];
        if (!c->started) {
            continue;
        }
        struct sl_chan_stats st;
        c->ops->stats(c, &st);
        if (st.size && c->ops->durable) {
            sl_clog(c->comp, SL_LOG_INFO,
                    "%llu events were still held at stop: they stay on disk and are delivered "
                    "after the next start",
                    (unsigned long long)st.size);
        } else if (st.size) {
            sl_clog(c->comp, SL_LOG_WARN,
                    "%llu events were still buffered at stop and are discarded (not durable)",
                    (unsigned long long)st.size);
        }
        sl_clog(c->comp, SL_LOG_INFO,
                "stopped: EventPutSuccessCount=%llu EventTakeSuccessCount=%llu ChannelSize=%llu",
                (unsigned long long)c->put_successes, (unsigned long long)c->take_successes,
                (unsigned long long)st.size);
        if (c->ops->stop) {
            c->ops->stop(c);
        }
        c->started = 0;
    }
}

int sl_agent_run(struct sl_agent *a)
{
    signal(SIGPIPE, SIG_IGN);
    int rc = uv_loop_init(&a->loop);
    if (rc != 0) {
        sl_log(SL_LOG_ERROR, "event loop: %s", uv_strerror(rc));
        return 1;
    }
    int failed = 0;
    pthread_mutex_init(&a->room_mu, NULL);
    uv_async_init(&a->loop, &a->room, on_room);
    a->room.data = a;
    a->room_open = 1;
    for (size_t i = 0; i < a->nchannels; i++) {
        a->channels[i].room_arg = a;
        a->channels[i].room_cb = room_cb;
    }
    if (channels_start(a) != 0) {
        failed = 1;
    }
    if (!failed && a->has_broker && ebroker_start(a) != 0) {
        failed = 1;
    }
    if (!failed && a->has_metrics && sl_metrics_start(a) != 0) {
        failed = 1;
    }
    if (!failed && sinks_start(a) != 0) {
        failed = 1;
    }
    for (size_t i = 0; !failed && i < a->nsources; i++) {
        struct sl_source *s = &a->sources[i];
        struct sl_err err;
        sl_err_clear(&err);
        if (s->ops->start(s, &a->loop, &err) != 0) {
            sl_clog(s->comp, SL_LOG_ERROR, "cannot start: %s", err.msg);
            failed = 1;
            break;
        }
        s->started = 1;
        a->sources_running++;
    }
    if (!failed) {
        uv_signal_init(&a->loop, &a->sigterm);
        uv_signal_init(&a->loop, &a->sigint);
        a->sigterm.data = a->sigint.data = a;
        uv_signal_start(&a->sigterm, on_signal, SIGTERM);
        uv_signal_start(&a->sigint, on_signal, SIGINT);
        sl_log(SL_LOG_INFO,
               "agent %s started: %zu sources, %zu channels, %zu sinks, %zu sink groups", a->name,
               a->nsources, a->nchannels, a->nsinks, a->ngroups);
    } else {
        sources_stop(a);
    }
    uv_run(&a->loop, UV_RUN_DEFAULT);

    sinks_stop(a);
    /* The metrics server stops before the broker: its thread reads the broker's counters
     * (a->broker), and MHD_stop_daemon joins that thread, so no scrape can be running when
     * ebroker_stop destroys the broker. The drain is over by now, so nothing of interest is
     * missed. */
    sl_metrics_stop(a);
    if (ebroker_stop(a) != 0) {
        failed = 1;
    }
    channels_stop(a);
    for (size_t i = 0; i < a->nchannels; i++) {
        a->channels[i].room_cb = NULL; /* the sinks are joined: nobody calls it any more */
    }
    pthread_mutex_destroy(&a->room_mu);
    rc = uv_loop_close(&a->loop);
    if (rc != 0) {
        sl_log(SL_LOG_WARN, "event loop still has handles at exit: %s", uv_strerror(rc));
    }
    if (!failed) {
        sl_log(SL_LOG_INFO, "agent %s stopped cleanly", a->name);
    }
    return failed ? 1 : 0;
}
