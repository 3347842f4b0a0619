/*
 * interceptor_regex.c - the interceptors that run a regex: regex_filter (keep or drop by a
 * match on the body), regex_extractor (capture groups of a match on the body become headers),
 * search_replace (Java's String.replaceAll on the body, which makes a new event) and
 * remove_header (by name, list or regex). Patterns are PCRE2, JIT-compiled when the platform
 * allows, matched on the body bytes as they are (no UTF-8 mode: a body need not be valid
 * UTF-8). Like Flume's, the body matchers search anywhere (Matcher.find), not the whole body.
 *
 * Threads: built on the main thread, run on the source loop thread only (the match data in
 * struct sl_rx is reused from event to event).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/interceptor_int.h"
#include "common/sl_log.h"
#include "common/sl_macros.h"

#define OFF(type, f) offsetof(type, f)
#define CONF_END                                                                                   \
    {                                                                                              \
        NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL                                                      \
    }

/* ---- PCRE2 helper ------------------------------------------------------------------ */

static int rx_compile_opts(struct sl_rx *rx, const char *pattern, uint32_t opts, const char *key,
                           const char *what, const struct sl_yaml_doc *doc,
                           const struct sl_yaml_node *at, struct sl_err *err)
{
    int code;
    PCRE2_SIZE off;
    memset(rx, 0, sizeof(*rx));
    rx->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &code, &off, NULL);
    if (!rx->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof(msg));
        return sl_yaml_error(err, doc, at, "%s: %s: bad regex at offset %zu: %s", what, key,
                             (size_t)off, (const char *)msg);
    }
    rx->jit = pcre2_jit_compile(rx->code, PCRE2_JIT_COMPLETE) == 0;
    rx->md = pcre2_match_data_create_from_pattern(rx->code, NULL);
    rx->mctx = pcre2_match_context_create(NULL);
    if (!rx->md || !rx->mctx) {
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    if (rx->jit) {
        /* The default 32 KiB JIT stack is too small for some real patterns on long lines. */
        rx->jit_stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
        if (rx->jit_stack) {
            pcre2_jit_stack_assign(rx->mctx, NULL, rx->jit_stack);
        }
    }
    return 0;
}

int sl__rx_compile(struct sl_rx *rx, const char *pattern, const char *key, const char *what,
                   const struct sl_yaml_doc *doc, const struct sl_yaml_node *at, struct sl_err *err)
{
    return rx_compile_opts(rx, pattern, 0, key, what, doc, at, err);
}

void sl__rx_free(struct sl_rx *rx)
{
    pcre2_match_data_free(rx->md);
    pcre2_match_context_free(rx->mctx);
    pcre2_jit_stack_free(rx->jit_stack);
    pcre2_code_free(rx->code);
    memset(rx, 0, sizeof(*rx));
}

int sl__rx_find(struct sl_rx *rx, const uint8_t *s, size_t len)
{
    int rc = pcre2_match(rx->code, s, len, 0, 0, rx->md, rx->mctx);
    if (rc == PCRE2_ERROR_NOMATCH) {
        return 0;
    }
    return rc > 0 ? 1 : rc;
}

/* A match error (match limit, JIT stack) on one event: logged at most once a second. */
static void rx_match_error(const char *what, int rc, int64_t *last_log_ms)
{
    if (sl_every_ms(last_log_ms, 1000)) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof(msg));
        sl_log(SL_LOG_WARN, "%s: regex match failed (%s): taken as no match", what,
               (const char *)msg);
    }
}

/* The node of key in the interceptor's map, or the map itself (a default value). */
static const struct sl_yaml_node *key_node(const struct sl_yaml_node *node, const char *key)
{
    const struct sl_yaml_node *n = sl_yaml_get(node, key);
    return n ? n : node;
}

/* ---- regex_filter ------------------------------------------------------------------ */

struct filter_ctx {
    char *regex;
    int exclude;
    struct sl_rx rx;
    int64_t last_log_ms;
};

static const struct sl_conf_map filter_conf[] = {
    {"regex", SL_CONF_STR, ".*", OFF(struct filter_ctx, regex), 0, 0, 0, NULL,
     "PCRE2 pattern searched in the body"},
    {"excludeEvents", SL_CONF_BOOL, "false", OFF(struct filter_ctx, exclude), 0, 0, 0, NULL,
     "drop the events that match (false: keep only those)"},
    CONF_END,
};

