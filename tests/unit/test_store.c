/*
 * test_store.c - the log directory: create/get/delete partitions, checkpoints and the
 * clean-shutdown marker, recovery after an unclean close, the exclusive lock, leftovers of
 * an interrupted deletion, per-topic configuration and the background thread.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#include <cmocka.h>

#include "store/store.h"
#include "testutil.h"

struct fx {
    char *root;
    struct sl_store_config cfg;
    struct sl_store *st;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->root = tu_mkdtemp();
    sl_store_config_default(&f->cfg);
    f->cfg.log_dir = f->root;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    sl_store_close(f->st, 0);
    tu_rmtree(f->root);
    free(f->root);
    free(f);
    return 0;
}

static void open_store(struct fx *f, struct sl_store_open_info *info)
{
    struct sl_err err = {0};
    if (sl_store_open(&f->cfg, &f->st, info, &err) != 0) {
        fail_msg("open: %s", err.msg);
    }
}

static void append(struct sl_log *log, int n)
{
    uint8_t *b;
    size_t len = tu_batch(&b, n, 50, 1000, 1);
    struct sl_log_append_opts o = {.assign_offsets = 1};
    assert_int_equal(sl_log_append(log, b, len, &o, NULL, NULL), 0);
    free(b);
}

static char *slurp(const char *dir, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_create_close_reopen_clean(void **state)
{
    struct fx *f = *state;
    struct sl_store_open_info info;
    open_store(f, &info);
    assert_false(info.clean);
    struct sl_log *a, *b;
    assert_int_equal(sl_store_create(f->st, "orders", 0, NULL, &a, NULL), 0);
    assert_int_equal(sl_store_create(f->st, "orders", 1, NULL, &b, NULL), 0);
    assert_int_equal(sl_store_create(f->st, "orders", 1, NULL, &b, NULL), SL_EEXIST);
    assert_int_equal(sl_store_create(f->st, "bad/name", 0, NULL, &b, NULL), SL_ECONFIG);
    append(a, 3);
    append(b, 5);
    sl_log_set_high_watermark(b, 5);
    assert_ptr_equal(sl_store_get(f->st, "orders", 1), b);
    assert_null(sl_store_get(f->st, "orders", 2));
    assert_int_equal(sl_store_close(f->st, 1), 0);
    f->st = NULL;

    char *marker = slurp(f->root, ".kafka_cleanshutdown");
    assert_non_null(marker);
    free(marker);
    char *rp = slurp(f->root, "recovery-point-offset-checkpoint");
    assert_string_equal(rp, "0\n2\norders 0 3\norders 1 5\n");
    free(rp);
    char *hw = slurp(f->root, "replication-offset-checkpoint");
    assert_non_null(strstr(hw, "orders 1 5"));
    free(hw);

    open_store(f, &info);
    assert_true(info.clean);
    assert_int_equal(info.logs, 2);
    assert_false(info.rec.recovered);
    assert_int_equal(sl_log_end_offset(sl_store_get(f->st, "orders", 1)), 5);
    /* The marker is gone while running: a crash now must read as unclean. */
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/.kafka_cleanshutdown", f->root);
    assert_false(tu_exists(path));
}

static void test_unclean_close_recovers(void **state)
{
    struct fx *f = *state;
    open_store(f, NULL);
    struct sl_log *a;
    assert_int_equal(sl_store_create(f->st, "t", 0, NULL, &a, NULL), 0);
    append(a, 3);
    assert_int_equal(sl_log_flush(a, NULL), 0);
    assert_int_equal(sl_store_checkpoint(f->st, NULL), 0);
    append(a, 4);
    sl_store_close(f->st, 0); /* as if killed */
    f->st = NULL;
    /* Tear the tail of the segment, as a crash mid-write would. */
    char seg[PATH_MAX];
    snprintf(seg, sizeof(seg), "%s/t-0/%020d.log", f->root, 0);
    assert_int_equal(truncate(seg, tu_file_size(seg) - 5), 0);
    struct sl_store_open_info info;
    open_store(f, &info);
    assert_false(info.clean);
    assert_true(info.rec.recovered);
    assert_true(info.rec.bytes_truncated > 0);
    assert_int_equal(sl_log_end_offset(sl_store_get(f->st, "t", 0)), 3);
}

