/*
 * fetch.c - Fetch (1) v4-11 for consumers: record batches go out as file ranges with
 * sendfile (never copied through user space), bounded by the partition's, the request's and
 * the broker's byte limits; and long polling: a fetch that finds fewer than min_bytes parks
 * until a produce brings enough (sl_fetch_waiters_notify) or max_wait_ms passes.
 *
 * No fetch sessions (KIP-227): every answer says session_id 0, which tells clients to keep
 * sending full requests; a request naming a session we never gave out gets
 * FETCH_SESSION_ID_NOT_FOUND. The follower side (replica_id >= 0) is not special yet.
 *
 * Ownership: a parked fetch is a struct waiter (heap) holding its request; the decoded
 * request stays in the request's arena, and the response is encoded from scratch when the
 * waiter completes (the log moved on meanwhile). The waiter's uv timer lives inside it, so
 * the waiter is freed in the timer's close callback, never before.
 *
 * Threads: the broker loop thread owns the waiters and their timers.
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/sl_macros.h"
#include "../../store/log.h"
#include "../api.h"
#include "../proto/msg_data.h"
#include "data_int.h"
#include "handlers.h"

#define FETCH_WAIT_MAX_MS 300000

/* A decoded fetch and its response skeleton, in the request's arena. */
struct fetch_ctx {
    struct sl_fetch_req fr;
    char **names; /* per topic: its name as a C string, NULL if it cannot name a topic */
    struct sl_fetch_resp resp;
};

struct waiter {
    uv_timer_t timer; /* data = the waiter */
    struct sl_fetch_waiters *set;
    struct waiter *prev, *next;
    struct sl_request *req;
    struct fetch_ctx *ctx; /* in req's arena */
    uint64_t pass;         /* last notify pass that looked at it */
};

struct sl_fetch_waiters {
    struct sl_broker *b;
    struct waiter *head;
    uint64_t pass;
};

/* What one evaluation gathered: the file ranges it holds (the response is in the ctx). */
struct gather {
    struct sl_kp_file_part *files; /* malloc'd; ranges own a slice copy each */
    int32_t nfiles;
    int32_t cap;
    int64_t bytes;
    int error; /* some partition has an error: answer now */
    int nomem;
};

static void release_slice(void *owner)
{
    struct sl_log_slice *s = owner;
    sl_log_slice_release(s);
    free(s);
}

/* Release the ranges still held (not handed to a writer) and free the arrays. */
static void gather_fini(struct gather *g)
{
    for (int32_t i = 0; i < g->nfiles; i++) {
        release_slice(g->files[i].owner);
    }
    free(g->files);
    g->files = NULL;
    g->nfiles = 0;
}

static int add_slice(struct gather *g, const struct sl_log_slice *s)
{
    if (g->nfiles == g->cap) {
        int32_t cap = g->cap ? g->cap * 2 : 16;
        struct sl_kp_file_part *nf = realloc(g->files, (size_t)cap * sizeof(*nf));
        if (!nf) {
            return -ENOMEM;
        }
        g->files = nf;
        g->cap = cap;
    }
    struct sl_log_slice *copy = malloc(sizeof(*copy));
    if (!copy) {
        return -ENOMEM;
    }
    *copy = *s;
    struct sl_kp_file_part *f = &g->files[g->nfiles++];
    memset(f, 0, sizeof(*f));
    f->fd = s->fd;
    f->position = s->position;
    f->length = s->length;
    f->release = release_slice;
    f->owner = copy;
    return 0;
}

