/*
 * persist.c - the coordinator's durable state in the internal topic __consumer_offsets, in
 * Kafka's own record formats (GroupMetadataManager): offset commits keyed by
 * (key version 1: group, topic, partition) with value version 3 (offset, leader epoch,
 * metadata, commit timestamp), group metadata keyed by (key version 2: group) with value
 * version 3; a null value is a tombstone. A group lives in partition
 * abs(hashCode(group)) % offsets.topic.num.partitions, like Kafka's.
 *
 * Invariants:
 *  - Replaying a partition from its log start, applying records in order (the last one for a
 *    key wins, a tombstone deletes), yields exactly the coordinator's state for the groups of
 *    that partition. A commit is acknowledged only after its records are appended.
 *  - Bounding without log compaction: after an append, when a partition's log exceeds
 *    max(4 x the size of its last snapshot, snapshot_min_bytes), we roll a new segment, append
 *    a snapshot (every live offset and group record of the partition, which replays to the
 *    same state), flush it, and only then delete every older segment. A crash before the
 *    deletion leaves old records followed by the snapshot: replay gives the same state. The
 *    flush before the deletion protects against a power loss that would otherwise leave
 *    neither the old segments nor the snapshot on disk.
 *  - The topic has retention.ms=-1: only the snapshot scheme and tombstones remove data.
 *
 * Groups loaded at start come back Empty with their generation, protocol type and offsets;
 * their members rejoin (their next heartbeat gets UNKNOWN_MEMBER_ID).
 *
 * Threads: the broker loop thread; appends block on write(2).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/sl_log.h"
#include "../../store/batch.h"
#include "../../store/compress.h"
#include "../../store/log.h"
#include "../broker.h"
#include "../handlers/data_int.h"
#include "../topics.h"
#include "group_int.h"

#define BATCH_SPLIT_BYTES (256 << 10) /* well under max.message.bytes */

/* ---- record encodings ---- */

void sl__grec_offset_key(struct sl_kp_writer *w, const char *group, const char *topic,
                         int32_t partition)
{
    sl_kp_write_i16(w, 1);
    sl_kp_write_str(w, group);
    sl_kp_write_str(w, topic);
    sl_kp_write_i32(w, partition);
}

void sl__grec_offset_value(struct sl_kp_writer *w, const struct sl_group_offset *o)
{
    sl_kp_write_i16(w, 3);
    sl_kp_write_i64(w, o->offset);
    sl_kp_write_i32(w, o->leader_epoch);
    sl_kp_write_str(w, o->metadata ? o->metadata : "");
    sl_kp_write_i64(w, o->commit_ts_ms);
}

void sl__grec_group_key(struct sl_kp_writer *w, const char *group)
{
    sl_kp_write_i16(w, 2);
    sl_kp_write_str(w, group);
}

void sl__grec_group_value(struct sl_kp_writer *w, const struct sl_group *grp, int64_t now_ms)
{
    sl_kp_write_i16(w, 3);
    sl_kp_write_str(w, grp->protocol_type ? grp->protocol_type : "");
    sl_kp_write_i32(w, grp->generation);
    sl_kp_write_str(w, grp->protocol);
    sl_kp_write_str(w, grp->leader);
    sl_kp_write_i64(w, grp->state_ts_ms ? grp->state_ts_ms : now_ms);
    sl_kp_write_i32(w, grp->nmembers);
    for (const struct sl_gmember *m = grp->members; m; m = m->next) {
        const struct sl_group_bytes *sub = sl_gmember_proto(m, grp->protocol);
        sl_kp_write_str(w, m->id);
        sl_kp_write_str(w, m->instance_id);
        sl_kp_write_str(w, m->client_id ? m->client_id : "");
        sl_kp_write_str(w, m->client_host ? m->client_host : "");
        sl_kp_write_i32(w, m->rebalance_timeout_ms);
        sl_kp_write_i32(w, m->session_timeout_ms);
        sl_kp_write_bytes(w, sub && sub->p ? (const void *)sub->p : "", sub ? sub->len : 0);
        sl_kp_write_bytes(w, m->assignment.p ? (const void *)m->assignment.p : "",
                          m->assignment.len);
    }
}

