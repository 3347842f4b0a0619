/*
 * test_selector.c - sl_source_put with interceptors and channel selectors over real memory
 * channels: filtering everything or some, replicating to several channels, multiplexing by
 * a header that regex_extractor sets (mapping, default, unmapped, no default), the
 * all-or-retry contract with *next_chan resume (no duplicate, interceptors run once, events
 * copied rather than handed over where a later channel may still fail), optional channels
 * that are full (copies dropped and counted, originals freed), the routing ledger, config
 * errors with line:col, and the --check printout.
 */
/* clang-format off */
/* cmocka.h needs these first */
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
#include "agent/registry.h"
#include "agent/selector.h"
#include "common/sl_macros.h"

#define MAXCH 4

struct fixture {
    struct sl_channel *ch[MAXCH];
    struct sl_source src;
};

static struct sl_channel *chan_new(const char *name, int capacity)
{
    struct sl_channel *c = calloc(1, sizeof(*c));
    c->ops = &sl_memory_channel_ops;
    c->ctx = calloc(1, c->ops->ctx_size);
    snprintf(c->name, sizeof(c->name), "%s", name);
    snprintf(c->comp, sizeof(c->comp), "channel:memory:%s", name);
    char yaml[128];
    snprintf(yaml, sizeof(yaml), "capacity: %d\ntransactionCapacity: %d\n", capacity,
             SL_MIN(capacity, 50));
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(sl_yaml_load_string(yaml, strlen(yaml), &doc, &err), 0);
    assert_int_equal(sl_conf_bind(c->ops->conf, c->ctx, &doc, doc.root, NULL, "test", &err), 0);
    sl_yaml_free(&doc);
    assert_int_equal(c->ops->init(c, &err), 0);
    return c;
}

/*
 * A source over channels c1..cn with the given capacities, built from yaml: a map with
 * optional `interceptors:` and `selector:` keys, as in a pipeline. Returns 0 or the build
 * error (err filled).
 */
static int fixture_build(struct fixture *f, const int *caps, size_t n, const char *yaml,
                         struct sl_err *err)
{
    memset(f, 0, sizeof(*f));
    f->src.channels = calloc(n, sizeof(*f->src.channels));
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "c%zu", i + 1);
        f->ch[i] = chan_new(name, caps[i]);
        f->src.channels[i] = f->ch[i];
    }
    f->src.nchannels = n;
    snprintf(f->src.name, sizeof(f->src.name), "r1");
    snprintf(f->src.comp, sizeof(f->src.comp), "source:test:r1");
    struct sl_yaml_doc doc;
    assert_int_equal(sl_yaml_load_string(yaml, strlen(yaml), &doc, err), 0);
    int rc = 0;
    const struct sl_yaml_node *ic = doc.root ? sl_yaml_get(doc.root, "interceptors") : NULL;
    if (ic) {
        rc = sl_icpt_chain_build(&doc, ic, "source r1", f->src.comp, &f->src.icpt, err);
    }
    if (rc == 0) {
        rc = sl_selector_build(&f->src, &doc, doc.root ? sl_yaml_get(doc.root, "selector") : NULL,
                               "source r1", err);
    }
    sl_yaml_free(&doc);
    return rc;
}

static void fixture_new(struct fixture *f, const int *caps, size_t n, const char *yaml)
{
    struct sl_err err = {0};
    int rc = fixture_build(f, caps, n, yaml, &err);
    if (rc != 0) {
        fprintf(stderr, "build failed: %s\n", err.msg);
    }
    assert_int_equal(rc, 0);
}

