/*
 * test_interceptor.c - each interceptor on its own and in a chain: timestamp, host, static,
 * uuid (format, uniqueness), regex_filter (include, exclude), regex_extractor (named groups,
 * serializers, unmatched groups), search_replace (Java replacement syntax, a new event with
 * the old headers, slab events), remove_header; the chain runs once per event; config
 * errors (bad regex with line:col and PCRE2's offset, unknown type listing the known ones,
 * unknown key, bad replacement, nothing to extract); Flume class names as types; patterns
 * JIT-compiled where PCRE2 can.
 */
/* clang-format off */
/* cmocka.h needs these first */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
/* clang-format on */

#include "agent/interceptor.h"
#include "agent/interceptor_int.h"
#include "common/sl_macros.h"

static struct sl_icpt_chain *chain_new(const char *yaml)
{
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(sl_yaml_load_string(yaml, strlen(yaml), &doc, &err), 0);
    struct sl_icpt_chain *c = NULL;
    int rc = sl_icpt_chain_build(&doc, doc.root, "source r1", "source:netcat:r1", &c, &err);
    if (rc != 0) {
        fprintf(stderr, "unexpected error: %s\n", err.msg);
    }
    assert_int_equal(rc, 0);
    assert_non_null(c);
    sl_yaml_free(&doc);
    return c;
}

/* The error building yaml gives; asserts it fails at line:col. */
static void chain_bad(const char *yaml, int line, int col, const char *needle)
{
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(sl_yaml_load_string(yaml, strlen(yaml), &doc, &err), 0);
    struct sl_icpt_chain *c = NULL;
    int rc = sl_icpt_chain_build(&doc, doc.root, "source r1", "source:netcat:r1", &c, &err);
    if (rc == 0 || !strstr(err.msg, needle) || err.line != line || err.col != col) {
        fprintf(stderr, "got rc %d at %d:%d: %s (wanted %d:%d with '%s')\n", rc, err.line, err.col,
                err.msg, line, col, needle);
    }
    assert_int_equal(rc, SL_ECONFIG);
    assert_null(c);
    assert_non_null(strstr(err.msg, needle));
    assert_int_equal(err.line, line);
    assert_int_equal(err.col, col);
    sl_yaml_free(&doc);
}

static struct sl_event *ev_new(const char *body)
{
    struct sl_event *ev = sl_event_create(body, strlen(body));
    assert_non_null(ev);
    return ev;
}

/* Run c over one fresh event; returns it (DROPPED or not). */
static struct sl_event *run1(struct sl_icpt_chain *c, struct sl_event *ev)
{
    sl_icpt_chain_run(c, &ev, 1);
    assert_true(ev->flags & SL_EVENT_INTERCEPTED);
    return ev;
}

static int body_is(const struct sl_event *ev, const char *s)
{
    return ev->len == strlen(s) && memcmp(ev->body, s, ev->len) == 0;
}

static void test_timestamp(void **state)
{
    struct sl_icpt_chain *c = chain_new("- type: timestamp\n"
                                        "- {type: timestamp, headerName: ts2, "
                                        "preserveExisting: true}\n");
    int64_t before = sl_now_ms();
    struct sl_event *ev = ev_new("x");
    sl_event_set_header(ev, "ts2", "keep");
    sl_event_set_header(ev, "timestamp", "old");
    ev = run1(c, ev);
    long long t = atoll(sl_event_header(ev, "timestamp"));
    assert_true(t >= before && t <= sl_now_ms());
    assert_string_equal(sl_event_header(ev, "ts2"), "keep"); /* preserved */
    sl_event_destroy(ev);
    sl_icpt_chain_destroy(c);
}

static void test_host(void **state)
{
    struct sl_icpt_chain *c = chain_new("- type: host\n"
                                        "- {type: host, useIP: false, hostHeader: hostname}\n");
    struct sl_event *ev = run1(c, ev_new("x"));
    const char *ip = sl_event_header(ev, "host");
    struct in_addr a;
    assert_non_null(ip);
    assert_int_equal(inet_pton(AF_INET, ip, &a), 1);
    const char *name = sl_event_header(ev, "hostname");
    assert_non_null(name);
    assert_true(strlen(name) > 0);
    sl_event_destroy(ev);
    sl_icpt_chain_destroy(c);
}

static void test_static(void **state)
{
    struct sl_icpt_chain *c = chain_new("- {type: static, key: dc, value: eu-1}\n"
                                        "- {type: static, key: env, value: prod, "
                                        "preserveExisting: false}\n"
                                        "- type: static\n");
    struct sl_event *ev = ev_new("x");
    sl_event_set_header(ev, "dc", "mine");
    sl_event_set_header(ev, "env", "dev");
    ev = run1(c, ev);
    assert_string_equal(sl_event_header(ev, "dc"), "mine"); /* preserveExisting defaults true */
    assert_string_equal(sl_event_header(ev, "env"), "prod");
    assert_string_equal(sl_event_header(ev, "key"), "value"); /* Flume's defaults */
    sl_event_destroy(ev);
    sl_icpt_chain_destroy(c);
}

