/*
 * test_topics.c - the topic registry without a network: a struct sl_broker holding only its
 * configuration and opened stores. Create (directories, leader epoch 0, spreading over log
 * dirs, rollback on an I/O failure), delete (directories gone, overrides dropped), grow,
 * set_config (replace and incremental), and everything persisting across a reload.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
/* clang-format off: cmocka.h needs the headers above first */
#include <cmocka.h>
/* clang-format on */

#include "broker/broker.h"
#include "broker/topics.h"
#include "store/io.h"
#include "testutil.h"

struct fx {
    char *root;
    char dirs[2][512];
    int ndirs;
    struct sl_broker b;
};

static void open_broker(struct fx *f)
{
    struct sl_broker *b = &f->b;
    memset(b, 0, sizeof(*b));
    sl_broker_config_default(&b->cfg);
    b->cfg.nlog_dirs = f->ndirs;
    for (int i = 0; i < f->ndirs; i++) {
        snprintf(b->cfg.log_dirs[i], sizeof(b->cfg.log_dirs[i]), "%s", f->dirs[i]);
        struct sl_store_config sc = b->cfg.store;
        sc.log_dir = f->dirs[i];
        struct sl_err err = {0};
        if (sl_store_open(&sc, &b->stores[i], NULL, &err) != 0) {
            fail_msg("store open: %s", err.msg);
        }
        b->nstores++;
    }
    struct sl_err err = {0};
    if (sl_topics_create(b, &b->topics, &err) != 0) {
        fail_msg("topics: %s", err.msg);
    }
}

static void close_broker(struct fx *f)
{
    sl_topics_destroy(f->b.topics);
    f->b.topics = NULL;
    for (int i = 0; i < f->b.nstores; i++) {
        sl_store_close(f->b.stores[i], 1);
    }
    f->b.nstores = 0;
}

static int setup_n(void **state, int ndirs)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->root = tu_mkdtemp();
    f->ndirs = ndirs;
    for (int i = 0; i < ndirs; i++) {
        snprintf(f->dirs[i], sizeof(f->dirs[i]), "%s/d%d", f->root, i);
    }
    open_broker(f);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_n(state, 1);
}

static int setup2(void **state)
{
    return setup_n(state, 2);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    sl_io_fault_clear();
    close_broker(f);
    tu_rmtree(f->root);
    free(f->root);
    free(f);
    return 0;
}

static int part_exists(struct fx *f, const char *topic, int p)
{
    char path[PATH_MAX + 300];
    for (int i = 0; i < f->ndirs; i++) {
        snprintf(path, sizeof(path), "%s/%s-%d", f->dirs[i], topic, p);
        if (tu_exists(path)) {
            return 1;
        }
    }
    return 0;
}

static struct sl_log *find_log(struct fx *f, const char *topic, int p)
{
    for (int i = 0; i < f->b.nstores; i++) {
        struct sl_log *log = sl_store_get(f->b.stores[i], topic, p);
        if (log) {
            return log;
        }
    }
    return NULL;
}

static void test_add_and_errors(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    assert_int_equal(sl_topics_add(&f->b, "orders", 3, NULL, 0, 0, &err), 0);
    const struct sl_topic *t = sl_topics_get(f->b.topics, "orders");
    assert_non_null(t);
    assert_int_equal(t->partitions, 3);
    assert_false(t->internal);
    for (int p = 0; p < 3; p++) {
        assert_true(part_exists(f, "orders", p));
        assert_int_equal(sl_log_epoch_latest(find_log(f, "orders", p)), 0);
    }
    assert_false(part_exists(f, "orders", 3));

    assert_int_equal(sl_topics_add(&f->b, "orders", 1, NULL, 0, 0, &err), SL_EEXIST);
    assert_string_equal(err.msg, "Topic 'orders' already exists.");
    assert_int_equal(sl_topics_add(&f->b, "bad name", 1, NULL, 0, 0, &err), SL_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "is illegal"));
    assert_int_equal(sl_topics_add(&f->b, "..", 1, NULL, 0, 0, &err), SL_EUNSUPPORTED);
    assert_int_equal(sl_topics_add(&f->b, "", 1, NULL, 0, 0, &err), SL_EUNSUPPORTED);
    char longname[300];
    memset(longname, 'a', 250);
    longname[250] = '\0';
    assert_int_equal(sl_topics_add(&f->b, longname, 1, NULL, 0, 0, &err), SL_EUNSUPPORTED);
    longname[249] = '\0';
    assert_int_equal(sl_topics_add(&f->b, longname, 1, NULL, 0, 1, &err), 0);
    assert_int_equal(sl_topics_add(&f->b, "zero", 0, NULL, 0, 0, &err), SL_ERANGE);

    struct sl_topic_override bad[] = {{"retention.ms", "soon"}};
    assert_int_equal(sl_topics_add(&f->b, "x", 1, bad, 1, 0, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "retention.ms"));
    struct sl_topic_override unknown[] = {{"no.such.key", "1"}};
    assert_int_equal(sl_topics_add(&f->b, "x", 1, unknown, 1, 0, &err), SL_ECONFIG);
    assert_null(sl_topics_get(f->b.topics, "x"));

    /* validate_only creates nothing */
    assert_int_equal(sl_topics_add(&f->b, "dry", 2, NULL, 0, 1, &err), 0);
    assert_null(sl_topics_get(f->b.topics, "dry"));
    assert_false(part_exists(f, "dry", 0));

    assert_int_equal(sl_topics_add(&f->b, "__consumer_offsets", 2, NULL, 0, 0, &err), 0);
    assert_true(sl_topics_get(f->b.topics, "__consumer_offsets")->internal);
    /* sorted by name */
    assert_int_equal(sl_topics_count(f->b.topics), 2);
    assert_string_equal(sl_topics_at(f->b.topics, 0)->name, "__consumer_offsets");
    assert_string_equal(sl_topics_at(f->b.topics, 1)->name, "orders");
    assert_null(sl_topics_at(f->b.topics, 2));
}