/* A NUL-terminated copy of a decoded string into buf (truncated to size). */
static const char *cstr(struct sl_kp_str s, char *buf, size_t size)
{
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    n = n < size - 1 ? n : size - 1;
    if (n) {
        memcpy(buf, s.p, n);
    }
    buf[n] = '\0';
    return buf;
}

int sl__grec_apply(struct sl_groups *g, const uint8_t *key, int32_t key_len,
                   const uint8_t *value, int32_t value_len)
{
    if (!key || key_len < 2) {
        return SL_ECORRUPT;
    }
    struct sl_kp_reader r;
    sl_kp_reader_init(&r, key, (size_t)key_len);
    int16_t kv = sl_kp_read_i16(&r);
    char group[512], topic[512], meta[4200];
    cstr(sl_kp_read_str(&r, 0), group, sizeof(group));
    if (kv == 0 || kv == 1) {
        cstr(sl_kp_read_str(&r, 0), topic, sizeof(topic));
        int32_t partition = sl_kp_read_i32(&r);
        if (r.err) {
            return SL_ECORRUPT;
        }
        struct sl_group *grp = sl__group_get_or_create(g, group, 0);
        if (!grp) {
            return -ENOMEM;
        }
        if (!value || value_len < 0) {
            return sl__group_offset_apply(grp, topic, partition, 0, 0, NULL, 0, 1);
        }
        sl_kp_reader_init(&r, value, (size_t)value_len);
        int16_t vv = sl_kp_read_i16(&r);
        int64_t offset = sl_kp_read_i64(&r);
        int32_t epoch = vv >= 3 ? sl_kp_read_i32(&r) : -1;
        cstr(sl_kp_read_str(&r, 1), meta, sizeof(meta));
        int64_t ts = sl_kp_read_i64(&r);
        if (r.err || vv < 0 || vv > 3) {
            return SL_ECORRUPT;
        }
        return sl__group_offset_apply(grp, topic, partition, offset, epoch, meta, ts, 0);
    }
    if (kv != 2 || r.err) {
        return SL_ECORRUPT;
    }
    struct sl_group *grp = sl__group_get_or_create(g, group, 0);
    if (!grp) {
        return -ENOMEM;
    }
    if (!value || value_len < 0) {
        grp->generation = 0;
        free(grp->protocol_type);
        grp->protocol_type = NULL;
        if (grp->offsets.count == 0) {
            sl__group_remove(g, grp);
        }
        return 0;
    }
    sl_kp_reader_init(&r, value, (size_t)value_len);
    int16_t vv = sl_kp_read_i16(&r);
    char ptype[256];
    cstr(sl_kp_read_str(&r, 0), ptype, sizeof(ptype));
    int32_t generation = sl_kp_read_i32(&r);
    (void)sl_kp_read_str(&r, 1); /* protocol */
    (void)sl_kp_read_str(&r, 1); /* leader */
    int64_t state_ts = vv >= 2 ? sl_kp_read_i64(&r) : -1;
    if (r.err || vv < 0 || vv > 3) {
        return SL_ECORRUPT;
    }
    grp->generation = generation;
    free(grp->protocol_type);
    grp->protocol_type = ptype[0] ? strdup(ptype) : NULL;
    grp->state_ts_ms = state_ts > 0 ? state_ts : 0;
    return 0;
}

/* ---- appending ---- */

struct rbatch {
    struct sl_groups *g;
    struct sl_log *log;
    int32_t partition;
    struct sl_batch_builder bb;
    int open;
    int64_t now;
    int rc;
};

