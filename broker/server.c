/*
 * server.c - the broker's network server on libuv: a non-blocking listen socket and
 * non-blocking connection sockets watched with uv_poll_t (not uv_tcp_t: responses carry file
 * ranges that sendfile(2) writes straight to the socket, and libuv cannot share a socket
 * between its own stream writes and ours).
 *
 * Per connection, requests are handled one at a time, as Kafka does: a request that parks
 * (a long-poll Fetch, an acks=all Produce) stops reading and processing on that connection
 * until sl_request_complete, which is what keeps responses in request order while clients
 * pipeline. Bytes already received wait in the read buffer. Output is a queue of responses,
 * each a header plus a kp writer (memory bytes with file parts spliced in); memory goes out
 * with sendmsg, file parts with sendfile, and a partial write resumes on UV_WRITABLE. A
 * connection with more than CONN_OUT_MAX bytes unsent is not read until it drains.
 *
 * A malformed frame (bad length, unknown API, unsupported version, a handler's negative
 * return) closes that connection only, logged with a broker-wide rate limit.
 *
 * Threads: everything here runs on the broker loop thread.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../common/sl_assert.h"
#include "../common/sl_log.h"
#include "../common/sl_macros.h"

#define CONN_OUT_MAX      ((int64_t)64 << 20) /* unsent bytes past which we stop reading */
#define CONN_READ_MIN     65536               /* read buffer size for ordinary requests */
#define CONN_READ_KEEP    (1 << 20)           /* a larger idle read buffer is given back */
#define CONN_READS_PER_CB 4                   /* reads per readable event, for fairness */
#define ACCEPTS_PER_CB    64
#define ACCEPT_BACKOFF_MS 100 /* pause accepting after EMFILE and the like */
#define LISTEN_BACKLOG    1024
#define IOV_BATCH         64
#define SENDFILE_CHUNK    ((int64_t)1 << 30)
#define REQ_ARENA_LIMIT   ((size_t)256 << 20) /* sanity cap on a decoder's allocations */
#define WARN_INTERVAL_MS  1000

#define API_VERSIONS_KEY 18

/* One queued response: its header, then the handler's body (memory and file parts). */
struct out_msg {
    struct out_msg *next;
    uint8_t hdr[9]; /* size, correlation id, and an empty tagged section (header v1) */
    size_t hdr_len;
    struct sl_kp_writer w;
    /* Send cursor: part 0 is the header; then memory before file 0, file 0, memory before
     * file 1, ..., and the memory after the last file: 2 + 2 * nfiles parts in all. */
    size_t part;
    int64_t off; /* bytes of the current part already sent */
};

struct sl_conn {
    struct sl_server *srv;
    struct sl_conn *prev, *next; /* the server's list of connections */
    struct sl_conn *ready_next;  /* the server's list of connections with work to resume */
    int in_ready;
    uv_poll_t poll;
    int fd;
    int events; /* what poll is started with; 0 = stopped */
    int closing;
    int eof; /* the client shut down its side: answer what arrived, then close */
    char peer[64];

    uint8_t *rbuf; /* frames received: [rpos, rlen) not yet handled */
    size_t rpos, rlen, rcap;

    struct sl_request *parked; /* in handler or parked; rbuf is frozen while set */
    const struct sl_api *parked_api;

    struct out_msg *out_head, *out_tail;
    int64_t out_bytes;
};

struct sl_server {
    struct sl_broker *broker;
    uv_loop_t *loop;
    int64_t max_request_bytes;
    int listen_fd;
    int port;
    uv_poll_t listen_poll;
    uv_idle_t idle;          /* resumes connections whose parked request completed */
    uv_timer_t accept_timer; /* accept backoff */
    int open_handles;        /* of listen_poll, idle, accept_timer */
    struct sl_conn *conns;
    size_t nconns;
    struct sl_conn *ready;
    int stopping;
    int destroy_pending;
    int warned;
    uint64_t warn_last_ms;
    uint64_t warn_suppressed;
};

static void conn_close(struct sl_conn *c);
static void conn_run(struct sl_conn *c);
static void conn_poll_cb(uv_poll_t *h, int status, int events);
static void idle_cb(uv_idle_t *h);

/* ---- rate-limited warnings ---- */

