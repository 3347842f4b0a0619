/*
 * log.h - one partition's log: a directory <topic>-<partition> of segments in Kafka's
 * on-disk format (.log record batches, .index, .timeindex), with append, batch-aligned reads
 * for sendfile, offset-for-timestamp lookup, retention, flushing, crash recovery, truncation
 * and a leader-epoch cache for replication.
 *
 * Threads: every function here may be called from any thread; a struct sl_log is guarded by
 * its own mutex. sl_log_flush does its fsyncs outside the mutex, so appends and reads go on
 * while it blocks. A slice returned by sl_log_read keeps its segment file open until
 * released, even if retention deletes the segment meanwhile.
 *
 * Failure: an I/O error while appending, flushing or truncating poisons the log (LMDB's
 * fatal-error rule): every later write returns SL_EFAILED with the first error's message.
 * Nothing accepted before the failure is lost; reads keep working.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "../common/sl_err.h"
#include "config.h"

struct sl_log;
struct sl_seg;

/* ListOffsets' special timestamps. */
#define SL_TS_LATEST   (-1)
#define SL_TS_EARLIEST (-2)

struct sl_log_open_opts {
    /* The log was closed cleanly: trust segment files and indexes (still sanity-checked). */
    int clean;
    /* Offsets below this were flushed before the crash (recovery-point checkpoint); only
     * segments holding offsets at or after it are re-validated. 0 = recover everything. */
    int64_t recovery_point;
    /* From log-start-offset-checkpoint, or -1 to take the first segment's base offset. */
    int64_t log_start_offset;
    /* From replication-offset-checkpoint, or -1 (then: the log end offset). */
    int64_t high_watermark;
    /* Create the directory (with one empty segment at offset 0) if it does not exist. */
    int create;
};

/* What a recovery found; filled by sl_log_open when the log was recovered. */
struct sl_log_recovery_info {
    int recovered;             /* 1 if any segment was re-validated */
    int64_t segments_checked;  /* segments re-validated */
    int64_t bytes_checked;     /* bytes of those segments read */
    int64_t bytes_truncated;   /* invalid bytes cut off */
    int64_t segments_deleted;  /* whole segments after the first invalid byte */
    int64_t indexes_rebuilt;   /* index files rebuilt (missing, corrupt or recovered) */
    char first_error[1024];    /* why the first invalid batch was invalid, if any */
};

/*
 * Open (and, when unclean, recover) the partition directory dir, named <topic>-<partition>.
 * Takes a copy of cfg. On success *out owns the log; close it with sl_log_close.
 * Returns 0, -errno, SL_ECONFIG (directory name not <topic>-<n>), SL_ECORRUPT (a file that
 * cannot be repaired, e.g. a segment name that is not 20 digits). May block on disk I/O
 * proportional to what must be recovered. info may be NULL.
 */
int sl_log_open(const char *dir, const struct sl_log_config *cfg,
                const struct sl_log_open_opts *opts, struct sl_log **out,
                struct sl_log_recovery_info *info, struct sl_err *err);

/*
 * Close the log: with clean != 0, first flush data and index files (a clean close must leave
 * nothing to recover). Frees the log; slices still held keep their files open.
 * Returns the first error met (the log is freed regardless).
 */
int sl_log_close(struct sl_log *log, int clean);

struct sl_log_append_opts {
    int32_t leader_epoch; /* written into every batch when assigning offsets */
    int assign_offsets;   /* 1 (leader/producer): rewrite base offsets; 0 (follower): keep
                             them, and they must continue the log exactly */
    int deep_validate;    /* also decompress compressed batches to validate their records */
    int built_here;       /* made by sl_batch_builder in this process: check the header and
                             CRC only, not every record's framing again */
    int64_t now_ms;       /* wall clock for LogAppendTime and segment.ms; 0 = read it */
};

struct sl_log_append_info {
    int64_t first_offset;    /* base offset of the first batch written */
    int64_t last_offset;     /* last offset written */
    int64_t log_append_time; /* -1 unless the topic uses LogAppendTime */
    int64_t log_start_offset;
    int64_t max_timestamp;
    int32_t batches;
    int32_t records;
};

