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
#include "agent/sinkgroup.h"
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
    bad("a1.channels.c1.type = jdbc\n", 0, 20, 23,
        "Flume channel type 'jdbc' is not supported by sluice (supported: memory, file)");
    bad("a1.sources.r1.type = spooldir\n", 0, 20, 22, "Flume source type 'spooldir'");
    bad("a1.sinks.k1.type = hdfs\n", 0, 20, 20, "Flume sink type 'hdfs'");
    bad("a1.sources.r1.selector.type = multiplexing\n", 0, 20, 1,
        "selector: multiplexing needs mapping");
    bad("a1.sources.r1.interceptors = i1\n", 0, 20, 30,
        "interceptor i1 has no type: add a1.sources.r1.interceptors.i1.type");
    bad("a1.sinks.k2.type = logger\n", 0, 20, 1, "sink k2 is not listed in a1.sinks");
    bad("a1.sinks.k1.useFlumeEventFormat = true\n", 0, 3, 12,
        "useFlumeEventFormat: true is not supported");
    bad("a1.sources.r1.prot = 1\n", 0, 20, 1, "unknown key 'prot'");
    bad("a1.sinks.k1.kafka.consumer.group.id = g\n", 0, 20, 1, "is not supported");
    bad("a1.sinks.k1.channel = c2\n", 0, 20, 23, "channel 'c2' does not exist");
    bad("a1.bogus = 1\n", 0, 20, 1, "a1.bogus: unknown key");
}

/* Interceptors and a selector: order kept, Flume's aliases and class names, .properties
 * escapes in regexes, serializers, mapping/default/optional, errors at the value. */
