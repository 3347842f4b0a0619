/*
 * netcat.c - the netcat source: TCP, one event per line (LF or CRLF, the line ending is not
 * part of the body), lines longer than max-line-length truncated and counted.
 *
 * Batching: the lines of every read of every connection go into one queue, in arrival order
 * (each with the connection it came from), and a uv_check handle commits the queue after the
 * loop's I/O callbacks: what all connections sent in one loop iteration goes into the channel
 * in as few put transactions as transactionCapacity allows (one fsync each with the file
 * channel), not one per read (Flume commits per line). A read that brings the queue to
 * transactionCapacity events or FLUSH_BYTES commits at once, which bounds the memory.
 * With ack-every-event each line is answered "OK\n" once its put committed (a committed chunk
 * answers each connection for its run of lines in it; a connection's lines stay in order),
 * or "FAILED: <reason>\n" when it never can be. When a channel is full the source stops
 * reading every socket (TCP pushes back to the senders) and retries the same chunk on the
 * channel's room notification or a timer; it never drops or fails a line because the channel
 * is full. A connection at EOF closes once none of its lines is left in the queue; lines still
 * queued when the source stops are lost, never acknowledged (counted in lost_unacked).
 *
 * Threads: everything here belongs to the source loop thread (the agent's main thread).
 * Handles live inside their owner; a connection is freed in its close callback.
 */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/net.h"
#include "agent/plugin.h"
#include "common/sl_assert.h"
#include "common/sl_log.h"
#include "common/sl_macros.h"

/* Fallback poll while paused; the channel's room notification (nc_room) usually comes first. */
#define RETRY_MS 100
#define READ_BUF 65536
/* Queued bytes at which a read commits at once instead of waiting for the check handle. */
#define FLUSH_BYTES (8u << 20)

struct nc_conn;

struct nc_ctx {
    /* config */
    char *bind;
    int64_t port;
    int64_t max_line;
    int ack;
    /* state */
    struct sl_source *src;
    uv_tcp_t server;
    uv_timer_t retry;
    uv_check_t check;      /* commits the queue after each iteration's I/O */
    struct nc_conn *conns; /* doubly linked */
    size_t handles;        /* open handles: server, timer, check, connections */
    /* The queue: lines read, not yet committed to every channel, in arrival order; owner[i]
     * is the connection line pend[i] came from. pend[head..n) is what is left; a chunk being
     * retried starts at head (put: how far it got). */
    struct sl_event **pend;
    struct nc_conn **owner;
    size_t head, n, cap;
    struct sl_put_state put;
    size_t pend_bytes; /* body bytes queued since the queue was last empty */
    int paused;
    int stopping;
    sl_done_cb done;
    int64_t last_pause_log_ms;
    uint64_t emitted;    /* lines emitted, not yet in the source's counters */
    char rbuf[READ_BUF]; /* one read at a time on this loop */
};

struct nc_conn {
    uv_tcp_t h;
    uv_shutdown_t shutdown;
    struct nc_ctx *nc;
    struct nc_conn *prev, *next;
    char *line; /* max_line bytes: the partial line so far */
    size_t len;
    int discarding;             /* truncated: skip to the next newline */
    struct sl_event_slab *slab; /* during one read's parse: where its lines' events go */
    size_t rest;                /* bytes of that read not parsed yet (slab sizing) */
    size_t npending;            /* its lines in the source's queue */
    int reading;
    int eof;
    int broken; /* write side unusable */
    int closing;
};

struct nc_write {
    uv_write_t req;
    char data[];
};

#define OFF(f) offsetof(struct nc_ctx, f)
static const struct sl_conf_map nc_conf[] = {
    {"bind", SL_CONF_STR, NULL, OFF(bind), 0, 0, SL_CONF_REQUIRED, NULL,
     "address or host name to listen on"},
    {"port", SL_CONF_INT, NULL, OFF(port), 0, 65535, SL_CONF_REQUIRED, NULL,
     "TCP port (0 = any free port)"},
    {"max-line-length", SL_CONF_INT, "512", OFF(max_line), 1, 64 << 20, 0, NULL,
     "longest body in bytes; longer lines are truncated"},
    {"ack-every-event", SL_CONF_BOOL, "true", OFF(ack), 0, 0, 0, NULL,
     "answer OK for each line once it is in the channel"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL},
};

