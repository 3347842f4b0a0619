/*
 * yaml.c - YAML into a tree of nodes that remember file, line and column (see yaml.h),
 * read with libyaml's event parser. Strict: duplicate keys, non-scalar keys, anchors and
 * aliases, tags and multiple documents are errors, because a configuration that means
 * something other than it looks is worse than one that fails to load.
 *
 * Threads: a tree belongs to whoever loaded it.
 */
#include "yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_DEPTH_MAX 64

static void node_free(struct sl_yaml_node *n)
{
    if (!n) {
        return;
    }
    free(n->value);
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys) {
            free(n->keys[i]);
        }
        node_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->key_lines);
    free(n->key_cols);
    free(n);
}

void sl_yaml_free(struct sl_yaml_doc *doc)
{
    node_free(doc->root);
    free(doc->file);
    doc->root = NULL;
    doc->file = NULL;
}

static int at(struct sl_err *err, const char *file, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int at(struct sl_err *err, const char *file, yaml_mark_t m, const char *fmt, ...)
{
    if (err) {
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(err->msg, sizeof(err->msg), "%s:%zu:%zu: %s", file, m.line + 1, m.column + 1,
                 msg);
        err->file = file;
        err->line = (int)m.line + 1;
        err->col = (int)m.column + 1;
    }
    return SL_ECONFIG;
}

struct parse {
    yaml_parser_t parser;
    const char *file;
    struct sl_err *err;
};

static int next_event(struct parse *p, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&p->parser, ev)) {
        return at(p->err, p->file, p->parser.problem_mark, "%s%s%s",
                  p->parser.problem ? p->parser.problem : "YAML syntax error",
                  p->parser.context ? " " : "", p->parser.context ? p->parser.context : "");
    }
    return 0;
}

static struct sl_yaml_node *node_new(enum sl_yaml_kind kind, yaml_mark_t m)
{
    struct sl_yaml_node *n = calloc(1, sizeof(*n));
    if (n) {
        n->kind = kind;
        n->line = (int)m.line + 1;
        n->col = (int)m.column + 1;
    }
    return n;
}

static int push(struct sl_yaml_node *n, char *key, int kline, int kcol, struct sl_yaml_node *v)
{
    size_t k = n->n + 1;
    struct sl_yaml_node **items = realloc(n->items, k * sizeof(*items));
    if (!items) {
        return -ENOMEM;
    }
    n->items = items;
    if (n->kind == SL_YAML_MAP) {
        char **keys = realloc(n->keys, k * sizeof(*keys));
        if (keys) {
            n->keys = keys;
        }
        int *lines = realloc(n->key_lines, k * sizeof(int));
        if (lines) {
            n->key_lines = lines;
        }
        int *cols = realloc(n->key_cols, k * sizeof(int));
        if (cols) {
            n->key_cols = cols;
        }
        if (!keys || !lines || !cols) {
            return -ENOMEM;
        }
        n->keys[n->n] = key;
        n->key_lines[n->n] = kline;
        n->key_cols[n->n] = kcol;
    }
    n->items[n->n++] = v;
    return 0;
}

static int parse_node(struct parse *p, yaml_event_t *ev, int depth, struct sl_yaml_node **out);

/* Reject what we do not support in configuration: anchors, aliases, explicit tags. */
static int check_plain(struct parse *p, yaml_event_t *ev)
{
    const yaml_char_t *anchor = NULL, *tag = NULL;
    int implicit = 1;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return at(p->err, p->file, ev->start_mark, "aliases are not supported in configuration");
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        implicit = ev->data.scalar.plain_implicit || ev->data.scalar.quoted_implicit;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        implicit = ev->data.mapping_start.implicit;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        implicit = ev->data.sequence_start.implicit;
        break;
    default:
        break;
    }
    if (anchor) {
        return at(p->err, p->file, ev->start_mark, "anchors are not supported in configuration");
    }
    if (tag && !implicit) {
        return at(p->err, p->file, ev->start_mark, "tags (%s) are not supported in configuration",
                  (const char *)tag);
    }
    return 0;
}

static int parse_collection(struct parse *p, struct sl_yaml_node *n, int depth)
{
    int map = n->kind == SL_YAML_MAP;
    for (;;) {
        yaml_event_t ev;
        int rc = next_event(p, &ev);
        if (rc != 0) {
            return rc;
        }
        if (ev.type == (map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT)) {
            yaml_event_delete(&ev);
            return 0;
        }
        char *key = NULL;
        int kline = 0, kcol = 0;
        if (map) {
            if (ev.type != YAML_SCALAR_EVENT) {
                rc = at(p->err, p->file, ev.start_mark, "a key must be a plain value");
                yaml_event_delete(&ev);
                return rc;
            }
            if ((rc = check_plain(p, &ev)) != 0) {
                yaml_event_delete(&ev);
                return rc;
            }
            key = strdup((const char *)ev.data.scalar.value);
            kline = (int)ev.start_mark.line + 1;
            kcol = (int)ev.start_mark.column + 1;
            for (size_t i = 0; key && i < n->n; i++) {
                if (strcmp(n->keys[i], key) == 0) {
                    rc = at(p->err, p->file, ev.start_mark,
                            "duplicate key '%s' (first at line %d)", key, n->key_lines[i]);
                    free(key);
                    yaml_event_delete(&ev);
                    return rc;
                }
            }
            yaml_event_delete(&ev);
            if (!key) {
                return -ENOMEM;
            }
            if ((rc = next_event(p, &ev)) != 0) {
                free(key);
                return rc;
            }
        }
        struct sl_yaml_node *child = NULL;
        rc = parse_node(p, &ev, depth + 1, &child);
        yaml_event_delete(&ev);
        if (rc == 0) {
            rc = push(n, key, kline, kcol, child);
        }
        if (rc != 0) {
            free(key);
            node_free(child);
            return rc;
        }
    }
}

