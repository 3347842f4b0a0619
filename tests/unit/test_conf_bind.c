/*
 * test_conf_bind.c - the config-map binder: defaults, every type, nested maps as dotted
 * keys, prefixes passed through, and each rejection with its line and column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf/confmap.h"

struct cfg {
    char *host;
    int64_t port;
    int on;
    struct sl_conf_list chans;
    char *mode;
    struct sl_conf_kv pass;
    int64_t linger;
};

static const char *const modes[] = {"fast", "safe", NULL};

#define OFF(f) offsetof(struct cfg, f)
static const struct sl_conf_map map[] = {
    {"host", SL_CONF_STR, NULL, OFF(host), 0, 0, SL_CONF_REQUIRED, NULL, "host"},
    {"port", SL_CONF_INT, "80", OFF(port), 1, 65535, 0, NULL, "port"},
    {"on", SL_CONF_BOOL, "true", OFF(on), 0, 0, 0, NULL, "switch"},
    {"channels", SL_CONF_LIST, NULL, OFF(chans), 0, 0, 0, NULL, "list"},
    {"mode", SL_CONF_STR, "safe", OFF(mode), 0, 0, 0, modes, "choice"},
    {"kafka.producer.", SL_CONF_PREFIX, NULL, OFF(pass), 0, 0, 0, NULL, "passthrough"},
    {"linger.ms", SL_CONF_INT, "5", OFF(linger), 0, 1000, 0, NULL, "dotted"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL},
};

static int bind(const char *text, struct cfg *c, struct sl_err *err)
{
    struct sl_yaml_doc doc;
    memset(c, 0, sizeof(*c));
    int rc = sl_yaml_load_string(text, strlen(text), &doc, err);
    assert_int_equal(rc, 0);
    rc = sl_conf_bind(map, c, &doc, doc.root, NULL, "thing t1", err);
    sl_yaml_free(&doc);
    return rc;
}

static void test_defaults_and_types(void **state)
{
    struct cfg c;
    struct sl_err err = {0};
    assert_int_equal(bind("host: h\n", &c, &err), 0);
    assert_string_equal(c.host, "h");
    assert_int_equal(c.port, 80);
    assert_int_equal(c.on, 1);
    assert_string_equal(c.mode, "safe");
    assert_int_equal(c.chans.n, 0);
    assert_int_equal(c.linger, 5);
    sl_conf_free(map, &c);

    assert_int_equal(bind("host: h\nport: 9092\non: false\nchannels: [a, b]\nmode: fast\n"
                          "kafka.producer.retries: 3\nkafka: {producer: {batch.size: 10}}\n"
                          "linger: {ms: 7}\n",
                          &c, &err),
                     0);
    assert_int_equal(c.port, 9092);
    assert_int_equal(c.on, 0);
    assert_int_equal(c.chans.n, 2);
    assert_string_equal(c.chans.v[1], "b");
    assert_string_equal(c.mode, "fast");
    assert_int_equal(c.pass.n, 2);
    assert_string_equal(c.pass.keys[0], "retries");
    assert_string_equal(c.pass.values[0], "3");
    assert_string_equal(c.pass.keys[1], "batch.size");
    assert_int_equal(c.linger, 7);
    sl_conf_free(map, &c);

    /* A list written as Flume writes it. */
    assert_int_equal(bind("host: h\nchannels: c1 c2  c3\n", &c, &err), 0);
    assert_int_equal(c.chans.n, 3);
    assert_string_equal(c.chans.v[2], "c3");
    sl_conf_free(map, &c);
}

static void bad(const char *text, int line, int col, const char *msg)
{
    struct cfg c;
    struct sl_err err = {0};
    assert_int_equal(bind(text, &c, &err), SL_ECONFIG);
    if (err.line != line || err.col != col || !strstr(err.msg, msg)) {
        fail_msg("for %s: got '%s' at %d:%d, want '%s' at %d:%d", text, err.msg, err.line, err.col,
                 msg, line, col);
    }
    assert_non_null(strstr(err.msg, "<string>:"));
    sl_conf_free(map, &c);
}

static void test_rejections(void **state)
{
    bad("host: h\nprot: 1\n", 2, 1, "thing t1: unknown key 'prot' (known keys: host, port");
    bad("host: h\nport: x1\n", 2, 7, "port: expected an integer, got 'x1'");
    bad("host: h\nport: 0\n", 2, 7, "port: 0 is out of range [1, 65535]");
    bad("host: h\nport: 99999999999999999999\n", 2, 7, "out of range");
    bad("host: h\non: yes\n", 2, 5, "on: expected true or false, got 'yes'");
    bad("host: h\nmode: quick\n", 2, 7, "mode: 'quick' is not one of: fast, safe");
    bad("host: [a]\n", 1, 7, "host: expected a string, got a list");
    bad("host: h\nport: {a: 1}\n", 2, 7, "port: expected an integer, got a map");
    bad("host: h\nportal: {a: 1}\n", 2, 10, "unknown key 'portal.a'");
    bad("port: 1\n", 1, 1, "missing required key 'host'");
    bad("host: h\nlinger.ms: 1\nlinger: {ms: 2}\n", 3, 10, "key 'linger.ms' is set twice");
    bad("host: h\nkafka.producer.a: 1\nkafka: {producer: {a: 2}}\n", 3, 20,
        "key 'kafka.producer.a' is set twice");
    bad("host: h\nchannels: [[a]]\n", 2, 12, "list items must be plain names");
    bad("host: h\nkafka.producer.x: [1]\n", 2, 1, "expected a scalar value");
}

static void test_print(void **state)
{
    struct cfg c;
    struct sl_err err = {0};
    assert_int_equal(bind("host: h\nchannels: [a]\nkafka.producer.x: y\n", &c, &err), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sl_conf_print(map, &c, f, "  ");
    fclose(f);
    assert_non_null(strstr(buf, "  host: h\n"));
    assert_non_null(strstr(buf, "  port: 80\n"));
    assert_non_null(strstr(buf, "  channels: [a]\n"));
    assert_non_null(strstr(buf, "  kafka.producer.x: y\n"));
    free(buf);
    sl_conf_free(map, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_types),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
