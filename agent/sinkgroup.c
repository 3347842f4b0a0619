/*
 * sinkgroup.c - sink groups (see sinkgroup.h): building and validating the `sinkgroups:`
 * section, the failover and load_balance processors, and the group's thread.
 *
 * Decisions (where Flume leaves room):
 * - Every sink of a group must drain the same channel. Flume lets them differ, but one
 *   thread takes the batches here, and with failover a standby sink's channel would never
 *   be drained; one shared channel is also how Flume's examples use groups.
 * - One batch is in flight through a group at a time: the group takes a batch of the chosen
 *   sink's batchSize, delivers it (a pipelined sink gets it submitted and polled until every
 *   report is in) and commits the take only on that sink's acknowledgement. A failed batch is
 *   rolled back and taken again at once for the next sink, so it goes out in channel order.
 * - failover: the highest-priority sink whose penalty is over (ties: the order in `sinks`);
 *   a sink without processor.priority.<sink> ranks below every explicit priority, in list
 *   order. Two explicit equal priorities are an error (Flume silently drops one of the two
 *   sinks). A failed sink sits out 1 s, 2 s, 4 s ... up to maxpenalty; when that is over it is
 *   chosen again if it ranks first, and on success it is the active sink again.
 * - load_balance: round_robin moves on by one sink per delivered or failed batch; random
 *   draws among the sinks not yet tried for the batch. Each sink is tried at most once per
 *   batch; when all failed, the batch stays in the channel and the group backs off (100 ms
 *   doubling up to 5 s). With backoff: true a failing sink also sits out 1 s doubling up to
 *   selector.maxTimeOut.
 * - When every member sits out a penalty, the group waits for the first to end; events stay
 *   in the channel (which fills, and pushes back on the sources).
 * - Stopping, as for a lone sink: the batch in flight finishes; a durable channel keeps its
 *   backlog for the next start; another channel is drained until empty or the drain
 *   deadline, which is checked before every batch, so a fast sink cannot outrun it.
 *
 * Threads: see sinkgroup.h. Building runs on the main thread; pick/report/step on the
 * group's thread only.
 */
#include "agent/sinkgroup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "common/sl_log.h"
#include "common/sl_macros.h"

#define GROUP_BACKOFF_MIN_MS 100
#define GROUP_BACKOFF_MAX_MS 5000
#define TAKE_WAIT_MS         100

static const char *const type_choices[] = {"default", "failover", "load_balance", NULL};
static const char *const selector_choices[] = {"round_robin", "random", NULL};

#define GOFF(f) offsetof(struct sl_sinkgroup, f)
static const struct sl_conf_map group_conf[] = {
    {"sinks", SL_CONF_LIST, NULL, GOFF(sink_names), 0, 0, SL_CONF_REQUIRED, NULL,
     "the sinks of the group (a list, or names separated by spaces)"},
    {"processor.type", SL_CONF_STR, "default", GOFF(type_name), 0, 0, 0, type_choices,
     "default (one sink), failover or load_balance"},
    {"processor.priority.", SL_CONF_PREFIX, NULL, GOFF(priority), 0, 0, 0, NULL,
     "failover: priority.<sink> = n, the higher the sooner chosen"},
    {"processor.maxpenalty", SL_CONF_INT, "30000", GOFF(maxpenalty_ms), 1, 86400000, 0, NULL,
     "failover: longest time (ms) a failed sink sits out"},
    {"processor.selector", SL_CONF_STR, "round_robin", GOFF(selector), 0, 0, 0, selector_choices,
     "load_balance: round_robin or random"},
    {"processor.backoff", SL_CONF_BOOL, "false", GOFF(backoff), 0, 0, 0, NULL,
     "load_balance: set a failing sink aside for a growing time"},
    {"processor.selector.maxTimeOut", SL_CONF_INT, "30000", GOFF(max_timeout_ms), 1, 86400000, 0,
     NULL, "load_balance with backoff: longest time (ms) a failing sink sits out"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL},
};

/* ---- the processor ------------------------------------------------------------------- */