#define CNT(p) __atomic_add_fetch(&(p), 1, __ATOMIC_RELAXED)

static void handle_done(struct nc_ctx *nc)
{
    if (--nc->handles == 0 && nc->done) {
        sl_done_cb done = nc->done;
        nc->done = NULL;
        done(nc->src);
    }
}

static void handle_closed(uv_handle_t *h)
{
    handle_done(h->data);
}

static void conn_closed(uv_handle_t *h)
{
    struct nc_conn *c = (struct nc_conn *)h;
    struct nc_ctx *nc = c->nc;
    /* Only the source's stop closes a connection with lines queued (it drops the queue). */
    SL_ASSERT(c->npending == 0 || nc->stopping);
    if (c->npending) {
        __atomic_add_fetch(&nc->src->lost_unacked, c->npending, __ATOMIC_RELAXED);
        __atomic_sub_fetch(&nc->src->pending, c->npending, __ATOMIC_RELAXED);
        sl_clog(nc->src->comp, SL_LOG_WARN,
                "connection closed with %zu lines not yet in the channel (never acknowledged)",
                c->npending);
    }
    free(c->line);
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        nc->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    CNT(nc->src->conns_closed);
    free(c);
    handle_done(nc);
}

/* closing: 0 open, 1 uv_close called, 2 shutdown under way (on_shutdown closes). */
static void conn_close(struct nc_conn *c)
{
    if (c->closing != 1) {
        c->closing = 1;
        uv_close((uv_handle_t *)&c->h, conn_closed);
    }
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn_close(req->data);
}

/* Half-closed by the peer and nothing left to commit: flush our replies, then close. */
static void conn_maybe_finish(struct nc_conn *c)
{
    if (c->eof && c->npending == 0 && !c->closing) {
        if (c->broken) {
            conn_close(c);
            return;
        }
        c->shutdown.data = c;
        if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->h, on_shutdown) != 0) {
            conn_close(c);
        } else {
            c->closing = 2;
        }
    }
}

static void on_write(uv_write_t *req, int status)
{
    free(req);
}

static void reply(struct nc_conn *c, const char *text, size_t len, size_t times)
{
    if (c->broken || c->closing || times == 0) {
        return;
    }
    struct nc_write *w = malloc(sizeof(*w) + len * times);
    if (!w) {
        return;
    }
    for (size_t i = 0; i < times; i++) {
        memcpy(w->data + i * len, text, len);
    }
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)(len * times));
    if (uv_write(&w->req, (uv_stream_t *)&c->h, &buf, 1, on_write) != 0) {
        free(w);
        c->broken = 1;
    }
}

/* Forget the first k queued lines (committed or rejected): the channel or the caller owns
 * them now. Answers each connection for its run of them when ok is set. */
static void queue_drop_front(struct nc_ctx *nc, size_t k, int ok)
{
    size_t i = nc->head, end = nc->head + k;
    while (i < end) {
        struct nc_conn *c = nc->owner[i];
        size_t run = 1;
        while (i + run < end && nc->owner[i + run] == c) {
            run++;
        }
        c->npending -= run;
        if (ok && nc->ack) {
            reply(c, "OK\n", 3, run);
        }
        i += run;
    }
    __atomic_sub_fetch(&nc->src->pending, k, __ATOMIC_RELAXED);
    nc->head = end;
    if (nc->head == nc->n) {
        nc->head = nc->n = 0;
        nc->pend_bytes = 0;
    }
}

/* Commit the queue (see sl_source_put_next). Returns 0 when it is empty, SL_ERETRY when a
 * channel is full. */