/* Read one partition into g from its fetch offset, within its and the response's limits. */
static void gather_partition(struct sl_broker *b, const char *topic, const struct sl_fetch_req *fr,
                             const struct sl_fetch_req_part *pp, int64_t budget, struct gather *g,
                             struct sl_fetch_resp_part *rp)
{
    rp->partition = pp->partition;
    rp->high_watermark = -1;
    rp->last_stable_offset = -1;
    rp->log_start_offset = -1;
    rp->naborted = fr->isolation_level == 1 ? 0 : -1;
    rp->preferred_read_replica = -1;
    rp->records.p = (const uint8_t *)"";
    rp->records.len = 0;
    rp->nfiles = 0;
    struct sl_log *log = topic ? sl_broker_log(b, topic, pp->partition) : NULL;
    if (!log) {
        rp->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        g->error = 1;
        return;
    }
    int64_t hw = sl_log_high_watermark(log);
    rp->high_watermark = hw;
    rp->last_stable_offset = hw; /* no transactions: everything below HW is stable */
    rp->log_start_offset = sl_log_start_offset(log);
    rp->error_code = sl__data_check_epoch(log, pp->current_leader_epoch);
    if (rp->error_code == KERR_NONE &&
        (pp->fetch_offset < rp->log_start_offset || pp->fetch_offset > sl_log_end_offset(log))) {
        rp->error_code = KERR_OFFSET_OUT_OF_RANGE;
    }
    if (rp->error_code != KERR_NONE) {
        g->error = 1;
        return;
    }
    int32_t first = g->nfiles;
    int64_t off = pp->fetch_offset;
    int64_t part_left = pp->partition_max_bytes;
    for (int i = 0; i < 1024 && off < hw; i++) {
        /* Kafka's KIP-74 rule: the first batch of a response comes whole even past the
         * limits, so a batch larger than every limit can still be consumed. */
        int min_one = g->bytes == 0;
        int64_t max = SL_MAX(SL_MIN(part_left, budget - g->bytes), 0);
        if (max == 0 && !min_one) {
            break;
        }
        struct sl_log_slice s;
        struct sl_err err;
        memset(&s, 0, sizeof(s));
        int rc = sl_log_read(log, off, max, hw, min_one, &s, &err);
        if (rc || s.length == 0) {
            sl_log_slice_release(&s);
            if (rc) {
                rp->error_code = sl_api_error_from_rc(rc);
                g->error = 1;
            }
            break;
        }
        if (add_slice(g, &s)) {
            sl_log_slice_release(&s);
            g->nomem = 1;
            break;
        }
        g->bytes += s.length;
        part_left -= s.length;
        if (s.next_offset <= off) {
            break;
        }
        off = s.next_offset;
    }
    if (rp->error_code != KERR_NONE) { /* an error answers with no records, as Kafka does */
        while (g->nfiles > first) {
            g->nfiles--;
            g->bytes -= g->files[g->nfiles].length;
            release_slice(g->files[g->nfiles].owner);
        }
    }
    /* rp->files is pointed into g->files when encoding (realloc may still move them) */
    rp->nfiles = g->nfiles - first;
}

/*
 * Evaluate the fetch against the logs now: fills ctx->resp, g holds the file ranges.
 * Returns 0 or -ENOMEM (g is then released).
 */
static int gather(struct sl_broker *b, struct fetch_ctx *ctx, struct gather *g)
{
    memset(g, 0, sizeof(*g));
    const struct sl_fetch_req *fr = &ctx->fr;
    int64_t budget = SL_MAX(fr->max_bytes, 0);
    if (b->cfg.fetch_max_bytes > 0) {
        budget = SL_MIN(budget, b->cfg.fetch_max_bytes);
    }
    ctx->resp.throttle_time_ms = 0;
    ctx->resp.session_id = 0;
    if (fr->session_id != 0) {
        ctx->resp.error_code = KERR_FETCH_SESSION_ID_NOT_FOUND;
        ctx->resp.ntopics = 0;
        g->error = 1;
        return 0;
    }
    ctx->resp.error_code = KERR_NONE;
    ctx->resp.ntopics = fr->ntopics;
    for (int32_t i = 0; i < fr->ntopics && !g->nomem; i++) {
        const struct sl_fetch_req_topic *t = &fr->topics[i];
        struct sl_fetch_resp_topic *rt = &ctx->resp.topics[i];
        for (int32_t j = 0; j < t->npartitions && !g->nomem; j++) {
            gather_partition(b, ctx->names[i], fr, &t->partitions[j], budget, g,
                             &rt->partitions[j]);
        }
    }
    if (g->nomem) {
        gather_fini(g);
        return -ENOMEM;
    }
    return 0;
}