#define LD(p)     __atomic_load_n(&(p), __ATOMIC_RELAXED)
#define ST(p, v)  __atomic_store_n(&(p), (v), __ATOMIC_RELAXED)
#define ADD(p, v) __atomic_add_fetch(&(p), (v), __ATOMIC_RELAXED)

static uint64_t rng_next(struct sl_sinkgroup *g)
{
    uint64_t x = g->rng ? g->rng : 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    g->rng = x;
    return x;
}

/* The sooner of the members' penalty ends after now, as a wait from now. */
static int64_t next_free_ms(const struct sl_sinkgroup *g, int64_t now_ms)
{
    int64_t best = -1;
    for (size_t i = 0; i < g->nmembers; i++) {
        int64_t u = g->members[i].until_ms;
        if (u > now_ms && (best < 0 || u < best)) {
            best = u;
        }
    }
    return best < 0 ? 0 : best - now_ms;
}

int sl_sinkgroup_pick(struct sl_sinkgroup *g, int64_t now_ms, int64_t *wait_ms)
{
    *wait_ms = 0;
    if (g->kind == SL_SGP_FAILOVER || g->kind == SL_SGP_DEFAULT) {
        int best = -1;
        for (size_t i = 0; i < g->nmembers; i++) {
            const struct sl_sg_member *m = &g->members[i];
            if (m->until_ms > now_ms) {
                continue;
            }
            if (best < 0 || m->priority > g->members[best].priority) {
                best = (int)i;
            }
        }
        if (best < 0) {
            *wait_ms = next_free_ms(g, now_ms);
        }
        return best;
    }
    /* load_balance: the members not tried for this batch and not backed off. */
    size_t n = g->nmembers, avail = 0;
    for (size_t i = 0; i < n; i++) {
        avail += !g->members[i].tried && g->members[i].until_ms <= now_ms;
    }
    if (avail == 0) {
        /* Every one untried is backed off (report() ends a round where all were tried). */
        *wait_ms = next_free_ms(g, now_ms);
        return -1;
    }
    size_t k = g->random ? (size_t)(rng_next(g) % avail) : 0;
    for (size_t j = 0; j < n; j++) {
        size_t i = g->random ? j : (g->rr_next + j) % n;
        const struct sl_sg_member *m = &g->members[i];
        if (m->tried || m->until_ms > now_ms) {
            continue;
        }
        if (k-- == 0) {
            return (int)i;
        }
    }
    return -1; /* not reached: avail > 0 */
}

static int64_t penalty_ms(uint64_t fails, int64_t cap_ms)
{
    uint64_t shift = fails > 0 ? fails - 1 : 0;
    if (shift > 30) {
        shift = 30;
    }
    int64_t p = (int64_t)SL_SGP_PENALTY_BASE_MS << shift;
    return p < cap_ms ? p : cap_ms;
}

int sl_sinkgroup_report(struct sl_sinkgroup *g, size_t i, int ok, int64_t now_ms)
{
    struct sl_sg_member *m = &g->members[i];
    if (ok) {
        ST(m->fails, 0);
        ST(m->until_ms, 0);
        ADD(m->batches, 1);
        __atomic_store_n(&g->active, (int)i, __ATOMIC_RELAXED);
        for (size_t j = 0; j < g->nmembers; j++) {
            g->members[j].tried = 0;
        }
        g->rr_next = (i + 1) % g->nmembers;
        return 0;
    }
    uint64_t fails = LD(m->fails) + 1;
    ST(m->fails, fails);
    ADD(m->failures_total, 1);
    if (g->kind == SL_SGP_LOAD_BALANCE) {
        m->tried = 1;
        g->rr_next = (i + 1) % g->nmembers;
        if (g->backoff) {
            ST(m->until_ms, now_ms + penalty_ms(fails, g->cap_ms));
        }
        for (size_t j = 0; j < g->nmembers; j++) {
            if (!g->members[j].tried) {
                return 0;
            }
        }
        for (size_t j = 0; j < g->nmembers; j++) {
            g->members[j].tried = 0;
        }
        ADD(g->all_failed, 1);
        return 1;
    }
    /* failover (and default: a lone sink that failed sits out its penalty too). */
    ST(m->until_ms, now_ms + penalty_ms(fails, g->cap_ms));
    for (size_t j = 0; j < g->nmembers; j++) {
        if (g->members[j].until_ms <= now_ms) {
            return 0;
        }
    }
    ADD(g->all_failed, 1);
    return 1;
}

