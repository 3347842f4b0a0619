/*
 * msg_describe_configs.c - DescribeConfigs (32) v0-2, checked against
 * DescribeConfigsRequest.json and DescribeConfigsResponse.json: include_synonyms from v1;
 * per config is_default only in v0, config_source and synonyms from v1 (v2 is v1 on the
 * wire). Pure functions; the caller's thread owns everything.
 */
#include "../../common/sl_err.h"
#include "msg_admin.h"
#include "msg_admin_int.h"

int sl_msg_describe_configs_req_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                       struct sl_dc_req *out)
{
    *out = (struct sl_dc_req){0};
    out->nresources = sl_kp_read_array(r, 7, 0); /* type + name + null keys */
    out->resources = sl__msg_alloc(r, a, out->nresources, sizeof(*out->resources));
    for (int32_t i = 0; out->resources && i < out->nresources && !r->err; i++) {
        struct sl_dc_resource *res = &out->resources[i];
        res->resource_type = sl_kp_read_i8(r);
        res->resource_name = sl__msg_str(r, a, 0);
        res->keys = sl__msg_str_array(r, a, &res->nkeys, 1);
        if (!res->keys) {
            res->nkeys = 0;
        }
    }
    out->include_synonyms = v >= 1 ? sl_kp_read_bool(r) : 0;
    return sl__msg_finish(r);
}

void sl_msg_describe_configs_req_encode(struct sl_kp_writer *w, int16_t v,
                                        const struct sl_dc_req *m)
{
    sl_kp_write_i32(w, m->nresources);
    for (int32_t i = 0; i < m->nresources; i++) {
        const struct sl_dc_resource *res = &m->resources[i];
        sl_kp_write_i8(w, res->resource_type);
        sl_kp_write_str(w, res->resource_name);
        sl__msg_write_str_array(w, res->keys, res->nkeys);
    }
    if (v >= 1) {
        sl_kp_write_bool(w, m->include_synonyms);
    }
}

static void read_config(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                        struct sl_dc_config *c)
{
    c->name = sl__msg_str(r, a, 0);
    c->value = sl__msg_str(r, a, 1);
    c->read_only = sl_kp_read_bool(r);
    if (v == 0) {
        c->is_default = sl_kp_read_bool(r);
        c->config_source = -1;
    } else {
        c->config_source = sl_kp_read_i8(r);
    }
    c->is_sensitive = sl_kp_read_bool(r);
    if (v >= 1) {
        c->nsynonyms = sl_kp_read_array(r, 5, 0);
        c->synonyms = sl__msg_alloc(r, a, c->nsynonyms, sizeof(*c->synonyms));
        for (int32_t i = 0; c->synonyms && i < c->nsynonyms && !r->err; i++) {
            c->synonyms[i].name = sl__msg_str(r, a, 0);
            c->synonyms[i].value = sl__msg_str(r, a, 1);
            c->synonyms[i].source = sl_kp_read_i8(r);
        }
    }
}

int sl_msg_describe_configs_resp_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                        struct sl_dc_resp *out)
{
    *out = (struct sl_dc_resp){0};
    out->throttle_time_ms = sl_kp_read_i32(r);
    out->nresults = sl_kp_read_array(r, 11, 0);
    out->results = sl__msg_alloc(r, a, out->nresults, sizeof(*out->results));
    for (int32_t i = 0; out->results && i < out->nresults && !r->err; i++) {
        struct sl_dc_result *res = &out->results[i];
        res->error_code = sl_kp_read_i16(r);
        res->error_message = sl__msg_str(r, a, 1);
        res->resource_type = sl_kp_read_i8(r);
        res->resource_name = sl__msg_str(r, a, 0);
        res->nconfigs = sl_kp_read_array(r, 7, 0);
        res->configs = sl__msg_alloc(r, a, res->nconfigs, sizeof(*res->configs));
        for (int32_t j = 0; res->configs && j < res->nconfigs && !r->err; j++) {
            read_config(r, v, a, &res->configs[j]);
        }
    }
    return sl__msg_finish(r);
}

static void write_config(struct sl_kp_writer *w, int16_t v, const struct sl_dc_config *c)
{
    sl_kp_write_str(w, c->name);
    sl_kp_write_str(w, c->value);
    sl_kp_write_bool(w, c->read_only);
    if (v == 0) {
        sl_kp_write_bool(w, c->is_default);
    } else {
        sl_kp_write_i8(w, c->config_source);
    }
    sl_kp_write_bool(w, c->is_sensitive);
    if (v >= 1) {
        sl_kp_write_i32(w, c->nsynonyms);
        for (int32_t i = 0; i < c->nsynonyms; i++) {
            sl_kp_write_str(w, c->synonyms[i].name);
            sl_kp_write_str(w, c->synonyms[i].value);
            sl_kp_write_i8(w, c->synonyms[i].source);
        }
    }
}

void sl_msg_describe_configs_resp_encode(struct sl_kp_writer *w, int16_t v,
                                         const struct sl_dc_resp *m)
{
    sl_kp_write_i32(w, m->throttle_time_ms);
    sl_kp_write_i32(w, m->nresults);
    for (int32_t i = 0; i < m->nresults; i++) {
        const struct sl_dc_result *res = &m->results[i];
        sl_kp_write_i16(w, res->error_code);
        sl_kp_write_str(w, res->error_message);
        sl_kp_write_i8(w, res->resource_type);
        sl_kp_write_str(w, res->resource_name);
        sl_kp_write_i32(w, res->nconfigs);
        for (int32_t j = 0; j < res->nconfigs; j++) {
            write_config(w, v, &res->configs[j]);
        }
    }
}
