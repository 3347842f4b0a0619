/*
 * test_retention.c - deleting whole segments by retention.ms and retention.bytes: oldest
 * first, never the active segment, never at or above the high watermark; the log start
 * offset moves; rolling by segment.ms and by a full index; sl_log_delete_before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "store/log.h"
#include "testutil.h"

static int setup(void **state)
{
    struct tu_log_fx *f = tu_log_fx_new("r-0");
    f->cfg.segment_bytes = 1000;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct tu_log_fx *f = *state;
    tu_log_fx_free(f);
    return 0;
}

static void open_log(struct tu_log_fx *f)
{
    struct sl_log_open_opts o = {.clean = 1, .log_start_offset = -1, .high_watermark = -1,
                                 .create = 1};
    assert_int_equal(sl_log_open(f->dir, &f->cfg, &o, &f->log, NULL, NULL), 0);
}

/* Append one ~480-byte batch of 2 records with timestamp ts; two batches fill a segment. */
static void append(struct tu_log_fx *f, int64_t ts, int64_t now)
{
    uint8_t *b;
    size_t len = tu_batch(&b, 2, 200, ts, 1);
    struct sl_log_append_opts o = {.assign_offsets = 1, .now_ms = now};
    assert_int_equal(sl_log_append(f->log, b, len, &o, NULL, NULL), 0);
    free(b);
    sl_log_set_high_watermark(f->log, INT64_MAX);
}

static void test_by_time(void **state)
{
    struct tu_log_fx *f = *state;
    f->cfg.retention_ms = 10000;
    open_log(f);
    for (int i = 0; i < 10; i++) {
        append(f, 1000 + i * 1000, 20000);
    }
    int segs = sl_log_segment_count(f->log);
    assert_int_equal(segs, 5);
    /* At now = 14500, segments whose newest record is older than 4500 go: the first two
     * (newest 2001 and 4001); the third's newest is 6001. */
    assert_int_equal(sl_log_retain(f->log, 14500, NULL), 2);
    assert_int_equal(sl_log_segment_count(f->log), 3);
    assert_int_equal(sl_log_start_offset(f->log), 8);
    /* Nothing more is old enough. */
    assert_int_equal(sl_log_retain(f->log, 14500, NULL), 0);
    /* Everything expired: the active segment is rolled so the old ones can go. */
    assert_int_equal(sl_log_retain(f->log, 1000000, NULL), 3);
    assert_int_equal(sl_log_segment_count(f->log), 1);
    assert_int_equal(sl_log_start_offset(f->log), 20);
    assert_int_equal(sl_log_end_offset(f->log), 20);
    assert_int_equal(sl_log_size_bytes(f->log), 0);
    append(f, 999999, 1000000);
    assert_int_equal(sl_log_end_offset(f->log), 22);
}

static void test_by_size(void **state)
{
    struct tu_log_fx *f = *state;
    open_log(f);
    for (int i = 0; i < 10; i++) {
        append(f, 1000 + i, 2000);
    }
    int64_t seg = sl_log_size_bytes(f->log) / 5;
    /* Kafka's rule: delete the oldest while the excess still covers a whole segment, so the
     * log never shrinks below retention.bytes. */
    f->cfg.retention_bytes = seg * 3 - 10;
    sl_log_set_config(f->log, &f->cfg);
    assert_int_equal(sl_log_retain(f->log, 3000, NULL), 2);
    assert_int_equal(sl_log_segment_count(f->log), 3);
    assert_int_equal(sl_log_start_offset(f->log), 8);
    /* retention.bytes = 0: everything goes; the active segment is rolled first, so the log
     * keeps one empty active segment at the same end offset. */
    f->cfg.retention_bytes = 0;
    sl_log_set_config(f->log, &f->cfg);
    assert_int_equal(sl_log_retain(f->log, 3000, NULL), 3);
    assert_int_equal(sl_log_segment_count(f->log), 1);
    assert_int_equal(sl_log_start_offset(f->log), 20);
    assert_int_equal(sl_log_size_bytes(f->log), 0);
    int64_t o, ts;
    assert_int_equal(sl_log_offset_for_time(f->log, SL_TS_EARLIEST, &o, &ts, NULL), 0);
    assert_int_equal(o, 20);
    assert_int_equal(sl_log_offset_for_time(f->log, SL_TS_LATEST, &o, &ts, NULL), 0);
    assert_int_equal(o, 20);
}

