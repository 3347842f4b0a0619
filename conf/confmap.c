/*
 * confmap.c - see confmap.h. Binding is two passes: defaults for every key, then every key of
 * the YAML map (flattened to dotted names) checked against the map. Nothing here is shared.
 */
#include "confmap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY_MAX 256

static const char *type_name(enum sl_conf_type t)
{
    switch (t) {
    case SL_CONF_STR:
        return "a string";
    case SL_CONF_INT:
        return "an integer";
    case SL_CONF_BOOL:
        return "a boolean";
    case SL_CONF_LIST:
        return "a list";
    case SL_CONF_PREFIX:
        return "a map";
    }
    return "?";
}

static void *field(void *ctx, const struct sl_conf_map *m)
{
    return (char *)ctx + m->offset;
}

static void list_free(struct sl_conf_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i]);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int list_push(struct sl_conf_list *l, const char *s, size_t len)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
    if (!v) {
        return -ENOMEM;
    }
    l->v = v;
    l->v[l->n] = strndup(s, len);
    if (!l->v[l->n]) {
        return -ENOMEM;
    }
    l->n++;
    return 0;
}

/* Space- or comma-separated words (Flume writes lists as "c1 c2"). */
static int list_from_text(struct sl_conf_list *l, const char *text)
{
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
        }
        const char *s = p;
        while (*p && *p != ' ' && *p != '\t' && *p != ',') {
            p++;
        }
        if (p > s && list_push(l, s, (size_t)(p - s)) != 0) {
            return -ENOMEM;
        }
    }
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    if (strcasecmp(s, "true") == 0) {
        *out = 1;
        return 0;
    }
    if (strcasecmp(s, "false") == 0) {
        *out = 0;
        return 0;
    }
    return -EINVAL;
}

/* 0, -EINVAL (not an integer) or -ERANGE (outside [min, max]). */
static int parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!*s) {
        return -EINVAL;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || end == s) {
        return -EINVAL;
    }
    if (errno == ERANGE || v < min || v > max) {
        return -ERANGE;
    }
    *out = v;
    return 0;
}

/* Set one scalar value; returns 0, -EINVAL, -ERANGE, -ENOMEM, or -EDOM (not a choice). */
static int set_text(const struct sl_conf_map *m, void *ctx, const char *text)
{
    void *f = field(ctx, m);
    switch (m->type) {
    case SL_CONF_STR: {
        if (m->choices) {
            int ok = 0;
            for (const char *const *c = m->choices; *c; c++) {
                ok |= strcmp(*c, text) == 0;
            }
            if (!ok) {
                return -EDOM;
            }
        }
        char *dup = strdup(text);
        if (!dup) {
            return -ENOMEM;
        }
        free(*(char **)f);
        *(char **)f = dup;
        return 0;
    }
    case SL_CONF_INT:
        return parse_int(text, m->min, m->max, (int64_t *)f);
    case SL_CONF_BOOL:
        return parse_bool(text, (int *)f);
    case SL_CONF_LIST:
        list_free(f);
        return list_from_text(f, text);
    case SL_CONF_PREFIX:
        return -EINVAL;
    }
    return -EINVAL;
}

int sl_conf_defaults(const struct sl_conf_map *map, void *ctx, struct sl_err *err)
{
    for (const struct sl_conf_map *m = map; m->key; m++) {
        if (m->def && set_text(m, ctx, m->def) != 0) {
            return sl_err_set(err, SL_ECONFIG, "bad built-in default for %s", m->key);
        }
    }
    return 0;
}

void sl_conf_free(const struct sl_conf_map *map, void *ctx)
{
    for (const struct sl_conf_map *m = map; m->key; m++) {
        void *f = field(ctx, m);
        if (m->type == SL_CONF_STR) {
            free(*(char **)f);
            *(char **)f = NULL;
        } else if (m->type == SL_CONF_LIST) {
            list_free(f);
        } else if (m->type == SL_CONF_PREFIX) {
            struct sl_conf_kv *kv = f;
            for (size_t i = 0; i < kv->n; i++) {
                free(kv->keys[i]);
                free(kv->values[i]);
            }
            free(kv->keys);
            free(kv->values);
            memset(kv, 0, sizeof(*kv));
        }
    }
}

struct bind {
    const struct sl_conf_map *map;
    void *ctx;
    const struct sl_yaml_doc *doc;
    const char *const *skip;
    const char *what;
    struct sl_err *err;
    unsigned char seen[128]; /* by map index */
};

