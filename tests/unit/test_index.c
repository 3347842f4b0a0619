/*
 * test_index.c - differential tests: offset lookups through the sparse index and time
 * lookups through the time index agree with a linear scan of what was appended, on random
 * logs, before and after reopening, and with index files that were damaged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "store/log.h"
#include "testutil.h"

#define MAX_BATCHES 400

struct model {
    int n;
    int64_t base[MAX_BATCHES];
    int64_t last[MAX_BATCHES];
    int64_t ts0[MAX_BATCHES]; /* timestamp of the first record; record i has ts0 + i */
};

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static struct sl_log *build(const char *dir, struct sl_log_config *cfg, struct model *m,
                            uint32_t seed)
{
    struct sl_log_open_opts o = {.clean = 1, .log_start_offset = -1, .high_watermark = -1,
                                 .create = 1};
    struct sl_log *log;
    assert_int_equal(sl_log_open(dir, cfg, &o, &log, NULL, NULL), 0);
    int64_t ts = 1000000;
    m->n = 0;
    for (int i = 0; i < MAX_BATCHES; i++) {
        int records = 1 + (int)(rnd(&seed) % 8);
        size_t vsize = rnd(&seed) % 300;
        /* Timestamps mostly rise, sometimes step back (producers' clocks differ). */
        ts += (int64_t)(rnd(&seed) % 50) - 10;
        uint8_t *b;
        size_t len = tu_batch(&b, records, vsize, ts, seed);
        struct sl_log_append_opts ao = {.assign_offsets = 1};
        struct sl_log_append_info info;
        assert_int_equal(sl_log_append(log, b, len, &ao, &info, NULL), 0);
        free(b);
        m->base[m->n] = info.first_offset;
        m->last[m->n] = info.last_offset;
        m->ts0[m->n] = ts;
        m->n++;
    }
    return log;
}

static void check_offsets(struct sl_log *log, const struct model *m)
{
    int b = 0;
    for (int64_t off = 0; off <= m->last[m->n - 1]; off++) {
        while (m->last[b] < off) {
            b++;
        }
        struct sl_log_slice s;
        assert_int_equal(sl_log_read(log, off, 1, -1, 1, &s, NULL), 0);
        assert_int_equal(s.first_offset, m->base[b]);
        assert_int_equal(s.next_offset, m->last[b] + 1);
        sl_log_slice_release(&s);
    }
}

static void check_times(struct sl_log *log, const struct model *m, uint32_t seed)
{
    for (int q = 0; q < 300; q++) {
        int64_t target = 1000000 + (int64_t)(rnd(&seed) % 12000) - 500;
        int64_t want_off = -1, want_ts = -1;
        for (int b = 0; b < m->n && want_off < 0; b++) {
            for (int64_t r = 0; r <= m->last[b] - m->base[b]; r++) {
                if (m->ts0[b] + r >= target) {
                    want_off = m->base[b] + r;
                    want_ts = m->ts0[b] + r;
                    break;
                }
            }
        }
        int64_t off, ts;
        assert_int_equal(sl_log_offset_for_time(log, target, &off, &ts, NULL), 0);
        assert_int_equal(off, want_off);
        assert_int_equal(ts, want_ts);
    }
}

static void run(uint32_t seed, int64_t seg_bytes, int64_t interval)
{
    char *root = tu_mkdtemp();
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/idx-0", root);
    struct sl_log_config cfg;
    sl_log_config_default(&cfg);
    cfg.segment_bytes = seg_bytes;
    cfg.index_interval_bytes = interval;
    struct model m;
    struct sl_log *log = build(dir, &cfg, &m, seed);
    check_offsets(log, &m);
    check_times(log, &m, seed);
    sl_log_close(log, 1);

    struct sl_log_open_opts o = {.clean = 1, .log_start_offset = -1, .high_watermark = -1};
    assert_int_equal(sl_log_open(dir, &cfg, &o, &log, NULL, NULL), 0);
    check_offsets(log, &m);
    check_times(log, &m, seed + 1);
    sl_log_close(log, 1);

    /* Damage every index file with a wrong but well-formed entry: reads must not trust it. */
    char path[PATH_MAX + 32];
    for (int64_t base = 0; base <= m.last[m.n - 1]; base++) {
        snprintf(path, sizeof(path), "%s/%020lld.index", dir, (long long)base);
        FILE *f = fopen(path, "r+b");
        if (!f) {
            continue;
        }
        uint8_t bad[8] = {0, 0, 0, 1, 0, 0, 0, 7}; /* offset 1 at position 7 */
        fwrite(bad, 1, sizeof(bad), f);
        fclose(f);
    }
    o.clean = 0;
    assert_int_equal(sl_log_open(dir, &cfg, &o, &log, NULL, NULL), 0);
    check_offsets(log, &m);
    sl_log_close(log, 0);
    o.clean = 1;
    assert_int_equal(sl_log_open(dir, &cfg, &o, &log, NULL, NULL), 0);
    check_offsets(log, &m);
    sl_log_close(log, 0);
    tu_rmtree(root);
    free(root);
}

static void test_one_segment_dense_index(void **state)
{
    run(1, 1 << 30, 0);
}

static void test_many_segments_sparse_index(void **state)
{
    run(2, 8192, 1024);
}

static void test_default_interval(void **state)
{
    run(3, 20000, 4096);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_segment_dense_index),
        cmocka_unit_test(test_many_segments_sparse_index),
        cmocka_unit_test(test_default_interval),
    };
    return cmocka_run_group_tests_name("index", tests, NULL, NULL);
}
