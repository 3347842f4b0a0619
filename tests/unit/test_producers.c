/*
 * test_producers.c - idempotent-producer state (broker/handlers/producer.c): producer ids are
 * never reused across restarts (block file), the sequence rules (duplicate of one of the last
 * five batches, gap, fenced epoch, epoch bump, sequence wrap-around), and rebuilding a
 * producer's state from the log's batch headers after a restart.
 */
/* cmocka.h needs these first */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include "broker/api.h"
#include "broker/handlers/data_int.h"
#include "store/batch.h"
#include "store/log.h"
#include "testutil.h"

static struct sl_batch_hdr hdr(int64_t pid, int16_t epoch, int32_t seq, int32_t count)
{
    struct sl_batch_hdr h;
    memset(&h, 0, sizeof(h));
    h.producer_id = pid;
    h.producer_epoch = epoch;
    h.base_sequence = seq;
    h.record_count = count;
    h.last_offset_delta = count - 1;
    return h;
}

static void test_ids_unique_across_restarts(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    struct sl_err err;
    int64_t seen_max = -1;
    for (int run = 0; run < 3; run++) {
        struct sl_producers *p;
        assert_int_equal(sl_producers_create(&p), 0);
        for (int i = 0; i < 1500; i++) {
            int64_t id;
            assert_int_equal(sl__producers_next_id(p, dir, &id, &err), 0);
            assert_true(id > seen_max);
            seen_max = id;
        }
        sl_producers_destroy(p);
    }
    sl_producers_destroy(NULL);
    /* A corrupt block file is an error, not a silent restart from 0. */
    char path[4096];
    snprintf(path, sizeof(path), "%s/producer-id-block", dir);
    FILE *f = fopen(path, "w");
    fputs("garbage\n", f);
    fclose(f);
    struct sl_producers *p;
    assert_int_equal(sl_producers_create(&p), 0);
    int64_t id;
    assert_int_equal(sl__producers_next_id(p, dir, &id, &err), SL_ECORRUPT);
    sl_producers_destroy(p);
    tu_rmtree(dir);
    free(dir);
}

