/*
 * confmap.h - a plugin's configuration map (keys, types, defaults, ranges, help) and the
 * strict binder from a YAML map node to the plugin's config struct. The map is also what
 * `--check` prints and what rejects an unknown key, a wrong type or an out-of-range value
 * with file:line:col.
 *
 * Threads: maps are const and shared; a bound struct belongs to whoever bound it.
 */
#ifndef SL_CONF_CONFMAP_H
#define SL_CONF_CONFMAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/sl_err.h"
#include "yaml.h"

enum sl_conf_type {
    SL_CONF_STR,    /* char * (owned by the struct; NULL when unset without default) */
    SL_CONF_INT,    /* int64_t, in [min, max] */
    SL_CONF_BOOL,   /* int: true|false */
    SL_CONF_LIST,   /* struct sl_conf_list: a YAML list, or a space-separated string */
    SL_CONF_PREFIX, /* struct sl_conf_kv: every key starting with `key` (e.g. "kafka.producer.") */
};

#define SL_CONF_REQUIRED 1

struct sl_conf_map {
    const char *key;
    enum sl_conf_type type;
    const char *def; /* default as text; NULL = none */
    size_t offset;   /* of the field in the plugin's context */
    int64_t min, max;
    int flags;
    const char *const *choices; /* SL_CONF_STR: allowed values, NULL-terminated; NULL = any */
    const char *help;
};

struct sl_conf_list {
    char **v;
    size_t n;
};

struct sl_conf_kv {
    char **keys; /* without the prefix */
    char **values;
    size_t n;
};

/*
 * Bind the map node `node` to ctx through map (terminated by an entry with key NULL):
 * defaults first, then every key of node; nested maps read as dotted prefixes
 * (`kafka: {producer: {acks: 1}}` is `kafka.producer.acks`). Keys listed in `skip`
 * (NULL-terminated, may be NULL) are left for the caller. `what` names the component in
 * messages ("source r1 (netcat)"). Returns 0 or SL_ECONFIG with file:line:col in err; on
 * error ctx may hold partial values: sl_conf_free it anyway.
 */
int sl_conf_bind(const struct sl_conf_map *map, void *ctx, const struct sl_yaml_doc *doc,
                 const struct sl_yaml_node *node, const char *const *skip, const char *what,
                 struct sl_err *err);

/* Set defaults only (for components built without YAML, e.g. in tests). Returns 0 or SL_ECONFIG. */
int sl_conf_defaults(const struct sl_conf_map *map, void *ctx, struct sl_err *err);

/* Free what sl_conf_bind allocated in ctx. */
void sl_conf_free(const struct sl_conf_map *map, void *ctx);

/* Print every key of map with its bound value, one per line, each line prefixed by indent. */
void sl_conf_print(const struct sl_conf_map *map, const void *ctx, FILE *out, const char *indent);

/* Print the keys of map with type, default and help (for --help). */
void sl_conf_print_help(const struct sl_conf_map *map, FILE *out, const char *indent);

/* Field access helpers for plugins. */
#define SL_CONF_STR_AT(ctx, off) (*(char **)((char *)(ctx) + (off)))

#endif
