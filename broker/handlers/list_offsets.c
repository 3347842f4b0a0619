/*
 * list_offsets.c - ListOffsets (2) v1-5: earliest (-2), latest (-1) and by-timestamp offsets
 * of partitions, with KIP-320 leader-epoch fencing from v4. Also the data path's leader-epoch
 * helpers (data_int.h), shared with Fetch and OffsetForLeaderEpoch.
 *
 * Threads: the broker loop thread. A timestamp lookup may block on reads of the log.
 */
#include <string.h>

#include "../../common/sl_log.h"
#include "../../store/log.h"
#include "../api.h"
#include "../proto/msg_data.h"
#include "data_int.h"
#include "handlers.h"

int32_t sl__data_leader_epoch(struct sl_log *log)
{
    int32_t e = sl_log_epoch_latest(log);
    return e < 0 ? 0 : e;
}

int16_t sl__data_check_epoch(struct sl_log *log, int32_t current_leader_epoch)
{
    if (current_leader_epoch < 0) {
        return KERR_NONE;
    }
    int32_t ours = sl__data_leader_epoch(log);
    if (current_leader_epoch > ours) {
        return KERR_UNKNOWN_LEADER_EPOCH;
    }
    if (current_leader_epoch < ours) {
        return KERR_FENCED_LEADER_EPOCH;
    }
    return KERR_NONE;
}

static void list_partition(struct sl_request *req, const struct sl_list_offsets_req *m,
                           const char *topic, const struct sl_list_offsets_req_part *pp,
                           struct sl_list_offsets_resp_part *rp)
{
    rp->index = pp->index;
    rp->timestamp = -1;
    rp->offset = -1;
    rp->leader_epoch = -1;
    struct sl_log *log = topic ? sl_broker_log(req->broker, topic, pp->index) : NULL;
    if (!log) {
        rp->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    rp->error_code = sl__data_check_epoch(log, pp->current_leader_epoch);
    if (rp->error_code != KERR_NONE) {
        return;
    }
    int32_t epoch = sl__data_leader_epoch(log);
    if (pp->timestamp == SL_TS_EARLIEST) {
        rp->offset = sl_log_start_offset(log);
    } else if (pp->timestamp == SL_TS_LATEST) {
        /* Consumers see up to the high watermark; read_committed sees up to the last stable
         * offset, which without transactions is the high watermark too. */
        rp->offset = sl_log_high_watermark(log);
    } else if (pp->timestamp < 0) {
        rp->error_code = KERR_INVALID_REQUEST; /* -3 (max timestamp) needs v7 */
        return;
    } else {
        struct sl_err err;
        int64_t off, ts;
        int rc = sl_log_offset_for_time(log, pp->timestamp, &off, &ts, &err);
        if (rc) {
            sl_clog("broker:list_offsets", SL_LOG_WARN, "%s-%d: offset for time: %s", topic,
                    pp->index, err.msg);
            rp->error_code = sl_api_error_from_rc(rc);
            return;
        }
        if (off >= sl_log_high_watermark(log)) {
            off = -1; /* not visible to consumers yet */
            ts = -1;
        }
        rp->offset = off;
        rp->timestamp = off < 0 ? -1 : ts;
        if (off < 0) {
            epoch = -1;
        }
    }
    (void)m;
    rp->leader_epoch = epoch;
}

/* ListOffsets v1-5 (one offset per partition). A malformed request closes the connection. */
int sl_handle_list_offsets(struct sl_request *req)
{
    struct sl_list_offsets_req m;
    int rc = sl_msg_list_offsets_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc) {
        return rc;
    }
    struct sl_list_offsets_resp resp = {0};
    resp.ntopics = m.ntopics;
    resp.topics = sl__data_calloc(req, m.ntopics, sizeof(*resp.topics));
    if (!resp.topics) {
        return -ENOMEM;
    }
    for (int32_t i = 0; i < m.ntopics; i++) {
        const struct sl_list_offsets_req_topic *t = &m.topics[i];
        struct sl_list_offsets_resp_topic *rt = &resp.topics[i];
        rt->name = t->name;
        rt->npartitions = t->npartitions;
        rt->partitions = sl__data_calloc(req, t->npartitions, sizeof(*rt->partitions));
        if (!rt->partitions) {
            return -ENOMEM;
        }
        char *topic = sl__data_topic(req, t->name);
        for (int32_t j = 0; j < t->npartitions; j++) {
            list_partition(req, &m, topic, &t->partitions[j], &rt->partitions[j]);
        }
    }
    sl_msg_list_offsets_resp_encode(&req->resp, req->api_version, &resp);
    return SL_API_DONE;
}
