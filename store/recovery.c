/*
 * recovery.c - opening a partition directory: find its segments, and after an unclean stop
 * re-validate every segment from the one holding the recovery point, truncating at the
 * first invalid byte and rebuilding indexes. Runs inside sl_log_open, before the log is
 * shared, so no locking is needed here.
 *
 * Why this is enough: every batch below the recovery point was fdatasync'ed before the
 * point was checkpointed (log.c, sl_log_flush), so only later bytes can be torn. A segment
 * after a truncation point cannot hold valid data that follows invalid data in offset order,
 * so later segments are deleted, as Kafka does.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/sl_macros.h"
#include "io.h"
#include "log_int.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* "<20 digits>.<ext>" -> base offset; -1 if the name is not a segment file with ext. */
static int64_t parse_seg_name(const char *name, const char *ext)
{
    size_t len = strlen(name);
    size_t elen = strlen(ext);
    if (len != 20 + elen || strcmp(name + 20, ext) != 0) {
        return -1;
    }
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10) {
            return -1;
        }
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

/* Collect segment bases; delete temporary and orphan files left by a crash. */
static int list_segments(const char *dir, int64_t **bases, size_t *n, struct sl_err *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        return sl_err_set(err, -errno, "%s: %s", dir, strerror(errno));
    }
    size_t cap = 0;
    *bases = NULL;
    *n = 0;
    struct dirent *e;
    int rc = 0;
    char path[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        size_t len = strlen(name);
        int64_t base = parse_seg_name(name, ".log");
        if (base >= 0) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                int64_t *nb = realloc(*bases, cap * sizeof(*nb));
                if (!nb) {
                    rc = -ENOMEM;
                    break;
                }
                *bases = nb;
            }
            (*bases)[(*n)++] = base;
        } else if ((len > 4 && strcmp(name + len - 4, ".tmp") == 0) ||
                   (len > 8 && strcmp(name + len - 8, ".deleted") == 0)) {
            snprintf(path, sizeof(path), "%s/%s", dir, name);
            sl_io_unlink(path);
        } else if (parse_seg_name(name, ".index") >= 0 ||
                   parse_seg_name(name, ".timeindex") >= 0) {
            /* An index whose .log is gone (deleted by retention before a crash). */
            char logname[64];
            snprintf(logname, sizeof(logname), "%.20s.log", name);
            snprintf(path, sizeof(path), "%s/%s", dir, logname);
            if (access(path, F_OK) != 0) {
                snprintf(path, sizeof(path), "%s/%s", dir, name);
                sl_io_unlink(path);
            }
        }
    }
    closedir(d);
    if (rc == 0 && *n > 1) {
        qsort(*bases, *n, sizeof(**bases), cmp_i64);
    }
    return rc;
}

/*
 * Re-validate seg from position 0. Stops at the first invalid batch (or one whose offsets do
 * not fit between `expect` and `limit`), truncates the file there and rebuilds the indexes.
 * Returns 1 if something was cut, 0 if the segment was whole, or a negative I/O error.
 */
static int recover_segment(struct sl_log *log, struct sl_seg *seg, int64_t expect,
                           int64_t limit, struct sl_log_recovery_info *info)
{
    struct sl__scan s;
    struct sl_batch_hdr h;
    struct sl_err e = {0};
    int rc;
    sl__index_fini(&seg->idx);
    seg->index_loaded = 1;
    seg->bytes_since_index = 0;
    seg->max_ts = -1;
    seg->first_ts = -1;
    seg->next = seg->base;
    sl__scan_init(&s, seg->fd, 0, seg->size, 1 << 20);
    int64_t pos = 0;
    while ((rc = sl__scan_next(&s, 1, &h, NULL, &e)) == 1) {
        /* baseOffset lies outside the CRC, so a damaged one is caught only by order: it may
         * not go backwards, reach into the next segment, or leave the range that the
         * segment's 32-bit relative index can address. */
        if (h.base_offset < SL_MAX(expect, seg->base) || sl_batch_hdr_last_offset(&h) >= limit ||
            sl_batch_hdr_last_offset(&h) - seg->base > INT32_MAX) {
            snprintf(e.msg, sizeof(e.msg),
                     "batch at position %" PRId64 ": offsets %" PRId64 "..%" PRId64
                     " out of order",
                     pos, h.base_offset, sl_batch_hdr_last_offset(&h));
            rc = SL_ECORRUPT;
            break;
        }
        if ((rc = sl__seg_track_batch(log, seg, &h, pos)) != 0) {
            break;
        }
        expect = sl_batch_hdr_last_offset(&h) + 1;
        pos = s.pos;
    }
    sl__scan_fini(&s);
    if (rc < 0 && rc > -4096) { /* an I/O error, not invalid data: do not cut anything */
        return rc;
    }
    int cut = pos < seg->size;
    info->segments_checked++;
    info->bytes_checked += seg->size;
    info->indexes_rebuilt++;
    if (cut) {
        if (!info->first_error[0]) {
            snprintf(info->first_error, sizeof(info->first_error), "%.400s.log: %.500s", seg->path,
                     e.msg);
        }
        info->bytes_truncated += seg->size - pos;
        /* Crash after this truncate and before the index rewrite: the next open finds the
         * log unclean again and redoes both. */
        if ((rc = sl_io_ftruncate(seg->fd, pos)) != 0) {
            return rc;
        }
        seg->size = pos;
    }
    rc = sl__index_write(&seg->idx, seg->path, 1);
    if (rc == 0) {
        /* Recovered bytes become the new recovery point: make them durable first. */
        rc = sl_io_fdatasync(seg->fd);
    }
    return rc != 0 ? rc : cut;
}

