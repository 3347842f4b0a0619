/*
 * lookup.c - ListOffsets: the first record at or after a timestamp. Segments are skipped by
 * their largest timestamp, the time index narrows the start inside a segment, then batches
 * are walked and, for the one that crosses the timestamp, records are decoded (decompressed
 * if needed). Guarded by the log's mutex.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "../common/sl_macros.h"
#include "compress.h"
#include "log_int.h"

/* Offset/timestamp of the first record >= ts inside the whole batch at bytes. */
static int first_record_at(const uint8_t *bytes, const struct sl_batch_hdr *h, int64_t ts,
                           int64_t *offset, int64_t *found_ts, struct sl_err *err)
{
    if (h->attributes & SL_BATCH_ATTR_LOG_APPEND_TIME) {
        /* Every record carries the batch's append time. */
        *offset = h->base_offset;
        *found_ts = h->max_timestamp;
        return 0;
    }
    const uint8_t *recs;
    size_t len;
    int owned;
    int rc = sl_batch_records(bytes, h, (size_t)SL_BATCH_SIZE_MAX, &recs, &len, &owned, err);
    if (rc != 0) {
        return rc;
    }
    struct sl_rec_iter it;
    struct sl_record r;
    sl_rec_iter_init(&it, recs, len, h->record_count);
    *offset = -1;
    while ((rc = sl_rec_iter_next(&it, &r, err)) == 1) {
        if (h->base_timestamp + r.timestamp_delta >= ts) {
            *offset = h->base_offset + r.offset_delta;
            *found_ts = h->base_timestamp + r.timestamp_delta;
            rc = 0;
            break;
        }
    }
    if (owned) {
        free((void *)recs);
    }
    return rc < 0 ? rc : 0;
}

static int search_segment(struct sl_log *log, struct sl_seg *seg, int64_t ts, int64_t *offset,
                          int64_t *found_ts, struct sl_err *err)
{
    int64_t from = sl__index_lookup_time(&seg->idx, seg->base, ts);
    int64_t pos = sl__index_lookup(&seg->idx, seg->base, from);
    struct sl__scan s;
    struct sl_batch_hdr h;
    const uint8_t *bytes;
    int rc;
    sl__scan_init(&s, seg->fd, pos, seg->size, 1 << 20);
    while ((rc = sl__scan_next(&s, 1, &h, &bytes, err)) == 1) {
        if (h.max_timestamp >= ts && sl_batch_hdr_last_offset(&h) >= log->log_start) {
            rc = first_record_at(bytes, &h, ts, offset, found_ts, err);
            if (rc == 0 && *offset >= 0 && *offset < log->log_start) {
                *offset = log->log_start;
            }
            if (rc != 0 || *offset >= 0) {
                break;
            }
        }
    }
    sl__scan_fini(&s);
    return rc < 0 ? rc : 0;
}

int sl_log_offset_for_time(struct sl_log *log, int64_t ts, int64_t *offset, int64_t *found_ts,
                           struct sl_err *err)
{
    pthread_mutex_lock(&log->mu);
    int rc = 0;
    *offset = -1;
    *found_ts = -1;
    if (ts == SL_TS_EARLIEST) {
        *offset = log->log_start;
    } else if (ts == SL_TS_LATEST) {
        *offset = log->leo;
    } else {
        for (size_t i = 0; i < log->nsegs && *offset < 0 && rc == 0; i++) {
            struct sl_seg *seg = log->segs[i];
            if ((rc = sl__seg_ensure_index(log, seg)) != 0 || seg->size == 0 ||
                seg->max_ts < ts) {
                continue;
            }
            rc = search_segment(log, seg, ts, offset, found_ts, err);
        }
    }
    pthread_mutex_unlock(&log->mu);
    return rc;
}
