/*
 * kafka.c - the kafka sink (Flume's KafkaSink on librdkafka): every event of a batch becomes a
 * record (body as value; topic, key, partition and timestamp optionally from headers; the
 * event headers as record headers), then the sink waits for every delivery report. Only when
 * all of them succeeded does deliver return SL_OK and the runtime commit the take; any
 * failure rolls the whole batch back (at least once: a retried batch may repeat records).
 * A broker that is down makes deliver wait, so the channel fills and the sources push back:
 * nothing is dropped.
 *
 * Pipelined (ops->submit/poll): up to maxInflightBatches take transactions are in librdkafka
 * at once, so the next batch is produced while the previous one waits for its reports; the
 * runtime commits them in order, each only when all of its reports succeeded. Records point
 * into the events' memory (no RD_KAFKA_MSG_F_COPY): the events live in their take
 * transaction until every report of the batch is in, whether it is then committed or rolled
 * back. Runs of header-less events for one topic go in with one rd_kafka_produce_batch call;
 * an event with headers takes one producev (produce_batch cannot carry headers in librdkafka
 * 2.0), with the configured topic's handle and the batch's partition choice when they apply.
 *
 * To the agent's own embedded broker (no bootstrap.servers, no kafka.producer.* keys,
 * embeddedInProcess true, the default), the records skip librdkafka and the socket: the same
 * per-event choices (topic, key, partition, timestamp, headers) feed record batches built in
 * direct.c and appended by the broker loop through broker/local.h. A departure from the
 * design's "sinks/kafka -> librdkafka" only: this sink now also uses store/batch.h and
 * broker/local.h. librdkafka's per-record and per-header objects cost more CPU than
 * everything else between a syslog line and the log (bench/README.md, syslog source).
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
#include "sinks/kafka/direct.h"
#include "store/compress.h"

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
    int64_t max_inflight;
    int in_process; /* embeddedInProcess */
    /* state */
    struct kdirect *direct; /* the in-process path (direct.h), instead of rk */
    rd_kafka_conf_t *conf;  /* built at init (validates the keys), consumed at start */
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;      /* the configured topic */
    rd_kafka_message_t *msgs;   /* produce_batch scratch, batchSize entries */
    rd_kafka_resp_err_t dr_err; /* last failed report, for the rate-limited warning */
    size_t dr_failed;           /* failed reports since the last warning */
    uint64_t batch_seq;         /* submitted batches: the null-key partition choice */
    int user_partitioner;       /* kafka.producer.partitioner set: always let it choose */
    int32_t nparts;             /* partitions of the configured topic; 0 = not known */
    int64_t nparts_ms;          /* when nparts was last looked up */
    uint64_t nparts_seq;        /* batch_seq when nparts was last checked */
    const char *comp;
    int64_t last_log_ms; /* atomic: log_cb rate limit */
    int64_t last_warn_ms;
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
    {"maxInflightBatches", SL_CONF_INT, "4", OFF(max_inflight), 1, 64, 0, NULL,
     "take transactions produced and awaiting acknowledgement at once (committed in order)"},
    {"embeddedInProcess", SL_CONF_BOOL, "true", OFF(in_process), 0, 0, 0, NULL,
     "to the embedded broker without kafka.producer.* keys: hand it record batches in-process "
     "instead of producing over TCP with librdkafka"},
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
    struct sl_sink_batch *b = m->_private;
    if (!b) {
        return;
    }
    if (m->err) {
        struct kafka_ctx *c = opaque;
        b->failed++;
        b->err = SL_ERETRY;
        c->dr_err = m->err;
        c->dr_failed++;
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
    s->max_inflight = (size_t)c->max_inflight;
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
    /*
     * Room in librdkafka's queue for every batch in flight, so produce never meets
     * QUEUE_FULL in normal running (kafka.producer.* below may still override it).
     */
    char qmax[32];
    long long need = (long long)c->batch_size * c->max_inflight * 2;
    snprintf(qmax, sizeof(qmax), "%lld", need > 100000 ? need : 100000);
    if (rc == 0) {
        rc = conf_set(c->conf, "queue.buffering.max.messages", qmax, err);
    }
    for (size_t i = 0; rc == 0 && i < c->producer.n; i++) {
        rc = conf_set(c->conf, c->producer.keys[i], c->producer.values[i], err);
        if (strcmp(c->producer.keys[i], "partitioner") == 0) {
            c->user_partitioner = 1;
        }
    }
    if (rc != 0) {
        rd_kafka_conf_destroy(c->conf);
        c->conf = NULL;
    }
    return rc;
}

/*
 * The in-process path (direct.h) when the records go to this agent's embedded broker and
 * nothing asks for librdkafka itself (kafka.producer.* keys): the broker appends the same
 * record batches, with the same topic, key, partition, timestamp and header choices, at a
 * fraction of the cost (no per-record objects, no per-header allocations, no socket).
 */
