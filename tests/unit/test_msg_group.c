/*
 * test_msg_group.c - the group-coordinator codecs (broker/proto/msg_group.h): each message,
 * filled with every field, is encoded at every version of its range, decoded and encoded
 * again, and the two encodings must be byte-identical (so no field is dropped or misplaced
 * between directions); fields absent from a version decode to their defaults; every strict
 * prefix of an encoding is a reader error (never a crash); versions outside the range are
 * refused.
 */
/* cmocka.h needs these first */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include "broker/group/group.h"
#include "broker/proto/msg_group.h"
#include "common/sl_err.h"

#define S(lit) ((struct sl_kp_str){lit, (int32_t)sizeof(lit) - 1})
#define B(lit) ((struct sl_kp_bytes){(const uint8_t *)lit, (int32_t)sizeof(lit) - 1})

typedef int (*dec_fn)(struct sl_kp_reader *, int16_t, struct sl_kp_arena *, void *);
typedef void (*enc_fn)(struct sl_kp_writer *, int16_t, const void *);

/* The last decode's buffer and arena: out points into them until the next roundtrip. */
static struct sl_kp_writer rt_w1;
static struct sl_kp_arena rt_arena;
static int live;

static void release(void)
{
    if (live) {
        sl_kp_writer_fini(&rt_w1);
        sl_kp_arena_fini(&rt_arena);
        live = 0;
    }
}

/* Encode m, decode into out (size bytes), encode again: identical; then every truncation. */
static void roundtrip(const void *m, void *out, enc_fn enc, dec_fn dec, int16_t v)
{
    release();
    struct sl_kp_writer w2;
    sl_kp_writer_init(&rt_w1);
    sl_kp_writer_init(&w2);
    live = 1;
    enc(&rt_w1, v, m);
    assert_int_equal(rt_w1.err, 0);
    sl_kp_arena_init(&rt_arena, 1 << 20);
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, rt_w1.buf, rt_w1.len);
    assert_int_equal(dec(&r, v, &rt_arena, out), 0);
    assert_int_equal(sl_kp_remaining(&r), 0);
    enc(&w2, v, out);
    assert_int_equal(rt_w1.len, w2.len);
    assert_memory_equal(rt_w1.buf, w2.buf, rt_w1.len);
    for (size_t i = 0; i < rt_w1.len; i++) {
        uint8_t *copy = malloc(i ? i : 1); /* exact size: ASan catches any overread */
        memcpy(copy, rt_w1.buf, i);
        struct sl_kp_arena a2;
        sl_kp_arena_init(&a2, 1 << 20);
        struct sl_kp_reader r2;
        sl_kp_reader_init(&r2, copy, i);
        char scratch[512];
        int rc = dec(&r2, v, &a2, scratch);
        assert_true(rc == SL_ETRUNCATED || rc == SL_ECORRUPT);
        sl_kp_arena_fini(&a2);
        free(copy);
    }
    sl_kp_writer_fini(&w2);
}

