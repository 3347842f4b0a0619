/*
 * test_group.c - the group coordinator's state machine driven without sockets or a loop:
 * a fake clock passed to every call and to sl_groups_tick, the coordinator in memory only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/api.h"
#include "broker/group/group.h"

struct join_out {
    int called;
    int16_t error;
    int32_t generation;
    char member_id[128];
    char leader[128];
    char protocol[64];
    int nmembers;
};

static void on_join(void *arg, const struct sl_group_join_result *r)
{
    struct join_out *o = arg;
    o->called++;
    o->error = r->error;
    o->generation = r->generation;
    snprintf(o->member_id, sizeof(o->member_id), "%s", r->member_id ? r->member_id : "");
    snprintf(o->leader, sizeof(o->leader), "%s", r->leader ? r->leader : "");
    snprintf(o->protocol, sizeof(o->protocol), "%s", r->protocol ? r->protocol : "");
    o->nmembers = r->nmembers;
}

struct sync_out {
    int called;
    int16_t error;
    char assignment[64];
};

static void on_sync(void *arg, int16_t error, struct sl_group_bytes a)
{
    struct sync_out *o = arg;
    o->called++;
    o->error = error;
    snprintf(o->assignment, sizeof(o->assignment), "%.*s", a.len > 0 ? (int)a.len : 0,
             a.p ? (const char *)a.p : "");
}

static struct sl_groups *new_groups(void)
{
    struct sl_groups_config cfg;
    sl_groups_config_default(&cfg);
    struct sl_groups *g;
    struct sl_err err;
    assert_int_equal(sl_groups_create(&cfg, NULL, &g, &err), 0);
    return g;
}

static void join(struct sl_groups *g, const char *member, const char *proto, int64_t now,
                 struct join_out *out)
{
    struct sl_group_proto p = {(char *)proto, {(uint8_t *)"meta", 4}};
    struct sl_group_join_args a = {
        .group_id = "g",
        .member_id = member,
        .client_id = "c",
        .client_host = "/127.0.0.1",
        .protocol_type = "consumer",
        .session_timeout_ms = 10000,
        .rebalance_timeout_ms = 30000,
        .require_known_member_id = 1,
        .nprotos = 1,
        .protos = &p,
    };
    memset(out, 0, sizeof(*out));
    sl_group_join(g, &a, now, on_join, out);
}

/* A new member: MEMBER_ID_REQUIRED with an id, then a join with it. */
static void join_new(struct sl_groups *g, const char *proto, int64_t now, struct join_out *out)
{
    join(g, "", proto, now, out);
    assert_int_equal(out->called, 1);
    assert_int_equal(out->error, KERR_MEMBER_ID_REQUIRED);
    assert_true(strlen(out->member_id) > 0);
    char id[128];
    snprintf(id, sizeof(id), "%s", out->member_id);
    join(g, id, proto, now, out);
}

static void test_single_member_lifecycle(void **state)
{
    (void)state;
    struct sl_groups *g = new_groups();
    struct join_out j;
    join_new(g, "range", 1000, &j);
    assert_int_equal(j.called, 1); /* the only member: the rebalance completes at once */
    assert_int_equal(j.error, KERR_NONE);
    assert_int_equal(j.generation, 1);
    assert_string_equal(j.leader, j.member_id);
    assert_string_equal(j.protocol, "range");
    assert_int_equal(j.nmembers, 1);
    assert_int_equal(sl_groups_find(g, "g")->state, SL_GROUP_COMPLETING_REBALANCE);

    struct sync_out s = {0};
    struct sl_group_assignment as = {j.member_id, {(uint8_t *)"p0,p1", 5}};
    sl_group_sync(g, "g", 1, j.member_id, NULL, 1, &as, 1001, on_sync, &s);
    assert_int_equal(s.called, 1);
    assert_int_equal(s.error, KERR_NONE);
    assert_string_equal(s.assignment, "p0,p1");
    assert_int_equal(sl_groups_find(g, "g")->state, SL_GROUP_STABLE);

    assert_int_equal(sl_group_heartbeat(g, "g", 1, j.member_id, NULL, 2000), KERR_NONE);
    assert_int_equal(sl_group_heartbeat(g, "g", 0, j.member_id, NULL, 2000),
                     KERR_ILLEGAL_GENERATION);
    assert_int_equal(sl_group_heartbeat(g, "g", 1, "nobody", NULL, 2000),
                     KERR_UNKNOWN_MEMBER_ID);

    /* No heartbeat for longer than the session timeout: the member is gone. */
    sl_groups_tick(g, 2000 + 10001);
    assert_int_equal(sl_groups_find(g, "g")->state, SL_GROUP_EMPTY);
    assert_int_equal(sl_groups_find(g, "g")->nmembers, 0);
    sl_groups_destroy(g);
}