static int start_direct(struct sl_sink *s, struct sl_err *err)
{
    struct kafka_ctx *c = s->ctx;
    c->direct =
        kdirect_new(sl_agent_embedded_local(s->agent), sl_codec_from_name(c->compression), s->comp);
    if (!c->direct) {
        return sl_err_set(err, -ENOMEM, "cannot create the in-process producer");
    }
    rd_kafka_conf_destroy(c->conf); /* built at init only to validate the keys */
    c->conf = NULL;
    sl_clog(s->comp, SL_LOG_INFO, "producing in-process to the embedded broker, topic %s",
            c->topic);
    return 0;
}

static int kafka_start(struct sl_sink *s, struct sl_err *err)
{
    struct kafka_ctx *c = s->ctx;
    if (!c->bootstrap && c->in_process && !c->producer.n && sl_agent_embedded_local(s->agent)) {
        return start_direct(s, err);
    }
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
    c->rkt = rd_kafka_topic_new(c->rk, c->topic, NULL);
    c->msgs = calloc((size_t)c->batch_size, sizeof(*c->msgs));
    if (!c->rkt || !c->msgs) {
        return sl_err_set(err, -ENOMEM, "cannot create the producer's topic %s", c->topic);
    }
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
    if (sl_every_ms(&c->last_warn_ms, 10000)) {
        sl_clog(c->comp, SL_LOG_WARN, "ignoring %s '%s' (not a number)", what, value);
    }
}

/* Where ev goes, from the configured defaults and ev's headers. */
struct target {
    const char *topic;
    const char *key;
    int32_t partition;
    int64_t ts;
};

static void event_target(struct kafka_ctx *c, const struct sl_event *ev, struct target *t)
{
    t->topic = c->topic;
    t->key = NULL;
    t->partition =
        c->default_partition >= 0 ? (int32_t)c->default_partition : RD_KAFKA_PARTITION_UA;
    t->ts = 0;
    if (!ev->nheaders) {
        return;
    }
    if (c->allow_topic_override && c->topic_header) {
        const char *v = sl_event_header(ev, c->topic_header);
        if (v && *v) {
            t->topic = v;
        }
    }
    t->key = c->key_header ? sl_event_header(ev, c->key_header) : NULL;
    if (c->partition_header) {
        const char *p = sl_event_header(ev, c->partition_header);
        if (p) {
            char *end;
            long v = strtol(p, &end, 10);
            if (*p && !*end && v >= 0 && v <= INT32_MAX) {
                t->partition = (int32_t)v;
            } else {
                warn_limited(c, "partition header", p);
            }
        }
    }
    if (c->timestamp_header) {
        const char *v = sl_event_header(ev, c->timestamp_header);
        if (v) {
            char *end;
            long long x = strtoll(v, &end, 10);
            if (*v && !*end && x >= 0) {
                t->ts = x;
            } else {
                warn_limited(c, "timestamp header", v);
            }
        }
    }
}

/*
 * One record with producev (headers, timestamp), waiting while librdkafka's queue is full.
 * The value points into ev (no copy): ev must live until the report.
 */
