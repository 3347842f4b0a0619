/*
 * flume_props.c - see flume_props.h. Two passes over the parsed lines: first the component
 * lists (a1.sources, a1.channels, a1.sinks, a1.sinkgroups) create one map node per component
 * (a sink group's processor.* keys stay dotted, as the group's binder reads them), then every
 * a1.<kind>.<name>.<key> line is translated and added to its component; last, each source's
 * interceptors.* and selector.* keys are nested into its interceptors list and selector map.
 */
#include "flume_props.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct prop {
    char *key;
    char *value;
    int line, kcol, vcol;
};

struct props {
    struct prop *v;
    size_t n, cap;
};

static void props_free(struct props *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].key);
        free(p->v[i].value);
    }
    free(p->v);
}

static char *trim_dup(const char *s, size_t len)
{
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r')) {
        len--;
    }
    return strndup(s, len);
}

/* Java .properties: key = value, key: value, key value; # and ! comments. */
static int parse(const char *text, struct props *p)
{
    const char *s = text;
    int line = 0;
    while (*s) {
        line++;
        const char *eol = strchr(s, '\n');
        size_t len = eol ? (size_t)(eol - s) : strlen(s);
        const char *q = s;
        while (q < s + len && (*q == ' ' || *q == '\t')) {
            q++;
        }
        if (q < s + len && *q != '#' && *q != '!' && *q != '\r') {
            const char *k = q;
            while (q < s + len && *q != '=' && *q != ':' && *q != ' ' && *q != '\t') {
                q++;
            }
            const char *kend = q;
            while (q < s + len && (*q == ' ' || *q == '\t')) {
                q++;
            }
            if (q < s + len && (*q == '=' || *q == ':')) {
                q++;
            }
            while (q < s + len && (*q == ' ' || *q == '\t')) {
                q++;
            }
            if (p->n == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 32;
                struct prop *v = realloc(p->v, cap * sizeof(*v));
                if (!v) {
                    return -ENOMEM;
                }
                p->v = v;
                p->cap = cap;
            }
            struct prop *pr = &p->v[p->n];
            pr->key = strndup(k, (size_t)(kend - k));
            pr->value = trim_dup(q, (size_t)(s + len - q));
            pr->line = line;
            pr->kcol = (int)(k - s) + 1;
            pr->vcol = (int)(q - s) + 1;
            if (!pr->key || !pr->value) {
                free(pr->key);
                free(pr->value);
                return -ENOMEM;
            }
            p->n++;
        }
        s += len;
        if (*s == '\n') {
            s++;
        }
    }
    return 0;
}

static struct sl_yaml_node *node_new(enum sl_yaml_kind kind, int line, int col)
{
    struct sl_yaml_node *n = calloc(1, sizeof(*n));
    if (n) {
        n->kind = kind;
        n->line = line;
        n->col = col;
    }
    return n;
}

static struct sl_yaml_node *scalar_new(const char *v, int line, int col)
{
    struct sl_yaml_node *n = node_new(SL_YAML_SCALAR, line, col);
    if (n && !(n->value = strdup(v))) {
        free(n);
        return NULL;
    }
    return n;
}

static void node_free(struct sl_yaml_node *n)
{
    struct sl_yaml_doc d = {.file = NULL, .root = n};
    sl_yaml_free(&d);
}

/* Add key → child to map (or replace an existing key's value: the last line wins, as in
 * Java). Takes child, also on error. */
static int map_put(struct sl_yaml_node *map, const char *key, int kl, int kc,
                   struct sl_yaml_node *child)
{
    if (!child) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < map->n; i++) {
        if (strcmp(map->keys[i], key) == 0) {
            node_free(map->items[i]);
            map->items[i] = child;
            map->key_lines[i] = kl;
            map->key_cols[i] = kc;
            return 0;
        }
    }
    size_t k = map->n + 1;
    char **keys = realloc(map->keys, k * sizeof(*keys));
    if (keys) {
        map->keys = keys;
    }
    struct sl_yaml_node **items = realloc(map->items, k * sizeof(*items));
    if (items) {
        map->items = items;
    }
    int *lines = realloc(map->key_lines, k * sizeof(int));
    if (lines) {
        map->key_lines = lines;
    }
    int *cols = realloc(map->key_cols, k * sizeof(int));
    if (cols) {
        map->key_cols = cols;
    }
    char *kd = strdup(key);
    if (!keys || !items || !lines || !cols || !kd) {
        free(kd);
        node_free(child);
        return -ENOMEM;
    }
    map->keys[map->n] = kd;
    map->items[map->n] = child;
    map->key_lines[map->n] = kl;
    map->key_cols[map->n] = kc;
    map->n++;
    return 0;
}

