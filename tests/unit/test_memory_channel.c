/*
 * test_memory_channel.c - the memory channel through the transaction API: both limits
 * (events and bytes, with headroom) hold exactly, transactionCapacity, keep-alive, take
 * rollback re-delivers in order, and many threads putting and taking lose or duplicate
 * nothing; a put refused for room is told once when a take commit frees some (room_cb);
 * events carved from a slab go through the channel and are freed on another thread.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/plugin.h"
#include "agent/registry.h"
#include "common/sl_macros.h"

static struct sl_channel *chan_new(const char *yaml)
{
    struct sl_channel *c = calloc(1, sizeof(*c));
    c->ops = &sl_memory_channel_ops;
    c->ctx = calloc(1, c->ops->ctx_size);
    snprintf(c->comp, sizeof(c->comp), "channel:memory:test");
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(sl_yaml_load_string(yaml, strlen(yaml), &doc, &err), 0);
    assert_int_equal(sl_conf_bind(c->ops->conf, c->ctx, &doc, doc.root, NULL, "test", &err), 0);
    sl_yaml_free(&doc);
    assert_int_equal(c->ops->init(c, &err), 0);
    return c;
}

static void chan_free(struct sl_channel *c)
{
    c->ops->fini(c);
    sl_conf_free(c->ops->conf, c->ctx);
    free(c->ctx);
    free(c);
}

static struct sl_event *ev_num(int i, size_t len)
{
    char body[4096];
    memset(body, 'x', sizeof(body));
    int n = snprintf(body, sizeof(body), "%d", i);
    body[n] = '.';
    return sl_event_create(body, len ? len : (size_t)n);
}

static int ev_int(const struct sl_event *ev)
{
    char buf[32];
    size_t n = SL_MIN(ev->len, sizeof(buf) - 1);
    memcpy(buf, ev->body, n);
    buf[n] = '\0';
    return atoi(buf);
}

/* Put events [from, from+n) in one transaction; returns the commit's result. */
static int put_range(struct sl_channel *c, int from, int n, size_t len, int64_t wait_ms)
{
    struct sl_chan_tx tx;
    sl_chan_begin(c, 0, &tx);
    struct sl_event *evs[256];
    for (int i = 0; i < n; i++) {
        evs[i] = ev_num(from + i, len);
        int rc = sl_chan_put(&tx, evs[i]);
        if (rc != 0) {
            for (int j = 0; j <= i; j++) {
                sl_event_destroy(evs[j]);
            }
            sl_chan_rollback(&tx);
            return rc;
        }
    }
    int rc = sl_chan_commit_wait(&tx, wait_ms);
    if (rc != 0) {
        for (int i = 0; i < n; i++) {
            sl_event_destroy(evs[i]);
        }
    }
    return rc;
}

static size_t chan_size(struct sl_channel *c)
{
    struct sl_chan_stats st;
    c->ops->stats(c, &st);
    return (size_t)st.size;
}

static void test_capacity_exact(void **state)
{
    struct sl_channel *c = chan_new("capacity: 10\ntransactionCapacity: 5\n");
    assert_int_equal(c->tx_capacity, 5);
    assert_int_equal(put_range(c, 0, 5, 0, 0), 0);
    assert_int_equal(put_range(c, 5, 5, 0, 0), 0);
    assert_int_equal(chan_size(c), 10);
    assert_int_equal(put_range(c, 10, 1, 0, 0), SL_ERETRY);
    /* Taken but not committed still holds room. */
    struct sl_chan_tx tx;
    sl_chan_begin(c, 1, &tx);
    assert_int_equal(sl_chan_take(&tx, 3, 0), 3);
    assert_int_equal(put_range(c, 10, 1, 0, 0), SL_ERETRY);
    assert_int_equal(sl_chan_commit(&tx), 0);
    assert_int_equal(chan_size(c), 7);
    /* A transaction that does not fit whole is refused whole: no overshoot. */
    assert_int_equal(put_range(c, 10, 4, 0, 0), SL_ERETRY);
    assert_int_equal(put_range(c, 10, 3, 0, 0), 0);
    assert_int_equal(chan_size(c), 10);
    assert_int_equal(c->put_successes, 13);
    chan_free(c);
}

static void test_transaction_capacity(void **state)
{
    struct sl_channel *c = chan_new("capacity: 100\ntransactionCapacity: 4\n");
    assert_int_equal(put_range(c, 0, 5, 0, 0), SL_ETOOLARGE);
    assert_int_equal(chan_size(c), 0);
    assert_int_equal(put_range(c, 0, 4, 0, 0), 0);
    assert_int_equal(put_range(c, 4, 4, 0, 0), 0);
    struct sl_chan_tx tx;
    sl_chan_begin(c, 1, &tx);
    assert_int_equal(sl_chan_take(&tx, 100, 0), 4); /* bounded by transactionCapacity */
    assert_int_equal(sl_chan_take(&tx, 100, 0), 0);
    sl_chan_rollback(&tx);
    assert_int_equal(chan_size(c), 8);
    chan_free(c);
}