static void test_uuid(void **state)
{
    struct sl_icpt_chain *c = chain_new("- type: uuid\n"
                                        "- {type: uuid, headerName: rid, prefix: 'web-'}\n");
    enum { N = 600 }; /* more than one 4 KiB refill of the random pool */
    static char seen[N][40];
    for (int i = 0; i < N; i++) {
        struct sl_event *ev = run1(c, ev_new("x"));
        const char *id = sl_event_header(ev, "id");
        assert_int_equal(strlen(id), 36);
        assert_true(id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-');
        assert_int_equal(id[14], '4');
        assert_non_null(strchr("89ab", id[19]));
        for (int j = 0; j < 36; j++) {
            assert_non_null(strchr("0123456789abcdef-", id[j]));
        }
        const char *rid = sl_event_header(ev, "rid");
        assert_int_equal(strncmp(rid, "web-", 4), 0);
        assert_int_equal(strlen(rid), 40);
        snprintf(seen[i], sizeof(seen[i]), "%s", id);
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(seen[j], seen[i]);
        }
        sl_event_destroy(ev);
    }
    sl_icpt_chain_destroy(c);
}

static void test_regex_filter(void **state)
{
    struct sl_icpt_chain *inc = chain_new("- {type: regex_filter, regex: 'ERROR|WARN'}\n");
    struct sl_icpt_chain *exc = chain_new("- type: regex_filter\n"
                                          "  regex: '^DEBUG'\n"
                                          "  excludeEvents: true\n");
    struct sl_icpt_chain *all = chain_new("- type: regex_filter\n");
    const char *lines[] = {"an ERROR here", "DEBUG noise", "just info", "WARN x DEBUG"};
    int inc_keep[] = {1, 0, 0, 1}, exc_keep[] = {1, 0, 1, 1};
    for (int i = 0; i < 4; i++) {
        struct sl_event *a = run1(inc, ev_new(lines[i]));
        struct sl_event *b = run1(exc, ev_new(lines[i]));
        struct sl_event *d = run1(all, ev_new(lines[i]));
        assert_int_equal(!(a->flags & SL_EVENT_DROPPED), inc_keep[i]);
        assert_int_equal(!(b->flags & SL_EVENT_DROPPED), exc_keep[i]);
        assert_false(d->flags & SL_EVENT_DROPPED);
        sl_event_destroy(a);
        sl_event_destroy(b);
        sl_event_destroy(d);
    }
    /* Bodies are bytes: a NUL or invalid UTF-8 does not stop the search. */
    struct sl_event *bin = sl_event_create("\xff\x00 ERROR", 8);
    bin = run1(inc, bin);
    assert_false(bin->flags & SL_EVENT_DROPPED);
    sl_event_destroy(bin);
    sl_icpt_chain_destroy(inc);
    sl_icpt_chain_destroy(exc);
    sl_icpt_chain_destroy(all);
}

static void test_regex_extractor(void **state)
{
    struct sl_icpt_chain *c =
        chain_new("- type: regex_extractor\n"
                  "  regex: 'level=(?<level>[A-Z]+)(?: code=(?<code>\\d+))?'\n"
                  "- type: regex_extractor\n"
                  "  regex: '^(\\d+):(\\d+)'\n"
                  "  serializers: [hour, minute]\n");
    struct sl_event *ev = run1(c, ev_new("12:30 level=ERROR code=500 boom"));
    assert_string_equal(sl_event_header(ev, "level"), "ERROR");
    assert_string_equal(sl_event_header(ev, "code"), "500");
    assert_string_equal(sl_event_header(ev, "hour"), "12");
    assert_string_equal(sl_event_header(ev, "minute"), "30");
    sl_event_destroy(ev);
    ev = run1(c, ev_new("level=INFO fine")); /* an unset optional group sets nothing */
    assert_string_equal(sl_event_header(ev, "level"), "INFO");
    assert_null(sl_event_header(ev, "code"));
    assert_null(sl_event_header(ev, "hour"));
    assert_int_equal(ev->nheaders, 1);
    sl_event_destroy(ev);
    ev = run1(c, ev_new("no match at all"));
    assert_int_equal(ev->nheaders, 0);
    assert_false(ev->flags & SL_EVENT_DROPPED);
    sl_event_destroy(ev);
    sl_icpt_chain_destroy(c);
}

