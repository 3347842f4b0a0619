/*
 * test_log.c - the partition log: append, offsets, batch-aligned reads, rolling, follower
 * appends, truncation, reopen, LogAppendTime and the leader-epoch cache.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "store/log.h"
#include "store/log_int.h"
#include "testutil.h"

static int setup(void **state)
{
    struct tu_log_fx *f = tu_log_fx_new("events-0");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct tu_log_fx *f = *state;
    tu_log_fx_free(f);
    return 0;
}

static void open_log(struct tu_log_fx *f, int clean)
{
    struct sl_log_open_opts o = {.clean = clean, .log_start_offset = -1, .high_watermark = -1,
                                 .create = 1};
    struct sl_err err = {0};
    int rc = sl_log_open(f->dir, &f->cfg, &o, &f->log, NULL, &err);
    if (rc != 0) {
        fail_msg("open: %s", err.msg);
    }
}

static void reopen(struct tu_log_fx *f, int clean)
{
    sl_log_close(f->log, clean);
    f->log = NULL;
    open_log(f, clean);
}

/* Append one batch of n records; returns its first offset. */
static int64_t append(struct tu_log_fx *f, int n, size_t value_size, int64_t ts)
{
    uint8_t *b;
    size_t len = tu_batch(&b, n, value_size, ts, (uint32_t)n);
    struct sl_log_append_opts o = {.leader_epoch = 0, .assign_offsets = 1, .now_ms = ts + 1000};
    struct sl_log_append_info info;
    struct sl_err err = {0};
    int rc = sl_log_append(f->log, b, len, &o, &info, &err);
    free(b);
    if (rc != 0) {
        fail_msg("append: %s", err.msg);
    }
    assert_int_equal(info.last_offset - info.first_offset + 1, n);
    return info.first_offset;
}

/* Read everything from offset 0 with the given limits; count batches and check offsets. */
static int64_t read_all(struct tu_log_fx *f, int64_t from, int64_t max_bytes, int *batches)
{
    int64_t off = from;
    *batches = 0;
    for (int guard = 0; guard < 100000; guard++) {
        uint8_t *buf;
        size_t len;
        int64_t next;
        struct sl_err err = {0};
        int rc = sl_log_read_copy(f->log, off, max_bytes, -1, 1, &buf, &len, &next, &err);
        assert_int_equal(rc, 0);
        if (len == 0) {
            if (off >= sl_log_end_offset(f->log)) {
                break;
            }
            off = next; /* end of a segment */
            continue;
        }
        size_t pos = 0;
        while (pos < len) {
            struct sl_batch_hdr h;
            assert_int_equal(sl_batch_validate(buf + pos, len - pos, &h, NULL), 0);
            assert_true(h.base_offset <= off || *batches > 0);
            assert_true(sl_batch_hdr_last_offset(&h) >= off);
            off = sl_batch_hdr_last_offset(&h) + 1;
            pos += sl_batch_hdr_size(&h);
            (*batches)++;
        }
        assert_int_equal(off, next);
        free(buf);
    }
    return off;
}

static void test_append_assigns_offsets(void **state)
{
    struct tu_log_fx *f = *state;
    open_log(f, 1);
    assert_int_equal(sl_log_end_offset(f->log), 0);
    assert_int_equal(append(f, 3, 10, 1000), 0);
    assert_int_equal(append(f, 5, 10, 2000), 3);
    assert_int_equal(sl_log_end_offset(f->log), 8);

    uint8_t *buf;
    size_t len;
    int64_t next;
    assert_int_equal(sl_log_read_copy(f->log, 4, 1 << 20, -1, 1, &buf, &len, &next, NULL), 0);
    struct sl_batch_hdr h;
    assert_int_equal(sl_batch_validate(buf, len, &h, NULL), 0);
    assert_int_equal(h.base_offset, 3);
    assert_int_equal(h.record_count, 5);
    assert_int_equal(h.leader_epoch, 0);
    assert_int_equal(next, 8);
    free(buf);
}

