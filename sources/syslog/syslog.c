/*
 * syslog.c - the syslog source: RFC 3164 / RFC 5424 messages over UDP, TCP, both on one port
 * (protocol udp+tcp), or a Unix datagram socket, parsed (syslog_parse.c) into an event per
 * message (syslog_event.c): Flume's headers (Facility, Severity, timestamp, host) plus app,
 * procid, msgid and sd.<id>.<param>; the body is MSG, or the whole line with keepFields. An
 * unparsable message is still an event, marked `syslog.status: Invalid`; a truncated one is
 * marked `Incomplete` (Flume's two values). Flume's clientIPHeader / clientHostnameHeader put
 * the sender's address / reverse-resolved name into a header; the name is looked up once per
 * TCP connection with uv_getnameinfo (the thread pool, never the loop), and that connection
 * is read only once the answer is in.
 *
 * TCP: framing decided per frame (RFC 6587): "<digits> <" starts an octet-counted frame
 * (a trailing LF or CRLF inside it is dropped), anything else is a line ended by LF, CRLF or
 * NUL. Frames longer than max-message-size are truncated and counted, the rest of the frame
 * skipped (Flume splits them instead: the rest starts a new event, without the message's
 * header). All frames of one read go into the channel in one put transaction;
 * when a channel is full every connection stops reading (TCP pushes back) and a timer retries.
 * The events of one read are carved from one slab (sl_event_slab), and a frame that lies
 * whole inside a read is parsed where it is, without a copy.
 *
 * UDP / unix: a raw non-blocking socket watched by uv_poll, read with recvmmsg in batches of
 * DGRAM_BATCH; one put transaction per batch. Datagrams cannot be pushed back: when the
 * channel is full the batch is dropped, counted (EventDroppedChannelFullCount, the ledger's
 * dropped.channel_full) and logged at most once a second with the count. With clientIPHeader
 * each datagram's sender comes with it (msg_name); its text is kept for the next datagram
 * from the same sender.
 *
 * Threads: everything here belongs to the source loop thread. Handles live inside their
 * owner; a connection is freed when both its close callback and its name lookup (if any) are
 * done, the datagram socket is closed in the poll handle's close callback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/net.h"
#include "agent/plugin.h"
#include "common/sl_log.h"
#include "common/sl_macros.h"
#include "sources/syslog/syslog_event.h"
#include "sources/syslog/syslog_parse.h"

#define RETRY_MS     20
#define READ_BUF     65536
#define DGRAM_BATCH  64    /* datagrams per recvmmsg, one put transaction */
#define DGRAM_ROUNDS 8     /* recvmmsg calls per wakeup before yielding to the loop */
#define DGRAM_MAX    65536 /* no datagram is larger */
#define OCTET_DIGITS 10    /* longest octet count we accept */

enum { P_UDP, P_TCP, P_UDP_TCP, P_UNIX };
enum { M_START, M_LINE, M_OCTET };

struct sy_conn;

struct sy_ctx {
    /* config */
    char *protocol;
    char *bind;
    int64_t port;
    char *path;
    int64_t max_msg;
    int64_t rcvbuf;
    char *keep;
    char *ip_header;
    char *host_header;
    /* state */
    struct sl_source *src;
    int proto;
    int has_tcp, has_dgram; /* from proto: udp+tcp has both */
    int keep_all;
    uv_tcp_t server;
    uv_poll_t poll;
    int fd;
    uv_timer_t retry;
    uv_timer_t droplog;
    struct sy_conn *conns;
    size_t handles;
    int paused;
    sl_done_cb done;
    int64_t last_pause_log_ms;
    uint64_t drops_unlogged, drops_total;
    int64_t last_drop_log_ms;
    int64_t last_err_log_ms;
    uint64_t emitted; /* messages made, not yet in the source's counters (one add per read) */
    int64_t now_ms;   /* wall clock at the current read: resolves 3164 dates without a year */
    /* datagrams */
    size_t slot;
    char *dbuf;
    struct mmsghdr msgs[DGRAM_BATCH];
    struct iovec iov[DGRAM_BATCH];
    struct sockaddr_storage names[DGRAM_BATCH];
    struct sl_event *batch[DGRAM_BATCH];
    struct sockaddr_storage last_peer; /* the sender whose address is in last_ip */
    char last_ip[INET6_ADDRSTRLEN];
    char rbuf[READ_BUF]; /* TCP: one read at a time on this loop */
};

struct sy_conn {
    uv_tcp_t h;
    struct sy_ctx *sy;
    struct sy_conn *prev, *next;
    int refs;             /* the handle, and the name lookup while it runs */
    uv_getnameinfo_t gni; /* clientHostnameHeader: the peer's name */
    int resolving;
    char ip[INET6_ADDRSTRLEN];  /* the peer's address, when clientIPHeader or ...HostnameHeader */
    char *hostname;             /* the lookup's answer (the address when it has no name) */
    struct sl_event_slab *slab; /* during one read: where its messages' events go */
    size_t rest;                /* bytes of that read not parsed yet (slab sizing) */
    char *frame;                /* max_msg bytes: a frame that spans reads */
    size_t len;
    int mode;
    int truncated;
    char hdr[OCTET_DIGITS + 1]; /* M_START: the digits of a possible octet count */
    size_t nhdr;
    int hdr_sp;
    uint64_t remaining; /* M_OCTET: bytes of the frame still to come */
    struct sl_event **pending;
    size_t npending, cap;
    struct sl_put_state put;
    int reading;
    int eof;
    int closing;
};

