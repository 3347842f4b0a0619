/*
 * test_kafka_sink.c - the kafka sink against an in-process broker: body, key, topic,
 * partition and timestamp from headers, event headers as record headers (with header.<name>
 * renaming), read back with librdkafka; and a batch the broker never acknowledges makes
 * deliver fail (so the runtime rolls back) instead of reporting success.
 */
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/registry.h"
#include "broker/broker.h"
#include "common/sl_macros.h"
#include "testutil.h"

struct tbroker {
    uv_loop_t loop;
    uv_async_t stop;
    struct sl_broker *b;
    pthread_t th;
    char *dir;
    char bootstrap[64];
};

static void on_stop(uv_async_t *h)
{
    struct tbroker *t = h->data;
    sl_broker_stop(t->b);
    uv_close((uv_handle_t *)&t->stop, NULL);
}

static void *run(void *arg)
{
    struct tbroker *t = arg;
    uv_run(&t->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void broker_start(struct tbroker *t)
{
    struct sl_broker_config cfg;
    struct sl_err err = {0};
    sl_broker_config_default(&cfg);
    t->dir = tu_mkdtemp();
    assert_int_equal(sl_broker_config_set(&cfg, "listeners", "PLAINTEXT://127.0.0.1:0", &err), 0);
    assert_int_equal(sl_broker_config_set(&cfg, "log.dirs", t->dir, &err), 0);
    assert_int_equal(sl_broker_config_set(&cfg, "num.partitions", "2", &err), 0);
    assert_int_equal(uv_loop_init(&t->loop), 0);
    assert_int_equal(sl_broker_create(&cfg, &t->loop, &t->b, &err), 0);
    uv_async_init(&t->loop, &t->stop, on_stop);
    t->stop.data = t;
    snprintf(t->bootstrap, sizeof(t->bootstrap), "127.0.0.1:%d", sl_broker_port(t->b));
    pthread_create(&t->th, NULL, run, t);
}

static void broker_stop(struct tbroker *t)
{
    uv_async_send(&t->stop);
    pthread_join(t->th, NULL);
    assert_int_equal(sl_broker_destroy(t->b, 1), 0);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    uv_loop_close(&t->loop);
    tu_rmtree(t->dir);
    free(t->dir);
}

static struct sl_sink *sink_new(const char *yaml)
{
    struct sl_sink *s = calloc(1, sizeof(*s));
    s->ops = &sl_kafka_sink_ops;
    s->ctx = calloc(1, s->ops->ctx_size);
    snprintf(s->comp, sizeof(s->comp), "sink:kafka:test");
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(sl_yaml_load_string(yaml, strlen(yaml), &doc, &err), 0);
    assert_int_equal(sl_conf_bind(s->ops->conf, s->ctx, &doc, doc.root, NULL, "k", &err), 0);
    sl_yaml_free(&doc);
    assert_int_equal(s->ops->init(s, &err), 0);
    if (s->ops->start(s, &err) != 0) {
        fail_msg("start: %s", err.msg);
    }
    return s;
}

static void sink_free(struct sl_sink *s)
{
    s->ops->stop(s);
    s->ops->fini(s);
    sl_conf_free(s->ops->conf, s->ctx);
    free(s->ctx);
    free(s);
}

/* Up to max messages of topic/partition from the beginning; *rkp is the consumer, which
 * must outlive the messages (release() frees both). */
static size_t consume(const char *bootstrap, const char *topic, int32_t partition,
                      rd_kafka_message_t **out, size_t max, rd_kafka_t **rkp)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    assert_non_null(rk);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    assert_int_equal(rd_kafka_consume_start(rkt, partition, RD_KAFKA_OFFSET_BEGINNING), 0);
    size_t n = 0;
    int64_t deadline = sl_mono_ms() + 10000;
    while (n < max && sl_mono_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consume(rkt, partition, 200);
        if (!m) {
            continue;
        }
        if (m->err) {
            rd_kafka_message_destroy(m);
            continue;
        }
        out[n++] = m;
    }
    rd_kafka_consume_stop(rkt, partition);
    rd_kafka_topic_destroy(rkt);
    *rkp = rk;
    return n;
}

static void release(rd_kafka_t *rk, rd_kafka_message_t **msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rd_kafka_message_destroy(msgs[i]);
    }
    rd_kafka_destroy(rk);
}

