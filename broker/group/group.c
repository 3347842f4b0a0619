/*
 * group.c - the classic group membership protocol (see group.h): JoinGroup with the
 * member-id-required round (v4+) and static members, SyncGroup relaying the leader's
 * assignment, Heartbeat, LeaveGroup, DeleteGroups, and the timeouts that drive the state
 * machine from sl_groups_tick.
 *
 * States, as in Kafka's GroupMetadata:
 *   Empty --join--> PreparingRebalance --all known members rejoined, or the rebalance
 *   timeout--> CompletingRebalance --leader's SyncGroup--> Stable; any join with new metadata,
 *   a leave or an expired session in Stable / CompletingRebalance goes back to
 *   PreparingRebalance; a rebalance that ends with no members goes to Empty. Deleting a group
 *   (Dead) removes it from the map at once.
 * Members that have a parked JoinGroup or SyncGroup are kept alive (their client is
 * waiting on us); the others expire session_timeout_ms after their last request.
 * A completed rebalance removes the members that did not rejoin and bumps the generation.
 *
 * Threads: the broker loop thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../../common/sl_log.h"
#include "../api.h"
#include "../../common/sl_macros.h"
#include "group_int.h"

struct sl_group_join_waiter {
    sl_group_join_cb cb;
    void *arg;
};

struct sl_group_sync_waiter {
    sl_group_sync_cb cb;
    void *arg;
};

const char *sl_group_state_name(enum sl_group_state s)
{
    switch (s) {
    case SL_GROUP_EMPTY:
        return "Empty";
    case SL_GROUP_PREPARING_REBALANCE:
        return "PreparingRebalance";
    case SL_GROUP_COMPLETING_REBALANCE:
        return "CompletingRebalance";
    case SL_GROUP_STABLE:
        return "Stable";
    default:
        return "Dead";
    }
}

/* Java's String.hashCode over the UTF-16 code units of a UTF-8 string. */
static int32_t java_hash(const char *s)
{
    uint32_t h = 0;
    const uint8_t *p = (const uint8_t *)s;
    while (*p) {
        uint32_t cp;
        int n;
        if (p[0] < 0x80) {
            cp = p[0], n = 1;
        } else if ((p[0] & 0xe0) == 0xc0 && p[1]) {
            cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f), n = 2;
        } else if ((p[0] & 0xf0) == 0xe0 && p[1] && p[2]) {
            cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
            n = 3;
        } else if ((p[0] & 0xf8) == 0xf0 && p[1] && p[2] && p[3]) {
            cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
                 (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
            n = 4;
        } else {
            cp = 0xfffd, n = 1; /* Java decodes a malformed byte to U+FFFD */
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xd800 + (cp >> 10));
            h = 31 * h + (0xdc00 + (cp & 0x3ff));
        } else {
            h = 31 * h + cp;
        }
        p += n;
    }
    return (int32_t)h;
}

int32_t sl_group_partition_for(const char *group_id, int32_t partitions)
{
    int32_t h = java_hash(group_id);
    /* Kafka's Utils.abs: Integer.MIN_VALUE maps to 0 */
    int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
    return a % partitions;
}

void sl_groups_config_default(struct sl_groups_config *cfg)
{
    cfg->min_session_timeout_ms = 6000;
    cfg->max_session_timeout_ms = 1800000;
    cfg->offsets_retention_ms = 10080LL * 60 * 1000;
    cfg->offsets_partitions = 50;
    cfg->snapshot_min_bytes = 16LL << 20;
}

/* ---- members ---- */

static void bytes_free(struct sl_group_bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
}

static int bytes_set(struct sl_group_bytes *b, const uint8_t *p, int32_t len)
{
    uint8_t *copy = NULL;
    if (len > 0) {
        copy = malloc((size_t)len);
        if (!copy) {
            return -ENOMEM;
        }
        memcpy(copy, p, (size_t)len);
    }
    bytes_free(b);
    b->p = copy;
    b->len = len > 0 ? len : 0;
    return 0;
}

static void protos_free(struct sl_gmember *m)
{
    for (int i = 0; i < m->nprotos; i++) {
        free(m->protos[i].name);
        bytes_free(&m->protos[i].metadata);
    }
    free(m->protos);
    m->protos = NULL;
    m->nprotos = 0;
}

static int protos_set(struct sl_gmember *m, int n, const struct sl_group_proto *src)
{
    struct sl_gmember tmp = {0};
    tmp.protos = calloc((size_t)(n > 0 ? n : 1), sizeof(*tmp.protos));
    if (!tmp.protos) {
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        tmp.nprotos++;
        tmp.protos[i].name = strdup(src[i].name);
        if (!tmp.protos[i].name ||
            bytes_set(&tmp.protos[i].metadata, src[i].metadata.p, src[i].metadata.len) != 0) {
            protos_free(&tmp);
            return -ENOMEM;
        }
    }
    protos_free(m);
    m->protos = tmp.protos;
    m->nprotos = tmp.nprotos;
    return 0;
}

