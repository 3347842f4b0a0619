/*
 * test_tail_ml.c - the tail source's multiline assembler (sources/tail/tail_ml.c): a Java
 * stack trace grouped by a start pattern and by a continuation pattern, the file offsets each
 * event spans, max_bytes cutting, flushing, and a bad pattern's error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off: cmocka.h needs the headers above */
#include <cmocka.h>
/* clang-format on */

#include "sources/tail/tail_int.h"

struct got {
    char body[16][512];
    uint64_t start[16], end[16];
    int cut[16];
    int n;
};

static void collect(void *arg, const char *body, size_t len, uint64_t start_off, uint64_t end_off,
                    int cut)
{
    struct got *g = arg;
    assert_true(g->n < 16);
    assert_true(len < sizeof(g->body[0]));
    memcpy(g->body[g->n], body, len);
    g->body[g->n][len] = '\0';
    g->start[g->n] = start_off;
    g->end[g->n] = end_off;
    g->cut[g->n] = cut;
    g->n++;
}

static const char *const trace[] = {
    "2024-05-01 10:00:00 INFO started",
    "2024-05-01 10:00:01 ERROR request failed",
    "java.lang.IllegalStateException: boom",
    "\tat com.example.Foo.bar(Foo.java:42)",
    "\tat com.example.Main.main(Main.java:7)",
    "Caused by: java.io.IOException: disk",
    "\t... 2 more",
    "2024-05-01 10:00:02 INFO recovered",
};

/* Feed every line of trace (each followed by "\n" in the imagined file). */
static void feed(struct sl_tail_ml_conf *c, struct sl_tail_ml *ml, struct got *g)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(c->re, NULL);
    uint64_t off = 0;
    for (size_t i = 0; i < sizeof(trace) / sizeof(trace[0]); i++) {
        size_t len = strlen(trace[i]);
        assert_int_equal(
            sl__tail_ml_line(c, ml, md, trace[i], len, off, off + len + 1, 0, collect, g), 0);
        off += len + 1;
    }
    pcre2_match_data_free(md);
}

static void check_trace(struct got *g)
{
    assert_int_equal(g->n, 3);
    assert_string_equal(g->body[0], trace[0]);
    assert_string_equal(g->body[1], "2024-05-01 10:00:01 ERROR request failed\n"
                                    "java.lang.IllegalStateException: boom\n"
                                    "\tat com.example.Foo.bar(Foo.java:42)\n"
                                    "\tat com.example.Main.main(Main.java:7)\n"
                                    "Caused by: java.io.IOException: disk\n"
                                    "\t... 2 more");
    assert_string_equal(g->body[2], trace[7]);
    /* Offsets: events tile the file, each ending after its last line's newline. */
    assert_int_equal(g->start[0], 0);
    assert_int_equal(g->end[0], g->start[1]);
    assert_int_equal(g->end[1], g->start[2]);
    assert_int_equal(g->end[0], strlen(trace[0]) + 1);
}

static void test_start_pattern(void **state)
{
    struct sl_err err;
    struct sl_tail_ml_conf c = {.max_bytes = 4096};
    c.re = sl__tail_ml_compile("^\\d{4}-\\d{2}-\\d{2} ", "multiline.pattern", &err);
    assert_non_null(c.re);
    struct sl_tail_ml ml = {0};
    struct got g = {0};
    feed(&c, &ml, &g);
    assert_int_equal(g.n, 2); /* the last event waits for the next start or a flush */
    assert_int_equal(ml.open, 1);
    sl__tail_ml_flush(&ml, collect, &g);
    sl__tail_ml_flush(&ml, collect, &g); /* nothing left: no empty event */
    check_trace(&g);
    assert_int_equal(g.cut[1], 0);
    sl__tail_ml_fini(&ml);
    pcre2_code_free(c.re);
}

static void test_continue_pattern(void **state)
{
    struct sl_err err;
    struct sl_tail_ml_conf c = {.max_bytes = 4096, .match_continue = 1};
    c.re = sl__tail_ml_compile("^(\\s+at |\\s+\\.\\.\\. |Caused by:|[a-z]+\\.[a-zA-Z.]+"
                               "(Exception|Error))",
                               "multiline.pattern", &err);
    assert_non_null(c.re);
    struct sl_tail_ml ml = {0};
    struct got g = {0};
    feed(&c, &ml, &g);
    sl__tail_ml_flush(&ml, collect, &g);
    check_trace(&g);
    sl__tail_ml_fini(&ml);
    pcre2_code_free(c.re);
}

static void test_max_bytes(void **state)
{
    struct sl_err err;
    struct sl_tail_ml_conf c = {.max_bytes = 50};
    c.re = sl__tail_ml_compile("^\\d{4}-", "multiline.pattern", &err);
    struct sl_tail_ml ml = {0};
    struct got g = {0};
    feed(&c, &ml, &g);
    sl__tail_ml_flush(&ml, collect, &g);
    assert_int_equal(g.n, 3);
    assert_int_equal(strlen(g.body[1]), 50);
    assert_memory_equal(g.body[1], "2024-05-01 10:00:01 ERROR request failed\njava.lang", 50);
    assert_int_equal(g.cut[1], 1);
    assert_int_equal(g.cut[0], 0);
    /* The offsets still cover the dropped lines: they are not read again. */
    assert_int_equal(g.end[1], g.start[2]);
    sl__tail_ml_fini(&ml);
    pcre2_code_free(c.re);
}

static void test_first_line_not_a_start(void **state)
{
    /* A file that begins mid-event: its first lines are an event of their own. */
    struct sl_err err;
    struct sl_tail_ml_conf c = {.max_bytes = 100};
    c.re = sl__tail_ml_compile("^START", "multiline.pattern", &err);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(c.re, NULL);
    struct sl_tail_ml ml = {0};
    struct got g = {0};
    sl__tail_ml_line(&c, &ml, md, "tail of before", 14, 0, 15, 0, collect, &g);
    sl__tail_ml_line(&c, &ml, md, "", 0, 15, 16, 0, collect, &g);
    sl__tail_ml_line(&c, &ml, md, "START x", 7, 16, 24, 0, collect, &g);
    sl__tail_ml_flush(&ml, collect, &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.body[0], "tail of before\n");
    assert_string_equal(g.body[1], "START x");
    pcre2_match_data_free(md);
    sl__tail_ml_fini(&ml);
    pcre2_code_free(c.re);
}

static void test_bad_pattern(void **state)
{
    struct sl_err err;
    sl_err_clear(&err);
    assert_null(sl__tail_ml_compile("^(abc", "multiline.pattern", &err));
    assert_non_null(strstr(err.msg, "multiline.pattern: bad regular expression '^(abc' at "
                                    "offset 5"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_pattern), cmocka_unit_test(test_continue_pattern),
        cmocka_unit_test(test_max_bytes),     cmocka_unit_test(test_first_line_not_a_start),
        cmocka_unit_test(test_bad_pattern),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