static void test_reload_and_overrides(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    struct sl_topic_override o[] = {{"retention.ms", "1000"}, {"segment.bytes", "1048576"}};
    assert_int_equal(sl_topics_add(&f->b, "logs", 2, o, 2, 0, &err), 0);
    assert_int_equal(sl_topics_add(&f->b, "plain", 1, NULL, 0, 0, &err), 0);
    struct sl_log_config c;
    sl_log_get_config(find_log(f, "logs", 1), &c);
    assert_int_equal(c.retention_ms, 1000);
    assert_int_equal(c.segment_bytes, 1048576);

    close_broker(f);
    open_broker(f);
    const struct sl_topic *t = sl_topics_get(f->b.topics, "logs");
    assert_non_null(t);
    assert_int_equal(t->partitions, 2);
    assert_int_equal(t->noverrides, 2);
    assert_string_equal(t->overrides[0].key, "retention.ms");
    assert_string_equal(t->overrides[0].value, "1000");
    assert_int_equal(t->cfg.retention_ms, 1000);
    sl_log_get_config(find_log(f, "logs", 0), &c);
    assert_int_equal(c.retention_ms, 1000);
    sl_log_get_config(find_log(f, "plain", 0), &c);
    assert_int_equal(c.retention_ms, 7 * 24 * 3600000LL);
    assert_int_equal(sl_topics_get(f->b.topics, "plain")->noverrides, 0);
}

static void test_set_config(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    struct sl_topic_override o[] = {{"retention.ms", "1000"}, {"flush.ms", "5"}};
    assert_int_equal(sl_topics_add(&f->b, "t", 1, o, 2, 0, &err), 0);

    /* incremental: change one, delete one, keep the rest */
    struct sl_topic_override inc[] = {{"retention.ms", "2000"},
                                      {"flush.ms", NULL},
                                      {"max.message.bytes", "4096"},
                                      {"no.such.key", NULL}};
    assert_int_equal(sl_topics_set_config(&f->b, "t", inc, 4, 1, 0, &err), 0);
    const struct sl_topic *t = sl_topics_get(f->b.topics, "t");
    assert_int_equal(t->noverrides, 2);
    assert_int_equal(t->cfg.retention_ms, 2000);
    assert_int_equal(t->cfg.max_message_bytes, 4096);
    struct sl_log_config c;
    sl_log_get_config(find_log(f, "t", 0), &c);
    assert_int_equal(c.retention_ms, 2000);

    /* a bad value changes nothing */
    struct sl_topic_override bad[] = {{"retention.ms", "x"}};
    assert_int_equal(sl_topics_set_config(&f->b, "t", bad, 1, 1, 0, &err), SL_ECONFIG);
    assert_int_equal(sl_topics_get(f->b.topics, "t")->cfg.retention_ms, 2000);
    /* validate_only changes nothing */
    struct sl_topic_override v[] = {{"retention.ms", "3000"}};
    assert_int_equal(sl_topics_set_config(&f->b, "t", v, 1, 1, 1, &err), 0);
    assert_int_equal(sl_topics_get(f->b.topics, "t")->cfg.retention_ms, 2000);
    assert_int_equal(sl_topics_set_config(&f->b, "nope", v, 1, 1, 0, &err), SL_ENOENT);

    close_broker(f);
    open_broker(f);
    t = sl_topics_get(f->b.topics, "t");
    assert_int_equal(t->noverrides, 2);
    assert_int_equal(t->cfg.retention_ms, 2000);
    assert_int_equal(t->cfg.max_message_bytes, 4096);

    /* replace: keys not given go back to defaults */
    struct sl_topic_override rep[] = {{"segment.ms", "60000"}};
    assert_int_equal(sl_topics_set_config(&f->b, "t", rep, 1, 0, 0, &err), 0);
    t = sl_topics_get(f->b.topics, "t");
    assert_int_equal(t->noverrides, 1);
    assert_int_equal(t->cfg.retention_ms, 7 * 24 * 3600000LL);
    assert_int_equal(t->cfg.segment_ms, 60000);
    sl_log_get_config(find_log(f, "t", 0), &c);
    assert_int_equal(c.retention_ms, 7 * 24 * 3600000LL);
    close_broker(f);
    open_broker(f);
    t = sl_topics_get(f->b.topics, "t");
    assert_int_equal(t->noverrides, 1);
    assert_string_equal(t->overrides[0].key, "segment.ms");
}

