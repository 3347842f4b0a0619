/*
 * pipeline.c - from a configuration tree to a validated struct sl_agent: sections, component
 * types from the registry, each component's config bound through its plugin's map, channel
 * references resolved, cross-component limits checked. Also the `--check` printout.
 * Main thread only; nothing is started here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/interceptor.h"
#include "agent/registry.h"
#include "agent/selector.h"
#include "agent/sinkgroup.h"
#include "common/sl_macros.h"

#define KEY_MAX 256

#define AOFF(f) offsetof(struct sl_agent, f)
static const struct sl_conf_map agent_conf[] = {
    {"name", SL_CONF_STR, "a1", AOFF(name), 0, 0, 0, NULL, "the agent's name (used in logs)"},
    {"drainTimeoutMs", SL_CONF_INT, "5000", AOFF(drain_timeout_ms), 0, 3600000, 0, NULL,
     "at stop, how long sinks keep delivering what the channels still hold"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct sl_conf_map metrics_conf[] = {
    {"port", SL_CONF_INT, NULL, AOFF(metrics_port), 0, 65535, SL_CONF_REQUIRED, NULL,
     "HTTP port of /metrics, /metrics.json and /health"},
    {"bind", SL_CONF_STR, "0.0.0.0", AOFF(metrics_bind), 0, 0, 0, NULL,
     "IPv4 address to listen on"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL},
};

static const char *const sections[] = {"agent", "broker",  "sources",    "channels",
                                       "sinks", "metrics", "sinkgroups", NULL};

/* The broker: section, as `sluice broker -c` reads it: nested maps are dotted prefixes. */
static int broker_apply(struct sl_broker_config *cfg, const struct sl_yaml_doc *doc,
                        const struct sl_yaml_node *map, const char *prefix, struct sl_err *err)
{
    for (size_t i = 0; i < map->n; i++) {
        char key[KEY_MAX];
        struct sl_yaml_node at = {.line = map->key_lines[i], .col = map->key_cols[i]};
        int n = snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", map->keys[i]);
        if (n < 0 || (size_t)n >= sizeof(key)) {
            return sl_yaml_error(err, doc, &at, "broker: key too long");
        }
        const struct sl_yaml_node *v = map->items[i];
        if (v->kind == SL_YAML_MAP) {
            int rc = broker_apply(cfg, doc, v, key, err);
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        if (v->kind != SL_YAML_SCALAR) {
            return sl_yaml_error(err, doc, v,
                                 "broker: %s: a list is not a valid value (write lists "
                                 "comma-separated, as in Kafka)",
                                 key);
        }
        struct sl_err e;
        sl_err_clear(&e);
        if (sl_broker_config_set(cfg, key, v->value, &e) != 0) {
            return sl_yaml_error(err, doc, &at, "broker: %s", e.msg);
        }
    }
    return 0;
}

static const struct sl_yaml_node *section(const struct sl_yaml_doc *doc,
                                          const struct sl_yaml_node *root, const char *name,
                                          struct sl_err *err, int *rc)
{
    const struct sl_yaml_node *n = sl_yaml_get(root, name);
    *rc = 0;
    if (n && n->kind != SL_YAML_MAP) {
        *rc = sl_yaml_error(err, doc, n, "%s: expected a map of name: settings", name);
        return NULL;
    }
    return n;
}

/* The "type" of a component map: a scalar. */
static const char *comp_type(const struct sl_yaml_doc *doc, const struct sl_yaml_node *node,
                             const char *kind, const char *name, char reg, struct sl_err *err)
{
    char names[256];
    sl_registry_names(reg, names, sizeof(names));
    if (node->kind != SL_YAML_MAP) {
        sl_yaml_error(err, doc, node, "%s %s: expected a map of settings", kind, name);
        return NULL;
    }
    const struct sl_yaml_node *t = sl_yaml_get(node, "type");
    if (!t) {
        sl_yaml_error(err, doc, node, "%s %s: missing 'type' (one of: %s)", kind, name, names);
        return NULL;
    }
    if (t->kind != SL_YAML_SCALAR) {
        sl_yaml_error(err, doc, t, "%s %s: type must be a name (one of: %s)", kind, name, names);
        return NULL;
    }
    return t->value;
}

static int bad_type(const struct sl_yaml_doc *doc, const struct sl_yaml_node *node,
                    const char *kind, const char *name, const char *type, char reg,
                    struct sl_err *err)
{
    char names[256];
    sl_registry_names(reg, names, sizeof(names));
    return sl_yaml_error(err, doc, sl_yaml_get(node, "type"),
                         "%s %s: unknown type '%s' (sluice has: %s)", kind, name, type, names);
}

static int set_name(char *dst, char *comp, const char *kind, const char *type, const char *name,
                    const struct sl_yaml_doc *doc, const struct sl_yaml_node *at,
                    struct sl_err *err)
{
    if (strlen(name) >= SL_COMP_NAME_MAX || !name[0]) {
        return sl_yaml_error(err, doc, at, "%s name '%s' must be 1 to %d characters", kind, name,
                             SL_COMP_NAME_MAX - 1);
    }
    snprintf(dst, SL_COMP_NAME_MAX, "%s", name);
    snprintf(comp, SL_COMP_NAME_MAX * 2, "%s:%s:%s", kind, type, name);
    return 0;
}

/* An init error without a position gets the component's. */
static int at_node(int rc, const struct sl_yaml_doc *doc, const struct sl_yaml_node *node,
                   const char *kind, const char *name, struct sl_err *err)
{
    if (rc != 0 && err && err->line == 0) {
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        return sl_yaml_error(err, doc, node, "%s %s: %s", kind, name, msg);
    }
    return rc;
}

static struct sl_channel *find_channel(struct sl_agent *a, const char *name)
{
    for (size_t i = 0; i < a->nchannels; i++) {
        if (strcmp(a->channels[i].name, name) == 0) {
            return &a->channels[i];
        }
    }
    return NULL;
}

static void channel_names(const struct sl_agent *a, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < a->nchannels && n < len; i++) {
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", a->channels[i].name);
    }
    if (a->nchannels == 0) {
        snprintf(buf, len, "none are defined");
    }
}

