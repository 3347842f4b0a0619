/*
 * selector.c - see selector.h. A selector is a table of routes; a route says, for each of
 * the source's channels, whether an event on that route needs it (required), may go to it
 * (optional) or not at all. Replicating has one route; multiplexing one per header value
 * named in mapping or optional, plus the default route.
 *
 * The put keeps sl_source_put's contract: the caller holds evs until a call returns 0, and
 * may call again with the same evs after SL_ERETRY. So an original event is handed to a
 * channel only at a step after which nothing can fail any more: at or after the last
 * required channel that gets any event of this put (optional channels never fail a put).
 * An event whose channels all come before that step gets copies only, and the original is
 * destroyed when the put is done.
 *
 * Threads: built on the main thread, put on the source loop thread only.
 */
#include "agent/selector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/interceptor.h"
#include "common/sl_log.h"
#include "common/sl_macros.h"

enum { NONE = 0, REQUIRED = 1, OPTIONAL = 2 };

struct route {
    char *value;   /* multiplexing: the header value; NULL for the default route */
    uint8_t *mode; /* per source channel: NONE, REQUIRED or OPTIONAL */
    size_t fan;    /* channels with a mode other than NONE */
};

struct sl_selector {
    int multiplexing;
    char *header;
    struct route *routes; /* multiplexing: one per value */
    size_t nroutes;
    struct route dflt; /* replicating: the only route */
    size_t nch;
    /* per-put scratch, n entries each */
    const struct route **rt;
    size_t *last;          /* the step that gets the original (SIZE_MAX: copies only) */
    struct sl_event **tmp; /* events of one transaction we must destroy if it fails */
    size_t cap;
    int64_t last_log_ms;
    uint64_t drops_unlogged;
};

#define CNT_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_RELAXED)

void sl_selector_destroy(struct sl_selector *sel)
{
    if (!sel) {
        return;
    }
    for (size_t i = 0; i < sel->nroutes; i++) {
        free(sel->routes[i].value);
        free(sel->routes[i].mode);
    }
    free(sel->routes);
    free(sel->dflt.mode);
    free(sel->header);
    free(sel->rt);
    free(sel->last);
    free(sel->tmp);
    free(sel);
}

/* ---- building ---------------------------------------------------------------------- */

static void source_channel_names(const struct sl_source *s, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < s->nchannels && n < len; i++) {
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", s->channels[i]->name);
    }
}

static int channel_index(const struct sl_source *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->nchannels; i++) {
        if (strlen(s->channels[i]->name) == len && memcmp(s->channels[i]->name, name, len) == 0) {
            return (int)i;
        }
    }
    return -1;
}

struct ctx {
    struct sl_source *s;
    const struct sl_yaml_doc *doc;
    const char *what;
    struct sl_err *err;
};

/*
 * Set mode m in modes for each channel named by v: a list of names, or one scalar of
 * space- or comma-separated names (Flume writes "c1 c2"). A name that is not one of the
 * source's channels is an error at its position. REQUIRED wins over OPTIONAL.
 */
static int mark(struct ctx *x, const struct sl_yaml_node *v, const char *key, uint8_t *modes,
                uint8_t m)
{
    if (v->kind == SL_YAML_MAP) {
        return sl_yaml_error(x->err, x->doc, v, "%s: selector: %s: expected channel names", x->what,
                             key);
    }
    size_t count = v->kind == SL_YAML_SEQ ? v->n : 1;
    for (size_t i = 0; i < count; i++) {
        const struct sl_yaml_node *it = v->kind == SL_YAML_SEQ ? v->items[i] : v;
        if (it->kind != SL_YAML_SCALAR) {
            return sl_yaml_error(x->err, x->doc, it,
                                 "%s: selector: %s: list items must be channel names", x->what,
                                 key);
        }
        const char *p = it->value;
        while (*p) {
            while (*p == ' ' || *p == '\t' || *p == ',') {
                p++;
            }
            const char *w = p;
            while (*p && *p != ' ' && *p != '\t' && *p != ',') {
                p++;
            }
            if (p == w) {
                break;
            }
            int c = channel_index(x->s, w, (size_t)(p - w));
            if (c < 0) {
                char names[256];
                source_channel_names(x->s, names, sizeof(names));
                return sl_yaml_error(x->err, x->doc, it,
                                     "%s: selector: %s: channel '%.*s' is not one of this "
                                     "source's channels (%s)",
                                     x->what, key, (int)(p - w), w, names);
            }
            if (m == REQUIRED || modes[c] == NONE) {
                modes[c] = m;
            }
        }
    }
    return 0;
}