/* At most one line per WARN_INTERVAL_MS across the broker; the rest are counted. */
__attribute__((format(printf, 2, 3))) static void server_warn(struct sl_server *s, const char *fmt,
                                                              ...)
{
    uint64_t now = uv_now(s->loop);
    if (s->warned && now - s->warn_last_ms < WARN_INTERVAL_MS) {
        s->warn_suppressed++;
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (s->warn_suppressed) {
        sl_clog("broker:net", SL_LOG_WARN, "%s (%" PRIu64 " similar messages suppressed)", msg,
                s->warn_suppressed);
    } else {
        sl_clog("broker:net", SL_LOG_WARN, "%s", msg);
    }
    s->warned = 1;
    s->warn_last_ms = now;
    s->warn_suppressed = 0;
}

/* ---- request header ---- */

int sl_server_parse_request(const uint8_t *frame, size_t len, struct sl_request *req,
                            const struct sl_api **api)
{
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, frame, len);
    *api = NULL;
    req->api_key = sl_kp_read_i16(&r);
    req->api_version = sl_kp_read_i16(&r);
    req->correlation_id = sl_kp_read_i32(&r);
    req->client_id = sl_kp_read_str(&r, 1);
    req->flexible = 0;
    if (r.err) {
        return SL_ETRUNCATED;
    }
    const struct sl_api *a = sl_api_find(req->api_key);
    if (!a) {
        return SL_ENOENT;
    }
    *api = a;
    int in_range = req->api_version >= a->min_version && req->api_version <= a->max_version;
    if (!in_range && a->key != API_VERSIONS_KEY) {
        return SL_EUNSUPPORTED;
    }
    if (req->api_version >= a->flexible_from) {
        struct sl_kp_reader before = r;
        sl_kp_skip_tags(&r);
        if (r.err) {
            if (in_range) {
                return r.err;
            }
            /* ApiVersions of a version we do not know: its header format is unknown too,
             * and the answer (v0, UNSUPPORTED_VERSION) does not depend on the body. */
            r = before;
        } else {
            req->flexible = 1;
        }
    }
    req->body = r;
    return 0;
}

/* ---- output ---- */

static size_t out_nparts(const struct out_msg *m)
{
    return 2 + 2 * m->w.nfiles;
}

/* Part p of m: memory (returns its bytes in *ptr) or a file part (returns it, *ptr NULL). */
static struct sl_kp_file_part *out_part(struct out_msg *m, size_t p, const uint8_t **ptr,
                                        int64_t *len)
{
    if (p == 0) {
        *ptr = m->hdr;
        *len = (int64_t)m->hdr_len;
        return NULL;
    }
    size_t q = p - 1, i = q / 2;
    if (q % 2 == 1) {
        *ptr = NULL;
        *len = m->w.files[i].length;
        return &m->w.files[i];
    }
    size_t start = i == 0 ? 0 : m->w.files[i - 1].at;
    size_t end = i < m->w.nfiles ? m->w.files[i].at : m->w.len;
    *ptr = m->w.buf + start;
    *len = (int64_t)(end - start);
    return NULL;
}

static void out_free(struct out_msg *m)
{
    sl_kp_writer_fini(&m->w); /* releases file parts not yet sent */
    free(m);
}

/* n bytes were sent: move the cursor, releasing file parts and freeing finished messages. */
static void out_advance(struct sl_conn *c, int64_t n)
{
    c->out_bytes -= n;
    while (c->out_head) {
        struct out_msg *m = c->out_head;
        if (m->part >= out_nparts(m)) {
            c->out_head = m->next;
            if (!c->out_head) {
                c->out_tail = NULL;
            }
            out_free(m);
            continue;
        }
        const uint8_t *ptr;
        int64_t len;
        struct sl_kp_file_part *f = out_part(m, m->part, &ptr, &len);
        int64_t rem = len - m->off;
        if (n < rem) {
            m->off += n;
            return;
        }
        n -= rem;
        if (f && f->release) {
            f->release(f->owner);
            f->release = NULL;
        }
        m->part++;
        m->off = 0;
    }
}

/*
 * Write as much of the queue as the socket takes. Returns 0 (all sent, or the socket is
 * full) or a negative error: the connection must be closed.
 */
