/*
 * kafka.c - the kafka sink (Flume's KafkaSink on librdkafka): every event of a batch becomes a
 * record (body as value; topic, key, partition and timestamp optionally from headers; the
 * event headers as record headers), then the sink waits for every delivery report. Only when
 * all of them succeeded does deliver return SL_OK and the runtime commit the take; any
 * failure rolls the whole batch back (at least once: a retried batch may repeat records).
 * A broker that is down makes deliver wait, so the channel fills and the sources push back:
 * nothing is dropped.
 *
 * Threads: the ctx belongs to the sink's thread; librdkafka's own threads only call log_cb
 * (rate-limited, reads only comp). Delivery reports run inside rd_kafka_poll on the sink's
 * thread.
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#include "agent/plugin.h"
#include "common/sl_log.h"
#include "common/sl_macros.h"

struct kafka_ctx {
    /* config */
    char *topic;
    char *bootstrap;
    int64_t batch_size;
    char *acks;
    int64_t linger_ms;
    char *compression;
    struct sl_conf_kv producer; /* kafka.producer.* */
    int allow_topic_override;
    char *topic_header;
    char *key_header;
    char *partition_header;
    int64_t default_partition;
    char *timestamp_header;
    int use_flume_event_format;
    struct sl_conf_kv header_map; /* header.<flume header> = <kafka header> */
    /* state */
    rd_kafka_conf_t *conf; /* built at init (validates the keys), consumed at start */
    rd_kafka_t *rk;
    const char *comp;
    int64_t last_log_ms; /* atomic: log_cb rate limit */
    int64_t last_warn_ms;
};

struct kbatch {
    size_t pending;
    size_t failed;
    rd_kafka_resp_err_t err;
};

static const char *const acks_choices[] = {"0", "1", "-1", "all", NULL};
static const char *const codec_choices[] = {"none", "gzip", "snappy", "lz4", "zstd", NULL};

#define OFF(f) offsetof(struct kafka_ctx, f)
static const struct sl_conf_map kafka_conf[] = {
    {"topic", SL_CONF_STR, "default-flume-topic", OFF(topic), 0, 0, 0, NULL,
     "topic to produce to (an event's topicHeader overrides it)"},
    {"bootstrap.servers", SL_CONF_STR, NULL, OFF(bootstrap), 0, 0, 0, NULL,
     "host:port list; absent = the embedded broker"},
    {"batchSize", SL_CONF_INT, "100", OFF(batch_size), 1, 1000000, 0, NULL,
     "events per take transaction (Flume's flumeBatchSize)"},
    {"acks", SL_CONF_STR, "1", OFF(acks), 0, 0, 0, acks_choices,
     "broker acknowledgements required: 0, 1, -1/all"},
    {"linger.ms", SL_CONF_INT, "5", OFF(linger_ms), 0, 900000, 0, NULL,
     "how long the producer waits to fill a request"},
    {"compression.type", SL_CONF_STR, "none", OFF(compression), 0, 0, 0, codec_choices,
     "record batch compression"},
    {"kafka.producer.", SL_CONF_PREFIX, NULL, OFF(producer), 0, 0, 0, NULL,
     "any librdkafka producer property, passed through"},
    {"allowTopicOverride", SL_CONF_BOOL, "true", OFF(allow_topic_override), 0, 0, 0, NULL,
     "let topicHeader choose the topic"},
    {"topicHeader", SL_CONF_STR, "topic", OFF(topic_header), 0, 0, 0, NULL,
     "header naming an event's topic"},
    {"keyHeader", SL_CONF_STR, "key", OFF(key_header), 0, 0, 0, NULL,
     "header whose value is the record key"},
    {"partitionIdHeader", SL_CONF_STR, NULL, OFF(partition_header), 0, 0, 0, NULL,
     "header naming the partition"},
    {"defaultPartitionId", SL_CONF_INT, "-1", OFF(default_partition), -1, INT32_MAX, 0, NULL,
     "fixed partition; -1 = the partitioner decides"},
    {"timestampHeader", SL_CONF_STR, NULL, OFF(timestamp_header), 0, 0, 0, NULL,
     "header holding the record timestamp (epoch ms)"},
    {"useFlumeEventFormat", SL_CONF_BOOL, "false", OFF(use_flume_event_format), 0, 0, 0, NULL,
     "wrap events in Flume's Avro format (not supported: must be false)"},
    {"header.", SL_CONF_PREFIX, NULL, OFF(header_map), 0, 0, 0, NULL,
     "header.<event header> = <record header name>: rename a header"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL},
};

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    struct kafka_ctx *c = rd_kafka_opaque(rk);
    if (level > 4) { /* librdkafka uses syslog levels: keep warnings and worse */
        return;
    }
    int64_t now = sl_mono_ms();
    int64_t last = __atomic_load_n(&c->last_log_ms, __ATOMIC_RELAXED);
    if (now - last < 10000 || !__atomic_compare_exchange_n(&c->last_log_ms, &last, now, 0,
                                                           __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        return;
    }
    sl_clog(c->comp, SL_LOG_WARN, "librdkafka %s: %s (further messages for 10 s suppressed)", fac,
            buf);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct kbatch *b = m->_private;
    if (!b) {
        return;
    }
    if (m->err) {
        b->failed++;
        b->err = m->err;
    }
    b->pending--;
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, struct sl_err *err)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        return sl_err_set(err, SL_ECONFIG, "%s=%s: %s", k, v, errstr);
    }
    return 0;
}