static int queue_flush(struct nc_ctx *nc)
{
    struct sl_source *s = nc->src;
    while (nc->head < nc->n) {
        size_t done, at;
        int rc =
            sl_source_put_next(s, &nc->put, nc->pend + nc->head, nc->n - nc->head, 0, &done, &at);
        if (rc == SL_ERETRY) {
            return SL_ERETRY;
        }
        if (rc == 0) {
            if (done) {
                __atomic_add_fetch(&s->accepted, done, __ATOMIC_RELAXED);
                queue_drop_front(nc, done, 1);
            }
            continue;
        }
        /* This line can never fit in channel at (byteCapacity). */
        struct sl_event *ev = nc->pend[nc->head];
        struct nc_conn *c = nc->owner[nc->head];
        CNT(s->failed);
        sl_clog(s->comp, SL_LOG_WARN, "line of %zu bytes does not fit in channel %s: rejected%s",
                ev->len, at < s->nchannels ? s->channels[at]->name : "?",
                at ? " there and in the channels after it" : "");
        if (nc->ack) {
            const char *msg = "FAILED: Event exceeds the channel's byteCapacity\n";
            reply(c, msg, strlen(msg), 1);
        }
        sl_event_destroy(ev);
        queue_drop_front(nc, 1, 0);
    }
    return 0;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct nc_conn *c = (struct nc_conn *)h;
    *buf = uv_buf_init(c->nc->rbuf, sizeof(c->nc->rbuf));
}

static void emit(struct nc_conn *c, const char *data, size_t len, int strip_cr)
{
    if (strip_cr && len && data[len - 1] == '\r') {
        len--;
    }
    struct sl_event *ev = NULL;
    if (c->slab) {
        ev = sl_event_slab_add(c->slab, data, len);
        if (!ev) {
            /* This read's slab is full (many short lines): a new one for the rest of it. */
            sl_event_slab_release(c->slab);
            size_t need = c->rest + c->rest / 4 + 4096;
            c->slab = sl_event_slab_create(SL_MAX(need, sl_event_slab_cost(len)));
            ev = c->slab ? sl_event_slab_add(c->slab, data, len) : NULL;
        }
    }
    if (!ev) {
        ev = sl_event_create(data, len);
    }
    struct nc_ctx *nc = c->nc;
    int room = 1;
    if (ev && nc->n == nc->cap) {
        size_t cap = nc->cap ? nc->cap * 2 : 1024;
        struct sl_event **p = realloc(nc->pend, cap * sizeof(*p));
        if (p) {
            nc->pend = p;
        }
        struct nc_conn **o = p ? realloc(nc->owner, cap * sizeof(*o)) : NULL;
        if (o) {
            nc->owner = o;
            nc->cap = cap;
        }
        room = p && o;
    }
    if (!ev || !room) {
        /* Out of memory: the line is lost, but never silently. */
        sl_event_destroy(ev);
        CNT(c->nc->src->received);
        CNT(c->nc->src->failed);
        sl_clog(c->nc->src->comp, SL_LOG_ERROR, "out of memory: a line of %zu bytes was dropped",
                len);
        if (c->nc->ack) {
            reply(c, "FAILED: out of memory\n", 22, 1);
        }
        return;
    }
    nc->pend[nc->n] = ev;
    nc->owner[nc->n] = c;
    nc->n++;
    nc->pend_bytes += len;
    c->npending++;
    nc->emitted++; /* added to received and pending by counts_flush, once per read */
}

/*
 * Publish the lines emitted since the last call. One atomic add per read instead of two per
 * line: at a few hundred thousand lines a second those locked adds on a cache line that
 * other threads read cost more than the parsing. Called before anything commits them.
 */
static void counts_flush(struct nc_ctx *nc)
{
    if (nc->emitted) {
        __atomic_add_fetch(&nc->src->received, nc->emitted, __ATOMIC_RELAXED);
        __atomic_add_fetch(&nc->src->pending, nc->emitted, __ATOMIC_RELAXED);
        nc->emitted = 0;
    }
}

static void parse(struct nc_conn *c, const char *p, size_t n)
{
    struct nc_ctx *nc = c->nc;
    size_t max = (size_t)nc->max_line;
    const char *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *seg_end = nl ? nl : end;
        size_t seg = (size_t)(seg_end - p);
        if (c->discarding) {
            if (!nl) {
                return;
            }
            c->discarding = 0;
            p = nl + 1;
            continue;
        }
        size_t body = seg;
        if (nl && seg && p[seg - 1] == '\r') {
            body--; /* the CR of a CRLF does not count */
        }
        c->rest = (size_t)(end - p);
        if (nl && c->len == 0 && body <= max) {
            emit(c, p, body, 0); /* a whole line in this read: no copy into c->line */
            p = nl + 1;
            continue;
        }
        if (c->len + body > max) {
            size_t room = max - c->len;
            memcpy(c->line + c->len, p, room);
            emit(c, c->line, max, 0);
            CNT(nc->src->truncated);
            c->len = 0;
            if (nl) {
                p = nl + 1;
            } else {
                c->discarding = 1;
                return;
            }
            continue;
        }
        memcpy(c->line + c->len, p, seg);
        c->len += seg;
        if (!nl) {
            return;
        }
        emit(c, c->line, c->len, 1);
        c->len = 0;
        p = nl + 1;
    }
}