static void test_second_member_triggers_rebalance(void **state)
{
    (void)state;
    struct sl_groups *g = new_groups();
    struct join_out a, b;
    join_new(g, "range", 1000, &a);
    struct sync_out sa = {0};
    sl_group_sync(g, "g", 1, a.member_id, NULL, 0, NULL, 1000, on_sync, &sa);
    assert_int_equal(sl_groups_find(g, "g")->state, SL_GROUP_STABLE);

    join_new(g, "range", 2000, &b);
    assert_int_equal(b.called, 0); /* parked until the known member rejoins */
    assert_int_equal(sl_groups_find(g, "g")->state, SL_GROUP_PREPARING_REBALANCE);
    assert_int_equal(sl_group_heartbeat(g, "g", 1, a.member_id, NULL, 2100),
                     KERR_REBALANCE_IN_PROGRESS);

    char aid[128];
    snprintf(aid, sizeof(aid), "%s", a.member_id);
    join(g, aid, "range", 2200, &a);
    assert_int_equal(a.called, 1);
    assert_int_equal(b.called, 1);
    assert_int_equal(a.generation, 2);
    assert_int_equal(b.generation, 2);
    assert_string_equal(a.leader, b.leader);
    const struct join_out *leader = strcmp(a.leader, a.member_id) == 0 ? &a : &b;
    const struct join_out *follower = leader == &a ? &b : &a;
    assert_int_equal(leader->nmembers, 2);
    assert_int_equal(follower->nmembers, 0);

    /* The follower's sync waits for the leader's assignment. */
    struct sync_out sf = {0}, sl = {0};
    sl_group_sync(g, "g", 2, follower->member_id, NULL, 0, NULL, 2300, on_sync, &sf);
    assert_int_equal(sf.called, 0);
    struct sl_group_assignment as[2] = {{leader->member_id, {(uint8_t *)"L", 1}},
                                        {follower->member_id, {(uint8_t *)"F", 1}}};
    sl_group_sync(g, "g", 2, leader->member_id, NULL, 2, as, 2400, on_sync, &sl);
    assert_int_equal(sl.called, 1);
    assert_int_equal(sf.called, 1);
    assert_string_equal(sl.assignment, "L");
    assert_string_equal(sf.assignment, "F");
    assert_int_equal(sl_groups_find(g, "g")->state, SL_GROUP_STABLE);

    /* The follower leaves: a new rebalance for the leader. */
    assert_int_equal(sl_group_leave(g, "g", follower->member_id, NULL, 2500), KERR_NONE);
    assert_int_equal(sl_groups_find(g, "g")->nmembers, 1);
    assert_int_equal(sl_group_heartbeat(g, "g", 2, leader->member_id, NULL, 2600),
                     KERR_REBALANCE_IN_PROGRESS);
    sl_groups_destroy(g);
}