static const char *const protocols[] = {"udp", "tcp", "udp+tcp", "unix", NULL};
static const char *const keep_choices[] = {"false", "none", "true", "all", NULL};

#define OFF(f) offsetof(struct sy_ctx, f)
static const struct sl_conf_map sy_conf[] = {
    {"protocol", SL_CONF_STR, "udp", OFF(protocol), 0, 0, 0, protocols,
     "udp, tcp (newline or RFC 6587 octet-counted frames), udp+tcp (a UDP and a TCP socket on "
     "the same bind:port, as syslog's port 514 is both) or unix (datagram socket at path)"},
    {"bind", SL_CONF_STR, "0.0.0.0", OFF(bind), 0, 0, 0, NULL,
     "address or host name to listen on (udp, tcp)"},
    {"port", SL_CONF_INT, "-1", OFF(port), -1, 65535, 0, NULL,
     "port to listen on (udp, tcp; required; 0 = any free port)"},
    {"path", SL_CONF_STR, NULL, OFF(path), 0, 0, 0, NULL,
     "unix: the datagram socket to create (a stale socket there is replaced)"},
    {"max-message-size", SL_CONF_INT, "8192", OFF(max_msg), 64, 64 << 20, 0, NULL,
     "longest message in bytes; longer ones are truncated and counted (udp: at most 65535)"},
    {"recvBufferSize", SL_CONF_INT, "4194304", OFF(rcvbuf), 0, 1 << 30, 0, NULL,
     "udp, unix: SO_RCVBUF in bytes (0 = the system default)"},
    {"keepFields", SL_CONF_STR, "false", OFF(keep), 0, 0, 0, keep_choices,
     "true|all: the body is the whole message, not just MSG"},
    {"clientIPHeader", SL_CONF_STR, NULL, OFF(ip_header), 0, 0, 0, NULL,
     "header to put the sender's IP address in (udp, tcp; Flume's key)"},
    {"clientHostnameHeader", SL_CONF_STR, NULL, OFF(host_header), 0, 0, 0, NULL,
     "tcp only: header to put the sender's host name in (reverse lookup once per connection, "
     "off the event loop; the connection is read once it answers; the address if no name)"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL},
};

#define CNT(p)    __atomic_add_fetch(&(p), 1, __ATOMIC_RELAXED)
#define ADD(p, n) __atomic_add_fetch(&(p), (n), __ATOMIC_RELAXED)

/* ---- events ------------------------------------------------------------------------------ */

/*
 * The event for one message (parsed now): its body carved from *slab when it has room (a new
 * slab of about rest bytes replaces a full one), else its own allocation. truncated: cut to
 * max-message-size. NULL when out of memory.
 */
static struct sl_event *make_event(struct sy_ctx *sy, const char *line, size_t len, int truncated,
                                   int64_t now_ms, struct sl_event_slab **slab, size_t rest,
                                   const struct sl_syslog_extra *extra, size_t nextra)
{
    struct sl_syslog_msg m;
    sl_syslog_parse(line, len, now_ms, &m);
    struct sl_syslog_str body = sl_syslog_body(&m, line, len, sy->keep_all);
    struct sl_event *ev = NULL;
    if (slab && *slab) {
        ev = sl_event_slab_add(*slab, body.ptr, body.len);
        if (!ev) {
            sl_event_slab_release(*slab);
            size_t need = rest + rest / 4 + 4096;
            *slab = sl_event_slab_create(SL_MAX(need, sl_event_slab_cost(body.len)));
            ev = *slab ? sl_event_slab_add(*slab, body.ptr, body.len) : NULL;
        }
    }
    if (!ev) {
        ev = sl_event_create(body.ptr, body.len);
    }
    if (ev && sl_syslog_set_headers(ev, &m, truncated, extra, nextra) != 0) {
        sl_event_destroy(ev);
        ev = NULL;
    }
    return ev;
}

/* Publish the messages made since the last call: one atomic add per read, not one or two per
 * message. pending: they wait in a connection (TCP), not in hand (datagrams). Called before
 * anything commits them. */
static void counts_flush(struct sy_ctx *sy, int pending)
{
    if (sy->emitted) {
        ADD(sy->src->received, sy->emitted);
        if (pending) {
            ADD(sy->src->pending, sy->emitted);
        }
        sy->emitted = 0;
    }
}

static void log_oom(struct sy_ctx *sy, size_t len)
{
    CNT(sy->src->failed);
    sl_clog(sy->src->comp, SL_LOG_ERROR, "out of memory: a message of %zu bytes was dropped", len);
}

/* ---- handles ----------------------------------------------------------------------------- */