static int protos_equal(const struct sl_gmember *m, int n, const struct sl_group_proto *p)
{
    if (m->nprotos != n) {
        return 0;
    }
    for (int i = 0; i < n; i++) {
        const struct sl_group_proto *a = &m->protos[i];
        if (strcmp(a->name, p[i].name) != 0 || a->metadata.len != p[i].metadata.len ||
            (a->metadata.len && memcmp(a->metadata.p, p[i].metadata.p, (size_t)a->metadata.len))) {
            return 0;
        }
    }
    return 1;
}

const struct sl_group_bytes *sl_gmember_proto(const struct sl_gmember *m, const char *name)
{
    for (int i = 0; name && i < m->nprotos; i++) {
        if (strcmp(m->protos[i].name, name) == 0) {
            return &m->protos[i].metadata;
        }
    }
    return NULL;
}

static void member_free(struct sl_gmember *m)
{
    if (!m) {
        return;
    }
    free(m->join);
    free(m->sync);
    free(m->id);
    free(m->instance_id);
    free(m->client_id);
    free(m->client_host);
    protos_free(m);
    bytes_free(&m->assignment);
    free(m);
}

static struct sl_gmember *member_find(struct sl_group *grp, const char *id)
{
    for (struct sl_gmember *m = grp->members; m; m = m->next) {
        if (strcmp(m->id, id) == 0) {
            return m;
        }
    }
    return NULL;
}

static struct sl_gmember *member_by_instance(struct sl_group *grp, const char *instance)
{
    for (struct sl_gmember *m = grp->members; instance && m; m = m->next) {
        if (m->instance_id && strcmp(m->instance_id, instance) == 0) {
            return m;
        }
    }
    return NULL;
}

static void member_unlink(struct sl_group *grp, struct sl_gmember *m)
{
    for (struct sl_gmember **pp = &grp->members; *pp; pp = &(*pp)->next) {
        if (*pp == m) {
            *pp = m->next;
            grp->nmembers--;
            return;
        }
    }
}

/* "<prefix>-<uuid>", as Kafka forms member ids. NULL on -ENOMEM. */
static char *new_member_id(struct sl_groups *g, const char *prefix)
{
    uint8_t r[16];
    if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        uint64_t s = ++g->id_seq ^ (uint64_t)(uintptr_t)g;
        for (size_t i = 0; i < sizeof(r); i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            r[i] = (uint8_t)(s >> 56);
        }
    }
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    size_t n = strlen(prefix) + 38;
    char *id = malloc(n);
    if (id) {
        snprintf(id, n,
                 "%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", prefix,
                 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
                 r[13], r[14], r[15]);
    }
    return id;
}

/* ---- answering parked requests ---- */

static void join_error(sl_group_join_cb cb, void *arg, int16_t error, const char *member_id)
{
    struct sl_group_join_result res = {0};
    res.error = error;
    res.generation = -1;
    res.protocol = "";
    res.leader = "";
    res.member_id = member_id ? member_id : "";
    cb(arg, &res);
}

static void member_join_error(struct sl_gmember *m, int16_t error)
{
    struct sl_group_join_waiter *w = m->join;
    if (w) {
        m->join = NULL;
        join_error(w->cb, w->arg, error, m->id);
        free(w);
    }
}

static void member_sync_answer(struct sl_gmember *m, int16_t error)
{
    struct sl_group_sync_waiter *w = m->sync;
    if (w) {
        m->sync = NULL;
        struct sl_group_bytes none = {NULL, 0};
        w->cb(w->arg, error, error ? none : m->assignment);
        free(w);
    }
}

/* The join response of the current generation for m (members listed for the leader). */
static void join_answer(struct sl_group *grp, struct sl_gmember *m, sl_group_join_cb cb, void *arg)
{
    struct sl_group_join_result res = {0};
    res.generation = grp->generation;
    res.protocol = grp->protocol ? grp->protocol : "";
    res.leader = grp->leader ? grp->leader : "";
    res.member_id = m->id;
    struct sl_group_join_member *list = NULL;
    if (grp->leader && strcmp(grp->leader, m->id) == 0) {
        list = calloc((size_t)(grp->nmembers > 0 ? grp->nmembers : 1), sizeof(*list));
        if (!list) {
            join_error(cb, arg, KERR_UNKNOWN_SERVER_ERROR, m->id);
            return;
        }
        int i = 0;
        for (struct sl_gmember *x = grp->members; x; x = x->next, i++) {
            const struct sl_group_bytes *md = sl_gmember_proto(x, grp->protocol);
            list[i].member_id = x->id;
            list[i].instance_id = x->instance_id;
            if (md) {
                list[i].metadata = *md;
            }
        }
        res.nmembers = grp->nmembers;
        res.members = list;
    }
    cb(arg, &res);
    free(list);
}

/* ---- the rebalance ---- */

/* Kafka's selectProtocol: among protocols every member supports, the most voted (each
 * member votes for its first supported candidate). NULL when there is no common one. */