/* ---- the group's thread -------------------------------------------------------------- */

static int group_aborting(struct sl_sinkgroup *g)
{
    return __atomic_load_n(&g->stopping, __ATOMIC_ACQUIRE) &&
           sl_mono_ms() >= __atomic_load_n(&g->abort_at_ms, __ATOMIC_ACQUIRE);
}

/* One batch through s, synchronously. Pipelined sinks without deliver: submit one batch and
 * poll until every report is in (poll is bounded once the sink is aborting). */
static int deliver_one(struct sl_sink *s, struct sl_chan_tx *tx)
{
    if (s->ops->deliver) {
        return s->ops->deliver(s, tx->evs, tx->n);
    }
    struct sl_sink_batch b;
    memset(&b, 0, sizeof(b));
    b.tx = *tx; /* the plugin reads evs and n only; tx stays the transaction of record */
    s->ops->submit(s, &b);
    while (b.pending > 0) {
        s->ops->poll(s, 100);
    }
    if (!b.failed) {
        return SL_OK;
    }
    return b.err ? b.err : SL_ERETRY;
}

static const char *member_names(const struct sl_sinkgroup *g, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < g->nmembers && n < len; i++) {
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", g->members[i].sink->name);
    }
    return buf;
}

int sl_sinkgroup_step(struct sl_sinkgroup *g, int64_t take_wait_ms, int64_t *wait_ms)
{
    int64_t now = g->clock_ms();
    int i = sl_sinkgroup_pick(g, now, wait_ms);
    if (i < 0) {
        return -2;
    }
    struct sl_sg_member *m = &g->members[i];
    struct sl_sink *s = m->sink;
    struct sl_chan_tx tx;
    if (sl_chan_begin(g->channel, 1, &tx) != 0) {
        *wait_ms = GROUP_BACKOFF_MIN_MS;
        return -2;
    }
    size_t n = sl_chan_take(&tx, s->batch_size, take_wait_ms);
    if (n == 0) {
        sl_chan_rollback(&tx);
        __atomic_add_fetch(&s->batches_empty, 1, __ATOMIC_RELAXED);
        for (size_t j = 0; j < g->nmembers; j++) {
            struct sl_sink *k = g->members[j].sink;
            if (k->ops->idle) {
                k->ops->idle(k);
            }
        }
        return 0;
    }
    __atomic_add_fetch(&s->drain_attempts, n, __ATOMIC_RELAXED);
    int rc = deliver_one(s, &tx);
    if (rc == SL_OK) {
        sl_chan_commit(&tx);
        __atomic_add_fetch(&s->drain_successes, n, __ATOMIC_RELAXED);
        if (n == s->batch_size) {
            __atomic_add_fetch(&s->batches_complete, 1, __ATOMIC_RELAXED);
        }
        uint64_t had = LD(m->fails);
        int prev = __atomic_load_n(&g->active, __ATOMIC_RELAXED);
        sl_sinkgroup_report(g, (size_t)i, 1, g->clock_ms());
        if (had) {
            sl_clog(g->comp, SL_LOG_INFO, "sink %s delivers again after %llu failed batches",
                    s->name, (unsigned long long)had);
        }
        if (g->kind == SL_SGP_FAILOVER && prev != i) {
            sl_clog(g->comp, SL_LOG_INFO, "active sink is now %s%s%s%s", s->name,
                    prev >= 0 ? " (was " : "", prev >= 0 ? g->members[prev].sink->name : "",
                    prev >= 0 ? ")" : "");
        }
        return 1;
    }
    sl_chan_rollback(&tx);
    __atomic_add_fetch(&s->rollbacks, 1, __ATOMIC_RELAXED);
    int all = sl_sinkgroup_report(g, (size_t)i, 0, g->clock_ms());
    int64_t sit = LD(m->until_ms) - g->clock_ms();
    char sits[64] = "";
    if (sit > 0) {
        snprintf(sits, sizeof(sits), "; it sits out %lld ms", (long long)sit);
    }
    sl_clog(g->comp, LD(m->fails) <= 1 || all ? SL_LOG_WARN : SL_LOG_DEBUG,
            "sink %s failed a batch of %zu events (%s; %llu in a row): rolled back%s", s->name, n,
            sl_strerror(rc), (unsigned long long)LD(m->fails), sits);
    if (all) {
        int64_t t = sl_mono_ms();
        if (t - g->last_warn_ms >= 10000) { /* a long outage warns every 10 s, not per batch */
            g->last_warn_ms = t;
            char names[256];
            sl_clog(g->comp, SL_LOG_WARN,
                    "every sink of the group failed (%s): the events stay in channel %s",
                    member_names(g, names, sizeof(names)), g->channel->name);
        }
        return -3;
    }
    return -1;
}