/*
 * Append the record batches in buf[0..len) (one or more, back to back, as a Produce request
 * carries them). Every batch is validated before anything is written: any invalid batch
 * rejects the whole call and nothing is written. buf is modified in place (base offsets,
 * leader epoch, LogAppendTime stamps) and is what lands on disk.
 * Returns 0; SL_ECORRUPT/SL_ECRC/SL_ETRUNCATED/SL_EUNSUPPORTED (bad input; err says which
 * batch and why), SL_ETOOLARGE (a batch above max.message.bytes), SL_ERANGE (follower
 * offsets that do not continue the log), SL_EFAILED (poisoned), or -errno from the disk, which
 * also poisons the log. May block (write; fsync when flush.messages is reached).
 */
int sl_log_append(struct sl_log *log, uint8_t *buf, size_t len,
                  const struct sl_log_append_opts *opts, struct sl_log_append_info *info,
                  struct sl_err *err);

/* A batch-aligned byte range of one segment file, for sendfile(2) or pread. */
struct sl_log_slice {
    int fd;                 /* the segment's .log file; valid until sl_log_slice_release */
    int64_t position;       /* file offset of the first batch */
    int64_t length;         /* bytes: whole batches only; 0 = nothing to read */
    int64_t first_offset;   /* base offset of the first batch in the range */
    int64_t next_offset;    /* offset after the last batch in the range */
    struct sl_seg *seg;     /* reference held by the slice */
};

/*
 * Find the batches holding offsets from `offset` on, stopping before max_offset (the high
 * watermark for consumers, -1 for the log end) and before max_bytes. With min_one, the first
 * batch is returned whole even when it is larger than max_bytes (Kafka's rule for the first
 * partition of a fetch). Never crosses a segment: call again from next_offset for more.
 * The first batch may start before `offset` (it contains it); clients skip the records
 * below the requested offset, as with Kafka.
 * Returns 0 (length may be 0 at the end of the log), or SL_ERANGE when offset is below the
 * log start offset or above the log end offset. Release the slice when done (even when
 * length is 0). May block on page-cache misses (reads batch headers).
 */
int sl_log_read(struct sl_log *log, int64_t offset, int64_t max_bytes, int64_t max_offset,
                int min_one, struct sl_log_slice *out, struct sl_err *err);

/* Drop the slice's segment reference. Safe on a zeroed slice. */
void sl_log_slice_release(struct sl_log_slice *slice);

/*
 * As sl_log_read, but copy the bytes into a fresh malloc'd buffer (*buf, caller frees;
 * NULL when *len is 0). Returns as sl_log_read, or -errno from the read.
 */
int sl_log_read_copy(struct sl_log *log, int64_t offset, int64_t max_bytes, int64_t max_offset,
                     int min_one, uint8_t **buf, size_t *len, int64_t *next_offset,
                     struct sl_err *err);

/*
 * ListOffsets semantics: ts = SL_TS_EARLIEST gives the log start offset, SL_TS_LATEST the log
 * end offset (found timestamp -1 for both); otherwise the offset and timestamp of the first
 * record whose timestamp >= ts, or offset -1 / timestamp -1 when there is none.
 * Returns 0 or an I/O / corruption error. May block (reads the log).
 */
int sl_log_offset_for_time(struct sl_log *log, int64_t ts, int64_t *offset, int64_t *found_ts,
                           struct sl_err *err);

/*
 * Delete whole segments past retention.ms (by the segment's largest timestamp) or beyond
 * retention.bytes, oldest first, never the active segment (when every segment has expired
 * the active one is rolled first, as Kafka does, so the log is left with one empty
 * segment), and never above the high watermark. The log start offset moves forward.
 * Returns the number of segments deleted, or a negative error. May block (unlink).
 */
int sl_log_retain(struct sl_log *log, int64_t now_ms, struct sl_err *err);