static const char *select_protocol(struct sl_group *grp)
{
    struct sl_gmember *first = grp->members;
    if (!first) {
        return NULL;
    }
    const char *best = NULL;
    int best_votes = -1;
    for (int i = 0; i < first->nprotos; i++) {
        const char *cand = first->protos[i].name;
        int all = 1;
        for (struct sl_gmember *m = first->next; m && all; m = m->next) {
            all = sl_gmember_proto(m, cand) != NULL;
        }
        if (!all) {
            continue;
        }
        int votes = 0;
        for (struct sl_gmember *m = grp->members; m; m = m->next) {
            for (int j = 0; j < m->nprotos; j++) {
                const char *p = m->protos[j].name;
                int ok = 1;
                for (struct sl_gmember *o = grp->members; o && ok; o = o->next) {
                    ok = sl_gmember_proto(o, p) != NULL;
                }
                if (ok) {
                    votes += strcmp(p, cand) == 0;
                    break;
                }
            }
        }
        if (votes > best_votes) {
            best = cand;
            best_votes = votes;
        }
    }
    return best;
}

/* Would a member with these protocols fit the group's current members? */
static int protocols_compatible(struct sl_group *grp, const char *type, int n,
                                const struct sl_group_proto *p)
{
    if (!type || !*type || n <= 0) {
        return 0;
    }
    if (grp->nmembers == 0) {
        return 1;
    }
    if (!grp->protocol_type || strcmp(grp->protocol_type, type) != 0) {
        return 0;
    }
    for (int i = 0; i < n; i++) {
        int all = 1;
        for (struct sl_gmember *m = grp->members; m && all; m = m->next) {
            all = sl_gmember_proto(m, p[i].name) != NULL;
        }
        if (all) {
            return 1;
        }
    }
    return 0;
}

static void set_state(struct sl_group *grp, enum sl_group_state s, int64_t now_ms)
{
    grp->state = s;
    grp->state_ts_ms = now_ms;
}

static void complete_join(struct sl_groups *g, struct sl_group *grp, int64_t now_ms)
{
    /* members that did not rejoin in time leave the group */
    struct sl_gmember **pp = &grp->members;
    while (*pp) {
        struct sl_gmember *m = *pp;
        if (!m->join) {
            *pp = m->next;
            grp->nmembers--;
            sl_clog("broker:group", SL_LOG_INFO, "group %s: member %s did not rejoin: removed",
                    grp->id, m->id);
            member_sync_answer(m, KERR_REBALANCE_IN_PROGRESS);
            member_free(m);
        } else {
            pp = &m->next;
        }
    }
    grp->generation++;
    free(grp->protocol);
    grp->protocol = NULL;
    if (grp->nmembers == 0) {
        free(grp->leader);
        grp->leader = NULL;
        set_state(grp, SL_GROUP_EMPTY, now_ms);
        sl__gpersist_group(g, grp, 0, now_ms);
        sl_clog("broker:group", SL_LOG_INFO, "group %s: generation %" PRId32 " is empty", grp->id,
                grp->generation);
        return;
    }
    const char *proto = select_protocol(grp);
    grp->protocol = proto ? strdup(proto) : NULL;
    if (!grp->leader || !member_find(grp, grp->leader)) {
        free(grp->leader);
        grp->leader = strdup(grp->members->id);
    }
    set_state(grp, SL_GROUP_COMPLETING_REBALANCE, now_ms);
    sl_clog("broker:group", SL_LOG_INFO,
            "group %s: generation %" PRId32 " with %d members, protocol %s, leader %s", grp->id,
            grp->generation, grp->nmembers, grp->protocol ? grp->protocol : "(none)",
            grp->leader ? grp->leader : "(none)");
    for (struct sl_gmember *m = grp->members; m; m = m->next) {
        bytes_free(&m->assignment);
        m->deadline_ms = now_ms + m->session_timeout_ms;
        struct sl_group_join_waiter *w = m->join;
        m->join = NULL;
        if (!grp->protocol || !grp->leader) {
            join_error(w->cb, w->arg, KERR_INCONSISTENT_GROUP_PROTOCOL, m->id);
        } else {
            join_answer(grp, m, w->cb, w->arg);
        }
        free(w);
    }
}

/* Complete the join phase when every known member has rejoined and no handed-out member
 * id is still expected. */
static void try_complete_join(struct sl_groups *g, struct sl_group *grp, int64_t now_ms)
{
    if (grp->state != SL_GROUP_PREPARING_REBALANCE) {
        return;
    }
    for (struct sl_gmember *m = grp->members; m; m = m->next) {
        if (!m->join) {
            return;
        }
    }
    if (grp->pending) {
        return;
    }
    complete_join(g, grp, now_ms);
}

static void prepare_rebalance(struct sl_groups *g, struct sl_group *grp, int64_t now_ms)
{
    if (grp->state == SL_GROUP_COMPLETING_REBALANCE) {
        for (struct sl_gmember *m = grp->members; m; m = m->next) {
            member_sync_answer(m, KERR_REBALANCE_IN_PROGRESS);
        }
    }
    if (grp->state != SL_GROUP_PREPARING_REBALANCE) {
        int32_t t = 0;
        for (struct sl_gmember *m = grp->members; m; m = m->next) {
            t = m->rebalance_timeout_ms > t ? m->rebalance_timeout_ms : t;
        }
        set_state(grp, SL_GROUP_PREPARING_REBALANCE, now_ms);
        grp->rebalance_deadline_ms = now_ms + t;
        sl_clog("broker:group", SL_LOG_INFO,
                "group %s: preparing to rebalance (generation %" PRId32 ")", grp->id,
                grp->generation);
    }
    try_complete_join(g, grp, now_ms);
}

