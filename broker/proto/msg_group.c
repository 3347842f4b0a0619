/*
 * msg_group.c - the group-coordinator messages (see msg_group.h), each described once by a
 * walk function over a codec that reads (decode) or writes (encode). Checked field by field
 * against apache/kafka's *Request.json / *Response.json: FindCoordinator v1 adds KeyType,
 * ThrottleTimeMs, ErrorMessage; JoinGroup v1 RebalanceTimeoutMs, v2 ThrottleTimeMs, v5
 * GroupInstanceId (request and response members); SyncGroup / Heartbeat v1 ThrottleTimeMs,
 * v3 GroupInstanceId; LeaveGroup v1 ThrottleTimeMs, v3 replaces MemberId with Members;
 * OffsetCommit v2-4 RetentionTimeMs, v3 ThrottleTimeMs, v6 CommittedLeaderEpoch, v7
 * GroupInstanceId; OffsetFetch v2 nullable Topics and top-level ErrorCode, v3
 * ThrottleTimeMs, v5 CommittedLeaderEpoch; ListGroups v1 ThrottleTimeMs; DescribeGroups v1
 * ThrottleTimeMs, v3 IncludeAuthorizedOperations / AuthorizedOperations, v4 member
 * GroupInstanceId; DeleteGroups v0-1 identical.
 * Pure code; one thread per reader/writer/arena.
 */
#include "msg_group.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "../../common/sl_err.h"
#include "msg_data_int.h"

/* Reads when r is set, writes otherwise. */
struct cx {
    struct sl_kp_reader *r;
    struct sl_kp_writer *w;
    struct sl_kp_arena *a;
};

static void cx_i8(struct cx *c, int8_t *v)
{
    if (c->r) {
        *v = sl_kp_read_i8(c->r);
    } else {
        sl_kp_write_i8(c->w, *v);
    }
}

static void cx_i16(struct cx *c, int16_t *v)
{
    if (c->r) {
        *v = sl_kp_read_i16(c->r);
    } else {
        sl_kp_write_i16(c->w, *v);
    }
}

static void cx_i32(struct cx *c, int32_t *v)
{
    if (c->r) {
        *v = sl_kp_read_i32(c->r);
    } else {
        sl_kp_write_i32(c->w, *v);
    }
}

static void cx_i64(struct cx *c, int64_t *v)
{
    if (c->r) {
        *v = sl_kp_read_i64(c->r);
    } else {
        sl_kp_write_i64(c->w, *v);
    }
}

static void cx_str(struct cx *c, struct sl_kp_str *s, int nullable)
{
    if (c->r) {
        *s = sl_kp_read_str(c->r, nullable);
    } else {
        /* a null written where the schema forbids it goes out as "" */
        struct sl_kp_str v = *s;
        if (v.len < 0 && !nullable) {
            v.p = "";
            v.len = 0;
        }
        sl__data_write_str(c->w, v);
    }
}

/* Bytes are never nullable in these messages: a null on write goes out empty. */
static void cx_bytes(struct cx *c, struct sl_kp_bytes *b)
{
    if (c->r) {
        *b = sl_kp_read_bytes(c->r);
        if (b->len < 0) {
            sl_kp_reader_fail(c->r, SL_ECORRUPT);
        }
    } else {
        struct sl_kp_bytes v = *b;
        if (v.len < 0) {
            v.len = 0;
        }
        sl__data_write_bytes(c->w, v);
    }
}

/*
 * An array: on read, its count (bounded by the bytes left, min_size each) and a zeroed
 * element array from the arena; on write, the count. Returns how many elements to walk (0 on
 * a null array or an error).
 */
static int32_t cx_array(struct cx *c, int32_t *n, void **arr, size_t elem, size_t min_size,
                        int nullable)
{
    if (c->r) {
        *n = sl_kp_read_array(c->r, min_size, nullable);
        *arr = sl__data_array(c->r, c->a, *n, elem);
        return c->r->err ? 0 : (*n > 0 ? *n : 0);
    }
    sl_kp_write_i32(c->w, *n);
    return *n > 0 ? *n : 0;
}

static int cx_ok(const struct cx *c)
{
    return !c->r || !c->r->err;
}

#define ARR(c, n, arr, min, nullable)                                                          \
    cx_array(c, &(n), (void **)&(arr), sizeof(*(arr)), min, nullable)