static int kafka_init(struct sl_sink *s, struct sl_err *err)
{
    struct kafka_ctx *c = s->ctx;
    s->batch_size = (size_t)c->batch_size;
    c->comp = s->comp;
    if (c->use_flume_event_format) {
        return sl_err_set(err, SL_ECONFIG,
                          "useFlumeEventFormat: true is not supported (events are sent as "
                          "their body, headers as record headers)");
    }
    if (!c->bootstrap && !sl_agent_embedded_bootstrap(s->agent)) {
        return sl_err_set(err, SL_ECONFIG,
                          "no bootstrap.servers and no embedded broker: set bootstrap.servers "
                          "or add a broker: section");
    }
    c->conf = rd_kafka_conf_new();
    char linger[32];
    snprintf(linger, sizeof(linger), "%lld", (long long)c->linger_ms);
    int rc = conf_set(c->conf, "acks", c->acks, err);
    if (rc == 0) {
        rc = conf_set(c->conf, "linger.ms", linger, err);
    }
    if (rc == 0) {
        rc = conf_set(c->conf, "compression.type", c->compression, err);
    }
    for (size_t i = 0; rc == 0 && i < c->producer.n; i++) {
        rc = conf_set(c->conf, c->producer.keys[i], c->producer.values[i], err);
    }
    if (rc != 0) {
        rd_kafka_conf_destroy(c->conf);
        c->conf = NULL;
    }
    return rc;
}

static int kafka_start(struct sl_sink *s, struct sl_err *err)
{
    struct kafka_ctx *c = s->ctx;
    const char *bootstrap = c->bootstrap ? c->bootstrap : sl_agent_embedded_bootstrap(s->agent);
    int rc = conf_set(c->conf, "bootstrap.servers", bootstrap, err);
    if (rc != 0) {
        return rc;
    }
    rd_kafka_conf_set_opaque(c->conf, c);
    rd_kafka_conf_set_log_cb(c->conf, log_cb);
    rd_kafka_conf_set_dr_msg_cb(c->conf, dr_cb);
    char errstr[512];
    c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c->conf, errstr, sizeof(errstr));
    if (!c->rk) {
        return sl_err_set(err, SL_ECONFIG, "cannot create the producer: %s", errstr);
    }
    c->conf = NULL; /* rd_kafka_new took it */
    sl_clog(s->comp, SL_LOG_INFO, "producing to %s, topic %s, acks=%s", bootstrap, c->topic,
            c->acks);
    return 0;
}

static const char *mapped_header(const struct kafka_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->header_map.n; i++) {
        if (strcmp(c->header_map.keys[i], name) == 0) {
            return c->header_map.values[i];
        }
    }
    return name;
}

static void warn_limited(struct kafka_ctx *c, const char *what, const char *value)
{
    int64_t now = sl_mono_ms();
    if (now - c->last_warn_ms >= 10000) {
        c->last_warn_ms = now;
        sl_clog(c->comp, SL_LOG_WARN, "ignoring %s '%s' (not a number)", what, value);
    }
}