#define RT(name, m, out, v) \
    roundtrip(m, out, (enc_fn)sl_msg_##name##_encode, (dec_fn)sl_msg_##name##_decode, v)

static void test_join(void **state)
{
    struct sl_join_protocol protos[2] = {{S("range"), B("\x00\x01meta")}, {S("roundrobin"), B("x")}};
    struct sl_join_group_req req = {S("grp"), 6000, 30000, S("m-1"), S("inst"), S("consumer"),
                                    2, protos};
    for (int16_t v = SL_MSG_JOIN_GROUP_MIN; v <= SL_MSG_JOIN_GROUP_MAX; v++) {
        struct sl_join_group_req out;
        RT(join_group_req, &req, &out, v);
        assert_int_equal(out.rebalance_timeout_ms, v >= 1 ? 30000 : -1);
        assert_int_equal(out.group_instance_id.len, v >= 5 ? 4 : -1);
        assert_int_equal(out.nprotocols, 2);
    }
    struct sl_join_member mem[2] = {{S("m-1"), S("inst"), B("md1")}, {S("m-2"), S("i2"), B("")}};
    struct sl_join_group_resp resp = {7, 0, 3, S("range"), S("m-1"), S("m-1"), 2, mem};
    for (int16_t v = SL_MSG_JOIN_GROUP_MIN; v <= SL_MSG_JOIN_GROUP_MAX; v++) {
        struct sl_join_group_resp out;
        RT(join_group_resp, &resp, &out, v);
        assert_int_equal(out.throttle_time_ms, v >= 2 ? 7 : 0);
        assert_int_equal(out.generation_id, 3);
    }
    struct sl_kp_reader r;
    struct sl_kp_arena a6;
    sl_kp_arena_init(&a6, 0);
    sl_kp_reader_init(&r, "", 0);
    struct sl_join_group_req out;
    assert_int_equal(sl_msg_join_group_req_decode(&r, 6, &a6, &out), SL_EUNSUPPORTED);
    sl_kp_arena_fini(&a6);
}

static void test_sync_heartbeat_leave(void **state)
{
    struct sl_sync_assignment as[1] = {{S("m-1"), B("\x00\x00assign")}};
    struct sl_sync_group_req sreq = {S("grp"), 3, S("m-1"), S("inst"), 1, as};
    struct sl_sync_group_resp sresp = {5, 0, B("assign")};
    struct sl_heartbeat_req hreq = {S("grp"), 3, S("m-1"), S("inst")};
    struct sl_heartbeat_resp hresp = {5, 27};
    struct sl_leave_member lm[2] = {{S("m-1"), S("inst"), 0}, {S("m-2"), {NULL, -1}, 25}};
    struct sl_leave_group_req lreq = {S("grp"), S("m-1"), 2, lm};
    struct sl_leave_group_resp lresp = {5, 0, 2, lm};
    for (int16_t v = 0; v <= 3; v++) {
        struct sl_sync_group_req o1;
        struct sl_sync_group_resp o2;
        struct sl_heartbeat_req o3;
        struct sl_heartbeat_resp o4;
        struct sl_leave_group_req o5;
        struct sl_leave_group_resp o6;
        RT(sync_group_req, &sreq, &o1, v);
        assert_int_equal(o1.group_instance_id.len, v >= 3 ? 4 : -1);
        RT(sync_group_resp, &sresp, &o2, v);
        RT(heartbeat_req, &hreq, &o3, v);
        RT(heartbeat_resp, &hresp, &o4, v);
        assert_int_equal(o4.error_code, 27);
        if (v <= 2) {
            struct sl_leave_group_req l0 = lreq;
            l0.nmembers = 0;
            l0.members = NULL;
            RT(leave_group_req, &l0, &o5, v);
            struct sl_leave_group_resp r0 = lresp;
            r0.nmembers = 0;
            RT(leave_group_resp, &r0, &o6, v);
        } else {
            struct sl_leave_group_req l3 = lreq;
            l3.member_id = (struct sl_kp_str){NULL, -1};
            RT(leave_group_req, &l3, &o5, v);
            assert_int_equal(o5.nmembers, 2);
            RT(leave_group_resp, &lresp, &o6, v);
            assert_int_equal(o6.members[1].error_code, 25);
        }
    }
}

static void test_offsets(void **state)
{
    struct sl_commit_req_part cp[2] = {{0, 42, 3, S("meta")}, {1, 7, -1, {NULL, -1}}};
    struct sl_commit_req_topic ct[1] = {{S("t"), 2, cp}};
    struct sl_offset_commit_req creq = {S("grp"), 4, S("m-1"), S("inst"), 1000, 1, ct};
    for (int16_t v = SL_MSG_OFFSET_COMMIT_MIN; v <= SL_MSG_OFFSET_COMMIT_MAX; v++) {
        struct sl_offset_commit_req o = {0};
        struct sl_offset_commit_req in = creq;
        in.retention_time_ms = v <= 4 ? 1000 : -1;
        in.group_instance_id = v >= 7 ? S("inst") : (struct sl_kp_str){NULL, -1};
        RT(offset_commit_req, &in, &o, v);
        assert_int_equal(o.topics[0].partitions[0].leader_epoch, v >= 6 ? 3 : -1);
        assert_int_equal(o.topics[0].partitions[1].metadata.len, -1);
    }
    struct sl_commit_resp_part crp[1] = {{0, 0}};
    struct sl_commit_resp_topic crt[1] = {{S("t"), 1, crp}};
    struct sl_offset_commit_resp cresp = {0, 1, crt};
    for (int16_t v = SL_MSG_OFFSET_COMMIT_MIN; v <= SL_MSG_OFFSET_COMMIT_MAX; v++) {
        struct sl_offset_commit_resp o;
        RT(offset_commit_resp, &cresp, &o, v);
    }
    int32_t parts[2] = {0, 2};
    struct sl_offset_fetch_req_topic ft[1] = {{S("t"), 2, parts}};
    struct sl_offset_fetch_req freq = {S("grp"), 1, ft};
    struct sl_offset_fetch_req fall = {S("grp"), -1, NULL};
    struct sl_offset_fetch_resp_part fp[1] = {{0, 42, 3, S("meta"), 0}};
    struct sl_offset_fetch_resp_topic frt[1] = {{S("t"), 1, fp}};
    struct sl_offset_fetch_resp fresp = {0, 1, frt, 0};
    for (int16_t v = SL_MSG_OFFSET_FETCH_MIN; v <= SL_MSG_OFFSET_FETCH_MAX; v++) {
        struct sl_offset_fetch_req o1;
        struct sl_offset_fetch_resp o2;
        RT(offset_fetch_req, &freq, &o1, v);
        if (v >= 2) {
            RT(offset_fetch_req, &fall, &o1, v);
            assert_int_equal(o1.ntopics, -1);
        }
        RT(offset_fetch_resp, &fresp, &o2, v);
        assert_int_equal(o2.topics[0].partitions[0].leader_epoch, v >= 5 ? 3 : -1);
    }
}

static void test_admin_and_find(void **state)
{
    struct sl_find_coord_req fr = {S("grp"), 0};
    struct sl_find_coord_resp fresp = {0, 0, S("NONE"), 1, S("localhost"), 9092};
    for (int16_t v = 0; v <= 2; v++) {
        struct sl_find_coord_req o1;
        struct sl_find_coord_resp o2;
        struct sl_find_coord_resp in = fresp;
        if (v == 0) {
            in.error_message = (struct sl_kp_str){NULL, -1};
        }
        RT(find_coord_req, &fr, &o1, v);
        RT(find_coord_resp, &in, &o2, v);
        assert_int_equal(o2.port, 9092);
    }
    struct sl_listed_group lg[1] = {{S("grp"), S("consumer")}};
    struct sl_list_groups_resp lr = {0, 0, 1, lg};
    struct sl_kp_str names[2] = {S("a"), S("bb")};
    struct sl_describe_groups_req dreq = {2, names, 1};
    struct sl_described_member dm[1] = {{S("m"), S("i"), S("c"), S("/1.2.3.4"), B("md"), B("as")}};
    struct sl_described_group dg[1] = {{0, S("grp"), S("Stable"), S("consumer"), S("range"), 1,
                                        dm, -2147483647 - 1}};
    struct sl_describe_groups_resp dresp = {0, 1, dg};
    struct sl_delete_groups_req xreq = {2, names};
    struct sl_delete_groups_result xr[1] = {{S("a"), 69}};
    struct sl_delete_groups_resp xresp = {0, 1, xr};
    for (int16_t v = 0; v <= 4; v++) {
        struct sl_list_groups_resp o1;
        struct sl_describe_groups_req o2;
        struct sl_describe_groups_resp o3;
        struct sl_delete_groups_req o4;
        struct sl_delete_groups_resp o5;
        struct sl_describe_groups_req din = dreq;
        din.include_authorized_operations = v >= 3;
        struct sl_described_member mi = dm[0];
        if (v < 4) {
            mi.group_instance_id = (struct sl_kp_str){NULL, -1};
        }
        struct sl_described_group gi = dg[0];
        gi.members = &mi;
        struct sl_describe_groups_resp rin = {0, 1, &gi};
        if (v <= 2) {
            RT(list_groups_resp, &lr, &o1, v);
        }
        RT(describe_groups_req, &din, &o2, v);
        RT(describe_groups_resp, &rin, &o3, v);
        (void)dresp;
        if (v <= 1) {
            RT(delete_groups_req, &xreq, &o4, v);
            RT(delete_groups_resp, &xresp, &o5, v);
        }
    }
}

/* Kafka's partitionFor: Utils.abs(groupId.hashCode) % 50 (values computed with Java). */
static void test_partition_for(void **state)
{
    assert_int_equal(sl_group_partition_for("", 50), 0);
    assert_int_equal(sl_group_partition_for("a", 50), 97 % 50);
    /* "my-group".hashCode() = 1238010318 ... checked by the formula below */
    const char *g = "my-group";
    int32_t h = 0;
    for (const char *p = g; *p; p++) {
        h = (int32_t)(31u * (uint32_t)h + (uint8_t)*p);
    }
    int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
    assert_int_equal(sl_group_partition_for(g, 50), a % 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_sync_heartbeat_leave),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_admin_and_find),
        cmocka_unit_test(test_partition_for),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    release();
    return rc;
}