static void handle_done(struct sy_ctx *sy)
{
    if (--sy->handles == 0 && sy->done) {
        sl_done_cb done = sy->done;
        sy->done = NULL;
        done(sy->src);
    }
}

static void handle_closed(uv_handle_t *h)
{
    handle_done(h->data);
}

static void poll_closed(uv_handle_t *h)
{
    struct sy_ctx *sy = h->data;
    close(sy->fd);
    sy->fd = -1;
    if (sy->proto == P_UNIX && sy->path) {
        unlink(sy->path);
    }
    handle_done(sy);
}

/* ---- TCP --------------------------------------------------------------------------------- */

/* The handle is closed and the name lookup is over: free c. */
static void conn_unref(struct sy_conn *c)
{
    if (--c->refs > 0) {
        return;
    }
    struct sy_ctx *sy = c->sy;
    free(c->hostname);
    free(c);
    handle_done(sy);
}

static void conn_closed(uv_handle_t *h)
{
    struct sy_conn *c = (struct sy_conn *)h;
    struct sy_ctx *sy = c->sy;
    if (c->npending) {
        ADD(sy->src->lost_unacked, c->npending);
        __atomic_sub_fetch(&sy->src->pending, c->npending, __ATOMIC_RELAXED);
        sl_clog(sy->src->comp, SL_LOG_WARN,
                "connection closed with %zu messages not yet in the channel", c->npending);
    }
    for (size_t i = 0; i < c->npending; i++) {
        sl_event_destroy(c->pending[i]);
    }
    free(c->pending);
    free(c->frame);
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        sy->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    CNT(sy->src->conns_closed);
    conn_unref(c);
}

static void conn_close(struct sy_conn *c)
{
    if (!c->closing) {
        c->closing = 1;
        if (c->resolving) {
            uv_cancel((uv_req_t *)&c->gni); /* its callback still comes, ECANCELED */
        }
        uv_close((uv_handle_t *)&c->h, conn_closed);
    }
}

static void drop_front(struct sy_conn *c, size_t n)
{
    __atomic_sub_fetch(&c->sy->src->pending, n, __ATOMIC_RELAXED);
    memmove(c->pending, c->pending + n, (c->npending - n) * sizeof(*c->pending));
    c->npending -= n;
}

/* Commit pending messages (see sl_source_put_next). Returns 0 when none is left, SL_ERETRY
 * when a channel is full. A message that can never fit is dropped and counted. */
static int conn_flush(struct sy_conn *c)
{
    struct sl_source *s = c->sy->src;
    while (c->npending) {
        size_t done, at;
        int rc = sl_source_put_next(s, &c->put, c->pending, c->npending, 0, &done, &at);
        if (rc == SL_ERETRY) {
            return SL_ERETRY;
        }
        if (rc == 0) {
            if (done) {
                ADD(s->accepted, done);
                drop_front(c, done);
            }
            continue;
        }
        CNT(s->failed);
        sl_clog(s->comp, SL_LOG_WARN, "message of %zu bytes does not fit in channel %s: dropped%s",
                c->pending[0]->len, at < s->nchannels ? s->channels[at]->name : "?",
                at ? " there and in the channels after it" : "");
        sl_event_destroy(c->pending[0]);
        drop_front(c, 1);
    }
    return 0;
}

static void conn_emit(struct sy_conn *c, const char *data, size_t len, int truncated)
{
    struct sy_ctx *sy = c->sy;
    if (truncated) {
        CNT(sy->src->truncated);
    }
    struct sl_syslog_extra extra[2];
    size_t nextra = 0;
    if (sy->ip_header) {
        extra[nextra++] = (struct sl_syslog_extra){sy->ip_header, c->ip};
    }
    if (sy->host_header) {
        extra[nextra++] =
            (struct sl_syslog_extra){sy->host_header, c->hostname ? c->hostname : c->ip};
    }
    struct sl_event *ev =
        make_event(sy, data, len, truncated, sy->now_ms, &c->slab, c->rest, extra, nextra);
    struct sl_event **p = c->pending;
    if (ev && c->npending == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        p = realloc(c->pending, cap * sizeof(*p));
        if (p) {
            c->pending = p;
            c->cap = cap;
        }
    }
    if (!ev || !p) {
        sl_event_destroy(ev);
        CNT(sy->src->received);
        log_oom(sy, len);
        return;
    }
    c->pending[c->npending++] = ev;
    sy->emitted++; /* received and pending, by counts_flush */
}

static void frame_append(struct sy_conn *c, const char *p, size_t n)
{
    size_t room = (size_t)c->sy->max_msg - c->len;
    if (n > room) {
        c->truncated = 1;
        n = room;
    }
    memcpy(c->frame + c->len, p, n);
    c->len += n;
}