/* Remove m (left, expired, fenced): answer its parked requests, rebalance the rest. */
static void remove_member(struct sl_groups *g, struct sl_group *grp, struct sl_gmember *m,
                          int64_t now_ms, const char *why)
{
    sl_clog("broker:group", SL_LOG_INFO, "group %s: member %s %s", grp->id, m->id, why);
    member_unlink(grp, m);
    member_join_error(m, KERR_UNKNOWN_MEMBER_ID);
    member_sync_answer(m, KERR_UNKNOWN_MEMBER_ID);
    if (grp->leader && strcmp(grp->leader, m->id) == 0) {
        free(grp->leader);
        grp->leader = grp->members ? strdup(grp->members->id) : NULL;
    }
    member_free(m);
    switch (grp->state) {
    case SL_GROUP_STABLE:
    case SL_GROUP_COMPLETING_REBALANCE:
        prepare_rebalance(g, grp, now_ms);
        break;
    case SL_GROUP_PREPARING_REBALANCE:
        try_complete_join(g, grp, now_ms);
        break;
    default:
        break;
    }
}

/* ---- groups ---- */

static void group_free(void *p)
{
    struct sl_group *grp = p;
    if (!grp) {
        return;
    }
    while (grp->members) {
        struct sl_gmember *m = grp->members;
        grp->members = m->next;
        member_free(m);
    }
    while (grp->pending) {
        struct sl_gpending *pm = grp->pending;
        grp->pending = pm->next;
        free(pm->id);
        free(pm);
    }
    sl__group_offsets_fini(grp);
    free(grp->id);
    free(grp->protocol_type);
    free(grp->protocol);
    free(grp->leader);
    free(grp);
}

struct sl_group *sl__group_get_or_create(struct sl_groups *g, const char *group_id, int64_t now_ms)
{
    struct sl_group *grp = sl__gmap_get(&g->groups, group_id);
    if (grp) {
        return grp;
    }
    grp = calloc(1, sizeof(*grp));
    if (!grp || !(grp->id = strdup(group_id))) {
        free(grp);
        return NULL;
    }
    sl__gmap_init(&grp->offsets);
    grp->state = SL_GROUP_EMPTY;
    grp->state_ts_ms = now_ms;
    grp->offsets_partition = sl_group_partition_for(group_id, g->cfg.offsets_partitions);
    if (sl__gmap_put(&g->groups, group_id, grp, NULL) != 0) {
        group_free(grp);
        return NULL;
    }
    return grp;
}

void sl__group_remove(struct sl_groups *g, struct sl_group *grp)
{
    sl__gmap_del(&g->groups, grp->id);
    group_free(grp);
}

struct sl_group *sl_groups_find(struct sl_groups *g, const char *group_id)
{
    return sl__gmap_get(&g->groups, group_id);
}

struct each_ctx {
    sl_groups_each_cb cb;
    void *arg;
};

static void each_group(void *arg, void *val)
{
    struct each_ctx *c = arg;
    c->cb(c->arg, val);
}

void sl_groups_each(struct sl_groups *g, sl_groups_each_cb cb, void *arg)
{
    struct each_ctx c = {cb, arg};
    sl__gmap_each(&g->groups, each_group, &c);
}

