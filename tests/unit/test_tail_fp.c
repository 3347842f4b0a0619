/*
 * test_tail_fp.c - the tail source's file fingerprints (sources/tail/tail_fp.c) on real
 * files: the same file is recognised, and every way a saved offset goes stale is told apart
 * (shrunk, other first bytes as on a reused inode, truncated then regrown past the offset).
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

static int write_file(const char *name, const char *text, int append)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, append ? "ab" : "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    return fd;
}

/* The identity a position file would hold for fd at pos. */
static void ident(int fd, uint64_t pos, struct sl_tail_ident *id)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    memset(id, 0, sizeof(*id));
    id->pos = pos;
    id->head_len = (uint32_t)((uint64_t)st.st_size < SL_TAIL_HEAD_MAX ? (uint64_t)st.st_size
                                                                      : SL_TAIL_HEAD_MAX);
    assert_int_equal(sl__tail_fp_read(fd, 0, id->head_len, &id->head), 0);
    id->mark_len = (uint32_t)(pos < SL_TAIL_MARK_MAX ? pos : SL_TAIL_MARK_MAX);
    assert_int_equal(sl__tail_fp_read(fd, pos - id->mark_len, id->mark_len, &id->mark), 0);
}

static uint64_t size_of(int fd)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    return (uint64_t)st.st_size;
}

static void test_hash_stable(void **state)
{
    /* Stored in position files: must never change. FNV-1a 64 test vectors. */
    assert_true(sl__tail_hash("", 0) == 0xcbf29ce484222325ULL);
    assert_true(sl__tail_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(sl__tail_hash("foobar", 6) == 0x85944171f73967e8ULL);
}

static void test_read_short(void **state)
{
    int fd = write_file("short", "abc", 0);
    uint64_t h;
    assert_int_equal(sl__tail_fp_read(fd, 0, 3, &h), 0);
    assert_true(h == sl__tail_hash("abc", 3));
    assert_int_equal(sl__tail_fp_read(fd, 1, 3, &h), SL_ETRUNCATED);
    assert_int_equal(sl__tail_fp_read(fd, 0, SL_TAIL_HEAD_MAX + SL_TAIL_MARK_MAX + 1, &h), -EINVAL);
    close(fd);
}

static void test_same_and_grown(void **state)
{
    char text[2000];
    for (int i = 0; i < 40; i++) {
        snprintf(text + i * 20, 21, "line %014d\n", i);
    }
    int fd = write_file("same", text, 0);
    struct sl_tail_ident id;
    ident(fd, 400, &id);
    assert_int_equal(sl__tail_fp_check(fd, size_of(fd), &id), SL_TAIL_SAME);
    close(fd);
    fd = write_file("same", "more lines\n", 1); /* grown: still the same file */
    assert_int_equal(sl__tail_fp_check(fd, size_of(fd), &id), SL_TAIL_SAME);
    close(fd);
}

static void test_shrunk(void **state)
{
    int fd = write_file("shrunk", "0123456789\n0123456789\n", 0);
    struct sl_tail_ident id;
    ident(fd, 22, &id);
    close(fd);
    fd = write_file("shrunk", "x\n", 0); /* truncated (O_TRUNC), a little written again */
    assert_int_equal(sl__tail_fp_check(fd, size_of(fd), &id), SL_TAIL_SHRUNK);
    close(fd);
}

static void test_other_head(void **state)
{
    int fd = write_file("reuse", "2024-01-01 first file, first line\nsecond\n", 0);
    struct sl_tail_ident id;
    ident(fd, 10, &id);
    close(fd);
    /* Same size or longer, other content from byte 0: a new file on a reused inode. */
    fd = write_file("reuse", "2025-06-30 another file entirely, longer than the first\n", 0);
    assert_int_equal(sl__tail_fp_check(fd, size_of(fd), &id), SL_TAIL_HEAD_CHANGED);
    close(fd);
}

static void test_regrown_mark(void **state)
{
    /* A head longer than SL_TAIL_HEAD_MAX stays; the bytes before pos differ. */
    char a[1200], b[1200];
    memset(a, 'h', 300);
    memset(b, 'h', 300);
    for (int i = 300; i < 1100; i++) {
        a[i] = (char)('a' + i % 26);
        b[i] = (char)('A' + i % 26);
    }
    a[1100] = b[1100] = '\0';
    int fd = write_file("regrow", a, 0);
    struct sl_tail_ident id;
    ident(fd, 800, &id);
    close(fd);
    fd = write_file("regrow", b, 0); /* truncated and regrown past 800 */
    assert_int_equal(sl__tail_fp_check(fd, size_of(fd), &id), SL_TAIL_MARK_CHANGED);
    close(fd);
}

static void test_flume_record(void **state)
{
    /* A record without head and mark (Flume's position file) is judged by size alone. */
    int fd = write_file("flume", "0123456789\n", 0);
    struct sl_tail_ident id = {.pos = 5};
    assert_int_equal(sl__tail_fp_check(fd, size_of(fd), &id), SL_TAIL_SAME);
    id.pos = 50;
    assert_int_equal(sl__tail_fp_check(fd, size_of(fd), &id), SL_TAIL_SHRUNK);
    assert_non_null(strstr(sl__tail_verdict_str(SL_TAIL_SHRUNK), "truncated"));
    close(fd);
}

int main(void)
{
    dir = tu_mkdtemp();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_stable),    cmocka_unit_test(test_read_short),
        cmocka_unit_test(test_same_and_grown), cmocka_unit_test(test_shrunk),
        cmocka_unit_test(test_other_head),     cmocka_unit_test(test_regrown_mark),
        cmocka_unit_test(test_flume_record),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_rmtree(dir);
    free(dir);
    return rc;
}
