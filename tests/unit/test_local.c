/*
 * test_local.c - in-process produce (broker/local.c) against a broker running on its own
 * loop thread: topic lookup with auto-creation and its refusals, appends with broker-assigned
 * offsets read back from the log, a missing partition, a corrupt batch, answers in submit
 * order, and the close: queued requests answered, later submits refused.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/broker.h"
#include "broker/local.h"
#include "store/batch.h"
#include "store/log.h"
#include "testutil.h"

struct tb {
    uv_loop_t loop;
    uv_async_t stop;
    uv_async_t block; /* holds the loop until blockmu is unlocked */
    pthread_mutex_t blockmu;
    struct sl_broker *b;
    struct sl_local *l;
    pthread_t th;
    char *dir;
};

static void on_stop(uv_async_t *h)
{
    struct tb *t = h->data;
    sl_local_close(t->l);
    sl_broker_stop(t->b);
    uv_close((uv_handle_t *)&t->stop, NULL);
    uv_close((uv_handle_t *)&t->block, NULL);
}

static void on_block(uv_async_t *h)
{
    struct tb *t = h->data;
    pthread_mutex_lock(&t->blockmu); /* held by the test until it has queued its requests */
    pthread_mutex_unlock(&t->blockmu);
}

static void *run(void *arg)
{
    struct tb *t = arg;
    uv_run(&t->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void tb_start(struct tb *t, int auto_create)
{
    struct sl_broker_config cfg;
    struct sl_err err = {0};
    sl_broker_config_default(&cfg);
    t->dir = tu_mkdtemp();
    assert_int_equal(sl_broker_config_set(&cfg, "listeners", "PLAINTEXT://127.0.0.1:0", &err), 0);
    assert_int_equal(sl_broker_config_set(&cfg, "log.dirs", t->dir, &err), 0);
    assert_int_equal(sl_broker_config_set(&cfg, "num.partitions", "3", &err), 0);
    assert_int_equal(sl_broker_config_set(&cfg, "auto.create.topics.enable",
                                          auto_create ? "true" : "false", &err),
                     0);
    assert_int_equal(uv_loop_init(&t->loop), 0);
    assert_int_equal(sl_broker_create(&cfg, &t->loop, &t->b, &err), 0);
    /* libuv runs the pending async callbacks in the order the handles were made: block,
     * then stop, then the endpoint, so that a stop sent while block holds the loop closes
     * the endpoint before it serves what was queued meanwhile. */
    uv_async_init(&t->loop, &t->block, on_block);
    t->block.data = t;
    uv_async_init(&t->loop, &t->stop, on_stop);
    t->stop.data = t;
    assert_int_equal(sl_local_open(t->b, &t->l), 0);
    pthread_mutex_init(&t->blockmu, NULL);
    pthread_create(&t->th, NULL, run, t);
}

/* Stop the loop (closing the endpoint) and join it; the broker is still there to inspect. */
static void tb_halt(struct tb *t)
{
    uv_async_send(&t->stop);
    pthread_join(t->th, NULL);
}

static void tb_free(struct tb *t)
{
    assert_int_equal(sl_broker_destroy(t->b, 1), 0);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    uv_loop_close(&t->loop);
    sl_local_free(t->l);
    pthread_mutex_destroy(&t->blockmu);
    tu_rmtree(t->dir);
    free(t->dir);
}

/* A batch of n records "v<first+i>". */
static uint8_t *batch_of(int n, int first, size_t *len)
{
    struct sl_batch_builder bb;
    assert_int_equal(sl_batch_builder_init(&bb, 0, 1700000000000), 0);
    for (int i = 0; i < n; i++) {
        char v[32];
        int vl = snprintf(v, sizeof(v), "v%d", first + i);
        struct sl_rec_header h = {(const uint8_t *)"h", 1, (const uint8_t *)v, vl};
        assert_int_equal(sl_batch_builder_add(&bb, 1700000000000 + i, NULL, -1, v, vl, &h, 1), 0);
    }
    uint8_t *out;
    assert_int_equal(sl_batch_builder_finish(&bb, &out, len), 0);
    sl_batch_builder_fini(&bb);
    return out;
}

static struct sl_local_req *wait_one(struct sl_local_client *c)
{
    struct sl_local_req *r = NULL;
    for (int i = 0; i < 100 && !r; i++) {
        if (sl_local_wait(c, &r, 1, 100) == 0) {
            r = NULL;
        }
    }
    assert_non_null(r);
    return r;
}

static void test_topic_lookup_and_auto_create(void **state)
{
    (void)state;
    struct tb t;
    tb_start(&t, 1);
    struct sl_local_client *c = sl_local_client_new(t.l);
    assert_non_null(c);
    struct sl_local_req r;
    memset(&r, 0, sizeof(r));
    r.op = SL_LOCAL_TOPIC;
    r.topic = "fresh";
    assert_int_equal(sl_local_submit(c, &r), 0);
    assert_int_equal(sl_local_outstanding(c), 1);
    assert_ptr_equal(wait_one(c), &r);
    assert_int_equal(sl_local_outstanding(c), 0);
    assert_int_equal(r.error, 0);
    assert_int_equal(r.partitions, 3);
    /* Names Metadata would not create: internal ("__"), illegal. */
    const char *bad[] = {"__internal", "no/slash", ".."};
    const int16_t want[] = {3, 17, 17};
    for (size_t i = 0; i < 3; i++) {
        memset(&r, 0, sizeof(r));
        r.op = SL_LOCAL_TOPIC;
        r.topic = bad[i];
        assert_int_equal(sl_local_submit(c, &r), 0);
        assert_ptr_equal(wait_one(c), &r);
        assert_int_equal(r.error, want[i]);
    }
    /* Nothing outstanding: a wait returns at once. */
    struct sl_local_req *none;
    assert_int_equal(sl_local_wait(c, &none, 1, 5000), 0);
    sl_local_client_free(c);
    tb_halt(&t);
    assert_non_null(sl_broker_log(t.b, "fresh", 2));
    assert_null(sl_broker_log(t.b, "__internal", 0));
    tb_free(&t);
}

static void test_no_auto_create(void **state)
{
    (void)state;
    struct tb t;
    tb_start(&t, 0);
    struct sl_local_client *c = sl_local_client_new(t.l);
    struct sl_local_req r;
    memset(&r, 0, sizeof(r));
    r.op = SL_LOCAL_TOPIC;
    r.topic = "absent";
    assert_int_equal(sl_local_submit(c, &r), 0);
    assert_ptr_equal(wait_one(c), &r);
    assert_int_equal(r.error, 3); /* UNKNOWN_TOPIC_OR_PARTITION */
    sl_local_client_free(c);
    tb_halt(&t);
    tb_free(&t);
}

static void test_produce_in_order_and_errors(void **state)
{
    (void)state;
    struct tb t;
    tb_start(&t, 1);
    struct sl_local_client *c = sl_local_client_new(t.l);
    struct sl_local_req topic;
    memset(&topic, 0, sizeof(topic));
    topic.op = SL_LOCAL_TOPIC;
    topic.topic = "data";
    assert_int_equal(sl_local_submit(c, &topic), 0);
    assert_ptr_equal(wait_one(c), &topic);

    /* Five batches of 10 to partition 1, one to a missing partition, one corrupt. */
    struct sl_local_req r[7];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < 7; i++) {
        r[i].op = SL_LOCAL_PRODUCE;
        r[i].topic = "data";
        r[i].partition = i == 5 ? 9 : 1;
        r[i].batch = batch_of(10, i * 10, &r[i].len);
        r[i].opaque = &r[i];
    }
    r[6].batch[r[6].len - 1] ^= 0x40; /* a record byte: the CRC no longer matches */
    for (int i = 0; i < 7; i++) {
        assert_int_equal(sl_local_submit(c, &r[i]), 0);
    }
    struct sl_local_req *done[7];
    size_t got = 0;
    for (int i = 0; i < 100 && got < 7; i++) {
        got += sl_local_wait(c, done + got, 7 - got, 100);
    }
    assert_int_equal(got, 7);
    for (int i = 0; i < 7; i++) {
        assert_ptr_equal(done[i], &r[i]); /* answered in submit order */
    }
    for (int i = 0; i < 5; i++) {
        assert_int_equal(r[i].error, 0);
        assert_int_equal(r[i].base_offset, i * 10);
    }
    assert_int_equal(r[5].error, 3);      /* UNKNOWN_TOPIC_OR_PARTITION */
    assert_int_equal(r[6].error, 2);      /* CORRUPT_MESSAGE */
    assert_true(r[6].message[0] != '\0'); /* says why */
    sl_local_client_free(c);
    tb_halt(&t);
    struct sl_log *log = sl_broker_log(t.b, "data", 1);
    assert_non_null(log);
    assert_int_equal(sl_log_end_offset(log), 50);
    struct sl_broker_metrics m;
    sl_broker_metrics_read(t.b, &m);
    assert_int_equal(m.messages_in, 50);
    for (int i = 0; i < 7; i++) {
        free(r[i].batch);
    }
    tb_free(&t);
}

static void test_close_answers_and_refuses(void **state)
{
    (void)state;
    struct tb t;
    tb_start(&t, 1);
    struct sl_local_client *c = sl_local_client_new(t.l);
    tb_halt(&t); /* the loop is gone: nothing serves the queue, the close ran */
    struct sl_local_req r;
    memset(&r, 0, sizeof(r));
    r.op = SL_LOCAL_TOPIC;
    r.topic = "late";
    assert_int_equal(sl_local_submit(c, &r), -ESHUTDOWN);
    assert_int_equal(sl_local_outstanding(c), 0);
    sl_local_client_free(c);
    tb_free(&t);
}

/* Requests queued while the loop is busy elsewhere are answered by the close, not lost. */
static void test_close_answers_queued(void **state)
{
    (void)state;
    struct tb t;
    tb_start(&t, 1);
    struct sl_local_client *c = sl_local_client_new(t.l);
    struct sl_local_req r[3];
    memset(r, 0, sizeof(r));
    pthread_mutex_lock(&t.blockmu);
    uv_async_send(&t.block);
    usleep(100 * 1000);     /* the loop is now held in on_block */
    uv_async_send(&t.stop); /* runs once on_block returns */
    for (int i = 0; i < 3; i++) {
        r[i].op = SL_LOCAL_TOPIC;
        r[i].topic = "queued";
        assert_int_equal(sl_local_submit(c, &r[i]), 0);
    }
    pthread_mutex_unlock(&t.blockmu);
    pthread_join(t.th, NULL);
    struct sl_local_req *done[3];
    size_t got = 0;
    for (int i = 0; i < 50 && got < 3; i++) {
        got += sl_local_wait(c, done + got, 3 - got, 100);
    }
    assert_int_equal(got, 3);
    for (int i = 0; i < 3; i++) {
        assert_ptr_equal(done[i], &r[i]);
        assert_int_equal(r[i].error, 8); /* BROKER_NOT_AVAILABLE: answered by the close */
        assert_string_equal(r[i].message, "the broker is stopping");
    }
    sl_local_client_free(c);
    tb_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_lookup_and_auto_create),
        cmocka_unit_test(test_no_auto_create),
        cmocka_unit_test(test_produce_in_order_and_errors),
        cmocka_unit_test(test_close_answers_and_refuses),
        cmocka_unit_test(test_close_answers_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
