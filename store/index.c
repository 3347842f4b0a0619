/*
 * index.c - a segment's sparse offset index (.index) and time index (.timeindex), kept in
 * memory in host order and mirrored to Kafka's big-endian files. The files are never
 * trusted: sl__index_load checks every entry against the segment and refuses anything odd,
 * and the caller then rebuilds from the log. Guarded by the owning log's mutex.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/sl_macros.h"
#include "io.h"
#include "log_int.h"

void sl__index_fini(struct sl_index *idx)
{
    free(idx->o);
    free(idx->t);
    memset(idx, 0, sizeof(*idx));
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return 0;
    }
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need) {
        ncap *= 2;
    }
    void *n = realloc(*arr, ncap * elem);
    if (!n) {
        return -ENOMEM;
    }
    *arr = n;
    *cap = ncap;
    return 0;
}

int sl__index_add_time(struct sl_index *idx, int64_t seg_base, int64_t ts, int64_t offset)
{
    /* Kafka's time index only grows: an entry is added when the max timestamp rises. */
    if (idx->tn > 0 && ts <= idx->t[idx->tn - 1].ts) {
        return 0;
    }
    if (grow((void **)&idx->t, &idx->tcap, idx->tn + 1, sizeof(*idx->t)) != 0) {
        return -ENOMEM;
    }
    idx->t[idx->tn++] = (struct sl_tidx_entry){ts, (int32_t)(offset - seg_base)};
    return 0;
}

int sl__index_add(struct sl_index *idx, int64_t seg_base, int64_t last_offset, int64_t pos,
                  int64_t max_ts, int64_t max_ts_offset)
{
    if (grow((void **)&idx->o, &idx->ocap, idx->on + 1, sizeof(*idx->o)) != 0) {
        return -ENOMEM;
    }
    idx->o[idx->on++] = (struct sl_oidx_entry){(int32_t)(last_offset - seg_base), (int32_t)pos};
    if (max_ts >= 0) {
        return sl__index_add_time(idx, seg_base, max_ts, max_ts_offset);
    }
    return 0;
}

static int32_t rel_clamp(int64_t offset, int64_t seg_base)
{
    int64_t rel = offset - seg_base;
    return rel > INT32_MAX ? INT32_MAX : rel < 0 ? -1 : (int32_t)rel;
}

int64_t sl__index_lookup(const struct sl_index *idx, int64_t seg_base, int64_t offset)
{
    int32_t rel = rel_clamp(offset, seg_base);
    /* Largest entry with rel <= target. */
    size_t lo = 0, hi = idx->on;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx->o[mid].rel <= rel) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo == 0 ? 0 : idx->o[lo - 1].pos;
}

int64_t sl__index_floor_pos(const struct sl_index *idx, int64_t seg_base, int64_t pos_limit,
                            int64_t offset_limit)
{
    /* Positions and offsets both increase, so the entries meeting both limits form a prefix. */
    int32_t rel = rel_clamp(offset_limit, seg_base);
    size_t lo = 0, hi = idx->on;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx->o[mid].pos <= pos_limit && idx->o[mid].rel < rel) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo == 0 ? 0 : idx->o[lo - 1].pos;
}

int64_t sl__index_lookup_time(const struct sl_index *idx, int64_t seg_base, int64_t ts)
{
    /* Largest entry with ts < target: records at or after its offset may still be older than
     * the target, but none before that entry's batch can reach it. */
    size_t lo = 0, hi = idx->tn;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx->t[mid].ts < ts) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo == 0 ? seg_base : seg_base + idx->t[lo - 1].rel;
}

