/*
 * file_int.h - the file channel's private parts shared between file.c (the ops), file_cursor.c
 * (the durable take cursor), file_codec.c (events <-> record batches) and file_repair.c
 * (quarantine of corrupt batches before the store's recovery runs).
 *
 * Threads: the helpers here keep no state of their own; the caller (file.c) serializes them.
 */
#ifndef SL_CHANNELS_FILE_INT_H
#define SL_CHANNELS_FILE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "agent/event.h"
#include "common/sl_err.h"

/* The partition directory inside dataDir (the store wants <topic>-<partition>). */
#define SL_FC_LOG_NAME "channel-0"
/* The take cursor inside checkpointDir. */
#define SL_FC_CURSOR_NAME "take-cursor"

/*
 * producerId of a filler batch: file_repair.c writes one over the bytes of a corrupt batch
 * so the store's recovery keeps everything after it; readers skip its offsets and count them.
 */
#define SL_FC_FILLER_PID 0x736c7569636530LL /* "sluice0" */

/* Tests only: while non-zero, growing the rollback list fails as when out of memory. */
extern int sl_fc_test_nomem;
/* Tests only: called by a refill after its read, while the channel's lock is released. */
extern void (*sl_fc_test_refill_hook)(void);

/* ---- file_cursor.c ---- */

/*
 * The cursor file holds two fixed 64-byte slots; each write goes to the slot the previous
 * write did not use, so a torn write can only damage the slot being written and the other
 * still holds the previous value. A slot: magic "SLFC", version, sequence number, cursor,
 * clean flag, CRC-32C of the bytes before it.
 */
struct sl_fc_cursor {
    int fd;
    char *dir;
    uint64_t seq; /* of the last slot written or read */
    int sync;     /* fdatasync after each write */
};

/*
 * Open (creating) dir/take-cursor and read it: *offset and *clean from the newest valid slot;
 * a new or empty file gives 0 and 0 (with sync, dir is fsync'ed then, making the new name
 * durable). Returns 0, -errno, or SL_ECORRUPT when the file has data
 * but no valid slot (err says so).
 */
int sl_fc_cursor_open(struct sl_fc_cursor *c, const char *dir, int sync, int64_t *offset,
                      int *clean, struct sl_err *err);

/* Persist offset (and the clean flag). Durable on return when sync is set. 0 or -errno. */
int sl_fc_cursor_write(struct sl_fc_cursor *c, int64_t offset, int clean);

void sl_fc_cursor_close(struct sl_fc_cursor *c);

/* ---- file_codec.c ---- */

/*
 * Encode evs[0..n) as one uncompressed record batch (body = value, headers = record headers,
 * no key). *out is malloc'd. Returns 0, -ENOMEM or SL_ETOOLARGE.
 */
int sl_fc_encode(struct sl_event *const *evs, size_t n, int64_t now_ms, uint8_t **out,
                 size_t *out_len);

/* One decoded event with its log offset. */
struct sl_fc_item {
    struct sl_event *ev;
    int64_t off;
};

/*
 * What decoding a run of batches found: the events (appended to items), offsets to skip
 * because their batch is a filler or corrupt, and where the next read starts.
 */
struct sl_fc_decoded {
    struct sl_fc_item *items;
    size_t n, cap;
    int64_t skip_from[16], skip_to[16]; /* [from, to) ranges of skipped offsets */
    size_t nskip;
    uint64_t corrupt_batches; /* batches that failed validation */
    uint64_t skipped_events;  /* offsets skipped (fillers and corrupt batches) */
    char first_error[256];
    int64_t end_off; /* the offset after the last whole batch decoded or skipped */
};

/* sl_fc_decode stopped early, after a whole batch, because the skip list is full (one slot
 * stays free): the caller goes on from end_off with a new read. */
#define SL_FC_DECODE_FULL 1

/*
 * Decode the batches in buf[0..len) (as sl_log_read_copy returned them), keeping records with
 * offset >= from. A batch that fails validation but whose header can be parsed is skipped
 * whole (its offsets go into the skip list); one whose header cannot be parsed ends the
 * decoding there: *consumed says how many bytes were whole batches. Returns 0,
 * SL_FC_DECODE_FULL (stopped after *consumed bytes, not at a damaged header: read again from
 * d->end_off) or -ENOMEM (what was decoded so far stays in d).
 */
int sl_fc_decode(const uint8_t *buf, size_t len, int64_t from, struct sl_fc_decoded *d,
                 size_t *consumed);

/* Free the events still in d and its array. */
void sl_fc_decoded_fini(struct sl_fc_decoded *d);

/* ---- file_repair.c ---- */

struct sl_fc_repair_info {
    int64_t batches_replaced; /* corrupt batches overwritten by fillers */
    int64_t events_lost;      /* offsets those fillers cover */
    char first_error[512];
};

/*
 * Before the store recovers the log after an unclean stop: scan the segments of log_dir from
 * the one holding `from` (the durable cursor) and overwrite each corrupt batch that is
 * followed by valid data with a filler batch of the same size covering the same offsets, so
 * the store's recovery (which truncates at the first invalid byte) cuts only a torn tail and
 * never the valid batches after a damaged one. Durable (fdatasync) before it returns.
 * active_only: scan only the last segment (after a clean stop the store re-validates only
 * the active segment's tail, and reads validate every batch anyway).
 * Returns 0 or -errno. Blocks on disk I/O proportional to the data after the cursor.
 */
int sl_fc_repair(const char *log_dir, int64_t from, int active_only,
                 struct sl_fc_repair_info *info);

#endif