static void test_grow(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    assert_int_equal(sl_topics_add(&f->b, "g", 1, NULL, 0, 0, &err), 0);
    assert_int_equal(sl_topics_grow(&f->b, "g", 3, 1, &err), 0);
    assert_false(part_exists(f, "g", 1));
    assert_int_equal(sl_topics_grow(&f->b, "g", 3, 0, &err), 0);
    assert_int_equal(sl_topics_get(f->b.topics, "g")->partitions, 3);
    assert_true(part_exists(f, "g", 2));
    assert_int_equal(sl_log_epoch_latest(find_log(f, "g", 2)), 0);
    assert_int_equal(sl_topics_grow(&f->b, "g", 2, 0, &err), SL_ERANGE);
    assert_string_equal(err.msg,
                        "Topic currently has 3 partitions, which is higher than the requested 2.");
    assert_int_equal(sl_topics_grow(&f->b, "g", 3, 0, &err), SL_ERANGE);
    assert_string_equal(err.msg, "Topic already has 3 partitions.");
    assert_int_equal(sl_topics_grow(&f->b, "nope", 3, 0, &err), SL_ENOENT);
    close_broker(f);
    open_broker(f);
    assert_int_equal(sl_topics_get(f->b.topics, "g")->partitions, 3);
}

static void test_delete(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    struct sl_topic_override o[] = {{"retention.ms", "1000"}};
    assert_int_equal(sl_topics_add(&f->b, "d", 2, o, 1, 0, &err), 0);
    assert_int_equal(sl_topics_delete(&f->b, "d", &err), 0);
    assert_null(sl_topics_get(f->b.topics, "d"));
    assert_false(part_exists(f, "d", 0));
    assert_false(part_exists(f, "d", 1));
    assert_int_equal(sl_topics_delete(&f->b, "d", &err), SL_ENOENT);
    /* re-created: no stale overrides */
    assert_int_equal(sl_topics_add(&f->b, "d", 1, NULL, 0, 0, &err), 0);
    struct sl_log_config c;
    sl_log_get_config(find_log(f, "d", 0), &c);
    assert_int_equal(c.retention_ms, 7 * 24 * 3600000LL);
    close_broker(f);
    open_broker(f);
    assert_int_equal(sl_topics_get(f->b.topics, "d")->noverrides, 0);
    assert_int_equal(sl_topics_get(f->b.topics, "d")->partitions, 1);
}

static void test_spread_and_gap(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    assert_int_equal(sl_topics_add(&f->b, "s", 4, NULL, 0, 0, &err), 0);
    int in0 = 0;
    for (int p = 0; p < 4; p++) {
        in0 += sl_store_get(f->b.stores[0], "s", p) != NULL;
    }
    assert_int_equal(in0, 2);
    /* lose partition 1: the topic still counts to its largest partition */
    for (int i = 0; i < f->b.nstores; i++) {
        if (sl_store_get(f->b.stores[i], "s", 1)) {
            assert_int_equal(sl_store_delete(f->b.stores[i], "s", 1, &err), 0);
        }
    }
    close_broker(f);
    open_broker(f);
    assert_int_equal(sl_topics_get(f->b.topics, "s")->partitions, 4);
    assert_null(find_log(f, "s", 1));
    /* delete still works with the hole */
    assert_int_equal(sl_topics_delete(&f->b, "s", &err), 0);
    assert_false(part_exists(f, "s", 3));
}

static void test_add_rolls_back_on_io_error(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    /* Partition 0 and 1 are made, then an fsync fails on a later one. */
    sl_io_fault_set(SL_IO_FSYNC, 6, EIO, 0, -1);
    int rc = sl_topics_add(&f->b, "r", 5, NULL, 0, 0, &err);
    sl_io_fault_clear();
    assert_int_not_equal(rc, 0);
    assert_null(sl_topics_get(f->b.topics, "r"));
    for (int p = 0; p < 5; p++) {
        assert_false(part_exists(f, "r", p));
    }
    assert_int_equal(sl_topics_add(&f->b, "r", 2, NULL, 0, 0, &err), 0);
}

static void test_stale_config_lines_dropped(void **state)
{
    struct fx *f = *state;
    close_broker(f);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/topic-configs", f->dirs[0]);
    FILE *fp = fopen(path, "w");
    fputs("# comment\nghost retention.ms 5\ngarbage\n", fp);
    fclose(fp);
    open_broker(f);
    assert_int_equal(sl_topics_count(f->b.topics), 0);
    struct sl_err err = {0};
    assert_int_equal(sl_topics_add(&f->b, "ghost", 1, NULL, 0, 0, &err), 0);
    assert_int_equal(sl_topics_get(f->b.topics, "ghost")->cfg.retention_ms, 7 * 24 * 3600000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_and_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spread_and_gap, setup2, teardown),
        cmocka_unit_test_setup_teardown(test_add_rolls_back_on_io_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_config_lines_dropped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
