/*
 * test_config.c - log configuration: Kafka's defaults, topic keys, broker keys with their
 * precedence (ms over minutes over hours), and clear errors for bad keys and values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store/config.h"

static void test_defaults(void **state)
{
    struct sl_log_config c;
    sl_log_config_default(&c);
    assert_int_equal(c.segment_bytes, 1073741824);
    assert_int_equal(c.retention_ms, 604800000);
    assert_int_equal(c.retention_bytes, -1);
    assert_int_equal(c.index_interval_bytes, 4096);
    assert_int_equal(c.max_message_bytes, 1048588);
    assert_true(c.flush_messages == INT64_MAX);
}

static void test_topic_keys(void **state)
{
    struct sl_log_config c;
    sl_log_config_default(&c);
    assert_int_equal(sl_log_config_set(&c, "retention.ms", "60000", NULL), 0);
    assert_int_equal(sl_log_config_set(&c, "segment.bytes", "1048576", NULL), 0);
    assert_int_equal(sl_log_config_set(&c, "retention.bytes", "-1", NULL), 0);
    assert_int_equal(c.retention_ms, 60000);
    assert_int_equal(c.segment_bytes, 1048576);
    struct sl_err err = {0};
    assert_int_equal(sl_log_config_set(&c, "retention.hours", "1", &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "retention.hours"));
    assert_int_equal(sl_log_config_set(&c, "segment.bytes", "12abc", &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "segment.bytes"));
    assert_int_equal(sl_log_config_set(&c, "segment.bytes", "1", &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "out of range"));
    assert_int_equal(sl_log_config_set(&c, "segment.bytes", "", &err), SL_ECONFIG);
    assert_int_equal(sl_log_config_set(&c, "message.timestamp.type", "Wall", &err),
                     SL_ECONFIG);
    assert_int_equal(c.segment_bytes, 1048576);
}

static void test_broker_precedence(void **state)
{
    struct sl_log_config c;
    sl_log_config_default(&c);
    /* ms wins over hours whatever the order. */
    assert_int_equal(sl_log_config_set_broker(&c, "log.retention.ms", "5000", NULL), 0);
    assert_int_equal(sl_log_config_set_broker(&c, "log.retention.hours", "2", NULL), 0);
    assert_int_equal(c.retention_ms, 5000);
    sl_log_config_default(&c);
    assert_int_equal(sl_log_config_set_broker(&c, "log.retention.hours", "2", NULL), 0);
    assert_int_equal(c.retention_ms, 7200000);
    assert_int_equal(sl_log_config_set_broker(&c, "log.retention.minutes", "3", NULL), 0);
    assert_int_equal(c.retention_ms, 180000);
    assert_int_equal(sl_log_config_set_broker(&c, "log.retention.hours", "9", NULL), 0);
    assert_int_equal(c.retention_ms, 180000);
    assert_int_equal(sl_log_config_set_broker(&c, "log.retention.hours", "-1", NULL), 0);
    assert_int_equal(sl_log_config_set_broker(&c, "log.roll.hours", "1", NULL), 0);
    assert_int_equal(c.segment_ms, 3600000);
    assert_int_equal(sl_log_config_set_broker(&c, "message.max.bytes", "2000000", NULL), 0);
    assert_int_equal(c.max_message_bytes, 2000000);
    /* A topic key overrides whatever the broker said. */
    assert_int_equal(sl_log_config_set(&c, "segment.ms", "100", NULL), 0);
    assert_int_equal(sl_log_config_set_broker(&c, "log.roll.ms", "7", NULL), 0);
    assert_int_equal(c.segment_ms, 100);
    /* Not a log key: the caller's to handle. */
    assert_int_equal(sl_log_config_set_broker(&c, "broker.id", "1", NULL), SL_ENOENT);
}

static void collect(void *arg, const char *key, const char *value)
{
    if (strcmp(key, "retention.ms") == 0) {
        strcpy(arg, value);
    }
}

static void test_each(void **state)
{
    struct sl_log_config c;
    char got[32] = "";
    sl_log_config_default(&c);
    sl_log_config_each(&c, collect, got);
    assert_string_equal(got, "604800000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_topic_keys),
        cmocka_unit_test(test_broker_precedence),
        cmocka_unit_test(test_each),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