struct kind {
    const char *plural; /* "sources" */
    const char *singular;
    struct sl_yaml_node *section;
};

__attribute__((format(printf, 5, 6))) static int
err_at(struct sl_err *err, const struct sl_yaml_doc *doc, int line, int col, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct sl_yaml_node at = {.line = line, .col = col};
    return sl_yaml_error(err, doc, &at, "%s", msg);
}

/* Flume type names (aliases and class names) → ours; NULL when unsupported. */
static const char *map_type(const char *kind, const char *t)
{
    static const char *const table[][3] = {
        {"sources", "netcat", "netcat"},
        {"sources", "org.apache.flume.source.NetcatSource", "netcat"},
        {"sources", "TAILDIR", "tail"},
        {"sources", "org.apache.flume.source.taildir.TaildirSource", "tail"},
        {"sources", "syslogtcp", "syslog"},
        {"sources", "org.apache.flume.source.SyslogTcpSource", "syslog"},
        {"sources", "syslogudp", "syslog"},
        {"sources", "org.apache.flume.source.SyslogUDPSource", "syslog"},
        {"channels", "memory", "memory"},
        {"channels", "org.apache.flume.channel.MemoryChannel", "memory"},
        {"channels", "file", "file"},
        {"channels", "org.apache.flume.channel.file.FileChannel", "file"},
        {"sinks", "org.apache.flume.sink.kafka.KafkaSink", "kafka"},
        {"sinks", "kafka", "kafka"},
        {"sinks", "logger", "logger"},
        {"sinks", "org.apache.flume.sink.LoggerSink", "logger"},
        {"sinks", "null", "null"},
        {"sinks", "org.apache.flume.sink.NullSink", "null"},
        {"sinks", "file_roll", "file_roll"},
        {"sinks", "org.apache.flume.sink.RollingFileSink", "file_roll"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(table[i][0], kind) == 0 && strcmp(table[i][1], t) == 0) {
            return table[i][2];
        }
    }
    return NULL;
}

/* Flume sink processor names (aliases and class names) → ours; others are left as they are,
 * for the binder to reject with the list of choices. */
static const char *map_processor(const char *t)
{
    static const char *const table[][2] = {
        {"org.apache.flume.sink.DefaultSinkProcessor", "default"},
        {"org.apache.flume.sink.FailoverSinkProcessor", "failover"},
        {"org.apache.flume.sink.LoadBalancingSinkProcessor", "load_balance"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(table[i][0], t) == 0) {
            return table[i][1];
        }
    }
    return t;
}

/* Flume KafkaSink keys → ours. Returns the key to use (may be the same). */
static const char *map_kafka_key(const char *k, char *buf, size_t len)
{
    static const char *const table[][2] = {
        {"kafka.bootstrap.servers", "bootstrap.servers"},
        {"brokerList", "bootstrap.servers"},
        {"kafka.topic", "topic"},
        {"flumeBatchSize", "batchSize"},
        {"kafka.flumeBatchSize", "batchSize"},
        {"requiredAcks", "acks"},
        {"kafka.producer.acks", "acks"},
        {"kafka.producer.linger.ms", "linger.ms"},
        {"kafka.producer.compression.type", "compression.type"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(table[i][0], k) == 0) {
            return table[i][1];
        }
    }
    (void)buf;
    (void)len;
    return k;
}

static int unsupported_key(const char *kind, const char *k)
{
    if (strcmp(kind, "sinks") == 0) {
        return strncmp(k, "kafka.consumer.", 15) == 0;
    }
    return 0;
}

/* ---- a source's interceptors and selector ----------------------------------------------
 * a1.sources.r1.interceptors = i1 i2 and a1.sources.r1.interceptors.i1.<key> become the
 * list `interceptors: [{type: ..., <key>: ...}, ...]` in the listed order; regex_extractor's
 * serializers (s1 s2 and serializers.s1.name) become `serializers: [<name>, ...]`.
 * a1.sources.r1.selector.<key> becomes the map `selector:` (mapping.<value> and
 * optional.<value> as nested maps). Type names: Flume's aliases in any case are lowered to
 * ours; class names are kept (the interceptor binder knows Flume's builder classes). */