static void fixture_free(struct fixture *f)
{
    for (size_t i = 0; i < f->src.nchannels; i++) {
        /* Drain what is left so the channel frees nothing we still count on. */
        struct sl_chan_tx tx;
        sl_chan_begin(f->ch[i], 1, &tx);
        while (sl_chan_take(&tx, 50, 0)) {
            sl_chan_commit(&tx);
            sl_chan_begin(f->ch[i], 1, &tx);
        }
        sl_chan_rollback(&tx);
        f->ch[i]->ops->fini(f->ch[i]);
        sl_conf_free(f->ch[i]->ops->conf, f->ch[i]->ctx);
        free(f->ch[i]->ctx);
        free(f->ch[i]);
    }
    sl_icpt_chain_destroy(f->src.icpt);
    sl_selector_destroy(f->src.selector);
    free(f->src.channels);
}

/* Take everything from c; its bodies, "|"-joined, into out (and headers h, if h). */
static size_t drain(struct sl_channel *c, char *out, size_t len, const char *h, char *hout,
                    size_t hlen)
{
    size_t got = 0, o = 0, ho = 0;
    out[0] = '\0';
    if (hout) {
        hout[0] = '\0';
    }
    for (;;) {
        struct sl_chan_tx tx;
        sl_chan_begin(c, 1, &tx);
        size_t n = sl_chan_take(&tx, 50, 0);
        for (size_t i = 0; i < n; i++) {
            struct sl_event *ev = tx.evs[i];
            o += (size_t)snprintf(out + o, len - o, "%s%.*s", got ? "|" : "", (int)ev->len,
                                  (const char *)ev->body);
            if (hout) {
                const char *v = sl_event_header(ev, h);
                ho += (size_t)snprintf(hout + ho, hlen - ho, "%s%s", got ? "|" : "", v ? v : "-");
            }
            got++;
        }
        if (n == 0) {
            sl_chan_rollback(&tx);
            return got;
        }
        sl_chan_commit(&tx);
    }
}

/* n events made from a slab (as netcat makes them), bodies from lines. */
static void make_events(struct sl_event **evs, const char *const *lines, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += sl_event_slab_cost(strlen(lines[i]));
    }
    struct sl_event_slab *sl = sl_event_slab_create(total);
    for (size_t i = 0; i < n; i++) {
        evs[i] = sl_event_slab_add(sl, lines[i], strlen(lines[i]));
        assert_non_null(evs[i]);
    }
    sl_event_slab_release(sl);
}

/* Fill c with k events directly (to make it full). */
static void prefill(struct sl_channel *c, size_t k)
{
    struct sl_chan_tx tx;
    sl_chan_begin(c, 0, &tx);
    for (size_t i = 0; i < k; i++) {
        assert_int_equal(sl_chan_put(&tx, sl_event_create("fill", 4)), 0);
    }
    assert_int_equal(sl_chan_commit_wait(&tx, 0), 0);
}

static const char *const levels[] = {"level=ERROR a", "level=INFO b",  "level=WARN c",
                                     "no level d",    "level=ERROR e", "level=DEBUG f"};

static const char *const extract_yaml = "interceptors:\n"
                                        "  - type: regex_extractor\n"
                                        "    regex: 'level=(?<level>[A-Z]+)'\n";

static void test_filter_everything(void **state)
{
    struct fixture f;
    int caps[] = {10, 10};
    fixture_new(&f, caps, 2,
                "interceptors:\n  - {type: regex_filter, regex: '.', excludeEvents: true}\n");
    struct sl_event *evs[6];
    make_events(evs, levels, 6);
    size_t next = 0;
    assert_int_equal(sl_source_put(&f.src, evs, 6, &next), 0);
    assert_int_equal(next, 2);
    char out[256];
    assert_int_equal(drain(f.ch[0], out, sizeof(out), NULL, NULL, 0), 0);
    assert_int_equal(drain(f.ch[1], out, sizeof(out), NULL, NULL, 0), 0);
    assert_int_equal(f.src.filtered, 6);
    assert_int_equal(f.src.fanout_adjust, 0);
    fixture_free(&f); /* LSan: the six events and their slab are gone */
}

