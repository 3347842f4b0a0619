/*
 * test_io_faults.c - fault injection through store/io.c: EIO, ENOSPC and short writes on
 * append, and failures of fsync, poison the log with a clear error; what was accepted
 * before stays readable, and after a restart it is all there.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "store/io.h"
#include "store/log.h"
#include "testutil.h"

static int setup(void **state)
{
    struct tu_log_fx *f = tu_log_fx_new("io-0");
    struct sl_log_open_opts o = {.clean = 1, .log_start_offset = -1, .high_watermark = -1,
                                 .create = 1};
    assert_int_equal(sl_log_open(f->dir, &f->cfg, &o, &f->log, NULL, NULL), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct tu_log_fx *f = *state;
    sl_io_fault_clear();
    tu_log_fx_free(f);
    return 0;
}

static int append(struct tu_log_fx *f, struct sl_err *err)
{
    uint8_t *b;
    size_t len = tu_batch(&b, 4, 100, 1000, 1);
    struct sl_log_append_opts o = {.assign_offsets = 1};
    int rc = sl_log_append(f->log, b, len, &o, NULL, err);
    free(b);
    return rc;
}

/* Ten good appends, the fault, then the checks every failure must pass. */
static void check_fault(struct tu_log_fx *f, enum sl_io_op op, int err_no, size_t short_bytes,
                        int flush)
{
    for (int i = 0; i < 10; i++) {
        assert_int_equal(append(f, NULL), 0);
    }
    int64_t size = sl_log_size_bytes(f->log);
    struct sl_err err = {0};
    sl_io_fault_set(op, 0, err_no, short_bytes, 1);
    int rc = flush ? sl_log_flush(f->log, &err) : append(f, &err);
    sl_io_fault_clear();
    assert_int_not_equal(rc, 0);
    assert_true(strlen(err.msg) > 0);
    char msg[256];
    assert_true(sl_log_failed(f->log, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "io-0"));
    /* Poisoned: later writes refuse, naming the first failure. */
    assert_int_equal(append(f, &err), SL_EFAILED);
    assert_non_null(strstr(err.msg, "failed earlier"));
    /* Everything accepted before is still readable... */
    assert_int_equal(sl_log_end_offset(f->log), 40);
    uint8_t *buf;
    size_t len;
    assert_int_equal(sl_log_read_copy(f->log, 0, 1 << 20, -1, 1, &buf, &len, NULL, NULL), 0);
    assert_int_equal((int64_t)len, size);
    free(buf);
    /* ...and after a restart (unclean: the process would have died), with nothing extra. */
    sl_log_close(f->log, 0);
    struct sl_log_open_opts o = {.clean = 0, .log_start_offset = -1, .high_watermark = -1};
    assert_int_equal(sl_log_open(f->dir, &f->cfg, &o, &f->log, NULL, NULL), 0);
    assert_int_equal(sl_log_end_offset(f->log), 40);
    assert_int_equal(sl_log_size_bytes(f->log), size);
    assert_int_equal(append(f, NULL), 0);
    assert_int_equal(sl_log_end_offset(f->log), 44);
}

static void test_eio_on_append(void **state)
{
    check_fault(*state, SL_IO_WRITE, EIO, 0, 0);
}

static void test_enospc_on_append(void **state)
{
    struct tu_log_fx *f = *state;
    check_fault(f, SL_IO_WRITE, ENOSPC, 0, 0);
}

static void test_short_write_on_append(void **state)
{
    check_fault(*state, SL_IO_WRITE, EIO, 100, 0);
}

static void test_fsync_failure(void **state)
{
    check_fault(*state, SL_IO_FSYNC, EIO, 0, 1);
}

static void test_enospc_on_roll(void **state)
{
    struct tu_log_fx *f = *state;
    f->cfg.segment_bytes = 2000;
    sl_log_set_config(f->log, &f->cfg);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(append(f, NULL), 0);
    }
    /* The next append needs a new segment: its files cannot be created. */
    sl_io_fault_set(SL_IO_OPEN, 0, ENOSPC, 0, -1);
    struct sl_err err = {0};
    assert_int_equal(append(f, &err), -ENOSPC);
    sl_io_fault_clear();
    assert_non_null(strstr(err.msg, "No space"));
    assert_int_equal(sl_log_end_offset(f->log), 12);
    sl_log_close(f->log, 0);
    struct sl_log_open_opts o = {.clean = 0, .log_start_offset = -1, .high_watermark = -1};
    assert_int_equal(sl_log_open(f->dir, &f->cfg, &o, &f->log, NULL, NULL), 0);
    assert_int_equal(sl_log_end_offset(f->log), 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_eio_on_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enospc_on_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_write_on_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enospc_on_roll, setup, teardown),
    };
    return cmocka_run_group_tests_name("io_faults", tests, NULL, NULL);
}
