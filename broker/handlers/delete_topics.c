/*
 * delete_topics.c - DeleteTopics (20) v0-3: every partition directory of each named topic is
 * removed from disk and its overrides dropped before we answer (Kafka deletes
 * asynchronously; on a single node there is no reason to). Unknown names get
 * UNKNOWN_TOPIC_OR_PARTITION.
 *
 * Threads: the broker loop thread. Blocks while directories are removed.
 */
#include "../api.h"
#include "../proto/msg_admin.h"
#include "../topics.h"
#include "admin_int.h"
#include "data_int.h"
#include "handlers.h"
#include "../../common/sl_log.h"

int sl_handle_delete_topics(struct sl_request *req)
{
    struct sl_dt_req m;
    int rc = sl_msg_delete_topics_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc != 0) {
        return rc;
    }
    struct sl_dt_result *res = sl__admin_alloc(req, m.ntopic_names, sizeof(*res));
    if (!res) {
        return -ENOMEM;
    }
    for (int32_t i = 0; i < m.ntopic_names; i++) {
        struct sl_err err = {0};
        res[i].name = m.topic_names[i];
        rc = sl_topics_delete(req->broker, m.topic_names[i], &err);
        res[i].error_code = sl__admin_error(rc);
        if (rc == 0) {
            sl__producers_forget_topic(req->broker->producers, m.topic_names[i]);
        }
        if (rc != 0 && rc != SL_ENOENT) {
            sl_clog("broker:admin", SL_LOG_ERROR, "deleting topic %s: %s", m.topic_names[i],
                    err.msg);
        }
    }
    struct sl_dt_resp resp = {.responses = res, .nresponses = m.ntopic_names};
    sl_msg_delete_topics_resp_encode(&req->resp, req->api_version, &resp);
    return req->resp.err ? req->resp.err : SL_API_DONE;
}