/* Sleep up to ms; an early wake-up when the runtime asks the group to stop. While stopping,
 * a sleep is bounded by the drain deadline instead. */
static void group_sleep(struct sl_sinkgroup *g, int64_t ms)
{
    if (ms <= 0) {
        return;
    }
    int stopping = __atomic_load_n(&g->stopping, __ATOMIC_ACQUIRE);
    if (stopping) {
        int64_t left = __atomic_load_n(&g->abort_at_ms, __ATOMIC_ACQUIRE) - sl_mono_ms();
        ms = SL_MIN(ms, SL_MAX(left, 1));
    }
    struct timespec until;
    sl_mono_deadline(&until, ms);
    pthread_mutex_lock(&g->mu);
    if (stopping || !__atomic_load_n(&g->stopping, __ATOMIC_ACQUIRE)) {
        pthread_cond_timedwait(&g->cond, &g->mu, &until);
    }
    pthread_mutex_unlock(&g->mu);
}

void *sl_sinkgroup_main(void *arg)
{
    struct sl_sinkgroup *g = arg;
    int64_t backoff = GROUP_BACKOFF_MIN_MS;
    for (;;) {
        int stopping = __atomic_load_n(&g->stopping, __ATOMIC_ACQUIRE);
        if (stopping && g->channel->ops->durable) {
            break; /* the backlog (and a batch that failed) stays in the channel */
        }
        if (group_aborting(g)) {
            break; /* the drain deadline passed: the rest stays (or is dropped) */
        }
        int64_t wait = 0;
        int rc = sl_sinkgroup_step(g, stopping ? 0 : TAKE_WAIT_MS, &wait);
        if (rc == 1) {
            backoff = GROUP_BACKOFF_MIN_MS;
            continue;
        }
        if (rc == 0) {
            if (stopping) {
                break; /* drained */
            }
            continue;
        }
        if (rc == -1) {
            continue; /* the next sink, at once */
        }
        if (rc == -3) {
            wait = SL_MAX(wait, backoff);
            backoff = SL_MIN(backoff * 2, GROUP_BACKOFF_MAX_MS);
        }
        group_sleep(g, wait);
    }
    for (size_t i = 0; i < g->nmembers; i++) {
        struct sl_sink *s = g->members[i].sink;
        if (s->ops->stop) {
            s->ops->stop(s);
        }
    }
    return NULL;
}

/* ---- configuration ------------------------------------------------------------------- */

/* The value at a dotted key, as sl_conf_bind reads it (nested maps or flat dotted keys);
 * *at gets the key's position. NULL when absent. */
static const struct sl_yaml_node *find_key(const struct sl_yaml_node *map, const char *path,
                                           struct sl_yaml_node *at)
{
    if (!map || map->kind != SL_YAML_MAP) {
        return NULL;
    }
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->keys[i];
        size_t kl = strlen(k);
        if (strcmp(path, k) == 0) {
            at->line = map->key_lines[i];
            at->col = map->key_cols[i];
            return map->items[i];
        }
        if (strncmp(path, k, kl) == 0 && path[kl] == '.') {
            const struct sl_yaml_node *r = find_key(map->items[i], path + kl + 1, at);
            if (r) {
                return r;
            }
        }
    }
    return NULL;
}

