/*
 * interceptor.c - the interceptor chain (see interceptor.h) and the interceptors that set
 * one header: timestamp, host, static, uuid. The regex ones live in interceptor_regex.c.
 *
 * Key names and defaults are Flume's (headerName, preserveExisting, hostHeader, useIP, key,
 * value, prefix), so a Flume configuration moves over unchanged.
 *
 * Threads: a chain is built on the main thread and run on the source loop thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/interceptor_int.h"
#include "common/sl_log.h"
#include "common/sl_macros.h"

struct sl_icpt_chain {
    struct icpt *v;
    size_t n;
    struct icpt_run run;
    char comp[160];
    int64_t last_log_ms;
    uint64_t errors_unlogged;
};

#define OFF(type, f) offsetof(type, f)
#define CONF_END                                                                                   \
    {                                                                                              \
        NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL                                                      \
    }

/* ---- timestamp --------------------------------------------------------------------- */

struct ts_ctx {
    char *header;
    int preserve;
};

static const struct sl_conf_map ts_conf[] = {
    {"headerName", SL_CONF_STR, "timestamp", OFF(struct ts_ctx, header), 0, 0, 0, NULL,
     "header to set"},
    {"preserveExisting", SL_CONF_BOOL, "false", OFF(struct ts_ctx, preserve), 0, 0, 0, NULL,
     "keep a header the event already has"},
    CONF_END,
};

static int ts_intercept(struct icpt *ic, struct sl_event **evp, struct icpt_run *run)
{
    struct ts_ctx *c = ic->ctx;
    if (c->preserve && sl_event_header(*evp, c->header)) {
        return ICPT_KEEP;
    }
    char v[24];
    snprintf(v, sizeof(v), "%lld", (long long)run->now_ms);
    return sl_event_set_header(*evp, c->header, v);
}

static const struct icpt_ops ts_ops = {
    .name = "timestamp",
    .flume_class = "org.apache.flume.interceptor.TimestampInterceptor$Builder",
    .conf = ts_conf,
    .ctx_size = sizeof(struct ts_ctx),
    .intercept = ts_intercept,
};

/* ---- host -------------------------------------------------------------------------- */

struct host_ctx {
    char *header;
    int use_ip;
    int preserve;
    char value[NI_MAXHOST]; /* resolved once at init; "" = could not be found */
};

static const struct sl_conf_map host_conf[] = {
    {"hostHeader", SL_CONF_STR, "host", OFF(struct host_ctx, header), 0, 0, 0, NULL,
     "header to set"},
    {"useIP", SL_CONF_BOOL, "true", OFF(struct host_ctx, use_ip), 0, 0, 0, NULL,
     "the host's IP address instead of its name"},
    {"preserveExisting", SL_CONF_BOOL, "false", OFF(struct host_ctx, preserve), 0, 0, 0, NULL,
     "keep a header the event already has"},
    CONF_END,
};

/* The first non-loopback IPv4 address of an interface, for hosts whose name does not
 * resolve. 0 or -1. */
static int first_iface_ip(char *out, size_t len)
{
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) != 0) {
        return -1;
    }
    int rc = -1;
    for (struct ifaddrs *i = ifs; i && rc != 0; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) {
            continue;
        }
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)i->ifa_addr;
        if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127) {
            continue;
        }
        rc = inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)len) ? 0 : -1;
    }
    freeifaddrs(ifs);
    return rc;
}

/*
 * Flume's HostInterceptor: useIP → InetAddress.getLocalHost().getHostAddress() (the address
 * the host name resolves to), else getCanonicalHostName(). Resolved once, at config time.
 */
