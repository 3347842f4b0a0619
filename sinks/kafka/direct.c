/*
 * direct.c - see direct.h. One sink batch (a take transaction) becomes one record batch per
 * topic-partition it touches, in the events' order, each at most DIRECT_BATCH_BYTES (the
 * broker's default message.max.bytes is 1 MiB); each is one request to the broker loop, and
 * the sink batch is done when every request is answered. Record bytes are copied once, into
 * the batch; headers are written inline (no per-header allocation).
 *
 * Threads: everything here runs on the sink's thread; broker/local.c carries the requests.
 */
#include "sinks/kafka/direct.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "broker/local.h"
#include "common/sl_log.h"
#include "common/sl_macros.h"
#include "store/batch.h"
#include "store/compress.h"

#define DIRECT_BATCH_BYTES (1000 * 1000) /* at most; under message.max.bytes' default, 1048588 */
#define BATCH_SLACK        128           /* below a topic's max.message.bytes, to be sure */
#define TOPIC_CACHE_MAX    256
#define TOPIC_REFRESH_MS   30000
#define WARN_EVERY_MS      10000
#define POOL_MAX                                                                                   \
    16 /* batch buffers kept for reuse: 4 batches in flight, a few                                 \
          partitions each */

struct dreq {
    struct sl_local_req r;
    struct sl_sink_batch *b;
    size_t records;
    size_t cap; /* r.batch's allocation when it can be reused, else 0 */
};

/* A batch buffer kept for the next batch: no page faults and no regrowth per batch. Only
 * buffers of ordinary batches are kept (one huge record's is freed). */
struct dbuf {
    uint8_t *p;
    size_t cap;
};

/* The batch being built for one topic-partition of the current sink batch. */
struct dpart {
    const char *topic;
    int32_t partition;
    size_t limit; /* batch bytes: the topic's max.message.bytes, at most DIRECT_BATCH_BYTES */
    struct sl_batch_builder bb;
    size_t records;
};

struct dtopic {
    char *name;
    int32_t partitions;
    int64_t max_batch;
    int64_t checked_ms;
};

struct kdirect {
    struct sl_local_client *client;
    int codec;
    const char *comp;
    struct sl_sink_batch *b;   /* between begin and end */
    int64_t now_ms;            /* read once per sink batch */
    const struct dtopic *last; /* the topic of this batch's previous record: no lookup */
    struct dpart *parts;
    size_t nparts, capparts;
    struct dtopic topics[TOPIC_CACHE_MAX];
    size_t ntopics, next_evict;
    struct dbuf pool[POOL_MAX];
    size_t npool;
    struct sl_rec_header *hdrs; /* scratch for one record's headers */
    size_t caphdrs;
    int64_t last_warn_ms;
    size_t failed_since_warn;
};

struct kdirect *kdirect_new(struct sl_local *l, int codec, const char *comp)
{
    struct kdirect *d = calloc(1, sizeof(*d));
    if (!d) {
        return NULL;
    }
    d->client = sl_local_client_new(l);
    if (!d->client) {
        free(d);
        return NULL;
    }
    d->codec = codec;
    d->comp = comp;
    return d;
}

/* One warning per WARN_EVERY_MS: "<what>: <why>". */
static void warn_limited(struct kdirect *d, const char *what, const char *why)
{
    if (sl_every_ms(&d->last_warn_ms, WARN_EVERY_MS)) {
        sl_clog(d->comp, SL_LOG_WARN, "%s: %s", what, why);
    }
}

static struct dtopic *topic_find(struct kdirect *d, const char *name)
{
    for (size_t i = 0; i < d->ntopics; i++) {
        if (strcmp(d->topics[i].name, name) == 0) {
            return &d->topics[i];
        }
    }
    return NULL;
}

/* Keep buf for a later batch, or free it. */
static void pool_put(struct kdirect *d, uint8_t *buf, size_t cap)
{
    if (cap && cap <= 2 * (size_t)DIRECT_BATCH_BYTES && d->npool < POOL_MAX) {
        d->pool[d->npool].p = buf;
        d->pool[d->npool].cap = cap;
        d->npool++;
    } else {
        free(buf);
    }
}