void sl__index_truncate(struct sl_index *idx, int64_t seg_base, int64_t pos, int64_t next)
{
    size_t on = idx->on, tn = idx->tn;
    while (idx->on > 0 && idx->o[idx->on - 1].pos >= pos) {
        idx->on--;
    }
    while (idx->tn > 0 && seg_base + idx->t[idx->tn - 1].rel >= next) {
        idx->tn--;
    }
    if (idx->on != on || idx->tn != tn) {
        idx->stale = 1;
        idx->o_written = SL_MIN(idx->o_written, idx->on);
        idx->t_written = SL_MIN(idx->t_written, idx->tn);
    }
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = sl_io_open(path, O_RDONLY, 0);
    if (fd < 0) {
        return fd;
    }
    int64_t size = sl_io_fsize(fd);
    int rc = size < 0 ? (int)size : 0;
    if (rc == 0 && size > 0) {
        *out = malloc((size_t)size);
        if (!*out) {
            rc = -ENOMEM;
        } else {
            ssize_t n = sl_io_pread(fd, *out, (size_t)size, 0);
            rc = n < 0 ? (int)n : n != size ? -EIO : 0;
            *len = (size_t)size;
        }
    }
    sl_io_close(fd);
    if (rc != 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

static int load_offsets(struct sl_index *idx, const uint8_t *b, size_t len, int64_t seg_base,
                        int64_t seg_size, int64_t seg_next)
{
    if (len % SL_OIDX_ENTRY != 0) {
        return SL_ECORRUPT;
    }
    size_t n = len / SL_OIDX_ENTRY;
    if (grow((void **)&idx->o, &idx->ocap, n, sizeof(*idx->o)) != 0) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        int32_t rel = (int32_t)sl_load_be32(b + i * 8);
        int32_t pos = (int32_t)sl_load_be32(b + i * 8 + 4);
        if (i > 0 && rel == 0 && pos == 0) {
            break; /* zero-filled preallocated tail (Kafka after an unclean stop) */
        }
        struct sl_oidx_entry *prev = idx->on ? &idx->o[idx->on - 1] : NULL;
        if (rel < 0 || pos < 0 || pos >= seg_size || seg_base + rel >= seg_next ||
            (prev && (rel <= prev->rel || pos <= prev->pos))) {
            return SL_ECORRUPT;
        }
        idx->o[idx->on++] = (struct sl_oidx_entry){rel, pos};
    }
    return 0;
}

static int load_times(struct sl_index *idx, const uint8_t *b, size_t len, int64_t seg_base,
                      int64_t seg_next)
{
    if (len % SL_TIDX_ENTRY != 0) {
        return SL_ECORRUPT;
    }
    size_t n = len / SL_TIDX_ENTRY;
    if (grow((void **)&idx->t, &idx->tcap, n, sizeof(*idx->t)) != 0) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t ts = (int64_t)sl_load_be64(b + i * 12);
        int32_t rel = (int32_t)sl_load_be32(b + i * 12 + 8);
        if (i > 0 && ts == 0 && rel == 0) {
            break;
        }
        struct sl_tidx_entry *prev = idx->tn ? &idx->t[idx->tn - 1] : NULL;
        if (rel < 0 || seg_base + rel >= seg_next ||
            (prev && (ts < prev->ts || rel < prev->rel))) {
            return SL_ECORRUPT;
        }
        idx->t[idx->tn++] = (struct sl_tidx_entry){ts, rel};
    }
    return 0;
}

int sl__index_load(struct sl_index *idx, const char *seg_path, int64_t seg_base,
                   int64_t seg_size, int64_t seg_next)
{
    char path[PATH_MAX];
    uint8_t *b;
    size_t len;
    snprintf(path, sizeof(path), "%s.index", seg_path);
    int rc = read_file(path, &b, &len);
    if (rc == 0) {
        rc = load_offsets(idx, b, len, seg_base, seg_size, seg_next);
        free(b);
    }
    if (rc == 0) {
        snprintf(path, sizeof(path), "%s.timeindex", seg_path);
        rc = read_file(path, &b, &len);
        if (rc == 0) {
            rc = load_times(idx, b, len, seg_base, seg_next);
            free(b);
        }
    }
    if (rc != 0) {
        idx->on = idx->tn = 0;
        return rc;
    }
    /* A non-empty segment whose index is empty is suspicious only when the segment is
     * larger than one interval; the caller decides (an empty index is always correct). */
    idx->o_written = idx->on;
    idx->t_written = idx->tn;
    idx->stale = 0;
    return 0;
}

static int write_tail(const char *path, const void *entries, size_t from, size_t n,
                      size_t esize, int rewrite, void (*enc)(uint8_t *, const void *, size_t))
{
    int fd = sl_io_open(path, O_WRONLY | O_CREAT | (rewrite ? O_TRUNC : 0), 0644);
    if (fd < 0) {
        return fd;
    }
    int rc = 0;
    if (n > from) {
        size_t len = (n - from) * esize;
        uint8_t *buf = malloc(len);
        if (!buf) {
            rc = -ENOMEM;
        } else {
            for (size_t i = from; i < n; i++) {
                enc(buf + (i - from) * esize, entries, i);
            }
            rc = sl_io_pwrite_all(fd, buf, len, (off_t)(from * esize));
            free(buf);
        }
    }
    if (rc == 0) {
        /* Trim anything beyond the entries (a preallocated or longer older file). */
        rc = sl_io_ftruncate(fd, (off_t)(n * esize));
    }
    sl_io_close(fd);
    return rc;
}

static void enc_o(uint8_t *p, const void *entries, size_t i)
{
    const struct sl_oidx_entry *e = (const struct sl_oidx_entry *)entries + i;
    sl_store_be32(p, (uint32_t)e->rel);
    sl_store_be32(p + 4, (uint32_t)e->pos);
}

static void enc_t(uint8_t *p, const void *entries, size_t i)
{
    const struct sl_tidx_entry *e = (const struct sl_tidx_entry *)entries + i;
    sl_store_be64(p, (uint64_t)e->ts);
    sl_store_be32(p + 8, (uint32_t)e->rel);
}

int sl__index_write(struct sl_index *idx, const char *seg_path, int rewrite)
{
    rewrite = rewrite || idx->stale;
    if (!rewrite && idx->o_written == idx->on && idx->t_written == idx->tn) {
        return 0;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s.index", seg_path);
    int rc = write_tail(path, idx->o, rewrite ? 0 : idx->o_written, idx->on, SL_OIDX_ENTRY,
                        rewrite, enc_o);
    if (rc == 0) {
        snprintf(path, sizeof(path), "%s.timeindex", seg_path);
        rc = write_tail(path, idx->t, rewrite ? 0 : idx->t_written, idx->tn, SL_TIDX_ENTRY,
                        rewrite, enc_t);
    }
    if (rc == 0) {
        idx->o_written = idx->on;
        idx->t_written = idx->tn;
        idx->stale = 0;
    }
    return rc;
}
