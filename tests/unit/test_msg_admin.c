/*
 * test_msg_admin.c - the admin codec (broker/proto/msg_admin.h): every message round-trips
 * at its version boundaries (encode, decode, re-encode to the same bytes, fields intact),
 * every proper prefix of an encoding fails to decode without reading past it (ASan watches),
 * and hand-built bytes following the apache/kafka JSON schemas decode as expected, so a field
 * order mistake made the same way in encoder and decoder still shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* clang-format off: cmocka.h needs the headers above first */
#include <cmocka.h>
/* clang-format on */

#include "broker/proto/msg_admin.h"

static struct sl_kp_arena arena;

static int setup(void **state)
{
    sl_kp_arena_init(&arena, 0);
    return 0;
}

static int teardown(void **state)
{
    sl_kp_arena_fini(&arena);
    return 0;
}

/* Copy to an exact-size heap buffer so ASan flags any read past the end. */
static uint8_t *exact(const struct sl_kp_writer *w, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    memcpy(p, w->buf, len);
    return p;
}

/*
 * Encode m at version v, check every proper prefix fails to decode, decode the whole, and
 * re-encode the result to the same bytes. *out gets the decoded message.
 */
#define ROUNDTRIP(enc, dec, v, m, out)                                                             \
    do {                                                                                           \
        struct sl_kp_writer w1, w2;                                                                \
        sl_kp_writer_init(&w1);                                                                    \
        enc(&w1, (v), (m));                                                                        \
        assert_int_equal(w1.err, 0);                                                               \
        for (size_t cut = 0; cut < w1.len; cut++) {                                                \
            uint8_t *p = exact(&w1, cut);                                                          \
            struct sl_kp_reader r;                                                                 \
            sl_kp_reader_init(&r, p, cut);                                                         \
            if (dec(&r, (v), &arena, (out)) == 0) {                                                \
                fail_msg("%s v%d: a %zu of %zu byte prefix decoded", #dec, (int)(v), cut, w1.len); \
            }                                                                                      \
            free(p);                                                                               \
        }                                                                                          \
        uint8_t *p = exact(&w1, w1.len);                                                           \
        struct sl_kp_reader r;                                                                     \
        sl_kp_reader_init(&r, p, w1.len);                                                          \
        assert_int_equal(dec(&r, (v), &arena, (out)), 0);                                          \
        assert_int_equal(sl_kp_remaining(&r), 0);                                                  \
        sl_kp_writer_init(&w2);                                                                    \
        enc(&w2, (v), (out));                                                                      \
        assert_int_equal(w2.len, w1.len);                                                          \
        assert_memory_equal(w2.buf, w1.buf, w1.len);                                               \
        free(p);                                                                                   \
        sl_kp_writer_fini(&w1);                                                                    \
        sl_kp_writer_fini(&w2);                                                                    \
    } while (0)

/* ---- Metadata ---- */

static void test_metadata_req(void **state)
{
    char *names[] = {"a", "bb"};
    for (int16_t v = 0; v <= 8; v++) {
        struct sl_md_req m = {names, 2, 0, 1, 1}, d;
        ROUNDTRIP(sl_msg_metadata_req_encode, sl_msg_metadata_req_decode, v, &m, &d);
        assert_int_equal(d.ntopics, 2);
        assert_string_equal(d.topics[1], "bb");
        assert_int_equal(d.allow_auto_topic_creation, v >= 4 ? 0 : 1);
        assert_int_equal(d.include_topic_authorized_operations, v >= 8);
    }
    /* all topics: null in v1+, empty in v0; empty in v1+ means none */
    for (int16_t v = 0; v <= 8; v++) {
        struct sl_md_req all = {NULL, 0, 1, 0, 0}, d;
        ROUNDTRIP(sl_msg_metadata_req_encode, sl_msg_metadata_req_decode, v, &all, &d);
        assert_null(d.topics);
    }
    struct sl_md_req none = {names, 0, 1, 0, 0}, d;
    ROUNDTRIP(sl_msg_metadata_req_encode, sl_msg_metadata_req_decode, 1, &none, &d);
    assert_non_null(d.topics);
    assert_int_equal(d.ntopics, 0);
    /* v0 cannot say null */
    uint8_t v0_null[] = {0xff, 0xff, 0xff, 0xff};
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, v0_null, sizeof(v0_null));
    assert_int_not_equal(sl_msg_metadata_req_decode(&r, 0, &arena, &d), 0);
}

