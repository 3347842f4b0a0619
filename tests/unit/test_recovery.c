/*
 * test_recovery.c - crash recovery torture: a log whose last batch is cut at every byte, or
 * has one byte flipped at every position, recovers to exactly the batches before it, and
 * the next append continues at the right offset. Also: damage in an older segment removes
 * the segments after it, missing or garbage index files are rebuilt, and a clean open
 * trusts the files but still notices a damaged tail.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "common/sl_macros.h"
#include "store/log.h"
#include "testutil.h"

#define BATCHES 6

struct fx {
    char *root;
    char dir[PATH_MAX];
    char seg0[PATH_MAX + 64];
    struct sl_log_config cfg;
    int64_t ends[BATCHES]; /* byte position after batch i */
    int64_t next[BATCHES]; /* offset after batch i */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->root = tu_mkdtemp();
    snprintf(f->dir, sizeof(f->dir), "%s/t-0", f->root);
    snprintf(f->seg0, sizeof(f->seg0), "%s/%020d.log", f->dir, 0);
    sl_log_config_default(&f->cfg);
    f->cfg.index_interval_bytes = 64;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tu_rmtree(f->root);
    free(f->root);
    free(f);
    return 0;
}

static struct sl_log *open_log(struct fx *f, int clean, struct sl_log_recovery_info *ri)
{
    struct sl_log_open_opts o = {.clean = clean, .log_start_offset = -1, .high_watermark = -1,
                                 .create = 1};
    struct sl_log *log;
    struct sl_err err = {0};
    if (sl_log_open(f->dir, &f->cfg, &o, &log, ri, &err) != 0) {
        fail_msg("open: %s", err.msg);
    }
    return log;
}

static int64_t append(struct sl_log *log, int n, int64_t ts)
{
    uint8_t *b;
    size_t len = tu_batch(&b, n, 20, ts, (uint32_t)ts);
    struct sl_log_append_opts o = {.assign_offsets = 1};
    struct sl_log_append_info info;
    assert_int_equal(sl_log_append(log, b, len, &o, &info, NULL), 0);
    free(b);
    return info.first_offset;
}

/* Write BATCHES batches of 1..BATCHES records and keep a pristine copy of the segment. */
static uint8_t *build(struct fx *f, size_t *len)
{
    struct sl_log *log = open_log(f, 1, NULL);
    for (int i = 0; i < BATCHES; i++) {
        append(log, i + 1, 1000 + i * 10);
        f->ends[i] = sl_log_size_bytes(log);
        f->next[i] = sl_log_end_offset(log);
    }
    sl_log_close(log, 1);
    FILE *fp = fopen(f->seg0, "rb");
    *len = (size_t)f->ends[BATCHES - 1];
    uint8_t *copy = malloc(*len);
    assert_int_equal(fread(copy, 1, *len, fp), *len);
    fclose(fp);
    return copy;
}

