/*
 * log.c - a partition log: the segment list, append, batch-aligned reads, roll, flush and
 * truncation. Recovery is in recovery.c, retention in retention.c, the leader-epoch cache in
 * epoch.c. Every struct sl_log is guarded by its mutex (see log.h for the thread contract).
 *
 * Invariants (hold whenever the mutex is free):
 *   1. segs is non-empty and sorted by base; segs[i]->next <= segs[i+1]->base.
 *   2. leo == the active (last) segment's next; log_start <= leo; hw <= leo.
 *   3. Every byte in [0, seg->size) of every .log is a valid batch; bytes past size on disk
 *      (a failed write) are never read and are cut by recovery.
 *   4. recovery_point <= leo, and every batch below it has been fdatasync'ed.
 *   5. Once failed is set, nothing is written again by this process.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/sl_macros.h"
#include "compress.h"
#include "io.h"
#include "log_int.h"

int sl_log_parse_dir_name(const char *name, char *topic, size_t topic_len, int32_t *partition)
{
    const char *dash = strrchr(name, '-');
    if (!dash || dash == name || dash[1] == '\0' || (size_t)(dash - name) >= topic_len) {
        return SL_ECONFIG;
    }
    char *end;
    errno = 0;
    long p = strtol(dash + 1, &end, 10);
    if (errno || *end != '\0' || p < 0 || p > INT32_MAX || dash[1] == '+' || dash[1] == '-') {
        return SL_ECONFIG;
    }
    memcpy(topic, name, (size_t)(dash - name));
    topic[dash - name] = '\0';
    *partition = (int32_t)p;
    return 0;
}

void sl__log_poison(struct sl_log *log, int rc, const char *what)
{
    if (!log->failed) {
        log->failed = 1;
        snprintf(log->failed_msg, sizeof(log->failed_msg), "%s-%d: %s: %s", log->topic,
                 log->partition, what, sl_strerror(rc));
    }
}

static int poisoned(struct sl_log *log, struct sl_err *err)
{
    return sl_err_set(err, SL_EFAILED, "log failed earlier: %s", log->failed_msg);
}

size_t sl__log_seg_floor(const struct sl_log *log, int64_t offset)
{
    size_t lo = 0, hi = log->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (log->segs[mid]->base <= offset) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo == 0 ? 0 : lo - 1;
}

void sl__log_remove_segs(struct sl_log *log, size_t from, size_t n)
{
    for (size_t i = from; i < from + n; i++) {
        sl__seg_delete_files(log->segs[i]);
        sl__seg_unref(log->segs[i]);
    }
    memmove(&log->segs[from], &log->segs[from + n],
            (log->nsegs - from - n) * sizeof(*log->segs));
    log->nsegs -= n;
    log->dir_dirty = 1;
}

static int push_seg(struct sl_log *log, struct sl_seg *seg)
{
    if (log->nsegs == log->segcap) {
        size_t ncap = log->segcap ? log->segcap * 2 : 8;
        struct sl_seg **n = realloc(log->segs, ncap * sizeof(*n));
        if (!n) {
            return -ENOMEM;
        }
        log->segs = n;
        log->segcap = ncap;
    }
    log->segs[log->nsegs++] = seg;
    return 0;
}

static struct sl_seg *active(const struct sl_log *log)
{
    return log->segs[log->nsegs - 1];
}

int sl__log_roll_locked(struct sl_log *log, int64_t now_ms, struct sl_err *err)
{
    struct sl_seg *old = active(log);
    int rc = sl__seg_seal(old);
    if (rc != 0) {
        sl__log_poison(log, rc, "sealing segment index");
        return sl_err_set(err, rc, "%s", log->failed_msg);
    }
    struct sl_seg *seg = sl__seg_create(log->dir, log->leo, now_ms, &rc);
    if (!seg || (rc = push_seg(log, seg)) != 0) {
        sl__seg_unref(seg);
        sl__log_poison(log, rc, "creating segment");
        return sl_err_set(err, rc, "%s", log->failed_msg);
    }
    log->dir_dirty = 1;
    return 0;
}

int sl_log_open(const char *dir, const struct sl_log_config *cfg,
                const struct sl_log_open_opts *opts, struct sl_log **out,
                struct sl_log_recovery_info *info, struct sl_err *err)
{
    struct sl_log_recovery_info scratch;
    const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    char topic[256];
    int32_t partition;
    *out = NULL;
    if (!info) {
        info = &scratch;
    }
    memset(info, 0, sizeof(*info));
    if (sl_log_parse_dir_name(base, topic, sizeof(topic), &partition) != 0) {
        return sl_err_set(err, SL_ECONFIG, "%s: not a <topic>-<partition> directory", dir);
    }
    if (opts->create && mkdir(dir, 0755) == -1 && errno != EEXIST) {
        return sl_err_set(err, -errno, "%s: mkdir: %s", dir, strerror(errno));
    }
    struct sl_log *log = calloc(1, sizeof(*log));
    if (!log || !(log->dir = strdup(dir)) || !(log->topic = strdup(topic))) {
        if (log) {
            free(log->dir);
        }
        free(log);
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    pthread_mutex_init(&log->mu, NULL);
    log->partition = partition;
    log->cfg = *cfg;
    log->last_flush_mono_ms = sl_mono_ms();
    int rc = sl__log_load_segments(log, opts, info, err);
    if (rc == 0) {
        rc = sl__epoch_load(log, err);
    }
    if (rc == 0) {
        rc = sl__epoch_truncate_end_locked(log, log->leo);
    }
    if (rc != 0) {
        sl_log_close(log, 0);
        return rc;
    }
    *out = log;
    return 0;
}

int sl_log_close(struct sl_log *log, int clean)
{
    if (!log) {
        return 0;
    }
    int rc = 0;
    if (clean && !log->failed && log->nsegs > 0) {
        rc = sl_log_flush(log, NULL);
        pthread_mutex_lock(&log->mu);
        /* The time index's final entry and every index entry reach their files, so a clean
         * open can trust them. The fsync makes that hold across a power loss too. */
        if (rc == 0 && (rc = sl__seg_seal(active(log))) == 0) {
            char path[4096];
            snprintf(path, sizeof(path), "%s.index", active(log)->path);
            int fd = sl_io_open(path, O_RDONLY, 0);
            if (fd >= 0) {
                rc = sl_io_fsync(fd);
                sl_io_close(fd);
            }
            snprintf(path, sizeof(path), "%s.timeindex", active(log)->path);
            fd = sl_io_open(path, O_RDONLY, 0);
            if (fd >= 0) {
                rc = rc ? rc : sl_io_fsync(fd);
                sl_io_close(fd);
            }
        }
        pthread_mutex_unlock(&log->mu);
    }
    for (size_t i = 0; i < log->nsegs; i++) {
        sl__seg_unref(log->segs[i]);
    }
    free(log->segs);
    free(log->epochs);
    pthread_mutex_destroy(&log->mu);
    free(log->dir);
    free(log->topic);
    free(log);
    return rc;
}