/*
 * Delete whole segments every offset of which lies below `offset` (a consumer that owns the
 * log, such as the agent's file channel, has taken everything before it), oldest first,
 * never the active segment, regardless of retention settings and the high watermark. The
 * log start offset moves to the first remaining segment's base. Returns the number of
 * segments deleted, or SL_EFAILED when the log is poisoned. May block (unlink).
 */
int sl_log_delete_before(struct sl_log *log, int64_t offset, struct sl_err *err);

/*
 * Make everything appended so far durable (fdatasync of every segment with unflushed data,
 * index files written), then advance the recovery point. Blocks; does not hold the log's
 * mutex while syncing. A failure poisons the log. Returns 0 or an error.
 */
int sl_log_flush(struct sl_log *log, struct sl_err *err);

/* Flush if flush.ms has passed since the last flush and there is unflushed data. */
int sl_log_maybe_flush(struct sl_log *log, int64_t now_mono_ms, struct sl_err *err);

/* Start a new active segment at the log end offset now (no-op when the active one is empty). */
int sl_log_roll(struct sl_log *log, struct sl_err *err);

/*
 * Remove everything at and after `offset` (a follower diverging from its leader). If offset
 * falls inside a batch, that whole batch goes and the log end becomes its base offset.
 * The high watermark, recovery point and leader-epoch cache are cut back to match.
 * No-op when offset >= the log end. Returns 0 or an error (which poisons the log).
 */
int sl_log_truncate_to(struct sl_log *log, int64_t offset, struct sl_err *err);

/* Delete every segment and restart the log empty at offset (log start = end = offset). */
int sl_log_truncate_fully(struct sl_log *log, int64_t offset, struct sl_err *err);

/* Replace the configuration (retention, roll, flush take effect from the next operation). */
void sl_log_set_config(struct sl_log *log, const struct sl_log_config *cfg);
void sl_log_get_config(struct sl_log *log, struct sl_log_config *cfg);

/* Offsets. The high watermark never exceeds the log end offset (it is clamped). */
int64_t sl_log_end_offset(struct sl_log *log);
int64_t sl_log_start_offset(struct sl_log *log);
int64_t sl_log_high_watermark(struct sl_log *log);
void sl_log_set_high_watermark(struct sl_log *log, int64_t hw);
int64_t sl_log_recovery_point(struct sl_log *log);

/* Total bytes of all segment files, and the number of segments. */
int64_t sl_log_size_bytes(struct sl_log *log);
int sl_log_segment_count(struct sl_log *log);

/* The directory, topic and partition (borrowed; valid while the log is open). */
const char *sl_log_dir(const struct sl_log *log);
const char *sl_log_topic(const struct sl_log *log);
int32_t sl_log_partition(const struct sl_log *log);

/* 1 if poisoned; msg (may be NULL) receives the first failure's message. */
int sl_log_failed(struct sl_log *log, char *msg, size_t msg_len);

/* ---- leader-epoch cache (replication) ---- */

/*
 * Record that `epoch` starts at start_offset (a new leader's first offset). Epochs and
 * offsets must not go backwards; an older epoch is ignored. Persisted in
 * leader-epoch-checkpoint atomically. Returns 0 or an I/O error.
 */
int sl_log_epoch_assign(struct sl_log *log, int32_t epoch, int64_t start_offset,
                        struct sl_err *err);

/* The latest epoch, or -1 when none is known. */
int32_t sl_log_epoch_latest(struct sl_log *log);

/*
 * OffsetsForLeaderEpoch: the end offset of `epoch` as this log knows it. For the latest
 * epoch that is the log end offset; for an older one, the start offset of the next higher
 * epoch; *end_epoch is the largest known epoch <= epoch. Unknown (epoch below the first):
 * both -1.
 */
void sl_log_epoch_end_offset(struct sl_log *log, int32_t epoch, int32_t *end_epoch,
                             int64_t *end_offset);

/* Parse "<topic>-<partition>" (the last '-' splits). Returns 0 or SL_ECONFIG. */
int sl_log_parse_dir_name(const char *name, char *topic, size_t topic_len, int32_t *partition);

#endif