static int conn_flush(struct sl_conn *c)
{
    for (;;) {
        out_advance(c, 0); /* skip empty parts, so the cursor is at bytes still to send */
        if (!c->out_head) {
            return 0;
        }
        struct iovec iov[IOV_BATCH];
        int n = 0;
        struct out_msg *m = c->out_head;
        size_t p = m->part;
        int64_t off = m->off;
        struct sl_kp_file_part *file = NULL;
        while (m && n < IOV_BATCH) {
            if (p >= out_nparts(m)) {
                m = m->next;
                p = 0;
                off = 0;
                continue;
            }
            const uint8_t *ptr;
            int64_t len;
            struct sl_kp_file_part *f = out_part(m, p, &ptr, &len);
            if (f) {
                if (n == 0) {
                    file = f;
                }
                break;
            }
            if (len > off) {
                iov[n].iov_base = (void *)(ptr + off);
                iov[n].iov_len = (size_t)(len - off);
                n++;
            }
            p++;
            off = 0;
        }
        ssize_t r;
        if (n > 0) {
            struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
            r = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        } else if (file) {
            int64_t want = SL_MIN(file->length - c->out_head->off, SENDFILE_CHUNK);
            off_t pos = (off_t)(file->position + c->out_head->off);
            r = want > 0 ? sendfile(c->fd, file->fd, &pos, (size_t)want) : 0;
            if (r == 0 && want > 0) {
                /* The segment is shorter than the handler promised (truncated under us):
                 * the response size is already on the wire, so the stream is lost. */
                return SL_ETRUNCATED;
            }
        } else {
            SL_ASSERT(0); /* a normalized cursor is at a non-empty part */
            return 0;
        }
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return 0;
            }
            return -errno;
        }
        out_advance(c, r);
    }
}

/* Queue req's response (header + req->resp, which moves into the queue). */
static int conn_queue_response(struct sl_conn *c, struct sl_request *req)
{
    if (req->resp.err) {
        return req->resp.err;
    }
    /* ApiVersions always answers with response header v0 (kafka-facts: "the exception"). */
    int tagged = req->flexible && req->api_key != API_VERSIONS_KEY;
    int64_t size = 4 + tagged + sl_kp_writer_size(&req->resp);
    if (size > INT32_MAX) {
        return SL_ETOOLARGE;
    }
    struct out_msg *m = calloc(1, sizeof(*m));
    if (!m) {
        return -ENOMEM;
    }
    sl_store_be32(m->hdr, (uint32_t)size);
    sl_store_be32(m->hdr + 4, (uint32_t)req->correlation_id);
    m->hdr_len = 8;
    if (tagged) {
        m->hdr[m->hdr_len++] = 0;
    }
    m->w = req->resp;
    sl_kp_writer_init(&req->resp);
    if (c->out_tail) {
        c->out_tail->next = m;
    } else {
        c->out_head = m;
    }
    c->out_tail = m;
    c->out_bytes += 4 + size;
    return 0;
}

/*
 * Every request that reached its handler ends in request_free exactly once, whichever way
 * it ends (answered, acks=0, malformed, completed after parking, cancelled at close), so the
 * per-API request count and handling time are taken here and nowhere else. By then the
 * response, if any, is queued: the time runs from frame parsed to response queued.
 */
static void request_account(const struct sl_request *req)
{
    if (req->api_key < 0 || req->api_key >= SL_BROKER_METRICS_API_KEYS) {
        return;
    }
    struct sl_broker_api_metrics *m = &req->broker->metrics.api[req->api_key];
    SL_BROKER_METRIC_ADD(m->requests, 1);
    SL_BROKER_METRIC_ADD(m->time_us_sum, (uv_hrtime() - req->start_ns) / 1000);
}

static void request_free(struct sl_request *req)
{
    request_account(req);
    sl_kp_writer_fini(&req->resp);
    sl_kp_arena_fini(&req->arena);
    free(req);
}

/* ---- requests ---- */

static const char *api_name(const struct sl_api *api)
{
    return api ? api->name : "unknown";
}