static const struct sl_kp_str NULL_STR = {NULL, -1};

/* Define decode and encode from a walk function name##_walk(c, v, m). */
#define DEFINE(name, type, MIN, MAX)                                                           \
    int sl_msg_##name##_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a, \
                               type *out)                                                      \
    {                                                                                          \
        memset(out, 0, sizeof(*out));                                                          \
        if (version < (MIN) || version > (MAX)) {                                              \
            return SL_EUNSUPPORTED;                                                            \
        }                                                                                      \
        struct cx c = {r, NULL, a};                                                            \
        name##_walk(&c, version, out);                                                         \
        return sl__data_result(r);                                                             \
    }                                                                                          \
    void sl_msg_##name##_encode(struct sl_kp_writer *w, int16_t version, const type *m)        \
    {                                                                                          \
        struct cx c = {NULL, w, NULL};                                                         \
        name##_walk(&c, version, (type *)(uintptr_t)m);                                        \
    }

/* ---- FindCoordinator ---- */

static void find_coord_req_walk(struct cx *c, int16_t v, struct sl_find_coord_req *m)
{
    cx_str(c, &m->key, 0);
    if (v >= 1) {
        cx_i8(c, &m->key_type);
    }
}
DEFINE(find_coord_req, struct sl_find_coord_req, SL_MSG_FIND_COORD_MIN, SL_MSG_FIND_COORD_MAX)

static void find_coord_resp_walk(struct cx *c, int16_t v, struct sl_find_coord_resp *m)
{
    if (c->r) {
        m->error_message = NULL_STR;
    }
    if (v >= 1) {
        cx_i32(c, &m->throttle_time_ms);
    }
    cx_i16(c, &m->error_code);
    if (v >= 1) {
        cx_str(c, &m->error_message, 1);
    }
    cx_i32(c, &m->node_id);
    cx_str(c, &m->host, 0);
    cx_i32(c, &m->port);
}
DEFINE(find_coord_resp, struct sl_find_coord_resp, SL_MSG_FIND_COORD_MIN, SL_MSG_FIND_COORD_MAX)

/* ---- JoinGroup ---- */

static void join_group_req_walk(struct cx *c, int16_t v, struct sl_join_group_req *m)
{
    if (c->r) {
        m->rebalance_timeout_ms = -1;
        m->group_instance_id = NULL_STR;
    }
    cx_str(c, &m->group_id, 0);
    cx_i32(c, &m->session_timeout_ms);
    if (v >= 1) {
        cx_i32(c, &m->rebalance_timeout_ms);
    }
    cx_str(c, &m->member_id, 0);
    if (v >= 5) {
        cx_str(c, &m->group_instance_id, 1);
    }
    cx_str(c, &m->protocol_type, 0);
    int32_t n = ARR(c, m->nprotocols, m->protocols, 6, 0);
    for (int32_t i = 0; i < n && cx_ok(c); i++) {
        cx_str(c, &m->protocols[i].name, 0);
        cx_bytes(c, &m->protocols[i].metadata);
    }
}
DEFINE(join_group_req, struct sl_join_group_req, SL_MSG_JOIN_GROUP_MIN, SL_MSG_JOIN_GROUP_MAX)

static void join_group_resp_walk(struct cx *c, int16_t v, struct sl_join_group_resp *m)
{
    if (v >= 2) {
        cx_i32(c, &m->throttle_time_ms);
    }
    cx_i16(c, &m->error_code);
    cx_i32(c, &m->generation_id);
    cx_str(c, &m->protocol_name, 0);
    cx_str(c, &m->leader, 0);
    cx_str(c, &m->member_id, 0);
    int32_t n = ARR(c, m->nmembers, m->members, v >= 5 ? 8 : 6, 0);
    for (int32_t i = 0; i < n && cx_ok(c); i++) {
        struct sl_join_member *jm = &m->members[i];
        if (c->r) {
            jm->group_instance_id = NULL_STR;
        }
        cx_str(c, &jm->member_id, 0);
        if (v >= 5) {
            cx_str(c, &jm->group_instance_id, 1);
        }
        cx_bytes(c, &jm->metadata);
    }
}
DEFINE(join_group_resp, struct sl_join_group_resp, SL_MSG_JOIN_GROUP_MIN, SL_MSG_JOIN_GROUP_MAX)

/* ---- Heartbeat ---- */

