/*
 * offset_commit.c - OffsetCommit (8) v2-7 and OffsetFetch (9) v1-5 against the group
 * coordinator. A commit is checked for the whole request (member, generation, state), then
 * per partition (the topic must exist, metadata at most offset.metadata.max.bytes = 4096),
 * and the accepted partitions are appended to __consumer_offsets before the answer.
 * Threads: the broker loop thread; commits block on the append.
 */
#include <errno.h>
#include <stdlib.h>

#include "../group/group.h"
#include "../proto/msg_group.h"
#include "../topics.h"
#include "group_int.h"
#include "handlers.h"

#define OFFSET_METADATA_MAX 4096

static int16_t partition_error(struct sl_request *req, const char *topic, int32_t partition)
{
    const struct sl_topic *tp = topic ? sl_topics_get(req->broker->topics, topic) : NULL;
    if (!tp || partition < 0 || partition >= tp->partitions) {
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    return KERR_NONE;
}

int sl_handle_offset_commit(struct sl_request *req)
{
    struct sl_offset_commit_req m;
    int rc = sl_msg_offset_commit_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc) {
        return rc;
    }
    struct sl_groups *g = req->broker->groups;
    int64_t now = sl_now_ms();
    const char *gid = sl__gh_str(req, m.group_id);
    const char *mid = sl__gh_str(req, m.member_id);
    const char *iid = sl__gh_nstr(req, m.group_instance_id);
    if (!gid || !mid) {
        return -ENOMEM;
    }
    int16_t all = g ? sl_group_commit_check(g, gid, m.generation_id, mid, iid, now)
                    : KERR_COORDINATOR_NOT_AVAILABLE;
    struct sl_offset_commit_resp r = {0};
    r.ntopics = m.ntopics;
    r.topics = sl_kp_arena_calloc(&req->arena, (size_t)(m.ntopics > 0 ? m.ntopics : 1),
                                  sizeof(*r.topics));
    size_t total = 0;
    for (int32_t i = 0; i < m.ntopics; i++) {
        total += (size_t)m.topics[i].npartitions;
    }
    struct sl_group_commit *commits =
        sl_kp_arena_calloc(&req->arena, total ? total : 1, sizeof(*commits));
    int16_t **slots = sl_kp_arena_calloc(&req->arena, total ? total : 1, sizeof(*slots));
    if (!r.topics || !commits || !slots) {
        return -ENOMEM;
    }
    int n = 0;
    for (int32_t i = 0; i < m.ntopics; i++) {
        const struct sl_commit_req_topic *t = &m.topics[i];
        struct sl_commit_resp_topic *rt = &r.topics[i];
        rt->name = t->name;
        rt->npartitions = t->npartitions;
        rt->partitions = sl_kp_arena_calloc(
            &req->arena, (size_t)(t->npartitions > 0 ? t->npartitions : 1), sizeof(*rt->partitions));
        const char *topic = sl__gh_str(req, t->name);
        if (!rt->partitions || !topic) {
            return -ENOMEM;
        }
        for (int32_t j = 0; j < t->npartitions; j++) {
            const struct sl_commit_req_part *p = &t->partitions[j];
            struct sl_commit_resp_part *rp = &rt->partitions[j];
            rp->partition = p->partition;
            rp->error_code = all;
            if (all != KERR_NONE) {
                continue;
            }
            if (p->metadata.len > OFFSET_METADATA_MAX) {
                rp->error_code = KERR_OFFSET_METADATA_TOO_LARGE;
                continue;
            }
            rp->error_code = partition_error(req, topic, p->partition);
            if (rp->error_code != KERR_NONE) {
                continue;
            }
            commits[n].topic = topic;
            commits[n].partition = p->partition;
            commits[n].offset = p->offset;
            commits[n].leader_epoch = p->leader_epoch;
            commits[n].metadata = sl__gh_str(req, p->metadata);
            if (!commits[n].metadata) {
                return -ENOMEM;
            }
            slots[n++] = &rp->error_code;
        }
    }
    if (n > 0 && sl_group_commit(g, gid, commits, n, now) != 0) {
        for (int i = 0; i < n; i++) {
            *slots[i] = KERR_COORDINATOR_NOT_AVAILABLE;
        }
    }
    sl_msg_offset_commit_resp_encode(&req->resp, req->api_version, &r);
    return SL_API_DONE;
}

/* ---- OffsetFetch ---- */

