/*
 * test_file_roll.c - the file_roll sink: Flume's file names (<prefix><start ms>-<n>[.ext]),
 * body + newline per event, files created only when an event comes, rolling by sink.rollSize
 * (a batch never split) and by sink.rollInterval (also while idle), the directory created
 * when missing, a failed fdatasync or directory fsync (injected through store/io.c) moving
 * the retry to a new file, an unwritable directory refused at start, and bad keys refused at
 * bind.
 */
/* clang-format off */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h> /* after the headers it needs */
/* clang-format on */

#include "agent/registry.h"
#include "common/sl_macros.h"
#include "store/io.h"
#include "testutil.h"

struct fixture {
    struct sl_yaml_doc doc;
    struct sl_sink s;
    char *tmp;
    char dir[PATH_MAX];
};

static int sink_new(struct fixture *f, const char *yaml_extra, struct sl_err *err)
{
    memset(&f->s, 0, sizeof(f->s));
    f->s.ops = &sl_file_roll_sink_ops;
    f->s.ctx = calloc(1, f->s.ops->ctx_size);
    snprintf(f->s.comp, sizeof(f->s.comp), "sink:file_roll:test");
    snprintf(f->s.name, sizeof(f->s.name), "k1");
    char yaml[PATH_MAX + 1024];
    snprintf(yaml, sizeof(yaml), "sink.directory: %s\n%s", f->dir, yaml_extra);
    int rc = sl_yaml_load_string(yaml, strlen(yaml), &f->doc, err);
    if (rc == 0) {
        rc = sl_conf_bind(f->s.ops->conf, f->s.ctx, &f->doc, f->doc.root, NULL, "sink k1", err);
    }
    if (rc == 0) {
        rc = f->s.ops->init(&f->s, err);
        f->s.inited = rc == 0;
    }
    return rc;
}