static int host_init(struct icpt *ic, const struct sl_yaml_doc *doc,
                     const struct sl_yaml_node *node, struct sl_err *err)
{
    struct host_ctx *c = ic->ctx;
    char name[NI_MAXHOST];
    c->value[0] = '\0';
    if (gethostname(name, sizeof(name)) != 0) {
        name[0] = '\0';
    }
    name[sizeof(name) - 1] = '\0';
    struct addrinfo hints = {.ai_family = c->use_ip ? AF_INET : AF_UNSPEC,
                             .ai_flags = c->use_ip ? 0 : AI_CANONNAME};
    struct addrinfo *ai = NULL;
    if (name[0] && getaddrinfo(name, NULL, &hints, &ai) == 0 && ai) {
        if (!c->use_ip && ai->ai_canonname) {
            snprintf(c->value, sizeof(c->value), "%s", ai->ai_canonname);
        } else if (c->use_ip) {
            getnameinfo(ai->ai_addr, ai->ai_addrlen, c->value, sizeof(c->value), NULL, 0,
                        NI_NUMERICHOST);
        }
        freeaddrinfo(ai);
    }
    if (!c->value[0] && c->use_ip) {
        first_iface_ip(c->value, sizeof(c->value));
    }
    if (!c->value[0] && !c->use_ip) {
        snprintf(c->value, sizeof(c->value), "%s", name);
    }
    if (!c->value[0]) {
        sl_log(SL_LOG_WARN, "%s: this host's %s cannot be found: the header is not set", ic->what,
               c->use_ip ? "IP address" : "name");
    }
    return 0;
}

static int host_intercept(struct icpt *ic, struct sl_event **evp, struct icpt_run *run)
{
    struct host_ctx *c = ic->ctx;
    if (!c->value[0] || (c->preserve && sl_event_header(*evp, c->header))) {
        return ICPT_KEEP;
    }
    return sl_event_set_header(*evp, c->header, c->value);
}

static const struct icpt_ops host_ops = {
    .name = "host",
    .flume_class = "org.apache.flume.interceptor.HostInterceptor$Builder",
    .conf = host_conf,
    .ctx_size = sizeof(struct host_ctx),
    .init = host_init,
    .intercept = host_intercept,
};

/* ---- static ------------------------------------------------------------------------ */

struct static_ctx {
    char *key;
    char *value;
    int preserve;
};

static const struct sl_conf_map static_conf[] = {
    {"key", SL_CONF_STR, "key", OFF(struct static_ctx, key), 0, 0, 0, NULL, "header to set"},
    {"value", SL_CONF_STR, "value", OFF(struct static_ctx, value), 0, 0, 0, NULL, "its value"},
    {"preserveExisting", SL_CONF_BOOL, "true", OFF(struct static_ctx, preserve), 0, 0, 0, NULL,
     "keep a header the event already has"},
    CONF_END,
};

static int static_intercept(struct icpt *ic, struct sl_event **evp, struct icpt_run *run)
{
    struct static_ctx *c = ic->ctx;
    if (c->preserve && sl_event_header(*evp, c->key)) {
        return ICPT_KEEP;
    }
    return sl_event_set_header(*evp, c->key, c->value);
}

static const struct icpt_ops static_ops = {
    .name = "static",
    .flume_class = "org.apache.flume.interceptor.StaticInterceptor$Builder",
    .conf = static_conf,
    .ctx_size = sizeof(struct static_ctx),
    .intercept = static_intercept,
};

/* ---- uuid -------------------------------------------------------------------------- */

struct uuid_ctx {
    char *header;
    char *prefix;
    int preserve;
};

static const struct sl_conf_map uuid_conf[] = {
    {"headerName", SL_CONF_STR, "id", OFF(struct uuid_ctx, header), 0, 0, 0, NULL, "header to set"},
    {"prefix", SL_CONF_STR, "", OFF(struct uuid_ctx, prefix), 0, 0, 0, NULL,
     "text put before the UUID"},
    {"preserveExisting", SL_CONF_BOOL, "true", OFF(struct uuid_ctx, preserve), 0, 0, 0, NULL,
     "keep a header the event already has"},
    CONF_END,
};