void kdirect_forget(struct kdirect *d, const char *topic)
{
    struct dtopic *t = topic_find(d, topic);
    if (t) {
        t->checked_ms = 0;
    }
    d->last = NULL;
}

/* An answer: count it into its sink batch and free it. */
static void settle(struct kdirect *d, struct dreq *q)
{
    struct sl_sink_batch *b = q->b;
    if (q->r.error) {
        b->failed += q->records;
        b->err = SL_ERETRY;
        d->failed_since_warn += q->records;
        char what[96];
        snprintf(what, sizeof(what), "%zu records not appended by the embedded broker to %s-%d",
                 d->failed_since_warn, q->r.topic, q->r.partition);
        char why[200];
        snprintf(why, sizeof(why), "Kafka error %d%s%s", q->r.error, q->r.message[0] ? ", " : "",
                 q->r.message);
        int64_t before = d->last_warn_ms;
        warn_limited(d, what, why);
        if (d->last_warn_ms != before) {
            d->failed_since_warn = 0;
        }
        if (q->r.error == 3) { /* UNKNOWN_TOPIC_OR_PARTITION: look the topic up again */
            kdirect_forget(d, q->r.topic);
        }
    }
    b->pending--;
    pool_put(d, q->r.batch, q->cap);
    free(q);
}

/* Count up to a few dozen answers, waiting up to wait_ms for the first; returns how many. */
static size_t drain(struct kdirect *d, int wait_ms)
{
    struct sl_local_req *done[64];
    size_t n = sl_local_wait(d->client, done, 64, wait_ms);
    for (size_t i = 0; i < n; i++) {
        settle(d, (struct dreq *)(void *)done[i]);
    }
    return n;
}

void kdirect_poll(struct kdirect *d, int wait_ms)
{
    if (drain(d, wait_ms) == 64) {
        while (drain(d, 0) == 64) {
        }
    }
}

size_t kdirect_outstanding(const struct kdirect *d)
{
    return sl_local_outstanding(d->client);
}

void kdirect_free(struct kdirect *d)
{
    if (!d) {
        return;
    }
    while (kdirect_outstanding(d)) { /* the broker answers every request, even at its stop */
        kdirect_poll(d, 1000);
    }
    sl_local_client_free(d->client);
    for (size_t i = 0; i < d->ntopics; i++) {
        free(d->topics[i].name);
    }
    for (size_t i = 0; i < d->nparts; i++) {
        sl_batch_builder_fini(&d->parts[i].bb);
    }
    for (size_t i = 0; i < d->npool; i++) {
        free(d->pool[i].p);
    }
    free(d->parts);
    free(d->hdrs);
    free(d);
}

/*
 * Ask the broker loop for topic's partition count (0 on refusal) and largest batch, waiting
 * for the answer; reports of earlier batches that arrive meanwhile are counted. The broker
 * answers every request, even while it stops; a loop stuck on a hung disk stalls this as it
 * stalls every client of the broker.
 */
static int32_t ask_partitions(struct kdirect *d, const char *topic, int64_t *max_batch)
{
    struct sl_local_req r;
    memset(&r, 0, sizeof(r));
    r.op = SL_LOCAL_TOPIC;
    r.topic = topic;
    if (sl_local_submit(d->client, &r) != 0) {
        warn_limited(d, topic, "the embedded broker is stopping");
        return 0;
    }
    for (;;) {
        struct sl_local_req *got;
        if (sl_local_wait(d->client, &got, 1, 1000) == 0) {
            continue; /* the loop may be busy (a long append): it answers in order */
        }
        if (got == &r) {
            break;
        }
        settle(d, (struct dreq *)(void *)got);
    }
    if (r.error) {
        char what[300];
        snprintf(what, sizeof(what), "topic %s refused by the embedded broker", topic);
        char why[64];
        snprintf(why, sizeof(why), "Kafka error %d", r.error);
        warn_limited(d, what, why);
        return 0;
    }
    *max_batch = r.max_batch;
    return r.partitions;
}

