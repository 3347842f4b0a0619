/*
 * channel.c - the channel transaction API over a plugin's ops (see plugin.h) and the
 * source-side put helper: plain replication here; with interceptors or a selector the put
 * goes through agent/selector.c. The transaction lives with its caller; the ops are
 * thread-safe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/plugin.h"
#include "agent/selector.h"
#include "common/sl_macros.h"

#define CNT_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_RELAXED)

int sl_chan_begin(struct sl_channel *ch, int take, struct sl_chan_tx *tx)
{
    memset(tx, 0, sizeof(*tx));
    tx->ch = ch;
    tx->take = take;
    return 0;
}

static int tx_reserve(struct sl_chan_tx *tx, size_t n)
{
    if (tx->cap >= n) {
        return 0;
    }
    size_t cap = tx->cap ? tx->cap * 2 : 16;
    while (cap < n) {
        cap *= 2;
    }
    struct sl_event **evs = realloc(tx->evs, cap * sizeof(*evs));
    if (!evs) {
        return -ENOMEM;
    }
    tx->evs = evs;
    tx->cap = cap;
    return 0;
}

int sl_chan_put(struct sl_chan_tx *tx, struct sl_event *ev)
{
    if (tx->n >= tx->ch->tx_capacity) {
        return SL_ETOOLARGE;
    }
    int rc = tx_reserve(tx, tx->n + 1);
    if (rc != 0) {
        return rc;
    }
    tx->evs[tx->n++] = ev;
    tx->bytes += sl_event_size(ev);
    return 0;
}

size_t sl_chan_take(struct sl_chan_tx *tx, size_t max, int64_t wait_ms)
{
    size_t room = tx->ch->tx_capacity - tx->n;
    if (max > room) {
        max = room;
    }
    if (max == 0 || tx_reserve(tx, tx->n + max) != 0) {
        return 0;
    }
    CNT_ADD(&tx->ch->take_attempts, 1);
    size_t got = tx->ch->ops->take(tx->ch, tx->evs + tx->n, max, tx->n ? 0 : wait_ms);
    for (size_t i = 0; i < got; i++) {
        tx->bytes += sl_event_size(tx->evs[tx->n + i]);
    }
    tx->n += got;
    return got;
}

static void tx_fini(struct sl_chan_tx *tx)
{
    free(tx->evs);
    memset(tx, 0, sizeof(*tx));
}

int sl_chan_commit_wait(struct sl_chan_tx *tx, int64_t wait_ms)
{
    struct sl_channel *ch = tx->ch;
    int rc = 0;
    if (tx->take) {
        if (tx->n) {
            ch->ops->commit_take(ch, tx->evs, tx->n, tx->bytes);
            CNT_ADD(&ch->take_successes, tx->n);
            sl_event_destroy_many(tx->evs, tx->n);
        }
    } else if (tx->n) {
        CNT_ADD(&ch->put_attempts, tx->n);
        rc = ch->ops->commit_put(ch, tx->evs, tx->n, tx->bytes, wait_ms);
        if (rc == 0) {
            CNT_ADD(&ch->put_successes, tx->n);
        }
    }
    tx_fini(tx);
    return rc;
}

int sl_chan_commit(struct sl_chan_tx *tx)
{
    return sl_chan_commit_wait(tx, -1);
}

void sl_chan_rollback(struct sl_chan_tx *tx)
{
    if (tx->take && tx->n) {
        tx->ch->ops->rollback_take(tx->ch, tx->evs, tx->n);
    }
    tx_fini(tx);
}

int sl_source_put_next(struct sl_source *s, struct sl_put_state *ps, struct sl_event **evs,
                       size_t n, size_t max, size_t *done, size_t *at)
{
    *done = 0;
    if (ps->inflight == 0) {
        size_t cap = sl_source_tx_capacity(s);
        if (max && max < cap) {
            cap = max;
        }
        ps->inflight = SL_MIN(n, ps->chunk_max ? ps->chunk_max : cap);
        ps->next_chan = 0;
        if (ps->split_n) {
            ps->inflight = SL_MIN(ps->inflight, ps->split_n);
            ps->next_chan = ps->split_chan;
        }
    }
    size_t chunk = ps->inflight;
    int rc = sl_source_put(s, evs, chunk, &ps->next_chan);
    if (rc == SL_ERETRY) {
        return SL_ERETRY;
    }
    *at = ps->next_chan; /* on an error: the channel that refused the chunk */
    ps->inflight = 0;
    ps->next_chan = 0;
    ps->split_n -= SL_MIN(ps->split_n, chunk);
    if (rc != 0 && chunk > 1) {
        if (*at == 0) {
            ps->chunk_max = chunk / 2;
        } else {
            ps->chunk_max = 1;
            ps->split_n = chunk;
            ps->split_chan = *at;
        }
        return 0;
    }
    if (chunk == n) { /* the queue is empty now */
        ps->chunk_max = 0;
        ps->split_n = 0;
    }
    if (rc != 0) {
        return SL_ETOOLARGE;
    }
    *done = chunk;
    return 0;
}

size_t sl_source_tx_capacity(const struct sl_source *s)
{
    size_t cap = SIZE_MAX;
    for (size_t i = 0; i < s->nchannels; i++) {
        if (s->channels[i]->tx_capacity < cap) {
            cap = s->channels[i]->tx_capacity;
        }
    }
    return cap;
}

int sl_source_put(struct sl_source *s, struct sl_event **evs, size_t n, size_t *next_chan)
{
    if (s->selector) {
        return sl_selector_put(s, evs, n, next_chan);
    }
    while (*next_chan < s->nchannels) {
        size_t c = *next_chan;
        int last = c + 1 == s->nchannels;
        struct sl_chan_tx tx;
        sl_chan_begin(s->channels[c], 0, &tx);
        /* Room for the whole put at once, not a doubling realloc every 16 events. */
        int rc = tx_reserve(&tx, SL_MIN(n, tx.ch->tx_capacity));
        for (size_t i = 0; i < n && rc == 0; i++) {
            /* Every channel but the last gets copies; the last one takes the originals. */
            struct sl_event *ev = last ? evs[i] : sl_event_dup(evs[i]);
            rc = ev ? sl_chan_put(&tx, ev) : -ENOMEM;
            if (rc != 0 && !last) {
                sl_event_destroy(ev);
            }
        }
        struct sl_event **copies = NULL;
        size_t ncopies = tx.n;
        if (rc == 0 && !last) {
            copies = malloc(ncopies * sizeof(*copies));
            if (copies) {
                memcpy(copies, tx.evs, ncopies * sizeof(*copies));
            } else {
                rc = -ENOMEM;
            }
        }
        if (rc == 0) {
            rc = sl_chan_commit_wait(&tx, 0);
        } else {
            if (!last) {
                for (size_t i = 0; i < tx.n; i++) {
                    sl_event_destroy(tx.evs[i]);
                }
            }
            sl_chan_rollback(&tx);
        }
        if (rc != 0 && copies) {
            for (size_t i = 0; i < ncopies; i++) {
                sl_event_destroy(copies[i]);
            }
        }
        free(copies);
        if (rc != 0) {
            return rc == -ENOMEM ? SL_ERETRY : rc;
        }
        (*next_chan)++;
    }
    return 0;
}