/* A whole frame: emit it (a line loses a trailing CR) and wait for the next one. */
static void frame_emit(struct sy_conn *c, const char *data, size_t len, int truncated)
{
    /* An octet-counted frame may end in LF (rsyslog's RFC 5424 forward template does):
     * dropped, as rsyslog and syslog-ng drop it on reception. */
    if (c->mode == M_OCTET && !truncated && len && data[len - 1] == '\n') {
        len--;
    }
    if (!truncated && len && data[len - 1] == '\r') {
        len--;
    }
    if (len || truncated) {
        conn_emit(c, data, len, truncated);
    }
    c->mode = M_START;
    c->len = 0;
    c->truncated = 0;
    c->nhdr = 0;
    c->hdr_sp = 0;
}

static void frame_end(struct sy_conn *c)
{
    frame_emit(c, c->frame, c->len, c->truncated);
}

/* A frame that lies whole in the read buffer: parsed where it is, no copy. */
static void frame_direct(struct sy_conn *c, const char *p, size_t len)
{
    size_t max = (size_t)c->sy->max_msg;
    frame_emit(c, p, SL_MIN(len, max), len > max);
}

/* M_START saw something that is not an octet count: its bytes begin a line. */
static void start_line(struct sy_conn *c)
{
    c->mode = M_LINE;
    frame_append(c, c->hdr, c->nhdr);
    c->nhdr = 0;
    c->hdr_sp = 0;
}

static void feed(struct sy_conn *c, const char *p, size_t n)
{
    const char *end = p + n;
    while (p < end) {
        if (c->mode == M_START) {
            char ch = *p;
            if (c->nhdr == 0 && (ch == '\n' || ch == '\r' || ch == '\0' || ch == ' ')) {
                p++; /* stray delimiters between frames */
            } else if (!c->hdr_sp && ch >= '0' && ch <= '9' && c->nhdr < OCTET_DIGITS) {
                c->hdr[c->nhdr++] = ch;
                p++;
            } else if (!c->hdr_sp && ch == ' ' && c->nhdr > 0) {
                c->hdr[c->nhdr++] = ' ';
                c->hdr_sp = 1;
                p++;
            } else if (c->hdr_sp && ch == '<') {
                uint64_t v = 0;
                for (size_t i = 0; i + 1 < c->nhdr; i++) {
                    v = v * 10 + (uint64_t)(c->hdr[i] - '0');
                }
                if (v == 0) {
                    start_line(c);
                    continue;
                }
                c->mode = M_OCTET;
                c->remaining = v;
                c->nhdr = 0;
                c->hdr_sp = 0; /* the '<' is the frame's first byte: no p++ */
            } else {
                start_line(c);
            }
        } else if (c->mode == M_LINE) {
            const char *q = memchr(p, '\n', (size_t)(end - p));
            if (!q) {
                q = end;
            }
            const char *z = memchr(p, '\0', (size_t)(q - p));
            if (z) {
                q = z;
            }
            c->rest = (size_t)(end - p);
            if (q < end && c->len == 0 && !c->truncated) {
                frame_direct(c, p, (size_t)(q - p));
                p = q + 1;
                continue;
            }
            frame_append(c, p, (size_t)(q - p));
            if (q == end) {
                return;
            }
            frame_end(c);
            p = q + 1;
        } else {
            c->rest = (size_t)(end - p);
            if (c->len == 0 && !c->truncated && c->remaining <= (uint64_t)(end - p)) {
                size_t whole = (size_t)c->remaining;
                c->remaining = 0;
                frame_direct(c, p, whole);
                p += whole;
                continue;
            }
            size_t take = (size_t)SL_MIN(c->remaining, (uint64_t)(end - p));
            frame_append(c, p, take);
            c->remaining -= take;
            p += take;
            if (c->remaining == 0) {
                frame_end(c);
            }
        }
    }
}

static void on_retry(uv_timer_t *t);
static void read_cb(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf);

static void tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct sy_conn *c = (struct sy_conn *)h;
    *buf = uv_buf_init(c->sy->rbuf, sizeof(c->sy->rbuf));
}

static void conn_read_start(struct sy_conn *c)
{
    if (!c->reading && !c->eof && !c->closing && !c->resolving) {
        if (uv_read_start((uv_stream_t *)&c->h, tcp_alloc, read_cb) == 0) {
            c->reading = 1;
        }
    }
}

static void pause_all(struct sy_ctx *sy)
{
    if (sy->paused) {
        return;
    }
    sy->paused = 1;
    size_t n = 0;
    for (struct sy_conn *c = sy->conns; c; c = c->next) {
        if (c->reading) {
            uv_read_stop((uv_stream_t *)&c->h);
            c->reading = 0;
            n++;
        }
    }
    if (sl_every_ms(&sy->last_pause_log_ms, 10000)) {
        sl_clog(sy->src->comp, SL_LOG_WARN,
                "channel full: stopped reading %zu connections until there is room", n);
    }
    uv_timer_start(&sy->retry, on_retry, RETRY_MS, RETRY_MS);
}

static void conn_maybe_finish(struct sy_conn *c)
{
    if (c->eof && c->npending == 0) {
        conn_close(c);
    }
}