/* Java .properties escapes in a value: \t \n \r \f \uXXXX, and \x for any other x, so the
 * regex Flume users write as "\\d" is "\d". NULL when out of memory. */
static char *props_unescape(const char *v)
{
    char *out = malloc(strlen(v) + 1); /* never grows: \uXXXX is 6 bytes, at most 3 in UTF-8 */
    char *o = out;
    for (const char *s = v; out && *s; s++) {
        if (*s != '\\' || !s[1]) {
            *o++ = *s;
            continue;
        }
        s++;
        unsigned cp = 0;
        int hex = *s == 'u';
        for (int i = 1; hex && i <= 4; i++) {
            char c = s[i];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            hex = d >= 0;
            cp = cp * 16 + (unsigned)(d >= 0 ? d : 0);
        }
        if (hex) {
            s += 4;
            if (cp < 0x80) {
                *o++ = (char)cp;
            } else if (cp < 0x800) {
                *o++ = (char)(0xc0 | cp >> 6);
                *o++ = (char)(0x80 | (cp & 0x3f));
            } else {
                *o++ = (char)(0xe0 | cp >> 12);
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
                *o++ = (char)(0x80 | (cp & 0x3f));
            }
            continue;
        }
        *o++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s == 'f' ? '\f' : *s;
    }
    if (out) {
        *o = '\0';
    }
    return out;
}

/* Append child to a sequence node. Takes child, also on error. */
static int seq_push(struct sl_yaml_node *seq, struct sl_yaml_node *child)
{
    if (!child) {
        return -ENOMEM;
    }
    struct sl_yaml_node **items = realloc(seq->items, (seq->n + 1) * sizeof(*items));
    if (!items) {
        node_free(child);
        return -ENOMEM;
    }
    seq->items = items;
    seq->items[seq->n++] = child;
    return 0;
}

/* The next space-separated word of *s: its start and length (0 at the end). */
static size_t next_word(const char **s, const char **w)
{
    while (**s == ' ' || **s == '\t') {
        (*s)++;
    }
    *w = *s;
    while (**s && **s != ' ' && **s != '\t') {
        (*s)++;
    }
    return (size_t)(*s - *w);
}

/* Flume's alias (any case) → ours; a class name stays as it is. */
static void lower_alias(char *t)
{
    if (!strchr(t, '.')) {
        for (char *c = t; *c; c++) {
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        }
    }
}

#define ICPT_MAX 64

/* regex_extractor's serializers: the names of `list`'s serializers, as a sequence. */
static int import_serializers(struct props *p, const char *iprefix, const struct prop *list,
                              struct sl_yaml_node *imap, struct sl_yaml_doc *doc,
                              struct sl_err *err)
{
    struct sl_yaml_node *seq = node_new(SL_YAML_SEQ, list->line, list->vcol);
    int rc = map_put(imap, "serializers", list->line, list->kcol, seq);
    const char *s = list->value, *w;
    size_t wl;
    while (rc == 0 && (wl = next_word(&s, &w)) > 0) {
        char key[1024];
        snprintf(key, sizeof(key), "%sserializers.%.*s.name", iprefix, (int)wl, w);
        const struct prop *name = NULL;
        for (size_t i = 0; i < p->n; i++) {
            name = strcmp(p->v[i].key, key) == 0 ? &p->v[i] : name;
        }
        if (!name) {
            return err_at(err, doc, list->line, list->vcol + (int)(w - list->value),
                          "serializer %.*s has no name: add %s", (int)wl, w, key);
        }
        rc = seq_push(seq, scalar_new(name->value, name->line, name->vcol));
    }
    return rc;
}

