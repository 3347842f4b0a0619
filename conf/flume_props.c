/*
 * flume_props.c - see flume_props.h. Two passes over the parsed lines: first the component
 * lists (a1.sources, a1.channels, a1.sinks) create one map node per component, then every
 * a1.<kind>.<name>.<key> line is translated and added to its component.
 */
#include "flume_props.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        {"channels", "memory", "memory"},
        {"channels", "org.apache.flume.channel.MemoryChannel", "memory"},
        {"sinks", "org.apache.flume.sink.kafka.KafkaSink", "kafka"},
        {"sinks", "kafka", "kafka"},
        {"sinks", "logger", "logger"},
        {"sinks", "org.apache.flume.sink.LoggerSink", "logger"},
        {"sinks", "null", "null"},
        {"sinks", "org.apache.flume.sink.NullSink", "null"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(table[i][0], kind) == 0 && strcmp(table[i][1], t) == 0) {
            return table[i][2];
        }
    }
    return NULL;
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
    if (strcmp(kind, "sources") == 0) {
        return strncmp(k, "selector", 8) == 0 || strncmp(k, "interceptors", 12) == 0;
    }
    if (strcmp(kind, "sinks") == 0) {
        return strncmp(k, "kafka.consumer.", 15) == 0;
    }
    return 0;
}

static int build(struct props *p, const char *name, struct sl_yaml_doc *doc, struct sl_err *err)
{
    size_t nl = strlen(name);
    struct kind kinds[3] = {
        {"sources", "source", NULL}, {"channels", "channel", NULL}, {"sinks", "sink", NULL}};
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
    for (int k = 0; rc == 0 && k < 3; k++) {
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
        if (strcmp(rest, "sinkgroups") == 0 || strncmp(rest, "sinkgroups.", 11) == 0) {
            return err_at(err, doc, pr->line, pr->kcol,
                          "%s: sink groups (failover, load_balance) are not supported by "
                          "sluice yet%s",
                          pr->key, "");
        }
        for (int k = 0; k < 3; k++) {
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
        for (int k = 0; k < 3 && !handled; k++) {
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
            if (k == 0 && strcmp(key, "selector.type") == 0 &&
                strcmp(pr->value, "replicating") == 0) {
                continue; /* Flume's default, and what sluice does */
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
                             k == 0   ? "netcat"
                             : k == 1 ? "memory"
                                      : "org.apache.flume.sink.kafka.KafkaSink, logger, null");
                    return err_at(err, doc, pr->line, pr->vcol, "%s%s", msg, "");
                }
            } else if (k == 2) {
                char buf[256];
                key = map_kafka_key(key, buf, sizeof(buf));
            }
            rc = map_put(cnode, key, pr->line, pr->kcol, scalar_new(value, pr->line, pr->vcol));
            if (rc != 0) {
                return rc;
            }
        }
        if (!handled) {
            return err_at(err, doc, pr->line, pr->kcol,
                          "%s: unknown key (expected %s.sources, .channels or .sinks)", pr->key,
                          name);
        }
    }
    return 0;
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
