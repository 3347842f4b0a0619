/*
 * metrics.c - the agent's HTTP endpoint (libmicrohttpd): GET /metrics (Prometheus text),
 * GET /metrics.json (Flume's JSON shape: {"SOURCE.r1": {"Type": "SOURCE", ...}}), GET
 * /health, and the loss ledger: received = delivered + buffered + dropped (by reason), in
 * event copies (an event a source puts into two channels counts twice).
 *
 * With an embedded broker, also the broker's counters: bytes and messages in, bytes out,
 * and per API the request count and summed handling time (Prometheus: a _sum without a
 * histogram; /metrics.json: a "broker" object with Kafka-like names, totals not rates).
 *
 * Threads: libmicrohttpd's own thread serves requests; it only reads counters (relaxed
 * atomics) and channel stats (thread-safe ops) of an agent that outlives the daemon, and the
 * embedded broker's counters through sl_broker_metrics_read: sl_agent_run stops this daemon
 * (joining its thread) before it stops and destroys the broker.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/sinkgroup.h"
#include "broker/api.h"
#include "common/sl_log.h"
#include "common/sl_macros.h"
#include "channels/file/file.h"
#include "sources/tail/tail.h"

#define LD(p) ((unsigned long long)__atomic_load_n(&(p), __ATOMIC_RELAXED))

struct buf {
    char *p;
    size_t n, cap;
    int oom;
};

__attribute__((format(printf, 2, 3))) static void bprintf(struct buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && b->n + (size_t)n < b->cap) {
            b->n += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + (size_t)n + 1) {
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

struct metric {
    const char *name; /* Flume's counter name */
    unsigned long long v;
};

/* One component's counters, the same list for both formats. */
static size_t source_metrics(const struct sl_source *s, struct metric *m)
{
    size_t n = 0;
    m[n++] = (struct metric){"EventReceivedCount", LD(s->received)};
    m[n++] = (struct metric){"EventAcceptedCount", LD(s->accepted)};
    m[n++] = (struct metric){"EventReadFailCount", LD(s->failed)};
    m[n++] = (struct metric){"EventTruncatedCount", LD(s->truncated)};
    m[n++] = (struct metric){"EventPendingCount", LD(s->pending)};
    m[n++] = (struct metric){"EventLostUnacknowledgedCount", LD(s->lost_unacked)};
    m[n++] = (struct metric){"EventDroppedChannelFullCount", LD(s->dropped_full)};
    m[n++] = (struct metric){"EventFilteredCount", LD(s->filtered)};
    m[n++] = (struct metric){"EventUnroutedCount", LD(s->unrouted)};
    m[n++] = (struct metric){"EventDroppedOptionalChannelCount", LD(s->dropped_optional)};
    m[n++] = (struct metric){"OpenConnectionCount", LD(s->conns_created) - LD(s->conns_closed)};
    m[n++] = (struct metric){"ConnectionCreatedCount", LD(s->conns_created)};
    m[n++] = (struct metric){"ConnectionClosedCount", LD(s->conns_closed)};
    m[n++] = (struct metric){"BytesReceivedCount", LD(s->bytes_received)};
    if (s->ops == &sl_tail_source_ops) {
        struct sl_tail_stats ts;
        sl_tail_source_stats(s, &ts);
        m[n++] = (struct metric){"FileResetCount", ts.resets};
        m[n++] = (struct metric){"FileOpenCount", ts.open_files};
        m[n++] = (struct metric){"FileTrackedCount", ts.tracked};
    }
    return n;
}