static void test_replicating_with_chain(void **state)
{
    struct fixture f;
    int caps[] = {10, 10};
    fixture_new(&f, caps, 2,
                "interceptors:\n"
                "  - {type: regex_filter, regex: '^no', excludeEvents: true}\n"
                "  - {type: search_replace, searchPattern: 'level=', replaceString: ''}\n"
                "  - {type: static, key: dc, value: x}\n");
    assert_non_null(f.src.selector);
    struct sl_event *evs[6];
    make_events(evs, levels, 6);
    size_t next = 0;
    assert_int_equal(sl_source_put(&f.src, evs, 6, &next), 0);
    char a[256], b[256], ha[64], hb[64];
    assert_int_equal(drain(f.ch[0], a, sizeof(a), "dc", ha, sizeof(ha)), 5);
    assert_int_equal(drain(f.ch[1], b, sizeof(b), "dc", hb, sizeof(hb)), 5);
    assert_string_equal(a, "ERROR a|INFO b|WARN c|ERROR e|DEBUG f");
    assert_string_equal(b, a);
    assert_string_equal(ha, "x|x|x|x|x");
    assert_string_equal(hb, ha);
    assert_int_equal(f.src.filtered, 1);
    assert_int_equal(f.src.fanout_adjust, 0);
    fixture_free(&f);
}

static void test_multiplexing(void **state)
{
    struct fixture f;
    int caps[] = {10, 10, 10};
    char yaml[512];
    snprintf(yaml, sizeof(yaml),
             "%sselector:\n"
             "  type: multiplexing\n"
             "  header: level\n"
             "  mapping:\n"
             "    ERROR: [c1]\n"
             "    WARN: c1 c2\n"
             "  default: [c2]\n"
             "  optional:\n"
             "    ERROR: [c3, c1]\n",
             extract_yaml);
    fixture_new(&f, caps, 3, yaml);
    struct sl_event *evs[6];
    make_events(evs, levels, 6);
    size_t next = 0;
    assert_int_equal(sl_source_put(&f.src, evs, 6, &next), 0);
    char out[256];
    assert_int_equal(drain(f.ch[0], out, sizeof(out), NULL, NULL, 0), 3);
    assert_string_equal(out, "level=ERROR a|level=WARN c|level=ERROR e");
    assert_int_equal(drain(f.ch[1], out, sizeof(out), NULL, NULL, 0), 4);
    assert_string_equal(out, "level=INFO b|level=WARN c|no level d|level=DEBUG f");
    /* c1 is required for ERROR, so it is not also optional: c3 alone gets the copies. */
    assert_int_equal(drain(f.ch[2], out, sizeof(out), NULL, NULL, 0), 2);
    assert_string_equal(out, "level=ERROR a|level=ERROR e");
    /* Copies made: ERROR 2 x 2, INFO 1, WARN 2, none 1, DEBUG 1 = 9; 6 events x 3 channels
     * would have been 18. */
    assert_int_equal(f.src.fanout_adjust, 9 - 18);
    assert_int_equal(f.src.unrouted, 0);
    assert_int_equal(f.src.dropped_optional, 0);
    fixture_free(&f);
}

static void test_unrouted_without_default(void **state)
{
    struct fixture f;
    int caps[] = {10, 10};
    char yaml[512];
    snprintf(yaml, sizeof(yaml),
             "%sselector: {type: multiplexing, header: level, mapping: {ERROR: [c2]}}\n",
             extract_yaml);
    fixture_new(&f, caps, 2, yaml);
    struct sl_event *evs[6];
    make_events(evs, levels, 6);
    size_t next = 0;
    assert_int_equal(sl_source_put(&f.src, evs, 6, &next), 0);
    char out[256];
    assert_int_equal(drain(f.ch[0], out, sizeof(out), NULL, NULL, 0), 0);
    assert_int_equal(drain(f.ch[1], out, sizeof(out), NULL, NULL, 0), 2);
    assert_int_equal(f.src.unrouted, 4);
    assert_int_equal(f.src.fanout_adjust, 2 * (1 - 2));
    fixture_free(&f);
}

/* Replicating: the second channel is full; the first keeps its copies, the retry resumes at
 * the second, and the interceptors (uuid) do not run again. */