static void test_lock_is_exclusive(void **state)
{
    struct fx *f = *state;
    open_store(f, NULL);
    struct sl_store *second;
    struct sl_err err = {0};
    assert_int_equal(sl_store_open(&f->cfg, &second, NULL, &err), SL_EBUSY);
    assert_non_null(strstr(err.msg, "in use"));
}

static void test_delete_and_leftovers(void **state)
{
    struct fx *f = *state;
    open_store(f, NULL);
    struct sl_log *a;
    assert_int_equal(sl_store_create(f->st, "gone", 0, NULL, &a, NULL), 0);
    append(a, 2);
    assert_int_equal(sl_store_delete(f->st, "gone", 0, NULL), 0);
    assert_null(sl_store_get(f->st, "gone", 0));
    assert_int_equal(sl_store_delete(f->st, "gone", 0, NULL), SL_ENOENT);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/gone-0", f->root);
    assert_false(tu_exists(path));
    sl_store_close(f->st, 1);
    f->st = NULL;
    /* A deletion a crash interrupted, and a stray file: neither is loaded as a log. */
    snprintf(path, sizeof(path), "%s/old-3.12345-delete", f->root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/notes.txt", f->root);
    FILE *fp = fopen(path, "w");
    fclose(fp);
    struct sl_store_open_info info;
    open_store(f, &info);
    assert_int_equal(info.logs, 0);
    snprintf(path, sizeof(path), "%s/old-3.12345-delete", f->root);
    assert_false(tu_exists(path));
}

static void test_topic_config(void **state)
{
    struct fx *f = *state;
    f->cfg.defaults.retention_ms = 1234;
    open_store(f, NULL);
    struct sl_log *a, *b;
    assert_int_equal(sl_store_create(f->st, "x", 0, NULL, &a, NULL), 0);
    struct sl_log_config c;
    sl_log_get_config(a, &c);
    assert_int_equal(c.retention_ms, 1234);
    sl_store_topic_config(f->st, "x", &c);
    c.retention_ms = 99;
    sl_store_set_topic_config(f->st, "x", &c);
    sl_log_get_config(a, &c);
    assert_int_equal(c.retention_ms, 99);
    assert_int_equal(sl_store_create(f->st, "x", 1, NULL, &b, NULL), 0);
    sl_log_get_config(b, &c);
    assert_int_equal(c.retention_ms, 99);
}

static void test_background_retention_and_flush(void **state)
{
    struct fx *f = *state;
    f->cfg.defaults.retention_bytes = 0;
    f->cfg.defaults.segment_bytes = 300;
    f->cfg.defaults.flush_ms = 10;
    f->cfg.retention_check_interval_ms = 20;
    f->cfg.flush_check_interval_ms = 10;
    f->cfg.checkpoint_interval_ms = 20;
    open_store(f, NULL);
    struct sl_log *a;
    assert_int_equal(sl_store_create(f->st, "bg", 0, NULL, &a, NULL), 0);
    for (int i = 0; i < 10; i++) {
        append(a, 2);
    }
    sl_log_set_high_watermark(a, INT64_MAX);
    assert_int_equal(sl_store_start(f->st), 0);
    /* Bounded wait: up to 5 s for the thread to flush and delete. */
    for (int i = 0; i < 500 && (sl_log_start_offset(a) == 0 || sl_log_recovery_point(a) < 20);
         i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    sl_store_stop(f->st);
    assert_int_equal(sl_log_start_offset(a), 20);
    assert_int_equal(sl_log_recovery_point(a), 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_close_reopen_clean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unclean_close_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_is_exclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_leftovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_background_retention_and_flush, setup, teardown),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