int sl_groups_create(const struct sl_groups_config *cfg, struct sl_broker *b,
                     struct sl_groups **out, struct sl_err *err)
{
    *out = NULL;
    struct sl_groups *g = calloc(1, sizeof(*g));
    if (!g) {
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    g->cfg = *cfg;
    if (g->cfg.offsets_partitions < 1) {
        g->cfg.offsets_partitions = 1;
    }
    g->b = b;
    sl__gmap_init(&g->groups);
    int rc = sl__gpersist_load(g, err); /* may change offsets_partitions to the topic's */
    if (rc != 0) {
        sl_groups_destroy(g);
        return rc;
    }
    g->snapshot_bytes = calloc((size_t)g->cfg.offsets_partitions, sizeof(*g->snapshot_bytes));
    g->dirty = calloc((size_t)g->cfg.offsets_partitions, 1);
    if (!g->snapshot_bytes || !g->dirty) {
        sl_groups_destroy(g);
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    /* loaded logs count as grown: the first tick bounds them */
    memset(g->dirty, 1, (size_t)g->cfg.offsets_partitions);
    *out = g;
    return 0;
}

void sl_groups_destroy(struct sl_groups *g)
{
    if (!g) {
        return;
    }
    sl__gmap_fini(&g->groups, group_free);
    free(g->snapshot_bytes);
    free(g->dirty);
    free(g);
}

static void timer_cb(uv_timer_t *t)
{
    sl_groups_tick(t->data, sl_now_ms());
}

static void timer_close_cb(uv_handle_t *h)
{
    struct sl_groups *g = h->data;
    g->timer_active = 0;
}

int sl_groups_start(struct sl_groups *g, uv_loop_t *loop)
{
    int rc = uv_timer_init(loop, &g->timer);
    if (rc != 0) {
        return rc;
    }
    g->loop = loop;
    g->timer.data = g;
    g->timer_active = 1;
    return uv_timer_start(&g->timer, timer_cb, SL__GROUP_TICK_MS, SL__GROUP_TICK_MS);
}

void sl_groups_stop(struct sl_groups *g)
{
    if (g && g->timer_active && !uv_is_closing((uv_handle_t *)&g->timer)) {
        uv_close((uv_handle_t *)&g->timer, timer_close_cb);
    }
}

/* ---- ticking ---- */

struct tick_ctx {
    struct sl_groups *g;
    int64_t now;
};

static void tick_group(void *arg, void *val)
{
    struct tick_ctx *c = arg;
    struct sl_group *grp = val;
    int64_t now = c->now;
    int pending_gone = 0;
    for (struct sl_gpending **pp = &grp->pending; *pp;) {
        struct sl_gpending *pm = *pp;
        if (pm->deadline_ms <= now) {
            *pp = pm->next;
            free(pm->id);
            free(pm);
            pending_gone = 1;
        } else {
            pp = &pm->next;
        }
    }
    if (grp->state == SL_GROUP_PREPARING_REBALANCE && grp->rebalance_deadline_ms <= now) {
        /* the rebalance timeout: go on with whoever rejoined */
        while (grp->pending) {
            struct sl_gpending *pm = grp->pending;
            grp->pending = pm->next;
            free(pm->id);
            free(pm);
        }
        complete_join(c->g, grp, now);
    } else if (pending_gone) {
        try_complete_join(c->g, grp, now);
    }
    for (;;) {
        struct sl_gmember *dead = NULL;
        for (struct sl_gmember *m = grp->members; m && !dead; m = m->next) {
            if (!m->join && !m->sync && m->deadline_ms <= now) {
                dead = m;
            }
        }
        if (!dead) {
            break;
        }
        remove_member(c->g, grp, dead, now, "session timed out: removed");
    }
}

void sl_groups_tick(struct sl_groups *g, int64_t now_ms)
{
    struct tick_ctx c = {g, now_ms};
    sl__gmap_each(&g->groups, tick_group, &c);
    if (now_ms >= g->next_expire_ms) {
        g->next_expire_ms = now_ms + 60000;
        sl__groups_expire_offsets(g, now_ms);
    }
    sl__gpersist_maybe_snapshot(g, now_ms);
}

struct cancel_ctx {
    void *arg;
};

static void cancel_group(void *arg, void *val)
{
    struct cancel_ctx *c = arg;
    struct sl_group *grp = val;
    for (struct sl_gmember *m = grp->members; m; m = m->next) {
        if (m->join && m->join->arg == c->arg) {
            free(m->join);
            m->join = NULL;
        }
        if (m->sync && m->sync->arg == c->arg) {
            free(m->sync);
            m->sync = NULL;
        }
    }
}

void sl_groups_cancel(struct sl_groups *g, void *arg)
{
    struct cancel_ctx c = {arg};
    sl__gmap_each(&g->groups, cancel_group, &c);
}

/* ---- JoinGroup ---- */

static int member_update(struct sl_gmember *m, const struct sl_group_join_args *a, int64_t now_ms)
{
    char *cid = strdup(a->client_id ? a->client_id : "");
    char *host = strdup(a->client_host ? a->client_host : "");
    if (!cid || !host || protos_set(m, a->nprotos, a->protos) != 0) {
        free(cid);
        free(host);
        return -ENOMEM;
    }
    free(m->client_id);
    free(m->client_host);
    m->client_id = cid;
    m->client_host = host;
    m->session_timeout_ms = a->session_timeout_ms;
    m->rebalance_timeout_ms =
        a->rebalance_timeout_ms > 0 ? a->rebalance_timeout_ms : a->session_timeout_ms;
    m->deadline_ms = now_ms + a->session_timeout_ms;
    return 0;
}

static int park_join(struct sl_gmember *m, sl_group_join_cb cb, void *arg)
{
    struct sl_group_join_waiter *w = malloc(sizeof(*w));
    if (!w) {
        return -ENOMEM;
    }
    w->cb = cb;
    w->arg = arg;
    /* a second join from the same member (another connection) replaces the first */
    member_join_error(m, KERR_REBALANCE_IN_PROGRESS);
    m->join = w;
    return 0;
}

/* Add a new member with id (taken) and park its join. */
static void add_member(struct sl_groups *g, struct sl_group *grp, char *id,
                       const struct sl_group_join_args *a, int64_t now_ms, sl_group_join_cb cb,
                       void *arg)
{
    struct sl_gmember *m = calloc(1, sizeof(*m));
    if (!m) {
        join_error(cb, arg, KERR_UNKNOWN_SERVER_ERROR, id);
        free(id);
        return;
    }
    m->id = id;
    if ((a->instance_id && !(m->instance_id = strdup(a->instance_id))) ||
        member_update(m, a, now_ms) != 0 || park_join(m, cb, arg) != 0) {
        join_error(cb, arg, KERR_UNKNOWN_SERVER_ERROR, id);
        member_free(m);
        return;
    }
    if (!grp->protocol_type || strcmp(grp->protocol_type, a->protocol_type) != 0) {
        free(grp->protocol_type);
        grp->protocol_type = strdup(a->protocol_type);
    }
    struct sl_gmember **pp = &grp->members;
    while (*pp) {
        pp = &(*pp)->next;
    }
    *pp = m;
    grp->nmembers++;
    sl_clog("broker:group", SL_LOG_INFO, "group %s: member %s joins (client %s, %s)", grp->id,
            m->id, m->client_id, m->client_host);
    prepare_rebalance(g, grp, now_ms);
}

/* A static member rejoining under its group.instance.id with a new member id. */
static void static_rejoin(struct sl_groups *g, struct sl_group *grp, struct sl_gmember *m,
                          const struct sl_group_join_args *a, int64_t now_ms, sl_group_join_cb cb,
                          void *arg)
{
    char *id = new_member_id(g, a->instance_id);
    if (!id) {
        join_error(cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
        return;
    }
    member_join_error(m, KERR_FENCED_INSTANCE_ID);
    member_sync_answer(m, KERR_FENCED_INSTANCE_ID);
    int changed = !protos_equal(m, a->nprotos, a->protos);
    int was_leader = grp->leader && strcmp(grp->leader, m->id) == 0;
    if (was_leader) {
        free(grp->leader);
        grp->leader = strdup(id);
    }
    free(m->id);
    m->id = id;
    if (member_update(m, a, now_ms) != 0) {
        join_error(cb, arg, KERR_UNKNOWN_SERVER_ERROR, id);
        return;
    }
    if (grp->state == SL_GROUP_STABLE && !changed) {
        /* KIP-345: a known static member comes back without a rebalance */
        join_answer(grp, m, cb, arg);
        return;
    }
    if (park_join(m, cb, arg) != 0) {
        join_error(cb, arg, KERR_UNKNOWN_SERVER_ERROR, id);
        return;
    }
    prepare_rebalance(g, grp, now_ms);
}

static void join_known(struct sl_groups *g, struct sl_group *grp, struct sl_gmember *m,
                       const struct sl_group_join_args *a, int64_t now_ms, sl_group_join_cb cb,
                       void *arg)
{
    int changed = !protos_equal(m, a->nprotos, a->protos);
    if (member_update(m, a, now_ms) != 0) {
        join_error(cb, arg, KERR_UNKNOWN_SERVER_ERROR, m->id);
        return;
    }
    int leader = grp->leader && strcmp(grp->leader, m->id) == 0;
    switch (grp->state) {
    case SL_GROUP_COMPLETING_REBALANCE:
        if (!changed) {
            /* the join response was lost: send it again */
            join_answer(grp, m, cb, arg);
            return;
        }
        break;
    case SL_GROUP_STABLE:
        if (!changed && !leader) {
            join_answer(grp, m, cb, arg);
            return;
        }
        break;
    default:
        break;
    }
    if (park_join(m, cb, arg) != 0) {
        join_error(cb, arg, KERR_UNKNOWN_SERVER_ERROR, m->id);
        return;
    }
    prepare_rebalance(g, grp, now_ms);
}

static struct sl_gpending *pending_take(struct sl_group *grp, const char *id)
{
    for (struct sl_gpending **pp = &grp->pending; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->id, id) == 0) {
            struct sl_gpending *pm = *pp;
            *pp = pm->next;
            return pm;
        }
    }
    return NULL;
}

void sl_group_join(struct sl_groups *g, const struct sl_group_join_args *a, int64_t now_ms,
                   sl_group_join_cb cb, void *arg)
{
    const char *mid = a->member_id ? a->member_id : "";
    if (!a->group_id || !*a->group_id) {
        join_error(cb, arg, KERR_INVALID_GROUP_ID, mid);
        return;
    }
    if (a->session_timeout_ms < g->cfg.min_session_timeout_ms ||
        a->session_timeout_ms > g->cfg.max_session_timeout_ms) {
        join_error(cb, arg, KERR_INVALID_SESSION_TIMEOUT, mid);
        return;
    }
    struct sl_group *grp = *mid ? sl_groups_find(g, a->group_id)
                                : sl__group_get_or_create(g, a->group_id, now_ms);
    if (!grp) {
        join_error(cb, arg, *mid ? KERR_UNKNOWN_MEMBER_ID : KERR_UNKNOWN_SERVER_ERROR, mid);
        return;
    }
    if (grp->state == SL_GROUP_DEAD) {
        join_error(cb, arg, KERR_COORDINATOR_NOT_AVAILABLE, mid);
        return;
    }
    struct sl_gmember *m = *mid ? member_find(grp, mid) : NULL;
    struct sl_gmember *inst = member_by_instance(grp, a->instance_id);
    if (m) {
        if (a->instance_id && inst != m) {
            join_error(cb, arg, KERR_FENCED_INSTANCE_ID, mid);
            return;
        }
        if (!protocols_compatible(grp, a->protocol_type, a->nprotos, a->protos) &&
            grp->nmembers > 1) {
            join_error(cb, arg, KERR_INCONSISTENT_GROUP_PROTOCOL, mid);
            return;
        }
        join_known(g, grp, m, a, now_ms, cb, arg);
        return;
    }
    if (inst) {
        if (*mid) {
            join_error(cb, arg, KERR_FENCED_INSTANCE_ID, mid);
            return;
        }
        static_rejoin(g, grp, inst, a, now_ms, cb, arg);
        return;
    }
    if (!protocols_compatible(grp, a->protocol_type, a->nprotos, a->protos)) {
        join_error(cb, arg, KERR_INCONSISTENT_GROUP_PROTOCOL, mid);
        return;
    }
    if (*mid) {
        struct sl_gpending *pm = pending_take(grp, mid);
        if (!pm) {
            join_error(cb, arg, KERR_UNKNOWN_MEMBER_ID, mid);
            return;
        }
        char *id = pm->id;
        free(pm);
        add_member(g, grp, id, a, now_ms, cb, arg);
        return;
    }
    char *id = new_member_id(g, a->instance_id ? a->instance_id
                                               : (a->client_id ? a->client_id : ""));
    if (!id) {
        join_error(cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
        return;
    }
    if (a->require_known_member_id && !a->instance_id) {
        /* KIP-394: hand out the id and expect the member back with it */
        struct sl_gpending *pm = calloc(1, sizeof(*pm));
        if (!pm) {
            free(id);
            join_error(cb, arg, KERR_UNKNOWN_SERVER_ERROR, "");
            return;
        }
        pm->id = id;
        pm->deadline_ms = now_ms + a->session_timeout_ms;
        pm->next = grp->pending;
        grp->pending = pm;
        join_error(cb, arg, KERR_MEMBER_ID_REQUIRED, id);
        return;
    }
    add_member(g, grp, id, a, now_ms, cb, arg);
}

/* ---- SyncGroup ---- */

/* The common checks of Sync, Heartbeat and commits by a member: NONE and *out, or a code. */
static int16_t check_member(struct sl_group *grp, int32_t generation, const char *member_id,
                            const char *instance_id, struct sl_gmember **out)
{
    *out = NULL;
    if (!grp) {
        return KERR_UNKNOWN_MEMBER_ID;
    }
    if (grp->state == SL_GROUP_DEAD) {
        return KERR_COORDINATOR_NOT_AVAILABLE;
    }
    if (instance_id) {
        struct sl_gmember *inst = member_by_instance(grp, instance_id);
        if (inst && strcmp(inst->id, member_id) != 0) {
            return KERR_FENCED_INSTANCE_ID;
        }
    }
    struct sl_gmember *m = member_find(grp, member_id ? member_id : "");
    if (!m) {
        return KERR_UNKNOWN_MEMBER_ID;
    }
    if (generation != grp->generation) {
        return KERR_ILLEGAL_GENERATION;
    }
    *out = m;
    return KERR_NONE;
}

void sl_group_sync(struct sl_groups *g, const char *group_id, int32_t generation,
                   const char *member_id, const char *instance_id, int nassign,
                   const struct sl_group_assignment *assign, int64_t now_ms, sl_group_sync_cb cb,
                   void *arg)
{
    struct sl_group_bytes none = {NULL, 0};
    struct sl_group *grp = sl_groups_find(g, group_id);
    struct sl_gmember *m;
    int16_t err = check_member(grp, generation, member_id, instance_id, &m);
    if (err == KERR_NONE && grp->state == SL_GROUP_PREPARING_REBALANCE) {
        err = KERR_REBALANCE_IN_PROGRESS;
    }
    if (err != KERR_NONE) {
        cb(arg, err, none);
        return;
    }
    m->deadline_ms = now_ms + m->session_timeout_ms;
    if (grp->state == SL_GROUP_STABLE) {
        cb(arg, KERR_NONE, m->assignment);
        return;
    }
    /* CompletingRebalance: wait for the leader's assignment */
    struct sl_group_sync_waiter *w = malloc(sizeof(*w));
    if (!w) {
        cb(arg, KERR_UNKNOWN_SERVER_ERROR, none);
        return;
    }
    w->cb = cb;
    w->arg = arg;
    member_sync_answer(m, KERR_REBALANCE_IN_PROGRESS);
    m->sync = w;
    if (!grp->leader || strcmp(grp->leader, m->id) != 0) {
        return;
    }
    for (struct sl_gmember *x = grp->members; x; x = x->next) {
        bytes_free(&x->assignment);
    }
    for (int i = 0; i < nassign; i++) {
        struct sl_gmember *x = member_find(grp, assign[i].member_id);
        if (x && bytes_set(&x->assignment, assign[i].assignment.p, assign[i].assignment.len)) {
            for (struct sl_gmember *y = grp->members; y; y = y->next) {
                member_sync_answer(y, KERR_UNKNOWN_SERVER_ERROR);
            }
            prepare_rebalance(g, grp, now_ms);
            return;
        }
    }
    set_state(grp, SL_GROUP_STABLE, now_ms);
    sl__gpersist_group(g, grp, 0, now_ms);
    sl_clog("broker:group", SL_LOG_INFO, "group %s: generation %" PRId32 " is stable", grp->id,
            grp->generation);
    for (struct sl_gmember *x = grp->members; x; x = x->next) {
        x->deadline_ms = now_ms + x->session_timeout_ms;
        member_sync_answer(x, KERR_NONE);
    }
}

/* ---- Heartbeat, LeaveGroup, DeleteGroups ---- */

int16_t sl_group_heartbeat(struct sl_groups *g, const char *group_id, int32_t generation,
                           const char *member_id, const char *instance_id, int64_t now_ms)
{
    struct sl_group *grp = sl_groups_find(g, group_id);
    struct sl_gmember *m;
    int16_t err = check_member(grp, generation, member_id, instance_id, &m);
    if (err != KERR_NONE) {
        return err;
    }
    m->deadline_ms = now_ms + m->session_timeout_ms;
    return grp->state == SL_GROUP_PREPARING_REBALANCE ? KERR_REBALANCE_IN_PROGRESS : KERR_NONE;
}

int16_t sl_group_leave(struct sl_groups *g, const char *group_id, const char *member_id,
                       const char *instance_id, int64_t now_ms)
{
    struct sl_group *grp = sl_groups_find(g, group_id);
    if (!grp) {
        return KERR_UNKNOWN_MEMBER_ID;
    }
    if (grp->state == SL_GROUP_DEAD) {
        return KERR_COORDINATOR_NOT_AVAILABLE;
    }
    struct sl_gmember *m;
    if (instance_id) {
        m = member_by_instance(grp, instance_id);
        if (!m) {
            return KERR_UNKNOWN_MEMBER_ID;
        }
        if (member_id && *member_id && strcmp(m->id, member_id) != 0) {
            return KERR_FENCED_INSTANCE_ID;
        }
    } else {
        m = member_find(grp, member_id ? member_id : "");
        if (!m) {
            return KERR_UNKNOWN_MEMBER_ID;
        }
    }
    remove_member(g, grp, m, now_ms, "left the group");
    return KERR_NONE;
}

int16_t sl_group_delete(struct sl_groups *g, const char *group_id, int64_t now_ms)
{
    struct sl_group *grp = sl_groups_find(g, group_id);
    if (!grp || grp->state == SL_GROUP_DEAD) {
        return KERR_GROUP_ID_NOT_FOUND;
    }
    if (grp->state != SL_GROUP_EMPTY) {
        return KERR_NON_EMPTY_GROUP;
    }
    /* tombstones first: a crash in between leaves the group, never half of it */
    size_t n = grp->offsets.count;
    const struct sl_group_offset **list = calloc(n ? n : 1, sizeof(*list));
    if (!list) {
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    size_t i = 0;
    for (size_t b = 0; b < grp->offsets.nbuckets; b++) {
        for (struct sl__gmap_ent *e = grp->offsets.buckets[b]; e; e = e->next) {
            list[i++] = e->val;
        }
    }
    int rc = n ? sl__gpersist_offsets(g, grp, list, (int)n, 1, now_ms) : 0;
    free(list);
    if (rc == 0) {
        rc = sl__gpersist_group(g, grp, 1, now_ms);
    }
    if (rc != 0) {
        return KERR_COORDINATOR_NOT_AVAILABLE;
    }
    sl_clog("broker:group", SL_LOG_INFO, "group %s: deleted", grp->id);
    sl__group_remove(g, grp);
    return KERR_NONE;
}

int16_t sl_group_commit_check(struct sl_groups *g, const char *group_id, int32_t generation,
                              const char *member_id, const char *instance_id, int64_t now_ms)
{
    if (!group_id || !*group_id) {
        return KERR_INVALID_GROUP_ID;
    }
    struct sl_group *grp = sl_groups_find(g, group_id);
    if (!grp && generation < 0) {
        grp = sl__group_get_or_create(g, group_id, now_ms);
        return grp ? KERR_NONE : KERR_UNKNOWN_SERVER_ERROR;
    }
    if (!grp) {
        return KERR_ILLEGAL_GENERATION;
    }
    if (grp->state == SL_GROUP_DEAD) {
        return KERR_COORDINATOR_NOT_AVAILABLE;
    }
    if (generation < 0 && grp->state == SL_GROUP_EMPTY) {
        return KERR_NONE; /* the group only stores offsets */
    }
    if (grp->state == SL_GROUP_COMPLETING_REBALANCE) {
        return KERR_REBALANCE_IN_PROGRESS;
    }
    struct sl_gmember *m;
    int16_t err = check_member(grp, generation, member_id, instance_id, &m);
    if (err == KERR_NONE) {
        m->deadline_ms = now_ms + m->session_timeout_ms;
    }
    return err;
}