static void retry_flush(struct sy_ctx *sy)
{
    struct sy_conn *next;
    for (struct sy_conn *c = sy->conns; c; c = next) {
        next = c->next;
        if (c->npending && conn_flush(c) == SL_ERETRY) {
            return; /* still full */
        }
        conn_maybe_finish(c);
    }
    sy->paused = 0;
    uv_timer_stop(&sy->retry);
    for (struct sy_conn *c = sy->conns; c; c = c->next) {
        conn_read_start(c);
    }
}

static void on_retry(uv_timer_t *t)
{
    retry_flush(t->data);
}

/* The channel has room again (source loop thread): resume at once rather than on the timer,
 * which stays as a fallback. */
static void sy_room(struct sl_source *s)
{
    struct sy_ctx *sy = s->ctx;
    if (sy->paused) {
        retry_flush(sy);
    }
}

static void read_cb(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf)
{
    struct sy_conn *c = (struct sy_conn *)h;
    struct sy_ctx *sy = c->sy;
    if (nread == 0) {
        return;
    }
    sy->now_ms = sl_now_ms();
    if (nread < 0) {
        uv_read_stop(h);
        c->reading = 0;
        c->eof = 1;
        /* A last frame without its delimiter, or an octet-counted frame cut short. */
        if (c->mode == M_START && c->nhdr) {
            start_line(c);
        }
        if (c->mode == M_OCTET) {
            c->truncated = 1;
        }
        if (c->mode != M_START) {
            c->rest = c->len;
            frame_end(c);
        }
    } else {
        ADD(sy->src->bytes_received, (uint64_t)nread);
        /* One allocation for the events of this read; it lives on in them. */
        size_t n = (size_t)nread;
        c->slab = sl_event_slab_create(n + n / 4 + 4096);
        feed(c, buf->base, n);
        sl_event_slab_release(c->slab);
        c->slab = NULL;
    }
    counts_flush(sy, 1);
    if (sy->paused) {
        return; /* the retry timer commits in order */
    }
    if (conn_flush(c) == SL_ERETRY) {
        pause_all(sy);
        return;
    }
    conn_maybe_finish(c);
}

/* The address of sa as text into out (INET6_ADDRSTRLEN bytes); "" if it is not IP. */
static void ip_text(const struct sockaddr_storage *sa, char *out)
{
    out[0] = '\0';
    if (sa->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, INET6_ADDRSTRLEN);
    } else if (sa->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) { /* an IPv4 sender on a dual-stack socket */
            inet_ntop(AF_INET, &a->s6_addr[12], out, INET6_ADDRSTRLEN);
        } else {
            inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN);
        }
    }
}