/* Handle one frame. May close c. */
static void conn_dispatch(struct sl_conn *c, const uint8_t *frame, size_t len)
{
    struct sl_server *s = c->srv;
    struct sl_request *req = calloc(1, sizeof(*req));
    if (!req) {
        server_warn(s, "%s: out of memory for a request: closing the connection", c->peer);
        conn_close(c);
        return;
    }
    const struct sl_api *api;
    int rc = sl_server_parse_request(frame, len, req, &api);
    if (rc != 0) {
        const char *why = rc == SL_ENOENT         ? "unknown API key"
                          : rc == SL_EUNSUPPORTED ? "unsupported version"
                                                  : "malformed request header";
        server_warn(s,
                    "%s: %s (api key %d %s, version %d, correlation id %" PRId32
                    "): closing the connection",
                    c->peer, why, req->api_key, api_name(api), req->api_version,
                    req->correlation_id);
        free(req);
        conn_close(c);
        return;
    }
    req->start_ns = uv_hrtime();
    req->broker = s->broker;
    req->conn = c;
    snprintf(req->peer, sizeof(req->peer), "%s", c->peer);
    sl_kp_arena_init(&req->arena, REQ_ARENA_LIMIT);
    sl_kp_writer_init(&req->resp);

    /* Marked in flight before the call, so a handler may complete the request even before
     * it returns SL_API_PARKED. */
    c->parked = req;
    c->parked_api = api;
    rc = api->handler(req);
    if (rc == SL_API_PARKED) {
        return; /* c->parked is NULL again if it was already completed */
    }
    SL_ASSERT(c->parked == req);
    c->parked = NULL;
    c->parked_api = NULL;
    if (rc == SL_API_DONE) {
        rc = conn_queue_response(c, req);
        if (rc != 0) {
            server_warn(s,
                        "%s: cannot send the %s v%d response (correlation id %" PRId32
                        "): %s: closing the connection",
                        c->peer, api->name, req->api_version, req->correlation_id, sl_strerror(rc));
            request_free(req);
            conn_close(c);
            return;
        }
    } else if (rc < 0) {
        server_warn(s,
                    "%s: malformed %s v%d request (correlation id %" PRId32
                    "): %s: closing the connection",
                    c->peer, api->name, req->api_version, req->correlation_id, sl_strerror(rc));
        request_free(req);
        conn_close(c);
        return;
    }
    request_free(req);
}

void sl_request_complete(struct sl_request *req)
{
    struct sl_conn *c = req->conn;
    struct sl_server *s = c->srv;
    SL_ASSERT(c->parked == req && !c->closing);
    c->parked = NULL;
    c->parked_api = NULL;
    int rc = conn_queue_response(c, req);
    if (rc != 0) {
        server_warn(s,
                    "%s: cannot send the response (api key %d, correlation id %" PRId32
                    "): %s: closing the connection",
                    c->peer, req->api_key, req->correlation_id, sl_strerror(rc));
    }
    request_free(req);
    if (rc != 0) {
        conn_close(c);
        return;
    }
    /* Resume from the loop, not here: the caller is usually another request's handler,
     * and running this connection's next request inside it would nest handlers. */
    if (!c->in_ready) {
        c->in_ready = 1;
        c->ready_next = s->ready;
        s->ready = c;
        uv_idle_start(&s->idle, idle_cb);
    }
}

/* Handle every complete frame while the connection may (not parked, output not full). */
static void conn_process(struct sl_conn *c)
{
    struct sl_server *s = c->srv;
    while (!c->closing && !c->parked && c->out_bytes < CONN_OUT_MAX) {
        size_t avail = c->rlen - c->rpos;
        if (avail < 4) {
            break;
        }
        int32_t size = (int32_t)sl_load_be32(c->rbuf + c->rpos);
        if (size <= 0 || size > s->max_request_bytes) {
            server_warn(s,
                        "%s: request size %" PRId32 " is outside 1..%" PRId64
                        " (socket.request.max.bytes): closing the connection",
                        c->peer, size, s->max_request_bytes);
            conn_close(c);
            return;
        }
        if (avail - 4 < (size_t)size) {
            break;
        }
        const uint8_t *frame = c->rbuf + c->rpos + 4;
        c->rpos += 4 + (size_t)size;
        conn_dispatch(c, frame, (size_t)size);
    }
    if (c->closing || c->parked) {
        return; /* a parked request may point into rbuf */
    }
    if (c->rpos == c->rlen && c->rcap > CONN_READ_KEEP) {
        free(c->rbuf);
        c->rbuf = NULL;
        c->rcap = 0;
        c->rpos = c->rlen = 0;
    } else if (c->rpos > 0) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
}