/* ---- append ---- */

struct batch_walk {
    int32_t batches;
    int32_t records;
    int64_t max_ts;
};

/* Validate every batch in buf before anything is written. */
static int validate_all(struct sl_log *log, const uint8_t *buf, size_t len,
                        const struct sl_log_append_opts *o, struct batch_walk *w,
                        struct sl_err *err)
{
    size_t pos = 0;
    int64_t expect = log->leo;
    memset(w, 0, sizeof(*w));
    w->max_ts = -1;
    if (len == 0) {
        return sl_err_set(err, SL_ECORRUPT, "empty record set");
    }
    while (pos < len) {
        struct sl_batch_hdr h;
        struct sl_err e;
        int rc = o->built_here ? sl_batch_validate_crc(buf + pos, len - pos, &h, &e)
                               : sl_batch_validate(buf + pos, len - pos, &h, &e);
        if (rc != 0) {
            return sl_err_set(err, rc, "batch %d at byte %zu: %s", w->batches, pos, e.msg);
        }
        size_t size = sl_batch_hdr_size(&h);
        if ((int64_t)size > log->cfg.max_message_bytes) {
            return sl_err_set(err, SL_ETOOLARGE,
                              "batch %d: %zu bytes is larger than max.message.bytes %" PRId64,
                              w->batches, size, log->cfg.max_message_bytes);
        }
        if (o->assign_offsets &&
            (h.record_count <= 0 || h.record_count != h.last_offset_delta + 1)) {
            return sl_err_set(err, SL_ECORRUPT,
                              "batch %d: %d records but lastOffsetDelta %d (inconsistent "
                              "offset range)",
                              w->batches, h.record_count, h.last_offset_delta);
        }
        if (!o->assign_offsets && h.base_offset < expect) {
            return sl_err_set(err, SL_ERANGE,
                              "batch %d: base offset %" PRId64 " is below the expected %" PRId64,
                              w->batches, h.base_offset, expect);
        }
        if (o->deep_validate && sl_batch_hdr_codec(&h) != SL_CODEC_NONE) {
            const uint8_t *recs;
            size_t rlen;
            int owned;
            rc = sl_batch_records(buf + pos, &h, (size_t)SL_BATCH_SIZE_MAX, &recs, &rlen, &owned,
                                  &e);
            if (rc == 0) {
                rc = sl_batch_validate_records(recs, rlen, h.record_count, h.last_offset_delta,
                                               &e);
                if (owned) {
                    free((void *)recs);
                }
            }
            if (rc != 0) {
                return sl_err_set(err, rc, "batch %d (%s): %s", w->batches,
                                  sl_codec_name(sl_batch_hdr_codec(&h)), e.msg);
            }
        }
        expect = o->assign_offsets ? expect + h.last_offset_delta + 1
                                   : sl_batch_hdr_last_offset(&h) + 1;
        w->batches++;
        w->records += h.record_count;
        w->max_ts = SL_MAX(w->max_ts, h.max_timestamp);
        pos += size;
    }
    return 0;
}

