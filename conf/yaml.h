/*
 * yaml.h - YAML documents read with libyaml into a tree of nodes that remember their file,
 * line and column, so every configuration error can point at the offending text.
 *
 * Threads: a tree belongs to whoever loaded it; nothing here is shared.
 */
#ifndef SL_CONF_YAML_H
#define SL_CONF_YAML_H

#include <stddef.h>

#include "../common/sl_err.h"

enum sl_yaml_kind { SL_YAML_SCALAR, SL_YAML_MAP, SL_YAML_SEQ };

struct sl_yaml_node {
    enum sl_yaml_kind kind;
    char *value;                 /* scalars: the text (never NULL for a scalar) */
    int quoted;                  /* scalar was quoted ('...' or "...") */
    char **keys;                 /* maps: keys, in document order */
    struct sl_yaml_node **items; /* maps: values (parallel to keys); sequences: items */
    int *key_lines;              /* maps: where each key is (1-based) */
    int *key_cols;
    size_t n;
    int line; /* 1-based position of the node */
    int col;
};

struct sl_yaml_doc {
    char *file;                 /* as given to sl_yaml_load_file, or "<string>" */
    struct sl_yaml_node *root;  /* NULL for an empty document */
};

/*
 * Parse a file (or a string) into doc. Duplicate keys in one map, anchors/aliases and more
 * than one document are errors. Returns 0, or SL_ECONFIG / -errno with err->file/line/col
 * set. On error doc is left empty (sl_yaml_free is still safe).
 */
int sl_yaml_load_file(const char *path, struct sl_yaml_doc *doc, struct sl_err *err);
int sl_yaml_load_string(const char *text, size_t len, struct sl_yaml_doc *doc,
                        struct sl_err *err);
void sl_yaml_free(struct sl_yaml_doc *doc);

/* The value of key in a map node, or NULL. */
struct sl_yaml_node *sl_yaml_get(const struct sl_yaml_node *map, const char *key);

/* Record a configuration error at node's position (err->file/line/col). Returns SL_ECONFIG. */
__attribute__((format(printf, 4, 5))) int sl_yaml_error(struct sl_err *err,
                                                        const struct sl_yaml_doc *doc,
                                                        const struct sl_yaml_node *node,
                                                        const char *fmt, ...);

#endif
