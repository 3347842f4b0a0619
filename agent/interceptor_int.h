/*
 * interceptor_int.h - what the interceptor files share: one interceptor's ops (a config map
 * plus init / intercept / fini, like a plugin), the chain's per-run scratch, and the PCRE2
 * helper the regex interceptors use. Private to agent/interceptor*.c.
 *
 * Threads: as interceptor.h: built on the main thread, run on the source loop thread.
 */
#ifndef SL_AGENT_INTERCEPTOR_INT_H
#define SL_AGENT_INTERCEPTOR_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>

#include "agent/interceptor.h"
#include "conf/confmap.h"

struct icpt;

/* State shared by the interceptors of one chain during one run. */
struct icpt_run {
    int64_t now_ms;   /* wall clock, read once per run: the events of one put share it */
    uint8_t *scratch; /* growable buffer (search_replace output) */
    size_t scratch_cap;
    uint8_t rnd[4096]; /* uuid: random bytes from getrandom, used up then refilled */
    size_t rnd_pos;
};

/* What intercept returns. */
enum { ICPT_KEEP = 0, ICPT_DROP = 1 };

struct icpt_ops {
    const char *name;
    const char *flume_class; /* Flume's builder class, accepted as a type name too */
    const struct sl_conf_map *conf;
    size_t ctx_size;
    /* Config bound into ic->ctx; check and prepare it. node is the interceptor's map (for
     * positions). 0 or SL_ECONFIG / -ENOMEM with err set. */
    int (*init)(struct icpt *ic, const struct sl_yaml_doc *doc, const struct sl_yaml_node *node,
                struct sl_err *err);
    /* ICPT_KEEP, ICPT_DROP, or -ENOMEM (the event is left as it was). May replace *evp. */
    int (*intercept)(struct icpt *ic, struct sl_event **evp, struct icpt_run *run);
    void (*fini)(struct icpt *ic); /* optional: free what init made (not the bound config) */
};

struct icpt {
    const struct icpt_ops *ops;
    void *ctx;      /* ops->ctx_size bytes: the bound config first, then state */
    char what[160]; /* "source r1: interceptor 2 (regex_filter)" */
};

/* A compiled PCRE2 pattern with its match data (one run at a time). */
struct sl_rx {
    pcre2_code *code;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit_stack;
    int jit; /* 1 when JIT-compiled */
};

/*
 * Compile pattern (key names it in messages; at is its node, or the interceptor's node when
 * the pattern is a default). A bad pattern is SL_ECONFIG at at's line:col with PCRE2's
 * message and the offset. Falls back to the interpreter when JIT is unavailable.
 */
int sl__rx_compile(struct sl_rx *rx, const char *pattern, const char *key, const char *what,
                   const struct sl_yaml_doc *doc, const struct sl_yaml_node *at,
                   struct sl_err *err);
void sl__rx_free(struct sl_rx *rx);

/* Search for the pattern anywhere in s[0..len) (Java's Matcher.find). 1 found, 0 not, or a
 * negative PCRE2 error (match limit, ...) which callers treat as "not found". */
int sl__rx_find(struct sl_rx *rx, const uint8_t *s, size_t len);

extern const struct icpt_ops sl__icpt_regex_filter_ops;
extern const struct icpt_ops sl__icpt_regex_extractor_ops;
extern const struct icpt_ops sl__icpt_search_replace_ops;
extern const struct icpt_ops sl__icpt_remove_header_ops;

#endif
