/*
 * find_coordinator.c - FindCoordinator (10) v0-2: this single broker coordinates every
 * group. Transaction coordinators (key type 1) do not exist here: COORDINATOR_NOT_AVAILABLE.
 * Threads: the broker loop thread.
 */
#include "../proto/msg_group.h"
#include "group_int.h"
#include "handlers.h"

int sl_handle_find_coordinator(struct sl_request *req)
{
    struct sl_find_coord_req m;
    int rc = sl_msg_find_coord_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc) {
        return rc;
    }
    struct sl_broker *b = req->broker;
    struct sl_find_coord_resp r = {0};
    r.error_message = sl__gh_kstr(NULL);
    r.host = sl__gh_kstr("");
    r.node_id = -1;
    r.port = -1;
    if (m.key_type != 0) {
        r.error_code = KERR_COORDINATOR_NOT_AVAILABLE;
        r.error_message = sl__gh_kstr("transactions are not supported by this broker");
    } else if (!b->groups) {
        r.error_code = KERR_COORDINATOR_NOT_AVAILABLE;
    } else {
        r.node_id = b->cfg.broker_id;
        r.host = sl__gh_kstr(b->cfg.advertised_host);
        r.port = b->cfg.advertised_port;
        r.error_message = sl__gh_kstr("NONE");
    }
    sl_msg_find_coord_resp_encode(&req->resp, req->api_version, &r);
    return SL_API_DONE;
}