static int rb_flush(struct rbatch *rb)
{
    if (!rb->open || rb->rc) {
        return rb->rc;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    rb->open = 0;
    int rc = sl_batch_builder_finish(&rb->bb, &buf, &len);
    sl_batch_builder_fini(&rb->bb);
    if (rc == 0) {
        struct sl_log_append_opts opts = {0};
        opts.leader_epoch = sl__data_leader_epoch(rb->log);
        opts.assign_offsets = 1;
        struct sl_log_append_info info;
        struct sl_err err;
        err.msg[0] = '\0';
        rc = sl_log_append(rb->log, buf, len, &opts, &info, &err);
        if (rc != 0) {
            sl_clog("broker:group", SL_LOG_ERROR, "%s-%" PRId32 ": append failed: %s",
                    SL__OFFSETS_TOPIC, rb->partition, err.msg);
        } else {
            sl_log_set_high_watermark(rb->log, sl_log_end_offset(rb->log));
            rb->g->dirty[rb->partition] = 1;
        }
    }
    free(buf);
    rb->rc = rc;
    return rc;
}

static void rb_add(struct rbatch *rb, struct sl_kp_writer *k, struct sl_kp_writer *v)
{
    if (rb->rc) {
        return;
    }
    if (k->err || (v && v->err)) {
        rb->rc = -ENOMEM;
        return;
    }
    if (!rb->open) {
        if ((rb->rc = sl_batch_builder_init(&rb->bb, 0, rb->now)) != 0) {
            return;
        }
        rb->open = 1;
    }
    rb->rc = sl_batch_builder_add(&rb->bb, rb->now, k->buf, (int32_t)k->len, v ? v->buf : NULL,
                                  v ? (int32_t)v->len : -1, NULL, 0);
    if (rb->rc == 0 && rb->bb.len >= BATCH_SPLIT_BYTES) {
        rb_flush(rb);
    }
}

static void rb_offset(struct rbatch *rb, const char *group, const struct sl_group_offset *o,
                      int tomb)
{
    struct sl_kp_writer k, v;
    sl_kp_writer_init(&k);
    sl_kp_writer_init(&v);
    sl__grec_offset_key(&k, group, o->topic, o->partition);
    if (!tomb) {
        sl__grec_offset_value(&v, o);
    }
    rb_add(rb, &k, tomb ? NULL : &v);
    sl_kp_writer_fini(&k);
    sl_kp_writer_fini(&v);
}

static void rb_group(struct rbatch *rb, const struct sl_group *grp, int tomb)
{
    struct sl_kp_writer k, v;
    sl_kp_writer_init(&k);
    sl_kp_writer_init(&v);
    sl__grec_group_key(&k, grp->id);
    if (!tomb) {
        sl__grec_group_value(&v, grp, rb->now);
    }
    rb_add(rb, &k, tomb ? NULL : &v);
    sl_kp_writer_fini(&k);
    sl_kp_writer_fini(&v);
}

static struct sl_log *offsets_log(struct sl_groups *g, int32_t partition)
{
    return g->b ? sl_broker_log(g->b, SL__OFFSETS_TOPIC, partition) : NULL;
}

/* ---- the snapshot ---- */

static void maybe_snapshot(struct sl_groups *g, struct sl_log *log, int32_t partition,
                           int64_t now_ms);

struct snap_ctx {
    struct rbatch *rb;
    int32_t partition;
};

static void snap_group(void *arg, void *val)
{
    struct snap_ctx *c = arg;
    struct sl_group *grp = val;
    if (grp->offsets_partition != c->partition) {
        return;
    }
    if (grp->generation > 0 || grp->protocol_type) {
        rb_group(c->rb, grp, 0);
    }
    for (size_t b = 0; b < grp->offsets.nbuckets; b++) {
        for (struct sl__gmap_ent *e = grp->offsets.buckets[b]; e; e = e->next) {
            rb_offset(c->rb, grp->id, e->val, 0);
        }
    }
}

static void snapshot(struct sl_groups *g, struct sl_log *log, int32_t partition, int64_t now_ms)
{
    struct sl_err err;
    err.msg[0] = '\0';
    int64_t before = sl_log_size_bytes(log);
    int rc = sl_log_roll(log, &err);
    struct rbatch rb = {g, log, partition, {0}, 0, now_ms, 0};
    if (rc == 0) {
        struct snap_ctx c = {&rb, partition};
        sl__gmap_each(&g->groups, snap_group, &c);
        rc = rb_flush(&rb);
    }
    if (rc == 0) {
        /* the snapshot must be on disk before the records it replaces are deleted */
        rc = sl_log_flush(log, &err);
    }
    if (rc == 0) {
        struct sl_log_config cfg, tmp;
        sl_log_get_config(log, &cfg);
        tmp = cfg;
        /* retention.bytes = the snapshot's size: every older segment is in excess, and
         * retention never deletes the active segment (the snapshot) on size alone */
        tmp.retention_ms = -1;
        tmp.retention_bytes = sl_log_size_bytes(log) - before;
        sl_log_set_config(log, &tmp);
        int n = sl_log_retain(log, now_ms, &err);
        sl_log_set_config(log, &cfg);
        rc = n < 0 ? n : 0;
    }
    g->snapshot_bytes[partition] = sl_log_size_bytes(log);
    if (rc != 0) {
        sl_clog("broker:group", SL_LOG_ERROR, "%s-%" PRId32 ": snapshot failed: %s",
                SL__OFFSETS_TOPIC, partition, err.msg);
    } else {
        sl_clog("broker:group", SL_LOG_INFO,
                "%s-%" PRId32 ": snapshot: %" PRId64 " bytes of log replaced by %" PRId64,
                SL__OFFSETS_TOPIC, partition, before, g->snapshot_bytes[partition]);
    }
}

/*
 * Called from the tick, never in the middle of a change: a snapshot must see memory and log
 * agree (a commit's records appended and applied), or it would drop the change.
 */
void sl__gpersist_maybe_snapshot(struct sl_groups *g, int64_t now_ms)
{
    for (int32_t p = 0; g->b && p < g->cfg.offsets_partitions; p++) {
        struct sl_log *log = g->dirty[p] ? offsets_log(g, p) : NULL;
        g->dirty[p] = 0;
        if (log) {
            maybe_snapshot(g, log, p, now_ms);
        }
    }
}

static void maybe_snapshot(struct sl_groups *g, struct sl_log *log, int32_t partition,
                           int64_t now_ms)
{
    int64_t size = sl_log_size_bytes(log);
    int64_t limit = 4 * g->snapshot_bytes[partition];
    if (limit < g->cfg.snapshot_min_bytes) {
        limit = g->cfg.snapshot_min_bytes;
    }
    if (size > limit) {
        snapshot(g, log, partition, now_ms);
    }
}

int sl__gpersist_offsets(struct sl_groups *g, struct sl_group *grp,
                         const struct sl_group_offset *const *o, int n, int tomb, int64_t now_ms)
{
    if (!g->b) {
        return 0;
    }
    struct sl_log *log = offsets_log(g, grp->offsets_partition);
    if (!log) {
        return SL_ENOENT;
    }
    struct rbatch rb = {g, log, grp->offsets_partition, {0}, 0, now_ms, 0};
    for (int i = 0; i < n; i++) {
        rb_offset(&rb, grp->id, o[i], tomb);
    }
    int rc = rb_flush(&rb);
    sl_batch_builder_fini(&rb.bb);
    return rc;
}

int sl__gpersist_group(struct sl_groups *g, struct sl_group *grp, int tomb, int64_t now_ms)
{
    if (!g->b) {
        return 0;
    }
    struct sl_log *log = offsets_log(g, grp->offsets_partition);
    if (!log) {
        return SL_ENOENT;
    }
    struct rbatch rb = {g, log, grp->offsets_partition, {0}, 0, now_ms, 0};
    rb_group(&rb, grp, tomb);
    int rc = rb_flush(&rb);
    sl_batch_builder_fini(&rb.bb);
    return rc;
}

/* ---- loading ---- */

static int load_batch(struct sl_groups *g, const uint8_t *buf, size_t len, int64_t *records,
                      struct sl_err *err)
{
    struct sl_batch_hdr h;
    int rc = sl_batch_validate(buf, len, &h, err);
    if (rc != 0) {
        return rc;
    }
    if (h.attributes & SL_BATCH_ATTR_CONTROL) {
        return 0;
    }
    const uint8_t *recs;
    size_t rlen;
    int owned = 0;
    rc = sl_batch_records(buf, &h, (size_t)64 << 20, &recs, &rlen, &owned, err);
    if (rc != 0) {
        return rc;
    }
    struct sl_rec_iter it;
    sl_rec_iter_init(&it, recs, rlen, h.record_count);
    struct sl_record rec;
    while ((rc = sl_rec_iter_next(&it, &rec, err)) == 1) {
        int r = sl__grec_apply(g, rec.key, rec.key_len, rec.value, rec.value_len);
        if (r == -ENOMEM) {
            rc = r;
            break;
        }
        (*records)++;
    }
    if (owned) {
        free((void *)(uintptr_t)recs);
    }
    return rc < 0 ? rc : 0;
}

static int load_partition(struct sl_groups *g, struct sl_log *log, int32_t p, struct sl_err *err)
{
    int64_t offset = sl_log_start_offset(log);
    int64_t end = sl_log_end_offset(log);
    int64_t records = 0;
    while (offset < end) {
        uint8_t *buf = NULL;
        size_t len = 0;
        int64_t next = offset;
        int rc = sl_log_read_copy(log, offset, 8 << 20, -1, 1, &buf, &len, &next, err);
        if (rc != 0) {
            return rc;
        }
        size_t pos = 0;
        while (rc == 0 && pos + SL_BATCH_LOG_OVERHEAD <= len) {
            struct sl_batch_hdr h;
            if (sl_batch_parse_header(buf + pos, len - pos, &h, err) != 0 ||
                sl_batch_hdr_size(&h) > len - pos) {
                break;
            }
            rc = load_batch(g, buf + pos, sl_batch_hdr_size(&h), &records, err);
            if (rc == -ENOMEM) {
                free(buf);
                return rc;
            }
            if (rc != 0) {
                sl_clog("broker:group", SL_LOG_WARN, "%s-%" PRId32 ": skipping a batch: %s",
                        SL__OFFSETS_TOPIC, p, err->msg);
                rc = 0;
            }
            pos += sl_batch_hdr_size(&h);
        }
        free(buf);
        if (next <= offset) {
            break;
        }
        offset = next;
    }
    (void)records;
    return 0;
}

int sl__gpersist_load(struct sl_groups *g, struct sl_err *err)
{
    if (!g->b) {
        return 0;
    }
    const struct sl_topic *tp = sl_topics_get(g->b->topics, SL__OFFSETS_TOPIC);
    if (!tp) {
        static const struct sl_topic_override ov[] = {
            {(char *)"retention.ms", (char *)"-1"},
            {(char *)"segment.bytes", (char *)"104857600"},
        };
        int rc = sl_topics_add(g->b, SL__OFFSETS_TOPIC, g->cfg.offsets_partitions, ov, 2, 0, err);
        if (rc != 0) {
            return rc;
        }
        sl_log(SL_LOG_INFO, "created %s with %" PRId32 " partitions", SL__OFFSETS_TOPIC,
               g->cfg.offsets_partitions);
        return 0;
    }
    /* the topic on disk decides where groups live, as in Kafka */
    g->cfg.offsets_partitions = tp->partitions;
    for (int32_t p = 0; p < g->cfg.offsets_partitions; p++) {
        struct sl_log *log = offsets_log(g, p);
        if (!log) {
            continue;
        }
        int rc = load_partition(g, log, p, err);
        if (rc != 0) {
            return rc;
        }
    }
    /* loaded groups: recompute their partition (the count may differ from the config) */
    for (size_t b = 0; b < g->groups.nbuckets; b++) {
        for (struct sl__gmap_ent *e = g->groups.buckets[b]; e; e = e->next) {
            struct sl_group *grp = e->val;
            grp->offsets_partition = sl_group_partition_for(grp->id, g->cfg.offsets_partitions);
        }
    }
    sl_log(SL_LOG_INFO, "loaded %zu groups from %s", g->groups.count, SL__OFFSETS_TOPIC);
    return 0;
}
