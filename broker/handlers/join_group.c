/*
 * join_group.c - the membership APIs: JoinGroup (11) v0-5, SyncGroup (14) v0-3, Heartbeat
 * (12) v0-3 and LeaveGroup (13) v0-3, translated to and from the coordinator
 * (broker/group). JoinGroup and SyncGroup park until the rebalance lets them answer; their
 * cancel hook forgets the parked request when its connection closes.
 * Threads: the broker loop thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../group/group.h"
#include "../proto/msg_group.h"
#include "group_int.h"
#include "handlers.h"

/* Kafka shows a member's host as "/address". */
static const char *client_host(struct sl_request *req)
{
    char host[80];
    snprintf(host, sizeof(host), "/%s", req->peer);
    char *colon = strrchr(host, ':');
    if (colon && colon != host + 1) {
        *colon = '\0';
    }
    return sl__gh_str(req, sl__gh_kstr(host));
}

static struct sl__gh_park *park_state(struct sl_request *req)
{
    struct sl__gh_park *p = sl_kp_arena_alloc(&req->arena, sizeof(*p));
    if (p) {
        p->in_call = 1;
        req->handler_state = p;
    }
    return p;
}

/* ---- JoinGroup ---- */

static void join_done(void *arg, const struct sl_group_join_result *res)
{
    struct sl_request *req = arg;
    struct sl_join_group_resp r = {0};
    r.error_code = res->error;
    r.generation_id = res->generation;
    r.protocol_name = sl__gh_kstr(res->protocol ? res->protocol : "");
    r.leader = sl__gh_kstr(res->leader ? res->leader : "");
    r.member_id = sl__gh_kstr(res->member_id ? res->member_id : "");
    if (res->nmembers > 0) {
        r.members = sl_kp_arena_calloc(&req->arena, (size_t)res->nmembers, sizeof(*r.members));
        if (r.members) {
            r.nmembers = res->nmembers;
            for (int i = 0; i < res->nmembers; i++) {
                r.members[i].member_id = sl__gh_kstr(res->members[i].member_id);
                r.members[i].group_instance_id = sl__gh_kstr(res->members[i].instance_id);
                r.members[i].metadata.p = res->members[i].metadata.p;
                r.members[i].metadata.len = res->members[i].metadata.len;
            }
        } else {
            r.error_code = KERR_UNKNOWN_SERVER_ERROR;
        }
    }
    sl_msg_join_group_resp_encode(&req->resp, req->api_version, &r);
    sl__gh_answered(req);
}

int sl_handle_join_group(struct sl_request *req)
{
    struct sl_join_group_req m;
    int rc = sl_msg_join_group_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc) {
        return rc;
    }
    struct sl__gh_park *p = park_state(req);
    struct sl_group_proto *protos =
        sl_kp_arena_calloc(&req->arena, (size_t)(m.nprotocols > 0 ? m.nprotocols : 1),
                           sizeof(*protos));
    struct sl_group_join_args a = {0};
    a.group_id = sl__gh_str(req, m.group_id);
    a.member_id = sl__gh_str(req, m.member_id);
    a.instance_id = sl__gh_nstr(req, m.group_instance_id);
    a.client_id = sl__gh_str(req, req->client_id);
    a.client_host = client_host(req);
    a.protocol_type = sl__gh_str(req, m.protocol_type);
    a.session_timeout_ms = m.session_timeout_ms;
    a.rebalance_timeout_ms = m.rebalance_timeout_ms;
    a.require_known_member_id = req->api_version >= 4;
    a.nprotos = m.nprotocols;
    a.protos = protos;
    if (!p || !protos || !a.group_id || !a.member_id || !a.client_id || !a.client_host ||
        !a.protocol_type) {
        return -ENOMEM;
    }
    for (int32_t i = 0; i < m.nprotocols; i++) {
        protos[i].name = (char *)(uintptr_t)sl__gh_str(req, m.protocols[i].name);
        if (!protos[i].name) {
            return -ENOMEM;
        }
        protos[i].metadata.p = (uint8_t *)(uintptr_t)m.protocols[i].metadata.p;
        protos[i].metadata.len = m.protocols[i].metadata.len;
    }
    if (!req->broker->groups) {
        struct sl_group_join_result res = {KERR_COORDINATOR_NOT_AVAILABLE, -1, "", "", a.member_id,
                                           0, NULL};
        join_done(req, &res);
    } else {
        sl_group_join(req->broker->groups, &a, sl_now_ms(), join_done, req);
    }
    p->in_call = 0;
    return p->answered ? SL_API_DONE : SL_API_PARKED;
}