static void test_read_limits(void **state)
{
    struct tu_log_fx *f = *state;
    open_log(f, 1);
    for (int i = 0; i < 20; i++) {
        append(f, 2, 100, 1000 + i);
    }
    struct sl_log_slice s;
    /* A limit smaller than one batch: nothing without min_one, exactly one batch with it. */
    assert_int_equal(sl_log_read(f->log, 0, 10, -1, 0, &s, NULL), 0);
    assert_int_equal(s.length, 0);
    sl_log_slice_release(&s);
    assert_int_equal(sl_log_read(f->log, 0, 10, -1, 1, &s, NULL), 0);
    int64_t one = s.length;
    assert_true(one > 200);
    assert_int_equal(s.next_offset, 2);
    sl_log_slice_release(&s);
    /* Byte limit of 3.5 batches: exactly 3 whole batches. */
    assert_int_equal(sl_log_read(f->log, 0, one * 3 + one / 2, -1, 0, &s, NULL), 0);
    assert_int_equal(s.length, one * 3);
    assert_int_equal(s.next_offset, 6);
    sl_log_slice_release(&s);
    /* An offset in the middle of a batch starts at that batch. */
    assert_int_equal(sl_log_read(f->log, 7, one, -1, 0, &s, NULL), 0);
    assert_int_equal(s.first_offset, 6);
    assert_int_equal(s.position, one * 3);
    sl_log_slice_release(&s);
    /* max_offset (the high watermark) stops before the batch holding it. */
    assert_int_equal(sl_log_read(f->log, 0, 1 << 20, 9, 0, &s, NULL), 0);
    assert_int_equal(s.next_offset, 8);
    assert_int_equal(s.length, one * 4);
    sl_log_slice_release(&s);
    /* At the end: empty; past it or before the start: out of range. */
    assert_int_equal(sl_log_read(f->log, 40, 1 << 20, -1, 1, &s, NULL), 0);
    assert_int_equal(s.length, 0);
    sl_log_slice_release(&s);
    assert_int_equal(sl_log_read(f->log, 41, 1 << 20, -1, 1, &s, NULL), SL_ERANGE);
    sl_log_slice_release(&s);
    assert_int_equal(sl_log_read(f->log, -1, 1 << 20, -1, 1, &s, NULL), SL_ERANGE);
    sl_log_slice_release(&s);
}

static void test_roll_and_read_across_segments(void **state)
{
    struct tu_log_fx *f = *state;
    f->cfg.segment_bytes = 4096;
    f->cfg.index_interval_bytes = 512;
    open_log(f, 1);
    int64_t total = 0;
    for (int i = 0; i < 200; i++) {
        total += 1 + i % 4;
        append(f, 1 + i % 4, 50 + (size_t)(i % 7) * 30, 1000 + i);
    }
    assert_int_equal(sl_log_end_offset(f->log), total);
    assert_true(sl_log_segment_count(f->log) > 10);
    int batches;
    assert_int_equal(read_all(f, 0, 1 << 20, &batches), total);
    assert_int_equal(batches, 200);
    assert_int_equal(read_all(f, 0, 700, &batches), total);
    assert_int_equal(batches, 200);
    /* The same after a clean reopen (indexes from their files) and an unclean one. */
    reopen(f, 1);
    assert_int_equal(sl_log_end_offset(f->log), total);
    assert_int_equal(read_all(f, 0, 1000, &batches), total);
    assert_int_equal(batches, 200);
    reopen(f, 0);
    assert_int_equal(sl_log_end_offset(f->log), total);
    assert_int_equal(read_all(f, 5, 1 << 20, &batches), total);
    assert_int_equal(append(f, 1, 10, 5000), total);
}

static void test_invalid_batch_rejects_whole_append(void **state)
{
    struct tu_log_fx *f = *state;
    open_log(f, 1);
    append(f, 2, 10, 1000);
    uint8_t *a, *b;
    size_t la = tu_batch(&a, 2, 10, 1000, 1), lb = tu_batch(&b, 2, 10, 1000, 2);
    uint8_t *both = malloc(la + lb);
    memcpy(both, a, la);
    memcpy(both + la, b, lb);
    both[la + 40] ^= 0x55; /* inside the second batch's CRC-covered bytes */
    struct sl_log_append_opts o = {.assign_offsets = 1};
    struct sl_err err = {0};
    assert_int_equal(sl_log_append(f->log, both, la + lb, &o, NULL, &err), SL_ECRC);
    assert_non_null(strstr(err.msg, "batch 1"));
    assert_int_equal(sl_log_end_offset(f->log), 2);
    assert_int_equal(sl_log_failed(f->log, NULL, 0), 0);
    /* Too large for max.message.bytes. */
    f->cfg.max_message_bytes = (int64_t)la - 1;
    sl_log_set_config(f->log, &f->cfg);
    assert_int_equal(sl_log_append(f->log, a, la, &o, NULL, &err), SL_ETOOLARGE);
    assert_int_equal(sl_log_append(f->log, a, 0, &o, NULL, &err), SL_ECORRUPT);
    assert_int_equal(sl_log_end_offset(f->log), 2);
    free(a);
    free(b);
    free(both);
}