static int filter_init(struct icpt *ic, const struct sl_yaml_doc *doc,
                       const struct sl_yaml_node *node, struct sl_err *err)
{
    struct filter_ctx *c = ic->ctx;
    return sl__rx_compile(&c->rx, c->regex, "regex", ic->what, doc, key_node(node, "regex"), err);
}

static int filter_intercept(struct icpt *ic, struct sl_event **evp, struct icpt_run *run)
{
    struct filter_ctx *c = ic->ctx;
    int m = sl__rx_find(&c->rx, (*evp)->body, (*evp)->len);
    if (m < 0) {
        rx_match_error(ic->what, m, &c->last_log_ms);
        m = 0;
    }
    return m == c->exclude ? ICPT_DROP : ICPT_KEEP;
}

static void filter_fini(struct icpt *ic)
{
    sl__rx_free(&((struct filter_ctx *)ic->ctx)->rx);
}

const struct icpt_ops sl__icpt_regex_filter_ops = {
    .name = "regex_filter",
    .flume_class = "org.apache.flume.interceptor.RegexFilteringInterceptor$Builder",
    .conf = filter_conf,
    .ctx_size = sizeof(struct filter_ctx),
    .init = filter_init,
    .intercept = filter_intercept,
    .fini = filter_fini,
};

/* ---- regex_extractor --------------------------------------------------------------- */

struct extract_ctx {
    char *regex;
    struct sl_conf_list serializers;
    struct sl_rx rx;
    uint32_t ngroups;
    const char **header; /* [1..ngroups]: the header a group goes to, or NULL */
    int64_t last_log_ms;
};

static const struct sl_conf_map extract_conf[] = {
    {"regex", SL_CONF_STR, NULL, OFF(struct extract_ctx, regex), 0, 0, SL_CONF_REQUIRED, NULL,
     "PCRE2 pattern searched in the body; named groups (?<name>...) become headers"},
    {"serializers", SL_CONF_LIST, NULL, OFF(struct extract_ctx, serializers), 0, 0, 0, NULL,
     "header names for groups 1, 2, ... in order (Flume's serializers.<s>.name)"},
    CONF_END,
};