/* Encode ctx->resp with g's ranges into req->resp (which takes them). */
static void encode(struct sl_request *req, struct fetch_ctx *ctx, struct gather *g)
{
    int32_t at = 0;
    for (int32_t i = 0; i < ctx->resp.ntopics; i++) {
        struct sl_fetch_resp_topic *rt = &ctx->resp.topics[i];
        for (int32_t j = 0; j < rt->npartitions; j++) {
            rt->partitions[j].files = rt->partitions[j].nfiles ? g->files + at : NULL;
            at += rt->partitions[j].nfiles;
        }
    }
    sl_msg_fetch_resp_encode(&req->resp, req->api_version, &ctx->resp);
    /* Counted when the response is built (every answered Fetch passes here), not when its
     * last byte leaves: a response dropped at a close still counts. */
    SL_BROKER_METRIC_ADD(req->broker->metrics.bytes_out, g->bytes);
    free(g->files); /* the ranges now belong to the writer */
    g->files = NULL;
    g->nfiles = 0;
}

/* Build the context: the decoded request and a response skeleton of the same shape. */
static int ctx_create(struct sl_request *req, struct fetch_ctx **out)
{
    struct sl_kp_arena *a = &req->arena;
    struct fetch_ctx *ctx = sl_kp_arena_alloc(a, sizeof(*ctx));
    if (!ctx) {
        return -ENOMEM;
    }
    int rc = sl_msg_fetch_req_decode(&req->body, req->api_version, a, &ctx->fr);
    if (rc) {
        return rc;
    }
    int32_t n = ctx->fr.ntopics > 0 ? ctx->fr.ntopics : 1;
    ctx->names = sl_kp_arena_calloc(a, (size_t)n, sizeof(*ctx->names));
    ctx->resp.topics = sl_kp_arena_calloc(a, (size_t)n, sizeof(*ctx->resp.topics));
    if (!ctx->names || !ctx->resp.topics) {
        return -ENOMEM;
    }
    for (int32_t i = 0; i < ctx->fr.ntopics; i++) {
        const struct sl_fetch_req_topic *t = &ctx->fr.topics[i];
        struct sl_fetch_resp_topic *rt = &ctx->resp.topics[i];
        char *name = sl_kp_arena_strdup(a, t->name);
        ctx->names[i] = name && strlen(name) == (size_t)t->name.len ? name : NULL;
        rt->name = t->name;
        rt->npartitions = t->npartitions;
        rt->partitions = sl_kp_arena_calloc(a, (size_t)(t->npartitions > 0 ? t->npartitions : 1),
                                            sizeof(*rt->partitions));
        if (!rt->partitions) {
            return -ENOMEM;
        }
    }
    *out = ctx;
    return 0;
}

/* ---- parked fetches ---- */

static void waiter_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Unlink w and close its timer; w is freed in the close callback. */
static void waiter_drop(struct waiter *w)
{
    struct sl_fetch_waiters *set = w->set;
    if (w->prev) {
        w->prev->next = w->next;
    } else if (set) {
        set->head = w->next;
    }
    if (w->next) {
        w->next->prev = w->prev;
    }
    w->prev = w->next = NULL;
    w->set = NULL;
    w->req->handler_state = NULL;
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, waiter_closed);
}

/* Answer a parked fetch with g (already gathered) and let the server send it. */
static void waiter_complete(struct waiter *w, struct gather *g)
{
    struct sl_request *req = w->req;
    struct fetch_ctx *ctx = w->ctx;
    waiter_drop(w);
    encode(req, ctx, g);
    sl_request_complete(req);
}

static void waiter_timeout(uv_timer_t *t)
{
    struct waiter *w = t->data;
    struct gather g;
    if (gather(w->set->b, w->ctx, &g) != 0) {
        /* out of memory: answer with no data rather than hold the client */
        memset(&g, 0, sizeof(g));
        for (int32_t i = 0; i < w->ctx->resp.ntopics; i++) {
            for (int32_t j = 0; j < w->ctx->resp.topics[i].npartitions; j++) {
                w->ctx->resp.topics[i].partitions[j].nfiles = 0;
            }
        }
    }
    waiter_complete(w, &g);
}

