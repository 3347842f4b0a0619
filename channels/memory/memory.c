/*
 * memory.c - the memory channel: a bounded in-memory queue, Flume's MemoryChannel.
 *
 * Invariants (under mu): held = queued + taken-not-committed ≤ capacity, and
 * held_bytes ≤ byte_limit when byteCapacity is set, so neither limit is ever overshot — a put
 * commit is all-or-nothing and waits (up to keep-alive) until the whole transaction fits.
 * The ring has `capacity` slots, so a take rollback always finds room at the head.
 * Thread-safe: sources put from the source loop thread, sinks take from their own threads.
 * Nothing survives a crash or a stop.
 *
 * Wake-ups cost more than the queue itself at a few hundred thousand events a second, so a
 * condition variable is signalled only when a thread actually waits on it (take_waiters,
 * put_waiters), and a source whose non-blocking put failed is told once, through room_cb,
 * when a take commit frees room (put_blocked), instead of polling.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/plugin.h"
#include "common/sl_assert.h"
#include "common/sl_log.h"
#include "common/sl_macros.h"

struct mem_ctx {
    /* config */
    int64_t capacity;
    int64_t tx_capacity;
    int64_t byte_capacity;
    int64_t byte_buffer_pct;
    int64_t keep_alive_s;
    /* state */
    pthread_mutex_t mu;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    struct sl_event **ring;
    size_t head, count; /* queued events */
    size_t held;        /* queued + in take transactions */
    uint64_t held_bytes;
    uint64_t byte_limit; /* 0 = no byte limit */
    int take_waiters;    /* threads in timedwait on not_empty */
    int put_waiters;     /* threads in timedwait on not_full */
    int put_blocked;     /* a put failed for room since the last take commit */
};

#define OFF(f) offsetof(struct mem_ctx, f)
static const struct sl_conf_map mem_conf[] = {
    {"capacity", SL_CONF_INT, "100", OFF(capacity), 1, 100000000, 0, NULL,
     "most events the channel holds"},
    {"transactionCapacity", SL_CONF_INT, "100", OFF(tx_capacity), 1, 100000000, 0, NULL,
     "most events per put or take transaction"},
    {"byteCapacity", SL_CONF_INT, "0", OFF(byte_capacity), 0, INT64_MAX / 100, 0, NULL,
     "most bytes (bodies and headers) the channel holds, before headroom; 0 = no limit"},
    {"byteCapacityBufferPercentage", SL_CONF_INT, "20", OFF(byte_buffer_pct), 0, 99, 0, NULL,
     "percent of byteCapacity kept free as headroom"},
    {"keep-alive", SL_CONF_INT, "3", OFF(keep_alive_s), 0, 86400, 0, NULL,
     "seconds a blocking put waits for room"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL},
};

static int mem_init(struct sl_channel *c, struct sl_err *err)
{
    struct mem_ctx *m = c->ctx;
    if (m->tx_capacity > m->capacity) {
        return sl_err_set(err, SL_ECONFIG,
                          "transactionCapacity (%lld) must not exceed capacity (%lld)",
                          (long long)m->tx_capacity, (long long)m->capacity);
    }
    m->ring = calloc((size_t)m->capacity, sizeof(*m->ring));
    if (!m->ring) {
        return sl_err_set(err, -ENOMEM, "out of memory for %lld slots", (long long)m->capacity);
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->not_empty, &ca);
    pthread_cond_init(&m->not_full, &ca);
    pthread_condattr_destroy(&ca);
    m->byte_limit = (uint64_t)(m->byte_capacity * (100 - m->byte_buffer_pct) / 100);
    if (m->byte_capacity > 0 && m->byte_limit == 0) {
        m->byte_limit = 1;
    }
    c->tx_capacity = (size_t)m->tx_capacity;
    return 0;
}

static void mem_fini(struct sl_channel *c)
{
    struct mem_ctx *m = c->ctx;
    if (!m->ring) {
        return;
    }
    size_t cap = (size_t)m->capacity;
    for (size_t i = 0; i < m->count; i++) {
        sl_event_destroy(m->ring[(m->head + i) % cap]);
    }
    free(m->ring);
    m->ring = NULL;
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->not_empty);
    pthread_cond_destroy(&m->not_full);
}

static int fits(const struct mem_ctx *m, size_t n, uint64_t bytes)
{
    return m->held + n <= (size_t)m->capacity &&
           (m->byte_limit == 0 || m->held_bytes + bytes <= m->byte_limit);
}