static void test_byte_capacity_exact(void **state)
{
    /* 100 bytes with 20 % headroom: 80 bytes of events. */
    struct sl_channel *c = chan_new("capacity: 100\ntransactionCapacity: 10\nbyteCapacity: 100\n");
    assert_int_equal(put_range(c, 0, 1, 81, 0), SL_ETOOLARGE); /* can never fit */
    assert_int_equal(put_range(c, 0, 2, 30, 0), 0);
    assert_int_equal(put_range(c, 2, 1, 30, 0), SL_ERETRY);
    assert_int_equal(put_range(c, 2, 1, 21, 0), SL_ERETRY);
    assert_int_equal(put_range(c, 2, 1, 20, 0), 0); /* exactly 80 */
    struct sl_chan_stats st;
    c->ops->stats(c, &st);
    assert_int_equal(st.bytes, 80);
    struct sl_chan_tx tx;
    sl_chan_begin(c, 1, &tx);
    assert_int_equal(sl_chan_take(&tx, 1, 0), 1);
    sl_chan_commit(&tx);
    assert_int_equal(put_range(c, 3, 1, 30, 0), 0);
    assert_int_equal(put_range(c, 4, 1, 1, 0), SL_ERETRY);
    chan_free(c);

    /* Headers count too. */
    c = chan_new("capacity: 100\ntransactionCapacity: 10\nbyteCapacity: 10\n"
                 "byteCapacityBufferPercentage: 0\n");
    struct sl_event *ev = sl_event_create("12345", 5);
    sl_event_set_header(ev, "ab", "cde");
    assert_int_equal(sl_event_size(ev), 10);
    sl_chan_begin(c, 0, &tx);
    sl_chan_put(&tx, ev);
    assert_int_equal(sl_chan_commit_wait(&tx, 0), 0);
    assert_int_equal(put_range(c, 1, 1, 1, 0), SL_ERETRY);
    chan_free(c);
}

static void test_rollback_redelivers_in_order(void **state)
{
    struct sl_channel *c = chan_new("capacity: 50\ntransactionCapacity: 10\n");
    assert_int_equal(put_range(c, 0, 10, 0, 0), 0);
    assert_int_equal(put_range(c, 10, 10, 0, 0), 0);
    struct sl_chan_tx tx;
    sl_chan_begin(c, 1, &tx);
    assert_int_equal(sl_chan_take(&tx, 4, 0), 4);
    assert_int_equal(sl_chan_take(&tx, 3, 0), 3);
    sl_chan_rollback(&tx);
    /* A second rollback after a partial commit elsewhere. */
    sl_chan_begin(c, 1, &tx);
    assert_int_equal(sl_chan_take(&tx, 2, 0), 2);
    assert_int_equal(ev_int(tx.evs[0]), 0);
    sl_chan_commit(&tx);
    sl_chan_begin(c, 1, &tx);
    assert_int_equal(sl_chan_take(&tx, 5, 0), 5);
    sl_chan_rollback(&tx);
    int next = 2;
    while (chan_size(c)) {
        sl_chan_begin(c, 1, &tx);
        size_t n = sl_chan_take(&tx, 10, 0);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(ev_int(tx.evs[i]), next++);
        }
        sl_chan_commit(&tx);
    }
    assert_int_equal(next, 20);
    chan_free(c);
}

struct later {
    struct sl_channel *c;
    int delay_ms;
};

static void *take_later(void *arg)
{
    struct later *l = arg;
    struct timespec ts = {0, (long)l->delay_ms * 1000000L};
    nanosleep(&ts, NULL);
    struct sl_chan_tx tx;
    sl_chan_begin(l->c, 1, &tx);
    sl_chan_take(&tx, 1, 0);
    sl_chan_commit(&tx);
    return NULL;
}

static void test_keep_alive(void **state)
{
    struct sl_channel *c = chan_new("capacity: 2\ntransactionCapacity: 2\nkeep-alive: 1\n");
    assert_int_equal(put_range(c, 0, 2, 0, 0), 0);
    int64_t t0 = sl_mono_ms();
    assert_int_equal(put_range(c, 2, 1, 0, -1), SL_ERETRY); /* waits keep-alive, then fails */
    int64_t waited = sl_mono_ms() - t0;
    assert_true(waited >= 950 && waited < 3000);
    /* Room made while waiting: the put goes through. */
    struct later l = {c, 200};
    pthread_t th;
    pthread_create(&th, NULL, take_later, &l);
    t0 = sl_mono_ms();
    assert_int_equal(put_range(c, 2, 1, 0, -1), 0);
    assert_true(sl_mono_ms() - t0 < 950);
    pthread_join(th, NULL);
    assert_int_equal(chan_size(c), 2);
    chan_free(c);
}

