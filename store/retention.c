/*
 * retention.c - deleting whole segments by retention.ms and retention.bytes, oldest first.
 * Never the active segment, never data at or above the high watermark (a follower may still
 * need it, and consumers have not been allowed to read it). Guarded by the log's mutex;
 * deleted segments stay open for slices that still reference them.
 */
#include <inttypes.h>

#include "../common/sl_macros.h"
#include "log_int.h"

/* How many of the oldest segments may go (the active one is not counted). */
static size_t deletable(struct sl_log *log, int64_t now_ms)
{
    size_t n = 0;
    int64_t size = 0;
    for (size_t i = 0; i < log->nsegs; i++) {
        size += log->segs[i]->size;
    }
    int64_t excess = log->cfg.retention_bytes < 0 ? 0 : size - log->cfg.retention_bytes;
    for (size_t i = 0; i < log->nsegs; i++) {
        struct sl_seg *seg = log->segs[i];
        int64_t seg_end = i + 1 < log->nsegs ? log->segs[i + 1]->base : log->leo;
        if (seg->size == 0 || seg_end > log->hw) {
            break;
        }
        int by_time = log->cfg.retention_ms >= 0 &&
                      now_ms - sl__seg_largest_ts(log, seg) > log->cfg.retention_ms;
        int by_size = excess > 0 && excess - seg->size >= 0;
        if (!by_time && !by_size) {
            break;
        }
        excess -= seg->size;
        n++;
    }
    return n;
}

/* Remove the n oldest segments (n < nsegs) and move the log start to the next one's base. */
static int drop_oldest_locked(struct sl_log *log, size_t n)
{
    if (n == 0) {
        return 0;
    }
    int64_t new_start = log->segs[n]->base;
    sl__log_remove_segs(log, 0, n);
    log->log_start = SL_MAX(log->log_start, new_start);
    return sl__epoch_truncate_start_locked(log, log->log_start);
}

int sl_log_retain(struct sl_log *log, int64_t now_ms, struct sl_err *err)
{
    pthread_mutex_lock(&log->mu);
    if (log->failed) {
        pthread_mutex_unlock(&log->mu);
        return 0;
    }
    size_t n = deletable(log, now_ms);
    int rc = 0;
    if (n == log->nsegs) {
        /* Every segment expired: roll so the active one can go too, leaving an empty log at
         * the same end offset (Kafka does the same). */
        rc = sl__log_roll_locked(log, now_ms, err);
    }
    n = SL_MIN(n, log->nsegs - 1);
    if (rc == 0) {
        rc = drop_oldest_locked(log, n);
    }
    pthread_mutex_unlock(&log->mu);
    return rc != 0 ? rc : (int)n;
}

int sl_log_delete_before(struct sl_log *log, int64_t offset, struct sl_err *err)
{
    pthread_mutex_lock(&log->mu);
    if (log->failed) {
        int rc = sl_err_set(err, SL_EFAILED, "log failed earlier: %s", log->failed_msg);
        pthread_mutex_unlock(&log->mu);
        return rc;
    }
    /* Segment i ends where segment i + 1 begins; the active segment always stays. */
    size_t n = 0;
    while (n + 1 < log->nsegs && log->segs[n + 1]->base <= offset) {
        n++;
    }
    int rc = drop_oldest_locked(log, n);
    pthread_mutex_unlock(&log->mu);
    return rc != 0 ? rc : (int)n;
}