static void test_metadata_resp(void **state)
{
    int32_t self[] = {7};
    struct sl_md_broker b = {7, "host", 9092, NULL};
    struct sl_md_partition parts[2] = {
        {0, 0, 7, 3, self, 1, self, 1, NULL, 0},
        {5, 1, -1, -1, self, 1, NULL, 0, self, 1},
    };
    struct sl_md_topic topics[2] = {
        {0, "t", 0, parts, 2, INT32_MIN},
        {3, "__x", 1, NULL, 0, INT32_MIN},
    };
    for (int16_t v = 0; v <= 8; v++) {
        struct sl_md_resp m = {0, &b, 1, "cid", 7, topics, 2, INT32_MIN}, d;
        ROUNDTRIP(sl_msg_metadata_resp_encode, sl_msg_metadata_resp_decode, v, &m, &d);
        assert_int_equal(d.nbrokers, 1);
        assert_string_equal(d.brokers[0].host, "host");
        assert_int_equal(d.brokers[0].port, 9092);
        assert_null(d.brokers[0].rack);
        if (v >= 2) {
            assert_string_equal(d.cluster_id, "cid");
        }
        assert_int_equal(d.controller_id, v >= 1 ? 7 : -1);
        assert_int_equal(d.ntopics, 2);
        assert_int_equal(d.topics[0].npartitions, 2);
        assert_int_equal(d.topics[0].partitions[0].leader_epoch, v >= 7 ? 3 : -1);
        assert_int_equal(d.topics[0].partitions[1].error_code, 5);
        assert_int_equal(d.topics[0].partitions[1].noffline, v >= 5 ? 1 : 0);
        assert_int_equal(d.topics[1].is_internal, v >= 1);
        assert_int_equal(d.topics[1].error_code, 3);
    }
}

/* Metadata v8 response built by hand from MetadataResponse.json. */
static void test_metadata_resp_golden_v8(void **state)
{
    static const uint8_t g[] = {
        0,    0,    0,    0,                /* throttle_time_ms */
        0,    0,    0,    1,                /* brokers: 1 */
        0,    0,    0,    1,                /* node_id */
        0,    1,    'h',                    /* host */
        0,    0,    0x23, 0x84,             /* port 9092 */
        0xff, 0xff,                         /* rack: null */
        0,    2,    'c',  'i',              /* cluster_id */
        0,    0,    0,    1,                /* controller_id */
        0,    0,    0,    1,                /* topics: 1 */
        0,    0,                            /* error_code */
        0,    1,    't',                    /* name */
        0,                                  /* is_internal */
        0,    0,    0,    1,                /* partitions: 1 */
        0,    0,                            /* error_code */
        0,    0,    0,    0,                /* partition_index */
        0,    0,    0,    1,                /* leader_id */
        0,    0,    0,    4,                /* leader_epoch */
        0,    0,    0,    1,    0, 0, 0, 1, /* replica_nodes [1] */
        0,    0,    0,    1,    0, 0, 0, 1, /* isr_nodes [1] */
        0,    0,    0,    0,                /* offline_replicas [] */
        0x80, 0,    0,    0,                /* topic_authorized_operations */
        0x80, 0,    0,    0,                /* cluster_authorized_operations */
    };
    struct sl_kp_reader r;
    struct sl_md_resp d;
    sl_kp_reader_init(&r, g, sizeof(g));
    assert_int_equal(sl_msg_metadata_resp_decode(&r, 8, &arena, &d), 0);
    assert_int_equal(sl_kp_remaining(&r), 0);
    assert_int_equal(d.brokers[0].port, 9092);
    assert_string_equal(d.cluster_id, "ci");
    assert_int_equal(d.topics[0].partitions[0].leader_epoch, 4);
    assert_int_equal(d.topics[0].partitions[0].isr[0], 1);
    assert_int_equal(d.cluster_authorized_operations, INT32_MIN);
    struct sl_kp_writer w;
    sl_kp_writer_init(&w);
    sl_msg_metadata_resp_encode(&w, 8, &d);
    assert_int_equal(w.len, sizeof(g));
    assert_memory_equal(w.buf, g, sizeof(g));
    sl_kp_writer_fini(&w);
}