static void test_follower_append(void **state)
{
    struct tu_log_fx *f = *state;
    open_log(f, 1);
    uint8_t *b;
    size_t len = tu_batch(&b, 3, 10, 1000, 1);
    struct sl_log_append_opts o = {.assign_offsets = 0};
    struct sl_err err = {0};
    sl_batch_set_base_offset(b, 0);
    sl_batch_set_leader_epoch(b, 4);
    assert_int_equal(sl_log_append(f->log, b, len, &o, NULL, &err), 0);
    assert_int_equal(sl_log_end_offset(f->log), 3);
    assert_int_equal(sl_log_epoch_latest(f->log), 4);
    /* Offsets below the end are refused. */
    sl_batch_set_base_offset(b, 1);
    assert_int_equal(sl_log_append(f->log, b, len, &o, NULL, &err), SL_ERANGE);
    /* A gap (compacted leader) starts a new segment at the batch. */
    sl_batch_set_base_offset(b, 10);
    sl_batch_set_leader_epoch(b, 5);
    assert_int_equal(sl_log_append(f->log, b, len, &o, NULL, &err), 0);
    assert_int_equal(sl_log_end_offset(f->log), 13);
    assert_int_equal(sl_log_segment_count(f->log), 2);
    int32_t ep;
    int64_t end;
    sl_log_epoch_end_offset(f->log, 4, &ep, &end);
    assert_int_equal(ep, 4);
    assert_int_equal(end, 10);
    sl_log_epoch_end_offset(f->log, 5, &ep, &end);
    assert_int_equal(end, 13);
    sl_log_epoch_end_offset(f->log, 3, &ep, &end);
    assert_int_equal(ep, -1);
    assert_int_equal(end, -1);
    free(b);
    int batches;
    assert_int_equal(read_all(f, 0, 1 << 20, &batches), 13);
    assert_int_equal(batches, 2);
}

static void test_truncate(void **state)
{
    struct tu_log_fx *f = *state;
    f->cfg.segment_bytes = 2048;
    open_log(f, 1);
    for (int i = 0; i < 50; i++) {
        append(f, 2, 100, 1000 + i);
    }
    int segs = sl_log_segment_count(f->log);
    sl_log_set_high_watermark(f->log, 100);
    /* Inside a batch: the whole batch goes. */
    assert_int_equal(sl_log_truncate_to(f->log, 31, NULL), 0);
    assert_int_equal(sl_log_end_offset(f->log), 30);
    assert_int_equal(sl_log_high_watermark(f->log), 30);
    assert_true(sl_log_segment_count(f->log) < segs);
    assert_int_equal(append(f, 2, 100, 9000), 30);
    int batches;
    assert_int_equal(read_all(f, 0, 1 << 20, &batches), 32);
    assert_int_equal(batches, 16);
    reopen(f, 0);
    assert_int_equal(sl_log_end_offset(f->log), 32);
    /* Truncating at the end is a no-op; fully restarts the log elsewhere. */
    assert_int_equal(sl_log_truncate_to(f->log, 32, NULL), 0);
    assert_int_equal(sl_log_end_offset(f->log), 32);
    assert_int_equal(sl_log_truncate_fully(f->log, 500, NULL), 0);
    assert_int_equal(sl_log_start_offset(f->log), 500);
    assert_int_equal(sl_log_end_offset(f->log), 500);
    assert_int_equal(sl_log_segment_count(f->log), 1);
    assert_int_equal(append(f, 1, 10, 9000), 500);
    reopen(f, 1);
    assert_int_equal(sl_log_start_offset(f->log), 500);
    assert_int_equal(sl_log_end_offset(f->log), 501);
}

static void test_log_append_time(void **state)
{
    struct tu_log_fx *f = *state;
    assert_int_equal(sl_log_config_set(&f->cfg, "message.timestamp.type", "LogAppendTime",
                                       NULL),
                     0);
    open_log(f, 1);
    uint8_t *b;
    size_t len = tu_batch(&b, 2, 10, 1000, 1);
    struct sl_log_append_opts o = {.assign_offsets = 1, .now_ms = 777777};
    struct sl_log_append_info info;
    assert_int_equal(sl_log_append(f->log, b, len, &o, &info, NULL), 0);
    assert_int_equal(info.log_append_time, 777777);
    free(b);
    uint8_t *buf;
    size_t n;
    assert_int_equal(sl_log_read_copy(f->log, 0, 1 << 20, -1, 1, &buf, &n, NULL, NULL), 0);
    struct sl_batch_hdr h;
    assert_int_equal(sl_batch_validate(buf, n, &h, NULL), 0);
    assert_true(h.attributes & SL_BATCH_ATTR_LOG_APPEND_TIME);
    assert_int_equal(h.max_timestamp, 777777);
    free(buf);
}

