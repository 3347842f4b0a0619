/*
 * describe_configs.c - DescribeConfigs (32) v0-2 for topics (every topic-level key with its
 * effective value; source DYNAMIC_TOPIC_CONFIG for an override, STATIC_BROKER_CONFIG where
 * the broker's config changed Kafka's default, DEFAULT_CONFIG otherwise) and for this broker
 * (its keys from sl_broker_config_each; all read-only, since sluice has no dynamic broker
 * configuration). Synonyms, when asked for, list the entry's own source.
 *
 * Threads: the broker loop thread; no I/O.
 */
#include <stdlib.h>
#include <string.h>

#include "../../store/config.h"
#include "../api.h"
#include "../proto/msg_admin.h"
#include "../topics.h"
#include "admin_int.h"
#include "handlers.h"

struct collect {
    struct sl_request *req;
    const struct sl_dc_resource *res;
    struct sl_dc_config *v;
    int32_t n, cap;
    int oom;
    /* Built-in defaults, to tell a broker-set value from Kafka's default. */
    struct kv {
        char key[64];
        char value[256];
    } defaults[128];
    int ndefaults;
    const struct sl_topic *tp; /* topics only */
    int include_synonyms;
    int broker;
};

static void default_cb(void *arg, const char *key, const char *value)
{
    struct collect *c = arg;
    if (c->ndefaults < (int)(sizeof(c->defaults) / sizeof(c->defaults[0]))) {
        snprintf(c->defaults[c->ndefaults].key, sizeof(c->defaults[0].key), "%s", key);
        snprintf(c->defaults[c->ndefaults].value, sizeof(c->defaults[0].value), "%s", value);
        c->ndefaults++;
    }
}

static int is_builtin_default(const struct collect *c, const char *key, const char *value)
{
    for (int i = 0; i < c->ndefaults; i++) {
        if (strcmp(c->defaults[i].key, key) == 0) {
            return strcmp(c->defaults[i].value, value) == 0;
        }
    }
    return 0;
}

static int wanted(const struct sl_dc_resource *res, const char *key)
{
    if (!res->keys) {
        return 1;
    }
    for (int32_t i = 0; i < res->nkeys; i++) {
        if (strcmp(res->keys[i], key) == 0) {
            return 1;
        }
    }
    return 0;
}

static int8_t topic_source(const struct collect *c, const char *key, const char *value)
{
    for (int i = 0; i < c->tp->noverrides; i++) {
        if (strcmp(c->tp->overrides[i].key, key) == 0) {
            return SL_CONFIG_SOURCE_TOPIC;
        }
    }
    return is_builtin_default(c, key, value) ? SL_CONFIG_SOURCE_DEFAULT
                                             : SL_CONFIG_SOURCE_STATIC_BROKER;
}

static void config_cb(void *arg, const char *key, const char *value)
{
    struct collect *c = arg;
    if (c->oom || !wanted(c->res, key)) {
        return;
    }
    if (c->n == c->cap) {
        int32_t cap = c->cap ? c->cap * 2 : 32;
        struct sl_dc_config *v = sl__admin_alloc(c->req, cap, sizeof(*v));
        if (!v) {
            c->oom = 1;
            return;
        }
        if (c->n) {
            memcpy(v, c->v, (size_t)c->n * sizeof(*v));
        }
        c->v = v;
        c->cap = cap;
    }
    struct sl_kp_str k = {key, (int32_t)strlen(key)}, val = {value, (int32_t)strlen(value)};
    struct sl_dc_config *e = &c->v[c->n];
    *e = (struct sl_dc_config){0};
    e->name = sl_kp_arena_strdup(&c->req->arena, k);
    e->value = sl_kp_arena_strdup(&c->req->arena, val);
    if (c->broker) {
        e->read_only = 1;
        e->config_source = is_builtin_default(c, key, value) ? SL_CONFIG_SOURCE_DEFAULT
                                                             : SL_CONFIG_SOURCE_STATIC_BROKER;
    } else {
        e->config_source = topic_source(c, key, value);
    }
    e->is_default = e->config_source == SL_CONFIG_SOURCE_DEFAULT;
    if (c->include_synonyms) {
        e->synonyms = sl__admin_alloc(c->req, 1, sizeof(*e->synonyms));
        if (e->synonyms) {
            e->synonyms[0] = (struct sl_dc_synonym){e->name, e->value, e->config_source};
            e->nsynonyms = 1;
        }
    }
    if (!e->name || !e->value || (c->include_synonyms && !e->synonyms)) {
        c->oom = 1;
        return;
    }
    c->n++;
}