static const char *hdr(rd_kafka_message_t *m, const char *name, char *buf, size_t len)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t vl;
    if (rd_kafka_message_headers(m, &h) != 0 || rd_kafka_header_get_last(h, name, &v, &vl) != 0) {
        return NULL;
    }
    snprintf(buf, len, "%.*s", (int)vl, (const char *)v);
    return buf;
}

static void test_records_from_events(void **state)
{
    struct tbroker t;
    broker_start(&t);
    char yaml[512];
    snprintf(yaml, sizeof(yaml),
             "bootstrap.servers: %s\ntopic: t1\nacks: all\nlinger.ms: 1\n"
             "timestampHeader: ts\npartitionIdHeader: p\nheader.x: X-Renamed\n",
             t.bootstrap);
    struct sl_sink *s = sink_new(yaml);

    struct sl_event *evs[3];
    evs[0] = sl_event_create("a", 1);
    sl_event_set_header(evs[0], "key", "k1");
    sl_event_set_header(evs[0], "x", "1");
    sl_event_set_header(evs[0], "ts", "1700000000000");
    sl_event_set_header(evs[0], "p", "0");
    evs[1] = sl_event_create("b", 1);
    sl_event_set_header(evs[1], "topic", "t2");
    sl_event_set_header(evs[1], "p", "1");
    evs[2] = sl_event_create("c", 1);
    sl_event_set_header(evs[2], "p", "1");
    assert_int_equal(s->ops->deliver(s, evs, 3), SL_OK);

    rd_kafka_message_t *msgs[8];
    rd_kafka_t *rk;
    char buf[64];
    size_t n = consume(t.bootstrap, "t1", 0, msgs, 4, &rk);
    assert_int_equal(n, 1);
    assert_memory_equal(msgs[0]->payload, "a", 1);
    assert_int_equal(msgs[0]->key_len, 2);
    assert_memory_equal(msgs[0]->key, "k1", 2);
    rd_kafka_timestamp_type_t tt;
    assert_int_equal(rd_kafka_message_timestamp(msgs[0], &tt), 1700000000000LL);
    assert_string_equal(hdr(msgs[0], "X-Renamed", buf, sizeof(buf)), "1");
    assert_null(hdr(msgs[0], "x", buf, sizeof(buf)));
    assert_string_equal(hdr(msgs[0], "key", buf, sizeof(buf)), "k1");
    release(rk, msgs, n);

    n = consume(t.bootstrap, "t1", 1, msgs, 4, &rk);
    assert_int_equal(n, 1);
    assert_memory_equal(msgs[0]->payload, "c", 1);
    assert_null(msgs[0]->key);
    release(rk, msgs, n);

    n = consume(t.bootstrap, "t2", 1, msgs, 4, &rk);
    assert_int_equal(n, 1);
    assert_memory_equal(msgs[0]->payload, "b", 1);
    assert_string_equal(hdr(msgs[0], "topic", buf, sizeof(buf)), "t2");
    release(rk, msgs, n);

    for (int i = 0; i < 3; i++) {
        sl_event_destroy(evs[i]);
    }
    sink_free(s);
    broker_stop(&t);
}

static void test_unacknowledged_batch_fails(void **state)
{
    /* Nothing listens on port 1: every delivery report fails after message.timeout.ms. */
    struct sl_sink *s = sink_new("bootstrap.servers: 127.0.0.1:1\ntopic: t\n"
                                 "kafka.producer.message.timeout.ms: 300\n");
    struct sl_event *ev = sl_event_create("x", 1);
    int64_t t0 = sl_mono_ms();
    assert_int_equal(s->ops->deliver(s, &ev, 1), SL_ERETRY);
    assert_true(sl_mono_ms() - t0 < 10000);
    sl_event_destroy(ev);
    sink_free(s);
}

static void test_bad_passthrough_rejected_at_init(void **state)
{
    struct sl_sink s = {.ops = &sl_kafka_sink_ops};
    s.ctx = calloc(1, s.ops->ctx_size);
    const char *y = "bootstrap.servers: h:1\nkafka.producer.no.such.thing: 1\n";
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(sl_yaml_load_string(y, strlen(y), &doc, &err), 0);
    assert_int_equal(sl_conf_bind(s.ops->conf, s.ctx, &doc, doc.root, NULL, "k", &err), 0);
    sl_yaml_free(&doc);
    assert_int_equal(s.ops->init(&s, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "no.such.thing"));
    s.ops->fini(&s);
    sl_conf_free(s.ops->conf, s.ctx);
    free(s.ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_from_events),
        cmocka_unit_test(test_unacknowledged_batch_fails),
        cmocka_unit_test(test_bad_passthrough_rejected_at_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