/* Where the j-th name of the `sinks` value is: a list item, or a word of "k1 k2". */
static struct sl_yaml_node name_at(const struct sl_yaml_node *v, size_t j)
{
    struct sl_yaml_node at = {.line = v->line, .col = v->col};
    if (v->kind == SL_YAML_SEQ) {
        if (j < v->n) {
            at.line = v->items[j]->line;
            at.col = v->items[j]->col;
        }
        return at;
    }
    if (v->kind != SL_YAML_SCALAR || v->quoted) {
        return at;
    }
    const char *p = v->value;
    for (size_t w = 0; *p; w++) {
        while (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
        }
        if (!*p) {
            break;
        }
        if (w == j) {
            at.col = v->col + (int)(p - v->value);
            return at;
        }
        while (*p && *p != ' ' && *p != '\t' && *p != ',') {
            p++;
        }
    }
    return at;
}

static void sink_names(const struct sl_agent *a, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < a->nsinks && n < len; i++) {
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", a->sinks[i].name);
    }
}

/* A key given that this processor type does not read is an error, not silently ignored. */
static int check_foreign(const struct sl_sinkgroup *g, const struct sl_yaml_doc *doc,
                         const struct sl_yaml_node *node, struct sl_err *err)
{
    static const char *const failover_only[] = {"processor.priority", "processor.maxpenalty", NULL};
    static const char *const lb_only[] = {"processor.selector", "processor.backoff",
                                          "processor.selector.maxTimeOut", NULL};
    for (int pass = 0; pass < 2; pass++) {
        const char *const *keys = pass == 0 ? failover_only : lb_only;
        enum sl_sgp_kind owner = pass == 0 ? SL_SGP_FAILOVER : SL_SGP_LOAD_BALANCE;
        if (g->kind == owner) {
            continue;
        }
        for (const char *const *k = keys; *k; k++) {
            struct sl_yaml_node at = {0};
            if (find_key(node, *k, &at)) {
                return sl_yaml_error(
                    err, doc, &at, "sink group %s: %s applies to processor.type %s, not %s",
                    g->name, *k, owner == SL_SGP_FAILOVER ? "failover" : "load_balance",
                    g->type_name);
            }
        }
    }
    return 0;
}

static int resolve_members(struct sl_agent *a, struct sl_sinkgroup *g,
                           const struct sl_yaml_doc *doc, const struct sl_yaml_node *node,
                           struct sl_err *err)
{
    struct sl_yaml_node at0 = {0};
    const struct sl_yaml_node *sv = find_key(node, "sinks", &at0);
    if (g->sink_names.n == 0) {
        return sl_yaml_error(err, doc, sv ? sv : node, "sink group %s: sinks is empty", g->name);
    }
    g->members = calloc(g->sink_names.n, sizeof(*g->members));
    if (!g->members) {
        return -ENOMEM;
    }
    for (size_t j = 0; j < g->sink_names.n; j++) {
        const char *want = g->sink_names.v[j];
        struct sl_yaml_node at = name_at(sv, j);
        struct sl_sink *k = NULL;
        for (size_t i = 0; i < a->nsinks; i++) {
            if (strcmp(a->sinks[i].name, want) == 0) {
                k = &a->sinks[i];
            }
        }
        if (!k) {
            char names[256];
            sink_names(a, names, sizeof(names));
            return sl_yaml_error(err, doc, &at,
                                 "sink group %s: sink '%s' does not exist (sinks: %s)", g->name,
                                 want, names);
        }
        for (size_t q = 0; q < g->nmembers; q++) {
            if (g->members[q].sink == k) {
                return sl_yaml_error(err, doc, &at, "sink group %s: sink '%s' is listed twice",
                                     g->name, want);
            }
        }
        for (size_t q = 0; q < a->ngroups; q++) {
            const struct sl_sinkgroup *o = &a->groups[q];
            for (size_t r = 0; o != g && r < o->nmembers; r++) {
                if (o->members[r].sink == k) {
                    return sl_yaml_error(err, doc, &at,
                                         "sink group %s: sink '%s' already belongs to sink group "
                                         "%s (a sink can be in one group only)",
                                         g->name, want, o->name);
                }
            }
        }
        if (g->nmembers && k->channel != g->channel) {
            return sl_yaml_error(err, doc, &at,
                                 "sink group %s: sink '%s' drains channel %s, but %s drains %s: "
                                 "the sinks of a group must share one channel",
                                 g->name, want, k->channel->name, g->members[0].sink->name,
                                 g->channel->name);
        }
        g->channel = k->channel;
        struct sl_sg_member *m = &g->members[g->nmembers++];
        m->sink = k;
        m->priority = INT64_MIN + (int64_t)(g->sink_names.n - j); /* below every explicit one */
    }
    if (g->kind == SL_SGP_DEFAULT && g->nmembers != 1) {
        return sl_yaml_error(err, doc, sv ? sv : node,
                             "sink group %s: processor.type default runs exactly one sink (%zu "
                             "listed): use failover or load_balance",
                             g->name, g->nmembers);
    }
    return 0;
}