static void route_fan(struct route *r, size_t nch)
{
    r->fan = 0;
    for (size_t c = 0; c < nch; c++) {
        r->fan += r->mode[c] != NONE;
    }
}

static struct route *route_get(struct sl_selector *sel, const char *value)
{
    for (size_t i = 0; i < sel->nroutes; i++) {
        if (strcmp(sel->routes[i].value, value) == 0) {
            return &sel->routes[i];
        }
    }
    return NULL;
}

/* The route for value, made (as a copy of nothing yet) if new. NULL when out of memory. */
static struct route *route_add(struct sl_selector *sel, const char *value)
{
    struct route *r = route_get(sel, value);
    if (r) {
        return r;
    }
    struct route *v = realloc(sel->routes, (sel->nroutes + 1) * sizeof(*v));
    if (!v) {
        return NULL;
    }
    sel->routes = v;
    r = &v[sel->nroutes];
    r->value = strdup(value);
    r->mode = calloc(sel->nch ? sel->nch : 1, 1);
    r->fan = 0;
    if (!r->value || !r->mode) {
        free(r->value);
        free(r->mode);
        return NULL;
    }
    sel->nroutes++;
    return r;
}

static int bad_key(struct ctx *x, const struct sl_yaml_node *sec, size_t i, const char *known)
{
    struct sl_yaml_node at = {.line = sec->key_lines[i], .col = sec->key_cols[i]};
    return sl_yaml_error(x->err, x->doc, &at, "%s: selector: unknown key '%s' (known keys: %s)",
                         x->what, sec->keys[i], known);
}