/* ---- CreateTopics ---- */

static void test_create_topics(void **state)
{
    int32_t brokers[] = {0};
    struct sl_ct_assignment as[] = {{0, brokers, 1}};
    struct sl_cfg_kv cfgs[] = {{"retention.ms", "1000"}, {"cleanup.policy", NULL}};
    struct sl_ct_topic topics[] = {
        {"a", 3, 1, NULL, 0, cfgs, 2},
        {"b", -1, -1, as, 1, NULL, 0},
    };
    for (int16_t v = 0; v <= 4; v++) {
        struct sl_ct_req m = {topics, 2, 5000, 1}, d;
        ROUNDTRIP(sl_msg_create_topics_req_encode, sl_msg_create_topics_req_decode, v, &m, &d);
        assert_int_equal(d.ntopics, 2);
        assert_string_equal(d.topics[0].name, "a");
        assert_int_equal(d.topics[0].num_partitions, 3);
        assert_int_equal(d.topics[0].nconfigs, 2);
        assert_string_equal(d.topics[0].configs[0].value, "1000");
        assert_null(d.topics[0].configs[1].value);
        assert_int_equal(d.topics[1].replication_factor, -1);
        assert_int_equal(d.topics[1].assignments[0].broker_ids[0], 0);
        assert_int_equal(d.timeout_ms, 5000);
        assert_int_equal(d.validate_only, v >= 1);

        struct sl_ct_result res[] = {{"a", 0, NULL}, {"b", 36, "Topic 'b' already exists."}};
        struct sl_ct_resp rm = {0, res, 2}, rd;
        ROUNDTRIP(sl_msg_create_topics_resp_encode, sl_msg_create_topics_resp_decode, v, &rm, &rd);
        assert_int_equal(rd.topics[1].error_code, 36);
        if (v >= 1) {
            assert_string_equal(rd.topics[1].error_message, "Topic 'b' already exists.");
        } else {
            assert_null(rd.topics[1].error_message);
        }
    }
}

/* CreateTopics v1 request built by hand from CreateTopicsRequest.json. */
static void test_create_topics_golden_v1(void **state)
{
    static const uint8_t g[] = {
        0, 0, 0,    1,            /* topics: 1 */
        0, 1, 'x',                /* name */
        0, 0, 0,    2,            /* num_partitions */
        0, 1,                     /* replication_factor */
        0, 0, 0,    0,            /* assignments: [] */
        0, 0, 0,    1,            /* configs: 1 */
        0, 1, 'k',  0,    1, 'v', /* name, value */
        0, 0, 0x75, 0x30,         /* timeout_ms 30000 */
        1,                        /* validate_only */
    };
    struct sl_kp_reader r;
    struct sl_ct_req d;
    sl_kp_reader_init(&r, g, sizeof(g));
    assert_int_equal(sl_msg_create_topics_req_decode(&r, 1, &arena, &d), 0);
    assert_string_equal(d.topics[0].name, "x");
    assert_int_equal(d.topics[0].num_partitions, 2);
    assert_int_equal(d.topics[0].replication_factor, 1);
    assert_string_equal(d.topics[0].configs[0].name, "k");
    assert_int_equal(d.timeout_ms, 30000);
    assert_true(d.validate_only);
}

/* ---- DeleteTopics ---- */

static void test_delete_topics(void **state)
{
    char *names[] = {"a", "b"};
    for (int16_t v = 0; v <= 3; v++) {
        struct sl_dt_req m = {names, 2, 1000}, d;
        ROUNDTRIP(sl_msg_delete_topics_req_encode, sl_msg_delete_topics_req_decode, v, &m, &d);
        assert_int_equal(d.ntopic_names, 2);
        assert_string_equal(d.topic_names[1], "b");
        assert_int_equal(d.timeout_ms, 1000);
        struct sl_dt_result res[] = {{"a", 0}, {"b", 3}};
        struct sl_dt_resp rm = {9, res, 2}, rd;
        ROUNDTRIP(sl_msg_delete_topics_resp_encode, sl_msg_delete_topics_resp_decode, v, &rm, &rd);
        assert_int_equal(rd.throttle_time_ms, v >= 1 ? 9 : 0);
        assert_int_equal(rd.responses[1].error_code, 3);
    }
}

