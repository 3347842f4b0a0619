/*
 * test_event.c - events and their headers (agent/event.c): insertion order, a repeated key
 * replaced in place (shorter and longer values, a value taken from the event's own headers),
 * growth one header at a time, the bulk call (all or nothing, repeats, embedded NULs), header
 * removal, copies (deep, compacted, without flags), sl_event_with_body, sl_event_size kept
 * exact through all of it, and header blocks carved from a slab (freed with the slab, copied
 * out when the event leaves it, a full slab falling back to malloc).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off: cmocka.h needs the headers above */
#include <cmocka.h>
/* clang-format on */

#include "agent/event.h"

/* Headers of ev as "k=v|k=v", into a static buffer. */
static const char *dump(const struct sl_event *ev)
{
    static char buf[8192];
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < ev->nheaders; i++) {
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s=%s", i ? "|" : "", ev->headers[i].key,
                              ev->headers[i].value);
    }
    return buf;
}

/* sl_event_size computed from scratch, to check the kept count against. */
static size_t size_of(const struct sl_event *ev)
{
    size_t n = ev->len;
    for (uint32_t i = 0; i < ev->nheaders; i++) {
        n += strlen(ev->headers[i].key) + strlen(ev->headers[i].value);
    }
    return n;
}

static void test_order_and_replace(void **state)
{
    (void)state;
    struct sl_event *ev = sl_event_create("body", 4);
    assert_int_equal(sl_event_size(ev), 4);
    assert_null(sl_event_header(ev, "a"));
    assert_int_equal(sl_event_set_header(ev, "a", "1"), 0);
    assert_int_equal(sl_event_set_header(ev, "b", "22"), 0);
    assert_int_equal(sl_event_set_header(ev, "c", "333"), 0);
    assert_string_equal(dump(ev), "a=1|b=22|c=333");
    assert_int_equal(sl_event_size(ev), 4 + 2 + 3 + 4);
    /* Replaced in place, keeping the position: longer, then shorter, then empty. */
    assert_int_equal(sl_event_set_header(ev, "b", "a much longer value"), 0);
    assert_string_equal(dump(ev), "a=1|b=a much longer value|c=333");
    assert_int_equal(sl_event_set_header(ev, "b", "x"), 0);
    assert_string_equal(dump(ev), "a=1|b=x|c=333");
    assert_int_equal(sl_event_set_header(ev, "b", ""), 0);
    assert_string_equal(dump(ev), "a=1|b=|c=333");
    assert_int_equal(sl_event_size(ev), size_of(ev));
    /* A key that is a prefix of another is a different key. */
    assert_int_equal(sl_event_set_header(ev, "cc", "4"), 0);
    assert_int_equal(sl_event_set_header(ev, "", "empty key"), 0);
    assert_string_equal(dump(ev), "a=1|b=|c=333|cc=4|=empty key");
    assert_string_equal(sl_event_header(ev, ""), "empty key");
    assert_string_equal(sl_event_header(ev, "c"), "333");
    /* The value need not be NUL-terminated; a NUL inside ends it (as strndup did). */
    assert_int_equal(sl_event_set_header_len(ev, "d", "xyz-not-this", 3), 0);
    assert_int_equal(sl_event_set_header_len(ev, "e", "ab\0cd", 5), 0);
    assert_string_equal(sl_event_header(ev, "d"), "xyz");
    assert_string_equal(sl_event_header(ev, "e"), "ab");
    assert_int_equal(sl_event_size(ev), size_of(ev));
    sl_event_destroy(ev);
}

static void test_value_from_own_headers(void **state)
{
    (void)state;
    struct sl_event *ev = sl_event_create(NULL, 0);
    char big[300];
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(sl_event_set_header(ev, "src", big), 0);
    /* The value is a string of the block that may move while it is copied. */
    for (int i = 0; i < 40; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(sl_event_set_header(ev, k, sl_event_header(ev, "src")), 0);
    }
    assert_int_equal(ev->nheaders, 41);
    for (uint32_t i = 0; i < ev->nheaders; i++) {
        assert_string_equal(ev->headers[i].value, big);
    }
    /* Onto itself, and a suffix of itself. */
    assert_int_equal(sl_event_set_header(ev, "src", sl_event_header(ev, "src")), 0);
    assert_int_equal(sl_event_set_header(ev, "k0", sl_event_header(ev, "k0") + 290), 0);
    assert_string_equal(sl_event_header(ev, "k0"), "vvvvvvvvv");
    assert_string_equal(sl_event_header(ev, "src"), big);
    assert_int_equal(sl_event_size(ev), size_of(ev));
    sl_event_destroy(ev);
}