static void describe_topic(struct sl_request *req, const struct sl_dc_req *m,
                           const struct sl_dc_resource *res, struct sl_dc_result *out)
{
    const struct sl_topic *tp = sl_topics_get(req->broker->topics, res->resource_name);
    if (!tp) {
        out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        out->error_message = sl__admin_msg(req, "Topic '%s' does not exist.", res->resource_name);
        return;
    }
    struct collect *c = calloc(1, sizeof(*c));
    if (!c) {
        out->error_code = KERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    *c =
        (struct collect){.req = req, .res = res, .tp = tp, .include_synonyms = m->include_synonyms};
    struct sl_log_config d;
    sl_log_config_default(&d);
    sl_log_config_each(&d, default_cb, c);
    sl_log_config_each(&tp->cfg, config_cb, c);
    out->configs = c->v;
    out->nconfigs = c->n;
    if (c->oom) {
        out->error_code = KERR_UNKNOWN_SERVER_ERROR;
        out->nconfigs = 0;
    }
    free(c);
}

static void describe_broker(struct sl_request *req, const struct sl_dc_req *m,
                            const struct sl_dc_resource *res, struct sl_dc_result *out)
{
    struct sl_broker *b = req->broker;
    char id[16];
    snprintf(id, sizeof(id), "%d", b->cfg.broker_id);
    if (res->resource_name[0] && strcmp(res->resource_name, id) != 0) {
        out->error_code = KERR_INVALID_REQUEST;
        out->error_message = sl__admin_msg(req,
                                           "Unexpected broker id, expected %s or empty "
                                           "string, but received %s",
                                           id, res->resource_name);
        return;
    }
    struct collect *c = calloc(1, sizeof(*c));
    struct sl_broker_config *d = calloc(1, sizeof(*d));
    if (!c || !d) {
        free(c);
        free(d);
        out->error_code = KERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    *c = (struct collect){
        .req = req, .res = res, .broker = 1, .include_synonyms = m->include_synonyms};
    sl_broker_config_default(d);
    sl_broker_config_each(d, default_cb, c);
    sl_broker_config_each(&b->cfg, config_cb, c);
    out->configs = c->v;
    out->nconfigs = c->n;
    if (c->oom) {
        out->error_code = KERR_UNKNOWN_SERVER_ERROR;
        out->nconfigs = 0;
    }
    free(c);
    free(d);
}

int sl_handle_describe_configs(struct sl_request *req)
{
    struct sl_dc_req m;
    int rc = sl_msg_describe_configs_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc != 0) {
        return rc;
    }
    struct sl_dc_result *res = sl__admin_alloc(req, m.nresources, sizeof(*res));
    if (!res) {
        return -ENOMEM;
    }
    for (int32_t i = 0; i < m.nresources; i++) {
        const struct sl_dc_resource *r = &m.resources[i];
        res[i].resource_type = r->resource_type;
        res[i].resource_name = r->resource_name;
        if (r->resource_type == SL_RESOURCE_TOPIC) {
            describe_topic(req, &m, r, &res[i]);
        } else if (r->resource_type == SL_RESOURCE_BROKER) {
            describe_broker(req, &m, r, &res[i]);
        } else {
            res[i].error_code = KERR_INVALID_REQUEST;
            res[i].error_message =
                sl__admin_msg(req, "Unsupported resource type %d", r->resource_type);
        }
    }
    struct sl_dc_resp resp = {.results = res, .nresults = m.nresources};
    sl_msg_describe_configs_resp_encode(&req->resp, req->api_version, &resp);
    return req->resp.err ? req->resp.err : SL_API_DONE;
}
