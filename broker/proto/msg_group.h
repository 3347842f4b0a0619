/*
 * msg_group.h - the group-coordinator messages of the Kafka protocol, all non-flexible in
 * these ranges: FindCoordinator (10) v0-2, JoinGroup (11) v0-5, SyncGroup (14) v0-3,
 * Heartbeat (12) v0-3, LeaveGroup (13) v0-3, OffsetCommit (8) v2-7, OffsetFetch (9) v1-5,
 * ListGroups (16) v0-2, DescribeGroups (15) v0-4, DeleteGroups (42) v0-1.
 *
 * Fields follow apache/kafka clients/src/main/resources/common/message/<Api>{Request,
 * Response}.json; a field absent in a version is neither read nor written and decodes to
 * the schema's default. Each message is described once (msg_group.c walks a struct with a
 * codec that either reads or writes), so decode and encode cannot drift apart; both
 * directions exist for every message (the broker decodes requests and encodes responses,
 * tests and tools do the opposite).
 *
 * Arrays come from the caller's arena; strings and bytes are slices into the decoded buffer,
 * which must outlive the struct. Decoders return 0, SL_EUNSUPPORTED (version outside the
 * range), -ENOMEM (arena) or the reader's sticky error (SL_ETRUNCATED / SL_ECORRUPT).
 * Encoders report through the writer's sticky error. Pure code: no I/O, no logging; one
 * thread per reader/writer/arena.
 */
#ifndef SL_MSG_GROUP_H
#define SL_MSG_GROUP_H

#include <stdint.h>

#include "kp.h"

#define SL_MSG_FIND_COORD_MIN     0
#define SL_MSG_FIND_COORD_MAX     2
#define SL_MSG_JOIN_GROUP_MIN     0
#define SL_MSG_JOIN_GROUP_MAX     5
#define SL_MSG_HEARTBEAT_MIN      0
#define SL_MSG_HEARTBEAT_MAX      3
#define SL_MSG_LEAVE_GROUP_MIN    0
#define SL_MSG_LEAVE_GROUP_MAX    3
#define SL_MSG_SYNC_GROUP_MIN     0
#define SL_MSG_SYNC_GROUP_MAX     3
#define SL_MSG_OFFSET_COMMIT_MIN  2
#define SL_MSG_OFFSET_COMMIT_MAX  7
#define SL_MSG_OFFSET_FETCH_MIN   1
#define SL_MSG_OFFSET_FETCH_MAX   5
#define SL_MSG_LIST_GROUPS_MIN    0
#define SL_MSG_LIST_GROUPS_MAX    2
#define SL_MSG_DESCRIBE_GROUPS_MIN 0
#define SL_MSG_DESCRIBE_GROUPS_MAX 4
#define SL_MSG_DELETE_GROUPS_MIN  0
#define SL_MSG_DELETE_GROUPS_MAX  1

/* ---- FindCoordinator (10) ---- */

struct sl_find_coord_req {
    struct sl_kp_str key;
    int8_t key_type; /* v1+; 0 = group, 1 = transaction */
};

struct sl_find_coord_resp {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
    struct sl_kp_str error_message; /* v1+, nullable */
    int32_t node_id;
    struct sl_kp_str host;
    int32_t port;
};

/* ---- JoinGroup (11) ---- */

struct sl_join_protocol {
    struct sl_kp_str name;
    struct sl_kp_bytes metadata;
};

struct sl_join_group_req {
    struct sl_kp_str group_id;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms; /* v1+, default -1 (then: the session timeout) */
    struct sl_kp_str member_id;
    struct sl_kp_str group_instance_id; /* v5+, nullable, default null */
    struct sl_kp_str protocol_type;
    int32_t nprotocols;
    struct sl_join_protocol *protocols;
};

struct sl_join_member {
    struct sl_kp_str member_id;
    struct sl_kp_str group_instance_id; /* v5+, nullable */
    struct sl_kp_bytes metadata;
};