/* ---- CreatePartitions ---- */

static void test_create_partitions(void **state)
{
    int32_t ids[] = {0};
    struct sl_cp_assignment as[] = {{ids, 1}, {ids, 1}};
    struct sl_cp_topic topics[] = {{"a", 3, NULL, 0}, {"b", 4, as, 2}};
    for (int16_t v = 0; v <= 1; v++) {
        struct sl_cp_req m = {topics, 2, 100, 1}, d;
        ROUNDTRIP(sl_msg_create_partitions_req_encode, sl_msg_create_partitions_req_decode, v, &m,
                  &d);
        assert_null(d.topics[0].assignments);
        assert_int_equal(d.topics[1].nassignments, 2);
        assert_int_equal(d.topics[1].count, 4);
        assert_true(d.validate_only);
        struct sl_cp_result res[] = {{"a", 0, NULL}, {"b", 37, "no"}};
        struct sl_cp_resp rm = {0, res, 2}, rd;
        ROUNDTRIP(sl_msg_create_partitions_resp_encode, sl_msg_create_partitions_resp_decode, v,
                  &rm, &rd);
        assert_null(rd.results[0].error_message);
        assert_string_equal(rd.results[1].error_message, "no");
    }
}

/* ---- DescribeConfigs ---- */

static void test_describe_configs(void **state)
{
    char *keys[] = {"retention.ms"};
    struct sl_dc_resource res[] = {{2, "t", NULL, 0}, {4, "0", keys, 1}};
    struct sl_dc_synonym syn[] = {{"retention.ms", "1000", 1}};
    struct sl_dc_config cfgs[] = {
        {"retention.ms", "1000", 0, 0, 1, 0, syn, 1},
        {"segment.bytes", NULL, 1, 1, 5, 0, NULL, 0},
    };
    for (int16_t v = 0; v <= 2; v++) {
        struct sl_dc_req m = {res, 2, 1}, d;
        ROUNDTRIP(sl_msg_describe_configs_req_encode, sl_msg_describe_configs_req_decode, v, &m,
                  &d);
        assert_null(d.resources[0].keys);
        assert_string_equal(d.resources[1].keys[0], "retention.ms");
        assert_int_equal(d.resources[1].resource_type, 4);
        assert_int_equal(d.include_synonyms, v >= 1);

        struct sl_dc_result results[] = {{0, NULL, 2, "t", cfgs, 2}, {3, "gone", 2, "u", NULL, 0}};
        struct sl_dc_resp rm = {0, results, 2}, rd;
        if (v == 0) {
            cfgs[0].nsynonyms = 0; /* v0 has no synonyms to round-trip */
        } else {
            cfgs[0].nsynonyms = 1;
        }
        ROUNDTRIP(sl_msg_describe_configs_resp_encode, sl_msg_describe_configs_resp_decode, v, &rm,
                  &rd);
        assert_int_equal(rd.nresults, 2);
        assert_string_equal(rd.results[0].configs[0].value, "1000");
        assert_null(rd.results[0].configs[1].value);
        if (v == 0) {
            assert_true(rd.results[0].configs[1].is_default);
        } else {
            assert_int_equal(rd.results[0].configs[1].config_source, 5);
            assert_int_equal(rd.results[0].configs[0].nsynonyms, 1);
            assert_int_equal(rd.results[0].configs[0].synonyms[0].source, 1);
        }
        assert_string_equal(rd.results[1].error_message, "gone");
    }
}