static void test_sequence_rules(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    struct sl_producers *p;
    assert_int_equal(sl_producers_create(&p), 0);
    struct sl_err err;
    int64_t pid;
    assert_int_equal(sl__producers_next_id(p, dir, &pid, &err), 0); /* new: no rebuild */
    int64_t dup;
    /* the first batch of a new producer: any sequence (Kafka 2.x) */
    struct sl_batch_hdr h = hdr(pid, 0, 0, 3);
    assert_int_equal(sl__producers_check(p, NULL, "t", 0, &h, &dup), KERR_NONE);
    assert_int_equal(dup, -1);
    sl__producers_record(p, "t", 0, &h, 100);
    for (int i = 1; i <= 6; i++) { /* batches 3..20 at offsets 103.. */
        h = hdr(pid, 0, i * 3, 3);
        assert_int_equal(sl__producers_check(p, NULL, "t", 0, &h, &dup), KERR_NONE);
        assert_int_equal(dup, -1);
        sl__producers_record(p, "t", 0, &h, 100 + i * 3);
    }
    /* the last five are recognised, the oldest two are not */
    for (int i = 2; i <= 6; i++) {
        h = hdr(pid, 0, i * 3, 3);
        assert_int_equal(sl__producers_check(p, NULL, "t", 0, &h, &dup), KERR_NONE);
        assert_int_equal(dup, 100 + i * 3);
    }
    h = hdr(pid, 0, 3, 3);
    assert_int_equal(sl__producers_check(p, NULL, "t", 0, &h, &dup),
                     KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    h = hdr(pid, 0, 22, 1); /* gap: 21 expected */
    assert_int_equal(sl__producers_check(p, NULL, "t", 0, &h, &dup),
                     KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* same ranges on another partition are a different producer state */
    h = hdr(pid, 0, 9, 3);
    assert_int_equal(sl__producers_check(p, NULL, "t", 1, &h, &dup), KERR_NONE);
    assert_int_equal(dup, -1);
    /* epoch bump must restart at 0; then the old epoch is fenced */
    h = hdr(pid, 1, 5, 1);
    assert_int_equal(sl__producers_check(p, NULL, "t", 0, &h, &dup),
                     KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    h = hdr(pid, 1, 0, 1);
    assert_int_equal(sl__producers_check(p, NULL, "t", 0, &h, &dup), KERR_NONE);
    sl__producers_record(p, "t", 0, &h, 200);
    h = hdr(pid, 0, 21, 1);
    assert_int_equal(sl__producers_check(p, NULL, "t", 0, &h, &dup), KERR_INVALID_PRODUCER_EPOCH);
    /* sequences wrap from INT32_MAX to 0 */
    h = hdr(pid, 2, INT32_MAX - 1, 2); /* MAX-1, MAX */
    sl__producers_record(p, "w", 0, &h, 1);
    h = hdr(pid, 2, 0, 1);
    assert_int_equal(sl__producers_check(p, NULL, "w", 0, &h, &dup), KERR_NONE);
    assert_int_equal(dup, -1);
    h = hdr(pid, 2, 1, 1);
    assert_int_equal(sl__producers_check(p, NULL, "w", 0, &h, &dup),
                     KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* many producers: the table grows and keeps every entry */
    for (int64_t q = 1000; q < 3000; q++) {
        h = hdr(q, 0, 0, 1);
        sl__producers_record(p, "many", 0, &h, q);
    }
    for (int64_t q = 1000; q < 3000; q++) {
        h = hdr(q, 0, 0, 1);
        assert_int_equal(sl__producers_check(p, NULL, "many", 0, &h, &dup), KERR_NONE);
        assert_int_equal(dup, q);
    }
    sl_producers_destroy(p);
    tu_rmtree(dir);
    free(dir);
}

static void append_batch(struct sl_log *log, int64_t pid, int16_t epoch, int32_t seq, int n,
                         int64_t *base)
{
    struct sl_batch_builder b;
    assert_int_equal(sl_batch_builder_init(&b, 0, 1700000000000), 0);
    b.producer_id = pid;
    b.producer_epoch = epoch;
    b.base_sequence = seq;
    char value[200];
    memset(value, 'v', sizeof(value));
    for (int i = 0; i < n; i++) {
        assert_int_equal(sl_batch_builder_add(&b, 1700000000000 + i, NULL, 0, value,
                                              (int32_t)sizeof(value), NULL, 0),
                         0);
    }
    uint8_t *buf;
    size_t len;
    assert_int_equal(sl_batch_builder_finish(&b, &buf, &len), 0);
    sl_batch_builder_fini(&b);
    struct sl_log_append_opts o = {.assign_offsets = 1};
    struct sl_log_append_info info;
    struct sl_err err;
    assert_int_equal(sl_log_append(log, buf, len, &o, &info, &err), 0);
    *base = info.first_offset;
    free(buf);
}

static void test_rebuild_from_log(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char logdir[4096];
    snprintf(logdir, sizeof(logdir), "%s/t-0", dir);
    struct sl_log_config cfg;
    sl_log_config_default(&cfg);
    cfg.segment_bytes = 2048; /* several segments: the rebuild walks them all */
    struct sl_log_open_opts o = {
        .clean = 0, .log_start_offset = -1, .high_watermark = -1, .create = 1};
    struct sl_log *log;
    struct sl_err err;
    assert_int_equal(sl_log_open(logdir, &cfg, &o, &log, NULL, &err), 0);
    int64_t base[40];
    for (int i = 0; i < 40; i++) { /* producers 7 and 8 interleaved, 2 records per batch */
        append_batch(log, 7 + (i % 2), 3, (i / 2) * 2, 2, &base[i]);
    }
    assert_true(sl_log_segment_count(log) > 2);

    /* a restarted broker: no state in memory, no id handed out yet */
    struct sl_producers *p;
    assert_int_equal(sl_producers_create(&p), 0);
    int64_t dup;
    struct sl_batch_hdr h = hdr(7, 3, 38, 2); /* producer 7's last batch (i = 38) */
    assert_int_equal(sl__producers_check(p, log, "t", 0, &h, &dup), KERR_NONE);
    assert_int_equal(dup, base[38]);
    h = hdr(7, 3, 30, 2); /* i = 30: among the last five of producer 7 */
    assert_int_equal(sl__producers_check(p, log, "t", 0, &h, &dup), KERR_NONE);
    assert_int_equal(dup, base[30]);
    h = hdr(8, 3, 40, 2); /* producer 8 continues in sequence */
    assert_int_equal(sl__producers_check(p, log, "t", 0, &h, &dup), KERR_NONE);
    assert_int_equal(dup, -1);
    h = hdr(8, 2, 40, 2);
    assert_int_equal(sl__producers_check(p, log, "t", 0, &h, &dup), KERR_INVALID_PRODUCER_EPOCH);
    h = hdr(9, 0, 17, 1); /* not in the log: a new producer, any sequence */
    assert_int_equal(sl__producers_check(p, log, "t", 0, &h, &dup), KERR_NONE);
    assert_int_equal(dup, -1);
    sl_producers_destroy(p);
    assert_int_equal(sl_log_close(log, 1), 0);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_unique_across_restarts),
        cmocka_unit_test(test_sequence_rules),
        cmocka_unit_test(test_rebuild_from_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
