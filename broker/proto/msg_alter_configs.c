/*
 * msg_alter_configs.c - AlterConfigs (33) v0-1, checked against AlterConfigsRequest.json and
 * AlterConfigsResponse.json (v1 is v0 on the wire), and the resource list and response that
 * IncrementalAlterConfigs (msg_incremental_alter_configs.c) shares with it.
 * Pure functions; the caller's thread owns everything.
 */
#include "../../common/sl_err.h"
#include "msg_admin.h"
#include "msg_admin_int.h"

int sl__msg_alter_configs_req_decode(struct sl_kp_reader *r, struct sl_kp_arena *a,
                                     struct sl_ac_req *out, int incremental)
{
    *out = (struct sl_ac_req){0};
    out->nresources = sl_kp_read_array(r, 7, 0); /* type + name + empty configs */
    out->resources = sl__msg_alloc(r, a, out->nresources, sizeof(*out->resources));
    for (int32_t i = 0; out->resources && i < out->nresources && !r->err; i++) {
        struct sl_ac_resource *res = &out->resources[i];
        res->resource_type = sl_kp_read_i8(r);
        res->resource_name = sl__msg_str(r, a, 0);
        res->nconfigs = sl_kp_read_array(r, incremental ? 5 : 4, 0);
        res->configs = sl__msg_alloc(r, a, res->nconfigs, sizeof(*res->configs));
        for (int32_t j = 0; res->configs && j < res->nconfigs && !r->err; j++) {
            struct sl_ac_config *c = &res->configs[j];
            c->name = sl__msg_str(r, a, 0);
            c->op = incremental ? sl_kp_read_i8(r) : SL_CONFIG_OP_SET;
            c->value = sl__msg_str(r, a, 1);
        }
    }
    out->validate_only = sl_kp_read_bool(r);
    return sl__msg_finish(r);
}

void sl__msg_alter_configs_req_encode(struct sl_kp_writer *w, const struct sl_ac_req *m,
                                      int incremental)
{
    sl_kp_write_i32(w, m->nresources);
    for (int32_t i = 0; i < m->nresources; i++) {
        const struct sl_ac_resource *res = &m->resources[i];
        sl_kp_write_i8(w, res->resource_type);
        sl_kp_write_str(w, res->resource_name);
        sl_kp_write_i32(w, res->nconfigs);
        for (int32_t j = 0; j < res->nconfigs; j++) {
            sl_kp_write_str(w, res->configs[j].name);
            if (incremental) {
                sl_kp_write_i8(w, res->configs[j].op);
            }
            sl_kp_write_str(w, res->configs[j].value);
        }
    }
    sl_kp_write_bool(w, m->validate_only);
}

int sl_msg_alter_configs_req_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                    struct sl_ac_req *out)
{
    return sl__msg_alter_configs_req_decode(r, a, out, 0);
}

void sl_msg_alter_configs_req_encode(struct sl_kp_writer *w, int16_t v, const struct sl_ac_req *m)
{
    sl__msg_alter_configs_req_encode(w, m, 0);
}

int sl_msg_alter_configs_resp_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                     struct sl_ac_resp *out)
{
    *out = (struct sl_ac_resp){0};
    out->throttle_time_ms = sl_kp_read_i32(r);
    out->nresponses = sl_kp_read_array(r, 7, 0);
    out->responses = sl__msg_alloc(r, a, out->nresponses, sizeof(*out->responses));
    for (int32_t i = 0; out->responses && i < out->nresponses && !r->err; i++) {
        struct sl_ac_result *res = &out->responses[i];
        res->error_code = sl_kp_read_i16(r);
        res->error_message = sl__msg_str(r, a, 1);
        res->resource_type = sl_kp_read_i8(r);
        res->resource_name = sl__msg_str(r, a, 0);
    }
    return sl__msg_finish(r);
}

void sl_msg_alter_configs_resp_encode(struct sl_kp_writer *w, int16_t v, const struct sl_ac_resp *m)
{
    sl_kp_write_i32(w, m->throttle_time_ms);
    sl_kp_write_i32(w, m->nresponses);
    for (int32_t i = 0; i < m->nresponses; i++) {
        sl_kp_write_i16(w, m->responses[i].error_code);
        sl_kp_write_str(w, m->responses[i].error_message);
        sl_kp_write_i8(w, m->responses[i].resource_type);
        sl_kp_write_str(w, m->responses[i].resource_name);
    }
}