static int import_interceptors(struct props *p, const char *prefix, struct sl_yaml_node *cnode,
                               struct sl_yaml_doc *doc, struct sl_err *err)
{
    char lkey[300];
    snprintf(lkey, sizeof(lkey), "%sinterceptors", prefix);
    size_t ll = strlen(lkey);
    const struct prop *list = NULL;
    for (size_t i = 0; i < p->n; i++) {
        list = strcmp(p->v[i].key, lkey) == 0 ? &p->v[i] : list;
    }
    char *names[ICPT_MAX];
    struct sl_yaml_node *maps[ICPT_MAX];
    const struct prop *sers[ICPT_MAX];
    size_t n = 0;
    int rc = 0;
    if (list) {
        struct sl_yaml_node *seq = node_new(SL_YAML_SEQ, list->line, list->vcol);
        rc = map_put(cnode, "interceptors", list->line, list->kcol, seq);
        const char *s = list->value, *w;
        size_t wl;
        while (rc == 0 && (wl = next_word(&s, &w)) > 0) {
            int col = list->vcol + (int)(w - list->value);
            if (n == ICPT_MAX) {
                rc = err_at(err, doc, list->line, col, "%s: more than %d interceptors", lkey,
                            ICPT_MAX);
                break;
            }
            for (size_t k = 0; k < n; k++) {
                if (strlen(names[k]) == wl && strncmp(names[k], w, wl) == 0) {
                    rc = err_at(err, doc, list->line, col, "%s: interceptor %s is listed twice",
                                lkey, names[k]);
                }
            }
            if (rc != 0) {
                break;
            }
            names[n] = strndup(w, wl);
            maps[n] = node_new(SL_YAML_MAP, list->line, col);
            sers[n] = NULL;
            if (!names[n]) {
                node_free(maps[n]);
                rc = -ENOMEM;
                break;
            }
            rc = seq_push(seq, maps[n]); /* takes the map, also on error */
            if (rc != 0) {
                free(names[n]);
                break;
            }
            n++;
        }
    }
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        struct prop *pr = &p->v[i];
        if (strncmp(pr->key, lkey, ll) != 0 || pr->key[ll] != '.') {
            continue;
        }
        const char *in = pr->key + ll + 1, *dot = strchr(in, '.');
        size_t k = 0;
        while (k < n && (!dot || strlen(names[k]) != (size_t)(dot - in) ||
                         strncmp(names[k], in, (size_t)(dot - in)) != 0)) {
            k++;
        }
        if (!dot || !dot[1] || k == n) {
            rc = err_at(err, doc, pr->line, pr->kcol, "%s: interceptor %.*s is not listed in %s",
                        pr->key, dot ? (int)(dot - in) : (int)strlen(in), in, lkey);
            break;
        }
        const char *key = dot + 1;
        if (strcmp(key, "serializers") == 0) {
            sers[k] = pr;
            continue;
        }
        if (strncmp(key, "serializers.", 12) == 0) {
            const char *field = strrchr(key, '.') + 1;
            int passthrough =
                strcmp(field, "type") == 0 &&
                (strcasecmp(pr->value, "default") == 0 ||
                 strcmp(pr->value, "org.apache.flume.interceptor."
                                   "RegexExtractorInterceptorPassThroughSerializer") == 0);
            if (strcmp(field, "name") != 0 && !passthrough) {
                rc = err_at(err, doc, pr->line, pr->kcol,
                            "%s: only the pass-through serializer (serializers.<s>.name) is "
                            "supported by sluice",
                            pr->key);
            }
            continue;
        }
        char *value = strcmp(key, "type") == 0 ? strdup(pr->value) : props_unescape(pr->value);
        if (value && strcmp(key, "type") == 0) {
            lower_alias(value);
        }
        rc = value ? map_put(maps[k], key, pr->line, pr->kcol,
                             scalar_new(value, pr->line, pr->vcol))
                   : -ENOMEM;
        free(value);
    }
    for (size_t k = 0; k < n && rc == 0; k++) {
        char iprefix[640];
        snprintf(iprefix, sizeof(iprefix), "%s.%s.", lkey, names[k]);
        if (!sl_yaml_get(maps[k], "type")) {
            rc = err_at(err, doc, maps[k]->line, maps[k]->col,
                        "interceptor %s has no type: add %stype", names[k], iprefix);
        } else if (sers[k]) {
            rc = import_serializers(p, iprefix, sers[k], maps[k], doc, err);
        }
    }
    for (size_t k = 0; k < n; k++) {
        free(names[k]);
    }
    return rc;
}