static int known_keys(const struct sl_conf_map *map, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const struct sl_conf_map *m = map; m->key && n < len; m++) {
        n += (size_t)snprintf(buf + n, len - n, "%s%s%s", n ? ", " : "", m->key,
                              m->type == SL_CONF_PREFIX ? "*" : "");
    }
    return 0;
}

static int bind_value(struct bind *b, const char *key, const struct sl_yaml_node *at,
                      const struct sl_yaml_node *v)
{
    const struct sl_conf_map *hit = NULL;
    for (const struct sl_conf_map *m = b->map; m->key; m++) {
        if (m->type != SL_CONF_PREFIX && strcmp(m->key, key) == 0) {
            hit = m;
            break;
        }
    }
    if (!hit) {
        for (const struct sl_conf_map *m = b->map; m->key; m++) {
            size_t pl = strlen(m->key);
            if (m->type == SL_CONF_PREFIX && strncmp(m->key, key, pl) == 0 && key[pl]) {
                if (v->kind != SL_YAML_SCALAR) {
                    return sl_yaml_error(b->err, b->doc, at, "%s: %s: expected a scalar value",
                                         b->what, key);
                }
                struct sl_conf_kv *kv = field(b->ctx, m);
                for (size_t i = 0; i < kv->n; i++) {
                    if (strcmp(kv->keys[i], key + pl) == 0) {
                        return sl_yaml_error(b->err, b->doc, at, "%s: key '%s' is set twice",
                                             b->what, key);
                    }
                }
                char **k = realloc(kv->keys, (kv->n + 1) * sizeof(*k));
                if (k) {
                    kv->keys = k;
                }
                char **vv = realloc(kv->values, (kv->n + 1) * sizeof(*vv));
                if (vv) {
                    kv->values = vv;
                }
                if (!k || !vv) {
                    return sl_err_set(b->err, -ENOMEM, "out of memory");
                }
                kv->keys[kv->n] = strdup(key + pl);
                kv->values[kv->n] = strdup(v->value);
                kv->n++;
                return 0;
            }
        }
        char known[400];
        known_keys(b->map, known, sizeof(known));
        return sl_yaml_error(b->err, b->doc, at, "%s: unknown key '%s' (known keys: %s)", b->what,
                             key, known);
    }
    size_t idx = (size_t)(hit - b->map);
    if (idx < sizeof(b->seen)) {
        if (b->seen[idx]) {
            return sl_yaml_error(b->err, b->doc, at, "%s: key '%s' is set twice", b->what, key);
        }
        b->seen[idx] = 1;
    }
    if (hit->type == SL_CONF_LIST && v->kind == SL_YAML_SEQ) {
        struct sl_conf_list *l = field(b->ctx, hit);
        list_free(l);
        for (size_t i = 0; i < v->n; i++) {
            if (v->items[i]->kind != SL_YAML_SCALAR) {
                return sl_yaml_error(b->err, b->doc, v->items[i],
                                     "%s: %s: list items must be plain names", b->what, key);
            }
            if (list_push(l, v->items[i]->value, strlen(v->items[i]->value)) != 0) {
                return sl_err_set(b->err, -ENOMEM, "out of memory");
            }
        }
        return 0;
    }
    if (v->kind != SL_YAML_SCALAR) {
        return sl_yaml_error(b->err, b->doc, v, "%s: %s: expected %s, got a %s", b->what, key,
                             type_name(hit->type), v->kind == SL_YAML_SEQ ? "list" : "map");
    }
    int rc = set_text(hit, b->ctx, v->value);
    switch (rc) {
    case 0:
        return 0;
    case -ERANGE:
        return sl_yaml_error(b->err, b->doc, v,
                             "%s: %s: %s is out of range [%" PRId64 ", %" PRId64 "]", b->what, key,
                             v->value, hit->min, hit->max);
    case -EDOM: {
        char choices[256];
        size_t n = 0;
        choices[0] = '\0';
        for (const char *const *c = hit->choices; *c && n < sizeof(choices); c++) {
            n += (size_t)snprintf(choices + n, sizeof(choices) - n, "%s%s", n ? ", " : "", *c);
        }
        return sl_yaml_error(b->err, b->doc, v, "%s: %s: '%s' is not one of: %s", b->what, key,
                             v->value, choices);
    }
    case -ENOMEM:
        return sl_err_set(b->err, -ENOMEM, "out of memory");
    default:
        if (hit->type == SL_CONF_INT) {
            return sl_yaml_error(b->err, b->doc, v, "%s: %s: expected an integer, got '%s'",
                                 b->what, key, v->value);
        }
        return sl_yaml_error(b->err, b->doc, v, "%s: %s: expected true or false, got '%s'", b->what,
                             key, v->value);
    }
}