static int resolve_priorities(struct sl_sinkgroup *g, const struct sl_yaml_doc *doc,
                              const struct sl_yaml_node *node, struct sl_err *err)
{
    for (size_t p = 0; p < g->priority.n; p++) {
        const char *sink = g->priority.keys[p];
        char path[SL_COMP_NAME_MAX + 32];
        snprintf(path, sizeof(path), "processor.priority.%s", sink);
        struct sl_yaml_node at = {.line = node->line, .col = node->col};
        const struct sl_yaml_node *v = find_key(node, path, &at);
        struct sl_sg_member *m = NULL;
        for (size_t i = 0; i < g->nmembers; i++) {
            if (strcmp(g->members[i].sink->name, sink) == 0) {
                m = &g->members[i];
            }
        }
        if (!m) {
            return sl_yaml_error(err, doc, &at, "sink group %s: %s: sink '%s' is not in the group",
                                 g->name, path, sink);
        }
        char *end;
        errno = 0;
        long long pr = strtoll(g->priority.values[p], &end, 10);
        if (!g->priority.values[p][0] || *end || errno || pr < -1000000000 || pr > 1000000000) {
            return sl_yaml_error(err, doc, v ? v : &at,
                                 "sink group %s: %s: expected an integer, got '%s'", g->name, path,
                                 g->priority.values[p]);
        }
        for (size_t i = 0; i < g->nmembers; i++) {
            if (&g->members[i] != m && g->members[i].priority == pr) {
                return sl_yaml_error(err, doc, v ? v : &at,
                                     "sink group %s: sinks %s and %s both have priority %lld: "
                                     "priorities must differ",
                                     g->name, g->members[i].sink->name, sink, pr);
            }
        }
        m->priority = pr;
    }
    return 0;
}