/* The clean path for the active segment: trust the index, check only the tail after it. */
static int open_active_clean(struct sl_log *log, struct sl_seg *seg)
{
    seg->next = INT64_MAX; /* unknown yet: let the index sanity check use the file only */
    int rc = sl__seg_ensure_index(log, seg);
    if (rc != 0) {
        return rc;
    }
    struct sl__scan s;
    struct sl_batch_hdr h;
    int64_t pos = seg->idx.on ? seg->idx.o[seg->idx.on - 1].pos : 0;
    seg->next = seg->idx.on ? seg->base + seg->idx.o[seg->idx.on - 1].rel : seg->base;
    sl__scan_init(&s, seg->fd, pos, seg->size, 1 << 20);
    while ((rc = sl__scan_next(&s, 1, &h, NULL, NULL)) == 1) {
        seg->next = sl_batch_hdr_last_offset(&h) + 1;
        if (pos == 0) {
            seg->first_ts = h.max_timestamp;
        }
        if (h.max_timestamp > seg->max_ts) {
            seg->max_ts = h.max_timestamp;
            seg->max_ts_offset = seg->next - 1;
        }
        pos = s.pos;
    }
    sl__scan_fini(&s);
    if (rc == 0 && seg->first_ts < 0 && seg->size > 0) {
        sl__scan_init(&s, seg->fd, 0, seg->size, 4096);
        if (sl__scan_next(&s, 0, &h, NULL, NULL) == 1) {
            seg->first_ts = h.max_timestamp;
        }
        sl__scan_fini(&s);
    }
    return rc == 0 ? 0 : SL_ECORRUPT; /* a damaged tail: the caller recovers the segment */
}

int sl__log_load_segments(struct sl_log *log, const struct sl_log_open_opts *opts,
                          struct sl_log_recovery_info *info, struct sl_err *err)
{
    int64_t *bases;
    size_t n;
    int64_t now = sl_now_ms();
    int rc = list_segments(log->dir, &bases, &n, err);
    if (rc != 0) {
        return rc;
    }
    log->segs = calloc(n ? n : 1, sizeof(*log->segs));
    log->segcap = n ? n : 1;
    if (!log->segs) {
        free(bases);
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        struct sl_seg *seg = sl__seg_open(log->dir, bases[i], now, &rc);
        if (!seg) {
            free(bases);
            return sl_err_set(err, rc, "%s/%020" PRId64 ".log: %s", log->dir, bases[i],
                              sl_strerror(rc));
        }
        seg->next = i + 1 < n ? bases[i + 1] : INT64_MAX;
        log->segs[log->nsegs++] = seg;
    }
    free(bases);

    int64_t start = opts->log_start_offset;
    if (log->nsegs == 0) {
        struct sl_seg *seg = sl__seg_create(log->dir, start > 0 ? start : 0, now, &rc);
        if (!seg) {
            return sl_err_set(err, rc, "%s: creating first segment: %s", log->dir,
                              sl_strerror(rc));
        }
        log->segs[log->nsegs++] = seg;
        log->dir_dirty = 1;
    }

    size_t first_unsafe = log->nsegs; /* segments from here on are re-validated */
    if (!opts->clean) {
        first_unsafe = sl__log_seg_floor(log, opts->recovery_point);
    } else if (open_active_clean(log, log->segs[log->nsegs - 1]) != 0) {
        first_unsafe = log->nsegs - 1;
    }
    for (size_t i = first_unsafe; i < log->nsegs; i++) {
        struct sl_seg *seg = log->segs[i];
        int64_t expect = i > 0 ? log->segs[i - 1]->next : seg->base;
        int64_t limit = i + 1 < log->nsegs ? log->segs[i + 1]->base : INT64_MAX;
        info->recovered = 1;
        rc = recover_segment(log, seg, expect, limit, info);
        if (rc < 0) {
            return sl_err_set(err, rc, "%s.log: recovery: %s", seg->path, sl_strerror(rc));
        }
        if (rc == 1 && i + 1 < log->nsegs) {
            info->segments_deleted += (int64_t)(log->nsegs - i - 1);
            sl__log_remove_segs(log, i + 1, log->nsegs - i - 1);
        }
    }
    /* Earlier segments end where the next begins; their exact next offset is only needed
     * for reads at their tail, where the next segment's base serves the same purpose. */
    for (size_t i = 0; i + 1 < log->nsegs; i++) {
        if (i < first_unsafe) {
            log->segs[i]->next = log->segs[i + 1]->base;
        }
    }
    struct sl_seg *act = log->segs[log->nsegs - 1];
    if (!act->index_loaded && (rc = sl__seg_ensure_index(log, act)) != 0) {
        return sl_err_set(err, rc, "%s: index: %s", act->path, sl_strerror(rc));
    }
    log->leo = act->next;
    log->log_start = SL_MAX(log->segs[0]->base, SL_MIN(start, log->leo));
    log->hw = opts->high_watermark < 0 ? log->leo
                                       : SL_MAX(log->log_start, SL_MIN(opts->high_watermark, log->leo));
    /* Clean: everything was flushed at close. Unclean: all past the old recovery point was
     * just re-validated and fdatasync'ed by recover_segment. */
    log->recovery_point = log->leo;
    return 0;
}