#define PRODUCERS    4
#define PER_PRODUCER 5000

struct conc {
    struct sl_channel *c;
    int id;
    int got[PRODUCERS]; /* consumer: next expected sequence per producer */
    int64_t max_seen;
    int done;
};

static void *producer(void *arg)
{
    struct conc *p = arg;
    unsigned seed = (unsigned)p->id * 7919u + 1;
    int i = 0;
    while (i < PER_PRODUCER) {
        int n = 1 + (int)(rand_r(&seed) % 8);
        if (n > PER_PRODUCER - i) {
            n = PER_PRODUCER - i;
        }
        /* Event number encodes producer and sequence. */
        if (put_range(p->c, p->id * 1000000 + i, n, 0, 50) == 0) {
            i += n;
        }
    }
    return NULL;
}

static void *consumer(void *arg)
{
    struct conc *k = arg;
    unsigned seed = 4242;
    int total = 0;
    while (total < PRODUCERS * PER_PRODUCER) {
        struct sl_chan_tx tx;
        sl_chan_begin(k->c, 1, &tx);
        size_t n = sl_chan_take(&tx, 10, 20);
        size_t size = chan_size(k->c);
        if ((int64_t)size > k->max_seen) {
            k->max_seen = (int64_t)size;
        }
        if (n && rand_r(&seed) % 10 == 0) {
            sl_chan_rollback(&tx); /* must come back, in order */
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            int v = ev_int(tx.evs[i]);
            int prod = v / 1000000, seq = v % 1000000;
            assert_int_equal(seq, k->got[prod]);
            k->got[prod]++;
        }
        total += (int)n;
        sl_chan_commit(&tx);
    }
    return NULL;
}

static void test_concurrent_no_loss_no_dup_in_order(void **state)
{
    struct sl_channel *c = chan_new("capacity: 64\ntransactionCapacity: 10\n");
    struct conc ps[PRODUCERS];
    struct conc k;
    memset(&k, 0, sizeof(k));
    k.c = c;
    pthread_t pt[PRODUCERS], kt;
    pthread_create(&kt, NULL, consumer, &k);
    for (int i = 0; i < PRODUCERS; i++) {
        memset(&ps[i], 0, sizeof(ps[i]));
        ps[i].c = c;
        ps[i].id = i;
        pthread_create(&pt[i], NULL, producer, &ps[i]);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(pt[i], NULL);
    }
    pthread_join(kt, NULL);
    for (int i = 0; i < PRODUCERS; i++) {
        assert_int_equal(k.got[i], PER_PRODUCER);
    }
    assert_true(k.max_seen <= 64);
    assert_int_equal(chan_size(c), 0);
    assert_int_equal(c->take_successes, PRODUCERS * PER_PRODUCER);
    chan_free(c);
}

static void test_init_rejects_tx_over_capacity(void **state)
{
    struct sl_channel c = {.ops = &sl_memory_channel_ops};
    c.ctx = calloc(1, c.ops->ctx_size);
    const char *y = "capacity: 5\ntransactionCapacity: 6\n";
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(sl_yaml_load_string(y, strlen(y), &doc, &err), 0);
    assert_int_equal(sl_conf_bind(c.ops->conf, c.ctx, &doc, doc.root, NULL, "c", &err), 0);
    sl_yaml_free(&doc);
    assert_int_equal(c.ops->init(&c, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "must not exceed capacity"));
    sl_conf_free(c.ops->conf, c.ctx);
    free(c.ctx);
}

static void count_room(void *arg)
{
    __atomic_add_fetch((int *)arg, 1, __ATOMIC_RELAXED);
}

