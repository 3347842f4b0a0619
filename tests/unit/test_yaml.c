/*
 * test_yaml.c - the YAML tree: structure, positions, and every construct we refuse, each
 * with file:line:col in the error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf/yaml.h"

static int load(const char *text, struct sl_yaml_doc *doc, struct sl_err *err)
{
    return sl_yaml_load_string(text, strlen(text), doc, err);
}

static void test_tree_and_positions(void **state)
{
    (void)state;
    const char *text = "agent: {name: a1}\n"
                       "sources:\n"
                       "  r1:\n"
                       "    type: netcat\n"
                       "    port: 44444\n"
                       "    channels: [c1, \"c 2\"]\n";
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(load(text, &doc, &err), 0);
    assert_non_null(doc.root);
    assert_int_equal(doc.root->kind, SL_YAML_MAP);
    assert_int_equal(doc.root->n, 2);
    assert_string_equal(doc.root->keys[1], "sources");
    assert_int_equal(doc.root->key_lines[1], 2);
    struct sl_yaml_node *agent = sl_yaml_get(doc.root, "agent");
    assert_string_equal(sl_yaml_get(agent, "name")->value, "a1");
    struct sl_yaml_node *r1 = sl_yaml_get(sl_yaml_get(doc.root, "sources"), "r1");
    struct sl_yaml_node *port = sl_yaml_get(r1, "port");
    assert_string_equal(port->value, "44444");
    assert_int_equal(port->line, 5);
    assert_int_equal(port->col, 11);
    struct sl_yaml_node *ch = sl_yaml_get(r1, "channels");
    assert_int_equal(ch->kind, SL_YAML_SEQ);
    assert_int_equal(ch->n, 2);
    assert_string_equal(ch->items[1]->value, "c 2");
    assert_true(ch->items[1]->quoted);
    assert_false(ch->items[0]->quoted);
    assert_null(sl_yaml_get(r1, "missing"));
    assert_null(sl_yaml_get(port, "x"));

    sl_yaml_error(&err, &doc, port, "bad port %s", port->value);
    assert_string_equal(err.msg, "<string>:5:11: bad port 44444");
    assert_int_equal(err.line, 5);
    sl_yaml_free(&doc);
}

static void expect_error(const char *text, int line, const char *needle)
{
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(load(text, &doc, &err), SL_ECONFIG);
    assert_null(doc.root);
    if (!strstr(err.msg, needle) || err.line != line) {
        fail_msg("for %s: got '%s' at line %d", text, err.msg, err.line);
    }
    assert_non_null(err.file);
    sl_yaml_free(&doc);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first at line 1)");
    expect_error("a: &x 1\nb: *x\n", 1, "anchors");
    expect_error("a: !!int 1\n", 1, "tags");
    expect_error("a: 1\n---\nb: 2\n", 2, "only one YAML document");
    expect_error("a: [1, 2\nb: 3\n", 2, "<string>:2:");
    expect_error("a:\n  - x\n b: 1\n", 3, "<string>:3:");
    expect_error("? [a, b]\n: 1\n", 1, "key must be a plain value");
}

static void test_empty_and_file_errors(void **state)
{
    (void)state;
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(load("", &doc, &err), 0);
    assert_null(doc.root);
    sl_yaml_free(&doc);
    assert_int_equal(load("# only a comment\n", &doc, &err), 0);
    assert_null(doc.root);
    sl_yaml_free(&doc);
    assert_int_equal(sl_yaml_load_file("/nonexistent/x.yaml", &doc, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "/nonexistent/x.yaml"));
    sl_yaml_free(&doc);
}

static void test_deep_nesting_refused(void **state)
{
    (void)state;
    char text[1024];
    size_t n = 0;
    for (int i = 0; i < 100; i++) {
        text[n++] = '[';
    }
    for (int i = 0; i < 100; i++) {
        text[n++] = ']';
    }
    text[n] = '\0';
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(load(text, &doc, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "nested deeper"));
    sl_yaml_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_and_positions),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_empty_and_file_errors),
        cmocka_unit_test(test_deep_nesting_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