static int bind_map(struct bind *b, const struct sl_yaml_node *map, const char *prefix)
{
    for (size_t i = 0; i < map->n; i++) {
        if (!prefix[0] && b->skip) {
            int skipped = 0;
            for (const char *const *s = b->skip; *s; s++) {
                skipped |= strcmp(*s, map->keys[i]) == 0;
            }
            if (skipped) {
                continue;
            }
        }
        char key[KEY_MAX];
        struct sl_yaml_node at = {.line = map->key_lines[i], .col = map->key_cols[i]};
        int n = snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", map->keys[i]);
        if (n < 0 || (size_t)n >= sizeof(key)) {
            return sl_yaml_error(b->err, b->doc, &at, "%s: key too long", b->what);
        }
        const struct sl_yaml_node *v = map->items[i];
        /* A nested map is a dotted prefix, unless the key itself names a value. */
        if (v->kind == SL_YAML_MAP) {
            for (const struct sl_conf_map *m = b->map; m->key; m++) {
                if (m->type != SL_CONF_PREFIX && strcmp(m->key, key) == 0) {
                    return sl_yaml_error(b->err, b->doc, v, "%s: %s: expected %s, got a map",
                                         b->what, key, type_name(m->type));
                }
            }
            int rc = bind_map(b, v, key);
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        int rc = bind_value(b, key, &at, v);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int sl_conf_bind(const struct sl_conf_map *map, void *ctx, const struct sl_yaml_doc *doc,
                 const struct sl_yaml_node *node, const char *const *skip, const char *what,
                 struct sl_err *err)
{
    int rc = sl_conf_defaults(map, ctx, err);
    if (rc != 0) {
        return rc;
    }
    if (node->kind != SL_YAML_MAP) {
        return sl_yaml_error(err, doc, node, "%s: expected a map of settings", what);
    }
    struct bind b = {.map = map, .ctx = ctx, .doc = doc, .skip = skip, .what = what, .err = err};
    memset(b.seen, 0, sizeof(b.seen));
    rc = bind_map(&b, node, "");
    if (rc != 0) {
        return rc;
    }
    for (const struct sl_conf_map *m = map; m->key; m++) {
        if ((m->flags & SL_CONF_REQUIRED) && !b.seen[m - map]) {
            return sl_yaml_error(err, doc, node, "%s: missing required key '%s'", what, m->key);
        }
    }
    return 0;
}

void sl_conf_print(const struct sl_conf_map *map, const void *ctx, FILE *out, const char *indent)
{
    for (const struct sl_conf_map *m = map; m->key; m++) {
        const void *f = (const char *)ctx + m->offset;
        switch (m->type) {
        case SL_CONF_STR: {
            const char *s = *(char *const *)f;
            fprintf(out, "%s%s: %s\n", indent, m->key, s ? s : "(unset)");
            break;
        }
        case SL_CONF_INT:
            fprintf(out, "%s%s: %" PRId64 "\n", indent, m->key, *(const int64_t *)f);
            break;
        case SL_CONF_BOOL:
            fprintf(out, "%s%s: %s\n", indent, m->key, *(const int *)f ? "true" : "false");
            break;
        case SL_CONF_LIST: {
            const struct sl_conf_list *l = f;
            fprintf(out, "%s%s: [", indent, m->key);
            for (size_t i = 0; i < l->n; i++) {
                fprintf(out, "%s%s", i ? ", " : "", l->v[i]);
            }
            fprintf(out, "]\n");
            break;
        }
        case SL_CONF_PREFIX: {
            const struct sl_conf_kv *kv = f;
            for (size_t i = 0; i < kv->n; i++) {
                fprintf(out, "%s%s%s: %s\n", indent, m->key, kv->keys[i], kv->values[i]);
            }
            break;
        }
        }
    }
}

void sl_conf_print_help(const struct sl_conf_map *map, FILE *out, const char *indent)
{
    for (const struct sl_conf_map *m = map; m->key; m++) {
        fprintf(out, "%s%-30s %-11s %s%s%s%s%s\n", indent, m->key, type_name(m->type),
                m->help ? m->help : "", m->def ? " (default " : "", m->def ? m->def : "",
                m->def ? ")" : "", (m->flags & SL_CONF_REQUIRED) ? " (required)" : "");
    }
}