static int extract_init(struct icpt *ic, const struct sl_yaml_doc *doc,
                        const struct sl_yaml_node *node, struct sl_err *err)
{
    struct extract_ctx *c = ic->ctx;
    int rc = sl__rx_compile(&c->rx, c->regex, "regex", ic->what, doc, key_node(node, "regex"), err);
    if (rc != 0) {
        return rc;
    }
    uint32_t names = 0, entry = 0;
    PCRE2_SPTR table = NULL;
    pcre2_pattern_info(c->rx.code, PCRE2_INFO_CAPTURECOUNT, &c->ngroups);
    pcre2_pattern_info(c->rx.code, PCRE2_INFO_NAMECOUNT, &names);
    pcre2_pattern_info(c->rx.code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
    pcre2_pattern_info(c->rx.code, PCRE2_INFO_NAMETABLE, &table);
    if (c->serializers.n > c->ngroups) {
        return sl_yaml_error(err, doc, key_node(node, "serializers"),
                             "%s: serializers names %zu headers but the regex has %u capture "
                             "group(s)",
                             ic->what, c->serializers.n, c->ngroups);
    }
    c->header = calloc((size_t)c->ngroups + 1, sizeof(*c->header));
    if (!c->header) {
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    size_t set = 0;
    for (uint32_t i = 0; i < names; i++) {
        const uint8_t *e = table + (size_t)i * entry;
        uint32_t g = (uint32_t)e[0] << 8 | e[1];
        c->header[g] = (const char *)(e + 2);
    }
    for (size_t i = 0; i < c->serializers.n; i++) {
        c->header[i + 1] = c->serializers.v[i];
    }
    for (uint32_t g = 1; g <= c->ngroups; g++) {
        set += c->header[g] != NULL;
    }
    if (set == 0) {
        return sl_yaml_error(err, doc, key_node(node, "regex"),
                             "%s: the regex has no named group such as (?<level>\\w+) and no "
                             "serializers name its groups: nothing would be extracted",
                             ic->what);
    }
    return 0;
}

static int extract_intercept(struct icpt *ic, struct sl_event **evp, struct icpt_run *run)
{
    struct extract_ctx *c = ic->ctx;
    struct sl_event *ev = *evp;
    int m = sl__rx_find(&c->rx, ev->body, ev->len);
    if (m <= 0) {
        if (m < 0) {
            rx_match_error(ic->what, m, &c->last_log_ms);
        }
        return ICPT_KEEP;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->rx.md);
    for (uint32_t g = 1; g <= c->ngroups; g++) {
        if (!c->header[g] || ov[2 * g] == PCRE2_UNSET) {
            continue;
        }
        int rc = sl_event_set_header_len(ev, c->header[g], (const char *)ev->body + ov[2 * g],
                                         ov[2 * g + 1] - ov[2 * g]);
        if (rc != 0) {
            return rc;
        }
    }
    return ICPT_KEEP;
}

static void extract_fini(struct icpt *ic)
{
    struct extract_ctx *c = ic->ctx;
    sl__rx_free(&c->rx);
    free(c->header);
}

const struct icpt_ops sl__icpt_regex_extractor_ops = {
    .name = "regex_extractor",
    .flume_class = "org.apache.flume.interceptor.RegexExtractorInterceptor$Builder",
    .conf = extract_conf,
    .ctx_size = sizeof(struct extract_ctx),
    .init = extract_init,
    .intercept = extract_intercept,
    .fini = extract_fini,
};

/* ---- search_replace ---------------------------------------------------------------- */

struct replace_ctx {
    char *search;
    char *replace;
    char *charset;
    struct sl_rx rx;
    char *repl; /* replace in PCRE2's substitution syntax */
    int64_t last_log_ms;
};

static const struct sl_conf_map replace_conf[] = {
    {"searchPattern", SL_CONF_STR, NULL, OFF(struct replace_ctx, search), 0, 0, SL_CONF_REQUIRED,
     NULL, "PCRE2 pattern; every match in the body is replaced"},
    {"replaceString", SL_CONF_STR, "", OFF(struct replace_ctx, replace), 0, 0, 0, NULL,
     "replacement, Java syntax: $1 or ${name} for a group, \\$ for a dollar sign"},
    {"charset", SL_CONF_STR, "UTF-8", OFF(struct replace_ctx, charset), 0, 0, 0, NULL,
     "accepted for Flume compatibility; bodies are matched as bytes"},
    CONF_END,
};

struct sbuf {
    char *p;
    size_t n, cap;
};

static int sb_add(struct sbuf *b, const char *s, size_t len)
{
    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->n + len + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            return -ENOMEM;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
    return 0;
}

/*
 * Java's Matcher.appendReplacement syntax into PCRE2's: "\x" is a literal x, "$n" the
 * longest group number that exists (at least one digit), "${name}" a named group; a literal
 * dollar becomes "$$". Returns 0, -ENOMEM, or SL_ECONFIG with why in msg (Java throws the
 * same cases at run time; we find them at config time).
 */
static int java_replacement(const char *in, const pcre2_code *code, char **out, char *msg,
                            size_t msglen)
{
    uint32_t groups = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
    struct sbuf b = {0};
    int rc = sb_add(&b, "", 0);
    for (const char *p = in; rc == 0 && *p;) {
        if (*p == '\\') {
            if (!p[1]) {
                snprintf(msg, msglen, "a \\ at the end escapes nothing (write \\\\)");
                rc = SL_ECONFIG;
                break;
            }
            rc = p[1] == '$' ? sb_add(&b, "$$", 2) : sb_add(&b, p + 1, 1);
            p += 2;
        } else if (*p == '$' && p[1] == '{') {
            const char *end = strchr(p + 2, '}');
            if (!end || end == p + 2) {
                snprintf(msg, msglen, "${ without a group name and closing }");
                rc = SL_ECONFIG;
                break;
            }
            char name[128];
            snprintf(name, sizeof(name), "%.*s", (int)(end - p - 2), p + 2);
            if (pcre2_substring_number_from_name(code, (PCRE2_SPTR)name) < 0) {
                snprintf(msg, msglen, "no group named '%s' in searchPattern", name);
                rc = SL_ECONFIG;
                break;
            }
            rc = sb_add(&b, p, (size_t)(end - p) + 1);
            p = end + 1;
        } else if (*p == '$') {
            if (p[1] < '0' || p[1] > '9') {
                snprintf(msg, msglen, "illegal group reference after $ (write \\$ for a dollar)");
                rc = SL_ECONFIG;
                break;
            }
            uint32_t ref = (uint32_t)(p[1] - '0');
            if (ref > groups) {
                snprintf(msg, msglen, "no group %u in searchPattern (it has %u)", ref, groups);
                rc = SL_ECONFIG;
                break;
            }
            p += 2;
            while (*p >= '0' && *p <= '9' && ref * 10 + (uint32_t)(*p - '0') <= groups) {
                ref = ref * 10 + (uint32_t)(*p++ - '0');
            }
            char g[24];
            int gl = snprintf(g, sizeof(g), "${%u}", ref);
            rc = sb_add(&b, g, (size_t)gl);
        } else {
            rc = sb_add(&b, p++, 1);
        }
    }
    if (rc != 0) {
        free(b.p);
        return rc;
    }
    *out = b.p;
    return 0;
}

static int replace_init(struct icpt *ic, const struct sl_yaml_doc *doc,
                        const struct sl_yaml_node *node, struct sl_err *err)
{
    struct replace_ctx *c = ic->ctx;
    int rc = sl__rx_compile(&c->rx, c->search, "searchPattern", ic->what, doc,
                            key_node(node, "searchPattern"), err);
    if (rc != 0) {
        return rc;
    }
    char msg[200];
    rc = java_replacement(c->replace, c->rx.code, &c->repl, msg, sizeof(msg));
    if (rc == SL_ECONFIG) {
        return sl_yaml_error(err, doc, key_node(node, "replaceString"), "%s: replaceString: %s",
                             ic->what, msg);
    }
    return rc == 0 ? 0 : sl_err_set(err, rc, "out of memory");
}

static int replace_intercept(struct icpt *ic, struct sl_event **evp, struct icpt_run *run)
{
    struct replace_ctx *c = ic->ctx;
    struct sl_event *ev = *evp;
    const uint32_t opts =
        PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH | PCRE2_SUBSTITUTE_UNSET_EMPTY;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!run->scratch) {
            size_t cap = SL_MAX(ev->len + ev->len / 4 + 256, (size_t)4096);
            run->scratch = malloc(cap);
            if (!run->scratch) {
                return -ENOMEM;
            }
            run->scratch_cap = cap;
        }
        PCRE2_SIZE outlen = run->scratch_cap;
        int rc =
            pcre2_substitute(c->rx.code, ev->body, ev->len, 0, opts, c->rx.md, c->rx.mctx,
                             (PCRE2_SPTR)c->repl, PCRE2_ZERO_TERMINATED, run->scratch, &outlen);
        if (rc == 0) {
            return ICPT_KEEP; /* no match: the body stays as it is */
        }
        if (rc > 0) {
            struct sl_event *d = sl_event_with_body(ev, run->scratch, outlen);
            if (!d) {
                return -ENOMEM;
            }
            *evp = d;
            return ICPT_KEEP;
        }
        if (rc != PCRE2_ERROR_NOMEMORY || attempt) {
            rx_match_error(ic->what, rc, &c->last_log_ms);
            return ICPT_KEEP;
        }
        /* outlen is the size needed (with its terminating zero). */
        free(run->scratch);
        run->scratch = malloc(outlen + 1);
        if (!run->scratch) {
            run->scratch_cap = 0;
            return -ENOMEM;
        }
        run->scratch_cap = outlen + 1;
    }
    return ICPT_KEEP;
}

