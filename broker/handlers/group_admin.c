/*
 * group_admin.c - ListGroups (16) v0-2, DescribeGroups (15) v0-4 and DeleteGroups (42)
 * v0-1, answered from the coordinator's memory (deletion writes tombstones first).
 * Threads: the broker loop thread.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "../group/group.h"
#include "../proto/msg_group.h"
#include "group_int.h"
#include "handlers.h"

struct list_ctx {
    struct sl_list_groups_resp *r;
    int32_t cap;
};

static void list_one(void *arg, struct sl_group *grp)
{
    struct list_ctx *c = arg;
    if (c->r->ngroups < c->cap) {
        struct sl_listed_group *lg = &c->r->groups[c->r->ngroups++];
        lg->group_id = sl__gh_kstr(grp->id);
        lg->protocol_type = sl__gh_kstr(grp->protocol_type ? grp->protocol_type : "");
    }
}

static void count_one(void *arg, struct sl_group *grp)
{
    (*(int32_t *)arg)++;
}

int sl_handle_list_groups(struct sl_request *req)
{
    struct sl_groups *g = req->broker->groups;
    struct sl_list_groups_resp r = {0};
    if (!g) {
        r.error_code = KERR_COORDINATOR_NOT_AVAILABLE;
    } else {
        int32_t n = 0;
        sl_groups_each(g, count_one, &n);
        r.groups = sl_kp_arena_calloc(&req->arena, (size_t)(n > 0 ? n : 1), sizeof(*r.groups));
        if (!r.groups) {
            return -ENOMEM;
        }
        struct list_ctx c = {&r, n};
        sl_groups_each(g, list_one, &c);
    }
    sl_msg_list_groups_resp_encode(&req->resp, req->api_version, &r);
    return SL_API_DONE;
}

static int describe_one(struct sl_request *req, struct sl_groups *g, struct sl_kp_str id,
                        struct sl_described_group *d)
{
    d->group_id = id;
    d->authorized_operations = INT32_MIN;
    d->protocol_type = sl__gh_kstr("");
    d->protocol_data = sl__gh_kstr("");
    const char *gid = sl__gh_str(req, id);
    if (!gid) {
        return -ENOMEM;
    }
    struct sl_group *grp = g ? sl_groups_find(g, gid) : NULL;
    if (!g) {
        d->error_code = KERR_COORDINATOR_NOT_AVAILABLE;
    }
    if (!grp) {
        d->group_state = sl__gh_kstr("Dead");
        return 0;
    }
    d->group_state = sl__gh_kstr(sl_group_state_name(grp->state));
    d->protocol_type = sl__gh_kstr(grp->protocol_type ? grp->protocol_type : "");
    int stable = grp->state == SL_GROUP_STABLE;
    if (stable && grp->protocol) {
        d->protocol_data = sl__gh_kstr(grp->protocol);
    }
    if (grp->nmembers == 0) {
        return 0;
    }
    d->members = sl_kp_arena_calloc(&req->arena, (size_t)grp->nmembers, sizeof(*d->members));
    if (!d->members) {
        return -ENOMEM;
    }
    for (struct sl_gmember *m = grp->members; m; m = m->next) {
        struct sl_described_member *dm = &d->members[d->nmembers++];
        dm->member_id = sl__gh_kstr(m->id);
        dm->group_instance_id = sl__gh_kstr(m->instance_id);
        dm->client_id = sl__gh_kstr(m->client_id ? m->client_id : "");
        dm->client_host = sl__gh_kstr(m->client_host ? m->client_host : "");
        if (stable) {
            /* metadata and assignment only once stable, as Kafka does */
            const struct sl_group_bytes *md = sl_gmember_proto(m, grp->protocol);
            if (md) {
                dm->member_metadata.p = md->p;
                dm->member_metadata.len = md->len;
            }
            dm->member_assignment.p = m->assignment.p;
            dm->member_assignment.len = m->assignment.len;
        }
    }
    return 0;
}

int sl_handle_describe_groups(struct sl_request *req)
{
    struct sl_describe_groups_req m;
    int rc = sl_msg_describe_groups_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc) {
        return rc;
    }
    struct sl_describe_groups_resp r = {0};
    r.ngroups = m.ngroups;
    r.groups = sl_kp_arena_calloc(&req->arena, (size_t)(m.ngroups > 0 ? m.ngroups : 1),
                                  sizeof(*r.groups));
    if (!r.groups) {
        return -ENOMEM;
    }
    for (int32_t i = 0; i < m.ngroups; i++) {
        if ((rc = describe_one(req, req->broker->groups, m.groups[i], &r.groups[i])) != 0) {
            return rc;
        }
    }
    sl_msg_describe_groups_resp_encode(&req->resp, req->api_version, &r);
    return SL_API_DONE;
}

int sl_handle_delete_groups(struct sl_request *req)
{
    struct sl_delete_groups_req m;
    int rc = sl_msg_delete_groups_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc) {
        return rc;
    }
    struct sl_groups *g = req->broker->groups;
    struct sl_delete_groups_resp r = {0};
    r.nresults = m.ngroups;
    r.results = sl_kp_arena_calloc(&req->arena, (size_t)(m.ngroups > 0 ? m.ngroups : 1),
                                   sizeof(*r.results));
    if (!r.results) {
        return -ENOMEM;
    }
    int64_t now = sl_now_ms();
    for (int32_t i = 0; i < m.ngroups; i++) {
        const char *gid = sl__gh_str(req, m.groups[i]);
        if (!gid) {
            return -ENOMEM;
        }
        r.results[i].group_id = m.groups[i];
        r.results[i].error_code =
            g ? sl_group_delete(g, gid, now) : KERR_COORDINATOR_NOT_AVAILABLE;
    }
    sl_msg_delete_groups_resp_encode(&req->resp, req->api_version, &r);
    return SL_API_DONE;
}