/* 16 random bytes from the run's pool (getrandom, 4 KiB at a time). 0 or -EIO. */
static int random16(struct icpt_run *run, uint8_t out[16])
{
    if (run->rnd_pos + 16 > sizeof(run->rnd)) {
        size_t got = 0;
        while (got < sizeof(run->rnd)) {
            ssize_t r = getrandom(run->rnd + got, sizeof(run->rnd) - got, 0);
            if (r < 0 && errno != EINTR) {
                return -EIO;
            }
            got += r > 0 ? (size_t)r : 0;
        }
        run->rnd_pos = 0;
    }
    memcpy(out, run->rnd + run->rnd_pos, 16);
    run->rnd_pos += 16;
    return 0;
}

/* A random (version 4, RFC 4122 variant) UUID, as Java's UUID.randomUUID() makes. */
static int uuid_intercept(struct icpt *ic, struct sl_event **evp, struct icpt_run *run)
{
    struct uuid_ctx *c = ic->ctx;
    if (c->preserve && sl_event_header(*evp, c->header)) {
        return ICPT_KEEP;
    }
    uint8_t b[16];
    if (random16(run, b) != 0) {
        return -EIO;
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t pl = strlen(c->prefix);
    char v[256 + 37];
    char *p = v;
    if (pl > 256) {
        pl = 256;
    }
    memcpy(p, c->prefix, pl);
    p += pl;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *p++ = '-';
        }
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = '\0';
    return sl_event_set_header(*evp, c->header, v);
}

static int uuid_init(struct icpt *ic, const struct sl_yaml_doc *doc,
                     const struct sl_yaml_node *node, struct sl_err *err)
{
    struct uuid_ctx *c = ic->ctx;
    if (strlen(c->prefix) > 256) {
        return sl_yaml_error(err, doc, sl_yaml_get(node, "prefix"),
                             "%s: prefix is longer than 256 bytes", ic->what);
    }
    return 0;
}

static const struct icpt_ops uuid_ops = {
    .name = "uuid",
    .flume_class = "org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder",
    .conf = uuid_conf,
    .ctx_size = sizeof(struct uuid_ctx),
    .init = uuid_init,
    .intercept = uuid_intercept,
};

/* ---- the chain --------------------------------------------------------------------- */

static const struct icpt_ops *const all_ops[] = {
    &ts_ops,
    &host_ops,
    &static_ops,
    &uuid_ops,
    &sl__icpt_regex_filter_ops,
    &sl__icpt_regex_extractor_ops,
    &sl__icpt_search_replace_ops,
    &sl__icpt_remove_header_ops,
};

void sl_icpt_names(char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < SL_ARRAY_SIZE(all_ops) && n < len; i++) {
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", all_ops[i]->name);
    }
}

static const struct icpt_ops *find_ops(const char *type)
{
    for (size_t i = 0; i < SL_ARRAY_SIZE(all_ops); i++) {
        if (strcmp(all_ops[i]->name, type) == 0 || strcmp(all_ops[i]->flume_class, type) == 0) {
            return all_ops[i];
        }
    }
    return NULL;
}

void sl_icpt_chain_destroy(struct sl_icpt_chain *c)
{
    if (!c) {
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        struct icpt *ic = &c->v[i];
        if (ic->ctx) {
            if (ic->ops->fini) {
                ic->ops->fini(ic);
            }
            sl_conf_free(ic->ops->conf, ic->ctx);
            free(ic->ctx);
        }
    }
    free(c->v);
    free(c->run.scratch);
    free(c);
}