struct sl_join_group_resp {
    int32_t throttle_time_ms; /* v2+ */
    int16_t error_code;
    int32_t generation_id;
    struct sl_kp_str protocol_name;
    struct sl_kp_str leader;
    struct sl_kp_str member_id;
    int32_t nmembers;
    struct sl_join_member *members;
};

/* ---- Heartbeat (12) ---- */

struct sl_heartbeat_req {
    struct sl_kp_str group_id;
    int32_t generation_id;
    struct sl_kp_str member_id;
    struct sl_kp_str group_instance_id; /* v3+, nullable */
};

/* Heartbeat, and any response that is only throttle time (v1+) and an error code. */
struct sl_heartbeat_resp {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
};

/* ---- LeaveGroup (13) ---- */

struct sl_leave_member {
    struct sl_kp_str member_id;
    struct sl_kp_str group_instance_id; /* nullable */
    int16_t error_code;                 /* response only */
};

struct sl_leave_group_req {
    struct sl_kp_str group_id;
    struct sl_kp_str member_id; /* v0-2 */
    int32_t nmembers;           /* v3+ */
    struct sl_leave_member *members;
};

struct sl_leave_group_resp {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
    int32_t nmembers; /* v3+ */
    struct sl_leave_member *members;
};

/* ---- SyncGroup (14) ---- */

struct sl_sync_assignment {
    struct sl_kp_str member_id;
    struct sl_kp_bytes assignment;
};

struct sl_sync_group_req {
    struct sl_kp_str group_id;
    int32_t generation_id;
    struct sl_kp_str member_id;
    struct sl_kp_str group_instance_id; /* v3+, nullable */
    int32_t nassignments;
    struct sl_sync_assignment *assignments;
};

struct sl_sync_group_resp {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
    struct sl_kp_bytes assignment;
};

/* ---- OffsetCommit (8) ---- */

struct sl_commit_req_part {
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch; /* v6+, default -1 */
    struct sl_kp_str metadata; /* nullable */
};

struct sl_commit_req_topic {
    struct sl_kp_str name;
    int32_t npartitions;
    struct sl_commit_req_part *partitions;
};

struct sl_offset_commit_req {
    struct sl_kp_str group_id;
    int32_t generation_id; /* default -1 */
    struct sl_kp_str member_id;
    struct sl_kp_str group_instance_id; /* v7+, nullable */
    int64_t retention_time_ms;          /* v2-4, default -1 */
    int32_t ntopics;
    struct sl_commit_req_topic *topics;
};

struct sl_commit_resp_part {
    int32_t partition;
    int16_t error_code;
};

struct sl_commit_resp_topic {
    struct sl_kp_str name;
    int32_t npartitions;
    struct sl_commit_resp_part *partitions;
};

struct sl_offset_commit_resp {
    int32_t throttle_time_ms; /* v3+ */
    int32_t ntopics;
    struct sl_commit_resp_topic *topics;
};

/* ---- OffsetFetch (9) ---- */

struct sl_offset_fetch_req_topic {
    struct sl_kp_str name;
    int32_t npartitions;
    int32_t *partitions;
};

struct sl_offset_fetch_req {
    struct sl_kp_str group_id;
    int32_t ntopics; /* -1 = null: every committed partition (v2+) */
    struct sl_offset_fetch_req_topic *topics;
};

struct sl_offset_fetch_resp_part {
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch; /* v5+, default -1 */
    struct sl_kp_str metadata; /* nullable */
    int16_t error_code;
};

struct sl_offset_fetch_resp_topic {
    struct sl_kp_str name;
    int32_t npartitions;
    struct sl_offset_fetch_resp_part *partitions;
};

struct sl_offset_fetch_resp {
    int32_t throttle_time_ms; /* v3+ */
    int32_t ntopics;
    struct sl_offset_fetch_resp_topic *topics;
    int16_t error_code; /* v2+ */
};

