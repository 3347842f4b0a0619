/*
 * group.h - the group coordinator: Kafka's classic consumer-group protocol (JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup) with its state machine (Empty, PreparingRebalance,
 * CompletingRebalance, Stable, Dead), and the groups' committed offsets, persisted as
 * records in the internal topic __consumer_offsets (persist.c) and loaded at start.
 *
 * The state machine is driven by calls that carry the current time (wall clock, ms) and by
 * sl_groups_tick, which expires sessions, rebalance and pending-member deadlines and
 * old offsets; the broker runs one uv timer that ticks every TICK_MS. One timer instead of
 * a handle per member keeps members plain memory (no close callbacks) and lets unit tests
 * drive every timeout with a fake clock and no loop.
 *
 * Join and sync may wait for other members: they take a callback that is called exactly once
 * (possibly before the call returns) unless sl_groups_cancel(arg) forgets it first.
 *
 * Threads: everything belongs to the broker loop thread.
 */
#ifndef SL_GROUP_H
#define SL_GROUP_H

#include <stdint.h>
#include <uv.h>

#include "../../common/sl_err.h"

struct sl_broker;
struct sl_groups;

struct sl_groups_config {
    int32_t min_session_timeout_ms; /* group.min.session.timeout.ms (6000) */
    int32_t max_session_timeout_ms; /* group.max.session.timeout.ms (1800000) */
    int64_t offsets_retention_ms;   /* offsets.retention.minutes (10080) in ms */
    int32_t offsets_partitions;     /* offsets.topic.num.partitions (50) */
    int64_t snapshot_min_bytes;     /* snapshot a partition of __consumer_offsets only past
                                       this size (16 MiB; see persist.c) */
};

void sl_groups_config_default(struct sl_groups_config *cfg);

enum sl_group_state {
    SL_GROUP_EMPTY,
    SL_GROUP_PREPARING_REBALANCE,
    SL_GROUP_COMPLETING_REBALANCE,
    SL_GROUP_STABLE,
    SL_GROUP_DEAD,
};

/* Kafka's names: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead". */
const char *sl_group_state_name(enum sl_group_state s);

struct sl_group_bytes {
    uint8_t *p;
    int32_t len;
};

struct sl_group_proto {
    char *name;
    struct sl_group_bytes metadata;
};

struct sl_group_join_waiter;
struct sl_group_sync_waiter;

struct sl_gmember {
    struct sl_gmember *next;
    char *id;
    char *instance_id; /* group.instance.id (static membership) or NULL */
    char *client_id;
    char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    struct sl_group_proto *protos;
    int nprotos;
    struct sl_group_bytes assignment;
    int64_t deadline_ms;                /* session expiry */
    struct sl_group_join_waiter *join;  /* a parked JoinGroup */
    struct sl_group_sync_waiter *sync;  /* a parked SyncGroup */
};

/* A member id handed out with MEMBER_ID_REQUIRED that has not joined yet. */
struct sl_gpending {
    struct sl_gpending *next;
    char *id;
    int64_t deadline_ms;
};

struct sl_group_offset {
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;
    int64_t commit_ts_ms;
};

struct sl__gmap {
    struct sl__gmap_ent **buckets;
    size_t nbuckets;
    size_t count;
};

struct sl_group {
    char *id;
    enum sl_group_state state;
    int32_t generation;
    char *protocol_type; /* NULL until a member joins (or loaded) */
    char *protocol;      /* chosen protocol name, NULL when Empty */
    char *leader;        /* member id, NULL when none */
    struct sl_gmember *members;
    int nmembers;
    struct sl_gpending *pending;
    int64_t rebalance_deadline_ms;
    int64_t state_ts_ms;        /* when the state last changed (expiry of Empty groups) */
    int32_t offsets_partition;  /* its partition of __consumer_offsets */
    struct sl__gmap offsets;    /* "topic:partition" -> struct sl_group_offset */
};

/*
 * Create the coordinator. With b set, the groups and offsets persisted in
 * __consumer_offsets are loaded (the topic is created when missing) and every change is
 * written there; b == NULL keeps everything in memory (unit tests). Returns 0, -ENOMEM, or a
 * store error with err set. May block (reads the whole topic).
 */
int sl_groups_create(const struct sl_groups_config *cfg, struct sl_broker *b,
                     struct sl_groups **out, struct sl_err *err);

/* Start / stop the tick timer on loop (stop closes it: run the loop before destroy). */
int sl_groups_start(struct sl_groups *g, uv_loop_t *loop);
void sl_groups_stop(struct sl_groups *g); /* NULL is a no-op */