static void replace_fini(struct icpt *ic)
{
    struct replace_ctx *c = ic->ctx;
    sl__rx_free(&c->rx);
    free(c->repl);
}

const struct icpt_ops sl__icpt_search_replace_ops = {
    .name = "search_replace",
    .flume_class = "org.apache.flume.interceptor.SearchAndReplaceInterceptor$Builder",
    .conf = replace_conf,
    .ctx_size = sizeof(struct replace_ctx),
    .init = replace_init,
    .intercept = replace_intercept,
    .fini = replace_fini,
};

/* ---- remove_header ----------------------------------------------------------------- */

struct remove_ctx {
    char *with_name;
    char *from_list;
    char *separator;
    char *matching;
    struct sl_conf_list names; /* from_list split at separator */
    struct sl_rx match_rx;     /* matching, anchored at both ends (Java's matches()) */
    int has_match;
};

static const struct sl_conf_map remove_conf[] = {
    {"withName", SL_CONF_STR, NULL, OFF(struct remove_ctx, with_name), 0, 0, 0, NULL,
     "a header to remove"},
    {"fromList", SL_CONF_STR, NULL, OFF(struct remove_ctx, from_list), 0, 0, 0, NULL,
     "headers to remove, separated by fromListSeparator"},
    {"fromListSeparator", SL_CONF_STR, "\\s*,\\s*", OFF(struct remove_ctx, separator), 0, 0, 0,
     NULL, "PCRE2 pattern that separates fromList"},
    {"matching", SL_CONF_STR, NULL, OFF(struct remove_ctx, matching), 0, 0, 0, NULL,
     "PCRE2 pattern: remove every header whose whole name matches"},
    CONF_END,
};