static int should_roll(struct sl_log *log, size_t len, int32_t batches, int64_t max_ts,
                       int64_t now_ms, int64_t last_offset)
{
    struct sl_seg *seg = active(log);
    if (seg->size == 0) {
        return 0;
    }
    size_t max_o = (size_t)(log->cfg.segment_index_bytes / SL_OIDX_ENTRY);
    size_t max_t = (size_t)(log->cfg.segment_index_bytes / SL_TIDX_ENTRY);
    int64_t waited = seg->first_ts >= 0 && max_ts >= 0 ? max_ts - seg->first_ts
                                                        : now_ms - seg->created_ms;
    return seg->size + (int64_t)len > log->cfg.segment_bytes ||
           waited > log->cfg.segment_ms ||
           seg->idx.on + (size_t)batches >= max_o || seg->idx.tn + (size_t)batches + 1 >= max_t ||
           last_offset - seg->base > INT32_MAX;
}

/* Rewrite offsets/epoch/timestamps in place and record each batch in the indexes. */
static int stamp_and_track(struct sl_log *log, uint8_t *buf, size_t len,
                           const struct sl_log_append_opts *o, int64_t now_ms,
                           int64_t seg_pos)
{
    size_t pos = 0;
    int64_t next = log->leo;
    while (pos < len) {
        struct sl_batch_hdr h;
        sl_batch_parse_header(buf + pos, len - pos, &h, NULL);
        size_t size = sl_batch_hdr_size(&h);
        if (o->assign_offsets) {
            sl_batch_set_base_offset(buf + pos, next);
            sl_batch_set_leader_epoch(buf + pos, o->leader_epoch);
            if (log->cfg.log_append_time) {
                sl_batch_set_log_append_time(buf + pos, now_ms);
            }
            sl_batch_parse_header(buf + pos, len - pos, &h, NULL);
        } else if (h.leader_epoch > (log->nepochs ? log->epochs[log->nepochs - 1].epoch : -1)) {
            int rc = sl__epoch_assign_locked(log, h.leader_epoch, h.base_offset, NULL);
            if (rc != 0) {
                return rc;
            }
        }
        int rc = sl__seg_track_batch(log, active(log), &h, seg_pos + (int64_t)pos);
        if (rc != 0) {
            return rc;
        }
        next = sl_batch_hdr_last_offset(&h) + 1;
        pos += size;
    }
    return 0;
}