static void heartbeat_req_walk(struct cx *c, int16_t v, struct sl_heartbeat_req *m)
{
    if (c->r) {
        m->group_instance_id = NULL_STR;
    }
    cx_str(c, &m->group_id, 0);
    cx_i32(c, &m->generation_id);
    cx_str(c, &m->member_id, 0);
    if (v >= 3) {
        cx_str(c, &m->group_instance_id, 1);
    }
}
DEFINE(heartbeat_req, struct sl_heartbeat_req, SL_MSG_HEARTBEAT_MIN, SL_MSG_HEARTBEAT_MAX)

static void heartbeat_resp_walk(struct cx *c, int16_t v, struct sl_heartbeat_resp *m)
{
    if (v >= 1) {
        cx_i32(c, &m->throttle_time_ms);
    }
    cx_i16(c, &m->error_code);
}
DEFINE(heartbeat_resp, struct sl_heartbeat_resp, SL_MSG_HEARTBEAT_MIN, SL_MSG_HEARTBEAT_MAX)

/* ---- LeaveGroup ---- */

static void leave_group_req_walk(struct cx *c, int16_t v, struct sl_leave_group_req *m)
{
    cx_str(c, &m->group_id, 0);
    if (v <= 2) {
        cx_str(c, &m->member_id, 0);
        return;
    }
    if (c->r) {
        m->member_id = NULL_STR;
    }
    int32_t n = ARR(c, m->nmembers, m->members, 4, 0);
    for (int32_t i = 0; i < n && cx_ok(c); i++) {
        cx_str(c, &m->members[i].member_id, 0);
        cx_str(c, &m->members[i].group_instance_id, 1);
    }
}
DEFINE(leave_group_req, struct sl_leave_group_req, SL_MSG_LEAVE_GROUP_MIN, SL_MSG_LEAVE_GROUP_MAX)

static void leave_group_resp_walk(struct cx *c, int16_t v, struct sl_leave_group_resp *m)
{
    if (v >= 1) {
        cx_i32(c, &m->throttle_time_ms);
    }
    cx_i16(c, &m->error_code);
    if (v >= 3) {
        int32_t n = ARR(c, m->nmembers, m->members, 6, 0);
        for (int32_t i = 0; i < n && cx_ok(c); i++) {
            cx_str(c, &m->members[i].member_id, 0);
            cx_str(c, &m->members[i].group_instance_id, 1);
            cx_i16(c, &m->members[i].error_code);
        }
    }
}
DEFINE(leave_group_resp, struct sl_leave_group_resp, SL_MSG_LEAVE_GROUP_MIN,
       SL_MSG_LEAVE_GROUP_MAX)

/* ---- SyncGroup ---- */

static void sync_group_req_walk(struct cx *c, int16_t v, struct sl_sync_group_req *m)
{
    if (c->r) {
        m->group_instance_id = NULL_STR;
    }
    cx_str(c, &m->group_id, 0);
    cx_i32(c, &m->generation_id);
    cx_str(c, &m->member_id, 0);
    if (v >= 3) {
        cx_str(c, &m->group_instance_id, 1);
    }
    int32_t n = ARR(c, m->nassignments, m->assignments, 6, 0);
    for (int32_t i = 0; i < n && cx_ok(c); i++) {
        cx_str(c, &m->assignments[i].member_id, 0);
        cx_bytes(c, &m->assignments[i].assignment);
    }
}
DEFINE(sync_group_req, struct sl_sync_group_req, SL_MSG_SYNC_GROUP_MIN, SL_MSG_SYNC_GROUP_MAX)

static void sync_group_resp_walk(struct cx *c, int16_t v, struct sl_sync_group_resp *m)
{
    if (v >= 1) {
        cx_i32(c, &m->throttle_time_ms);
    }
    cx_i16(c, &m->error_code);
    cx_bytes(c, &m->assignment);
}
DEFINE(sync_group_resp, struct sl_sync_group_resp, SL_MSG_SYNC_GROUP_MIN, SL_MSG_SYNC_GROUP_MAX)

/* ---- OffsetCommit ---- */