/* Build the node that starts with ev (which the caller deletes). */
static int parse_node(struct parse *p, yaml_event_t *ev, int depth, struct sl_yaml_node **out)
{
    int rc = check_plain(p, ev);
    if (rc != 0) {
        return rc;
    }
    if (depth > YAML_DEPTH_MAX) {
        return at(p->err, p->file, ev->start_mark, "nested deeper than %d levels", YAML_DEPTH_MAX);
    }
    struct sl_yaml_node *n;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n = node_new(SL_YAML_SCALAR, ev->start_mark);
        if (!n || !(n->value = strdup((const char *)ev->data.scalar.value))) {
            node_free(n);
            return -ENOMEM;
        }
        n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        *out = n;
        return 0;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        n = node_new(ev->type == YAML_MAPPING_START_EVENT ? SL_YAML_MAP : SL_YAML_SEQ,
                     ev->start_mark);
        if (!n) {
            return -ENOMEM;
        }
        rc = parse_collection(p, n, depth);
        if (rc != 0) {
            node_free(n);
            return rc;
        }
        *out = n;
        return 0;
    default:
        return at(p->err, p->file, ev->start_mark, "unexpected YAML structure");
    }
}

static int load(struct parse *p, struct sl_yaml_doc *doc)
{
    yaml_event_t ev;
    int rc;
    int docs = 0;
    for (;;) {
        if ((rc = next_event(p, &ev)) != 0) {
            return rc;
        }
        yaml_event_type_t type = ev.type;
        if (type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        if (type == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            rc = at(p->err, p->file, ev.start_mark, "only one YAML document is allowed");
            yaml_event_delete(&ev);
            return rc;
        }
        if (type == YAML_SCALAR_EVENT || type == YAML_MAPPING_START_EVENT ||
            type == YAML_SEQUENCE_START_EVENT || type == YAML_ALIAS_EVENT) {
            rc = parse_node(p, &ev, 0, &doc->root);
            yaml_event_delete(&ev);
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        yaml_event_delete(&ev);
    }
}

static int load_with(struct sl_yaml_doc *doc, const char *file, FILE *fp, const char *text,
                     size_t len, struct sl_err *err)
{
    struct parse p = {.file = NULL, .err = err};
    memset(doc, 0, sizeof(*doc));
    doc->file = strdup(file);
    if (!doc->file) {
        return -ENOMEM;
    }
    p.file = doc->file;
    if (!yaml_parser_initialize(&p.parser)) {
        sl_yaml_free(doc);
        return -ENOMEM;
    }
    if (fp) {
        yaml_parser_set_input_file(&p.parser, fp);
    } else {
        yaml_parser_set_input_string(&p.parser, (const unsigned char *)text, len);
    }
    int rc = load(&p, doc);
    yaml_parser_delete(&p.parser);
    if (rc != 0) {
        /* err->file points into doc->file: keep the name alive for the caller. */
        node_free(doc->root);
        doc->root = NULL;
        if (err && err->file == doc->file) {
            static __thread char name[1024];
            snprintf(name, sizeof(name), "%s", doc->file);
            err->file = name;
        }
        free(doc->file);
        doc->file = NULL;
    }
    return rc;
}

int sl_yaml_load_file(const char *path, struct sl_yaml_doc *doc, struct sl_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        memset(doc, 0, sizeof(*doc));
        sl_err_set(err, -e, "%s: %s", path, strerror(e));
        return -e;
    }
    int rc = load_with(doc, path, fp, NULL, 0, err);
    fclose(fp);
    return rc;
}

int sl_yaml_load_string(const char *text, size_t len, struct sl_yaml_doc *doc,
                        struct sl_err *err)
{
    return load_with(doc, "<string>", NULL, text, len, err);
}

struct sl_yaml_node *sl_yaml_get(const struct sl_yaml_node *map, const char *key)
{
    if (!map || map->kind != SL_YAML_MAP) {
        return NULL;
    }
    for (size_t i = 0; i < map->n; i++) {
        if (strcmp(map->keys[i], key) == 0) {
            return map->items[i];
        }
    }
    return NULL;
}

int sl_yaml_error(struct sl_err *err, const struct sl_yaml_doc *doc,
                  const struct sl_yaml_node *node, const char *fmt, ...)
{
    if (err) {
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        const char *file = doc && doc->file ? doc->file : "<config>";
        int line = node ? node->line : 0;
        int col = node ? node->col : 0;
        snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: %s", file, line, col, msg);
        err->file = file;
        err->line = line;
        err->col = col;
    }
    return SL_ECONFIG;
}