static void on_retry(uv_timer_t *t);

static void pause_all(struct nc_ctx *nc)
{
    if (nc->paused) {
        return;
    }
    nc->paused = 1;
    size_t n = 0;
    for (struct nc_conn *c = nc->conns; c; c = c->next) {
        if (c->reading) {
            uv_read_stop((uv_stream_t *)&c->h);
            c->reading = 0;
            n++;
        }
    }
    if (sl_every_ms(&nc->last_pause_log_ms, 10000)) {
        sl_clog(nc->src->comp, SL_LOG_WARN,
                "channel full: stopped reading %zu connections until there is room", n);
    }
    uv_timer_start(&nc->retry, on_retry, RETRY_MS, RETRY_MS);
}

static void read_cb(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf);

static void conn_read_start(struct nc_conn *c)
{
    if (!c->reading && !c->eof && !c->closing) {
        if (uv_read_start((uv_stream_t *)&c->h, alloc_cb, read_cb) == 0) {
            c->reading = 1;
        }
    }
}

/* Close the connections at EOF whose lines are all committed. */
static void finish_eof(struct nc_ctx *nc)
{
    struct nc_conn *next;
    for (struct nc_conn *c = nc->conns; c; c = next) {
        next = c->next;
        if (c->eof) {
            conn_maybe_finish(c);
        }
    }
}

/* Commit the queue (check handle, or a read that filled it); pause when a channel is full. */
static void commit_queue(struct nc_ctx *nc)
{
    if (queue_flush(nc) == SL_ERETRY) {
        pause_all(nc);
        return;
    }
    finish_eof(nc);
}

static void on_check(uv_check_t *h)
{
    struct nc_ctx *nc = h->data;
    if (!nc->paused && nc->head < nc->n) {
        commit_queue(nc);
    }
}

static void retry_flush(struct nc_ctx *nc)
{
    if (queue_flush(nc) == SL_ERETRY) {
        return; /* still full */
    }
    finish_eof(nc);
    nc->paused = 0;
    uv_timer_stop(&nc->retry);
    for (struct nc_conn *c = nc->conns; c; c = c->next) {
        conn_read_start(c);
    }
}

static void on_retry(uv_timer_t *t)
{
    retry_flush(t->data);
}

/* The channel has room again (source loop thread, from the runtime's async handle). */
static void nc_room(struct sl_source *s)
{
    struct nc_ctx *nc = s->ctx;
    if (nc->paused && !nc->stopping) {
        retry_flush(nc);
    }
}