static int import_selector(struct props *p, const char *prefix, struct sl_yaml_node *cnode,
                           struct sl_yaml_doc *doc, struct sl_err *err)
{
    char skey[300];
    snprintf(skey, sizeof(skey), "%sselector.", prefix);
    size_t sl = strlen(skey);
    struct sl_yaml_node *sel = NULL, *sub[2] = {NULL, NULL}; /* mapping, optional */
    int optional_list = 0, rc = 0;
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        struct prop *pr = &p->v[i];
        if (strncmp(pr->key, skey, sl) != 0 || !pr->key[sl]) {
            continue;
        }
        const char *key = pr->key + sl;
        if (!sel) {
            sel = node_new(SL_YAML_MAP, pr->line, pr->kcol);
            rc = map_put(cnode, "selector", pr->line, pr->kcol, sel);
            if (rc != 0) {
                break;
            }
        }
        char value[256];
        snprintf(value, sizeof(value), "%s", pr->value);
        if (strcmp(key, "type") == 0) {
            lower_alias(value);
            if (strcmp(value, "org.apache.flume.channel.ReplicatingChannelSelector") == 0) {
                snprintf(value, sizeof(value), "replicating");
            } else if (strcmp(value, "org.apache.flume.channel.MultiplexingChannelSelector") ==
                       0) {
                snprintf(value, sizeof(value), "multiplexing");
            }
        }
        int which = strncmp(key, "mapping.", 8) == 0    ? 0
                    : strncmp(key, "optional.", 9) == 0 ? 1
                                                        : -1;
        if ((which == 1 && optional_list) || (strcmp(key, "optional") == 0 && sub[1])) {
            rc = err_at(err, doc, pr->line, pr->kcol,
                        "%s: write either %soptional = <channels> (replicating) or "
                        "%soptional.<value> = <channels> (multiplexing), not both",
                        pr->key, skey, skey);
            break;
        }
        if (strcmp(key, "mapping") == 0) {
            rc = err_at(err, doc, pr->line, pr->kcol,
                        "%s: write %smapping.<header value> = <channels>", pr->key, skey);
            break;
        }
        optional_list |= strcmp(key, "optional") == 0;
        struct sl_yaml_node *dst = sel;
        if (which >= 0) {
            if (!sub[which]) {
                sub[which] = node_new(SL_YAML_MAP, pr->line, pr->kcol);
                rc = map_put(sel, which ? "optional" : "mapping", pr->line, pr->kcol, sub[which]);
            }
            dst = sub[which];
            key = strchr(key, '.') + 1;
        }
        if (rc == 0) {
            rc = map_put(dst, key, pr->line, pr->kcol,
                         scalar_new(strlen(pr->value) < sizeof(value) ? value : pr->value,
                                    pr->line, pr->vcol));
        }
    }
    return rc;
}

/* Every source's interceptors and selector (after pass 2 made the sources). */
static int import_routing(struct props *p, const char *name, struct sl_yaml_node *sources,
                          struct sl_yaml_doc *doc, struct sl_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < sources->n && rc == 0; i++) {
        char prefix[256];
        snprintf(prefix, sizeof(prefix), "%s.sources.%s.", name, sources->keys[i]);
        rc = import_interceptors(p, prefix, sources->items[i], doc, err);
        if (rc == 0) {
            rc = import_selector(p, prefix, sources->items[i], doc, err);
        }
    }
    return rc;
}

/* Flume's syslog sources call two keys by other names than ours: host (bind) and eventSize
 * (max-message-size). Returns the key to use for key of source comp, whose type is looked up
 * among all the properties (it may come after its keys). */
static const char *map_syslog_key(const struct props *p, const char *name, const char *comp,
                                  const char *key)
{
    int host = strcmp(key, "host") == 0;
    if (!host && strcmp(key, "eventSize") != 0) {
        return key;
    }
    char tkey[300];
    snprintf(tkey, sizeof(tkey), "%s.sources.%s.type", name, comp);
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->v[i].key, tkey) == 0) {
            const char *t = map_type("sources", p->v[i].value);
            if (t && strcmp(t, "syslog") == 0) {
                return host ? "bind" : "max-message-size";
            }
        }
    }
    return key;
}