int sl_log_append(struct sl_log *log, uint8_t *buf, size_t len,
                  const struct sl_log_append_opts *o, struct sl_log_append_info *info,
                  struct sl_err *err)
{
    struct batch_walk w;
    int64_t now_ms = o->now_ms ? o->now_ms : sl_now_ms();
    pthread_mutex_lock(&log->mu);
    if (log->failed) {
        int rc = poisoned(log, err);
        pthread_mutex_unlock(&log->mu);
        return rc;
    }
    int rc = validate_all(log, buf, len, o, &w, err);
    if (rc != 0) {
        pthread_mutex_unlock(&log->mu);
        return rc;
    }
    if (o->assign_offsets && o->leader_epoch >= 0 &&
        o->leader_epoch > (log->nepochs ? log->epochs[log->nepochs - 1].epoch : -1)) {
        rc = sl__epoch_assign_locked(log, o->leader_epoch, log->leo, err);
    }
    struct sl_batch_hdr first;
    sl_batch_parse_header(buf, len, &first, NULL);
    int64_t first_offset = o->assign_offsets ? log->leo : first.base_offset;
    if (rc == 0 && (!o->assign_offsets && first.base_offset != log->leo
                        ? active(log)->size > 0
                        : should_roll(log, len, w.batches, w.max_ts, now_ms,
                                      first_offset + w.records))) {
        /* A follower batch that skips offsets starts a new segment there, so segment bases
         * and batch offsets stay consistent. */
        int64_t keep = log->leo;
        if (!o->assign_offsets) {
            log->leo = first.base_offset;
        }
        rc = sl__log_roll_locked(log, now_ms, err);
        if (rc != 0) {
            log->leo = keep;
        }
    } else if (rc == 0 && !o->assign_offsets && first.base_offset != log->leo) {
        /* Empty active segment: recreate it at the follower's first offset. */
        struct sl_seg *old = active(log);
        struct sl_seg *seg = sl__seg_create(log->dir, first.base_offset, now_ms, &rc);
        if (seg) {
            sl__seg_delete_files(old);
            sl__seg_unref(old);
            log->segs[log->nsegs - 1] = seg;
            log->dir_dirty = 1;
            log->leo = first.base_offset;
        }
    }
    struct sl_seg *seg = active(log);
    int64_t seg_pos = seg->size;
    if (rc == 0) {
        rc = stamp_and_track(log, buf, len, o, now_ms, seg_pos);
    }
    if (rc == 0) {
        rc = sl_io_pwrite_all(seg->fd, buf, len, seg_pos);
        if (rc != 0) {
            /* Cut whatever part of the write landed; recovery would cut it anyway. */
            sl_io_ftruncate(seg->fd, seg_pos);
            sl__index_truncate(&seg->idx, seg->base, seg_pos, log->leo);
            seg->next = log->leo;
            sl__log_poison(log, rc, "writing segment");
            sl_err_set(err, rc, "%s", log->failed_msg);
        }
    } else if (!log->failed) {
        sl__log_poison(log, rc, "appending");
        sl_err_set(err, rc, "%s", log->failed_msg);
    }
    if (rc == 0) {
        seg->size += (int64_t)len;
        seg->dirty = 1;
        log->leo = seg->next;
        log->unflushed_records += w.records;
        if (info) {
            info->first_offset = first_offset;
            info->last_offset = log->leo - 1;
            info->log_append_time = log->cfg.log_append_time ? now_ms : -1;
            info->log_start_offset = log->log_start;
            info->max_timestamp = log->cfg.log_append_time ? now_ms : w.max_ts;
            info->batches = w.batches;
            info->records = w.records;
        }
    }
    int flush = rc == 0 && log->unflushed_records >= log->cfg.flush_messages;
    pthread_mutex_unlock(&log->mu);
    if (flush) {
        rc = sl_log_flush(log, err);
    }
    return rc;
}

/* ---- read ---- */

/* Find where `offset` lives, from segment index i on. Returns the segment index or -1. */
static int64_t locate(struct sl_log *log, int64_t offset, int64_t *pos, struct sl_batch_hdr *h,
                      struct sl_err *err)
{
    for (size_t i = sl__log_seg_floor(log, offset); i < log->nsegs; i++) {
        int found;
        int64_t p = sl__seg_find(log, log->segs[i], offset, &found, h, err);
        if (p < 0) {
            return p;
        }
        if (found) {
            *pos = p;
            return (int64_t)i;
        }
    }
    return -1;
}

