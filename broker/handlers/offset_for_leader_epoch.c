/*
 * offset_for_leader_epoch.c - OffsetForLeaderEpoch (23) v0-3: the end offset of a leader
 * epoch from the partition's epoch cache (consumers use it to detect log truncation after
 * an unclean leader change, KIP-320; followers to find where to truncate).
 *
 * Threads: the broker loop thread. Never blocks (the epoch cache is in memory).
 */
#include <string.h>

#include "../../store/log.h"
#include "../api.h"
#include "../proto/msg_data.h"
#include "data_int.h"
#include "handlers.h"

static void ofle_partition(struct sl_request *req, const char *topic,
                           const struct sl_ofle_req_part *pp, struct sl_ofle_resp_part *rp)
{
    rp->partition = pp->partition;
    rp->leader_epoch = -1;
    rp->end_offset = -1;
    struct sl_log *log = topic ? sl_broker_log(req->broker, topic, pp->partition) : NULL;
    if (!log) {
        rp->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    rp->error_code = sl__data_check_epoch(log, pp->current_leader_epoch);
    if (rp->error_code != KERR_NONE) {
        return;
    }
    sl_log_epoch_end_offset(log, pp->leader_epoch, &rp->leader_epoch, &rp->end_offset);
}

/* OffsetForLeaderEpoch v0-3. A malformed request closes the connection. */
int sl_handle_offset_for_leader_epoch(struct sl_request *req)
{
    struct sl_ofle_req m;
    int rc = sl_msg_ofle_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc) {
        return rc;
    }
    struct sl_ofle_resp resp = {0};
    resp.ntopics = m.ntopics;
    resp.topics = sl__data_calloc(req, m.ntopics, sizeof(*resp.topics));
    if (!resp.topics) {
        return -ENOMEM;
    }
    for (int32_t i = 0; i < m.ntopics; i++) {
        const struct sl_ofle_req_topic *t = &m.topics[i];
        struct sl_ofle_resp_topic *rt = &resp.topics[i];
        rt->name = t->name;
        rt->npartitions = t->npartitions;
        rt->partitions = sl__data_calloc(req, t->npartitions, sizeof(*rt->partitions));
        if (!rt->partitions) {
            return -ENOMEM;
        }
        char *topic = sl__data_topic(req, t->name);
        for (int32_t j = 0; j < t->npartitions; j++) {
            ofle_partition(req, topic, &t->partitions[j], &rt->partitions[j]);
        }
    }
    sl_msg_ofle_resp_encode(&req->resp, req->api_version, &resp);
    return SL_API_DONE;
}