static int touches(const struct fetch_ctx *ctx, const char *topic, int32_t partition)
{
    size_t len = strlen(topic);
    for (int32_t i = 0; i < ctx->fr.ntopics; i++) {
        const struct sl_fetch_req_topic *t = &ctx->fr.topics[i];
        if ((size_t)t->name.len != len || memcmp(t->name.p, topic, len) != 0) {
            continue;
        }
        for (int32_t j = 0; j < t->npartitions; j++) {
            if (t->partitions[j].partition == partition) {
                return 1;
            }
        }
    }
    return 0;
}

void sl_fetch_waiters_notify(struct sl_broker *b, const char *topic, int32_t partition)
{
    struct sl_fetch_waiters *set = b->fetch_waiters;
    if (!set || !set->head) {
        return;
    }
    /* Completing a request may change the list (the server may cancel others), so the walk
     * restarts from the head after a completion only; the pass number keeps every waiter to
     * one look. A waiter still short of min_bytes leaves the list as it was: go on from it,
     * so a produce costs one pass over the waiters, not one per waiter. */
    uint64_t pass = ++set->pass;
    struct waiter *w = set->head;
    while (w) {
        if (w->pass == pass || !touches(w->ctx, topic, partition)) {
            w = w->next;
            continue;
        }
        w->pass = pass;
        struct gather g;
        if (gather(b, w->ctx, &g) != 0) {
            w = w->next; /* try again on the next produce or at the timeout */
            continue;
        }
        if (g.error || g.bytes >= w->ctx->fr.min_bytes) {
            waiter_complete(w, &g);
            w = set->head;
            continue;
        }
        gather_fini(&g);
        w = w->next;
    }
}

int sl_fetch_waiters_create(struct sl_broker *b, struct sl_fetch_waiters **out)
{
    struct sl_fetch_waiters *set = calloc(1, sizeof(*set));
    if (!set) {
        return -ENOMEM;
    }
    set->b = b;
    *out = set;
    return 0;
}

void sl_fetch_waiters_destroy(struct sl_fetch_waiters *set)
{
    if (!set) {
        return;
    }
    while (set->head) {
        waiter_drop(set->head); /* the request itself is the server's to free */
    }
    free(set);
}

/* The server cancels a parked fetch (connection closed, broker stopping). */
void sl_fetch_cancel(struct sl_request *req)
{
    struct waiter *w = req->handler_state;
    if (w) {
        waiter_drop(w);
    }
}

/* ---- the handler ---- */

/*
 * Fetch v4-11. Answers at once when the data reaches min_bytes, max_wait_ms is 0, any
 * partition has an error, or the broker is stopping; otherwise parks (SL_API_PARKED) until a
 * produce brings enough or max_wait_ms passes. A malformed request closes the connection.
 */
int sl_handle_fetch(struct sl_request *req)
{
    struct sl_broker *b = req->broker;
    struct fetch_ctx *ctx;
    int rc = ctx_create(req, &ctx);
    if (rc) {
        return rc;
    }
    struct gather g;
    rc = gather(b, ctx, &g);
    if (rc) {
        return rc;
    }
    int now = g.error || g.bytes >= ctx->fr.min_bytes || ctx->fr.max_wait_ms <= 0 || b->stopping ||
              !b->fetch_waiters;
    if (!now) {
        struct waiter *w = calloc(1, sizeof(*w));
        if (w && uv_timer_init(b->loop, &w->timer) == 0) {
            gather_fini(&g);
            w->timer.data = w;
            w->req = req;
            w->ctx = ctx;
            w->set = b->fetch_waiters;
            w->next = w->set->head;
            if (w->next) {
                w->next->prev = w;
            }
            w->set->head = w;
            req->handler_state = w;
            /* Capped: clients time a request out after request.timeout.ms (30 s by
             * default), so a longer wait only holds a connection and a timer. */
            uv_timer_start(&w->timer, waiter_timeout,
                           (uint64_t)SL_MIN(ctx->fr.max_wait_ms, FETCH_WAIT_MAX_MS), 0);
            return SL_API_PARKED;
        }
        free(w); /* cannot park: answer now with what there is */
    }
    encode(req, ctx, &g);
    return SL_API_DONE;
}
