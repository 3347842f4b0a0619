/*
 * alter_configs.c - AlterConfigs (33) v0-1: replace a topic's overrides (keys not given go
 * back to their defaults), and the per-resource logic IncrementalAlterConfigs shares (SET
 * and DELETE of single keys; APPEND and SUBTRACT are for list-typed keys, of which the topic
 * keys we keep have none). Broker resources are refused: sluice reads its broker settings at
 * start. Changes reach every partition at once and persist in topic-configs.
 *
 * Threads: the broker loop thread. Blocks on the fsyncs of topic-configs.
 */
#include <string.h>

#include "../api.h"
#include "../proto/msg_admin.h"
#include "../topics.h"
#include "admin_int.h"
#include "handlers.h"

/* Turn the request's configs into registry changes, or fill out's error. */
static struct sl_topic_override *changes(struct sl_request *req, const struct sl_ac_resource *res,
                                         int incremental, struct sl_ac_result *out)
{
    struct sl_topic_override *o = sl__admin_alloc(req, res->nconfigs, sizeof(*o));
    if (!o) {
        out->error_code = KERR_UNKNOWN_SERVER_ERROR;
        return NULL;
    }
    for (int32_t i = 0; i < res->nconfigs; i++) {
        const struct sl_ac_config *c = &res->configs[i];
        for (int32_t j = 0; incremental && j < i; j++) {
            if (strcmp(res->configs[j].name, c->name) == 0) {
                out->error_code = KERR_INVALID_REQUEST;
                out->error_message = sl__admin_msg(req, "Error due to duplicate config keys");
                return NULL;
            }
        }
        o[i].key = (char *)c->name;
        switch (c->op) {
        case SL_CONFIG_OP_SET:
            if (!c->value) {
                out->error_code = KERR_INVALID_REQUEST;
                out->error_message =
                    sl__admin_msg(req, "Null value not supported for : %s", c->name);
                return NULL;
            }
            o[i].value = (char *)c->value;
            break;
        case SL_CONFIG_OP_DELETE:
            o[i].value = NULL;
            break;
        case SL_CONFIG_OP_APPEND:
        case SL_CONFIG_OP_SUBTRACT:
            out->error_code = KERR_INVALID_REQUEST;
            out->error_message =
                sl__admin_msg(req, "Config value %s is not allowed for config key: %s",
                              c->op == SL_CONFIG_OP_APPEND ? "append" : "subtract", c->name);
            return NULL;
        default:
            out->error_code = KERR_INVALID_REQUEST;
            out->error_message =
                sl__admin_msg(req, "Unknown config operation %d for %s", c->op, c->name);
            return NULL;
        }
    }
    return o;
}

void sl__admin_alter(struct sl_request *req, const struct sl_ac_resource *res, int incremental,
                     int validate_only, struct sl_ac_result *out)
{
    out->resource_type = res->resource_type;
    out->resource_name = res->resource_name;
    if (res->resource_type == SL_RESOURCE_BROKER) {
        out->error_code = KERR_INVALID_REQUEST;
        out->error_message = "Dynamic broker configuration is not supported: sluice reads "
                             "broker settings at start; change them in its configuration "
                             "file and restart.";
        return;
    }
    if (res->resource_type != SL_RESOURCE_TOPIC) {
        out->error_code = KERR_INVALID_REQUEST;
        out->error_message = sl__admin_msg(req, "Unsupported resource type %d", res->resource_type);
        return;
    }
    struct sl_topic_override *o = changes(req, res, incremental, out);
    if (!o) {
        return;
    }
    struct sl_err err = {0};
    int rc = sl_topics_set_config(req->broker, res->resource_name, o, res->nconfigs, incremental,
                                  validate_only, &err);
    out->error_code = sl__admin_error(rc);
    if (rc != 0) {
        out->error_message = sl__admin_msg(req, "%s", err.msg[0] ? err.msg : sl_strerror(rc));
    }
}

int sl_handle_alter_configs(struct sl_request *req)
{
    struct sl_ac_req m;
    int rc = sl_msg_alter_configs_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc != 0) {
        return rc;
    }
    struct sl_ac_result *res = sl__admin_alloc(req, m.nresources, sizeof(*res));
    if (!res) {
        return -ENOMEM;
    }
    for (int32_t i = 0; i < m.nresources; i++) {
        sl__admin_alter(req, &m.resources[i], 0, m.validate_only, &res[i]);
    }
    struct sl_ac_resp resp = {.responses = res, .nresponses = m.nresources};
    sl_msg_alter_configs_resp_encode(&req->resp, req->api_version, &resp);
    return req->resp.err ? req->resp.err : SL_API_DONE;
}