static void test_search_replace(void **state)
{
    struct sl_icpt_chain *c =
        chain_new("- type: search_replace\n"
                  "  searchPattern: 'user=(\\w+) (?<pw>pass)=\\S+'\n"
                  "  replaceString: 'user=$1 ${pw}=*** cost=\\$5'\n"
                  "- {type: search_replace, searchPattern: '\\d', replaceString: '#'}\n");
    struct sl_event *ev = ev_new("login user=bob pass=secret 42");
    sl_event_set_header(ev, "h", "v");
    struct sl_event *orig = ev;
    ev = run1(c, ev);
    assert_ptr_not_equal(ev, orig); /* a new event (the body lives inside it) */
    assert_true(body_is(ev, "login user=bob pass=*** cost=$# ##"));
    assert_string_equal(sl_event_header(ev, "h"), "v");
    assert_true(ev->flags & SL_EVENT_INTERCEPTED);
    sl_event_destroy(ev);
    /* No match: the same event, untouched. */
    ev = ev_new("nothing to see");
    orig = ev;
    ev = run1(c, ev);
    assert_ptr_equal(ev, orig);
    assert_true(body_is(ev, "nothing to see"));
    sl_event_destroy(ev);
    /* A result longer than the scratch buffer's first size. */
    char big[9000];
    memset(big, '7', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct sl_icpt_chain *grow =
        chain_new("- {type: search_replace, searchPattern: '7', replaceString: 'seven'}\n");
    ev = run1(grow, ev_new(big));
    assert_int_equal(ev->len, 5 * (sizeof(big) - 1));
    assert_memory_equal(ev->body, "sevenseven", 10);
    sl_event_destroy(ev);
    sl_icpt_chain_destroy(grow);
    sl_icpt_chain_destroy(c);
}

/* Events carved from a slab: replaced, filtered and kept ones are all freed exactly once
 * (ASan/LSan check it), and the slab goes when its last event does. */
static void test_slab_events(void **state)
{
    struct sl_icpt_chain *c = chain_new("- {type: regex_filter, regex: drop, excludeEvents: true}\n"
                                        "- {type: search_replace, searchPattern: a, "
                                        "replaceString: A}\n"
                                        "- {type: static, key: k, value: v}\n");
    struct sl_event_slab *sl = sl_event_slab_create(4096);
    const char *bodies[] = {"abc", "drop me", "xyz", "banana"};
    struct sl_event *evs[4];
    for (int i = 0; i < 4; i++) {
        evs[i] = sl_event_slab_add(sl, bodies[i], strlen(bodies[i]));
        assert_non_null(evs[i]);
    }
    sl_event_slab_release(sl);
    sl_icpt_chain_run(c, evs, 4);
    sl_icpt_chain_run(c, evs, 4); /* a retry: nothing runs twice */
    assert_true(body_is(evs[0], "Abc"));
    assert_null(evs[0]->slab);
    assert_true(evs[1]->flags & SL_EVENT_DROPPED);
    assert_true(body_is(evs[2], "xyz"));
    assert_ptr_equal(evs[2]->slab, sl);
    assert_true(body_is(evs[3], "bAnAnA"));
    for (int i = 0; i < 4; i++) {
        if (!(evs[i]->flags & SL_EVENT_DROPPED)) {
            assert_string_equal(sl_event_header(evs[i], "k"), "v");
        }
    }
    sl_event_destroy_many(evs, 4);
    sl_icpt_chain_destroy(c);
}

static void test_runs_once(void **state)
{
    struct sl_icpt_chain *c = chain_new("- {type: uuid, preserveExisting: false}\n"
                                        "- {type: search_replace, searchPattern: x, "
                                        "replaceString: xx}\n");
    struct sl_event *evs[2] = {ev_new("x"), ev_new("y")};
    sl_icpt_chain_run(c, evs, 2);
    char id[64];
    snprintf(id, sizeof(id), "%s", sl_event_header(evs[0], "id"));
    sl_icpt_chain_run(c, evs, 2);
    assert_string_equal(sl_event_header(evs[0], "id"), id);
    assert_true(body_is(evs[0], "xx"));
    sl_event_destroy_many(evs, 2);
    sl_icpt_chain_destroy(c);
}

static void test_remove_header(void **state)
{
    struct sl_icpt_chain *c = chain_new("- type: remove_header\n"
                                        "  withName: a\n"
                                        "  fromList: 'b , c,d'\n"
                                        "  matching: 'tmp\\..*'\n");
    struct sl_event *ev = ev_new("x");
    const char *keys[] = {"a", "b", "keep", "c", "d", "tmp.x", "xtmp.y"};
    for (size_t i = 0; i < SL_ARRAY_SIZE(keys); i++) {
        sl_event_set_header(ev, keys[i], "1");
    }
    ev = run1(c, ev);
    assert_int_equal(ev->nheaders, 2);
    assert_string_equal(ev->headers[0].key, "keep");
    assert_string_equal(ev->headers[1].key, "xtmp.y"); /* the whole name must match */
    sl_event_destroy(ev);
    sl_icpt_chain_destroy(c);
}

static void test_config_errors(void **state)
{
    /* Bad regex: the pattern's position and PCRE2's message with the offset. */
    chain_bad("- type: regex_filter\n"
              "  regex: 'a(b'\n",
              2, 10, "bad regex at offset 3: missing closing parenthesis");
    chain_bad("- {type: regex_extractor, regex: '(?<x>a'}\n", 1, 34, "regex: bad regex");
    chain_bad("- {type: search_replace, searchPattern: '[z-a]'}\n", 1, 41, "offset");
    chain_bad("- type: remove_header\n  matching: '*'\n", 2, 13, "matching: bad regex");
    /* Unknown type: the known ones are listed. */
    chain_bad("- type: timestamp\n- type: morphline\n", 2, 9,
              "interceptor 2: unknown type 'morphline' (sluice has: timestamp, host, static, "
              "uuid, regex_filter, regex_extractor, search_replace, remove_header)");
    chain_bad("- {headerName: x}\n", 1, 3, "missing 'type'");
    chain_bad("- timestamp\n", 1, 3, "expected a map with type");
    chain_bad("{type: timestamp}\n", 1, 1, "expected a list");
    /* Strict keys and types. */
    chain_bad("- type: timestamp\n  headername: ts\n", 2, 3,
              "interceptor 1 (timestamp): unknown key 'headername'");
    chain_bad("- {type: static, preserveExisting: maybe}\n", 1, 36, "expected true or false");
    chain_bad("- {type: regex_extractor}\n", 1, 3, "missing required key 'regex'");
    /* Nothing to extract; serializers beyond the groups. */
    chain_bad("- {type: regex_extractor, regex: 'a(b)'}\n", 1, 34, "nothing would be extracted");
    chain_bad("- {type: regex_extractor, regex: '(a)', serializers: [x, y]}\n", 1, 54,
              "1 capture group");
    /* Java replacement syntax errors, found at config time. */
    chain_bad("- {type: search_replace, searchPattern: '(a)', replaceString: '$2'}\n", 1, 63,
              "no group 2");
    chain_bad("- {type: search_replace, searchPattern: a, replaceString: '$x'}\n", 1, 59,
              "illegal group reference");
    chain_bad("- {type: search_replace, searchPattern: a, replaceString: '${nope}'}\n", 1, 59,
              "no group named 'nope'");
    chain_bad("- {type: search_replace, searchPattern: a, replaceString: 'x\\'}\n", 1, 59,
              "escapes nothing");
    chain_bad("- {type: remove_header}\n", 1, 3, "at least one of");
}

static void test_flume_names(void **state)
{
    /* A Flume class name is also accepted directly in YAML. */
    struct sl_icpt_chain *c = chain_new(
        "- type: org.apache.flume.interceptor.StaticInterceptor$Builder\n  key: a\n  value: b\n");
    struct sl_event *ev = run1(c, ev_new("x"));
    assert_string_equal(sl_event_header(ev, "a"), "b");
    sl_event_destroy(ev);
    sl_icpt_chain_destroy(c);
}

/* Patterns are JIT-compiled where PCRE2 has a JIT for this machine, interpreted otherwise;
 * both give the same answers. */
static void test_jit(void **state)
{
    uint32_t has_jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &has_jit);
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(sl_yaml_load_string("x", 1, &doc, &err), 0);
    struct sl_rx rx;
    assert_int_equal(sl__rx_compile(&rx, "b+c", "regex", "t", &doc, doc.root, &err), 0);
    assert_int_equal(rx.jit, has_jit != 0);
    assert_int_equal(sl__rx_find(&rx, (const uint8_t *)"abbc", 4), 1);
    assert_int_equal(sl__rx_find(&rx, (const uint8_t *)"abd", 3), 0);
    /* The interpreter (as on a platform without a JIT) agrees. */
    assert_int_equal(pcre2_match(rx.code, (PCRE2_SPTR) "abbc", 4, 0, PCRE2_NO_JIT, rx.md, rx.mctx),
                     1);
    assert_int_equal(pcre2_match(rx.code, (PCRE2_SPTR) "abd", 3, 0, PCRE2_NO_JIT, rx.md, rx.mctx),
                     PCRE2_ERROR_NOMATCH);
    sl__rx_free(&rx);
    sl_yaml_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_static),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_regex_filter),
        cmocka_unit_test(test_regex_extractor),
        cmocka_unit_test(test_search_replace),
        cmocka_unit_test(test_slab_events),
        cmocka_unit_test(test_runs_once),
        cmocka_unit_test(test_remove_header),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_flume_names),
        cmocka_unit_test(test_jit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