static void test_interceptors_and_selector(void **state)
{
    const char *extra = "a1.channels = c1 c2\n"
                        "a1.channels.c2.type = memory\n"
                        "a1.sources.r1.channels = c1 c2\n"
                        "a1.sources.r1.interceptors = ts ex\n"
                        "a1.sources.r1.interceptors.ex.type = REGEX_EXTRACTOR\n"
                        "a1.sources.r1.interceptors.ex.regex = (\\\\d+):(\\\\w+)\n"
                        "a1.sources.r1.interceptors.ex.serializers = s1 s2\n"
                        "a1.sources.r1.interceptors.ex.serializers.s2.name = word\n"
                        "a1.sources.r1.interceptors.ex.serializers.s1.name = num\n"
                        "a1.sources.r1.interceptors.ts.type = "
                        "org.apache.flume.interceptor.TimestampInterceptor$Builder\n"
                        "a1.sources.r1.selector.type = MULTIPLEXING\n"
                        "a1.sources.r1.selector.header = word\n"
                        "a1.sources.r1.selector.mapping.a = c1\n"
                        "a1.sources.r1.selector.mapping.b = c1 c2\n"
                        "a1.sources.r1.selector.default = c2\n"
                        "a1.sources.r1.selector.optional.a = c2\n";
    size_t n = strlen(seed) + strlen(extra) + 1;
    char *text = malloc(n);
    snprintf(text, n, "%s%s", seed, extra);
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(sl_flume_props_load_string(text, "f.conf", "a1", &doc, &err), 0);
    const struct sl_yaml_node *r1 = sl_yaml_get(sl_yaml_get(doc.root, "sources"), "r1");
    const struct sl_yaml_node *ic = sl_yaml_get(r1, "interceptors");
    assert_int_equal(ic->kind, SL_YAML_SEQ);
    assert_int_equal(ic->n, 2);
    assert_string_equal(sl_yaml_get(ic->items[0], "type")->value,
                        "org.apache.flume.interceptor.TimestampInterceptor$Builder");
    assert_string_equal(sl_yaml_get(ic->items[1], "type")->value, "regex_extractor");
    assert_string_equal(sl_yaml_get(ic->items[1], "regex")->value, "(\\d+):(\\w+)");
    const struct sl_yaml_node *ser = sl_yaml_get(ic->items[1], "serializers");
    assert_int_equal(ser->n, 2);
    assert_string_equal(ser->items[0]->value, "num");
    assert_string_equal(ser->items[1]->value, "word");
    const struct sl_yaml_node *sel = sl_yaml_get(r1, "selector");
    assert_string_equal(sl_yaml_get(sel, "type")->value, "multiplexing");
    assert_string_equal(sl_yaml_get(sl_yaml_get(sel, "mapping"), "b")->value, "c1 c2");
    assert_string_equal(sl_yaml_get(sl_yaml_get(sel, "optional"), "a")->value, "c2");
    struct sl_agent *a = NULL;
    assert_int_equal(sl_agent_build(&doc, &a, &err), 0);
    assert_non_null(a->sources[0].icpt);
    assert_non_null(a->sources[0].selector);
    sl_agent_destroy(a);
    sl_yaml_free(&doc);
    free(text);
    const char *base = "a1.sources.r1.interceptors = i1\n";
    char buf[512];
    snprintf(buf, sizeof(buf), "%sa1.sources.r1.interceptors.i1.type = regex_filter\n"
             "a1.sources.r1.interceptors.i1.regex = ab(c\n", base);
    bad(buf, 0, 22, 39, "regex: bad regex at offset 4: missing closing parenthesis");
    snprintf(buf, sizeof(buf), "%sa1.sources.r1.interceptors.i1.type = morphline\n", base);
    bad(buf, 0, 21, 38, "unknown type 'morphline' (sluice has: timestamp, host, static");
    bad("a1.sources.r1.interceptors.i9.type = host\n", 0, 20, 1,
        "interceptor i9 is not listed in a1.sources.r1.interceptors");
    snprintf(buf, sizeof(buf), "%sa1.sources.r1.interceptors.i1.type = regex_extractor\n"
             "a1.sources.r1.interceptors.i1.regex = (a)\n"
             "a1.sources.r1.interceptors.i1.serializers = s1\n", base);
    bad(buf, 0, 23, 45, "serializer s1 has no name");
    bad("a1.sources.r1.selector.type = multiplexing\n"
        "a1.sources.r1.selector.mapping.x = c1 c5\n", 0, 21, 36,
        "channel 'c5' is not one of this source's channels (c1)");
    bad("a1.sources.r1.selector.optional = c1\n"
        "a1.sources.r1.selector.optional.x = c1\n", 0, 21, 1, "not both");
    bad("a1.sources.r1.selector.mapping.x = c1\n"
        "a1.sources.r1.selector.mapping = c1\n", 0, 21, 1,
        "write a1.sources.r1.selector.mapping.<header value> = <channels>");
    bad("a1.sources.r1.interceptors = i1 i2 i1\n", 0, 20, 36, "interceptor i1 is listed twice");
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

static void test_sinkgroups(void **state)
{
    const char *text = "a1.sources = r1\n"
                       "a1.channels = c1\n"
                       "a1.sinks = k1 k2\n"
                       "a1.sinkgroups = g1\n"
                       "a1.sources.r1.type = netcat\n"
                       "a1.sources.r1.port = 0\n"
                       "a1.sources.r1.bind = 127.0.0.1\n"
                       "a1.sources.r1.channels = c1\n"
                       "a1.channels.c1.type = memory\n"
                       "a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink\n"
                       "a1.sinks.k1.kafka.bootstrap.servers = h:1\n"
                       "a1.sinks.k1.channel = c1\n"
                       "a1.sinks.k2.type = org.apache.flume.sink.RollingFileSink\n"
                       "a1.sinks.k2.sink.directory = /tmp/never-created\n"
                       "a1.sinks.k2.sink.rollInterval = 0\n"
                       "a1.sinks.k2.channel = c1\n"
                       "a1.sinkgroups.g1.sinks = k1 k2\n"
                       "a1.sinkgroups.g1.processor.type = ";
    char buf[2048];
    snprintf(buf, sizeof(buf), "%s%s\n%s", text, "failover",
             "a1.sinkgroups.g1.processor.priority.k1 = 10\n"
             "a1.sinkgroups.g1.processor.priority.k2 = 5\n"
             "a1.sinkgroups.g1.processor.maxpenalty = 10000\n");
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    assert_int_equal(sl_flume_props_load_string(buf, "f.conf", "a1", &doc, &err), 0);
    struct sl_agent *a = NULL;
    if (sl_agent_build(&doc, &a, &err) != 0) {
        fail_msg("%s at %d:%d", err.msg, err.line, err.col);
    }
    assert_int_equal(a->ngroups, 1);
    assert_string_equal(a->sinks[1].ops->name, "file_roll");
    struct sl_sinkgroup *g = &a->groups[0];
    assert_int_equal(g->kind, SL_SGP_FAILOVER);
    assert_int_equal(g->cap_ms, 10000);
    assert_int_equal(g->members[0].priority, 10);
    assert_int_equal(g->members[1].priority, 5);
    assert_ptr_equal(a->sinks[0].group, g);
    sl_agent_destroy(a);
    sl_yaml_free(&doc);

    snprintf(buf, sizeof(buf), "%s%s\n%s", text,
             "org.apache.flume.sink.LoadBalancingSinkProcessor",
             "a1.sinkgroups.g1.processor.selector = random\n"
             "a1.sinkgroups.g1.processor.backoff = true\n"
             "a1.sinkgroups.g1.processor.selector.maxTimeOut = 2000\n");
    assert_int_equal(sl_flume_props_load_string(buf, "f.conf", "a1", &doc, &err), 0);
    if (sl_agent_build(&doc, &a, &err) != 0) {
        fail_msg("%s at %d:%d", err.msg, err.line, err.col);
    }
    g = &a->groups[0];
    assert_int_equal(g->kind, SL_SGP_LOAD_BALANCE);
    assert_true(g->random && g->backoff);
    assert_int_equal(g->cap_ms, 2000);
    sl_agent_destroy(a);
    sl_yaml_free(&doc);

    /* Errors point into the .properties text (the seed is 19 lines). */
    bad("a1.sinkgroups = g1\na1.sinkgroups.g1.sinks = k1\n"
        "a1.sinkgroups.g1.processor.type = fastest\n",
        0, 22, 35, "'fastest' is not one of: default, failover, load_balance");
    bad("a1.sinkgroups = g1\na1.sinkgroups.g1.sinks = k1 k7\n", 0, 21, 29,
        "sink group g1: sink 'k7' does not exist");
    bad("a1.sinkgroups.g2.sinks = k1\n", 0, 20, 1, "sink group g2 is not listed in a1.sinkgroups");
    bad("a1.sinkgroups = g1 g2\na1.sinkgroups.g1.sinks = k1\na1.sinkgroups.g2.sinks = k1\n", 0,
        22, 26, "sink 'k1' already belongs to sink group g1");
    bad("a1.sinkgroups = g1\na1.sinkgroups.g1.sinks = k1\na1.sinkgroups.g1.processor.typo = x\n",
        0, 22, 1, "unknown key 'processor.typo'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_maps),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_interceptors_and_selector),
        cmocka_unit_test(test_no_such_agent),
        cmocka_unit_test(test_comments_separators_and_legacy_keys),
        cmocka_unit_test(test_sinkgroups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