int32_t kdirect_partitions(struct kdirect *d, const char *topic)
{
    if (d->last && (d->last->name == topic || strcmp(d->last->name, topic) == 0)) {
        return d->last->partitions; /* looked up (and fresh) for this batch already */
    }
    struct dtopic *t = topic_find(d, topic);
    int64_t now = sl_mono_ms();
    if (t && t->checked_ms && now - t->checked_ms < TOPIC_REFRESH_MS) {
        d->last = t;
        return t->partitions;
    }
    int64_t max_batch = DIRECT_BATCH_BYTES;
    int32_t n = ask_partitions(d, topic, &max_batch);
    if (!t) {
        char *name = strdup(topic);
        if (!name) {
            return n;
        }
        if (d->ntopics < TOPIC_CACHE_MAX) {
            t = &d->topics[d->ntopics++];
        } else { /* many topics from headers: forget one, round robin */
            t = &d->topics[d->next_evict];
            d->next_evict = (d->next_evict + 1) % TOPIC_CACHE_MAX;
            free(t->name);
        }
        t->name = name;
    }
    t->partitions = n;
    t->max_batch = max_batch;
    t->checked_ms = n > 0 ? now : 0; /* a refusal is asked again next time */
    d->last = n > 0 ? t : NULL;
    return n;
}

int32_t kdirect_key_partition(const char *key, size_t len, int32_t partitions)
{
    /* librdkafka's consistent_random: CRC-32 (zlib's) of the key, modulo the count. */
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len > 0) {
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, (const Bytef *)key, chunk);
        key += chunk;
        len -= chunk;
    }
    return (int32_t)((uint32_t)crc % (uint32_t)partitions);
}

void kdirect_begin(struct kdirect *d, struct sl_sink_batch *b)
{
    d->b = b;
    d->now_ms = sl_now_ms();
    d->nparts = 0;
    d->last = NULL;
}

static void fail_batch(struct kdirect *d)
{
    d->b->err = SL_ERETRY;
}

/* Hand p's batch to the broker (or fail its records); p is left empty. */
static void send_part(struct kdirect *d, struct dpart *p)
{
    if (!p->records) {
        return;
    }
    struct sl_sink_batch *b = d->b;
    size_t records = p->records;
    p->records = 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    size_t cap = p->bb.cap;
    int rc = sl_batch_builder_finish(&p->bb, &buf, &len);
    if (rc == 0 && d->codec != SL_CODEC_NONE) {
        uint8_t *z = NULL;
        size_t zlen = 0;
        struct sl_err err;
        sl_err_clear(&err);
        rc = sl_batch_compress(buf, len, d->codec, &z, &zlen, &err);
        pool_put(d, buf, cap);
        buf = z;
        len = zlen;
        cap = 0; /* sized by the codec: not worth keeping */
    }
    struct dreq *q = rc == 0 ? calloc(1, sizeof(*q)) : NULL;
    if (!q) {
        free(buf);
        b->failed += records;
        fail_batch(d);
        return;
    }
    q->r.op = SL_LOCAL_PRODUCE;
    q->r.topic = p->topic;
    q->r.partition = p->partition;
    q->r.batch = buf;
    q->r.len = len;
    q->b = b;
    q->records = records;
    q->cap = cap;
    if (sl_local_submit(d->client, &q->r) != 0) {
        free(buf);
        free(q);
        b->failed += records;
        fail_batch(d);
        warn_limited(d, "batch not appended", "the embedded broker is stopping");
        return;
    }
    b->pending++;
}