static int push_name(struct sl_conf_list *l, const char *s, size_t len)
{
    if (len == 0) {
        return 0;
    }
    char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
    if (!v) {
        return -ENOMEM;
    }
    l->v = v;
    if (!(l->v[l->n] = strndup(s, len))) {
        return -ENOMEM;
    }
    l->n++;
    return 0;
}

static int remove_init(struct icpt *ic, const struct sl_yaml_doc *doc,
                       const struct sl_yaml_node *node, struct sl_err *err)
{
    struct remove_ctx *c = ic->ctx;
    int rc = 0;
    if (!c->with_name && !c->from_list && !c->matching) {
        return sl_yaml_error(err, doc, node, "%s: set at least one of withName, fromList, matching",
                             ic->what);
    }
    if (c->from_list) {
        struct sl_rx sep;
        rc = sl__rx_compile(&sep, c->separator, "fromListSeparator", ic->what, doc,
                            key_node(node, "fromListSeparator"), err);
        const char *s = c->from_list;
        size_t len = strlen(s), at = 0;
        while (rc == 0 && at <= len) {
            int m = pcre2_match(sep.code, (PCRE2_SPTR)s, len, at, 0, sep.md, sep.mctx);
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sep.md);
            if (m <= 0 || ov[1] == ov[0]) {
                rc = push_name(&c->names, s + at, len - at);
                break;
            }
            rc = push_name(&c->names, s + at, ov[0] - at);
            at = ov[1];
        }
        if (sep.code) {
            sl__rx_free(&sep);
        }
        if (rc == -ENOMEM) {
            rc = sl_err_set(err, rc, "out of memory");
        }
    }
    if (rc == 0 && c->matching) {
        rc = rx_compile_opts(&c->match_rx, c->matching, PCRE2_ANCHORED | PCRE2_ENDANCHORED,
                             "matching", ic->what, doc, key_node(node, "matching"), err);
        c->has_match = rc == 0;
    }
    return rc;
}

static int remove_this(struct remove_ctx *c, const char *key)
{
    if (c->with_name && strcmp(c->with_name, key) == 0) {
        return 1;
    }
    for (size_t i = 0; i < c->names.n; i++) {
        if (strcmp(c->names.v[i], key) == 0) {
            return 1;
        }
    }
    return c->has_match && sl__rx_find(&c->match_rx, (const uint8_t *)key, strlen(key)) == 1;
}

static int remove_intercept(struct icpt *ic, struct sl_event **evp, struct icpt_run *run)
{
    struct remove_ctx *c = ic->ctx;
    struct sl_event *ev = *evp;
    for (uint32_t i = ev->nheaders; i-- > 0;) {
        if (remove_this(c, ev->headers[i].key)) {
            sl_event_remove_header(ev, i);
        }
    }
    return ICPT_KEEP;
}

static void remove_fini(struct icpt *ic)
{
    struct remove_ctx *c = ic->ctx;
    for (size_t i = 0; i < c->names.n; i++) {
        free(c->names.v[i]);
    }
    free(c->names.v);
    if (c->match_rx.code) {
        sl__rx_free(&c->match_rx);
    }
}

const struct icpt_ops sl__icpt_remove_header_ops = {
    .name = "remove_header",
    .flume_class = "org.apache.flume.interceptor.RemoveHeaderInterceptor$Builder",
    .conf = remove_conf,
    .ctx_size = sizeof(struct remove_ctx),
    .init = remove_init,
    .intercept = remove_intercept,
    .fini = remove_fini,
};