static void test_epoch_cache_persists(void **state)
{
    struct tu_log_fx *f = *state;
    open_log(f, 1);
    struct sl_log_append_opts o = {.assign_offsets = 1, .leader_epoch = 1};
    uint8_t *b;
    size_t len = tu_batch(&b, 2, 10, 1000, 1);
    assert_int_equal(sl_log_append(f->log, b, len, &o, NULL, NULL), 0);
    o.leader_epoch = 3;
    assert_int_equal(sl_log_append(f->log, b, len, &o, NULL, NULL), 0);
    assert_int_equal(sl_log_append(f->log, b, len, &o, NULL, NULL), 0);
    free(b);
    reopen(f, 1);
    int32_t ep;
    int64_t end;
    assert_int_equal(sl_log_epoch_latest(f->log), 3);
    sl_log_epoch_end_offset(f->log, 1, &ep, &end);
    assert_int_equal(ep, 1);
    assert_int_equal(end, 2);
    sl_log_epoch_end_offset(f->log, 2, &ep, &end);
    assert_int_equal(ep, 1);
    assert_int_equal(end, 2);
    sl_log_epoch_end_offset(f->log, 3, &ep, &end);
    assert_int_equal(end, 6);
    /* Truncation below epoch 3's start forgets it. */
    assert_int_equal(sl_log_truncate_to(f->log, 2, NULL), 0);
    assert_int_equal(sl_log_epoch_latest(f->log), 1);
    reopen(f, 0);
    assert_int_equal(sl_log_epoch_latest(f->log), 1);
}

static void test_slice_outlives_deleted_segment(void **state)
{
    struct tu_log_fx *f = *state;
    f->cfg.segment_bytes = 1024;
    f->cfg.retention_bytes = 0;
    open_log(f, 1);
    for (int i = 0; i < 10; i++) {
        append(f, 1, 400, 1000 + i);
    }
    sl_log_set_high_watermark(f->log, INT64_MAX);
    struct sl_log_slice s;
    assert_int_equal(sl_log_read(f->log, 0, 1 << 20, -1, 1, &s, NULL), 0);
    assert_true(s.length > 0);
    assert_true(sl_log_retain(f->log, 5000, NULL) > 0);
    assert_true(sl_log_start_offset(f->log) > 0);
    uint8_t buf[SL_BATCH_HEADER_SIZE];
    assert_int_equal(pread(s.fd, buf, sizeof(buf), s.position), (ssize_t)sizeof(buf));
    struct sl_batch_hdr h;
    assert_int_equal(sl_batch_parse_header(buf, sizeof(buf), &h, NULL), 0);
    assert_int_equal(h.base_offset, 0);
    sl_log_slice_release(&s);
}

static void test_dir_name(void **state)
{
    char topic[64];
    int32_t p;
    assert_int_equal(sl_log_parse_dir_name("my-topic-12", topic, sizeof(topic), &p), 0);
    assert_string_equal(topic, "my-topic");
    assert_int_equal(p, 12);
    assert_int_equal(sl_log_parse_dir_name("topic", topic, sizeof(topic), &p), SL_ECONFIG);
    assert_int_equal(sl_log_parse_dir_name("topic-", topic, sizeof(topic), &p), SL_ECONFIG);
    assert_int_equal(sl_log_parse_dir_name("-3", topic, sizeof(topic), &p), SL_ECONFIG);
    assert_int_equal(sl_log_parse_dir_name("t-x1", topic, sizeof(topic), &p), SL_ECONFIG);
    /* The last '-' splits: a topic may itself end in '-'. */
    assert_int_equal(sl_log_parse_dir_name("t--1", topic, sizeof(topic), &p), 0);
    assert_string_equal(topic, "t-");
    assert_int_equal(p, 1);
    assert_int_equal(sl_log_parse_dir_name("t-+1", topic, sizeof(topic), &p), SL_ECONFIG);
    assert_int_equal(sl_log_parse_dir_name("t-99999999999", topic, sizeof(topic), &p),
                     SL_ECONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_assigns_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roll_and_read_across_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_batch_rejects_whole_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follower_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_append_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_cache_persists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slice_outlives_deleted_segment, setup, teardown),
        cmocka_unit_test(test_dir_name),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