static int build(struct props *p, const char *name, struct sl_yaml_doc *doc, struct sl_err *err)
{
    size_t nl = strlen(name);
    struct kind kinds[4] = {{"sources", "source", NULL},
                            {"channels", "channel", NULL},
                            {"sinks", "sink", NULL},
                            {"sinkgroups", "sink group", NULL}};
    struct sl_yaml_node *root = node_new(SL_YAML_MAP, 1, 1);
    if (!root) {
        return -ENOMEM;
    }
    doc->root = root;
    struct sl_yaml_node *agent = node_new(SL_YAML_MAP, 1, 1);
    int rc = map_put(root, "agent", 1, 1, agent);
    if (rc == 0) {
        rc = map_put(agent, "name", 1, 1, scalar_new(name, 1, 1));
    }
    for (int k = 0; rc == 0 && k < 4; k++) {
        kinds[k].section = node_new(SL_YAML_MAP, 1, 1);
        rc = map_put(root, kinds[k].plural, 1, 1, kinds[k].section);
    }
    if (rc != 0) {
        return rc;
    }
    int found = 0;
    /* Pass 1: the component lists. */
    for (size_t i = 0; i < p->n; i++) {
        struct prop *pr = &p->v[i];
        if (strncmp(pr->key, name, nl) != 0 || pr->key[nl] != '.') {
            continue;
        }
        found = 1;
        const char *rest = pr->key + nl + 1;
        for (int k = 0; k < 4; k++) {
            if (strcmp(rest, kinds[k].plural) != 0) {
                continue;
            }
            const char *s = pr->value;
            while (*s) {
                while (*s == ' ' || *s == '\t') {
                    s++;
                }
                const char *w = s;
                while (*s && *s != ' ' && *s != '\t') {
                    s++;
                }
                if (s == w) {
                    break;
                }
                char *cname = strndup(w, (size_t)(s - w));
                if (!cname) {
                    return -ENOMEM;
                }
                int col = pr->vcol + (int)(w - pr->value);
                rc = map_put(kinds[k].section, cname, pr->line, col,
                             node_new(SL_YAML_MAP, pr->line, col));
                free(cname);
                if (rc != 0) {
                    return rc;
                }
            }
        }
    }
    if (!found) {
        struct sl_yaml_node at = {.line = 1, .col = 1};
        return sl_yaml_error(err, doc, &at, "no keys for agent '%s' (expected %s.sources = ...)",
                             name, name);
    }
    /* Pass 2: component keys. */
    for (size_t i = 0; i < p->n; i++) {
        struct prop *pr = &p->v[i];
        if (strncmp(pr->key, name, nl) != 0 || pr->key[nl] != '.') {
            continue;
        }
        const char *rest = pr->key + nl + 1;
        int handled = 0;
        for (int k = 0; k < 4 && !handled; k++) {
            size_t pl = strlen(kinds[k].plural);
            if (strncmp(rest, kinds[k].plural, pl) != 0) {
                continue;
            }
            if (rest[pl] == '\0') {
                handled = 1; /* the list itself */
                break;
            }
            if (rest[pl] != '.') {
                continue;
            }
            handled = 1;
            const char *cn = rest + pl + 1;
            const char *dot = strchr(cn, '.');
            if (!dot || !dot[1]) {
                return err_at(err, doc, pr->line, pr->kcol, "%s: expected %s.<name>.<key>", pr->key,
                              kinds[k].plural);
            }
            char comp[128];
            snprintf(comp, sizeof(comp), "%.*s", (int)(dot - cn), cn);
            const char *key = dot + 1;
            struct sl_yaml_node *cnode = sl_yaml_get(kinds[k].section, comp);
            if (!cnode) {
                char msg[300];
                snprintf(msg, sizeof(msg), "%s %s is not listed in %s.%s", kinds[k].singular, comp,
                         name, kinds[k].plural);
                return err_at(err, doc, pr->line, pr->kcol, "%s%s", msg, "");
            }
            if (k == 0 && (strncmp(key, "selector.", 9) == 0 ||
                           strcmp(key, "interceptors") == 0 ||
                           strncmp(key, "interceptors.", 13) == 0)) {
                continue; /* import_routing, once every source exists */
            }
            if (unsupported_key(kinds[k].plural, key)) {
                return err_at(err, doc, pr->line, pr->kcol,
                              "%s: '%s' is not supported by sluice yet", pr->key, key);
            }
            const char *value = pr->value;
            if (strcmp(key, "type") == 0) {
                value = map_type(kinds[k].plural, pr->value);
                if (!value) {
                    char msg[400];
                    snprintf(msg, sizeof(msg),
                             "Flume %s type '%s' is not supported by sluice (supported: %s)",
                             kinds[k].singular, pr->value,
                             k == 0   ? "netcat, TAILDIR, syslogtcp, syslogudp"
                             : k == 1 ? "memory, file"
                                      : "org.apache.flume.sink.kafka.KafkaSink, logger, null, "
                                        "file_roll");
                    return err_at(err, doc, pr->line, pr->vcol, "%s%s", msg, "");
                }
                if (strcmp(value, "tail") == 0) {
                    /* TAILDIR's filegroups.<g> are regular expressions on the file name. */
                    rc = map_put(cnode, "patternSyntax", pr->line, pr->vcol,
                                 scalar_new("regex", pr->line, pr->vcol));
                    if (rc != 0) {
                        return rc;
                    }
                }
                if (strcmp(value, "syslog") == 0) {
                    /* syslogtcp / syslogudp: the protocol is in Flume's type name. */
                    int udp = strcmp(pr->value, "syslogudp") == 0 || strstr(pr->value, "UDP");
                    rc = map_put(cnode, "protocol", pr->line, pr->vcol,
                                 scalar_new(udp ? "udp" : "tcp", pr->line, pr->vcol));
                    if (rc != 0) {
                        return rc;
                    }
                }
            } else if (k == 0 && strcmp(key, "filegroups") == 0) {
                continue; /* TAILDIR's list of group names: each filegroups.<g> is a group */
            } else if (k == 0) {
                key = map_syslog_key(p, name, comp, key);
            } else if (k == 1 && strcmp(key, "dataDirs") == 0) {
                /* The file channel keeps one log; Flume's list of directories maps to one. */
                if (strchr(value, ',')) {
                    return err_at(err, doc, pr->line, pr->vcol,
                                  "%s: the file channel takes one data directory, not a list",
                                  pr->key);
                }
                key = "dataDir";
            } else if (k == 2) {
                char buf[256];
                key = map_kafka_key(key, buf, sizeof(buf));
            } else if (k == 3 && strcmp(key, "processor.type") == 0) {
                value = map_processor(pr->value); /* unknown names are left to the binder */
            }
            rc = map_put(cnode, key, pr->line, pr->kcol, scalar_new(value, pr->line, pr->vcol));
            if (rc != 0) {
                return rc;
            }
        }
        if (!handled) {
            return err_at(err, doc, pr->line, pr->kcol,
                          "%s: unknown key (expected %s.sources, .channels, .sinks or "
                          ".sinkgroups)",
                          pr->key,
                          name);
        }
    }
    return import_routing(p, name, kinds[0].section, doc, err);
}