static int dangling(struct sl_agent *a, const struct sl_yaml_doc *doc,
                    const struct sl_yaml_node *at, const char *kind, const char *name,
                    const char *ref, struct sl_err *err)
{
    char names[256];
    channel_names(a, names, sizeof(names));
    return sl_yaml_error(err, doc, at, "%s %s: channel '%s' does not exist (channels: %s)", kind,
                         name, ref, names);
}

static int build_channels(struct sl_agent *a, const struct sl_yaml_doc *doc,
                          const struct sl_yaml_node *sec, struct sl_err *err)
{
    a->channels = calloc(sec->n ? sec->n : 1, sizeof(*a->channels));
    if (!a->channels) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < sec->n; i++) {
        const struct sl_yaml_node *node = sec->items[i];
        const char *name = sec->keys[i];
        const char *type = comp_type(doc, node, "channel", name, 'c', err);
        if (!type) {
            return SL_ECONFIG;
        }
        const struct sl_channel_ops *ops = sl_registry_channel(type);
        if (!ops) {
            return bad_type(doc, node, "channel", name, type, 'c', err);
        }
        struct sl_channel *c = &a->channels[a->nchannels++];
        c->ops = ops;
        c->ctx = calloc(1, ops->ctx_size);
        if (!c->ctx) {
            return -ENOMEM;
        }
        struct sl_yaml_node at = {.line = sec->key_lines[i], .col = sec->key_cols[i]};
        int rc = set_name(c->name, c->comp, "channel", type, name, doc, &at, err);
        static const char *const skip[] = {"type", NULL};
        char what[200];
        snprintf(what, sizeof(what), "channel %s (%s)", name, type);
        if (rc == 0) {
            rc = sl_conf_bind(ops->conf, c->ctx, doc, node, skip, what, err);
        }
        if (rc == 0) {
            sl_err_clear(err);
            rc = at_node(ops->init(c, err), doc, node, "channel", name, err);
            c->inited = rc == 0;
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int build_sources(struct sl_agent *a, const struct sl_yaml_doc *doc,
                         const struct sl_yaml_node *sec, struct sl_err *err)
{
    a->sources = calloc(sec->n ? sec->n : 1, sizeof(*a->sources));
    if (!a->sources) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < sec->n; i++) {
        const struct sl_yaml_node *node = sec->items[i];
        const char *name = sec->keys[i];
        const char *type = comp_type(doc, node, "source", name, 's', err);
        if (!type) {
            return SL_ECONFIG;
        }
        const struct sl_source_ops *ops = sl_registry_source(type);
        if (!ops) {
            return bad_type(doc, node, "source", name, type, 's', err);
        }
        struct sl_source *s = &a->sources[a->nsources++];
        s->ops = ops;
        s->agent = a;
        s->ctx = calloc(1, ops->ctx_size);
        if (!s->ctx) {
            return -ENOMEM;
        }
        struct sl_yaml_node at = {.line = sec->key_lines[i], .col = sec->key_cols[i]};
        int rc = set_name(s->name, s->comp, "source", type, name, doc, &at, err);
        if (rc != 0) {
            return rc;
        }
        /* channels: [c1, c2] or "c1 c2" */
        const struct sl_yaml_node *ch = sl_yaml_get(node, "channels");
        if (!ch) {
            const struct sl_yaml_node *single = sl_yaml_get(node, "channel");
            if (single) {
                return sl_yaml_error(err, doc, single,
                                     "source %s: sources take 'channels' (a list), not "
                                     "'channel'",
                                     name);
            }
            return sl_yaml_error(err, doc, node,
                                 "source %s: no channels: add channels: [<channel>]", name);
        }
        struct sl_conf_list names = {0};
        static const struct sl_conf_map chmap[] = {
            {"channels", SL_CONF_LIST, NULL, 0, 0, 0, 0, NULL, NULL},
            {NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL},
        };
        struct sl_yaml_node wrap = {.kind = SL_YAML_MAP, .line = node->line, .col = node->col};
        char *k = "channels";
        struct sl_yaml_node *item = (struct sl_yaml_node *)ch;
        int kl = ch->line, kc = ch->col;
        wrap.keys = &k;
        wrap.items = &item;
        wrap.key_lines = &kl;
        wrap.key_cols = &kc;
        wrap.n = 1;
        char what[200];
        snprintf(what, sizeof(what), "source %s (%s)", name, type);
        rc = sl_conf_bind(chmap, &names, doc, &wrap, NULL, what, err);
        if (rc == 0 && names.n == 0) {
            rc = sl_yaml_error(err, doc, ch, "source %s: channels is empty: name at least one",
                               name);
        }
        if (rc == 0) {
            s->channels = calloc(names.n, sizeof(*s->channels));
            rc = s->channels ? 0 : -ENOMEM;
        }
        for (size_t j = 0; rc == 0 && j < names.n; j++) {
            const struct sl_yaml_node *ref =
                ch->kind == SL_YAML_SEQ && j < ch->n ? ch->items[j] : ch;
            struct sl_channel *c = find_channel(a, names.v[j]);
            if (!c) {
                rc = dangling(a, doc, ref, "source", name, names.v[j], err);
                break;
            }
            for (size_t q = 0; q < s->nchannels; q++) {
                if (s->channels[q] == c) {
                    rc = sl_yaml_error(err, doc, ref, "source %s: channel '%s' is listed twice",
                                       name, names.v[j]);
                }
            }
            if (rc == 0) {
                s->channels[s->nchannels++] = c;
            }
        }
        sl_conf_free(chmap, &names);
        if (rc != 0) {
            return rc;
        }
        char swhat[100];
        snprintf(swhat, sizeof(swhat), "source %s", name);
        const struct sl_yaml_node *icpt = sl_yaml_get(node, "interceptors");
        if (icpt) {
            rc = sl_icpt_chain_build(doc, icpt, swhat, s->comp, &s->icpt, err);
        }
        if (rc == 0) {
            rc = sl_selector_build(s, doc, sl_yaml_get(node, "selector"), swhat, err);
        }
        if (rc != 0) {
            return rc;
        }
        static const char *const skip[] = {"type", "channels", "selector", "interceptors", NULL};
        rc = sl_conf_bind(ops->conf, s->ctx, doc, node, skip, what, err);
        if (rc == 0) {
            sl_err_clear(err);
            rc = at_node(ops->init(s, err), doc, node, "source", name, err);
            s->inited = rc == 0;
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int build_sinks(struct sl_agent *a, const struct sl_yaml_doc *doc,
                       const struct sl_yaml_node *sec, struct sl_err *err)
{
    a->sinks = calloc(sec->n ? sec->n : 1, sizeof(*a->sinks));
    if (!a->sinks) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < sec->n; i++) {
        const struct sl_yaml_node *node = sec->items[i];
        const char *name = sec->keys[i];
        const char *type = comp_type(doc, node, "sink", name, 'k', err);
        if (!type) {
            return SL_ECONFIG;
        }
        const struct sl_sink_ops *ops = sl_registry_sink(type);
        if (!ops) {
            return bad_type(doc, node, "sink", name, type, 'k', err);
        }
        struct sl_sink *k = &a->sinks[a->nsinks++];
        k->ops = ops;
        pthread_mutex_init(&k->mu, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&k->cond, &ca);
        pthread_condattr_destroy(&ca);
        k->agent = a;
        k->ctx = calloc(1, ops->ctx_size);
        if (!k->ctx) {
            return -ENOMEM;
        }
        struct sl_yaml_node at = {.line = sec->key_lines[i], .col = sec->key_cols[i]};
        int rc = set_name(k->name, k->comp, "sink", type, name, doc, &at, err);
        if (rc != 0) {
            return rc;
        }
        const struct sl_yaml_node *ch = sl_yaml_get(node, "channel");
        if (!ch) {
            const struct sl_yaml_node *plural = sl_yaml_get(node, "channels");
            if (plural) {
                return sl_yaml_error(err, doc, plural,
                                     "sink %s: a sink drains exactly one channel: write "
                                     "channel: <name>, not channels",
                                     name);
            }
            return sl_yaml_error(err, doc, node, "sink %s: no channel: add channel: <channel>",
                                 name);
        }
        if (ch->kind != SL_YAML_SCALAR) {
            return sl_yaml_error(err, doc, ch,
                                 "sink %s: channel takes one channel name (a sink drains "
                                 "exactly one channel)",
                                 name);
        }
        k->channel = find_channel(a, ch->value);
        if (!k->channel) {
            return dangling(a, doc, ch, "sink", name, ch->value, err);
        }
        static const char *const skip[] = {"type", "channel", NULL};
        char what[200];
        snprintf(what, sizeof(what), "sink %s (%s)", name, type);
        rc = sl_conf_bind(ops->conf, k->ctx, doc, node, skip, what, err);
        if (rc == 0) {
            sl_err_clear(err);
            rc = at_node(ops->init(k, err), doc, node, "sink", name, err);
            k->inited = rc == 0;
        }
        if (rc == 0 && k->batch_size > k->channel->tx_capacity) {
            rc = sl_yaml_error(err, doc, node,
                               "sink %s: batchSize %zu exceeds channel %s's "
                               "transactionCapacity %zu",
                               name, k->batch_size, k->channel->name, k->channel->tx_capacity);
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int sl_agent_build(const struct sl_yaml_doc *doc, struct sl_agent **out, struct sl_err *err)
{
    *out = NULL;
    const struct sl_yaml_node *root = doc->root;
    if (!root) {
        struct sl_yaml_node top = {.line = 1, .col = 1};
        return sl_yaml_error(err, doc, &top,
                             "the configuration is empty: expected sources, channels, sinks");
    }
    if (root->kind != SL_YAML_MAP) {
        return sl_yaml_error(err, doc, root,
                             "expected a map with agent, broker, sources, channels, sinks");
    }
    for (size_t i = 0; i < root->n; i++) {
        int ok = 0;
        for (const char *const *s = sections; *s; s++) {
            ok |= strcmp(*s, root->keys[i]) == 0;
        }
        if (!ok) {
            struct sl_yaml_node at = {.line = root->key_lines[i], .col = root->key_cols[i]};
            return sl_yaml_error(err, doc, &at,
                                 "unknown section '%s' (sections: agent, broker, sources, "
                                 "channels, sinks, sinkgroups, metrics)",
                                 root->keys[i]);
        }
    }
    struct sl_agent *a = calloc(1, sizeof(*a));
    if (!a) {
        return -ENOMEM;
    }
    a->file = strdup(doc->file ? doc->file : "<config>");
    int rc = 0;
    const struct sl_yaml_node *agent = sl_yaml_get(root, "agent");
    if (agent) {
        rc = sl_conf_bind(agent_conf, a, doc, agent, NULL, "agent", err);
    } else {
        rc = sl_conf_defaults(agent_conf, a, err);
    }
    const struct sl_yaml_node *metrics = sl_yaml_get(root, "metrics");
    if (rc == 0 && metrics) {
        a->has_metrics = 1;
        rc = sl_conf_bind(metrics_conf, a, doc, metrics, NULL, "metrics", err);
    }
    const struct sl_yaml_node *srcs = NULL, *chans = NULL, *sinks = NULL, *broker = NULL;
    if (rc == 0) {
        chans = section(doc, root, "channels", err, &rc);
    }
    if (rc == 0) {
        srcs = section(doc, root, "sources", err, &rc);
    }
    if (rc == 0) {
        sinks = section(doc, root, "sinks", err, &rc);
    }
    if (rc == 0) {
        broker = section(doc, root, "broker", err, &rc);
    }
    if (rc == 0 && (!chans || chans->n == 0)) {
        rc = sl_yaml_error(err, doc, chans ? chans : root, "no channels are defined");
    }
    if (rc == 0 && (!srcs || srcs->n == 0)) {
        rc = sl_yaml_error(err, doc, srcs ? srcs : root, "no sources are defined");
    }
    if (rc == 0 && (!sinks || sinks->n == 0)) {
        rc = sl_yaml_error(err, doc, sinks ? sinks : root, "no sinks are defined");
    }
    if (rc == 0 && broker) {
        a->has_broker = 1;
        sl_broker_config_default(&a->broker_cfg);
        rc = broker_apply(&a->broker_cfg, doc, broker, "", err);
        if (rc == 0) {
            const char *h = a->broker_cfg.listen_host;
            if (!h[0] || strcmp(h, "0.0.0.0") == 0) {
                h = "127.0.0.1";
            } else if (strcmp(h, "::") == 0) {
                h = "::1";
            }
            snprintf(a->broker_bootstrap, sizeof(a->broker_bootstrap),
                     strchr(h, ':') ? "[%s]:%d" : "%s:%d", h, a->broker_cfg.listen_port);
        }
    }
    if (rc == 0) {
        rc = build_channels(a, doc, chans, err);
    }
    if (rc == 0) {
        rc = build_sources(a, doc, srcs, err);
    }
    if (rc == 0) {
        rc = build_sinks(a, doc, sinks, err);
    }
    if (rc == 0) {
        rc = sl_sinkgroups_build(a, doc, sl_yaml_get(root, "sinkgroups"), err);
    }
    if (rc != 0) {
        if (rc == -ENOMEM) {
            sl_err_set(err, rc, "out of memory");
        }
        sl_agent_destroy(a);
        return rc;
    }
    *out = a;
    return 0;
}

void sl_agent_print(const struct sl_agent *a, FILE *out)
{
    fprintf(out, "agent %s (%s)\n", a->name, a->file);
    if (a->has_broker) {
        const struct sl_broker_config *b = &a->broker_cfg;
        fprintf(out, "broker: embedded, listening on %s:%d, log.dirs ",
                b->listen_host[0] ? b->listen_host : "0.0.0.0", b->listen_port);
        for (int i = 0; i < b->nlog_dirs; i++) {
            fprintf(out, "%s%s", i ? "," : "", b->log_dirs[i]);
        }
        fprintf(out, "\n");
    }
    if (a->has_metrics) {
        fprintf(out, "metrics: http://%s:%lld/metrics\n", a->metrics_bind,
                (long long)a->metrics_port);
    }
    for (size_t i = 0; i < a->nchannels; i++) {
        const struct sl_channel *c = &a->channels[i];
        fprintf(out, "channel %s (%s)\n", c->name, c->ops->name);
        sl_conf_print(c->ops->conf, c->ctx, out, "  ");
    }
    for (size_t i = 0; i < a->nsources; i++) {
        const struct sl_source *s = &a->sources[i];
        fprintf(out, "source %s (%s) -> ", s->name, s->ops->name);
        for (size_t j = 0; j < s->nchannels; j++) {
            fprintf(out, "%s%s", j ? ", " : "", s->channels[j]->name);
        }
        fprintf(out, "\n");
        sl_conf_print(s->ops->conf, s->ctx, out, "  ");
        if (s->icpt) {
            fprintf(out, "  interceptors:\n");
            sl_icpt_chain_print(s->icpt, out, "  ");
        }
        sl_selector_print(s, out, "  ");
    }
    for (size_t i = 0; i < a->nsinks; i++) {
        const struct sl_sink *k = &a->sinks[i];
        fprintf(out, "sink %s (%s) <- %s\n", k->name, k->ops->name, k->channel->name);
        sl_conf_print(k->ops->conf, k->ctx, out, "  ");
    }
    sl_sinkgroups_print(a, out);
    fprintf(out, "configuration OK\n");
}

void sl_agent_destroy(struct sl_agent *a)
{
    if (!a) {
        return;
    }
    for (size_t i = 0; i < a->nsources; i++) {
        struct sl_source *s = &a->sources[i];
        if (s->inited && s->ops->fini) {
            s->ops->fini(s);
        }
        if (s->ctx) {
            sl_conf_free(s->ops->conf, s->ctx);
        }
        free(s->ctx);
        free(s->channels);
        sl_icpt_chain_destroy(s->icpt);
        sl_selector_destroy(s->selector);
    }
    for (size_t i = 0; i < a->nsinks; i++) {
        struct sl_sink *k = &a->sinks[i];
        if (k->inited && k->ops->fini) {
            k->ops->fini(k);
        }
        if (k->ctx) {
            sl_conf_free(k->ops->conf, k->ctx);
        }
        free(k->ctx);
        pthread_mutex_destroy(&k->mu);
        pthread_cond_destroy(&k->cond);
    }
    for (size_t i = 0; i < a->nchannels; i++) {
        struct sl_channel *c = &a->channels[i];
        if (c->inited && c->ops->fini) {
            c->ops->fini(c);
        }
        if (c->ctx) {
            sl_conf_free(c->ops->conf, c->ctx);
        }
        free(c->ctx);
    }
    sl_sinkgroups_destroy(a);
    free(a->sources);
    free(a->sinks);
    free(a->channels);
    sl_conf_free(agent_conf, a);
    sl_conf_free(metrics_conf, a);
    free(a->file);
    free(a);
}
