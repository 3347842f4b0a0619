/*
 * file_repair.c - before the store recovers the channel's log after an unclean stop, turn
 * each corrupt batch that has valid data after it into a filler batch, so that only a torn
 * tail is ever cut.
 *
 * Why: the store's recovery truncates a partition at the first invalid byte and deletes the
 * segments after it. For a broker replica that is right (the leader has the rest); for the
 * channel, every batch before the last fsync was acknowledged to a sender, so one damaged
 * batch (a bad sector, a stray write) must cost only its own events, never the ones after it,
 * and never a crash loop. A filler has the same size and covers the same offsets as what it
 * replaces, carries producerId SL_FC_FILLER_PID, and is skipped (and counted) by readers.
 *
 * Runs once, in file.c's open, before the log is opened: nothing else touches the files.
 * Crash safety: the filler is written over bytes that were invalid already and fdatasync'ed
 * before the store's recovery runs; a crash in between leaves either the corrupt batch (found
 * again next time) or the filler.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/file/file_int.h"
#include "common/sl_macros.h"
#include "store/batch.h"
#include "store/io.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Base offsets of the .log segments in dir, sorted. */
static int list_bases(const char *dir, int64_t **out, size_t *n)
{
    DIR *d = opendir(dir);
    *out = NULL;
    *n = 0;
    if (!d) {
        return -errno;
    }
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *s = e->d_name;
        if (strlen(s) != 24 || strcmp(s + 20, ".log") != 0 || strspn(s, "0123456789") != 20) {
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *nb = realloc(*out, cap * sizeof(*nb));
            if (!nb) {
                closedir(d);
                return -ENOMEM;
            }
            *out = nb;
        }
        (*out)[(*n)++] = strtoll(s, NULL, 10);
    }
    closedir(d);
    qsort(*out, *n, sizeof(**out), cmp_i64);
    return 0;
}

/* A valid batch at buf[0..avail) with offsets in [min_base, limit)? Fills h. */
static int valid_at(const uint8_t *buf, size_t avail, int64_t min_base, int64_t limit,
                    struct sl_batch_hdr *h)
{
    if (avail < SL_BATCH_HEADER_SIZE || buf[SL_BATCH_OFF_MAGIC] != SL_BATCH_MAGIC) {
        return 0;
    }
    if (sl_batch_parse_header(buf, avail, h, NULL) != 0 || sl_batch_hdr_size(h) > avail) {
        return 0;
    }
    return sl_batch_validate(buf, sl_batch_hdr_size(h), h, NULL) == 0 &&
           h->base_offset >= min_base && sl_batch_hdr_last_offset(h) < limit;
}

/*
 * A filler of exactly `size` bytes covering offsets [base, base + count). Returns a malloc'd
 * batch or NULL when size cannot be hit (too small).
 */
/* A filler batch with one record whose value has v bytes (and a one-byte key when key). */
static uint8_t *build_filler(int64_t v, int key, int64_t base, int64_t now_ms, size_t *len)
{
    struct sl_batch_builder b;
    uint8_t *out = NULL;
    *len = 0;
    if (v < 0 || sl_batch_builder_init(&b, base, now_ms) != 0) {
        return NULL;
    }
    uint8_t *val = calloc(1, (size_t)v + 1);
    int rc = val ? sl_batch_builder_add(&b, now_ms, key ? "x" : NULL, key ? 1 : -1, val, (int32_t)v,
                                        NULL, 0)
                 : -ENOMEM;
    free(val);
    b.producer_id = SL_FC_FILLER_PID;
    if (rc == 0) {
        rc = sl_batch_builder_finish(&b, &out, len);
    }
    sl_batch_builder_fini(&b);
    return rc == 0 ? out : NULL;
}

/*
 * A filler of exactly `size` bytes covering offsets [base, base + count). Returns a malloc'd
 * batch or NULL when size cannot be hit (too small).
 */
static uint8_t *make_filler(size_t size, int64_t base, int64_t count, int64_t now_ms)
{
    if (size < 80 || count < 1 || count - 1 > INT32_MAX) {
        return NULL;
    }
    /* The value's length moves the batch size one for one, except where a varint grows by a
     * byte; a one-byte key adds two bytes, which steps over such a gap. */
    size_t len;
    uint8_t *out = build_filler((int64_t)size - 80, 0, base, now_ms, &len);
    if (!out) {
        return NULL;
    }
    free(out);
    int64_t v0 = (int64_t)size - 80 + ((int64_t)size - (int64_t)len);
    for (int d = 0; d < 4; d++) {
        for (int key = 0; key < 2; key++) {
            out = build_filler(v0 - d - 2 * key, key, base, now_ms, &len);
            if (out && len == size) {
                sl_batch_set_base_offset(out, base);
                sl_store_be32(out + SL_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(count - 1));
                sl_batch_update_crc(out, len);
                return out;
            }
            free(out);
        }
    }
    return NULL;
}