static size_t channel_metrics(struct sl_channel *c, struct metric *m, double *fill)
{
    struct sl_chan_stats st;
    c->ops->stats(c, &st);
    *fill = st.capacity ? 100.0 * (double)st.size / (double)st.capacity : 0.0;
    size_t n = 0;
    m[n++] = (struct metric){"ChannelSize", st.size};
    m[n++] = (struct metric){"ChannelCapacity", st.capacity};
    m[n++] = (struct metric){"ChannelBytes", st.bytes};
    m[n++] = (struct metric){"EventPutAttemptCount", LD(c->put_attempts)};
    m[n++] = (struct metric){"EventPutSuccessCount", LD(c->put_successes)};
    m[n++] = (struct metric){"EventTakeAttemptCount", LD(c->take_attempts)};
    m[n++] = (struct metric){"EventTakeSuccessCount", LD(c->take_successes)};
    if (c->ops == &sl_file_channel_ops) {
        struct sl_file_chan_stats fs;
        sl_file_channel_stats(c, &fs);
        m[n++] = (struct metric){"BytesOnDisk", fs.bytes_on_disk};
        m[n++] = (struct metric){"FsyncCount", fs.fsyncs};
        m[n++] = (struct metric){"CorruptBatchSkippedCount", fs.corrupt_batches};
        m[n++] = (struct metric){"CorruptEventSkippedCount", fs.corrupt_events};
        m[n++] = (struct metric){"PutRefusedLowSpaceCount", fs.space_refusals};
        m[n++] = (struct metric){"ChannelFailed", (unsigned long long)fs.failed};
    }
    return n;
}

static size_t sink_metrics(struct sl_sink *k, struct metric *m)
{
    size_t n = 0;
    m[n++] = (struct metric){"EventDrainAttemptCount", LD(k->drain_attempts)};
    m[n++] = (struct metric){"EventDrainSuccessCount", LD(k->drain_successes)};
    m[n++] = (struct metric){"RollbackCount", LD(k->rollbacks)};
    m[n++] = (struct metric){"BatchEmptyCount", LD(k->batches_empty)};
    m[n++] = (struct metric){"BatchCompleteCount", LD(k->batches_complete)};
    return n;
}

struct ledger {
    unsigned long long received, delivered, buffered, dropped_too_large, dropped_unacked,
        dropped_full;
    /* interceptors filtered out; no channel selected; optional channel had no room */
    unsigned long long dropped_filtered, dropped_unrouted, dropped_optional;
};

static void ledger(struct sl_agent *a, struct ledger *l)
{
    memset(l, 0, sizeof(*l));
    for (size_t i = 0; i < a->nsources; i++) {
        struct sl_source *s = &a->sources[i];
        unsigned long long fan = s->nchannels;
        l->received += LD(s->received) * fan;
        l->dropped_too_large += LD(s->failed) * fan;
        l->dropped_unacked += LD(s->lost_unacked) * fan;
        l->dropped_full += LD(s->dropped_full) * fan;
        /* A selector sends an event to fewer (or no) channels than the source lists. */
        l->received += (unsigned long long)__atomic_load_n(&s->fanout_adjust, __ATOMIC_RELAXED);
        l->dropped_filtered += LD(s->filtered) * fan;
        l->dropped_unrouted += LD(s->unrouted) * fan;
        l->dropped_optional += LD(s->dropped_optional);
        l->buffered += LD(s->pending) * fan;
    }
    for (size_t i = 0; i < a->nchannels; i++) {
        struct sl_chan_stats st;
        a->channels[i].ops->stats(&a->channels[i], &st);
        l->buffered += st.size;
    }
    for (size_t i = 0; i < a->nsinks; i++) {
        l->delivered += LD(a->sinks[i].drain_successes);
    }
}

