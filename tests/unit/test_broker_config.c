/*
 * test_broker_config.c - the broker's configuration keys (Kafka's names): defaults, listener
 * parsing, log directory lists, delegation of log.* keys to the store, strict errors that
 * name the key and value, and a round trip of every key sl_broker_config_each reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "broker/broker.h"

static void test_defaults(void **state)
{
    struct sl_broker_config c;
    sl_broker_config_default(&c);
    assert_int_equal(c.broker_id, 0);
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 9092);
    assert_int_equal(c.nlog_dirs, 1);
    assert_int_equal(c.num_partitions, 1);
    assert_int_equal(c.default_replication_factor, 1);
    assert_int_equal(c.auto_create_topics, 1);
    assert_int_equal(c.socket_request_max_bytes, 104857600);
    assert_int_equal(c.fetch_max_bytes, 57671680);
    assert_int_equal(c.store.retention_check_interval_ms, 300000);
    assert_int_equal(c.store.checkpoint_interval_ms, 60000);
    assert_int_equal(c.store.defaults.max_message_bytes, 1048588);
}

static void listener_ok(const char *value, const char *host, int port)
{
    struct sl_broker_config c;
    sl_broker_config_default(&c);
    struct sl_err err = {0};
    assert_int_equal(sl_broker_config_set(&c, "listeners", value, &err), 0);
    assert_string_equal(c.listen_host, host);
    assert_int_equal(c.listen_port, port);
}

static void listener_bad(const char *value, const char *needle)
{
    struct sl_broker_config c;
    sl_broker_config_default(&c);
    struct sl_err err = {0};
    assert_int_equal(sl_broker_config_set(&c, "listeners", value, &err), SL_ECONFIG);
    if (!strstr(err.msg, needle) || !strstr(err.msg, "listeners")) {
        fail_msg("'%s': message '%s' lacks '%s'", value, err.msg, needle);
    }
    assert_int_equal(c.listen_port, 9092); /* unchanged */
}

static void test_listeners(void **state)
{
    listener_ok("PLAINTEXT://127.0.0.1:9093", "127.0.0.1", 9093);
    listener_ok("plaintext://host.example:1", "host.example", 1);
    listener_ok("127.0.0.1:0", "127.0.0.1", 0);
    listener_ok("PLAINTEXT://:9092", "", 9092);
    listener_ok("[::1]:9094", "::1", 9094);
    listener_ok("PLAINTEXT://[::]:9095", "::", 9095);
    listener_bad("SSL://127.0.0.1:9093", "security protocol 'SSL'");
    listener_bad("SASL_PLAINTEXT://h:1", "only PLAINTEXT");
    listener_bad("PLAINTEXT://a:1,PLAINTEXT://b:2", "only one listener");
    listener_bad("localhost", "host:port");
    listener_bad("h:65536", "0..65535");
    listener_bad("h:-1", "0..65535");
    listener_bad("h:", "0..65535");
    listener_bad("::1:9092", "brackets");
    listener_bad("[::1]9092", "[address]:port");

    struct sl_broker_config c;
    sl_broker_config_default(&c);
    struct sl_err err = {0};
    assert_int_equal(
        sl_broker_config_set(&c, "advertised.listeners", "PLAINTEXT://kafka:19092", &err), 0);
    assert_string_equal(c.advertised_host, "kafka");
    assert_int_equal(c.advertised_port, 19092);
    assert_int_equal(sl_broker_config_set(&c, "advertised.listeners", "PLAINTEXT://:1", &err),
                     SL_ECONFIG);
}