static int build_one(struct icpt *ic, const struct sl_yaml_doc *doc,
                     const struct sl_yaml_node *item, const char *what, size_t idx,
                     struct sl_err *err)
{
    char names[300];
    sl_icpt_names(names, sizeof(names));
    if (item->kind != SL_YAML_MAP) {
        return sl_yaml_error(err, doc, item,
                             "%s: interceptor %zu: expected a map with type and its settings "
                             "(types: %s)",
                             what, idx, names);
    }
    const struct sl_yaml_node *t = sl_yaml_get(item, "type");
    if (!t || t->kind != SL_YAML_SCALAR) {
        return sl_yaml_error(err, doc, t ? t : item, "%s: interceptor %zu: %s 'type' (one of: %s)",
                             what, idx, t ? "expected a name as" : "missing", names);
    }
    ic->ops = find_ops(t->value);
    if (!ic->ops) {
        return sl_yaml_error(err, doc, t, "%s: interceptor %zu: unknown type '%s' (sluice has: %s)",
                             what, idx, t->value, names);
    }
    snprintf(ic->what, sizeof(ic->what), "%s: interceptor %zu (%s)", what, idx, ic->ops->name);
    ic->ctx = calloc(1, ic->ops->ctx_size);
    if (!ic->ctx) {
        return -ENOMEM;
    }
    static const char *const skip[] = {"type", NULL};
    int rc = sl_conf_bind(ic->ops->conf, ic->ctx, doc, item, skip, ic->what, err);
    if (rc == 0 && ic->ops->init) {
        rc = ic->ops->init(ic, doc, item, err);
    }
    return rc;
}

int sl_icpt_chain_build(const struct sl_yaml_doc *doc, const struct sl_yaml_node *list,
                        const char *what, const char *comp, struct sl_icpt_chain **out,
                        struct sl_err *err)
{
    *out = NULL;
    if (list->kind != SL_YAML_SEQ) {
        char names[300];
        sl_icpt_names(names, sizeof(names));
        return sl_yaml_error(err, doc, list,
                             "%s: interceptors: expected a list of maps such as "
                             "- {type: timestamp} (types: %s)",
                             what, names);
    }
    if (list->n == 0) {
        return 0;
    }
    struct sl_icpt_chain *c = calloc(1, sizeof(*c));
    if (!c || !(c->v = calloc(list->n, sizeof(*c->v)))) {
        free(c);
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    snprintf(c->comp, sizeof(c->comp), "%s", comp);
    c->run.rnd_pos = sizeof(c->run.rnd); /* empty: the first uuid fills it */
    int rc = 0;
    for (size_t i = 0; i < list->n && rc == 0; i++) {
        rc = build_one(&c->v[c->n], doc, list->items[i], what, i + 1, err);
        c->n += c->v[c->n].ctx != NULL;
    }
    if (rc != 0) {
        if (rc == -ENOMEM) {
            sl_err_set(err, rc, "out of memory");
        }
        sl_icpt_chain_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void log_error(struct sl_icpt_chain *c, const struct icpt *ic, int rc)
{
    c->errors_unlogged++;
    if (sl_every_ms(&c->last_log_ms, 1000)) {
        sl_clog(c->comp, SL_LOG_WARN,
                "%s: %s: %llu event(s) passed on unchanged by this interceptor since the last "
                "report",
                ic->what, sl_strerror(rc), (unsigned long long)c->errors_unlogged);
        c->errors_unlogged = 0;
    }
}

void sl_icpt_chain_run(struct sl_icpt_chain *c, struct sl_event **evs, size_t n)
{
    int have_now = 0;
    for (size_t i = 0; i < n; i++) {
        if (evs[i]->flags & SL_EVENT_INTERCEPTED) {
            continue;
        }
        if (!have_now) {
            c->run.now_ms = sl_now_ms();
            have_now = 1;
        }
        evs[i]->flags |= SL_EVENT_INTERCEPTED;
        for (size_t k = 0; k < c->n; k++) {
            struct icpt *ic = &c->v[k];
            int rc = ic->ops->intercept(ic, &evs[i], &c->run);
            if (rc == ICPT_DROP) {
                evs[i]->flags |= SL_EVENT_DROPPED;
                break;
            }
            if (rc < 0) {
                log_error(c, ic, rc);
            }
        }
    }
}

void sl_icpt_chain_print(const struct sl_icpt_chain *c, FILE *out, const char *indent)
{
    char sub[64];
    snprintf(sub, sizeof(sub), "%s    ", indent);
    for (size_t i = 0; c && i < c->n; i++) {
        fprintf(out, "%s  - type: %s\n", indent, c->v[i].ops->name);
        sl_conf_print(c->v[i].ops->conf, c->v[i].ctx, out, sub);
    }
}