int sl_log_read(struct sl_log *log, int64_t offset, int64_t max_bytes, int64_t max_offset,
                int min_one, struct sl_log_slice *out, struct sl_err *err)
{
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    out->first_offset = out->next_offset = offset;
    pthread_mutex_lock(&log->mu);
    int rc = 0;
    if (offset < log->log_start || offset > log->leo) {
        rc = sl_err_set(err, SL_ERANGE,
                        "offset %" PRId64 " is outside the log [%" PRId64 ", %" PRId64 "]",
                        offset, log->log_start, log->leo);
        goto out;
    }
    if (max_offset < 0 || max_offset > log->leo) {
        max_offset = log->leo;
    }
    struct sl_batch_hdr h;
    int64_t start;
    int64_t si = offset < max_offset ? locate(log, offset, &start, &h, err) : -1;
    /* Like Kafka, a batch that reaches max_offset (the high watermark) is not handed out. */
    if (si < 0 || sl_batch_hdr_last_offset(&h) >= max_offset) {
        rc = si < -1 ? (int)si : 0;
        goto out;
    }
    struct sl_seg *seg = log->segs[si];
    int64_t end = start + (int64_t)sl_batch_hdr_size(&h);
    int64_t next = sl_batch_hdr_last_offset(&h) + 1;
    if (end - start > max_bytes && !min_one) {
        goto out;
    }
    out->first_offset = h.base_offset;
    /* Every batch before an index entry that meets both limits fits: jump there, then walk
     * headers to the exact end. */
    int64_t jump = sl__index_floor_pos(&seg->idx, seg->base, start + max_bytes, max_offset);
    if (jump > end) {
        end = jump;
        next = -1; /* the base offset of the batch at `jump`, read below */
    }
    struct sl__scan s;
    sl__scan_init(&s, seg->fd, end, seg->size, 64 << 10);
    while ((rc = sl__scan_next(&s, 0, &h, NULL, err)) == 1) {
        if (next < 0) {
            next = h.base_offset;
        }
        if (sl_batch_hdr_last_offset(&h) >= max_offset || s.pos - start > max_bytes) {
            next = h.base_offset;
            break;
        }
        end = s.pos;
        next = sl_batch_hdr_last_offset(&h) + 1;
    }
    sl__scan_fini(&s);
    if (rc < 0) {
        goto out;
    }
    rc = 0;
    if (next < 0) {
        next = seg->next;
    }
    sl__seg_ref(seg);
    out->seg = seg;
    out->fd = seg->fd;
    out->position = start;
    out->length = end - start;
    out->next_offset = next;
out:
    pthread_mutex_unlock(&log->mu);
    return rc;
}

void sl_log_slice_release(struct sl_log_slice *slice)
{
    if (slice->seg) {
        sl__seg_unref(slice->seg);
    }
    slice->seg = NULL;
    slice->fd = -1;
}

int sl_log_read_copy(struct sl_log *log, int64_t offset, int64_t max_bytes, int64_t max_offset,
                     int min_one, uint8_t **buf, size_t *len, int64_t *next_offset,
                     struct sl_err *err)
{
    struct sl_log_slice sl;
    *buf = NULL;
    *len = 0;
    int rc = sl_log_read(log, offset, max_bytes, max_offset, min_one, &sl, err);
    if (next_offset) {
        *next_offset = sl.next_offset;
    }
    if (rc != 0 || sl.length == 0) {
        sl_log_slice_release(&sl);
        return rc;
    }
    *buf = malloc((size_t)sl.length);
    if (!*buf) {
        sl_log_slice_release(&sl);
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    ssize_t n = sl_io_pread(sl.fd, *buf, (size_t)sl.length, sl.position);
    sl_log_slice_release(&sl);
    if (n != (ssize_t)sl.length) {
        free(*buf);
        *buf = NULL;
        rc = n < 0 ? (int)n : -EIO;
        return sl_err_set(err, rc, "reading segment: %s", sl_strerror(rc));
    }
    *len = (size_t)n;
    return 0;
}

/* ---- roll, flush ---- */

int sl_log_roll(struct sl_log *log, struct sl_err *err)
{
    pthread_mutex_lock(&log->mu);
    int rc = log->failed ? poisoned(log, err)
             : active(log)->size == 0 ? 0
                                      : sl__log_roll_locked(log, sl_now_ms(), err);
    pthread_mutex_unlock(&log->mu);
    return rc;
}

int sl_log_flush(struct sl_log *log, struct sl_err *err)
{
    pthread_mutex_lock(&log->mu);
    if (log->failed) {
        int rc = poisoned(log, err);
        pthread_mutex_unlock(&log->mu);
        return rc;
    }
    /* Take references so retention or truncation cannot close the files under us. */
    struct sl_seg *dirty[64];
    size_t n = 0;
    int more = 0;
    for (size_t i = sl__log_seg_floor(log, log->recovery_point); i < log->nsegs; i++) {
        struct sl_seg *seg = log->segs[i];
        if (!seg->dirty) {
            continue;
        }
        if (n == SL_ARRAY_SIZE(dirty)) {
            more = 1;
            break;
        }
        seg->dirty = 0;
        sl__seg_ref(seg);
        dirty[n++] = seg;
    }
    int64_t target = log->leo;
    int dir_dirty = log->dir_dirty;
    log->dir_dirty = 0;
    log->unflushed_records = 0;
    log->last_flush_mono_ms = sl_mono_ms();
    /* Index files of segments that are no longer active go out before the recovery point
     * passes them: after a crash only segments past the recovery point are rebuilt. A torn
     * index file is still caught by the sanity check on load. */
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (dirty[i] != active(log)) {
            rc = sl__index_write(&dirty[i]->idx, dirty[i]->path, 0);
        }
    }
    pthread_mutex_unlock(&log->mu);