static void sink_free(struct fixture *f)
{
    if (f->s.inited) {
        f->s.ops->fini(&f->s);
    }
    sl_conf_free(f->s.ops->conf, f->s.ctx);
    free(f->s.ctx);
    sl_yaml_free(&f->doc);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->tmp = tu_mkdtemp();
    snprintf(f->dir, sizeof(f->dir), "%s/out/nested", f->tmp);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tu_rmtree(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

static int deliver(struct fixture *f, int from, int n, size_t body_len)
{
    struct sl_event *evs[64];
    for (int i = 0; i < n; i++) {
        char b[256];
        memset(b, 'x', sizeof(b));
        snprintf(b, sizeof(b), "line%04d", from + i);
        b[strlen(b)] = body_len > 8 ? 'x' : '\0';
        evs[i] = sl_event_create(b, body_len);
    }
    int rc = f->s.ops->deliver(&f->s, evs, (size_t)n);
    for (int i = 0; i < n; i++) {
        sl_event_destroy(evs[i]);
    }
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file names in dir, sorted by their sequence number; returns how many. */
static size_t list(const char *dir, char **names, size_t max)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        if (e->d_name[0] != '.') {
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    return n;
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = calloc(1, 1 << 16);
    *len = fread(buf, 1, (1 << 16) - 1, fp);
    fclose(fp);
    return buf;
}

static void test_names_and_text_serializer(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    assert_int_equal(sink_new(f,
                              "sink.pathManager.prefix: app-\nsink.pathManager.extension: log\n"
                              "sink.batchSize: 7\n",
                              &err),
                     0);
    assert_int_equal(f->s.batch_size, 7);
    int64_t before = sl_now_ms();
    assert_int_equal(f->s.ops->start(&f->s, &err), 0); /* creates out/nested */
    int64_t after = sl_now_ms();
    char *names[8];
    assert_int_equal(list(f->dir, names, 8), 0); /* no file before the first event */
    assert_int_equal(deliver(f, 0, 3, 8), SL_OK);
    assert_int_equal(deliver(f, 3, 2, 8), SL_OK);
    f->s.ops->stop(&f->s);
    assert_int_equal(list(f->dir, names, 8), 1);
    long long ts;
    char ext[8];
    assert_int_equal(sscanf(names[0], "app-%lld-1.%7s", &ts, ext), 2);
    assert_string_equal(ext, "log");
    assert_true(ts >= before && ts <= after);
    size_t len;
    char *text = slurp(f->dir, names[0], &len);
    assert_string_equal(text, "line0000\nline0001\nline0002\nline0003\nline0004\n");
    free(text);
    free(names[0]);
    sink_free(f);
}

static void test_roll_by_size_keeps_batches_whole(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    /* 20-byte lines (19 + newline); files roll past 100 bytes. */
    assert_int_equal(sink_new(f, "sink.rollSize: 100\nsink.rollInterval: 0\n", &err), 0);
    assert_int_equal(f->s.ops->start(&f->s, &err), 0);
    assert_int_equal(deliver(f, 0, 3, 19), SL_OK);  /* file 1: 60 */
    assert_int_equal(deliver(f, 3, 2, 19), SL_OK);  /* 60 + 40 = 100: fits, then rolled */
    assert_int_equal(deliver(f, 5, 4, 19), SL_OK);  /* file 2: 80 */
    assert_int_equal(deliver(f, 9, 2, 19), SL_OK);  /* would be 120: file 3 */
    assert_int_equal(deliver(f, 11, 7, 19), SL_OK); /* 40 + 140 > 100: file 4, alone 140 */
    f->s.ops->stop(&f->s);
    char *names[8];
    assert_int_equal(list(f->dir, names, 8), 4);
    size_t want[4] = {100, 80, 40, 140};
    int next = 0;
    for (int i = 0; i < 4; i++) {
        char suffix[16];
        snprintf(suffix, sizeof(suffix), "-%d", i + 1);
        assert_non_null(strstr(names[i], suffix));
        size_t len;
        char *text = slurp(f->dir, names[i], &len);
        assert_int_equal(len, want[i]);
        for (size_t off = 0; off < len; off += 20) {
            char line[32];
            snprintf(line, sizeof(line), "line%04dxxxxxxxxxxx\n", next++);
            assert_memory_equal(text + off, line, 20);
        }
        free(text);
        free(names[i]);
    }
    assert_int_equal(next, 18);
    sink_free(f);
}

static void test_roll_by_interval_also_when_idle(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    assert_int_equal(sink_new(f, "sink.rollInterval: 1\n", &err), 0);
    assert_int_equal(f->s.ops->start(&f->s, &err), 0);
    assert_int_equal(deliver(f, 0, 2, 8), SL_OK);
    f->s.ops->idle(&f->s); /* not yet due */
    assert_int_equal(deliver(f, 2, 1, 8), SL_OK);
    usleep(1100 * 1000);
    f->s.ops->idle(&f->s); /* due: file 1 closed while idle */
    f->s.ops->idle(&f->s); /* no empty file made */
    char *names[8];
    assert_int_equal(list(f->dir, names, 8), 1);
    free(names[0]);
    assert_int_equal(deliver(f, 3, 1, 8), SL_OK); /* the next event: file 2 */
    f->s.ops->stop(&f->s);
    assert_int_equal(list(f->dir, names, 8), 2);
    size_t len;
    char *t1 = slurp(f->dir, names[0], &len);
    char *t2 = slurp(f->dir, names[1], &len);
    assert_non_null(strstr(names[0], "-1"));
    assert_string_equal(t1, "line0000\nline0001\nline0002\n");
    assert_string_equal(t2, "line0003\n");
    free(t1);
    free(t2);
    free(names[0]);
    free(names[1]);
    sink_free(f);
}

/* After a failed fdatasync (or directory fsync) the file is not trusted again (the kernel
 * may have dropped its dirty pages, so a later fsync proves nothing): the retry goes to a new
 * file. The failed batch was cut back out of the old one. */
static void test_sync_failure_moves_to_a_new_file(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    assert_int_equal(sink_new(f, "sink.rollInterval: 0\n", &err), 0);
    assert_int_equal(f->s.ops->start(&f->s, &err), 0);
    sl_io_fault_set(SL_IO_FSYNC, 1, EIO, 0, 1); /* the directory's fsync for file 1 */
    assert_int_equal(deliver(f, 0, 2, 8), -EIO);
    assert_int_equal(deliver(f, 0, 2, 8), SL_OK); /* file 2; the emptied file 1 is gone */
    sl_io_fault_set(SL_IO_FSYNC, 0, EIO, 0, 1);   /* the fdatasync of file 2 */
    assert_int_equal(deliver(f, 2, 2, 8), -EIO);
    assert_int_equal(deliver(f, 2, 2, 8), SL_OK); /* file 3 */
    sl_io_fault_clear();
    f->s.ops->stop(&f->s);
    char *names[8];
    assert_int_equal(list(f->dir, names, 8), 2);
    const char *want[2] = {"line0000\nline0001\n", "line0002\nline0003\n"};
    for (int i = 0; i < 2; i++) {
        char suffix[16];
        snprintf(suffix, sizeof(suffix), "-%d", i + 2);
        assert_non_null(strstr(names[i], suffix));
        size_t len;
        char *text = slurp(f->dir, names[i], &len);
        assert_string_equal(text, want[i]);
        free(text);
        free(names[i]);
    }
    sink_free(f);
}

static void test_unwritable_directory_and_bad_keys(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    if (geteuid() != 0) { /* root writes anywhere */
        snprintf(f->dir, sizeof(f->dir), "%s/ro", f->tmp);
        assert_int_equal(mkdir(f->dir, 0555), 0);
        assert_int_equal(sink_new(f, "", &err), 0);
        assert_int_not_equal(f->s.ops->start(&f->s, &err), 0);
        assert_non_null(strstr(err.msg, "not writable"));
        sink_free(f);
    }
    /* A regular file where the directory should be. */
    snprintf(f->dir, sizeof(f->dir), "%s/file", f->tmp);
    FILE *fp = fopen(f->dir, "w");
    fclose(fp);
    assert_int_equal(sink_new(f, "", &err), 0);
    assert_int_not_equal(f->s.ops->start(&f->s, &err), 0);
    assert_non_null(strstr(err.msg, "sink.directory"));
    sink_free(f);
    snprintf(f->dir, sizeof(f->dir), "%s/ok", f->tmp);
    assert_int_equal(sink_new(f, "sink.serializer: avro_event\n", &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "'avro_event' is not one of: TEXT"));
    assert_int_equal(err.line, 2);
    sink_free(f);
    assert_int_equal(sink_new(f, "sink.rollInterval: -1\n", &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "out of range"));
    sink_free(f);
    assert_int_equal(sink_new(f, "sink.pathManager.prefix: a/b\n", &err), SL_ECONFIG);
    sink_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_names_and_text_serializer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roll_by_size_keeps_batches_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roll_by_interval_also_when_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_failure_moves_to_a_new_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_directory_and_bad_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