static void test_member_missing_rebalance_is_removed(void **state)
{
    (void)state;
    struct sl_groups *g = new_groups();
    struct join_out a, b;
    join_new(g, "range", 1000, &a);
    struct sync_out sa = {0};
    sl_group_sync(g, "g", 1, a.member_id, NULL, 0, NULL, 1000, on_sync, &sa);
    join_new(g, "range", 2000, &b);
    assert_int_equal(b.called, 0);
    /* a never rejoins: when the rebalance timeout (30 s) passes, b goes on alone. Keep b's
     * session alive meanwhile is not needed: a parked join holds no session deadline. */
    sl_groups_tick(g, 2000 + 30001);
    assert_int_equal(b.called, 1);
    assert_int_equal(b.error, KERR_NONE);
    assert_string_equal(b.leader, b.member_id);
    assert_int_equal(b.nmembers, 1);
    assert_int_equal(sl_groups_find(g, "g")->nmembers, 1);
    assert_int_equal(sl_group_heartbeat(g, "g", b.generation, a.member_id, NULL, 32002),
                     KERR_UNKNOWN_MEMBER_ID);
    sl_groups_destroy(g);
}

static void test_protocol_must_be_shared(void **state)
{
    (void)state;
    struct sl_groups *g = new_groups();
    struct join_out a, b;
    join_new(g, "range", 1000, &a);
    /* Checked before a member id is handed out, as Kafka does. */
    join(g, "", "roundrobin", 1001, &b);
    assert_int_equal(b.called, 1);
    assert_int_equal(b.error, KERR_INCONSISTENT_GROUP_PROTOCOL);
    sl_groups_destroy(g);
}

static void test_offsets_commit_and_expiry(void **state)
{
    (void)state;
    struct sl_groups_config cfg;
    sl_groups_config_default(&cfg);
    cfg.offsets_retention_ms = 60000;
    struct sl_groups *g;
    struct sl_err err;
    assert_int_equal(sl_groups_create(&cfg, NULL, &g, &err), 0);
    /* A commit from outside any generation (a standalone consumer) creates the group. */
    assert_int_equal(sl_group_commit_check(g, "solo", -1, "", NULL, 1000), KERR_NONE);
    struct sl_group_commit c[2] = {{"t", 0, 42, -1, "m"}, {"t", 1, 7, -1, NULL}};
    assert_int_equal(sl_group_commit(g, "solo", c, 2, 1000), 0);
    struct sl_group *grp = sl_groups_find(g, "solo");
    assert_non_null(grp);
    assert_int_equal(sl_group_offset_get(grp, "t", 0)->offset, 42);
    assert_string_equal(sl_group_offset_get(grp, "t", 0)->metadata, "m");
    assert_int_equal(sl_group_offset_get(grp, "t", 1)->offset, 7);
    assert_null(sl_group_offset_get(grp, "t", 2));
    sl_groups_tick(g, 1000 + 59000);
    grp = sl_groups_find(g, "solo");
    assert_non_null(grp);
    assert_non_null(sl_group_offset_get(grp, "t", 0));
    /* Past offsets.retention.minutes for an Empty group, at the next expiry pass (they run
     * a minute apart): the offsets expire. */
    sl_groups_tick(g, 1000 + 59000 + 60000);
    grp = sl_groups_find(g, "solo");
    assert_true(grp == NULL || sl_group_offset_get(grp, "t", 0) == NULL);
    sl_groups_destroy(g);
}

static void test_partition_for_matches_java(void **state)
{
    (void)state;
    /* Java: "my-group".hashCode() = -1906497762 -> abs % 50 = 12 */
    assert_int_equal(sl_group_partition_for("my-group", 50), 12);
    assert_int_equal(sl_group_partition_for("", 50), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_member_lifecycle),
        cmocka_unit_test(test_second_member_triggers_rebalance),
        cmocka_unit_test(test_member_missing_rebalance_is_removed),
        cmocka_unit_test(test_protocol_must_be_shared),
        cmocka_unit_test(test_offsets_commit_and_expiry),
        cmocka_unit_test(test_partition_for_matches_java),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