static int mem_commit_put(struct sl_channel *c, struct sl_event **evs, size_t n, uint64_t bytes,
                          int64_t wait_ms)
{
    struct mem_ctx *m = c->ctx;
    if (n > (size_t)m->capacity || (m->byte_limit && bytes > m->byte_limit)) {
        return SL_ETOOLARGE;
    }
    if (wait_ms < 0) {
        wait_ms = m->keep_alive_s * 1000;
    }
    struct timespec until;
    sl_mono_deadline(&until, wait_ms);
    pthread_mutex_lock(&m->mu);
    while (!fits(m, n, bytes)) {
        int rc = 0;
        if (wait_ms != 0) {
            m->put_waiters++;
            rc = pthread_cond_timedwait(&m->not_full, &m->mu, &until);
            m->put_waiters--;
        }
        if (wait_ms == 0 || rc == ETIMEDOUT) {
            if (fits(m, n, bytes)) {
                break;
            }
            m->put_blocked = 1;
            pthread_mutex_unlock(&m->mu);
            return SL_ERETRY;
        }
    }
    size_t cap = (size_t)m->capacity;
    for (size_t i = 0; i < n; i++) {
        m->ring[(m->head + m->count) % cap] = evs[i];
        m->count++;
    }
    m->held += n;
    m->held_bytes += bytes;
    if (m->take_waiters) {
        pthread_cond_broadcast(&m->not_empty);
    }
    pthread_mutex_unlock(&m->mu);
    return 0;
}

static size_t mem_take(struct sl_channel *c, struct sl_event **out, size_t max, int64_t wait_ms)
{
    struct mem_ctx *m = c->ctx;
    pthread_mutex_lock(&m->mu);
    if (m->count == 0 && wait_ms > 0) {
        struct timespec until;
        sl_mono_deadline(&until, wait_ms);
        m->take_waiters++;
        pthread_cond_timedwait(&m->not_empty, &m->mu, &until);
        m->take_waiters--;
    }
    size_t cap = (size_t)m->capacity;
    size_t n = SL_MIN(max, m->count);
    for (size_t i = 0; i < n; i++) {
        out[i] = m->ring[m->head];
        m->ring[m->head] = NULL;
        m->head = (m->head + 1) % cap;
    }
    m->count -= n;
    pthread_mutex_unlock(&m->mu);
    return n;
}

static void mem_commit_take(struct sl_channel *c, struct sl_event **evs, size_t n, uint64_t bytes)
{
    struct mem_ctx *m = c->ctx;
    pthread_mutex_lock(&m->mu);
    SL_ASSERT(m->held >= n && m->held_bytes >= bytes);
    m->held -= n;
    m->held_bytes -= bytes;
    if (m->put_waiters) {
        pthread_cond_broadcast(&m->not_full);
    }
    int notify = m->put_blocked && n > 0;
    if (notify) {
        m->put_blocked = 0;
    }
    pthread_mutex_unlock(&m->mu);
    /* Outside the lock: the callback may take other locks (uv_async_send does not). */
    if (notify && c->room_cb) {
        c->room_cb(c->room_arg);
    }
}

static void mem_rollback_take(struct sl_channel *c, struct sl_event **evs, size_t n)
{
    struct mem_ctx *m = c->ctx;
    size_t cap = (size_t)m->capacity;
    pthread_mutex_lock(&m->mu);
    /* Held still counts these events, so count + n ≤ held ≤ capacity: the head has room. */
    SL_ASSERT(m->count + n <= cap);
    for (size_t i = n; i-- > 0;) {
        m->head = (m->head + cap - 1) % cap;
        m->ring[m->head] = evs[i];
    }
    m->count += n;
    if (m->take_waiters) {
        pthread_cond_broadcast(&m->not_empty);
    }
    pthread_mutex_unlock(&m->mu);
}

static void mem_stats(struct sl_channel *c, struct sl_chan_stats *st)
{
    struct mem_ctx *m = c->ctx;
    pthread_mutex_lock(&m->mu);
    st->size = m->held;
    st->capacity = (uint64_t)m->capacity;
    st->bytes = m->held_bytes;
    pthread_mutex_unlock(&m->mu);
}

static void mem_wakeup(struct sl_channel *c)
{
    struct mem_ctx *m = c->ctx;
    pthread_mutex_lock(&m->mu);
    pthread_cond_broadcast(&m->not_empty);
    pthread_cond_broadcast(&m->not_full);
    pthread_mutex_unlock(&m->mu);
}

const struct sl_channel_ops sl_memory_channel_ops = {
    .name = "memory",
    .conf = mem_conf,
    .ctx_size = sizeof(struct mem_ctx),
    .init = mem_init,
    .fini = mem_fini,
    .commit_put = mem_commit_put,
    .take = mem_take,
    .commit_take = mem_commit_take,
    .rollback_take = mem_rollback_take,
    .stats = mem_stats,
    .wakeup = mem_wakeup,
};