static void read_cb(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf)
{
    struct nc_conn *c = (struct nc_conn *)h;
    struct nc_ctx *nc = c->nc;
    if (nread == 0) {
        return;
    }
    if (nread < 0) {
        uv_read_stop(h);
        c->reading = 0;
        c->eof = 1;
        if (nread != UV_EOF) {
            c->broken = 1;
        }
        if (c->len && !c->discarding) {
            emit(c, c->line, c->len, 1); /* a last line without its newline */
            c->len = 0;
        }
    } else {
        __atomic_add_fetch(&nc->src->bytes_received, (uint64_t)nread, __ATOMIC_RELAXED);
        /* One allocation for the events of this read; it lives on in them. */
        size_t n = (size_t)nread;
        c->slab = sl_event_slab_create(n + n / 4 + 4096);
        parse(c, buf->base, n);
        sl_event_slab_release(c->slab);
        c->slab = NULL;
    }
    counts_flush(nc);
    if (nc->paused) {
        return; /* the retry timer commits in order */
    }
    if (c->eof && c->npending == 0) {
        conn_maybe_finish(c);
    }
    if (nc->n - nc->head >= sl_source_tx_capacity(nc->src) || nc->pend_bytes >= FLUSH_BYTES) {
        commit_queue(nc); /* a full transaction: no need to wait for the check handle */
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    struct nc_ctx *nc = server->data;
    if (status < 0) {
        sl_clog(nc->src->comp, SL_LOG_WARN, "accept: %s", uv_strerror(status));
        return;
    }
    struct nc_conn *c = calloc(1, sizeof(*c));
    if (c) {
        c->line = malloc((size_t)nc->max_line + 1);
    }
    if (!c || !c->line) {
        free(c);
        return;
    }
    c->nc = nc;
    uv_tcp_init(server->loop, &c->h);
    nc->handles++;
    c->next = nc->conns;
    if (nc->conns) {
        nc->conns->prev = c;
    }
    nc->conns = c;
    CNT(nc->src->conns_created);
    if (uv_accept(server, (uv_stream_t *)&c->h) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->h, 1);
    if (!nc->paused) {
        conn_read_start(c);
    }
}

static int nc_init(struct sl_source *s, struct sl_err *err)
{
    struct nc_ctx *nc = s->ctx;
    nc->src = s;
    return 0;
}

static int nc_start(struct sl_source *s, uv_loop_t *loop, struct sl_err *err)
{
    struct nc_ctx *nc = s->ctx;
    struct sockaddr_storage ss;
    int rc = sl_net_resolve_bind(nc->bind, (int)nc->port, SOCK_STREAM, &ss, NULL, err);
    if (rc != 0) {
        return rc;
    }
    uv_tcp_init(loop, &nc->server);
    uv_timer_init(loop, &nc->retry);
    uv_check_init(loop, &nc->check);
    nc->server.data = nc->retry.data = nc->check.data = nc;
    nc->handles = 3;
    uv_check_start(&nc->check, on_check);
    rc = uv_tcp_bind(&nc->server, (struct sockaddr *)&ss, 0);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&nc->server, 128, on_connection);
    }
    if (rc != 0) {
        sl_err_set(err, rc, "listen on %s:%lld: %s", nc->bind, (long long)nc->port,
                   uv_strerror(rc));
        uv_close((uv_handle_t *)&nc->server, handle_closed);
        uv_close((uv_handle_t *)&nc->retry, handle_closed);
        uv_close((uv_handle_t *)&nc->check, handle_closed);
        return rc;
    }
    struct sockaddr_storage got;
    int len = sizeof(got);
    uv_tcp_getsockname(&nc->server, (struct sockaddr *)&got, &len);
    int port = ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
                                              : ((struct sockaddr_in6 *)&got)->sin6_port);
    sl_clog(s->comp, SL_LOG_INFO, "listening on %s:%d (max-line-length %lld, ack-every-event %s)",
            nc->bind, port, (long long)nc->max_line, nc->ack ? "true" : "false");
    return 0;
}

static void nc_stop(struct sl_source *s, sl_done_cb done)
{
    struct nc_ctx *nc = s->ctx;
    nc->stopping = 1;
    nc->done = done;
    uv_close((uv_handle_t *)&nc->server, handle_closed);
    uv_close((uv_handle_t *)&nc->retry, handle_closed);
    uv_close((uv_handle_t *)&nc->check, handle_closed);
    /* Lines still queued never reach the channel: each connection reports its own count as
     * lost when it has closed (conn_closed). */
    for (size_t i = nc->head; i < nc->n; i++) {
        sl_event_destroy(nc->pend[i]);
    }
    nc->head = nc->n = 0;
    for (struct nc_conn *c = nc->conns; c; c = c->next) {
        conn_close(c);
    }
}

static void nc_fini(struct sl_source *s)
{
    struct nc_ctx *nc = s->ctx;
    free(nc->pend);
    free(nc->owner);
    nc->pend = NULL;
    nc->owner = NULL;
}

const struct sl_source_ops sl_netcat_source_ops = {
    .name = "netcat",
    .conf = nc_conf,
    .ctx_size = sizeof(struct nc_ctx),
    .init = nc_init,
    .start = nc_start,
    .stop = nc_stop,
    .fini = nc_fini,
    .room = nc_room,
};