static rd_kafka_resp_err_t produce_one(struct kafka_ctx *c, struct sl_sink *s,
                                       const struct sl_event *ev, const struct target *t,
                                       struct sl_sink_batch *b)
{
    for (;;) {
        rd_kafka_headers_t *hdrs = NULL;
        if (ev->nheaders) {
            hdrs = rd_kafka_headers_new(ev->nheaders); /* exactly sized: never grows */
            for (size_t i = 0; i < ev->nheaders; i++) {
                const char *name = ev->headers[i].key;
                rd_kafka_header_add(hdrs, c->header_map.n ? mapped_header(c, name) : name, -1,
                                    ev->headers[i].value, -1);
            }
        }
        /* The configured topic by its handle: no lookup by name under librdkafka's lock. */
        rd_kafka_resp_err_t e =
            t->topic == c->topic
                ? rd_kafka_producev(c->rk, RD_KAFKA_V_RKT(c->rkt),
                                    RD_KAFKA_V_PARTITION(t->partition), RD_KAFKA_V_MSGFLAGS(0),
                                    RD_KAFKA_V_VALUE((void *)ev->body, ev->len),
                                    RD_KAFKA_V_KEY(t->key, t->key ? strlen(t->key) : 0),
                                    RD_KAFKA_V_TIMESTAMP(t->ts), RD_KAFKA_V_HEADERS(hdrs),
                                    RD_KAFKA_V_OPAQUE(b), RD_KAFKA_V_END)
                : rd_kafka_producev(c->rk, RD_KAFKA_V_TOPIC(t->topic),
                                    RD_KAFKA_V_PARTITION(t->partition), RD_KAFKA_V_MSGFLAGS(0),
                                    RD_KAFKA_V_VALUE((void *)ev->body, ev->len),
                                    RD_KAFKA_V_KEY(t->key, t->key ? strlen(t->key) : 0),
                                    RD_KAFKA_V_TIMESTAMP(t->ts), RD_KAFKA_V_HEADERS(hdrs),
                                    RD_KAFKA_V_OPAQUE(b), RD_KAFKA_V_END);
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

static void count_produced(struct kafka_ctx *c, struct sl_sink_batch *b, rd_kafka_resp_err_t e)
{
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        b->pending++;
    } else {
        if (e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
            c->nparts = 0; /* the topic changed: look again before the retry */
            c->nparts_ms = 0;
        }
        b->failed++;
        b->err = SL_ERETRY;
    }
}

#define NPARTS_REFRESH_MS 30000

/*
 * The configured topic's partition count, or 0 when not known (yet). Looked up with a
 * metadata request (blocks the sink's thread up to 1 s) every 30 s, every second while
 * unknown. Lets a batch of null-key records go to one partition chosen here, round robin per
 * batch (Kafka's sticky partitioning, KIP-480), instead of through librdkafka's sticky
 * partitioner, which reads the clock and checks availability for every record. Records of a
 * partition without a leader wait as librdkafka's would for a keyed record; if the batch
 * fails, the retry goes to the next partition.
 */
static int32_t topic_partitions(struct kafka_ctx *c)
{
    if (c->nparts && c->nparts_seq == c->batch_seq) {
        return c->nparts; /* checked for this batch already */
    }
    c->nparts_seq = c->batch_seq;
    int64_t now = sl_mono_ms();
    if (c->nparts_ms && now - c->nparts_ms < (c->nparts ? NPARTS_REFRESH_MS : 1000)) {
        return c->nparts;
    }
    c->nparts_ms = now;
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(c->rk, 0, c->rkt, &md, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            c->nparts = md->topics[0].partition_cnt;
        }
        rd_kafka_metadata_destroy(md);
    }
    return c->nparts;
}

/*
 * The partition for a record to the configured topic: t->partition, unless that leaves the
 * choice to librdkafka for a record without a key; then this batch's partition (see
 * topic_partitions) when known.
 */
static int32_t batch_partition(struct kafka_ctx *c, const struct target *t)
{
    if (t->partition != RD_KAFKA_PARTITION_UA || t->key || c->user_partitioner) {
        return t->partition;
    }
    int32_t np = topic_partitions(c);
    return np > 0 ? (int32_t)(c->batch_seq % (uint64_t)np) : RD_KAFKA_PARTITION_UA;
}

/*
 * evs[0..n): header-less events for topic t->topic, in one produce_batch call. A record
 * refused for a full queue is retried alone with producev, which waits for room.
 */
static void produce_run(struct kafka_ctx *c, struct sl_sink *s, struct sl_event **evs, size_t n,
                        const struct target *t, struct sl_sink_batch *b)
{
    rd_kafka_topic_t *rkt = c->rkt;
    if (t->topic != c->topic) {
        rkt = rd_kafka_topic_new(c->rk, t->topic, NULL);
        if (!rkt) {
            b->failed += n;
            b->err = SL_ERETRY;
            return;
        }
    }
    int32_t part = t->partition;
    if (rkt == c->rkt) {
        part = batch_partition(c, t);
    }
    for (size_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = &c->msgs[i];
        memset(m, 0, sizeof(*m));
        m->payload = evs[i]->body;
        m->len = evs[i]->len;
        m->partition = part;
        m->_private = b;
    }
    int good = rd_kafka_produce_batch(rkt, part, 0, c->msgs, (int)n);
    b->pending += (size_t)good;
    for (size_t i = 0; good < (int)n && i < n; i++) {
        rd_kafka_resp_err_t e = c->msgs[i].err;
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            continue;
        }
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            struct target one = *t;
            one.partition = part;
            e = produce_one(c, s, evs[i], &one, b);
        }
        count_produced(c, b, e);
    }
    if (rkt != c->rkt) {
        rd_kafka_topic_destroy(rkt);
    }
}

static const char *rename_header(void *arg, const char *name)
{
    return mapped_header(arg, name);
}

/*
 * The batch through the in-process path: each event's target as for librdkafka; a record
 * without a partition or key goes to this batch's partition, one with a key where
 * librdkafka's default partitioner would put it.
 */