/* 1 when conn_process would make progress now. */
static int conn_can_process(const struct sl_conn *c)
{
    if (c->closing || c->parked || c->out_bytes >= CONN_OUT_MAX) {
        return 0;
    }
    size_t avail = c->rlen - c->rpos;
    if (avail < 4) {
        return 0;
    }
    int32_t size = (int32_t)sl_load_be32(c->rbuf + c->rpos);
    return size <= 0 || size > c->srv->max_request_bytes || avail - 4 >= (size_t)size;
}

/* ---- connections ---- */

static void conn_update_poll(struct sl_conn *c)
{
    int want = 0;
    if (!c->parked && !c->eof && c->out_bytes < CONN_OUT_MAX) {
        want |= UV_READABLE;
    }
    if (c->out_head) {
        want |= UV_WRITABLE;
    }
    if (c->parked) {
        /* Not reading, but still told when the peer hangs up, so a parked request of a
         * client that went away does not hold the connection until its timer fires. */
        want |= UV_DISCONNECT;
    }
    if (want == c->events) {
        return;
    }
    int rc = want ? uv_poll_start(&c->poll, want, conn_poll_cb) : uv_poll_stop(&c->poll);
    if (rc != 0) {
        server_warn(c->srv, "%s: poll: %s: closing the connection", c->peer, uv_strerror(rc));
        conn_close(c);
        return;
    }
    c->events = want;
}

/* Read what the socket has (a few reads at most). Sets eof, or closes c on an error. */
static void conn_read(struct sl_conn *c)
{
    struct sl_server *s = c->srv;
    for (int i = 0; i < CONN_READS_PER_CB; i++) {
        if (c->rlen == c->rcap) {
            /* Full: the frame in progress is larger than the buffer (complete frames were
             * handled before we read again). Grow towards it, not past it. */
            size_t want = CONN_READ_MIN;
            if (c->rlen - c->rpos >= 4) {
                int32_t size = (int32_t)sl_load_be32(c->rbuf + c->rpos);
                if (size > 0 && size <= s->max_request_bytes) {
                    want = SL_MAX(want, c->rpos + 4 + (size_t)size);
                }
            }
            size_t cap = SL_MAX((size_t)CONN_READ_MIN, SL_MIN(c->rcap * 2, want));
            if (cap <= c->rcap) {
                return; /* a bad length: conn_process closes */
            }
            uint8_t *nb = realloc(c->rbuf, cap);
            if (!nb) {
                server_warn(s,
                            "%s: out of memory for a %zu-byte read buffer: closing the "
                            "connection",
                            c->peer, cap);
                conn_close(c);
                return;
            }
            c->rbuf = nb;
            c->rcap = cap;
        }
        ssize_t r = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
        if (r > 0) {
            c->rlen += (size_t)r;
            if (conn_can_process(c)) {
                return;
            }
            continue;
        }
        if (r == 0) {
            c->eof = 1;
            return;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            sl_clog("broker:net", SL_LOG_DEBUG, "%s: read: %s", c->peer, strerror(errno));
            conn_close(c);
        }
        return;
    }
}

/* Handle what is buffered, send what is queued, then watch for what can happen next. */
static void conn_run(struct sl_conn *c)
{
    do {
        conn_process(c);
        if (c->closing) {
            return;
        }
        int rc = conn_flush(c);
        if (rc != 0) {
            if (rc == -EPIPE || rc == -ECONNRESET) {
                sl_clog("broker:net", SL_LOG_DEBUG, "%s: write: %s", c->peer, sl_strerror(rc));
            } else {
                server_warn(c->srv, "%s: write: %s: closing the connection", c->peer,
                            sl_strerror(rc));
            }
            conn_close(c);
            return;
        }
    } while (conn_can_process(c));
    if (c->eof && !c->parked && !c->out_head) {
        conn_close(c); /* everything that arrived before the client's FIN is answered */
        return;
    }
    conn_update_poll(c);
}

static void conn_poll_cb(uv_poll_t *h, int status, int events)
{
    struct sl_conn *c = h->data;
    if (status < 0) {
        sl_clog("broker:net", SL_LOG_DEBUG, "%s: poll: %s", c->peer, uv_strerror(status));
        conn_close(c);
        return;
    }
    if ((events & UV_DISCONNECT) && c->parked) {
        /* The peer closed (or half-closed) while its request waits: Kafka clients never
         * half-close, so the answer would go nowhere. conn_close cancels the request. */
        sl_clog("broker:net", SL_LOG_DEBUG, "%s: hung up while a request was parked", c->peer);
        conn_close(c);
        return;
    }
    /* Never while a request is in flight: it may point into rbuf, which a read may move. */
    if ((events & UV_READABLE) && !c->parked && !c->eof) {
        conn_read(c);
        if (c->closing) {
            return;
        }
    }
    conn_run(c);
}

