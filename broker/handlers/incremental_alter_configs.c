/*
 * incremental_alter_configs.c - IncrementalAlterConfigs (44) v0: SET or DELETE single topic
 * keys, leaving the other overrides as they are (the per-resource logic is shared with
 * AlterConfigs, in alter_configs.c).
 *
 * Threads: the broker loop thread. Blocks on the fsyncs of topic-configs.
 */
#include "../api.h"
#include "../proto/msg_admin.h"
#include "admin_int.h"
#include "handlers.h"

int sl_handle_incremental_alter_configs(struct sl_request *req)
{
    struct sl_ac_req m;
    int rc =
        sl_msg_incremental_alter_configs_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc != 0) {
        return rc;
    }
    struct sl_ac_result *res = sl__admin_alloc(req, m.nresources, sizeof(*res));
    if (!res) {
        return -ENOMEM;
    }
    for (int32_t i = 0; i < m.nresources; i++) {
        sl__admin_alter(req, &m.resources[i], 1, m.validate_only, &res[i]);
    }
    struct sl_ac_resp resp = {.responses = res, .nresponses = m.nresources};
    sl_msg_alter_configs_resp_encode(&req->resp, req->api_version, &resp);
    return req->resp.err ? req->resp.err : SL_API_DONE;
}