static void test_log_dirs(void **state)
{
    struct sl_broker_config c;
    sl_broker_config_default(&c);
    struct sl_err err = {0};
    assert_int_equal(sl_broker_config_set(&c, "log.dirs", "/a, /b ,/c", &err), 0);
    assert_int_equal(c.nlog_dirs, 3);
    assert_string_equal(c.log_dirs[0], "/a");
    assert_string_equal(c.log_dirs[1], "/b");
    assert_string_equal(c.log_dirs[2], "/c");
    assert_int_equal(sl_broker_config_set(&c, "log.dir", "/x,y", &err), 0);
    assert_int_equal(c.nlog_dirs, 1);
    assert_string_equal(c.log_dirs[0], "/x,y"); /* log.dir is one directory */
    assert_int_equal(sl_broker_config_set(&c, "log.dirs", "/a,,/b", &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(sl_broker_config_set(&c, "log.dirs", "/a,/a", &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "twice"));
    char many[1024] = "";
    for (int i = 0; i <= SL_BROKER_MAX_LOG_DIRS; i++) {
        char d[16];
        snprintf(d, sizeof(d), "%s/d%d", i ? "," : "", i);
        strcat(many, d);
    }
    assert_int_equal(sl_broker_config_set(&c, "log.dirs", many, &err), SL_ECONFIG);
    assert_int_equal(c.nlog_dirs, 1); /* unchanged after an error */
}

static void test_values_and_errors(void **state)
{
    struct sl_broker_config c;
    sl_broker_config_default(&c);
    struct sl_err err = {0};
    assert_int_equal(sl_broker_config_set(&c, "broker.id", "7", &err), 0);
    assert_int_equal(c.broker_id, 7);
    assert_int_equal(sl_broker_config_set(&c, "broker.id", "-1", &err), SL_ECONFIG);
    assert_int_equal(c.broker_id, 7);
    assert_int_equal(sl_broker_config_set(&c, "num.partitions", "0", &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "num.partitions"));
    assert_non_null(strstr(err.msg, "'0'"));
    assert_int_equal(sl_broker_config_set(&c, "num.partitions", " 3", &err), SL_ECONFIG);
    assert_int_equal(sl_broker_config_set(&c, "num.partitions", "3", &err), 0);
    assert_int_equal(c.num_partitions, 3);
    assert_int_equal(sl_broker_config_set(&c, "auto.create.topics.enable", "FALSE", &err), 0);
    assert_int_equal(c.auto_create_topics, 0);
    assert_int_equal(sl_broker_config_set(&c, "auto.create.topics.enable", "1", &err), SL_ECONFIG);
    assert_int_equal(sl_broker_config_set(&c, "socket.request.max.bytes", "99999999999", &err),
                     SL_ECONFIG);
    assert_int_equal(sl_broker_config_set(&c, "fetch.max.bytes", "100", &err), SL_ECONFIG);

    /* log.* and message.max.bytes go to the store's defaults. */
    assert_int_equal(sl_broker_config_set(&c, "log.retention.hours", "1", &err), 0);
    assert_int_equal(c.store.defaults.retention_ms, 3600000);
    assert_int_equal(sl_broker_config_set(&c, "message.max.bytes", "2000000", &err), 0);
    assert_int_equal(c.store.defaults.max_message_bytes, 2000000);
    assert_int_equal(sl_broker_config_set(&c, "log.segment.bytes", "x", &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "log.segment.bytes"));
    assert_int_equal(sl_broker_config_set(&c, "log.retention.check.interval.ms", "5000", &err), 0);
    assert_int_equal(c.store.retention_check_interval_ms, 5000);

    assert_int_equal(sl_broker_config_set(&c, "no.such.key", "1", &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "no.such.key"));
    assert_int_equal(sl_broker_config_set(&c, "segment.bytes", "1048576", &err), SL_ECONFIG);
    assert_int_equal(sl_broker_config_set(&c, "zookeeper.connect", "zk:2181", &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "ZooKeeper"));
}

struct kv {
    char key[64];
    char value[256];
};

struct kvs {
    struct kv e[64];
    int n;
};

static void collect(void *arg, const char *key, const char *value)
{
    struct kvs *k = arg;
    assert_true(k->n < 64);
    snprintf(k->e[k->n].key, sizeof(k->e[k->n].key), "%s", key);
    snprintf(k->e[k->n].value, sizeof(k->e[k->n].value), "%s", value);
    k->n++;
}

/* Every key each() reports is settable with its reported value, and reads back the same. */
static void test_each_round_trip(void **state)
{
    struct sl_broker_config a;
    sl_broker_config_default(&a);
    struct sl_err err = {0};
    assert_int_equal(sl_broker_config_set(&a, "listeners", "PLAINTEXT://127.0.0.1:1234", &err), 0);
    assert_int_equal(sl_broker_config_set(&a, "advertised.listeners", "h:5", &err), 0);
    assert_int_equal(sl_broker_config_set(&a, "log.dirs", "/p,/q", &err), 0);
    assert_int_equal(sl_broker_config_set(&a, "log.roll.hours", "2", &err), 0);
    assert_int_equal(sl_broker_config_set(&a, "log.message.timestamp.type", "LogAppendTime", &err),
                     0);
    struct kvs first = {0}, second = {0};
    sl_broker_config_each(&a, collect, &first);
    assert_true(first.n > 15);

    struct sl_broker_config b;
    sl_broker_config_default(&b);
    for (int i = 0; i < first.n; i++) {
        if (first.e[i].value[0] == '\0') {
            continue;
        }
        if (sl_broker_config_set(&b, first.e[i].key, first.e[i].value, &err) != 0) {
            fail_msg("%s=%s: %s", first.e[i].key, first.e[i].value, err.msg);
        }
    }
    sl_broker_config_each(&b, collect, &second);
    assert_int_equal(first.n, second.n);
    for (int i = 0; i < first.n; i++) {
        assert_string_equal(first.e[i].key, second.e[i].key);
        assert_string_equal(first.e[i].value, second.e[i].value);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),        cmocka_unit_test(test_listeners),
        cmocka_unit_test(test_log_dirs),        cmocka_unit_test(test_values_and_errors),
        cmocka_unit_test(test_each_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
