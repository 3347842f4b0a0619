/*
 * offsets.c - the groups' committed offsets in memory (a map "topic:partition" per group),
 * committing them through __consumer_offsets first, and expiring those of Empty groups after
 * offsets.retention.minutes (Kafka 2.1+: counted from the later of the commit and the moment
 * the group became Empty).
 *
 * Threads: the broker loop thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/sl_log.h"
#include "group_int.h"

static void key_of(char *buf, size_t size, const char *topic, int32_t partition)
{
    snprintf(buf, size, "%s:%" PRId32, topic, partition);
}

static void offset_free(void *p)
{
    struct sl_group_offset *o = p;
    if (o) {
        free(o->topic);
        free(o->metadata);
        free(o);
    }
}

void sl__group_offsets_fini(struct sl_group *grp)
{
    sl__gmap_fini(&grp->offsets, offset_free);
}

int sl__group_offset_apply(struct sl_group *grp, const char *topic, int32_t partition,
                           int64_t offset, int32_t leader_epoch, const char *metadata,
                           int64_t commit_ts_ms, int tomb)
{
    char key[320];
    key_of(key, sizeof(key), topic, partition);
    if (tomb) {
        offset_free(sl__gmap_del(&grp->offsets, key));
        return 0;
    }
    struct sl_group_offset *o = calloc(1, sizeof(*o));
    if (!o || !(o->topic = strdup(topic)) || !(o->metadata = strdup(metadata ? metadata : ""))) {
        offset_free(o);
        return -ENOMEM;
    }
    o->partition = partition;
    o->offset = offset;
    o->leader_epoch = leader_epoch;
    o->commit_ts_ms = commit_ts_ms;
    void *old = NULL;
    if (sl__gmap_put(&grp->offsets, key, o, &old) != 0) {
        offset_free(o);
        return -ENOMEM;
    }
    offset_free(old);
    return 0;
}

const struct sl_group_offset *sl_group_offset_get(struct sl_group *grp, const char *topic,
                                                  int32_t partition)
{
    char key[320];
    key_of(key, sizeof(key), topic, partition);
    return sl__gmap_get(&grp->offsets, key);
}

struct each_ctx {
    sl_group_offsets_each_cb cb;
    void *arg;
};

static void each_offset(void *arg, void *val)
{
    struct each_ctx *c = arg;
    c->cb(c->arg, val);
}

void sl_group_offsets_each(struct sl_group *grp, sl_group_offsets_each_cb cb, void *arg)
{
    struct each_ctx c = {cb, arg};
    sl__gmap_each(&grp->offsets, each_offset, &c);
}

int sl_group_commit(struct sl_groups *g, const char *group_id, const struct sl_group_commit *c,
                    int n, int64_t now_ms)
{
    struct sl_group *grp = sl_groups_find(g, group_id);
    if (!grp) {
        return SL_ENOENT;
    }
    if (n <= 0) {
        return 0;
    }
    struct sl_group_offset *tmp = calloc((size_t)n, sizeof(*tmp));
    const struct sl_group_offset **list = calloc((size_t)n, sizeof(*list));
    if (!tmp || !list) {
        free(tmp);
        free(list);
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        tmp[i].topic = (char *)(uintptr_t)c[i].topic;
        tmp[i].partition = c[i].partition;
        tmp[i].offset = c[i].offset;
        tmp[i].leader_epoch = c[i].leader_epoch;
        tmp[i].metadata = (char *)(uintptr_t)(c[i].metadata ? c[i].metadata : "");
        tmp[i].commit_ts_ms = now_ms;
        list[i] = &tmp[i];
    }
    int rc = sl__gpersist_offsets(g, grp, list, n, 0, now_ms);
    for (int i = 0; rc == 0 && i < n; i++) {
        rc = sl__group_offset_apply(grp, c[i].topic, c[i].partition, c[i].offset,
                                    c[i].leader_epoch, c[i].metadata, now_ms, 0);
    }
    free(tmp);
    free(list);
    return rc;
}

/* ---- expiry ---- */

struct expire_ctx {
    struct sl_groups *g;
    int64_t now;
    const struct sl_group_offset **list;
    size_t n;
};

static void collect_expired(void *arg, void *val)
{
    struct expire_ctx *c = arg;
    c->list[c->n++] = val;
}

static void expire_group(void *arg, void *val)
{
    struct expire_ctx *c = arg;
    struct sl_group *grp = val;
    if (grp->state != SL_GROUP_EMPTY) {
        return;
    }
    int64_t retention = c->g->cfg.offsets_retention_ms;
    size_t cap = grp->offsets.count;
    const struct sl_group_offset **all = calloc(cap ? cap : 1, sizeof(*all));
    if (!all) {
        return;
    }
    struct expire_ctx sub = {c->g, c->now, all, 0};
    sl__gmap_each(&grp->offsets, collect_expired, &sub);
    size_t nexp = 0;
    for (size_t i = 0; i < sub.n; i++) {
        int64_t base = all[i]->commit_ts_ms > grp->state_ts_ms ? all[i]->commit_ts_ms
                                                               : grp->state_ts_ms;
        if (c->now - base >= retention) {
            all[nexp++] = all[i];
        }
    }
    if (nexp > 0 && sl__gpersist_offsets(c->g, grp, all, (int)nexp, 1, c->now) == 0) {
        sl_clog("broker:group", SL_LOG_INFO, "group %s: %zu offsets expired", grp->id, nexp);
        for (size_t i = 0; i < nexp; i++) {
            sl__group_offset_apply(grp, all[i]->topic, all[i]->partition, 0, 0, NULL, 0, 1);
        }
    }
    free(all);
    if (grp->offsets.count == 0 && grp->nmembers == 0 && !grp->pending &&
        c->now - grp->state_ts_ms >= retention) {
        /* nothing left to remember: Kafka marks the group Dead and forgets it */
        if (sl__gpersist_group(c->g, grp, 1, c->now) == 0) {
            sl__group_remove(c->g, grp);
        }
    }
}

void sl__groups_expire_offsets(struct sl_groups *g, int64_t now_ms)
{
    struct expire_ctx c = {g, now_ms, NULL, 0};
    sl__gmap_each(&g->groups, expire_group, &c);
}