static void test_many_one_by_one(void **state)
{
    (void)state;
    struct sl_event *ev = sl_event_create("x", 1);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 500; i++) {
            char k[16], v[32];
            snprintf(k, sizeof(k), "h%d", i);
            snprintf(v, sizeof(v), "value-%d-%d", round, i * round);
            assert_int_equal(sl_event_set_header(ev, k, v), 0);
        }
    }
    assert_int_equal(ev->nheaders, 500);
    for (int i = 0; i < 500; i++) {
        char k[16], v[32];
        snprintf(k, sizeof(k), "h%d", i);
        snprintf(v, sizeof(v), "value-2-%d", i * 2);
        assert_string_equal(ev->headers[i].key, k);
        assert_string_equal(ev->headers[i].value, v);
    }
    assert_int_equal(sl_event_size(ev), size_of(ev));
    sl_event_destroy(ev);
}

static void test_bulk(void **state)
{
    (void)state;
    struct sl_event *ev = sl_event_create("b", 1);
    assert_int_equal(sl_event_set_header(ev, "old", "1"), 0);
    const char line[] = "hostappx";
    struct sl_header_in hs[] = {
        {"host", 4, line, 4},      {"app", 3, line + 4, 3},    {"old", 3, "replaced", 8},
        {"sd.a.b", 6, "first", 5}, {"sd.a.b", 6, "second", 6}, {"keyXXX", 3, "v", 1},
        {"empty", 5, "", 0},
    };
    assert_int_equal(sl_event_set_headers(ev, hs, sizeof(hs) / sizeof(hs[0])), 0);
    assert_string_equal(dump(ev), "old=replaced|host=host|app=app|sd.a.b=second|key=v|empty=");
    assert_int_equal(sl_event_size(ev), size_of(ev));
    assert_int_equal(sl_event_set_headers(ev, NULL, 0), 0);
    assert_int_equal(sl_event_set_headers(ev, hs, 2), 0); /* all repeats: nothing grows */
    assert_string_equal(dump(ev), "old=replaced|host=host|app=app|sd.a.b=second|key=v|empty=");
    /* Then one by one on top of a bulk-made block. */
    assert_int_equal(sl_event_set_header(ev, "late", "yes"), 0);
    assert_string_equal(sl_event_header(ev, "late"), "yes");
    assert_int_equal(ev->nheaders, 7);
    assert_int_equal(sl_event_size(ev), size_of(ev));
    sl_event_destroy(ev);
}

static void test_remove(void **state)
{
    (void)state;
    struct sl_event *ev = sl_event_create("b", 1);
    const char *ks[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(sl_event_set_header(ev, ks[i], "vv"), 0);
    }
    sl_event_remove_header(ev, 1);
    assert_string_equal(dump(ev), "a=vv|c=vv|d=vv");
    sl_event_remove_header(ev, 2);
    assert_string_equal(dump(ev), "a=vv|c=vv");
    assert_int_equal(sl_event_size(ev), 1 + 3 + 3);
    sl_event_remove_header(ev, 0);
    sl_event_remove_header(ev, 0);
    assert_int_equal(ev->nheaders, 0);
    assert_int_equal(sl_event_size(ev), 1);
    assert_null(sl_event_header(ev, "a"));
    /* The block is reused, and a removed key can come back (at the end). */
    assert_int_equal(sl_event_set_header(ev, "b", "again"), 0);
    assert_string_equal(dump(ev), "b=again");
    assert_int_equal(sl_event_size(ev), size_of(ev));
    sl_event_destroy(ev);
}