static void test_retry_resumes(void **state)
{
    struct fixture f;
    int caps[] = {20, 8};
    fixture_new(&f, caps, 2, "interceptors: [{type: uuid}]\n");
    prefill(f.ch[1], 5);
    struct sl_event *evs[6];
    make_events(evs, levels, 6);
    size_t next = 0;
    assert_int_equal(sl_source_put(&f.src, evs, 6, &next), SL_ERETRY);
    assert_int_equal(next, 1);
    char ids[6][40];
    for (int i = 0; i < 6; i++) {
        snprintf(ids[i], sizeof(ids[i]), "%s", sl_event_header(evs[i], "id"));
    }
    assert_int_equal(sl_source_put(&f.src, evs, 6, &next), SL_ERETRY); /* still full */
    assert_int_equal(next, 1);
    char out[512], h1[512], h2[512];
    assert_int_equal(drain(f.ch[1], out, sizeof(out), NULL, NULL, 0), 5); /* room now */
    assert_int_equal(sl_source_put(&f.src, evs, 6, &next), 0);
    assert_int_equal(drain(f.ch[0], out, sizeof(out), "id", h1, sizeof(h1)), 6); /* not 12 */
    assert_int_equal(drain(f.ch[1], out, sizeof(out), "id", h2, sizeof(h2)), 6);
    assert_string_equal(h1, h2);
    char want[512];
    snprintf(want, sizeof(want), "%s|%s|%s|%s|%s|%s", ids[0], ids[1], ids[2], ids[3], ids[4],
             ids[5]);
    assert_string_equal(h1, want);
    fixture_free(&f);
}

/* A source that puts part of a chunk again from channel 1 on (channel 2 refused the whole
 * chunk as too large after channel 1 took it): events routed to channel 1 only must not be
 * handed to it again, nor leaked (LeakSanitizer) — the put frees them; the others go to
 * channel 2 once. */
static void test_piece_from_later_channel(void **state)
{
    struct fixture f;
    int caps[] = {10, 10};
    char yaml[512];
    snprintf(yaml, sizeof(yaml),
             "%sselector:\n  type: multiplexing\n  header: level\n"
             "  mapping: {ERROR: [c1]}\n  default: [c2]\n",
             extract_yaml);
    fixture_new(&f, caps, 2, yaml);
    struct sl_event *evs[6];
    make_events(evs, levels, 6);
    /* As if c1 had taken all six in an earlier put: now the piece {a} (routed to c1 only)
     * from channel 1, then the rest. */
    size_t next = 1;
    assert_int_equal(sl_source_put(&f.src, evs, 1, &next), 0);
    next = 1;
    assert_int_equal(sl_source_put(&f.src, evs + 1, 5, &next), 0);
    char out[512];
    assert_int_equal(drain(f.ch[0], out, sizeof(out), NULL, NULL, 0), 0);
    assert_int_equal(drain(f.ch[1], out, sizeof(out), NULL, NULL, 0), 4);
    assert_string_equal(out, "level=INFO b|level=WARN c|no level d|level=DEBUG f");
    fixture_free(&f);
}

/* Multiplexing where the full channel comes after one that already took its events: those
 * got copies (the originals stay with the caller for the retry) and no event is lost,
 * duplicated or freed twice. */