/* ---- ListGroups (16): the request body is empty in v0-2 ---- */

struct sl_listed_group {
    struct sl_kp_str group_id;
    struct sl_kp_str protocol_type;
};

struct sl_list_groups_resp {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
    int32_t ngroups;
    struct sl_listed_group *groups;
};

/* ---- DescribeGroups (15) ---- */

struct sl_describe_groups_req {
    int32_t ngroups;
    struct sl_kp_str *groups;
    int8_t include_authorized_operations; /* v3+ */
};

struct sl_described_member {
    struct sl_kp_str member_id;
    struct sl_kp_str group_instance_id; /* v4+, nullable */
    struct sl_kp_str client_id;
    struct sl_kp_str client_host;
    struct sl_kp_bytes member_metadata;
    struct sl_kp_bytes member_assignment;
};

struct sl_described_group {
    int16_t error_code;
    struct sl_kp_str group_id;
    struct sl_kp_str group_state;
    struct sl_kp_str protocol_type;
    struct sl_kp_str protocol_data;
    int32_t nmembers;
    struct sl_described_member *members;
    int32_t authorized_operations; /* v3+, default INT32_MIN */
};

struct sl_describe_groups_resp {
    int32_t throttle_time_ms; /* v1+ */
    int32_t ngroups;
    struct sl_described_group *groups;
};

/* ---- DeleteGroups (42) ---- */

struct sl_delete_groups_req {
    int32_t ngroups;
    struct sl_kp_str *groups;
};

struct sl_delete_groups_result {
    struct sl_kp_str group_id;
    int16_t error_code;
};

struct sl_delete_groups_resp {
    int32_t throttle_time_ms;
    int32_t nresults;
    struct sl_delete_groups_result *results;
};

/* Decode / encode each message; see the file header for the contract. */
#define SL_MSG_GROUP_DECLARE(name, type)                                                       \
    int sl_msg_##name##_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a, \
                               type *out);                                                     \
    void sl_msg_##name##_encode(struct sl_kp_writer *w, int16_t version, const type *m);

SL_MSG_GROUP_DECLARE(find_coord_req, struct sl_find_coord_req)
SL_MSG_GROUP_DECLARE(find_coord_resp, struct sl_find_coord_resp)
SL_MSG_GROUP_DECLARE(join_group_req, struct sl_join_group_req)
SL_MSG_GROUP_DECLARE(join_group_resp, struct sl_join_group_resp)
SL_MSG_GROUP_DECLARE(heartbeat_req, struct sl_heartbeat_req)
SL_MSG_GROUP_DECLARE(heartbeat_resp, struct sl_heartbeat_resp)
SL_MSG_GROUP_DECLARE(leave_group_req, struct sl_leave_group_req)
SL_MSG_GROUP_DECLARE(leave_group_resp, struct sl_leave_group_resp)
SL_MSG_GROUP_DECLARE(sync_group_req, struct sl_sync_group_req)
SL_MSG_GROUP_DECLARE(sync_group_resp, struct sl_sync_group_resp)
SL_MSG_GROUP_DECLARE(offset_commit_req, struct sl_offset_commit_req)
SL_MSG_GROUP_DECLARE(offset_commit_resp, struct sl_offset_commit_resp)
SL_MSG_GROUP_DECLARE(offset_fetch_req, struct sl_offset_fetch_req)
SL_MSG_GROUP_DECLARE(offset_fetch_resp, struct sl_offset_fetch_resp)
SL_MSG_GROUP_DECLARE(list_groups_resp, struct sl_list_groups_resp)
SL_MSG_GROUP_DECLARE(describe_groups_req, struct sl_describe_groups_req)
SL_MSG_GROUP_DECLARE(describe_groups_resp, struct sl_describe_groups_resp)
SL_MSG_GROUP_DECLARE(delete_groups_req, struct sl_delete_groups_req)
SL_MSG_GROUP_DECLARE(delete_groups_resp, struct sl_delete_groups_resp)

#endif