static void test_dup_and_with_body(void **state)
{
    (void)state;
    struct sl_event *ev = sl_event_create("body", 4);
    assert_int_equal(sl_event_set_header(ev, "a", "1"), 0);
    assert_int_equal(sl_event_set_header(ev, "b", "2"), 0);
    assert_int_equal(sl_event_set_header(ev, "a", "a longer one"), 0); /* leaves dead bytes */
    sl_event_remove_header(ev, 1);
    ev->flags = SL_EVENT_INTERCEPTED;
    struct sl_event *d = sl_event_dup(ev);
    assert_non_null(d);
    assert_int_equal(d->flags, 0);
    assert_memory_equal(d->body, "body", 4);
    assert_string_equal(dump(d), "a=a longer one");
    assert_ptr_not_equal(d->headers, ev->headers);
    assert_int_equal(sl_event_size(d), sl_event_size(ev));
    sl_event_destroy(ev);
    /* The copy is independent and still grows. */
    assert_int_equal(sl_event_set_header(d, "c", "3"), 0);
    assert_string_equal(dump(d), "a=a longer one|c=3");
    struct sl_event *w = sl_event_with_body(d, "new body", 8);
    assert_non_null(w);
    assert_memory_equal(w->body, "new body", 8);
    assert_string_equal(dump(w), "a=a longer one|c=3");
    assert_int_equal(sl_event_size(w), size_of(w));
    sl_event_destroy(w);
    struct sl_event *e = sl_event_create(NULL, 0);
    struct sl_event *de = sl_event_dup(e);
    assert_int_equal(de->nheaders, 0);
    assert_int_equal(sl_event_size(de), 0);
    sl_event_destroy(e);
    sl_event_destroy(de);
}

static void test_slab_headers(void **state)
{
    (void)state;
    struct sl_event_slab *sl = sl_event_slab_create(4096);
    struct sl_header_in hs[] = {
        {"Facility", 8, "16", 2},
        {"host", 4, "bench-host", 10},
        {"host", 4, "h2", 2},
    };
    struct sl_event *evs[64];
    size_t n = 0;
    /* Events until the slab is full: bodies and header blocks alike come from it, and the
     * last events fall back to their own allocations. */
    for (; n < 64; n++) {
        evs[n] = sl_event_slab_add(sl, "0123456789", 10);
        if (!evs[n]) {
            break;
        }
        assert_int_equal(sl_event_slab_set_headers(evs[n], hs, 3), 0);
        assert_string_equal(dump(evs[n]), "Facility=16|host=h2");
        assert_int_equal(sl_event_size(evs[n]), size_of(evs[n]));
    }
    assert_true(n > 4 && n < 64);
    /* Carved: each header block lies between its event and the next one. */
    for (size_t i = 0; i + 1 < n; i++) {
        assert_true((char *)evs[i]->headers > (char *)evs[i]);
        assert_true((char *)evs[i]->headers < (char *)evs[i + 1]);
    }
    sl_event_slab_release(sl);
    /* Growing a carved block, and copies of carved ones, leave the slab for malloc. */
    assert_int_equal(sl_event_set_header(evs[0], "more", "headers"), 0);
    assert_string_equal(dump(evs[0]), "Facility=16|host=h2|more=headers");
    struct sl_event *d = sl_event_dup(evs[1]);
    struct sl_event *w = sl_event_with_body(evs[2], "w", 1);
    assert_non_null(d);
    assert_non_null(w);
    sl_event_remove_header(evs[3], 0);
    assert_string_equal(dump(evs[3]), "host=h2");
    /* An event with headers already, or not from a slab: the ordinary path. */
    struct sl_event *own = sl_event_create("o", 1);
    assert_int_equal(sl_event_slab_set_headers(own, hs, 2), 0);
    assert_int_equal(sl_event_slab_set_headers(own, hs + 2, 1), 0);
    assert_string_equal(dump(own), "Facility=16|host=h2");
    sl_event_destroy(own);
    /* Free the slab's events in two groups; the last one frees the slab (ASan checks). */
    sl_event_destroy_many(evs, 1);
    for (size_t i = 3; i < n; i++) {
        sl_event_destroy(evs[i]);
    }
    sl_event_destroy(evs[1]);
    assert_string_equal(dump(d), "Facility=16|host=h2");
    assert_string_equal(dump(w), "Facility=16|host=h2");
    assert_int_equal(sl_event_size(w), size_of(w));
    sl_event_destroy(d);
    sl_event_destroy(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_replace),
        cmocka_unit_test(test_value_from_own_headers),
        cmocka_unit_test(test_many_one_by_one),
        cmocka_unit_test(test_bulk),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_dup_and_with_body),
        cmocka_unit_test(test_slab_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