static struct dpart *part_for(struct kdirect *d, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < d->nparts; i++) {
        struct dpart *p = &d->parts[i];
        if (p->partition == partition && (p->topic == topic || strcmp(p->topic, topic) == 0)) {
            return p;
        }
    }
    if (d->nparts == d->capparts) {
        size_t cap = d->capparts ? d->capparts * 2 : 4;
        struct dpart *np = realloc(d->parts, cap * sizeof(*np));
        if (!np) {
            return NULL;
        }
        memset(np + d->capparts, 0, (cap - d->capparts) * sizeof(*np));
        d->parts = np;
        d->capparts = cap;
    }
    struct dpart *p = &d->parts[d->nparts++];
    sl_batch_builder_fini(&p->bb);
    memset(p, 0, sizeof(*p));
    p->topic = topic;
    p->partition = partition;
    /* The topic was looked up (kdirect_partitions) before its first record. */
    const struct dtopic *t = topic_find(d, topic);
    int64_t max = t ? t->max_batch - BATCH_SLACK : DIRECT_BATCH_BYTES;
    p->limit = max <= 0 ? 1 : (size_t)SL_MIN(max, (int64_t)DIRECT_BATCH_BYTES);
    return p;
}

int kdirect_add(struct kdirect *d, const char *topic, int32_t partition, const char *key,
                int64_t ts, const struct sl_event *ev, const char *(*rename)(void *, const char *),
                void *rename_arg)
{
    if (ev->len > INT32_MAX || (key && strlen(key) > INT32_MAX)) {
        d->b->failed++;
        fail_batch(d);
        sl_clog(d->comp, SL_LOG_WARN, "record of %zu bytes cannot be sent", ev->len);
        return SL_ETOOLARGE;
    }
    struct dpart *p = part_for(d, topic, partition);
    if (!p) {
        d->b->failed++;
        fail_batch(d);
        return -ENOMEM;
    }
    if (ev->nheaders > d->caphdrs) {
        struct sl_rec_header *h = realloc(d->hdrs, ev->nheaders * sizeof(*h));
        if (!h) {
            d->b->failed++;
            fail_batch(d);
            return -ENOMEM;
        }
        d->hdrs = h;
        d->caphdrs = ev->nheaders;
    }
    for (size_t i = 0; i < ev->nheaders; i++) {
        const char *name = rename ? rename(rename_arg, ev->headers[i].key) : ev->headers[i].key;
        d->hdrs[i].key = (const uint8_t *)name;
        d->hdrs[i].key_len = (int32_t)strlen(name);
        d->hdrs[i].value = (const uint8_t *)ev->headers[i].value;
        d->hdrs[i].value_len = (int32_t)strlen(ev->headers[i].value);
    }
    if (ts <= 0) {
        ts = d->now_ms; /* CreateTime now, as librdkafka stamps a record without one */
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!p->records) {
            if (d->npool) {
                struct dbuf *k = &d->pool[--d->npool];
                sl_batch_builder_init_buf(&p->bb, 0, ts, k->p, k->cap);
            } else if (sl_batch_builder_init(&p->bb, 0, ts) != 0) {
                d->b->failed++;
                fail_batch(d);
                return -ENOMEM;
            }
        }
        size_t before = p->bb.len;
        int64_t before_max = p->bb.max_timestamp;
        int rc = sl_batch_builder_add(&p->bb, ts, key, key ? (int32_t)strlen(key) : -1, ev->body,
                                      (int32_t)ev->len, d->hdrs, (int)ev->nheaders);
        if (rc == 0 && (p->bb.len <= p->limit || !p->records)) {
            p->records++;
            return 0;
        }
        if (rc == 0) {
            /* Past the size with records before it: take this one back, send the rest, and
             * start the next batch with it. */
            p->bb.len = before;
            p->bb.max_timestamp = before_max;
            p->bb.count--;
        } else if (!p->records) {
            d->b->failed++;
            fail_batch(d);
            sl_clog(d->comp, SL_LOG_WARN, "record of %zu bytes cannot be sent: %s", ev->len,
                    sl_strerror(rc));
            return rc;
        }
        send_part(d, p);
    }
    d->b->failed++;
    fail_batch(d);
    return SL_ETOOLARGE;
}

void kdirect_end(struct kdirect *d)
{
    for (size_t i = 0; i < d->nparts; i++) {
        struct dpart *p = &d->parts[i];
        if (d->b->failed) {
            d->b->failed += p->records; /* not sent: the whole sink batch rolls back */
            p->records = 0;
            sl_batch_builder_fini(&p->bb);
            continue;
        }
        send_part(d, p);
    }
    d->nparts = 0;
    d->b = NULL;
}