static void test_multiplexing_retry(void **state)
{
    struct fixture f;
    int caps[] = {10, 4};
    char yaml[512];
    snprintf(yaml, sizeof(yaml),
             "%sselector:\n  type: multiplexing\n  header: level\n"
             "  mapping: {ERROR: [c1]}\n  default: [c2]\n",
             extract_yaml);
    fixture_new(&f, caps, 2, yaml);
    prefill(f.ch[1], 3);
    struct sl_event *evs[6];
    make_events(evs, levels, 6);
    size_t next = 0;
    assert_int_equal(sl_source_put(&f.src, evs, 6, &next), SL_ERETRY);
    assert_int_equal(next, 1);
    /* c1's sink takes and frees what c1 got meanwhile; the caller still owns every event of
     * its put, all readable (ASan would catch an original handed to c1 and freed there). */
    char out[512];
    assert_int_equal(drain(f.ch[0], out, sizeof(out), NULL, NULL, 0), 2);
    assert_string_equal(out, "level=ERROR a|level=ERROR e");
    for (int i = 0; i < 6; i++) {
        assert_int_equal(evs[i]->len, strlen(levels[i]));
        assert_memory_equal(evs[i]->body, levels[i], evs[i]->len);
    }
    assert_int_equal(drain(f.ch[1], out, sizeof(out), NULL, NULL, 0), 3);
    assert_int_equal(sl_source_put(&f.src, evs, 6, &next), 0);
    assert_int_equal(drain(f.ch[0], out, sizeof(out), NULL, NULL, 0), 0); /* not again */
    assert_int_equal(drain(f.ch[1], out, sizeof(out), NULL, NULL, 0), 4);
    assert_string_equal(out, "level=INFO b|level=WARN c|no level d|level=DEBUG f");
    fixture_free(&f);
}

static void test_optional_full(void **state)
{
    struct fixture f;
    int caps[] = {10, 8};
    fixture_new(&f, caps, 2, "selector: {type: replicating, optional: [c2]}\n");
    assert_non_null(f.src.selector);
    prefill(f.ch[1], 5);
    struct sl_event *evs[6];
    make_events(evs, levels, 6);
    size_t next = 0;
    assert_int_equal(sl_source_put(&f.src, evs, 6, &next), 0); /* c2 full does not matter */
    char out[512];
    assert_int_equal(drain(f.ch[0], out, sizeof(out), NULL, NULL, 0), 6);
    assert_int_equal(drain(f.ch[1], out, sizeof(out), NULL, NULL, 0), 5); /* the prefill */
    assert_int_equal(f.src.dropped_optional, 6);
    assert_int_equal(f.src.fanout_adjust, 0);
    /* With room, the optional channel gets its copies. */
    make_events(evs, levels, 3);
    next = 0;
    assert_int_equal(sl_source_put(&f.src, evs, 3, &next), 0);
    assert_int_equal(drain(f.ch[1], out, sizeof(out), NULL, NULL, 0), 3);
    assert_string_equal(out, "level=ERROR a|level=INFO b|level=WARN c");
    assert_int_equal(f.src.dropped_optional, 6);
    fixture_free(&f);
}

/* An event whose only channel is optional: its original goes there, and is freed when that
 * channel is full. A required channel that is full still makes the put retry. */
static void test_optional_only_route(void **state)
{
    struct fixture f;
    int caps[] = {10, 2};
    char yaml[512];
    snprintf(yaml, sizeof(yaml),
             "%sselector:\n  type: multiplexing\n  header: level\n"
             "  mapping: {ERROR: [c1]}\n  optional: {INFO: [c2], WARN: [c2]}\n",
             extract_yaml);
    fixture_new(&f, caps, 2, yaml);
    prefill(f.ch[1], 2);
    struct sl_event *evs[6];
    make_events(evs, levels, 6);
    size_t next = 0;
    assert_int_equal(sl_source_put(&f.src, evs, 6, &next), 0);
    char out[512];
    assert_int_equal(drain(f.ch[0], out, sizeof(out), NULL, NULL, 0), 2);
    assert_int_equal(f.src.dropped_optional, 2); /* INFO b, WARN c */
    assert_int_equal(f.src.unrouted, 2);         /* no level d, DEBUG f: no default */
    prefill(f.ch[0], 10);
    make_events(evs, levels, 2);
    next = 0;
    assert_int_equal(sl_source_put(&f.src, evs, 2, &next), SL_ERETRY);
    assert_int_equal(drain(f.ch[0], out, sizeof(out), NULL, NULL, 0), 10);
    assert_int_equal(drain(f.ch[1], out, sizeof(out), NULL, NULL, 0), 2);
    assert_int_equal(sl_source_put(&f.src, evs, 2, &next), 0);
    assert_int_equal(drain(f.ch[1], out, sizeof(out), NULL, NULL, 0), 1);
    assert_string_equal(out, "level=INFO b");
    fixture_free(&f);
}

