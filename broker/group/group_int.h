/*
 * group_int.h - what the coordinator's files (group.c, offsets.c, persist.c, gmap.c) share;
 * not for other callers.
 * Threads: the broker loop thread.
 */
#ifndef SL_GROUP_INT_H
#define SL_GROUP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "../proto/kp.h"
#include "group.h"

#define SL__GROUP_TICK_MS 100
#define SL__OFFSETS_TOPIC "__consumer_offsets"

/* ---- a string-keyed chained hash map (gmap.c) ---- */

struct sl__gmap_ent {
    struct sl__gmap_ent *next;
    char *key;
    void *val;
};

void sl__gmap_init(struct sl__gmap *m);
/* Frees the entries and keys; free_val (may be NULL) on every value. */
void sl__gmap_fini(struct sl__gmap *m, void (*free_val)(void *));
void *sl__gmap_get(const struct sl__gmap *m, const char *key);
/* Insert or replace (the old value is returned through *old, may be NULL). 0 or -ENOMEM. */
int sl__gmap_put(struct sl__gmap *m, const char *key, void *val, void **old);
/* Remove and return the value, or NULL. */
void *sl__gmap_del(struct sl__gmap *m, const char *key);
/* Visit every value; cb may delete the entry it is given (and only that one). */
void sl__gmap_each(struct sl__gmap *m, void (*cb)(void *arg, void *val), void *arg);

/* ---- the coordinator ---- */

struct sl_groups {
    struct sl_groups_config cfg;
    struct sl_broker *b; /* NULL: in memory only */
    struct sl__gmap groups;
    uv_loop_t *loop;
    uv_timer_t timer;
    int timer_active;
    int64_t next_expire_ms;
    int64_t *snapshot_bytes; /* per partition of __consumer_offsets: last snapshot's size */
    uint8_t *dirty;          /* per partition: appended to since the last snapshot check */
    uint64_t id_seq;
};

/* Find or create the group (Empty). NULL on -ENOMEM. */
struct sl_group *sl__group_get_or_create(struct sl_groups *g, const char *group_id,
                                         int64_t now_ms);
/* Remove the group from the map and free it (offsets included); callbacks are dropped. */
void sl__group_remove(struct sl_groups *g, struct sl_group *grp);

/* Apply one offset to memory: offset < 0 with tomb removes. 0 or -ENOMEM. */
int sl__group_offset_apply(struct sl_group *grp, const char *topic, int32_t partition,
                           int64_t offset, int32_t leader_epoch, const char *metadata,
                           int64_t commit_ts_ms, int tomb);

/* Free every offset of the group. */
void sl__group_offsets_fini(struct sl_group *grp);

/* Remove offsets older than the retention from groups that are Empty (tombstones written). */
void sl__groups_expire_offsets(struct sl_groups *g, int64_t now_ms);

/* ---- persistence in __consumer_offsets (persist.c); no-ops when g->b is NULL ---- */

/* Create the topic if missing and load every partition. May block. */
int sl__gpersist_load(struct sl_groups *g, struct sl_err *err);

/* Append offset records (tomb: tombstones) for n offsets of grp. 0 or a store error. */
int sl__gpersist_offsets(struct sl_groups *g, struct sl_group *grp,
                         const struct sl_group_offset *const *o, int n, int tomb,
                         int64_t now_ms);

/* Append the group's metadata record (tomb: its tombstone). 0 or a store error. */
int sl__gpersist_group(struct sl_groups *g, struct sl_group *grp, int tomb, int64_t now_ms);

/* Snapshot the partitions that grew past their bound (see persist.c). From the tick only. */
void sl__gpersist_maybe_snapshot(struct sl_groups *g, int64_t now_ms);

/* Record encodings, Kafka's (GroupMetadataManager): keys and values with a version prefix. */
void sl__grec_offset_key(struct sl_kp_writer *w, const char *group, const char *topic,
                         int32_t partition);
void sl__grec_offset_value(struct sl_kp_writer *w, const struct sl_group_offset *o);
void sl__grec_group_key(struct sl_kp_writer *w, const char *group);
void sl__grec_group_value(struct sl_kp_writer *w, const struct sl_group *grp, int64_t now_ms);

/* Apply one record read back from the topic (value NULL = tombstone). 0, -ENOMEM, or
 * SL_ECORRUPT for an undecodable record (the caller skips it). */
int sl__grec_apply(struct sl_groups *g, const uint8_t *key, int32_t key_len,
                   const uint8_t *value, int32_t value_len);

#endif