void sl_group_request_cancel(struct sl_request *req)
{
    if (req->broker->groups) {
        sl_groups_cancel(req->broker->groups, req);
    }
}

/* ---- SyncGroup ---- */

static void sync_done(void *arg, int16_t error, struct sl_group_bytes assignment)
{
    struct sl_request *req = arg;
    struct sl_sync_group_resp r = {0};
    r.error_code = error;
    r.assignment.p = assignment.p;
    r.assignment.len = assignment.len;
    sl_msg_sync_group_resp_encode(&req->resp, req->api_version, &r);
    sl__gh_answered(req);
}

int sl_handle_sync_group(struct sl_request *req)
{
    struct sl_sync_group_req m;
    int rc = sl_msg_sync_group_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc) {
        return rc;
    }
    struct sl__gh_park *p = park_state(req);
    struct sl_group_assignment *as =
        sl_kp_arena_calloc(&req->arena, (size_t)(m.nassignments > 0 ? m.nassignments : 1),
                           sizeof(*as));
    const char *gid = sl__gh_str(req, m.group_id);
    const char *mid = sl__gh_str(req, m.member_id);
    const char *iid = sl__gh_nstr(req, m.group_instance_id);
    if (!p || !as || !gid || !mid) {
        return -ENOMEM;
    }
    for (int32_t i = 0; i < m.nassignments; i++) {
        as[i].member_id = sl__gh_str(req, m.assignments[i].member_id);
        if (!as[i].member_id) {
            return -ENOMEM;
        }
        as[i].assignment.p = (uint8_t *)(uintptr_t)m.assignments[i].assignment.p;
        as[i].assignment.len = m.assignments[i].assignment.len;
    }
    if (!req->broker->groups) {
        struct sl_group_bytes none = {NULL, 0};
        sync_done(req, KERR_COORDINATOR_NOT_AVAILABLE, none);
    } else {
        sl_group_sync(req->broker->groups, gid, m.generation_id, mid, iid, m.nassignments, as,
                      sl_now_ms(), sync_done, req);
    }
    p->in_call = 0;
    return p->answered ? SL_API_DONE : SL_API_PARKED;
}

/* ---- Heartbeat ---- */

int sl_handle_heartbeat(struct sl_request *req)
{
    struct sl_heartbeat_req m;
    int rc = sl_msg_heartbeat_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc) {
        return rc;
    }
    const char *gid = sl__gh_str(req, m.group_id);
    const char *mid = sl__gh_str(req, m.member_id);
    const char *iid = sl__gh_nstr(req, m.group_instance_id);
    if (!gid || !mid) {
        return -ENOMEM;
    }
    struct sl_heartbeat_resp r = {0};
    r.error_code = req->broker->groups ? sl_group_heartbeat(req->broker->groups, gid,
                                                            m.generation_id, mid, iid,
                                                            sl_now_ms())
                                       : KERR_COORDINATOR_NOT_AVAILABLE;
    sl_msg_heartbeat_resp_encode(&req->resp, req->api_version, &r);
    return SL_API_DONE;
}

/* ---- LeaveGroup ---- */

int sl_handle_leave_group(struct sl_request *req)
{
    struct sl_leave_group_req m;
    int rc = sl_msg_leave_group_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc) {
        return rc;
    }
    struct sl_groups *g = req->broker->groups;
    const char *gid = sl__gh_str(req, m.group_id);
    if (!gid) {
        return -ENOMEM;
    }
    int64_t now = sl_now_ms();
    struct sl_leave_group_resp r = {0};
    if (req->api_version <= 2) {
        const char *mid = sl__gh_str(req, m.member_id);
        if (!mid) {
            return -ENOMEM;
        }
        r.error_code = g ? sl_group_leave(g, gid, mid, NULL, now) : KERR_COORDINATOR_NOT_AVAILABLE;
    } else if (!g) {
        r.error_code = KERR_COORDINATOR_NOT_AVAILABLE;
    } else if (!sl_groups_find(g, gid)) {
        r.error_code = KERR_UNKNOWN_MEMBER_ID;
    } else {
        r.nmembers = m.nmembers;
        r.members = m.members;
        for (int32_t i = 0; i < m.nmembers; i++) {
            const char *mid = sl__gh_str(req, m.members[i].member_id);
            const char *iid = sl__gh_nstr(req, m.members[i].group_instance_id);
            if (!mid) {
                return -ENOMEM;
            }
            m.members[i].error_code = sl_group_leave(g, gid, mid, iid, now);
        }
    }
    sl_msg_leave_group_resp_encode(&req->resp, req->api_version, &r);
    return SL_API_DONE;
}
