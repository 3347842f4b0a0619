/*
 * log_int.h - store/'s private structures shared by log.c, segment.c, index.c, recovery.c,
 * retention.c and epoch.c. Everything in a struct sl_log, its segments and their indexes is
 * guarded by log->mu, except sl_seg.refs (atomic) and the fields a slice reads after the
 * mutex is released (fd, which never changes while a reference is held).
 */
#ifndef SL_LOG_INT_H
#define SL_LOG_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "batch.h"
#include "config.h"
#include "log.h"

#define SL_OIDX_ENTRY 8  /* .index: relative offset i32, position i32 */
#define SL_TIDX_ENTRY 12 /* .timeindex: timestamp i64, relative offset i32 */

struct sl_oidx_entry {
    int32_t rel; /* offset - segment base (the last offset of the batch at pos) */
    int32_t pos; /* file position of a batch start */
};

struct sl_tidx_entry {
    int64_t ts;  /* largest timestamp so far in the segment */
    int32_t rel; /* offset (relative) of the batch holding it */
};

/* A segment's two sparse indexes, in memory (host order) and mirrored to files. */
struct sl_index {
    struct sl_oidx_entry *o;
    size_t on, ocap, o_written; /* o_written: entries already in the .index file */
    struct sl_tidx_entry *t;
    size_t tn, tcap, t_written;
    int stale; /* entries were truncated: the files must be rewritten whole */
};

struct sl_seg {
    int64_t base;       /* base offset: the file name */
    int64_t size;       /* bytes of valid batches in .log */
    int64_t next;       /* offset after its last batch (base when empty) */
    int fd;             /* .log, O_RDWR; closed when the last reference goes */
    int refs;           /* the log's reference + one per slice; atomic */
    int deleted;        /* files unlinked; fd lives on for slices */
    char *path;         /* "<dir>/<20-digit base>" without extension */
    int index_loaded;   /* idx holds this segment's entries */
    struct sl_index idx;
    int64_t max_ts;        /* largest batch maxTimestamp seen (-1 none) */
    int64_t max_ts_offset; /* last offset of the batch holding it */
    int64_t first_ts;      /* maxTimestamp of its first batch (segment.ms rolling), -1 unknown */
    int64_t created_ms;    /* wall clock when this process created or opened it */
    int64_t bytes_since_index;
    int dirty;             /* data written since the last fdatasync */
};

struct sl_epoch_entry {
    int32_t epoch;
    int64_t start_offset;
};

struct sl_log {
    pthread_mutex_t mu;
    char *dir;
    char *topic;
    int32_t partition;
    struct sl_log_config cfg;
    struct sl_seg **segs; /* sorted by base; the last one is active */
    size_t nsegs, segcap;
    int64_t log_start;
    int64_t leo;       /* log end offset: next offset to assign */
    int64_t hw;        /* high watermark <= leo */
    int64_t recovery_point;
    int64_t unflushed_records;
    int64_t last_flush_mono_ms;
    int dir_dirty;     /* a segment file was created/removed since the last dir fsync */
    struct sl_epoch_entry *epochs;
    size_t nepochs, epochcap;
    int failed;
    char failed_msg[256];
};

/* ---- index.c ---- */

void sl__index_fini(struct sl_index *idx);
int sl__index_add(struct sl_index *idx, int64_t seg_base, int64_t last_offset, int64_t pos,
                  int64_t max_ts, int64_t max_ts_offset);
int sl__index_add_time(struct sl_index *idx, int64_t seg_base, int64_t ts, int64_t offset);
/* Position of the batch to start scanning from for `offset` (0 when no entry is <= it). */
int64_t sl__index_lookup(const struct sl_index *idx, int64_t seg_base, int64_t offset);
/* Largest entry position <= pos_limit whose offset < offset_limit (0 if none). */
int64_t sl__index_floor_pos(const struct sl_index *idx, int64_t seg_base, int64_t pos_limit,
                            int64_t offset_limit);