static void conn_closed_cb(uv_handle_t *h)
{
    struct sl_conn *c = h->data;
    struct sl_server *s = c->srv;
    close(c->fd);
    free(c->rbuf);
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        s->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    s->nconns--;
    free(c);
    if (s->destroy_pending && s->open_handles == 0 && s->nconns == 0) {
        free(s);
    }
}

/* Close c: cancel its parked request, drop its output; the memory goes in the callback. */
static void conn_close(struct sl_conn *c)
{
    if (c->closing) {
        return;
    }
    c->closing = 1;
    struct sl_server *s = c->srv;
    if (c->parked) {
        struct sl_request *req = c->parked;
        const struct sl_api *api = c->parked_api;
        c->parked = NULL;
        c->parked_api = NULL;
        if (api && api->cancel) {
            api->cancel(req);
        }
        request_free(req);
    }
    while (c->out_head) {
        struct out_msg *m = c->out_head;
        c->out_head = m->next;
        out_free(m);
    }
    c->out_tail = NULL;
    c->out_bytes = 0;
    if (c->in_ready) {
        for (struct sl_conn **pp = &s->ready; *pp; pp = &(*pp)->ready_next) {
            if (*pp == c) {
                *pp = c->ready_next;
                break;
            }
        }
        c->in_ready = 0;
    }
    uv_close((uv_handle_t *)&c->poll, conn_closed_cb);
}

static void format_peer(const struct sockaddr_storage *ss, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
        snprintf(out, size, "%s:%d", host, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
        snprintf(out, size, "[%s]:%d", host, port);
    } else {
        snprintf(out, size, "?");
    }
}

static void conn_create(struct sl_server *s, int fd, const struct sockaddr_storage *ss)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sl_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        server_warn(s, "out of memory for a connection: refusing it");
        close(fd);
        return;
    }
    c->srv = s;
    c->fd = fd;
    format_peer(ss, c->peer, sizeof(c->peer));
    int rc = uv_poll_init(s->loop, &c->poll, fd);
    if (rc != 0) {
        server_warn(s, "%s: poll init: %s: refusing the connection", c->peer, uv_strerror(rc));
        close(fd);
        free(c);
        return;
    }
    c->poll.data = c;
    c->next = s->conns;
    if (s->conns) {
        s->conns->prev = c;
    }
    s->conns = c;
    s->nconns++;
    rc = uv_poll_start(&c->poll, UV_READABLE, conn_poll_cb);
    if (rc != 0) {
        server_warn(s, "%s: poll: %s: closing the connection", c->peer, uv_strerror(rc));
        conn_close(c);
        return;
    }
    c->events = UV_READABLE;
    sl_clog("broker:net", SL_LOG_DEBUG, "%s: connected", c->peer);
}

/* ---- listener ---- */

static void listen_cb(uv_poll_t *h, int status, int events);

static void accept_timer_cb(uv_timer_t *t)
{
    struct sl_server *s = t->data;
    if (!s->stopping) {
        (void)uv_poll_start(&s->listen_poll, UV_READABLE, listen_cb);
    }
}

static void listen_cb(uv_poll_t *h, int status, int events)
{
    struct sl_server *s = h->data;
    for (int i = 0; i < ACCEPTS_PER_CB && !s->stopping; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            conn_create(s, fd, &ss);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        }
        /* Out of descriptors or memory: the pending connection stays in the backlog and
         * would wake us again at once, so stop listening for a moment. */
        server_warn(s, "accept: %s: pausing accepts for %d ms", strerror(errno), ACCEPT_BACKOFF_MS);
        (void)uv_poll_stop(&s->listen_poll);
        (void)uv_timer_start(&s->accept_timer, accept_timer_cb, ACCEPT_BACKOFF_MS, 0);
        return;
    }
}

static void idle_cb(uv_idle_t *h)
{
    struct sl_server *s = h->data;
    while (s->ready) {
        struct sl_conn *c = s->ready;
        s->ready = c->ready_next;
        c->in_ready = 0;
        conn_run(c);
    }
    uv_idle_stop(&s->idle);
}