/* DescribeConfigs v1 response built by hand from DescribeConfigsResponse.json. */
static void test_describe_configs_golden_v1(void **state)
{
    static const uint8_t g[] = {
        0,    0,    0,   0,           /* throttle_time_ms */
        0,    0,    0,   1,           /* results: 1 */
        0,    0,                      /* error_code */
        0xff, 0xff,                   /* error_message: null */
        2,                            /* resource_type */
        0,    1,    't',              /* resource_name */
        0,    0,    0,   1,           /* configs: 1 */
        0,    1,    'k',              /* name */
        0,    1,    'v',              /* value */
        0,                            /* read_only */
        1,                            /* config_source (v1+; no is_default) */
        0,                            /* is_sensitive */
        0,    0,    0,   1,           /* synonyms: 1 */
        0,    1,    'k', 0, 1, 'v', 1 /* name, value, source */
    };
    struct sl_kp_reader r;
    struct sl_dc_resp d;
    sl_kp_reader_init(&r, g, sizeof(g));
    assert_int_equal(sl_msg_describe_configs_resp_decode(&r, 1, &arena, &d), 0);
    assert_int_equal(sl_kp_remaining(&r), 0);
    assert_int_equal(d.results[0].configs[0].config_source, 1);
    assert_int_equal(d.results[0].configs[0].synonyms[0].source, 1);
}

/* ---- AlterConfigs / IncrementalAlterConfigs ---- */

static void test_alter_configs(void **state)
{
    struct sl_ac_config cfgs[] = {{"retention.ms", 0, "1"}, {"flush.ms", 0, NULL}};
    struct sl_ac_resource res[] = {{2, "t", cfgs, 2}};
    for (int16_t v = 0; v <= 1; v++) {
        struct sl_ac_req m = {res, 1, 1}, d;
        ROUNDTRIP(sl_msg_alter_configs_req_encode, sl_msg_alter_configs_req_decode, v, &m, &d);
        assert_string_equal(d.resources[0].configs[0].value, "1");
        assert_null(d.resources[0].configs[1].value);
        assert_true(d.validate_only);
        struct sl_ac_result results[] = {{40, "bad", 2, "t"}};
        struct sl_ac_resp rm = {0, results, 1}, rd;
        ROUNDTRIP(sl_msg_alter_configs_resp_encode, sl_msg_alter_configs_resp_decode, v, &rm, &rd);
        assert_int_equal(rd.responses[0].error_code, 40);
        assert_string_equal(rd.responses[0].resource_name, "t");
    }
    struct sl_ac_config inc[] = {{"retention.ms", 0, "1"}, {"flush.ms", 1, NULL}};
    struct sl_ac_resource ires[] = {{2, "t", inc, 2}};
    struct sl_ac_req m = {ires, 1, 0}, d;
    ROUNDTRIP(sl_msg_incremental_alter_configs_req_encode,
              sl_msg_incremental_alter_configs_req_decode, 0, &m, &d);
    assert_int_equal(d.resources[0].configs[1].op, 1);
    assert_false(d.validate_only);

    /* the operation byte sits between name and value */
    static const uint8_t g[] = {0, 0, 0, 1, 2, 0, 1, 't', 0, 0, 0, 1, 0, 1, 'k', 3, 0xff, 0xff, 0};
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, g, sizeof(g));
    assert_int_equal(sl_msg_incremental_alter_configs_req_decode(&r, 0, &arena, &d), 0);
    assert_int_equal(d.resources[0].configs[0].op, 3);
    assert_null(d.resources[0].configs[0].value);
}

/* Hostile counts and embedded NULs fail cleanly. */
static void test_hostile(void **state)
{
    static const uint8_t big[] = {0x7f, 0xff, 0xff, 0xff, 0, 0};
    struct sl_kp_reader r;
    struct sl_ct_req ct;
    sl_kp_reader_init(&r, big, sizeof(big));
    assert_int_not_equal(sl_msg_create_topics_req_decode(&r, 0, &arena, &ct), 0);
    static const uint8_t nul[] = {0, 0, 0, 1, 0, 3, 'a', 0, 'b', 0, 0, 0, 0};
    struct sl_dt_req dt;
    sl_kp_reader_init(&r, nul, sizeof(nul));
    assert_int_not_equal(sl_msg_delete_topics_req_decode(&r, 0, &arena, &dt), 0);
    static const uint8_t neg[] = {0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0};
    sl_kp_reader_init(&r, neg, sizeof(neg));
    assert_int_not_equal(sl_msg_delete_topics_req_decode(&r, 0, &arena, &dt), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metadata_req, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata_resp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata_resp_golden_v8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_topics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_topics_golden_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_topics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_partitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe_configs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe_configs_golden_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alter_configs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