static void offset_commit_req_walk(struct cx *c, int16_t v, struct sl_offset_commit_req *m)
{
    if (c->r) {
        m->group_instance_id = NULL_STR;
        m->retention_time_ms = -1;
    }
    cx_str(c, &m->group_id, 0);
    cx_i32(c, &m->generation_id); /* v1+ */
    cx_str(c, &m->member_id, 0);  /* v1+ */
    if (v >= 7) {
        cx_str(c, &m->group_instance_id, 1);
    }
    if (v <= 4) {
        cx_i64(c, &m->retention_time_ms);
    }
    int32_t n = ARR(c, m->ntopics, m->topics, 6, 0);
    for (int32_t i = 0; i < n && cx_ok(c); i++) {
        struct sl_commit_req_topic *t = &m->topics[i];
        cx_str(c, &t->name, 0);
        int32_t np = ARR(c, t->npartitions, t->partitions, 14, 0);
        for (int32_t j = 0; j < np && cx_ok(c); j++) {
            struct sl_commit_req_part *p = &t->partitions[j];
            if (c->r) {
                p->leader_epoch = -1;
            }
            cx_i32(c, &p->partition);
            cx_i64(c, &p->offset);
            if (v >= 6) {
                cx_i32(c, &p->leader_epoch);
            }
            cx_str(c, &p->metadata, 1);
        }
    }
}
DEFINE(offset_commit_req, struct sl_offset_commit_req, SL_MSG_OFFSET_COMMIT_MIN,
       SL_MSG_OFFSET_COMMIT_MAX)

static void offset_commit_resp_walk(struct cx *c, int16_t v, struct sl_offset_commit_resp *m)
{
    if (v >= 3) {
        cx_i32(c, &m->throttle_time_ms);
    }
    int32_t n = ARR(c, m->ntopics, m->topics, 6, 0);
    for (int32_t i = 0; i < n && cx_ok(c); i++) {
        struct sl_commit_resp_topic *t = &m->topics[i];
        cx_str(c, &t->name, 0);
        int32_t np = ARR(c, t->npartitions, t->partitions, 6, 0);
        for (int32_t j = 0; j < np && cx_ok(c); j++) {
            cx_i32(c, &t->partitions[j].partition);
            cx_i16(c, &t->partitions[j].error_code);
        }
    }
}
DEFINE(offset_commit_resp, struct sl_offset_commit_resp, SL_MSG_OFFSET_COMMIT_MIN,
       SL_MSG_OFFSET_COMMIT_MAX)

/* ---- OffsetFetch ---- */

static void offset_fetch_req_walk(struct cx *c, int16_t v, struct sl_offset_fetch_req *m)
{
    cx_str(c, &m->group_id, 0);
    int32_t n = ARR(c, m->ntopics, m->topics, 6, v >= 2);
    for (int32_t i = 0; i < n && cx_ok(c); i++) {
        struct sl_offset_fetch_req_topic *t = &m->topics[i];
        cx_str(c, &t->name, 0);
        int32_t np = ARR(c, t->npartitions, t->partitions, 4, 0);
        for (int32_t j = 0; j < np && cx_ok(c); j++) {
            cx_i32(c, &t->partitions[j]);
        }
    }
}
DEFINE(offset_fetch_req, struct sl_offset_fetch_req, SL_MSG_OFFSET_FETCH_MIN,
       SL_MSG_OFFSET_FETCH_MAX)

static void offset_fetch_resp_walk(struct cx *c, int16_t v, struct sl_offset_fetch_resp *m)
{
    if (v >= 3) {
        cx_i32(c, &m->throttle_time_ms);
    }
    int32_t n = ARR(c, m->ntopics, m->topics, 6, 0);
    for (int32_t i = 0; i < n && cx_ok(c); i++) {
        struct sl_offset_fetch_resp_topic *t = &m->topics[i];
        cx_str(c, &t->name, 0);
        int32_t np = ARR(c, t->npartitions, t->partitions, 16, 0);
        for (int32_t j = 0; j < np && cx_ok(c); j++) {
            struct sl_offset_fetch_resp_part *p = &t->partitions[j];
            if (c->r) {
                p->leader_epoch = -1;
            }
            cx_i32(c, &p->partition);
            cx_i64(c, &p->offset);
            if (v >= 5) {
                cx_i32(c, &p->leader_epoch);
            }
            cx_str(c, &p->metadata, 1);
            cx_i16(c, &p->error_code);
        }
    }
    if (v >= 2) {
        cx_i16(c, &m->error_code);
    }
}
DEFINE(offset_fetch_resp, struct sl_offset_fetch_resp, SL_MSG_OFFSET_FETCH_MIN,
       SL_MSG_OFFSET_FETCH_MAX)