static rd_kafka_resp_err_t produce_one(struct kafka_ctx *c, struct sl_sink *s,
                                       const struct sl_event *ev, struct kbatch *b)
{
    const char *topic = c->topic;
    if (c->allow_topic_override && c->topic_header) {
        const char *t = sl_event_header(ev, c->topic_header);
        if (t && *t) {
            topic = t;
        }
    }
    const char *key = c->key_header ? sl_event_header(ev, c->key_header) : NULL;
    int32_t partition =
        c->default_partition >= 0 ? (int32_t)c->default_partition : RD_KAFKA_PARTITION_UA;
    if (c->partition_header) {
        const char *p = sl_event_header(ev, c->partition_header);
        if (p) {
            char *end;
            long v = strtol(p, &end, 10);
            if (*p && !*end && v >= 0 && v <= INT32_MAX) {
                partition = (int32_t)v;
            } else {
                warn_limited(c, "partition header", p);
            }
        }
    }
    int64_t ts = 0;
    if (c->timestamp_header) {
        const char *t = sl_event_header(ev, c->timestamp_header);
        if (t) {
            char *end;
            long long v = strtoll(t, &end, 10);
            if (*t && !*end && v >= 0) {
                ts = v;
            } else {
                warn_limited(c, "timestamp header", t);
            }
        }
    }
    for (;;) {
        rd_kafka_headers_t *hdrs = NULL;
        if (ev->nheaders) {
            hdrs = rd_kafka_headers_new(ev->nheaders);
            for (size_t i = 0; i < ev->nheaders; i++) {
                rd_kafka_header_add(hdrs, mapped_header(c, ev->headers[i].key), -1,
                                    ev->headers[i].value, -1);
            }
        }
        rd_kafka_resp_err_t e = rd_kafka_producev(
            c->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)ev->body, ev->len),
            RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_TIMESTAMP(ts),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(b), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            return e;
        }
        if (hdrs) {
            rd_kafka_headers_destroy(hdrs); /* not taken on failure */
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || sl_sink_aborting(s)) {
            return e;
        }
        rd_kafka_poll(c->rk, 50); /* librdkafka's queue is full: wait for reports */
    }
}

static int kafka_deliver(struct sl_sink *s, struct sl_event **evs, size_t n)
{
    struct kafka_ctx *c = s->ctx;
    struct kbatch b = {0, 0, RD_KAFKA_RESP_ERR_NO_ERROR};
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = produce_one(c, s, evs[i], &b);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            b.failed++;
            b.err = e;
            break;
        }
        b.pending++;
    }
    int purged = 0;
    /* The reports point at b: wait for every one, also after a failure. */
    while (b.pending > 0) {
        rd_kafka_poll(c->rk, 100);
        if (!purged && sl_sink_aborting(s)) {
            rd_kafka_purge(c->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            purged = 1;
        }
    }
    if (b.failed) {
        int64_t now = sl_mono_ms();
        if (now - c->last_warn_ms >= 10000) {
            c->last_warn_ms = now;
            sl_clog(s->comp, SL_LOG_WARN, "%zu of %zu records not acknowledged: %s", b.failed, n,
                    rd_kafka_err2str(b.err));
        }
        return SL_ERETRY;
    }
    return SL_OK;
}

static void kafka_stop(struct sl_sink *s)
{
    struct kafka_ctx *c = s->ctx;
    if (c->rk) {
        rd_kafka_flush(c->rk, 2000);
        rd_kafka_destroy(c->rk);
        c->rk = NULL;
    }
}

static void kafka_fini(struct sl_sink *s)
{
    struct kafka_ctx *c = s->ctx;
    kafka_stop(s);
    if (c->conf) {
        rd_kafka_conf_destroy(c->conf);
        c->conf = NULL;
    }
}

const struct sl_sink_ops sl_kafka_sink_ops = {
    .name = "kafka",
    .conf = kafka_conf,
    .ctx_size = sizeof(struct kafka_ctx),
    .init = kafka_init,
    .start = kafka_start,
    .deliver = kafka_deliver,
    .stop = kafka_stop,
    .fini = kafka_fini,
};