/* Free everything; parked callbacks are never called. NULL is a no-op. */
void sl_groups_destroy(struct sl_groups *g);

/* Expire sessions, pending member ids, rebalance timeouts and old offsets. */
void sl_groups_tick(struct sl_groups *g, int64_t now_ms);

/* Forget the parked join or sync whose callback argument is arg (its connection closed). */
void sl_groups_cancel(struct sl_groups *g, void *arg);

/* The group, or NULL. Borrowed until the next call that may change groups. */
struct sl_group *sl_groups_find(struct sl_groups *g, const char *group_id);

/* Every group, in no particular order. */
typedef void (*sl_groups_each_cb)(void *arg, struct sl_group *grp);
void sl_groups_each(struct sl_groups *g, sl_groups_each_cb cb, void *arg);

/* Every committed offset of a group. */
typedef void (*sl_group_offsets_each_cb)(void *arg, const struct sl_group_offset *o);
void sl_group_offsets_each(struct sl_group *grp, sl_group_offsets_each_cb cb, void *arg);

/* The committed offset of topic/partition, or NULL. */
const struct sl_group_offset *sl_group_offset_get(struct sl_group *grp, const char *topic,
                                                  int32_t partition);

/* The metadata a member sent for protocol name, or NULL. */
const struct sl_group_bytes *sl_gmember_proto(const struct sl_gmember *m, const char *name);

/* ---- JoinGroup ---- */

struct sl_group_join_args {
    const char *group_id;
    const char *member_id; /* "" for a new member */
    const char *instance_id; /* NULL unless static */
    const char *client_id;
    const char *client_host;
    const char *protocol_type;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms; /* -1: the session timeout */
    int require_known_member_id; /* v4+: a new member first gets MEMBER_ID_REQUIRED */
    int nprotos;
    const struct sl_group_proto *protos; /* copied */
};

struct sl_group_join_member {
    const char *member_id;
    const char *instance_id;
    struct sl_group_bytes metadata;
};

struct sl_group_join_result {
    int16_t error;
    int32_t generation;
    const char *protocol; /* "" on error */
    const char *leader;
    const char *member_id;
    int nmembers; /* the leader only */
    const struct sl_group_join_member *members;
};

/* Borrowed result: copy what you need before returning. */
typedef void (*sl_group_join_cb)(void *arg, const struct sl_group_join_result *res);
void sl_group_join(struct sl_groups *g, const struct sl_group_join_args *a, int64_t now_ms,
                   sl_group_join_cb cb, void *arg);

/* ---- SyncGroup ---- */

struct sl_group_assignment {
    const char *member_id;
    struct sl_group_bytes assignment;
};

typedef void (*sl_group_sync_cb)(void *arg, int16_t error, struct sl_group_bytes assignment);
void sl_group_sync(struct sl_groups *g, const char *group_id, int32_t generation,
                   const char *member_id, const char *instance_id, int nassign,
                   const struct sl_group_assignment *assign, int64_t now_ms, sl_group_sync_cb cb,
                   void *arg);

/* ---- Heartbeat, LeaveGroup, DeleteGroups: answered at once, a Kafka error code ---- */

int16_t sl_group_heartbeat(struct sl_groups *g, const char *group_id, int32_t generation,
                           const char *member_id, const char *instance_id, int64_t now_ms);
int16_t sl_group_leave(struct sl_groups *g, const char *group_id, const char *member_id,
                       const char *instance_id, int64_t now_ms);
int16_t sl_group_delete(struct sl_groups *g, const char *group_id, int64_t now_ms);

/* ---- offsets ---- */

/*
 * May this member commit to the group? (generation -1 with an empty member id: a commit
 * from outside any generation, allowed only while the group has no members; the group is
 * created if needed.) Returns a Kafka error code for the whole request.
 */
int16_t sl_group_commit_check(struct sl_groups *g, const char *group_id, int32_t generation,
                              const char *member_id, const char *instance_id, int64_t now_ms);

struct sl_group_commit {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    const char *metadata; /* NULL = "" */
};

/*
 * Persist and apply n commits to the group (which sl_group_commit_check admitted). Returns
 * 0, or a store error (nothing applied). May block (appends to __consumer_offsets).
 */
int sl_group_commit(struct sl_groups *g, const char *group_id, const struct sl_group_commit *c,
                    int n, int64_t now_ms);

/* The partition of __consumer_offsets for a group: abs(Java hashCode) % partitions. */
int32_t sl_group_partition_for(const char *group_id, int32_t partitions);

#endif