    /* Crash after the recovery point advances but before data is on disk would skip
     * recovery of torn batches: sync first, advance after. */
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            rc = sl_io_fdatasync(dirty[i]->fd);
        }
        sl__seg_unref(dirty[i]);
    }
    /* A segment file created since the last flush: without the directory sync a crash can
     * lose its name even though its data was synced. */
    if (rc == 0 && dir_dirty) {
        rc = sl_io_fsync_dir(log->dir);
    }

    pthread_mutex_lock(&log->mu);
    if (rc != 0) {
        sl__log_poison(log, rc, "flushing");
        sl_err_set(err, rc, "%s", log->failed_msg);
    } else if (!more) {
        log->recovery_point = SL_MAX(log->recovery_point, SL_MIN(target, log->leo));
    }
    pthread_mutex_unlock(&log->mu);
    return rc != 0 ? rc : more ? sl_log_flush(log, err) : 0;
}

int sl_log_maybe_flush(struct sl_log *log, int64_t now_mono_ms, struct sl_err *err)
{
    pthread_mutex_lock(&log->mu);
    int due = !log->failed && log->recovery_point < log->leo &&
              now_mono_ms - log->last_flush_mono_ms >= log->cfg.flush_ms;
    pthread_mutex_unlock(&log->mu);
    return due ? sl_log_flush(log, err) : 0;
}

/* ---- truncation ---- */

static int truncate_locked(struct sl_log *log, int64_t offset, struct sl_err *err)
{
    if (offset >= log->leo) {
        return 0;
    }
    size_t i = sl__log_seg_floor(log, offset);
    struct sl_seg *seg = log->segs[i];
    struct sl_batch_hdr h;
    int found;
    int64_t pos = sl__seg_find(log, seg, offset, &found, &h, err);
    if (pos < 0) {
        return (int)pos;
    }
    int64_t new_leo = found ? h.base_offset : seg->next;
    if (i + 1 < log->nsegs) {
        sl__log_remove_segs(log, i + 1, log->nsegs - i - 1);
    }
    int rc = sl_io_ftruncate(seg->fd, pos);
    if (rc != 0) {
        sl__log_poison(log, rc, "truncating segment");
        return sl_err_set(err, rc, "%s", log->failed_msg);
    }
    seg->size = pos;
    seg->next = SL_MAX(new_leo, seg->base);
    seg->dirty = 1;
    sl__index_truncate(&seg->idx, seg->base, pos, seg->next);
    seg->bytes_since_index = 0;
    if (seg->idx.tn > 0) {
        seg->max_ts = seg->idx.t[seg->idx.tn - 1].ts;
        seg->max_ts_offset = seg->base + seg->idx.t[seg->idx.tn - 1].rel;
    } else {
        seg->max_ts = -1;
        seg->max_ts_offset = seg->base;
    }
    if (pos == 0) {
        seg->first_ts = -1;
    }
    log->leo = seg->next;
    log->hw = SL_MIN(log->hw, log->leo);
    log->recovery_point = SL_MIN(log->recovery_point, log->leo);
    /* The index files must not keep entries past the cut. */
    rc = sl__index_write(&seg->idx, seg->path, 1);
    if (rc == 0) {
        rc = sl__epoch_truncate_end_locked(log, log->leo);
    }
    if (rc != 0) {
        sl__log_poison(log, rc, "truncating");
        return sl_err_set(err, rc, "%s", log->failed_msg);
    }
    return 0;
}