static void submit_direct(struct sl_sink *s, struct sl_sink_batch *b)
{
    struct kafka_ctx *c = s->ctx;
    struct sl_event **evs = b->tx.evs;
    size_t n = b->tx.n;
    size_t i = 0;
    c->batch_seq++;
    kdirect_begin(c->direct, b);
    for (; i < n && !b->failed; i++) {
        struct target t;
        event_target(c, evs[i], &t);
        int32_t np = kdirect_partitions(c->direct, t.topic);
        int32_t part = t.partition;
        if (np <= 0 || part >= np) {
            kdirect_forget(c->direct, t.topic); /* partitions may be added: ask again */
            if (np > 0 && sl_every_ms(&c->last_warn_ms, 10000)) {
                sl_clog(s->comp, SL_LOG_WARN, "topic %s has no partition %d (it has %d)", t.topic,
                        part, np);
            }
            b->failed += n - i; /* this event and the rest: none goes out */
            b->err = SL_ERETRY;
            i = n;
            break;
        }
        if (part == RD_KAFKA_PARTITION_UA) {
            /* A key: librdkafka's partition for it. No key, or an empty one (librdkafka picks
             * one at random): this batch's partition. */
            part = t.key && *t.key ? kdirect_key_partition(t.key, strlen(t.key), np)
                                   : (int32_t)(c->batch_seq % (uint64_t)np);
        }
        if (kdirect_add(c->direct, t.topic, part, t.key, t.ts, evs[i],
                        c->header_map.n ? rename_header : NULL, c) != 0) {
            i++; /* counted as failed by kdirect_add */
            break;
        }
    }
    if (b->failed && i < n) {
        b->failed += n - i; /* the rest never went out */
    }
    kdirect_end(c->direct);
}

static void kafka_submit(struct sl_sink *s, struct sl_sink_batch *b)
{
    struct kafka_ctx *c = s->ctx;
    if (c->direct) {
        submit_direct(s, b);
        return;
    }
    struct sl_event **evs = b->tx.evs;
    size_t n = b->tx.n;
    size_t i = 0;
    c->batch_seq++;
    while (i < n && !b->failed) {
        struct target t;
        event_target(c, evs[i], &t);
        if (evs[i]->nheaders) {
            if (t.topic == c->topic) {
                t.partition = batch_partition(c, &t);
            }
            count_produced(c, b, produce_one(c, s, evs[i], &t, b));
            i++;
            continue;
        }
        /* Header-less events all go to the configured topic and partition choice. */
        size_t j = i + 1;
        while (j < n && j - i < (size_t)c->batch_size && !evs[j]->nheaders) {
            j++;
        }
        produce_run(c, s, evs + i, j - i, &t, b);
        i = j;
    }
    if (b->failed) {
        /* The rest never went out; they count as failed so the batch is rolled back. */
        b->failed += n - i;
    }
}

static void kafka_poll(struct sl_sink *s, int wait_ms)
{
    struct kafka_ctx *c = s->ctx;
    if (c->direct) {
        /* Nothing to purge when aborting: the broker loop answers every batch, even while it
         * stops (a loop stuck on a hung disk stalls this as it stalls the broker). */
        kdirect_poll(c->direct, wait_ms);
        return;
    }
    rd_kafka_poll(c->rk, wait_ms);
    if (sl_sink_aborting(s)) {
        /* Shutdown with the destination unreachable: fail what is queued and in flight
         * (every call, as a batch may have been submitted since the last one). */
        rd_kafka_purge(c->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    }
    if (c->dr_failed) {
        if (sl_every_ms(&c->last_warn_ms, 10000)) {
            sl_clog(s->comp, SL_LOG_WARN, "%zu records not acknowledged: %s", c->dr_failed,
                    rd_kafka_err2str(c->dr_err));
            c->dr_failed = 0;
        }
    }
}

/* One batch, synchronously: submit, then wait for every report (also after a failure). */
static int kafka_deliver(struct sl_sink *s, struct sl_event **evs, size_t n)
{
    struct sl_sink_batch b;
    memset(&b, 0, sizeof(b));
    b.tx.evs = evs;
    b.tx.n = n;
    kafka_submit(s, &b);
    while (b.pending > 0) {
        kafka_poll(s, 100);
    }
    return b.failed ? SL_ERETRY : SL_OK;
}

static void kafka_stop(struct sl_sink *s)
{
    struct kafka_ctx *c = s->ctx;
    kdirect_free(c->direct);
    c->direct = NULL;
    if (c->rkt) {
        rd_kafka_topic_destroy(c->rkt);
        c->rkt = NULL;
    }
    if (c->rk) {
        rd_kafka_flush(c->rk, 2000);
        rd_kafka_destroy(c->rk);
        c->rk = NULL;
    }
    free(c->msgs);
    c->msgs = NULL;
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
    .submit = kafka_submit,
    .poll = kafka_poll,
    .stop = kafka_stop,
    .fini = kafka_fini,
};