static int build_group(struct sl_agent *a, struct sl_sinkgroup *g, const char *name,
                       const struct sl_yaml_doc *doc, const struct sl_yaml_node *node,
                       const struct sl_yaml_node *at, struct sl_err *err)
{
    if (strlen(name) >= SL_COMP_NAME_MAX || !name[0]) {
        return sl_yaml_error(err, doc, at, "sink group name '%s' must be 1 to %d characters", name,
                             SL_COMP_NAME_MAX - 1);
    }
    snprintf(g->name, sizeof(g->name), "%s", name);
    g->agent = a;
    g->active = -1;
    g->clock_ms = sl_mono_ms;
    g->rng = (uint64_t)sl_now_ms() ^ ((uint64_t)(uintptr_t)g << 16);
    if (node->kind != SL_YAML_MAP) {
        return sl_yaml_error(err, doc, node,
                             "sink group %s: expected a map with sinks and processor", name);
    }
    char what[200];
    snprintf(what, sizeof(what), "sink group %s", name);
    int rc = sl_conf_bind(group_conf, g, doc, node, NULL, what, err);
    if (rc != 0) {
        return rc;
    }
    g->kind = strcmp(g->type_name, "failover") == 0       ? SL_SGP_FAILOVER
              : strcmp(g->type_name, "load_balance") == 0 ? SL_SGP_LOAD_BALANCE
                                                          : SL_SGP_DEFAULT;
    g->random = strcmp(g->selector, "random") == 0;
    g->cap_ms = g->kind == SL_SGP_LOAD_BALANCE ? g->max_timeout_ms : g->maxpenalty_ms;
    snprintf(g->comp, sizeof(g->comp), "sinkgroup:%s:%s", g->type_name, name);
    rc = check_foreign(g, doc, node, err);
    if (rc == 0) {
        rc = resolve_members(a, g, doc, node, err);
    }
    if (rc == 0) {
        rc = resolve_priorities(g, doc, node, err);
    }
    if (rc != 0) {
        return rc;
    }
    if (g->kind != SL_SGP_DEFAULT) {
        for (size_t i = 0; i < g->nmembers; i++) {
            g->members[i].sink->group = g;
        }
    }
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cond, &ca);
    pthread_condattr_destroy(&ca);
    g->sync_inited = 1;
    return 0;
}

int sl_sinkgroups_build(struct sl_agent *a, const struct sl_yaml_doc *doc,
                        const struct sl_yaml_node *sec, struct sl_err *err)
{
    if (!sec) {
        return 0;
    }
    if (sec->kind != SL_YAML_MAP) {
        return sl_yaml_error(err, doc, sec, "sinkgroups: expected a map of name: settings");
    }
    a->groups = calloc(sec->n ? sec->n : 1, sizeof(*a->groups));
    if (!a->groups) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < sec->n; i++) {
        struct sl_yaml_node at = {.line = sec->key_lines[i], .col = sec->key_cols[i]};
        struct sl_sinkgroup *g = &a->groups[a->ngroups++];
        int rc = build_group(a, g, sec->keys[i], doc, sec->items[i], &at, err);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

void sl_sinkgroups_print(const struct sl_agent *a, FILE *out)
{
    for (size_t i = 0; i < a->ngroups; i++) {
        const struct sl_sinkgroup *g = &a->groups[i];
        char names[256];
        fprintf(out, "sinkgroup %s (%s) <- %s: %s\n", g->name, g->type_name,
                g->channel ? g->channel->name : "?", member_names(g, names, sizeof(names)));
        for (size_t j = 0; g->kind == SL_SGP_FAILOVER && j < g->nmembers; j++) {
            const struct sl_sg_member *m = &g->members[j];
            if (m->priority > INT64_MIN + (int64_t)g->nmembers) {
                fprintf(out, "  priority %s: %lld\n", m->sink->name, (long long)m->priority);
            } else {
                fprintf(out, "  priority %s: (unset: below the others, in list order)\n",
                        m->sink->name);
            }
        }
        if (g->kind == SL_SGP_FAILOVER) {
            fprintf(out, "  maxpenalty: %lld\n", (long long)g->maxpenalty_ms);
        } else if (g->kind == SL_SGP_LOAD_BALANCE) {
            fprintf(out, "  selector: %s\n  backoff: %s\n  selector.maxTimeOut: %lld\n",
                    g->selector, g->backoff ? "true" : "false", (long long)g->max_timeout_ms);
        }
    }
}

void sl_sinkgroups_destroy(struct sl_agent *a)
{
    for (size_t i = 0; i < a->ngroups; i++) {
        struct sl_sinkgroup *g = &a->groups[i];
        sl_conf_free(group_conf, g);
        free(g->members);
        if (g->sync_inited) {
            pthread_mutex_destroy(&g->mu);
            pthread_cond_destroy(&g->cond);
        }
    }
    free(a->groups);
    a->groups = NULL;
    a->ngroups = 0;
}