/* Replace [pos, pos + size) of fd by a filler for offsets [base, end). 1 done, 0 not. */
static int write_filler(int fd, int64_t pos, size_t size, int64_t base, int64_t end,
                        struct sl_fc_repair_info *info, const char *path, const char *why)
{
    uint8_t *f = make_filler(size, base, end - base, sl_now_ms());
    if (!f) {
        return 0;
    }
    int rc = sl_io_pwrite_all(fd, f, size, pos);
    free(f);
    if (rc != 0) {
        return rc;
    }
    info->batches_replaced++;
    info->events_lost += end - base;
    if (!info->first_error[0]) {
        snprintf(info->first_error, sizeof(info->first_error),
                 "%.200s position %" PRId64 ": %.120s (offsets %" PRId64 "..%" PRId64 ")", path,
                 pos, why, base, end - 1);
    }
    return 1;
}

/* Is there a valid first batch in the segment with this base? */
static int segment_starts_valid(const char *dir, int64_t base, int64_t limit)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%020" PRId64 ".log", dir, base);
    int fd = sl_io_open(path, O_RDONLY, 0);
    if (fd < 0) {
        return 0;
    }
    uint8_t hdr[SL_BATCH_HEADER_SIZE];
    struct sl_batch_hdr h;
    int ok = 0;
    if (sl_io_pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) &&
        sl_batch_parse_header(hdr, sizeof(hdr), &h, NULL) == 0) {
        size_t size = sl_batch_hdr_size(&h);
        uint8_t *b = malloc(size);
        ok =
            b && sl_io_pread(fd, b, size, 0) == (ssize_t)size && valid_at(b, size, base, limit, &h);
        free(b);
    }
    sl_io_close(fd);
    return ok;
}

/* Scan one segment; repair what can be repaired. Returns 0 or -errno. */
static int repair_segment(const char *dir, int64_t base, int64_t limit, int next_valid,
                          struct sl_fc_repair_info *info)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%020" PRId64 ".log", dir, base);
    int fd = sl_io_open(path, O_RDWR, 0);
    if (fd < 0) {
        return fd == -ENOENT ? 0 : fd;
    }
    int64_t size = sl_io_fsize(fd);
    int64_t pos = 0, expect = base;
    int rc = 0, wrote = 0;
    uint8_t hdr[SL_BATCH_HEADER_SIZE];
    uint8_t *buf = NULL;
    while (rc == 0 && size > 0 && pos < size) {
        struct sl_batch_hdr h;
        size_t bsize = 0;
        int ok = 0;
        if (sl_io_pread(fd, hdr, sizeof(hdr), pos) == (ssize_t)sizeof(hdr) &&
            sl_batch_parse_header(hdr, sizeof(hdr), &h, NULL) == 0 &&
            (int64_t)sl_batch_hdr_size(&h) <= size - pos) {
            bsize = sl_batch_hdr_size(&h);
            free(buf);
            buf = malloc(bsize);
            ok = buf && sl_io_pread(fd, buf, bsize, pos) == (ssize_t)bsize &&
                 valid_at(buf, bsize, expect, limit, &h) && h.base_offset == expect;
        }
        if (ok) {
            expect = sl_batch_hdr_last_offset(&h) + 1;
            pos += (int64_t)bsize;
            continue;
        }
        /* Invalid at pos: look for the next valid batch in the rest of this segment. */
        size_t rest = (size_t)(size - pos);
        free(buf);
        buf = malloc(rest);
        if (!buf || sl_io_pread(fd, buf, rest, pos) != (ssize_t)rest) {
            rc = buf ? -EIO : -ENOMEM;
            break;
        }
        size_t q = 1;
        for (; q + SL_BATCH_HEADER_SIZE <= rest; q++) {
            if (valid_at(buf + q, rest - q, expect + 1, limit, &h)) {
                break;
            }
        }
        if (q + SL_BATCH_HEADER_SIZE <= rest) {
            int w = write_filler(fd, pos, q, expect, h.base_offset, info, path, "corrupt batch");
            if (w <= 0) {
                rc = w;
                break; /* cannot fill: leave it to the store's recovery */
            }
            wrote = 1;
            pos += (int64_t)q;
            expect = h.base_offset;
            continue;
        }
        /* Nothing valid after it here: a filler up to the segment's end only when a later
         * segment holds valid data; otherwise this is the torn tail the store will cut. */
        if (next_valid && limit > expect) {
            int w = write_filler(fd, pos, rest, expect, limit, info, path,
                                 "corrupt data up to the end of the segment");
            rc = w < 0 ? w : 0;
            wrote |= w > 0;
        }
        break;
    }
    free(buf);
    if (rc == 0 && wrote) {
        rc = sl_io_fdatasync(fd);
    }
    sl_io_close(fd);
    return rc;
}

int sl_fc_repair(const char *log_dir, int64_t from, int active_only, struct sl_fc_repair_info *info)
{
    int64_t *bases;
    size_t n;
    int rc = list_bases(log_dir, &bases, &n);
    if (rc != 0) {
        return rc == -ENOENT ? 0 : rc;
    }
    size_t first = 0;
    while (first + 1 < n && bases[first + 1] <= from) {
        first++;
    }
    if (active_only && n > 0) {
        first = n - 1;
    }
    for (size_t i = first; i < n && rc == 0; i++) {
        int64_t limit = i + 1 < n ? bases[i + 1] : INT64_MAX;
        int next_valid = i + 1 < n && segment_starts_valid(log_dir, bases[i + 1],
                                                           i + 2 < n ? bases[i + 2] : INT64_MAX);
        rc = repair_segment(log_dir, bases[i], limit, next_valid, info);
    }
    free(bases);
    return rc;
}