static void test_high_watermark_bounds_retention(void **state)
{
    struct tu_log_fx *f = *state;
    f->cfg.retention_bytes = 0;
    open_log(f);
    for (int i = 0; i < 10; i++) {
        append(f, 1000 + i, 2000);
    }
    sl_log_set_high_watermark(f->log, 5); /* consumers may read only offsets 0..4 */
    assert_int_equal(sl_log_retain(f->log, 3000, NULL), 1);
    assert_int_equal(sl_log_start_offset(f->log), 4);
}

/* sl_log_delete_before: whole segments below the offset go, whatever the retention and the
 * high watermark say; the active segment and a segment holding the offset stay. */
static void test_delete_before(void **state)
{
    struct tu_log_fx *f = *state;
    open_log(f);
    for (int i = 0; i < 10; i++) {
        append(f, 1000 + i, 2000);
    }
    sl_log_set_high_watermark(f->log, 0); /* ignored: the caller owns the log */
    assert_int_equal(sl_log_segment_count(f->log), 5); /* bases 0, 4, 8, 12, 16 */
    assert_int_equal(sl_log_delete_before(f->log, 3, NULL), 0);
    assert_int_equal(sl_log_delete_before(f->log, 4, NULL), 1);
    assert_int_equal(sl_log_start_offset(f->log), 4);
    assert_int_equal(sl_log_delete_before(f->log, 11, NULL), 1);
    assert_int_equal(sl_log_start_offset(f->log), 8);
    /* Far past the end: everything but the active segment. */
    assert_int_equal(sl_log_delete_before(f->log, 1000, NULL), 2);
    assert_int_equal(sl_log_segment_count(f->log), 1);
    assert_int_equal(sl_log_start_offset(f->log), 16);
    assert_int_equal(sl_log_end_offset(f->log), 20);
    uint8_t *buf;
    size_t len;
    int64_t next;
    assert_int_equal(sl_log_read_copy(f->log, 16, 1 << 20, -1, 1, &buf, &len, &next, NULL), 0);
    assert_true(len > 0);
    assert_int_equal(next, 20);
    free(buf);
    assert_int_equal(sl_log_delete_before(f->log, 1000, NULL), 0);
}

static void test_roll_by_time_and_index(void **state)
{
    struct tu_log_fx *f = *state;
    f->cfg.segment_bytes = 1 << 30;
    f->cfg.segment_ms = 5000;
    open_log(f);
    append(f, 1000, 1000);
    append(f, 3000, 3000);
    assert_int_equal(sl_log_segment_count(f->log), 1);
    append(f, 7000, 7000); /* 6000 ms after the segment's first batch */
    assert_int_equal(sl_log_segment_count(f->log), 2);
    /* A full index rolls too: room for 3 offset entries, an entry per batch. */
    f->cfg.segment_ms = INT64_MAX;
    f->cfg.segment_index_bytes = 36;
    f->cfg.index_interval_bytes = 0;
    sl_log_set_config(f->log, &f->cfg);
    for (int i = 0; i < 12; i++) {
        append(f, 8000 + i, 8000 + i);
    }
    assert_true(sl_log_segment_count(f->log) >= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_by_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_by_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_high_watermark_bounds_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roll_by_time_and_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_before, setup, teardown),
    };
    return cmocka_run_group_tests_name("retention", tests, NULL, NULL);
}
