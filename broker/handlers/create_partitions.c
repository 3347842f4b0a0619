/*
 * create_partitions.c - CreatePartitions (37) v0-1: grow a topic (never shrink: Kafka's
 * INVALID_PARTITIONS with its message). A manual assignment must name this broker alone for
 * each new partition. validate_only checks and creates nothing.
 *
 * Threads: the broker loop thread. Blocks while partition directories are created.
 */
#include <string.h>

#include "../api.h"
#include "../proto/msg_admin.h"
#include "../topics.h"
#include "admin_int.h"
#include "handlers.h"

/* 0, or a Kafka error with *msg: the assignments for the new partitions. */
static int16_t check_assignments(struct sl_request *req, const struct sl_cp_topic *t,
                                 const char **msg)
{
    const struct sl_topic *tp = sl_topics_get(req->broker->topics, t->name);
    if (!t->assignments || !tp || t->count <= tp->partitions) {
        return KERR_NONE; /* the registry reports these */
    }
    int32_t self = req->broker->cfg.broker_id;
    int32_t adding = t->count - tp->partitions;
    if (t->nassignments != adding) {
        *msg = sl__admin_msg(req,
                             "Increasing the number of partitions by %d but %d assignments "
                             "provided.",
                             adding, t->nassignments);
        return KERR_INVALID_REPLICA_ASSIGNMENT;
    }
    for (int32_t i = 0; i < t->nassignments; i++) {
        const struct sl_cp_assignment *as = &t->assignments[i];
        if (as->nbroker_ids != 1) {
            *msg = sl__admin_msg(req,
                                 "Inconsistent replication factor between partitions, "
                                 "partition 0 has 1 while partition %d has replicas of "
                                 "size %d.",
                                 tp->partitions + i, as->nbroker_ids);
            return KERR_INVALID_REPLICA_ASSIGNMENT;
        }
        if (as->broker_ids[0] != self) {
            *msg = sl__admin_msg(req,
                                 "Unknown broker %d in the assignment of partition %d; "
                                 "the only broker is %d.",
                                 as->broker_ids[0], tp->partitions + i, self);
            return KERR_INVALID_REPLICA_ASSIGNMENT;
        }
    }
    return KERR_NONE;
}

int sl_handle_create_partitions(struct sl_request *req)
{
    struct sl_cp_req m;
    int rc = sl_msg_create_partitions_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc != 0) {
        return rc;
    }
    struct sl_cp_result *res = sl__admin_alloc(req, m.ntopics, sizeof(*res));
    if (!res) {
        return -ENOMEM;
    }
    for (int32_t i = 0; i < m.ntopics; i++) {
        const struct sl_cp_topic *t = &m.topics[i];
        res[i].name = t->name;
        int dup = 0;
        for (int32_t j = 0; j < m.ntopics; j++) {
            dup += j != i && strcmp(m.topics[j].name, t->name) == 0;
        }
        if (dup) {
            res[i].error_code = KERR_INVALID_REQUEST;
            res[i].error_message = "Duplicate topic in request.";
            continue;
        }
        res[i].error_code = check_assignments(req, t, &res[i].error_message);
        if (res[i].error_code != KERR_NONE) {
            continue;
        }
        struct sl_err err = {0};
        rc = sl_topics_grow(req->broker, t->name, t->count, m.validate_only, &err);
        res[i].error_code = sl__admin_error(rc);
        if (rc == SL_ENOENT) {
            res[i].error_message = sl__admin_msg(req, "The topic '%s' does not exist.", t->name);
        } else if (rc != 0) {
            res[i].error_message = sl__admin_msg(req, "%s", err.msg[0] ? err.msg : sl_strerror(rc));
        }
    }
    struct sl_cp_resp resp = {.results = res, .nresults = m.ntopics};
    sl_msg_create_partitions_resp_encode(&req->resp, req->api_version, &resp);
    return req->resp.err ? req->resp.err : SL_API_DONE;
}
