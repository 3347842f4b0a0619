/*
 * create_topics.c - CreateTopics (19) v0-4 on a single node: partitions -1 means
 * num.partitions, replication factor -1 means default.replication.factor, and a factor above
 * 1 is Kafka's INVALID_REPLICATION_FACTOR ("Replication factor: 3 larger than available
 * brokers: 1."). A manual assignment is accepted when every replica is this broker.
 * validate_only (v1+) checks everything and creates nothing. The timeout is moot: creation
 * is done when we answer. Messages are Kafka's, so tools print what users know.
 *
 * Threads: the broker loop thread. Blocks while partition directories are created.
 */
#include <string.h>

#include "../api.h"
#include "../proto/msg_admin.h"
#include "../topics.h"
#include "admin_int.h"
#include "handlers.h"

/* Partition count from a manual assignment, or -1 with *code and *msg set. */
static int32_t from_assignments(struct sl_request *req, const struct sl_ct_topic *t, int16_t *code,
                                const char **msg)
{
    int32_t self = req->broker->cfg.broker_id;
    if (t->num_partitions != -1 || t->replication_factor != -1) {
        *code = KERR_INVALID_REQUEST;
        *msg = "Both numPartitions or replicationFactor and replicasAssignments were set. "
               "Both cannot be used at the same time.";
        return -1;
    }
    for (int32_t i = 0; i < t->nassignments; i++) {
        const struct sl_ct_assignment *as = &t->assignments[i];
        int seen = 0;
        for (int32_t j = 0; j < t->nassignments; j++) {
            seen += t->assignments[j].partition_index == i;
        }
        if (seen != 1) {
            *code = KERR_INVALID_REPLICA_ASSIGNMENT;
            *msg = sl__admin_msg(req,
                                 "Partitions should be a consecutive 0-based integer "
                                 "sequence; partition %d is missing or repeated.",
                                 i);
            return -1;
        }
        if (as->nbroker_ids < 1) {
            *code = KERR_INVALID_REPLICA_ASSIGNMENT;
            *msg = sl__admin_msg(req, "Partition %d has no replicas.", as->partition_index);
            return -1;
        }
        if (as->nbroker_ids > 1) {
            *code = KERR_INVALID_REPLICATION_FACTOR;
            *msg = sl__admin_msg(req, "Replication factor: %d larger than available brokers: 1.",
                                 as->nbroker_ids);
            return -1;
        }
        if (as->broker_ids[0] != self) {
            *code = KERR_INVALID_REPLICA_ASSIGNMENT;
            *msg = sl__admin_msg(req,
                                 "Unknown broker %d in the replica assignment of partition "
                                 "%d; the only broker is %d.",
                                 as->broker_ids[0], as->partition_index, self);
            return -1;
        }
    }
    return t->nassignments;
}

static void create_one(struct sl_request *req, const struct sl_ct_req *m,
                       const struct sl_ct_topic *t, struct sl_ct_result *out)
{
    struct sl_broker *b = req->broker;
    out->name = t->name;
    int32_t partitions = t->num_partitions;
    int rf = t->replication_factor;
    if (t->nassignments > 0) {
        partitions = from_assignments(req, t, &out->error_code, &out->error_message);
        if (partitions < 0) {
            return;
        }
        rf = 1;
    }
    if (partitions == -1) {
        partitions = b->cfg.num_partitions;
    }
    if (rf == -1) {
        rf = b->cfg.default_replication_factor;
    }
    if (partitions < 1) {
        out->error_code = KERR_INVALID_PARTITIONS;
        out->error_message = "Number of partitions must be larger than 0.";
        return;
    }
    if (rf < 1) {
        out->error_code = KERR_INVALID_REPLICATION_FACTOR;
        out->error_message = "Replication factor must be larger than 0.";
        return;
    }
    if (rf > 1) {
        out->error_code = KERR_INVALID_REPLICATION_FACTOR;
        out->error_message =
            sl__admin_msg(req, "Replication factor: %d larger than available brokers: 1.", rf);
        return;
    }
    struct sl_topic_override *o = sl__admin_alloc(req, t->nconfigs, sizeof(*o));
    if (!o) {
        out->error_code = KERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    for (int32_t i = 0; i < t->nconfigs; i++) {
        if (!t->configs[i].value) {
            out->error_code = KERR_INVALID_REQUEST;
            out->error_message = sl__admin_msg(
                req, "Null value not supported for topic configs: %s", t->configs[i].name);
            return;
        }
        o[i].key = (char *)t->configs[i].name;
        o[i].value = (char *)t->configs[i].value;
    }
    struct sl_err err = {0};
    int rc = sl_topics_add(b, t->name, partitions, o, t->nconfigs, m->validate_only, &err);
    out->error_code = sl__admin_error(rc);
    if (rc != 0) {
        out->error_message = sl__admin_msg(req, "%s", err.msg[0] ? err.msg : sl_strerror(rc));
    }
}

int sl_handle_create_topics(struct sl_request *req)
{
    struct sl_ct_req m;
    int rc = sl_msg_create_topics_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc != 0) {
        return rc;
    }
    struct sl_ct_result *res = sl__admin_alloc(req, m.ntopics, sizeof(*res));
    if (!res) {
        return -ENOMEM;
    }
    struct sl_ct_resp resp = {.topics = res};
    for (int32_t i = 0; i < m.ntopics; i++) {
        /* Kafka answers a name given twice once, with INVALID_REQUEST, and creates nothing. */
        int first = -1, dup = 0;
        for (int32_t j = 0; j < m.ntopics; j++) {
            if (strcmp(m.topics[j].name, m.topics[i].name) == 0) {
                first = first < 0 ? j : first;
                dup += j != i;
            }
        }
        if (first != i) {
            continue;
        }
        struct sl_ct_result *out = &res[resp.ntopics++];
        if (dup) {
            out->name = m.topics[i].name;
            out->error_code = KERR_INVALID_REQUEST;
            out->error_message = sl__admin_msg(
                req, "Create topics request contains multiple entries for the topic %s.",
                m.topics[i].name);
            continue;
        }
        create_one(req, &m, &m.topics[i], out);
    }
    sl_msg_create_topics_resp_encode(&req->resp, req->api_version, &resp);
    return req->resp.err ? req->resp.err : SL_API_DONE;
}