int sl_log_truncate_to(struct sl_log *log, int64_t offset, struct sl_err *err)
{
    pthread_mutex_lock(&log->mu);
    int rc = log->failed ? poisoned(log, err) : 0;
    if (rc == 0 && offset < log->log_start) {
        pthread_mutex_unlock(&log->mu);
        return sl_log_truncate_fully(log, offset, err);
    }
    if (rc == 0) {
        rc = truncate_locked(log, offset, err);
    }
    pthread_mutex_unlock(&log->mu);
    return rc;
}

int sl_log_truncate_fully(struct sl_log *log, int64_t offset, struct sl_err *err)
{
    pthread_mutex_lock(&log->mu);
    int rc = log->failed ? poisoned(log, err) : 0;
    if (rc == 0) {
        /* Old files go first: the new segment may reuse one of their names. If creating it
         * fails the log is poisoned with no segments; every writer checks `failed` first. */
        sl__log_remove_segs(log, 0, log->nsegs);
        struct sl_seg *seg = sl__seg_create(log->dir, offset, sl_now_ms(), &rc);
        if (!seg || (rc = push_seg(log, seg)) != 0) {
            sl__seg_unref(seg);
            sl__log_poison(log, rc, "creating segment");
            sl_err_set(err, rc, "%s", log->failed_msg);
        } else {
            log->log_start = log->leo = log->hw = log->recovery_point = offset;
            log->nepochs = 0; /* Kafka clears the cache too: none of those epochs' data remain */
            rc = sl__epoch_truncate_end_locked(log, offset);
        }
    }
    pthread_mutex_unlock(&log->mu);
    return rc;
}

/* ---- accessors ---- */

#define LOCKED_GET(type, expr)                                                                     \
    pthread_mutex_lock(&log->mu);                                                                  \
    type v_ = (expr);                                                                              \
    pthread_mutex_unlock(&log->mu);                                                                \
    return v_

void sl_log_set_config(struct sl_log *log, const struct sl_log_config *cfg)
{
    pthread_mutex_lock(&log->mu);
    log->cfg = *cfg;
    pthread_mutex_unlock(&log->mu);
}

void sl_log_get_config(struct sl_log *log, struct sl_log_config *cfg)
{
    pthread_mutex_lock(&log->mu);
    *cfg = log->cfg;
    pthread_mutex_unlock(&log->mu);
}

int64_t sl_log_end_offset(struct sl_log *log)
{
    LOCKED_GET(int64_t, log->leo);
}

int64_t sl_log_start_offset(struct sl_log *log)
{
    LOCKED_GET(int64_t, log->log_start);
}

int64_t sl_log_high_watermark(struct sl_log *log)
{
    LOCKED_GET(int64_t, log->hw);
}

void sl_log_set_high_watermark(struct sl_log *log, int64_t hw)
{
    pthread_mutex_lock(&log->mu);
    log->hw = SL_MAX(log->log_start, SL_MIN(hw, log->leo));
    pthread_mutex_unlock(&log->mu);
}

int64_t sl_log_recovery_point(struct sl_log *log)
{
    LOCKED_GET(int64_t, log->recovery_point);
}

static int64_t size_locked(const struct sl_log *log)
{
    int64_t total = 0;
    for (size_t i = 0; i < log->nsegs; i++) {
        total += log->segs[i]->size;
    }
    return total;
}

int64_t sl_log_size_bytes(struct sl_log *log)
{
    LOCKED_GET(int64_t, size_locked(log));
}

int sl_log_segment_count(struct sl_log *log)
{
    LOCKED_GET(int, (int)log->nsegs);
}

const char *sl_log_dir(const struct sl_log *log)
{
    return log->dir;
}

const char *sl_log_topic(const struct sl_log *log)
{
    return log->topic;
}

int32_t sl_log_partition(const struct sl_log *log)
{
    return log->partition;
}

int sl_log_failed(struct sl_log *log, char *msg, size_t msg_len)
{
    pthread_mutex_lock(&log->mu);
    int failed = log->failed;
    if (failed && msg) {
        snprintf(msg, msg_len, "%s", log->failed_msg);
    }
    pthread_mutex_unlock(&log->mu);
    return failed;
}