/* clientHostnameHeader: the peer's name is in (or the lookup failed or was cancelled). */
static void on_peer_name(uv_getnameinfo_t *req, int status, const char *hostname,
                         const char *service)
{
    struct sy_conn *c = req->data;
    c->resolving = 0;
    if (status == 0 && hostname && *hostname) {
        c->hostname = strdup(hostname); /* NULL (out of memory): the address stands in */
    }
    if (!c->closing && !c->sy->paused) {
        conn_read_start(c);
    }
    conn_unref(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct sy_ctx *sy = server->data;
    if (status < 0) {
        sl_clog(sy->src->comp, SL_LOG_WARN, "accept: %s", uv_strerror(status));
        return;
    }
    struct sy_conn *c = calloc(1, sizeof(*c));
    if (c) {
        c->frame = malloc((size_t)sy->max_msg);
    }
    if (!c || !c->frame) {
        free(c);
        return;
    }
    c->sy = sy;
    c->refs = 1;
    uv_tcp_init(server->loop, &c->h);
    sy->handles++;
    c->next = sy->conns;
    if (sy->conns) {
        sy->conns->prev = c;
    }
    sy->conns = c;
    CNT(sy->src->conns_created);
    if (uv_accept(server, (uv_stream_t *)&c->h) != 0) {
        conn_close(c);
        return;
    }
    if (sy->ip_header || sy->host_header) {
        struct sockaddr_storage peer;
        int len = sizeof(peer);
        if (uv_tcp_getpeername(&c->h, (struct sockaddr *)&peer, &len) == 0) {
            ip_text(&peer, c->ip);
            /* The name, off the loop; the connection is read once it is known, so that
             * every message of it carries the same header. */
            c->gni.data = c;
            if (sy->host_header && uv_getnameinfo(server->loop, &c->gni, on_peer_name,
                                                  (struct sockaddr *)&peer, 0) == 0) {
                c->resolving = 1;
                c->refs++;
                return;
            }
        }
    }
    if (!sy->paused) {
        conn_read_start(c);
    }
}

/* ---- datagrams --------------------------------------------------------------------------- */

static void log_drops(struct sy_ctx *sy)
{
    if (sy->drops_unlogged) {
        sl_clog(sy->src->comp, SL_LOG_WARN,
                "channel full: dropped %llu datagrams (%llu since start); datagram senders "
                "cannot be slowed down",
                (unsigned long long)sy->drops_unlogged, (unsigned long long)sy->drops_total);
        sy->drops_unlogged = 0;
        sy->last_drop_log_ms = sl_mono_ms();
    }
}

static void on_droplog(uv_timer_t *t)
{
    log_drops(t->data);
}

static void count_drops(struct sy_ctx *sy, size_t n)
{
    ADD(sy->src->dropped_full, n);
    sy->drops_unlogged += n;
    sy->drops_total += n;
    int64_t now = sl_mono_ms();
    if (now - sy->last_drop_log_ms >= 1000) {
        log_drops(sy);
    } else if (!uv_is_active((uv_handle_t *)&sy->droplog)) {
        uv_timer_start(&sy->droplog, on_droplog, (uint64_t)(1000 - (now - sy->last_drop_log_ms)),
                       0);
    }
}

/* Put evs[0..n) into the channels: one transaction per transactionCapacity; what does not
 * fit is dropped and counted. Takes the events. */
static void dgram_put(struct sy_ctx *sy, struct sl_event **evs, size_t n)
{
    struct sl_source *s = sy->src;
    struct sl_put_state put = {0};
    size_t i = 0;
    while (i < n) {
        size_t done, at;
        int rc = sl_source_put_next(s, &put, evs + i, n - i, 0, &done, &at);
        if (rc == 0) {
            ADD(s->accepted, done);
            i += done;
            continue;
        }
        if (rc == SL_ERETRY) {
            /* Full (perhaps after some channels took them: those keep theirs). */
            for (size_t j = i; j < n; j++) {
                sl_event_destroy(evs[j]);
            }
            count_drops(sy, n - i);
            return;
        }
        CNT(s->failed);
        sl_clog(s->comp, SL_LOG_WARN, "message of %zu bytes does not fit in channel %s: dropped%s",
                evs[i]->len, at < s->nchannels ? s->channels[at]->name : "?",
                at ? " there and in the channels after it" : "");
        sl_event_destroy(evs[i]);
        i++;
    }
}

/* The sender of datagram i as text (kept from the last datagram when it is the same one). */
static const char *dgram_peer(struct sy_ctx *sy, size_t i)
{
    const struct sockaddr_storage *a = &sy->names[i];
    socklen_t len = sy->msgs[i].msg_hdr.msg_namelen;
    if (len == 0 || len > sizeof(*a)) {
        return "";
    }
    if (memcmp(a, &sy->last_peer, len) != 0) {
        memset(&sy->last_peer, 0, sizeof(sy->last_peer));
        memcpy(&sy->last_peer, a, len);
        ip_text(a, sy->last_ip);
    }
    return sy->last_ip;
}

static void on_dgram(uv_poll_t *h, int status, int events)
{
    struct sy_ctx *sy = h->data;
    sy->now_ms = sl_now_ms();
    int want_peer = sy->ip_header != NULL;
    for (int round = 0; round < DGRAM_ROUNDS; round++) {
        for (size_t i = 0; i < DGRAM_BATCH; i++) {
            sy->iov[i].iov_base = sy->dbuf + i * sy->slot;
            sy->iov[i].iov_len = sy->slot;
            memset(&sy->msgs[i].msg_hdr, 0, sizeof(sy->msgs[i].msg_hdr));
            sy->msgs[i].msg_hdr.msg_iov = &sy->iov[i];
            sy->msgs[i].msg_hdr.msg_iovlen = 1;
            if (want_peer) {
                sy->msgs[i].msg_hdr.msg_name = &sy->names[i];
                sy->msgs[i].msg_hdr.msg_namelen = sizeof(sy->names[i]);
            }
        }
        int n = recvmmsg(sy->fd, sy->msgs, DGRAM_BATCH, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                if (sl_every_ms(&sy->last_err_log_ms, 10000)) {
                    sl_clog(sy->src->comp, SL_LOG_WARN, "recvmmsg: %s", strerror(errno));
                }
            }
            return;
        }
        size_t nev = 0, bytes = 0;
        for (int i = 0; i < n; i++) {
            bytes += SL_MIN(sy->msgs[i].msg_len, (size_t)sy->max_msg);
        }
        /* One allocation for the events of this batch; it lives on in them. */
        struct sl_event_slab *slab = sl_event_slab_create(bytes + bytes / 4 + 4096);
        for (int i = 0; i < n; i++) {
            const char *d = sy->iov[i].iov_base;
            size_t len = sy->msgs[i].msg_len;
            ADD(sy->src->bytes_received, len);
            int trunc = (sy->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
            if (len > (size_t)sy->max_msg) {
                len = (size_t)sy->max_msg;
                trunc = 1;
            }
            if (!trunc) {
                while (len && (d[len - 1] == '\n' || d[len - 1] == '\0')) {
                    len--;
                }
                if (len && d[len - 1] == '\r') {
                    len--;
                }
            }
            if (len == 0) {
                continue;
            }
            sy->emitted++;
            if (trunc) {
                CNT(sy->src->truncated);
            }
            struct sl_syslog_extra extra = {sy->ip_header,
                                            want_peer ? dgram_peer(sy, (size_t)i) : ""};
            struct sl_event *ev =
                make_event(sy, d, len, trunc, sy->now_ms, &slab, bytes, &extra, want_peer ? 1 : 0);
            if (!ev) {
                log_oom(sy, len);
                continue;
            }
            sy->batch[nev++] = ev;
        }
        sl_event_slab_release(slab);
        counts_flush(sy, 0);
        dgram_put(sy, sy->batch, nev);
        if (n < DGRAM_BATCH) {
            return; /* drained */
        }
    }
}

static void set_rcvbuf(struct sy_ctx *sy)
{
    if (sy->rcvbuf <= 0) {
        return;
    }
    int want = (int)sy->rcvbuf;
    /* SO_RCVBUFFORCE passes net.core.rmem_max when we may (CAP_NET_ADMIN). */
    if (setsockopt(sy->fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) != 0) {
        setsockopt(sy->fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
    }
    int got = 0;
    socklen_t gl = sizeof(got);
    getsockopt(sy->fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
    if (got < want) { /* Linux reports double what it was asked for */
        sl_clog(sy->src->comp, SL_LOG_WARN,
                "receive buffer is %d bytes, not the %d asked for (raise net.core.rmem_max)",
                got / 2, want);
    }
}

static int bound_port(const struct sockaddr_storage *ss)
{
    return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
                                          : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* The datagram socket: udp on bind:port (port: the configured one, or TCP's under udp+tcp),
 * or unix at path. */
static int dgram_open(struct sy_ctx *sy, int port, struct sl_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (sy->proto == P_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *)&ss;
        memset(&ss, 0, sizeof(ss));
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, sy->path, strlen(sy->path) + 1);
        sslen = (socklen_t)sizeof(*un);
        struct stat st;
        if (lstat(sy->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
            unlink(sy->path); /* a stale socket from an earlier run */
        }
    } else {
        int rc = sl_net_resolve_bind(sy->bind, port, SOCK_DGRAM, &ss, &sslen, err);
        if (rc != 0) {
            return rc;
        }
    }
    sy->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (sy->fd < 0) {
        return sl_err_set(err, -errno, "socket: %s", strerror(errno));
    }
    set_rcvbuf(sy);
    if (bind(sy->fd, (struct sockaddr *)&ss, sslen) != 0) {
        int e = errno;
        close(sy->fd);
        sy->fd = -1;
        if (sy->proto == P_UNIX) {
            return sl_err_set(err, -e, "bind %s: %s", sy->path, strerror(e));
        }
        return sl_err_set(err, -e, "listen on udp %s:%d: %s", sy->bind, port, strerror(e));
    }
    if (sy->proto == P_UNIX) {
        chmod(sy->path, 0666); /* like /dev/log: any local process may log */
        sl_clog(sy->src->comp, SL_LOG_INFO,
                "listening on unix datagram socket %s "
                "(max-message-size %lld)",
                sy->path, (long long)sy->max_msg);
    } else {
        struct sockaddr_storage got;
        socklen_t gl = sizeof(got);
        getsockname(sy->fd, (struct sockaddr *)&got, &gl);
        sl_clog(sy->src->comp, SL_LOG_INFO, "listening on udp %s:%d (max-message-size %lld)",
                sy->bind, bound_port(&got), (long long)sy->max_msg);
    }
    return 0;
}

/* The datagram side: socket, poll handle and drop-log timer. */
static int dgram_start(struct sy_ctx *sy, uv_loop_t *loop, int port, struct sl_err *err)
{
    sy->slot = (size_t)SL_MIN(sy->max_msg, DGRAM_MAX);
    sy->dbuf = malloc(sy->slot * DGRAM_BATCH);
    if (!sy->dbuf) {
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    int rc = dgram_open(sy, port, err);
    if (rc != 0) {
        return rc;
    }
    uv_timer_init(loop, &sy->droplog);
    sy->droplog.data = sy;
    sy->handles++;
    rc = uv_poll_init(loop, &sy->poll, sy->fd);
    if (rc == 0) {
        sy->poll.data = sy;
        sy->handles++;
        rc = uv_poll_start(&sy->poll, UV_READABLE, on_dgram);
        if (rc != 0) {
            uv_close((uv_handle_t *)&sy->poll, poll_closed);
        }
    } else {
        close(sy->fd);
        sy->fd = -1;
    }
    if (rc != 0) {
        uv_close((uv_handle_t *)&sy->droplog, handle_closed);
        return sl_err_set(err, rc, "poll: %s", uv_strerror(rc));
    }
    return 0;
}

static void dgram_stop(struct sy_ctx *sy)
{
    log_drops(sy);
    uv_poll_stop(&sy->poll);
    uv_close((uv_handle_t *)&sy->poll, poll_closed);
    uv_close((uv_handle_t *)&sy->droplog, handle_closed);
}

/* The TCP side: listening socket and retry timer. *port: the port it is bound to. */
static int tcp_start(struct sy_ctx *sy, uv_loop_t *loop, int *port, struct sl_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    int rc = sl_net_resolve_bind(sy->bind, (int)sy->port, SOCK_STREAM, &ss, &sslen, err);
    if (rc != 0) {
        return rc;
    }
    uv_tcp_init(loop, &sy->server);
    uv_timer_init(loop, &sy->retry);
    sy->server.data = sy->retry.data = sy;
    sy->handles += 2;
    rc = uv_tcp_bind(&sy->server, (struct sockaddr *)&ss, 0);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&sy->server, 128, on_connection);
    }
    if (rc != 0) {
        sl_err_set(err, rc, "listen on tcp %s:%lld: %s", sy->bind, (long long)sy->port,
                   uv_strerror(rc));
        uv_close((uv_handle_t *)&sy->server, handle_closed);
        uv_close((uv_handle_t *)&sy->retry, handle_closed);
        return rc;
    }
    struct sockaddr_storage got;
    int gl = sizeof(got);
    uv_tcp_getsockname(&sy->server, (struct sockaddr *)&got, &gl);
    *port = bound_port(&got);
    sl_clog(sy->src->comp, SL_LOG_INFO, "listening on tcp %s:%d (max-message-size %lld)", sy->bind,
            *port, (long long)sy->max_msg);
    return 0;
}

static void tcp_stop(struct sy_ctx *sy)
{
    uv_close((uv_handle_t *)&sy->server, handle_closed);
    uv_close((uv_handle_t *)&sy->retry, handle_closed);
    for (struct sy_conn *c = sy->conns; c; c = c->next) {
        conn_close(c);
    }
}

/* ---- ops --------------------------------------------------------------------------------- */

static int sy_init(struct sl_source *s, struct sl_err *err)
{
    struct sy_ctx *sy = s->ctx;
    sy->src = s;
    sy->fd = -1;
    sy->proto = strcmp(sy->protocol, "tcp") == 0       ? P_TCP
                : strcmp(sy->protocol, "udp+tcp") == 0 ? P_UDP_TCP
                : strcmp(sy->protocol, "unix") == 0    ? P_UNIX
                                                       : P_UDP;
    sy->has_tcp = sy->proto == P_TCP || sy->proto == P_UDP_TCP;
    sy->has_dgram = !sy->has_tcp || sy->proto == P_UDP_TCP;
    sy->keep_all = strcmp(sy->keep, "true") == 0 || strcmp(sy->keep, "all") == 0;
    if (sy->proto == P_UNIX) {
        if (!sy->path || !*sy->path) {
            return sl_err_set(err, SL_ECONFIG, "protocol unix needs a path");
        }
        if (strlen(sy->path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            return sl_err_set(err, SL_ECONFIG, "path is longer than a unix socket path may be");
        }
        if (sy->ip_header) {
            return sl_err_set(err, SL_ECONFIG,
                              "clientIPHeader: a unix socket's senders have no IP address "
                              "(protocol udp, tcp or udp+tcp)");
        }
    } else if (sy->port < 0) {
        return sl_err_set(err, SL_ECONFIG, "protocol %s needs a port", sy->protocol);
    }
    if (sy->host_header && sy->proto != P_TCP) {
        /* A lookup per datagram sender would either block the loop or hold datagrams back
         * and reorder them; a connection is looked up once, before it is read. */
        return sl_err_set(err, SL_ECONFIG,
                          "clientHostnameHeader works with protocol tcp only, not %s "
                          "(use clientIPHeader)",
                          sy->protocol);
    }
    if ((sy->ip_header && !*sy->ip_header) || (sy->host_header && !*sy->host_header)) {
        return sl_err_set(err, SL_ECONFIG, "%s: a header name may not be empty",
                          sy->ip_header && !*sy->ip_header ? "clientIPHeader"
                                                           : "clientHostnameHeader");
    }
    return 0;
}

static int sy_start(struct sl_source *s, uv_loop_t *loop, struct sl_err *err)
{
    struct sy_ctx *sy = s->ctx;
    int port = (int)sy->port;
    if (sy->has_tcp) {
        int rc = tcp_start(sy, loop, &port, err);
        if (rc != 0) {
            return rc;
        }
    }
    if (sy->has_dgram) {
        /* udp+tcp: the UDP socket takes TCP's port, also when port 0 let TCP pick one. */
        int rc = dgram_start(sy, loop, port, err);
        if (rc != 0) {
            if (sy->has_tcp) {
                tcp_stop(sy);
            }
            return rc;
        }
    }
    return 0;
}

static void sy_stop(struct sl_source *s, sl_done_cb done)
{
    struct sy_ctx *sy = s->ctx;
    sy->done = done;
    if (sy->has_tcp) {
        tcp_stop(sy);
    }
    if (sy->has_dgram) {
        dgram_stop(sy);
    }
}

static void sy_fini(struct sl_source *s)
{
    struct sy_ctx *sy = s->ctx;
    free(sy->dbuf);
    sy->dbuf = NULL;
}

const struct sl_source_ops sl_syslog_source_ops = {
    .name = "syslog",
    .conf = sy_conf,
    .ctx_size = sizeof(struct sy_ctx),
    .init = sy_init,
    .start = sy_start,
    .stop = sy_stop,
    .fini = sy_fini,
    .room = sy_room,
};