int sl_flume_props_load_string(const char *text, const char *file, const char *name,
                               struct sl_yaml_doc *doc, struct sl_err *err)
{
    memset(doc, 0, sizeof(*doc));
    doc->file = strdup(file);
    if (!doc->file) {
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    struct props p = {0};
    int rc = parse(text, &p);
    if (rc == 0) {
        rc = build(&p, name, doc, err);
    }
    props_free(&p);
    if (rc != 0) {
        if (rc == -ENOMEM) {
            sl_err_set(err, rc, "out of memory");
        }
        /* Keep the message (it points at doc->file), drop the tree. */
        struct sl_yaml_doc tmp = {.file = NULL, .root = doc->root};
        sl_yaml_free(&tmp);
        doc->root = NULL;
    }
    return rc;
}

int sl_flume_props_load(const char *path, const char *name, struct sl_yaml_doc *doc,
                        struct sl_err *err)
{
    memset(doc, 0, sizeof(*doc));
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return sl_err_set(err, -e, "%s: %s", path, strerror(e));
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(f);
                return sl_err_set(err, -ENOMEM, "out of memory");
            }
            text = t;
        }
        size_t r = fread(text + len, 1, 4096, f);
        len += r;
        if (r < 4096) {
            break;
        }
    }
    int ferr = ferror(f);
    fclose(f);
    if (ferr) {
        free(text);
        return sl_err_set(err, -EIO, "%s: read error", path);
    }
    text[len] = '\0';
    int rc = sl_flume_props_load_string(text, path, name, doc, err);
    free(text);
    return rc;
}