static void fill_part(struct sl_group *grp, const char *topic, int32_t partition,
                      struct sl_offset_fetch_resp_part *rp)
{
    const struct sl_group_offset *o = grp && topic ? sl_group_offset_get(grp, topic, partition)
                                                   : NULL;
    rp->partition = partition;
    rp->error_code = KERR_NONE;
    if (o) {
        rp->offset = o->offset;
        rp->leader_epoch = o->leader_epoch;
        rp->metadata = sl__gh_kstr(o->metadata);
    } else {
        rp->offset = -1;
        rp->leader_epoch = -1;
        rp->metadata = sl__gh_kstr("");
    }
}

/* Every committed offset of the group, grouped by topic (OffsetFetch with null topics). */
struct all_ctx {
    struct sl_request *req;
    struct sl_offset_fetch_resp *r;
    int32_t cap;
    int err;
};

static void add_all(void *arg, const struct sl_group_offset *o)
{
    struct all_ctx *c = arg;
    struct sl_offset_fetch_resp *r = c->r;
    struct sl_offset_fetch_resp_topic *t = NULL;
    for (int32_t i = 0; i < r->ntopics; i++) {
        if (strcmp(r->topics[i].name.p, o->topic) == 0) {
            t = &r->topics[i];
        }
    }
    if (!t) {
        if (r->ntopics == c->cap) {
            c->err = -ENOMEM;
            return;
        }
        t = &r->topics[r->ntopics++];
        t->name = sl__gh_kstr(o->topic);
        t->partitions = sl_kp_arena_calloc(&c->req->arena, (size_t)c->cap, sizeof(*t->partitions));
        if (!t->partitions) {
            c->err = -ENOMEM;
            return;
        }
    }
    struct sl_offset_fetch_resp_part *rp = &t->partitions[t->npartitions++];
    rp->partition = o->partition;
    rp->offset = o->offset;
    rp->leader_epoch = o->leader_epoch;
    rp->metadata = sl__gh_kstr(o->metadata);
}

int sl_handle_offset_fetch(struct sl_request *req)
{
    struct sl_offset_fetch_req m;
    int rc = sl_msg_offset_fetch_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc) {
        return rc;
    }
    struct sl_groups *g = req->broker->groups;
    const char *gid = sl__gh_str(req, m.group_id);
    if (!gid) {
        return -ENOMEM;
    }
    struct sl_group *grp = g ? sl_groups_find(g, gid) : NULL;
    struct sl_offset_fetch_resp r = {0};
    if (!g) {
        r.error_code = KERR_COORDINATOR_NOT_AVAILABLE;
    }
    /* null topics (v2+) means every committed partition. librdkafka 2.0's admin
     * ListConsumerGroupOffsets without partitions sends an empty array and expects the same
     * (Kafka answers it with nothing): answer both with everything. */
    if (m.ntopics < 0 || (m.ntopics == 0 && req->api_version >= 2)) {
        int32_t cap = grp ? (int32_t)grp->offsets.count : 0;
        if (cap > 0) {
            r.topics = sl_kp_arena_calloc(&req->arena, (size_t)cap, sizeof(*r.topics));
            if (!r.topics) {
                return -ENOMEM;
            }
            struct all_ctx c = {req, &r, cap, 0};
            sl_group_offsets_each(grp, add_all, &c);
            if (c.err) {
                return c.err;
            }
        }
    } else {
        r.ntopics = m.ntopics;
        r.topics = sl_kp_arena_calloc(&req->arena, (size_t)(m.ntopics > 0 ? m.ntopics : 1),
                                      sizeof(*r.topics));
        if (!r.topics) {
            return -ENOMEM;
        }
        for (int32_t i = 0; i < m.ntopics; i++) {
            const struct sl_offset_fetch_req_topic *t = &m.topics[i];
            struct sl_offset_fetch_resp_topic *rt = &r.topics[i];
            const char *topic = sl__gh_str(req, t->name);
            rt->name = t->name;
            rt->npartitions = t->npartitions;
            rt->partitions = sl_kp_arena_calloc(
                &req->arena, (size_t)(t->npartitions > 0 ? t->npartitions : 1),
                sizeof(*rt->partitions));
            if (!topic || !rt->partitions) {
                return -ENOMEM;
            }
            for (int32_t j = 0; j < t->npartitions; j++) {
                fill_part(grp, topic, t->partitions[j], &rt->partitions[j]);
                if (!g) {
                    rt->partitions[j].error_code = KERR_COORDINATOR_NOT_AVAILABLE;
                }
            }
        }
    }
    sl_msg_offset_fetch_resp_encode(&req->resp, req->api_version, &r);
    return SL_API_DONE;
}