/* ---- ListGroups ---- */

static void list_groups_resp_walk(struct cx *c, int16_t v, struct sl_list_groups_resp *m)
{
    if (v >= 1) {
        cx_i32(c, &m->throttle_time_ms);
    }
    cx_i16(c, &m->error_code);
    int32_t n = ARR(c, m->ngroups, m->groups, 4, 0);
    for (int32_t i = 0; i < n && cx_ok(c); i++) {
        cx_str(c, &m->groups[i].group_id, 0);
        cx_str(c, &m->groups[i].protocol_type, 0);
    }
}
DEFINE(list_groups_resp, struct sl_list_groups_resp, SL_MSG_LIST_GROUPS_MIN,
       SL_MSG_LIST_GROUPS_MAX)

/* ---- DescribeGroups ---- */

static void describe_groups_req_walk(struct cx *c, int16_t v, struct sl_describe_groups_req *m)
{
    int32_t n = ARR(c, m->ngroups, m->groups, 2, 0);
    for (int32_t i = 0; i < n && cx_ok(c); i++) {
        cx_str(c, &m->groups[i], 0);
    }
    if (v >= 3) {
        cx_i8(c, &m->include_authorized_operations);
    }
}
DEFINE(describe_groups_req, struct sl_describe_groups_req, SL_MSG_DESCRIBE_GROUPS_MIN,
       SL_MSG_DESCRIBE_GROUPS_MAX)

static void describe_groups_resp_walk(struct cx *c, int16_t v, struct sl_describe_groups_resp *m)
{
    if (v >= 1) {
        cx_i32(c, &m->throttle_time_ms);
    }
    int32_t n = ARR(c, m->ngroups, m->groups, 14, 0);
    for (int32_t i = 0; i < n && cx_ok(c); i++) {
        struct sl_described_group *g = &m->groups[i];
        if (c->r) {
            g->authorized_operations = INT32_MIN;
        }
        cx_i16(c, &g->error_code);
        cx_str(c, &g->group_id, 0);
        cx_str(c, &g->group_state, 0);
        cx_str(c, &g->protocol_type, 0);
        cx_str(c, &g->protocol_data, 0);
        int32_t nm = ARR(c, g->nmembers, g->members, v >= 4 ? 16 : 14, 0);
        for (int32_t j = 0; j < nm && cx_ok(c); j++) {
            struct sl_described_member *dm = &g->members[j];
            if (c->r) {
                dm->group_instance_id = NULL_STR;
            }
            cx_str(c, &dm->member_id, 0);
            if (v >= 4) {
                cx_str(c, &dm->group_instance_id, 1);
            }
            cx_str(c, &dm->client_id, 0);
            cx_str(c, &dm->client_host, 0);
            cx_bytes(c, &dm->member_metadata);
            cx_bytes(c, &dm->member_assignment);
        }
        if (v >= 3) {
            cx_i32(c, &g->authorized_operations);
        }
    }
}
DEFINE(describe_groups_resp, struct sl_describe_groups_resp, SL_MSG_DESCRIBE_GROUPS_MIN,
       SL_MSG_DESCRIBE_GROUPS_MAX)

/* ---- DeleteGroups ---- */

static void delete_groups_req_walk(struct cx *c, int16_t v, struct sl_delete_groups_req *m)
{
    int32_t n = ARR(c, m->ngroups, m->groups, 2, 0);
    for (int32_t i = 0; i < n && cx_ok(c); i++) {
        cx_str(c, &m->groups[i], 0);
    }
}
DEFINE(delete_groups_req, struct sl_delete_groups_req, SL_MSG_DELETE_GROUPS_MIN,
       SL_MSG_DELETE_GROUPS_MAX)

static void delete_groups_resp_walk(struct cx *c, int16_t v, struct sl_delete_groups_resp *m)
{
    cx_i32(c, &m->throttle_time_ms);
    int32_t n = ARR(c, m->nresults, m->results, 4, 0);
    for (int32_t i = 0; i < n && cx_ok(c); i++) {
        cx_str(c, &m->results[i].group_id, 0);
        cx_i16(c, &m->results[i].error_code);
    }
}
DEFINE(delete_groups_resp, struct sl_delete_groups_resp, SL_MSG_DELETE_GROUPS_MIN,
       SL_MSG_DELETE_GROUPS_MAX)