static void server_handle_closed_cb(uv_handle_t *h)
{
    struct sl_server *s = h->data;
    if (h == (uv_handle_t *)&s->listen_poll) {
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    s->open_handles--;
    if (s->destroy_pending && s->open_handles == 0 && s->nconns == 0) {
        free(s);
    }
}

/* A bound, listening, non-blocking socket for host:port, or -errno with err set. */
static int listen_socket(const char *host, int port, struct sl_err *err)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
    };
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    const char *node = host && host[0] ? host : "0.0.0.0";
    struct addrinfo *res;
    int gai = getaddrinfo(node, portstr, &hints, &res);
    if (gai != 0) {
        return sl_err_set(err, -EADDRNOTAVAIL, "listeners: cannot resolve host '%s': %s", node,
                          gai_strerror(gai));
    }
    int rc = -EADDRNOTAVAIL;
    const char *what = "bind";
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            rc = -errno;
            what = "socket";
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            rc = -errno;
            what = "bind";
            close(fd);
            continue;
        }
        if (listen(fd, LISTEN_BACKLOG) != 0) {
            rc = -errno;
            what = "listen";
            close(fd);
            continue;
        }
        freeaddrinfo(res);
        return fd;
    }
    freeaddrinfo(res);
    return sl_err_set(err, rc, "listeners: %s %s:%d: %s", what, node, port, sl_strerror(rc));
}

int sl_server_create(struct sl_broker *b, uv_loop_t *loop, const char *host, int port,
                     int64_t max_request_bytes, struct sl_server **out, struct sl_err *err)
{
    *out = NULL;
    signal(SIGPIPE, SIG_IGN);
    int fd = listen_socket(host, port, err);
    if (fd < 0) {
        return fd;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        int rc = -errno;
        close(fd);
        return sl_err_set(err, rc, "listeners: getsockname: %s", strerror(-rc));
    }
    struct sl_server *s = calloc(1, sizeof(*s));
    if (!s) {
        close(fd);
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    s->broker = b;
    s->loop = loop;
    s->max_request_bytes = max_request_bytes;
    s->listen_fd = fd;
    s->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    /* The poll handle first: it is the only init that can fail, and nothing needs closing
     * yet if it does. */
    int rc = uv_poll_init(loop, &s->listen_poll, fd);
    if (rc != 0) {
        close(fd);
        free(s);
        return sl_err_set(err, rc, "listeners: poll: %s", uv_strerror(rc));
    }
    s->listen_poll.data = s;
    uv_idle_init(loop, &s->idle);
    s->idle.data = s;
    uv_timer_init(loop, &s->accept_timer);
    s->accept_timer.data = s;
    s->open_handles = 3;
    rc = uv_poll_start(&s->listen_poll, UV_READABLE, listen_cb);
    if (rc != 0) {
        /* The handles are closed by the loop; the memory goes with the last of them. */
        sl_server_destroy(s);
        return sl_err_set(err, rc, "listeners: poll: %s", uv_strerror(rc));
    }
    *out = s;
    return 0;
}

int sl_server_port(const struct sl_server *s)
{
    return s->port;
}

size_t sl_server_connections(const struct sl_server *s)
{
    return s->nconns;
}

void sl_server_stop(struct sl_server *s)
{
    if (s->stopping) {
        return;
    }
    s->stopping = 1;
    if (s->warn_suppressed) {
        sl_clog("broker:net", SL_LOG_WARN, "%" PRIu64 " more connection warnings suppressed",
                s->warn_suppressed);
        s->warn_suppressed = 0;
    }
    uv_close((uv_handle_t *)&s->listen_poll, server_handle_closed_cb);
    uv_close((uv_handle_t *)&s->idle, server_handle_closed_cb);
    uv_close((uv_handle_t *)&s->accept_timer, server_handle_closed_cb);
    s->ready = NULL;
    for (struct sl_conn *c = s->conns; c; c = c->next) {
        c->in_ready = 0;
        conn_close(c);
    }
}

void sl_server_destroy(struct sl_server *s)
{
    if (!s) {
        return;
    }
    sl_server_stop(s);
    s->destroy_pending = 1;
    if (s->open_handles == 0 && s->nconns == 0) {
        free(s);
    }
}
