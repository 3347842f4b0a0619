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
#include <stdlib.h>
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
    /* One pass over the assignments: partition indexes must be exactly 0..n-1. */
    uint8_t *seen = t->nassignments ? sl__admin_alloc(req, (size_t)t->nassignments, 1) : NULL;
    if (t->nassignments && !seen) {
        *code = KERR_UNKNOWN_SERVER_ERROR;
        *msg = "out of memory";
        return -1;
    }
    for (int32_t i = 0; i < t->nassignments; i++) {
        int32_t idx = t->assignments[i].partition_index;
        if (idx < 0 || idx >= t->nassignments || seen[idx]++) {
            *code = KERR_INVALID_REPLICA_ASSIGNMENT;
            *msg = sl__admin_msg(req,
                                 "Partitions should be a consecutive 0-based integer "
                                 "sequence; partition %d is out of range or repeated.",
                                 idx);
            return -1;
        }
    }
    for (int32_t i = 0; i < t->nassignments; i++) {
        const struct sl_ct_assignment *as = &t->assignments[i];
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

/* qsort has no context argument; requests are handled one at a time on the loop thread. */
static const struct sl_ct_topic *sort_topics;

static int by_name_then_index(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    int c = strcmp(sort_topics[x].name, sort_topics[y].name);
    return c ? c : (x > y) - (x < y);
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
    /* Kafka answers a name given twice once, with INVALID_REQUEST, and creates nothing.
     * Names are compared after sorting (a quadratic scan would let one request stall the
     * loop): dup[i] = 1 when topic i's name occurs again, first[i] = 0 for later copies. */
    int32_t *order = sl__admin_alloc(req, m.ntopics ? m.ntopics : 1, sizeof(int32_t));
    uint8_t *dup = sl__admin_alloc(req, m.ntopics ? m.ntopics : 1, 1);
    uint8_t *later = sl__admin_alloc(req, m.ntopics ? m.ntopics : 1, 1);
    if (!order || !dup || !later) {
        return -ENOMEM;
    }
    for (int32_t i = 0; i < m.ntopics; i++) {
        order[i] = i;
    }
    sort_topics = m.topics;
    qsort(order, (size_t)m.ntopics, sizeof(*order), by_name_then_index);
    for (int32_t k = 1; k < m.ntopics; k++) {
        if (strcmp(m.topics[order[k]].name, m.topics[order[k - 1]].name) == 0) {
            dup[order[k]] = dup[order[k - 1]] = 1;
            later[order[k]] = 1; /* order[] is by index within a name */
        }
    }
    for (int32_t i = 0; i < m.ntopics; i++) {
        if (later[i]) {
            continue;
        }
        struct sl_ct_result *out = &res[resp.ntopics++];
        if (dup[i]) {
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