/* Offset to start scanning from for timestamp ts (seg_base when no entry is <= ts). */
int64_t sl__index_lookup_time(const struct sl_index *idx, int64_t seg_base, int64_t ts);
/* Drop entries at/after position pos (offset index) or offset >= next (time index). */
void sl__index_truncate(struct sl_index *idx, int64_t seg_base, int64_t pos, int64_t next);
/* Load from files and sanity-check against the segment. Returns 0 or SL_ECORRUPT/-errno. */
int sl__index_load(struct sl_index *idx, const char *seg_path, int64_t seg_base,
                   int64_t seg_size, int64_t seg_next);
/* Write entries not yet in the files (all with `rewrite`: truncate and write whole). */
int sl__index_write(struct sl_index *idx, const char *seg_path, int rewrite);

/* ---- segment.c ---- */

/* Batch header scanner over a segment file, reading in large windows. */
struct sl__scan {
    int fd;
    int64_t pos; /* position of the next batch */
    int64_t end; /* stop here */
    uint8_t *buf;
    size_t cap;
    int64_t buf_pos; /* file position of buf[0] */
    size_t buf_len;
};

void sl__scan_init(struct sl__scan *s, int fd, int64_t pos, int64_t end, size_t window);
void sl__scan_fini(struct sl__scan *s);
/*
 * Next batch header at s->pos (advancing past it). With `full`, also make the whole batch
 * available at *bytes and validate it completely (CRC, records). Returns 1 for a batch,
 * 0 at s->end, or a negative error with detail in err (s->pos stays at the bad batch).
 */
int sl__scan_next(struct sl__scan *s, int full, struct sl_batch_hdr *h, const uint8_t **bytes,
                  struct sl_err *err);

struct sl_seg *sl__seg_create(const char *dir, int64_t base, int64_t now_ms, int *rc);
struct sl_seg *sl__seg_open(const char *dir, int64_t base, int64_t now_ms, int *rc);
void sl__seg_ref(struct sl_seg *seg);
void sl__seg_unref(struct sl_seg *seg);
/* Unlink the segment's files; the fd stays open until the last reference goes. */
int sl__seg_delete_files(struct sl_seg *seg);
int sl__seg_ensure_index(struct sl_log *log, struct sl_seg *seg);
int sl__seg_rebuild_index(struct sl_log *log, struct sl_seg *seg, struct sl_err *err);
/* Record one appended batch in the segment's indexes and timestamps. */
int sl__seg_track_batch(struct sl_log *log, struct sl_seg *seg, const struct sl_batch_hdr *h,
                        int64_t pos);
/* Finish a segment that stops being active: final time index entry, index files written. */
int sl__seg_seal(struct sl_seg *seg);
/* Position of the first batch whose last offset >= offset, scanning from the index;
 * *found = 0 when the segment holds no such batch (then returns seg->size). */
int64_t sl__seg_find(struct sl_log *log, struct sl_seg *seg, int64_t offset, int *found,
                     struct sl_batch_hdr *h, struct sl_err *err);
/* Largest timestamp in the segment for retention (file mtime when records carry none). */
int64_t sl__seg_largest_ts(struct sl_log *log, struct sl_seg *seg);

/* ---- log.c ---- */

void sl__log_poison(struct sl_log *log, int rc, const char *what);
size_t sl__log_seg_floor(const struct sl_log *log, int64_t offset);
void sl__log_remove_segs(struct sl_log *log, size_t from, size_t n);
int sl__log_roll_locked(struct sl_log *log, int64_t now_ms, struct sl_err *err);

/* ---- recovery.c ---- */

int sl__log_load_segments(struct sl_log *log, const struct sl_log_open_opts *opts,
                          struct sl_log_recovery_info *info, struct sl_err *err);

/* ---- epoch.c ---- */

int sl__epoch_load(struct sl_log *log, struct sl_err *err);
int sl__epoch_assign_locked(struct sl_log *log, int32_t epoch, int64_t start,
                            struct sl_err *err);
int sl__epoch_truncate_end_locked(struct sl_log *log, int64_t end_offset);
int sl__epoch_truncate_start_locked(struct sl_log *log, int64_t start_offset);

#endif
