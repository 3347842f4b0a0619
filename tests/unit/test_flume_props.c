/*
 * test_flume_props.c - Flume .properties into the pipeline tree: the seed's KafkaSink file
 * maps to our types and keys with positions in the .properties text, builds into a pipeline,
 * and everything unsupported is an error that says so, with line and column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent.h"
#include "conf/flume_props.h"

static const char *seed = "# the seed\n"
                          "a1.sources = r1\n"
                          "a1.sinks = k1\n"
                          "a1.channels = c1\n"
                          "a1.sources.r1.type = netcat\n"
                          "a1.sources.r1.bind = localhost\n"
                          "a1.sources.r1.port = 44444\n"
                          "a1.channels.c1.type = memory\n"
                          "a1.channels.c1.capacity = 1000\n"
                          "a1.channels.c1.transactionCapacity = 100\n"
                          "a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink\n"
                          "a1.sinks.k1.kafka.topic = flume-kafka\n"
                          "a1.sinks.k1.kafka.bootstrap.servers = localhost:9092\n"
                          "a1.sinks.k1.kafka.producer.acks = 1\n"
                          "a1.sinks.k1.kafka.producer.linger.ms = 1\n"
                          "a1.sinks.k1.kafka.producer.client.id = seed\n"
                          "a1.sources.r1.channels = c1\n"
                          "a1.sinks.k1.channel = c1\n"
                          "a2.sinks.k9.type = whatever\n";

static const char *val(const struct sl_yaml_node *root, const char *sec, const char *comp,
                       const char *key)
{
    const struct sl_yaml_node *n = sl_yaml_get(sl_yaml_get(sl_yaml_get(root, sec), comp), key);
    return n ? n->value : NULL;
}

static void test_seed_maps(void **state)
{
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(sl_flume_props_load_string(seed, "f.conf", "a1", &doc, &err), 0);
    assert_string_equal(val(doc.root, "sinks", "k1", "type"), "kafka");
    assert_string_equal(val(doc.root, "sinks", "k1", "topic"), "flume-kafka");
    assert_string_equal(val(doc.root, "sinks", "k1", "bootstrap.servers"), "localhost:9092");
    assert_string_equal(val(doc.root, "sinks", "k1", "acks"), "1");
    assert_string_equal(val(doc.root, "sinks", "k1", "linger.ms"), "1");
    assert_string_equal(val(doc.root, "sinks", "k1", "kafka.producer.client.id"), "seed");
    assert_string_equal(val(doc.root, "sinks", "k1", "channel"), "c1");
    assert_string_equal(val(doc.root, "sources", "r1", "channels"), "c1");
    assert_string_equal(val(doc.root, "channels", "c1", "capacity"), "1000");
    /* Positions are the .properties text's. */
    const struct sl_yaml_node *port =
        sl_yaml_get(sl_yaml_get(sl_yaml_get(doc.root, "sources"), "r1"), "port");
    assert_int_equal(port->line, 7);
    assert_int_equal(port->col, 22);

    struct sl_agent *a = NULL;
    assert_int_equal(sl_agent_build(&doc, &a, &err), 0);
    assert_int_equal(a->nsinks, 1);
    assert_string_equal(a->sinks[0].ops->name, "kafka");
    assert_ptr_equal(a->sinks[0].channel, &a->channels[0]);
    assert_int_equal(a->channels[0].tx_capacity, 100);
    sl_agent_destroy(a);
    sl_yaml_free(&doc);
}

static void bad(const char *extra, int prepend, int line, int col, const char *msg)
{
    size_t n = strlen(seed) + strlen(extra) + 1;
    char *text = malloc(n);
    snprintf(text, n, "%s%s", prepend ? extra : seed, prepend ? seed : extra);
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    int rc = sl_flume_props_load_string(text, "f.conf", "a1", &doc, &err);
    struct sl_agent *a = NULL;
    if (rc == 0) {
        rc = sl_agent_build(&doc, &a, &err);
    }
    sl_yaml_free(&doc);
    sl_agent_destroy(a);
    free(text);
    assert_int_equal(rc, SL_ECONFIG);
    if (err.line != line || err.col != col || !strstr(err.msg, msg)) {
        fail_msg("for %s: got '%s' at %d:%d, want '%s' at %d:%d", extra, err.msg, err.line, err.col,
                 msg, line, col);
    }
}

static void test_unsupported(void **state)
{
    bad("a1.sinkgroups = g1\n", 1, 1, 1, "sink groups (failover, load_balance) are not supported");
    bad("a1.channels.c1.type = file\n", 0, 20, 23,
        "Flume channel type 'file' is not supported by sluice (supported: memory)");
    bad("a1.sources.r1.type = TAILDIR\n", 0, 20, 22, "Flume source type 'TAILDIR'");
    bad("a1.sinks.k1.type = hdfs\n", 0, 20, 20, "Flume sink type 'hdfs'");
    bad("a1.sources.r1.selector.type = multiplexing\n", 0, 20, 1,
        "'selector.type' is not supported");
    bad("a1.sources.r1.interceptors = i1\n", 0, 20, 1, "'interceptors' is not supported");
    bad("a1.sinks.k2.type = logger\n", 0, 20, 1, "sink k2 is not listed in a1.sinks");
    bad("a1.sinks.k1.useFlumeEventFormat = true\n", 0, 3, 12,
        "useFlumeEventFormat: true is not supported");
    bad("a1.sources.r1.prot = 1\n", 0, 20, 1, "unknown key 'prot'");
    bad("a1.sinks.k1.kafka.consumer.group.id = g\n", 0, 20, 1, "is not supported");
    bad("a1.sinks.k1.channel = c2\n", 0, 20, 23, "channel 'c2' does not exist");
    bad("a1.bogus = 1\n", 0, 20, 1, "a1.bogus: unknown key");
}

static void test_no_such_agent(void **state)
{
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(sl_flume_props_load_string(seed, "f.conf", "a7", &doc, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "no keys for agent 'a7'"));
    sl_yaml_free(&doc);
}

static void test_comments_separators_and_legacy_keys(void **state)
{
    const char *text = "! comment\n"
                       "a1.sources: r1\n"
                       "a1.channels c1\n"
                       "a1.sinks=k1\n"
                       "a1.sources.r1.type = org.apache.flume.source.NetcatSource\n"
                       "a1.sources.r1.bind = 127.0.0.1\n"
                       "a1.sources.r1.port = 0\n"
                       "a1.sources.r1.channels = c1\n"
                       "a1.sources.r1.selector.type = replicating\n"
                       "a1.channels.c1.type = org.apache.flume.channel.MemoryChannel\n"
                       "a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink\n"
                       "a1.sinks.k1.brokerList = h:1\n"
                       "a1.sinks.k1.requiredAcks = -1\n"
                       "a1.sinks.k1.flumeBatchSize = 20\n"
                       "a1.sinks.k1.channel = c1\n";
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(sl_flume_props_load_string(text, "f.conf", "a1", &doc, &err), 0);
    assert_string_equal(val(doc.root, "sinks", "k1", "bootstrap.servers"), "h:1");
    assert_string_equal(val(doc.root, "sinks", "k1", "acks"), "-1");
    assert_string_equal(val(doc.root, "sinks", "k1", "batchSize"), "20");
    struct sl_agent *a = NULL;
    assert_int_equal(sl_agent_build(&doc, &a, &err), 0);
    assert_int_equal(a->sinks[0].batch_size, 20);
    sl_agent_destroy(a);
    sl_yaml_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_maps),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_no_such_agent),
        cmocka_unit_test(test_comments_separators_and_legacy_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