static void write_seg(struct fx *f, const uint8_t *data, size_t len)
{
    FILE *fp = fopen(f->seg0, "wb");
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

/* Reopen unclean and check that exactly the first `keep` batches remain and appends go on. */
static void check_recovers_to(struct fx *f, int keep)
{
    struct sl_log_recovery_info ri;
    struct sl_log *log = open_log(f, 0, &ri);
    int64_t want_end = keep ? f->next[keep - 1] : 0;
    int64_t want_size = keep ? f->ends[keep - 1] : 0;
    assert_true(ri.recovered);
    assert_int_equal(sl_log_end_offset(log), want_end);
    assert_int_equal(sl_log_size_bytes(log), want_size);
    assert_int_equal(tu_file_size(f->seg0), want_size);
    assert_int_equal(append(log, 2, 99999), want_end);
    uint8_t *buf;
    size_t len;
    assert_int_equal(sl_log_read_copy(log, 0, 1 << 20, -1, 1, &buf, &len, NULL, NULL),
                     0);
    size_t pos = 0;
    int n = 0;
    while (pos < len) {
        struct sl_batch_hdr h;
        assert_int_equal(sl_batch_validate(buf + pos, len - pos, &h, NULL), 0);
        pos += sl_batch_hdr_size(&h);
        n++;
    }
    assert_int_equal(n, keep + 1);
    free(buf);
    sl_log_close(log, 0);
}

static void test_cut_last_batch_at_every_byte(void **state)
{
    struct fx *f = *state;
    size_t len;
    uint8_t *pristine = build(f, &len);
    int64_t last_start = f->ends[BATCHES - 2];
    for (int64_t cut = last_start; cut < (int64_t)len; cut++) {
        write_seg(f, pristine, (size_t)cut);
        check_recovers_to(f, BATCHES - 1);
    }
    /* The whole file: nothing lost. */
    write_seg(f, pristine, len);
    check_recovers_to(f, BATCHES);
    free(pristine);
}

static void test_flip_every_byte_of_last_batch(void **state)
{
    struct fx *f = *state;
    size_t len;
    uint8_t *pristine = build(f, &len);
    uint8_t *copy = malloc(len);
    int64_t last_start = f->ends[BATCHES - 2];
    for (int64_t i = last_start; i < (int64_t)len; i++) {
        memcpy(copy, pristine, len);
        copy[i] ^= 0x01;
        write_seg(f, copy, len);
        /* baseOffset and partitionLeaderEpoch lie outside the CRC (Kafka's format). A flipped
         * epoch is harmless. A flipped base offset is caught when it goes backwards or out
         * of the segment's 32-bit relative range; a small forward jump looks like a gap of a
         * compacted log and cannot be told apart, by us or by Kafka: the batch is kept. */
        int64_t rel = i - last_start;
        if (rel >= 12 && rel < 16) {
            check_recovers_to(f, BATCHES);
        } else if (rel < 8) {
            int64_t base = (int64_t)sl_load_be64(copy + last_start);
            int64_t last = base + BATCHES - 1;
            if (base < f->next[BATCHES - 2] || last > INT32_MAX) {
                check_recovers_to(f, BATCHES - 1);
            } else {
                struct sl_log_recovery_info ri;
                struct sl_log *log = open_log(f, 0, &ri);
                assert_int_equal(sl_log_end_offset(log), last + 1);
                assert_int_equal(sl_log_size_bytes(log), (int64_t)len);
                sl_log_close(log, 0);
            }
        } else {
            check_recovers_to(f, BATCHES - 1);
        }
    }
    free(copy);
    free(pristine);
}

static void test_garbage_after_last_batch(void **state)
{
    struct fx *f = *state;
    size_t len;
    uint8_t *pristine = build(f, &len);
    uint8_t *copy = calloc(1, len + 100);
    memcpy(copy, pristine, len);
    write_seg(f, copy, len + 100); /* a zero-filled tail, as after a torn preallocation */
    check_recovers_to(f, BATCHES);
    free(copy);
    free(pristine);
}

static void test_damage_in_older_segment_drops_later_ones(void **state)
{
    struct fx *f = *state;
    f->cfg.segment_bytes = 600;
    struct sl_log *log = open_log(f, 1, NULL);
    for (int i = 0; i < 30; i++) {
        append(log, 2, 1000 + i);
    }
    int segs = sl_log_segment_count(log);
    assert_true(segs >= 4);
    sl_log_close(log, 1);
    /* Flip a byte in the middle of the first segment's second batch. */
    FILE *fp = fopen(f->seg0, "r+b");
    uint8_t hdr[SL_BATCH_HEADER_SIZE];
    assert_int_equal(fread(hdr, 1, sizeof(hdr), fp), sizeof(hdr));
    struct sl_batch_hdr h;
    assert_int_equal(sl_batch_parse_header(hdr, sizeof(hdr), &h, NULL), 0);
    long second = (long)sl_batch_hdr_size(&h);
    fseek(fp, second + 30, SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, second + 30, SEEK_SET);
    fputc(c ^ 0xff, fp);
    fclose(fp);
    struct sl_log_recovery_info ri;
    log = open_log(f, 0, &ri);
    assert_int_equal(sl_log_end_offset(log), 2);
    assert_int_equal(sl_log_segment_count(log), 1);
    assert_int_equal(ri.segments_deleted, segs - 1);
    assert_true(ri.bytes_truncated > 0);
    assert_true(ri.first_error[0] != '\0');
    assert_int_equal(append(log, 1, 5), 2);
    sl_log_close(log, 0);
}

static void test_recovery_point_limits_work(void **state)
{
    struct fx *f = *state;
    f->cfg.segment_bytes = 600;
    struct sl_log *log = open_log(f, 1, NULL);
    for (int i = 0; i < 30; i++) {
        append(log, 2, 1000 + i);
    }
    assert_int_equal(sl_log_flush(log, NULL), 0);
    int64_t rp = sl_log_recovery_point(log);
    assert_int_equal(rp, 60);
    int segs = sl_log_segment_count(log);
    sl_log_close(log, 0);
    struct sl_log_open_opts o = {.clean = 0, .recovery_point = rp, .log_start_offset = -1,
                                 .high_watermark = -1};
    struct sl_log_recovery_info ri;
    assert_int_equal(sl_log_open(f->dir, &f->cfg, &o, &log, &ri, NULL), 0);
    assert_int_equal(ri.segments_checked, 1); /* only the active segment */
    assert_true(segs > 1);
    assert_int_equal(sl_log_end_offset(log), 60);
    sl_log_close(log, 0);
}

static void test_index_files_rebuilt(void **state)
{
    struct fx *f = *state;
    f->cfg.segment_bytes = 1500;
    struct sl_log *log = open_log(f, 1, NULL);
    for (int i = 0; i < 40; i++) {
        append(log, 3, 1000 + i);
    }
    sl_log_close(log, 1);
    char path[PATH_MAX + 64];
    /* Missing .index of the first segment, garbage in the active segment's. */
    snprintf(path, sizeof(path), "%s/%020d.index", f->dir, 0);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%020d.timeindex", f->dir, 0);
    FILE *fp = fopen(path, "wb");
    fputs("this is not a time index", fp);
    fclose(fp);
    log = open_log(f, 1, NULL);
    for (int64_t off = 0; off < 120; off += 7) {
        struct sl_log_slice s;
        assert_int_equal(sl_log_read(log, off, 1, -1, 1, &s, NULL), 0);
        assert_true(s.first_offset <= off && off < s.next_offset);
        sl_log_slice_release(&s);
    }
    int64_t o, ts;
    assert_int_equal(sl_log_offset_for_time(log, 1005, &o, &ts, NULL), 0);
    assert_int_equal(ts, 1005);
    sl_log_close(log, 1);
    assert_true(tu_file_size(path) % 12 == 0);
}

static void test_clean_open_with_damaged_tail(void **state)
{
    struct fx *f = *state;
    size_t len;
    uint8_t *pristine = build(f, &len);
    write_seg(f, pristine, len - 3); /* marked clean, yet the tail is torn */
    struct sl_log_recovery_info ri;
    struct sl_log *log = open_log(f, 1, &ri);
    assert_true(ri.recovered);
    assert_int_equal(sl_log_end_offset(log), f->next[BATCHES - 2]);
    sl_log_close(log, 0);
    free(pristine);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cut_last_batch_at_every_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flip_every_byte_of_last_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_after_last_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage_in_older_segment_drops_later_ones, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recovery_point_limits_work, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_files_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clean_open_with_damaged_tail, setup, teardown),
    };
    return cmocka_run_group_tests_name("recovery", tests, NULL, NULL);
}
