/*
 * data_int.h - what the data-path handlers (produce.c, producer.c, fetch.c, list_offsets.c,
 * offset_for_leader_epoch.c) share with each other; not for other callers.
 * Threads: the broker loop thread.
 */
#ifndef SL_DATA_INT_H
#define SL_DATA_INT_H

#include <string.h>

#include <stdint.h>

#include "../../store/batch.h"
#include "../../store/log.h"
#include "../api.h"
#include "data.h"

/* Kafka error codes api.h does not list yet. */
#define SL__KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED 53

/*
 * The partition's current leader epoch as clients see it: the latest epoch in the log's
 * cache, or 0 before the first append (Produce appends with this epoch, so the two agree;
 * Metadata must report the same number).
 */
int32_t sl__data_leader_epoch(struct sl_log *log);

/*
 * KIP-320 fencing of a client's current_leader_epoch (-1 = not given): NONE, or
 * UNKNOWN_LEADER_EPOCH when it is newer than ours, FENCED_LEADER_EPOCH when older.
 */
int16_t sl__data_check_epoch(struct sl_log *log, int32_t current_leader_epoch);

/*
 * Check an idempotent batch (h->producer_id >= 0) against the producer's state on
 * topic/partition, rebuilding that state from the log's tail on first touch. Returns a
 * Kafka error code: NONE (append it; *dup_offset = -1, or the original base offset when the
 * batch duplicates one of the last five, which must then be answered without appending),
 * OUT_OF_ORDER_SEQUENCE_NUMBER or INVALID_PRODUCER_EPOCH. May block (reads batch headers).
 */
int16_t sl__producers_check(struct sl_producers *p, struct sl_log *log, const char *topic,
                            int32_t partition, const struct sl_batch_hdr *h, int64_t *dup_offset);

/* Remember an appended idempotent batch (its base offset after assignment). */
void sl__producers_record(struct sl_producers *p, const char *topic, int32_t partition,
                          const struct sl_batch_hdr *h, int64_t base_offset);

/* Forget every producer's state on topic (deleted: a topic made again starts afresh). */
void sl__producers_forget_topic(struct sl_producers *p, const char *topic);

/*
 * Allocate a fresh producer id, unique across restarts (blocks of ids are reserved in
 * <log_dir>/producer-id-block). Returns 0 and *id, or an I/O error. May block (fsync once
 * per block).
 */
int sl__producers_next_id(struct sl_producers *p, const char *log_dir, int64_t *id,
                          struct sl_err *err);

/* A zeroed arena array of n (>= 0) elements; never a zero-size allocation. */
static inline void *sl__data_calloc(struct sl_request *req, int32_t n, size_t size)
{
    return sl_kp_arena_calloc(&req->arena, (size_t)(n > 0 ? n : 1), size);
}

/* The topic name as a C string, or NULL when it holds a NUL (no topic of ours is named so). */
static inline char *sl__data_topic(struct sl_request *req, struct sl_kp_str name)
{
    char *topic = sl_kp_arena_strdup(&req->arena, name);
    return topic && strlen(topic) == (size_t)name.len ? topic : NULL;
}

#endif