static void test_room_notified_once_after_refused_put(void **state)
{
    struct sl_channel *c = chan_new("capacity: 4\ntransactionCapacity: 4\n");
    int calls = 0;
    c->room_cb = count_room;
    c->room_arg = &calls;
    struct sl_event *evs[5];
    for (int i = 0; i < 5; i++) {
        evs[i] = ev_num(i, 0);
    }
    assert_int_equal(c->ops->commit_put(c, evs, 4, 4, 0), 0);
    struct sl_event *got[4];
    /* Room freed while nobody was refused: no call. */
    assert_int_equal(c->ops->take(c, got, 1, 0), 1);
    c->ops->commit_take(c, got, 1, got[0]->len);
    sl_event_destroy(got[0]);
    assert_int_equal(calls, 0);
    assert_int_equal(c->ops->commit_put(c, evs + 4, 1, 1, 0), 0); /* full again */
    struct sl_event *extra = ev_num(9, 0);
    assert_int_equal(c->ops->commit_put(c, &extra, 1, 1, 0), SL_ERETRY);
    assert_int_equal(c->ops->take(c, got, 2, 0), 2);
    c->ops->rollback_take(c, got, 2); /* a rollback frees nothing */
    assert_int_equal(calls, 0);
    assert_int_equal(c->ops->take(c, got, 2, 0), 2);
    c->ops->commit_take(c, got, 2, got[0]->len + got[1]->len);
    sl_event_destroy(got[0]);
    sl_event_destroy(got[1]);
    assert_int_equal(calls, 1);
    assert_int_equal(c->ops->take(c, got, 1, 0), 1);
    c->ops->commit_take(c, got, 1, got[0]->len); /* told once per refusal */
    sl_event_destroy(got[0]);
    assert_int_equal(calls, 1);
    assert_int_equal(c->ops->commit_put(c, &extra, 1, 1, 0), 0);
    chan_free(c);
}

struct slab_taker {
    struct sl_channel *c;
    int want, got;
    int order_ok;
};

static void *slab_take_main(void *arg)
{
    struct slab_taker *t = arg;
    t->order_ok = 1;
    while (t->got < t->want) {
        struct sl_chan_tx tx;
        sl_chan_begin(t->c, 1, &tx);
        size_t n = sl_chan_take(&tx, 7, 100);
        for (size_t i = 0; i < n; i++) {
            if (ev_int(tx.evs[i]) != t->got + (int)i) {
                t->order_ok = 0;
            }
        }
        if (n == 0) {
            sl_chan_rollback(&tx);
            continue;
        }
        if (t->got % 2 == 0) {
            sl_chan_commit(&tx); /* sl_event_destroy_many */
        } else {
            struct sl_event *one[7];
            memcpy(one, tx.evs, n * sizeof(*one));
            t->c->ops->commit_take(t->c, tx.evs, n, tx.bytes);
            tx.n = 0;
            sl_chan_commit(&tx);
            for (size_t i = 0; i < n; i++) {
                sl_event_destroy(one[i]); /* one by one */
            }
        }
        t->got += (int)n;
    }
    return NULL;
}

static void test_slab_events_freed_on_another_thread(void **state)
{
    struct sl_channel *c = chan_new("capacity: 50\ntransactionCapacity: 10\n");
    struct slab_taker t = {.c = c, .want = 2000};
    pthread_t th;
    pthread_create(&th, NULL, slab_take_main, &t);
    int next = 0;
    while (next < t.want) {
        /* A slab too small for all ten: the rest falls back to sl_event_create. */
        struct sl_event_slab *sl = sl_event_slab_create(6 * sl_event_slab_cost(8));
        struct sl_event *evs[10];
        size_t n = 0;
        for (; n < 10 && next + (int)n < t.want; n++) {
            char body[16];
            int len = snprintf(body, sizeof(body), "%d", next + (int)n);
            evs[n] = sl_event_slab_add(sl, body, (size_t)len);
            if (!evs[n]) {
                evs[n] = sl_event_create(body, (size_t)len);
            }
            assert_non_null(evs[n]);
        }
        if (n % 3 == 0) {
            assert_int_equal(sl_event_set_header(evs[0], "k", "v"), 0);
        }
        sl_event_slab_release(sl); /* the events keep it alive */
        struct sl_chan_tx tx;
        sl_chan_begin(c, 0, &tx);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(sl_chan_put(&tx, evs[i]), 0);
        }
        while (sl_chan_commit_wait(&tx, 1000) != 0) {
            sl_chan_begin(c, 0, &tx);
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(sl_chan_put(&tx, evs[i]), 0);
            }
        }
        next += (int)n;
    }
    pthread_join(th, NULL);
    assert_int_equal(t.got, t.want);
    assert_true(t.order_ok);
    assert_int_equal(chan_size(c), 0);
    chan_free(c); /* LeakSanitizer: every slab was freed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_exact),
        cmocka_unit_test(test_transaction_capacity),
        cmocka_unit_test(test_byte_capacity_exact),
        cmocka_unit_test(test_rollback_redelivers_in_order),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_concurrent_no_loss_no_dup_in_order),
        cmocka_unit_test(test_init_rejects_tx_over_capacity),
        cmocka_unit_test(test_room_notified_once_after_refused_put),
        cmocka_unit_test(test_slab_events_freed_on_another_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