static int build_multiplexing(struct ctx *x, struct sl_selector *sel,
                              const struct sl_yaml_node *node)
{
    const struct sl_yaml_node *mapping = NULL, *optional = NULL, *dflt = NULL;
    for (size_t i = 0; i < node->n; i++) {
        const char *k = node->keys[i];
        const struct sl_yaml_node *v = node->items[i];
        if (strcmp(k, "type") == 0) {
            continue;
        } else if (strcmp(k, "header") == 0) {
            if (v->kind != SL_YAML_SCALAR || !v->value[0]) {
                return sl_yaml_error(x->err, x->doc, v,
                                     "%s: selector: header: expected a header name", x->what);
            }
            free(sel->header);
            sel->header = strdup(v->value);
        } else if (strcmp(k, "mapping") == 0) {
            mapping = v;
        } else if (strcmp(k, "optional") == 0) {
            optional = v;
        } else if (strcmp(k, "default") == 0) {
            dflt = v;
        } else {
            return bad_key(x, node, i, "type, header, mapping, default, optional");
        }
    }
    if (!sel->header) {
        return sl_err_set(x->err, -ENOMEM, "out of memory");
    }
    if (!mapping) {
        return sl_yaml_error(x->err, x->doc, node,
                             "%s: selector: multiplexing needs mapping: {<header value>: "
                             "[channels]}",
                             x->what);
    }
    if (dflt) {
        int rc = mark(x, dflt, "default", sel->dflt.mode, REQUIRED);
        if (rc != 0) {
            return rc;
        }
    }
    const struct sl_yaml_node *maps[2] = {mapping, optional};
    for (int pass = 0; pass < 2; pass++) {
        const struct sl_yaml_node *m = maps[pass];
        if (!m) {
            continue;
        }
        const char *key = pass == 0 ? "mapping" : "optional";
        if (m->kind != SL_YAML_MAP) {
            return sl_yaml_error(x->err, x->doc, m,
                                 "%s: selector: %s: expected a map of <header value>: "
                                 "[channels]",
                                 x->what, key);
        }
        for (size_t i = 0; i < m->n; i++) {
            struct route *r = route_get(sel, m->keys[i]);
            if (!r) {
                r = route_add(sel, m->keys[i]);
                if (!r) {
                    return sl_err_set(x->err, -ENOMEM, "out of memory");
                }
                if (pass == 1) {
                    /* Optional only: the required channels are the default ones (Flume). */
                    memcpy(r->mode, sel->dflt.mode, sel->nch);
                }
            }
            char what[200];
            snprintf(what, sizeof(what), "%s: %s", key, m->keys[i]);
            int rc = mark(x, m->items[i], what, r->mode, pass == 0 ? REQUIRED : OPTIONAL);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

static int build_replicating(struct ctx *x, struct sl_selector *sel,
                             const struct sl_yaml_node *node)
{
    memset(sel->dflt.mode, REQUIRED, sel->nch);
    for (size_t i = 0; node && i < node->n; i++) {
        const char *k = node->keys[i];
        if (strcmp(k, "type") == 0) {
            continue;
        }
        if (strcmp(k, "optional") != 0) {
            return bad_key(x, node, i, "type, optional");
        }
        uint8_t *opt = calloc(sel->nch, 1);
        if (!opt) {
            return sl_err_set(x->err, -ENOMEM, "out of memory");
        }
        int rc = mark(x, node->items[i], "optional", opt, OPTIONAL);
        for (size_t c = 0; c < sel->nch; c++) {
            if (opt[c] == OPTIONAL) {
                sel->dflt.mode[c] = OPTIONAL;
            }
        }
        free(opt);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int sl_selector_build(struct sl_source *s, const struct sl_yaml_doc *doc,
                      const struct sl_yaml_node *node, const char *what, struct sl_err *err)
{
    s->selector = NULL;
    struct ctx x = {.s = s, .doc = doc, .what = what, .err = err};
    int multiplexing = 0;
    if (node) {
        if (node->kind != SL_YAML_MAP) {
            return sl_yaml_error(err, doc, node,
                                 "%s: selector: expected a map with type: replicating or "
                                 "multiplexing",
                                 what);
        }
        const struct sl_yaml_node *t = sl_yaml_get(node, "type");
        if (t && (t->kind != SL_YAML_SCALAR || (strcmp(t->value, "replicating") != 0 &&
                                                strcmp(t->value, "multiplexing") != 0))) {
            return sl_yaml_error(err, doc, t,
                                 "%s: selector: type: '%s' is not one of: replicating, "
                                 "multiplexing",
                                 what, t->kind == SL_YAML_SCALAR ? t->value : "(not a name)");
        }
        multiplexing = t && strcmp(t->value, "multiplexing") == 0;
    }
    struct sl_selector *sel = calloc(1, sizeof(*sel));
    if (!sel) {
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    sel->multiplexing = multiplexing;
    sel->nch = s->nchannels;
    sel->dflt.mode = calloc(s->nchannels ? s->nchannels : 1, 1);
    sel->header = strdup("flume.selector.header"); /* Flume's default */
    int rc = !sel->dflt.mode || !sel->header ? sl_err_set(err, -ENOMEM, "out of memory") : 0;
    if (rc == 0) {
        rc = multiplexing ? build_multiplexing(&x, sel, node) : build_replicating(&x, sel, node);
    }
    if (rc != 0) {
        sl_selector_destroy(sel);
        return rc;
    }
    route_fan(&sel->dflt, sel->nch);
    for (size_t i = 0; i < sel->nroutes; i++) {
        route_fan(&sel->routes[i], sel->nch);
    }
    if (!multiplexing && sel->dflt.fan == sel->nch && !s->icpt) {
        uint8_t all_required = 1;
        for (size_t c = 0; c < sel->nch; c++) {
            all_required &= sel->dflt.mode[c] == REQUIRED;
        }
        if (all_required) {
            sl_selector_destroy(sel); /* plain replication: sl_source_put's own loop */
            return 0;
        }
    }
    s->selector = sel;
    return 0;
}

static void print_modes(const struct sl_source *s, const uint8_t *mode, uint8_t want, FILE *out)
{
    int first = 1;
    fprintf(out, "[");
    for (size_t c = 0; c < s->nchannels; c++) {
        if (mode[c] == want) {
            fprintf(out, "%s%s", first ? "" : ", ", s->channels[c]->name);
            first = 0;
        }
    }
    fprintf(out, "]");
}

void sl_selector_print(const struct sl_source *s, FILE *out, const char *indent)
{
    const struct sl_selector *sel = s->selector;
    if (!sel || !sel->multiplexing) {
        fprintf(out, "%sselector: replicating, optional: ", indent);
        if (sel) {
            print_modes(s, sel->dflt.mode, OPTIONAL, out);
        } else {
            fprintf(out, "[]");
        }
        fprintf(out, "\n");
        return;
    }
    fprintf(out, "%sselector: multiplexing by header %s\n", indent, sel->header);
    for (size_t i = 0; i < sel->nroutes; i++) {
        fprintf(out, "%s  %s -> ", indent, sel->routes[i].value);
        print_modes(s, sel->routes[i].mode, REQUIRED, out);
        fprintf(out, ", optional ");
        print_modes(s, sel->routes[i].mode, OPTIONAL, out);
        fprintf(out, "\n");
    }
    fprintf(out, "%s  default -> ", indent);
    print_modes(s, sel->dflt.mode, REQUIRED, out);
    fprintf(out, "\n");
}

/* ---- the put ----------------------------------------------------------------------- */

static int scratch_reserve(struct sl_selector *sel, size_t n)
{
    if (sel->cap >= n) {
        return 0;
    }
    size_t cap = SL_MAX(n, (size_t)64);
    const struct route **rt = realloc(sel->rt, cap * sizeof(*rt));
    if (rt) {
        sel->rt = rt;
    }
    size_t *last = realloc(sel->last, cap * sizeof(*last));
    if (last) {
        sel->last = last;
    }
    struct sl_event **tmp = realloc(sel->tmp, cap * sizeof(*tmp));
    if (tmp) {
        sel->tmp = tmp;
    }
    if (!rt || !last || !tmp) {
        return -ENOMEM;
    }
    sel->cap = cap;
    return 0;
}

static const struct route *route_for(const struct sl_selector *sel, const struct sl_event *ev)
{
    if (ev->flags & SL_EVENT_DROPPED) {
        return NULL;
    }
    const struct route *r = &sel->dflt;
    if (sel->multiplexing) {
        const char *v = sl_event_header(ev, sel->header);
        for (size_t i = 0; v && i < sel->nroutes; i++) {
            if (strcmp(sel->routes[i].value, v) == 0) {
                r = &sel->routes[i];
                break;
            }
        }
    }
    return r->fan ? r : NULL;
}

/*
 * One transaction: the events of this put whose route gives channel c mode `want`. The one
 * at its last step gets the original, the others copies. On failure the copies are
 * destroyed, and with drop_originals (optional channels: the put goes on without them) the
 * originals too. Returns 0, the commit's error, or -ENOMEM.
 */
static int put_channel(struct sl_source *s, struct sl_selector *sel, struct sl_event **evs,
                       size_t n, size_t c, uint8_t want, size_t step, int drop_originals)
{
    struct sl_chan_tx tx;
    sl_chan_begin(s->channels[c], 0, &tx);
    size_t ntmp = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!sel->rt[i] || sel->rt[i]->mode[c] != want) {
            continue;
        }
        int orig = sel->last[i] == step;
        struct sl_event *ev = orig ? evs[i] : sl_event_dup(evs[i]);
        rc = ev ? sl_chan_put(&tx, ev) : -ENOMEM;
        if (rc != 0) {
            if (!orig) {
                sl_event_destroy(ev);
            }
            break;
        }
        if (!orig) {
            sel->tmp[ntmp++] = ev;
        }
    }
    if (rc == 0 && tx.n) {
        rc = sl_chan_commit_wait(&tx, 0);
    } else {
        sl_chan_rollback(&tx);
    }
    if (rc != 0) {
        sl_event_destroy_many(sel->tmp, ntmp);
        for (size_t i = 0; drop_originals && i < n; i++) {
            if (sel->rt[i] && sel->rt[i]->mode[c] == want && sel->last[i] == step) {
                sl_event_destroy(evs[i]);
            }
        }
    }
    return rc;
}

static void count_optional_drops(struct sl_source *s, struct sl_selector *sel, size_t c,
                                 size_t dropped, int rc)
{
    CNT_ADD(&s->dropped_optional, dropped);
    sel->drops_unlogged += dropped;
    if (sl_every_ms(&sel->last_log_ms, 1000)) {
        sl_clog(s->comp, SL_LOG_WARN,
                "optional channel %s: %s: %llu event copies dropped since the last report",
                s->channels[c]->name, rc == SL_ERETRY ? "full" : sl_strerror(rc),
                (unsigned long long)sel->drops_unlogged);
        sel->drops_unlogged = 0;
    }
}

int sl_selector_put(struct sl_source *s, struct sl_event **evs, size_t n, size_t *next_chan)
{
    struct sl_selector *sel = s->selector;
    if (s->icpt) {
        sl_icpt_chain_run(s->icpt, evs, n);
    }
    if (scratch_reserve(sel, n) != 0) {
        return SL_ERETRY;
    }
    size_t nch = sel->nch;
    /* Route each event; find the last required channel any event needs (steps 0..nch-1 are
     * the required channels, nch..2*nch-1 the optional ones). */
    size_t last_req = 0;
    int any_req = 0;
    for (size_t i = 0; i < n; i++) {
        const struct route *r = route_for(sel, evs[i]);
        sel->rt[i] = r;
        for (size_t c = 0; r && c < nch; c++) {
            if (r->mode[c] == REQUIRED && (!any_req || c > last_req)) {
                last_req = c;
                any_req = 1;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct route *r = sel->rt[i];
        size_t last = SIZE_MAX;
        for (size_t c = 0; r && c < nch; c++) {
            if (r->mode[c] == REQUIRED) {
                last = c;
            }
        }
        for (size_t c = 0; r && c < nch; c++) {
            if (r->mode[c] == OPTIONAL) {
                last = nch + c;
            }
        }
        /* Hand the original over only where nothing after it can fail the put, and never to
         * a channel before *next_chan: this put does not visit those (a source putting part
         * of a chunk again after a later channel refused it holds copies there already). */
        if (last != SIZE_MAX && last < *next_chan) {
            last = SIZE_MAX;
        }
        sel->last[i] = last != SIZE_MAX && (!any_req || last >= last_req) ? last : SIZE_MAX;
    }
    for (size_t c = *next_chan; c < nch; c++) {
        int rc = put_channel(s, sel, evs, n, c, REQUIRED, c, 0);
        if (rc != 0) {
            *next_chan = c;
            return rc == -ENOMEM ? SL_ERETRY : rc;
        }
    }
    *next_chan = nch;
    /* Nothing fails from here on: account before the originals are handed over. */
    int64_t adjust = 0;
    uint64_t filtered = 0, unrouted = 0;
    for (size_t i = 0; i < n; i++) {
        if (sel->rt[i]) {
            adjust += (int64_t)sel->rt[i]->fan - (int64_t)nch;
        } else if (evs[i]->flags & SL_EVENT_DROPPED) {
            filtered++;
        } else {
            unrouted++;
        }
    }
    for (size_t c = 0; c < nch; c++) {
        int rc = put_channel(s, sel, evs, n, c, OPTIONAL, nch + c, 1);
        if (rc != 0) {
            size_t dropped = 0;
            for (size_t i = 0; i < n; i++) {
                dropped += sel->rt[i] && sel->rt[i]->mode[c] == OPTIONAL;
            }
            count_optional_drops(s, sel, c, dropped, rc);
        }
    }
    /* Events no channel took the original of: filtered, unrouted, or copied everywhere. */
    for (size_t i = 0; i < n; i++) {
        if (sel->last[i] == SIZE_MAX) {
            sl_event_destroy(evs[i]);
        }
    }
    if (adjust) {
        CNT_ADD(&s->fanout_adjust, adjust);
    }
    if (filtered) {
        CNT_ADD(&s->filtered, filtered);
    }
    if (unrouted) {
        CNT_ADD(&s->unrouted, unrouted);
    }
    return 0;
}