/* "EventReceivedCount" → "event_received_count" */
static void snake(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; in[i] && o + 2 < len; i++) {
        if (isupper((unsigned char)in[i])) {
            if (i) {
                out[o++] = '_';
            }
            out[o++] = (char)tolower((unsigned char)in[i]);
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
}

static void json_component(struct buf *b, int *first, const char *kind, const char *name,
                           const char *type, const struct metric *m, size_t n, double fill)
{
    bprintf(b, "%s\n  \"%s.%s\": {\"Type\": \"%s\", \"PluginType\": \"%s\"", *first ? "" : ",",
            kind, name, kind, type);
    *first = 0;
    for (size_t i = 0; i < n; i++) {
        bprintf(b, ", \"%s\": \"%llu\"", m[i].name, m[i].v);
    }
    if (fill >= 0) {
        bprintf(b, ", \"ChannelFillPercentage\": \"%.1f\"", fill);
    }
    bprintf(b, "}");
}

static void prom_component(struct buf *b, const char *kind, const char *name, const char *type,
                           const char *agent, const struct metric *m, size_t n, double fill)
{
    for (size_t i = 0; i < n; i++) {
        char s[128];
        snake(m[i].name, s, sizeof(s));
        size_t kl = strlen(kind);
        const char *short_name = strncmp(s, kind, kl) == 0 && s[kl] == '_' ? s + kl + 1 : s;
        bprintf(b, "sluice_%s_%s{agent=\"%s\",%s=\"%s\",type=\"%s\"} %llu\n", kind, short_name,
                agent, kind, name, type, m[i].v);
    }
    if (fill >= 0) {
        bprintf(b, "sluice_%s_fill_percentage{agent=\"%s\",%s=\"%s\",type=\"%s\"} %.1f\n", kind,
                agent, kind, name, type, fill);
    }
}

/* The embedded broker's counters; APIs that have seen no request are left out. */
static void render_broker(const struct sl_broker *br, int json, struct buf *b)
{
    struct sl_broker_metrics m;
    sl_broker_metrics_read(br, &m);
    if (json) {
        bprintf(b,
                ",\n  \"broker\": {\"Type\": \"BROKER\", \"BytesInTotal\": \"%llu\", "
                "\"BytesOutTotal\": \"%llu\", \"MessagesInTotal\": \"%llu\", \"Requests\": {",
                (unsigned long long)m.bytes_in, (unsigned long long)m.bytes_out,
                (unsigned long long)m.messages_in);
    } else {
        bprintf(b, "sluice_broker_bytes_in_total %llu\n", (unsigned long long)m.bytes_in);
        bprintf(b, "sluice_broker_bytes_out_total %llu\n", (unsigned long long)m.bytes_out);
        bprintf(b, "sluice_broker_messages_in_total %llu\n", (unsigned long long)m.messages_in);
    }
    int first = 1;
    for (int i = 0; i < sl_api_table_len; i++) {
        const struct sl_api *api = &sl_api_table[i];
        if (api->key < 0 || api->key >= SL_BROKER_METRICS_API_KEYS || !m.api[api->key].requests) {
            continue;
        }
        const struct sl_broker_api_metrics *am = &m.api[api->key];
        if (json) {
            bprintf(b, "%s\"%s\": {\"RequestsTotal\": \"%llu\", \"TotalTimeMsSum\": \"%.3f\"}",
                    first ? "" : ", ", api->name, (unsigned long long)am->requests,
                    (double)am->time_us_sum / 1e3);
        } else {
            bprintf(b, "sluice_broker_requests_total{api=\"%s\"} %llu\n", api->name,
                    (unsigned long long)am->requests);
            bprintf(b, "sluice_broker_request_latency_seconds_sum{api=\"%s\"} %.6f\n", api->name,
                    (double)am->time_us_sum / 1e6);
        }
        first = 0;
    }
    if (json) {
        bprintf(b, "}}");
    }
}

/* Sink groups (failover, load_balance): the active sink, and per member its batches,
 * failures and what is left of its penalty or backoff. */
static void render_groups(struct sl_agent *a, int json, struct buf *b, int *first)
{
    int64_t now = sl_mono_ms();
    for (size_t i = 0; i < a->ngroups; i++) {
        struct sl_sinkgroup *g = &a->groups[i];
        if (g->kind == SL_SGP_DEFAULT) {
            continue;
        }
        int active = __atomic_load_n(&g->active, __ATOMIC_RELAXED);
        if (json) {
            bprintf(b,
                    "%s\n  \"SINKGROUP.%s\": {\"Type\": \"SINKGROUP\", \"PluginType\": \"%s\", "
                    "\"ActiveSink\": \"%s\", \"AllSinksFailedCount\": \"%llu\", \"Sinks\": {",
                    *first ? "" : ",", g->name, g->type_name,
                    active >= 0 ? g->members[active].sink->name : "", LD(g->all_failed));
            *first = 0;
        } else {
            bprintf(b, "sluice_sinkgroup_all_failed_total{agent=\"%s\",sinkgroup=\"%s\",type=\"%s\"} "
                       "%llu\n",
                    a->name, g->name, g->type_name, LD(g->all_failed));
        }
        for (size_t j = 0; j < g->nmembers; j++) {
            struct sl_sg_member *m = &g->members[j];
            int64_t until = __atomic_load_n(&m->until_ms, __ATOMIC_RELAXED);
            unsigned long long left = until > now ? (unsigned long long)(until - now) : 0;
            if (json) {
                bprintf(b,
                        "%s\"%s\": {\"Active\": \"%d\", \"BatchCount\": \"%llu\", "
                        "\"FailureCount\": \"%llu\", \"ConsecutiveFailureCount\": \"%llu\", "
                        "\"PenaltyRemainingMs\": \"%llu\"}",
                        j ? ", " : "", m->sink->name, active == (int)j, LD(m->batches),
                        LD(m->failures_total), LD(m->fails), left);
                continue;
            }
            char labels[400];
            snprintf(labels, sizeof(labels), "agent=\"%s\",sinkgroup=\"%s\",type=\"%s\",sink=\"%s\"",
                     a->name, g->name, g->type_name, m->sink->name);
            bprintf(b, "sluice_sinkgroup_active{%s} %d\n", labels, active == (int)j);
            bprintf(b, "sluice_sinkgroup_sink_batches_total{%s} %llu\n", labels, LD(m->batches));
            bprintf(b, "sluice_sinkgroup_sink_failures_total{%s} %llu\n", labels,
                    LD(m->failures_total));
            bprintf(b, "sluice_sinkgroup_sink_consecutive_failures{%s} %llu\n", labels,
                    LD(m->fails));
            bprintf(b, "sluice_sinkgroup_sink_penalty_remaining_ms{%s} %llu\n", labels, left);
        }
        if (json) {
            bprintf(b, "}}");
        }
    }
}

static void render(struct sl_agent *a, int json, struct buf *b)
{
    struct metric m[32]; /* room for the longest component list */
    int first = 1;
    if (json) {
        bprintf(b, "{");
    }
    for (size_t i = 0; i < a->nsources; i++) {
        struct sl_source *s = &a->sources[i];
        size_t n = source_metrics(s, m);
        if (json) {
            json_component(b, &first, "SOURCE", s->name, s->ops->name, m, n, -1);
        } else {
            prom_component(b, "source", s->name, s->ops->name, a->name, m, n, -1);
        }
    }
    for (size_t i = 0; i < a->nchannels; i++) {
        struct sl_channel *c = &a->channels[i];
        double fill;
        size_t n = channel_metrics(c, m, &fill);
        if (json) {
            json_component(b, &first, "CHANNEL", c->name, c->ops->name, m, n, fill);
        } else {
            prom_component(b, "channel", c->name, c->ops->name, a->name, m, n, fill);
        }
    }
    for (size_t i = 0; i < a->nsinks; i++) {
        struct sl_sink *k = &a->sinks[i];
        size_t n = sink_metrics(k, m);
        if (json) {
            json_component(b, &first, "SINK", k->name, k->ops->name, m, n, -1);
        } else {
            prom_component(b, "sink", k->name, k->ops->name, a->name, m, n, -1);
        }
    }
    render_groups(a, json, b, &first);
    if (a->broker) {
        render_broker(a->broker, json, b);
    }
    struct ledger l;
    ledger(a, &l);
    unsigned long long accounted =
        l.delivered + l.buffered + l.dropped_too_large + l.dropped_unacked + l.dropped_full +
        l.dropped_filtered + l.dropped_unrouted + l.dropped_optional;
    if (json) {
        bprintf(b,
                ",\n  \"LEDGER.%s\": {\"Type\": \"LEDGER\", \"received\": \"%llu\", "
                "\"delivered\": \"%llu\", \"buffered\": \"%llu\", \"dropped\": "
                "{\"too_large\": \"%llu\", \"unacknowledged_at_close\": \"%llu\", "
                "\"channel_full\": \"%llu\", \"filtered\": \"%llu\", \"unrouted\": "
                "\"%llu\", \"optional_channel_full\": \"%llu\"}, \"unaccounted\": "
                "\"%lld\"}\n}\n",
                a->name, l.received, l.delivered, l.buffered, l.dropped_too_large,
                l.dropped_unacked, l.dropped_full, l.dropped_filtered, l.dropped_unrouted,
                l.dropped_optional, (long long)(l.received - accounted));
    } else {
        bprintf(b, "sluice_ledger_received_total{agent=\"%s\"} %llu\n", a->name, l.received);
        bprintf(b, "sluice_ledger_delivered_total{agent=\"%s\"} %llu\n", a->name, l.delivered);
        bprintf(b, "sluice_ledger_buffered{agent=\"%s\"} %llu\n", a->name, l.buffered);
        bprintf(b, "sluice_ledger_dropped_total{agent=\"%s\",reason=\"too_large\"} %llu\n", a->name,
                l.dropped_too_large);
        bprintf(b,
                "sluice_ledger_dropped_total{agent=\"%s\",reason=\"unacknowledged_at_close\"} "
                "%llu\n",
                a->name, l.dropped_unacked);
        bprintf(b, "sluice_ledger_dropped_total{agent=\"%s\",reason=\"channel_full\"} %llu\n",
                a->name, l.dropped_full);
        bprintf(b, "sluice_ledger_dropped_total{agent=\"%s\",reason=\"filtered\"} %llu\n",
                a->name, l.dropped_filtered);
        bprintf(b, "sluice_ledger_dropped_total{agent=\"%s\",reason=\"unrouted\"} %llu\n",
                a->name, l.dropped_unrouted);
        bprintf(b,
                "sluice_ledger_dropped_total{agent=\"%s\",reason=\"optional_channel_full\"} "
                "%llu\n",
                a->name, l.dropped_optional);
    }
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             struct buf *b)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(b->n, b->p, MHD_RESPMEM_MUST_FREE);
    b->p = NULL;
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_size, void **con_cls)
{
    struct sl_agent *a = cls;
    struct buf b = {0};
    if (strcmp(method, "GET") != 0) {
        bprintf(&b, "only GET\n");
        return b.oom ? MHD_NO : reply(conn, 405, "text/plain", &b);
    }
    if (strcmp(url, "/metrics") == 0) {
        render(a, 0, &b);
        return b.oom ? MHD_NO : reply(conn, 200, "text/plain; version=0.0.4", &b);
    }
    if (strcmp(url, "/metrics.json") == 0) {
        render(a, 1, &b);
        return b.oom ? MHD_NO : reply(conn, 200, "application/json", &b);
    }
    if (strcmp(url, "/health") == 0) {
        bprintf(&b, "{\"status\": \"UP\", \"agent\": \"%s\"}\n", a->name);
        return b.oom ? MHD_NO : reply(conn, 200, "application/json", &b);
    }
    bprintf(&b, "not found: try /metrics, /metrics.json or /health\n");
    return b.oom ? MHD_NO : reply(conn, 404, "text/plain", &b);
}

int sl_metrics_start(struct sl_agent *a)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)a->metrics_port);
    if (inet_pton(AF_INET, a->metrics_bind, &sin.sin_addr) != 1) {
        sl_log(SL_LOG_ERROR, "metrics: bind must be an IPv4 address, not '%s'", a->metrics_bind);
        return SL_ECONFIG;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)a->metrics_port, NULL, NULL,
        handler, a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)10, MHD_OPTION_END);
    if (!d) {
        sl_log(SL_LOG_ERROR, "metrics: cannot listen on %s:%lld", a->metrics_bind,
               (long long)a->metrics_port);
        return -EADDRINUSE;
    }
    a->metrics = d;
    sl_log(SL_LOG_INFO, "metrics on http://%s:%lld/metrics (also /metrics.json, /health)",
           a->metrics_bind, (long long)a->metrics_port);
    return 0;
}

void sl_metrics_stop(struct sl_agent *a)
{
    if (a->metrics) {
        MHD_stop_daemon(a->metrics);
        a->metrics = NULL;
    }
}