static void bad(const int *caps, size_t n, const char *yaml, int line, int col, const char *needle)
{
    struct fixture f;
    struct sl_err err = {0};
    int rc = fixture_build(&f, caps, n, yaml, &err);
    if (rc == 0 || !strstr(err.msg, needle) || err.line != line || err.col != col) {
        fprintf(stderr, "got rc %d at %d:%d: %s (wanted %d:%d '%s')\n", rc, err.line, err.col,
                err.msg, line, col, needle);
    }
    assert_int_equal(rc, SL_ECONFIG);
    assert_non_null(strstr(err.msg, needle));
    assert_int_equal(err.line, line);
    assert_int_equal(err.col, col);
    assert_null(f.src.selector);
    fixture_free(&f);
}

static void test_config_errors(void **state)
{
    int caps[] = {10, 10};
    bad(caps, 2, "selector:\n  type: multiplexing\n  header: h\n  mapping:\n    a: [c1, c9]\n", 5,
        13, "mapping: a: channel 'c9' is not one of this source's channels (c1, c2)");
    bad(caps, 2, "selector:\n  type: multiplexing\n  mapping: {a: c1 c7}\n", 3, 16,
        "channel 'c7' is not one");
    bad(caps, 2, "selector: {type: multiplexing, mapping: {a: [c1]}, default: [nope]}\n", 1, 62,
        "default: channel 'nope'");
    bad(caps, 2, "selector: {type: replicating, optional: [c3]}\n", 1, 42,
        "optional: channel 'c3'");
    bad(caps, 2, "selector: {type: fanout}\n", 1, 18,
        "type: 'fanout' is not one of: replicating, multiplexing");
    bad(caps, 2, "selector: {type: multiplexing, header: h}\n", 1, 11, "needs mapping");
    bad(caps, 2, "selector: {type: multiplexing, mapping: {a: [c1]}, headr: h}\n", 1, 52,
        "unknown key 'headr' (known keys: type, header, mapping, default, optional)");
    bad(caps, 2, "selector: {type: multiplexing, mapping: {a: [c1]}, optional: [c2]}\n", 1, 62,
        "optional: expected a map");
    bad(caps, 2, "selector: {optional: [c1], mapping: {}}\n", 1, 28, "unknown key 'mapping'");
    bad(caps, 2, "selector: [c1]\n", 1, 11, "expected a map");
}

static void test_print(void **state)
{
    struct fixture f;
    int caps[] = {10, 10, 10};
    fixture_new(&f, caps, 3,
                "interceptors: [{type: timestamp}]\n"
                "selector:\n  type: multiplexing\n  header: level\n"
                "  mapping: {ERROR: [c1, c2]}\n  default: [c3]\n  optional: {ERROR: [c3]}\n");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    sl_icpt_chain_print(f.src.icpt, out, "  ");
    sl_selector_print(&f.src, out, "  ");
    fclose(out);
    assert_non_null(strstr(text, "  - type: timestamp\n      headerName: timestamp\n"));
    assert_non_null(strstr(text, "selector: multiplexing by header level\n"
                                 "    ERROR -> [c1, c2], optional [c3]\n"
                                 "    default -> [c3]\n"));
    free(text);
    fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_everything),
        cmocka_unit_test(test_replicating_with_chain),
        cmocka_unit_test(test_multiplexing),
        cmocka_unit_test(test_unrouted_without_default),
        cmocka_unit_test(test_retry_resumes),
        cmocka_unit_test(test_multiplexing_retry),
        cmocka_unit_test(test_piece_from_later_channel),
        cmocka_unit_test(test_optional_full),
        cmocka_unit_test(test_optional_only_route),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
