/*
 * test_tail_pos.c - the tail source's position file (sources/tail/tail_pos.c): our records
 * round-trip, Flume's TAILDIR file is read, broken files are rejected with the reason and the
 * JSON position, and the atomic write replaces the file whole and leaves no temporary file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* clang-format off: cmocka.h needs the headers above */
#include <cmocka.h>
/* clang-format on */

#include "sources/tail/tail_int.h"
#include "testutil.h"

static char *dir;

static void test_round_trip(void **state)
{
    struct sl_tail_pos in[2] = {
        {.file = "/var/log/app.log",
         .has_dev = 1,
         .id = {.dev = 2049,
                .ino = 12345678901ULL,
                .pos = 1ULL << 40,
                .head = 0xfedcba9876543210ULL,
                .head_len = 256,
                .mark = 0x0123456789abcdefULL,
                .mark_len = 256}},
        {.file = "/var/log/\"quoted\" \xc3\xa9.log", .has_dev = 1, .id = {.dev = 1, .ino = 2}},
    };
    char *text = sl__tail_pos_encode(in, 2);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"inode\":12345678901"));
    struct sl_tail_pos *out;
    size_t n;
    struct sl_err err;
    assert_int_equal(sl__tail_pos_parse(text, strlen(text), "t", &out, &n, &err), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(out[i].file, in[i].file);
        assert_int_equal(out[i].has_dev, 1);
        assert_memory_equal(&out[i].id, &in[i].id, sizeof(in[i].id));
    }
    sl__tail_pos_free(out, n);
    free(text);
}

static void test_flume_file(void **state)
{
    const char *flume = "[{\"inode\":2496272,\"pos\":1024,\"file\":\"/var/log/app.log\"},"
                        "{\"inode\":2496275,\"pos\":0,\"file\":\"/var/log/b.log\"}]";
    struct sl_tail_pos *out;
    size_t n;
    struct sl_err err;
    assert_int_equal(sl__tail_pos_parse(flume, strlen(flume), "t", &out, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].id.ino, 2496272);
    assert_int_equal(out[0].id.pos, 1024);
    assert_int_equal(out[0].has_dev, 0);
    assert_int_equal(out[0].id.head_len, 0);
    assert_int_equal(out[0].id.mark_len, 0);
    sl__tail_pos_free(out, n);
}

static void bad(const char *text, const char *want)
{
    struct sl_tail_pos *out = (void *)1;
    size_t n = 7;
    struct sl_err err;
    sl_err_clear(&err);
    assert_int_equal(sl__tail_pos_parse(text, strlen(text), "position file p", &out, &n, &err),
                     SL_ECORRUPT);
    assert_null(out);
    assert_int_equal(n, 0);
    if (!strstr(err.msg, want)) {
        fail_msg("'%s' not in '%s'", want, err.msg);
    }
}

static void test_broken(void **state)
{
    bad("", "not valid JSON at line");
    bad("[{\"inode\": 1, \"pos\": ", "not valid JSON at line 1 column");
    bad("{\"inode\": 1}", "expected a JSON array");
    bad("[{\"inode\": 1}]", "record 1");
    bad("[{\"inode\": 1, \"pos\": 2}, {\"inode\": -1, \"pos\": 2}]", "record 2");
    bad("[{\"inode\": 1, \"pos\": 2, \"head\": \"xyz\", \"headLen\": 3}]", "record 1");
    bad("[{\"inode\": 1, \"pos\": 2, \"head\": \"0123456789abcdef\"}]", "record 1");
    bad("[{\"inode\": 1, \"pos\": 2, \"mark\": \"0123456789abcdef\", \"markLen\": 257}]",
        "record 1");
    bad("[1]", "record 1");
}

static void test_write_and_load(void **state)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    snprintf(path, sizeof(path), "%s/pos.json", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    struct sl_tail_pos *out;
    size_t n;
    struct sl_err err;
    /* A missing file is no positions. */
    assert_int_equal(sl__tail_pos_load(path, &out, &n, &err), 0);
    assert_int_equal(n, 0);
    sl__tail_pos_free(out, n);
    struct sl_tail_pos one = {.file = "/a", .has_dev = 1, .id = {.dev = 3, .ino = 4, .pos = 5}};
    for (int round = 0; round < 3; round++) {
        one.id.pos = 5 + (uint64_t)round;
        char *text = sl__tail_pos_encode(&one, 1);
        assert_int_equal(sl__tail_pos_write(path, text, strlen(text), &err), 0);
        free(text);
        assert_int_equal(access(tmp, F_OK), -1);
        assert_int_equal(sl__tail_pos_load(path, &out, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(out[0].id.pos, 5 + (uint64_t)round);
        sl__tail_pos_free(out, n);
    }
    /* Corrupt on disk: rejected, the message names the file. */
    FILE *f = fopen(path, "wb");
    fputs("[{\"inode\": 4, \"pos\"", f);
    fclose(f);
    assert_int_equal(sl__tail_pos_load(path, &out, &n, &err), SL_ECORRUPT);
    assert_non_null(strstr(err.msg, path));
    /* A directory that does not exist: an error naming the temporary file. */
    char nodir[PATH_MAX];
    snprintf(nodir, sizeof(nodir), "%s/missing/pos.json", dir);
    assert_int_equal(sl__tail_pos_write(nodir, "[]", 2, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "missing/pos.json.tmp"));
}

int main(void)
{
    dir = tu_mkdtemp();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_flume_file),
        cmocka_unit_test(test_broken),
        cmocka_unit_test(test_write_and_load),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_rmtree(dir);
    free(dir);
    return rc;
}
