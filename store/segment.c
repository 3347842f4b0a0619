/*
 * segment.c - one segment: a .log file of record batches plus its indexes. Scanning batch
 * headers in large windows, locating an offset, tracking appended batches in the indexes,
 * and sealing a segment when it stops being active. Guarded by the owning log's mutex,
 * except the reference count (atomic) and the fd a slice holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/sl_macros.h"
#include "io.h"
#include "log_int.h"

/* ---- scanning ---- */

void sl__scan_init(struct sl__scan *s, int fd, int64_t pos, int64_t end, size_t window)
{
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    s->pos = pos;
    s->end = end;
    s->cap = window;
}

void sl__scan_fini(struct sl__scan *s)
{
    free(s->buf);
    s->buf = NULL;
}

/* Make bytes [pos, pos+need) available in the window; returns a pointer or NULL (rc set). */
static const uint8_t *window(struct sl__scan *s, int64_t pos, size_t need, int *rc)
{
    if (s->buf && pos >= s->buf_pos && pos + (int64_t)need <= s->buf_pos + (int64_t)s->buf_len) {
        return s->buf + (pos - s->buf_pos);
    }
    size_t want = SL_MAX(need, s->cap);
    if (want > (size_t)(s->end - pos)) {
        want = (size_t)(s->end - pos);
    }
    if (want < need) {
        *rc = SL_ETRUNCATED;
        return NULL;
    }
    if (!s->buf || s->cap < want) {
        uint8_t *n = realloc(s->buf, want);
        if (!n) {
            *rc = -ENOMEM;
            return NULL;
        }
        s->buf = n;
        s->cap = want;
    }
    ssize_t got = sl_io_pread(s->fd, s->buf, want, pos);
    if (got < 0) {
        *rc = (int)got;
        return NULL;
    }
    s->buf_pos = pos;
    s->buf_len = (size_t)got;
    if ((size_t)got < need) {
        *rc = SL_ETRUNCATED;
        return NULL;
    }
    return s->buf;
}

int sl__scan_next(struct sl__scan *s, int full, struct sl_batch_hdr *h, const uint8_t **bytes,
                  struct sl_err *err)
{
    if (s->pos >= s->end) {
        return 0;
    }
    int rc = 0;
    const uint8_t *p = window(s, s->pos, SL_MIN((int64_t)SL_BATCH_HEADER_SIZE, s->end - s->pos),
                              &rc);
    if (!p) {
        return sl_err_set(err, rc, "position %" PRId64 ": %s", s->pos, sl_strerror(rc));
    }
    rc = sl_batch_parse_header(p, (size_t)SL_MIN((int64_t)SL_BATCH_HEADER_SIZE, s->end - s->pos),
                               h, err);
    if (rc != 0) {
        return rc;
    }
    size_t size = sl_batch_hdr_size(h);
    if ((int64_t)size > s->end - s->pos) {
        return sl_err_set(err, SL_ETRUNCATED,
                          "position %" PRId64 ": batch of %zu bytes runs past the end (%" PRId64
                          ")",
                          s->pos, size, s->end);
    }
    if (full) {
        p = window(s, s->pos, size, &rc);
        if (!p) {
            return sl_err_set(err, rc, "position %" PRId64 ": %s", s->pos, sl_strerror(rc));
        }
        rc = sl_batch_validate(p, size, h, err);
        if (rc != 0) {
            return rc;
        }
        if (bytes) {
            *bytes = p;
        }
    }
    s->pos += (int64_t)size;
    return 1;
}

/* ---- lifetime ---- */

static char *seg_path(const char *dir, int64_t base)
{
    char *p;
    if (asprintf(&p, "%s/%020" PRId64, dir, base) < 0) {
        return NULL;
    }
    return p;
}

static struct sl_seg *seg_new(const char *dir, int64_t base, int flags, int64_t now_ms, int *rc)
{
    struct sl_seg *seg = calloc(1, sizeof(*seg));
    char path[PATH_MAX];
    if (!seg || !(seg->path = seg_path(dir, base))) {
        free(seg);
        *rc = -ENOMEM;
        return NULL;
    }
    snprintf(path, sizeof(path), "%s.log", seg->path);
    seg->fd = sl_io_open(path, O_RDWR | flags, 0644);
    if (seg->fd < 0) {
        *rc = seg->fd;
        free(seg->path);
        free(seg);
        return NULL;
    }
    seg->base = base;
    seg->next = base;
    seg->refs = 1;
    seg->max_ts = -1;
    seg->max_ts_offset = base;
    seg->first_ts = -1;
    seg->created_ms = now_ms;
    *rc = 0;
    return seg;
}

struct sl_seg *sl__seg_create(const char *dir, int64_t base, int64_t now_ms, int *rc)
{
    struct sl_seg *seg = seg_new(dir, base, O_CREAT | O_TRUNC, now_ms, rc);
    if (seg) {
        /* Fresh, empty index files: a leftover from an earlier life must not be trusted. */
        seg->index_loaded = 1;
        *rc = sl__index_write(&seg->idx, seg->path, 1);
        if (*rc != 0) {
            sl__seg_delete_files(seg);
            sl__seg_unref(seg);
            return NULL;
        }
    }
    return seg;
}

struct sl_seg *sl__seg_open(const char *dir, int64_t base, int64_t now_ms, int *rc)
{
    struct sl_seg *seg = seg_new(dir, base, 0, now_ms, rc);
    if (seg) {
        int64_t size = sl_io_fsize(seg->fd);
        if (size < 0) {
            *rc = (int)size;
            sl__seg_unref(seg);
            return NULL;
        }
        seg->size = size;
    }
    return seg;
}

void sl__seg_ref(struct sl_seg *seg)
{
    __atomic_add_fetch(&seg->refs, 1, __ATOMIC_RELAXED);
}

void sl__seg_unref(struct sl_seg *seg)
{
    if (!seg || __atomic_sub_fetch(&seg->refs, 1, __ATOMIC_ACQ_REL) != 0) {
        return;
    }
    sl_io_close(seg->fd);
    sl__index_fini(&seg->idx);
    free(seg->path);
    free(seg);
}

int sl__seg_delete_files(struct sl_seg *seg)
{
    static const char *const ext[] = {".log", ".index", ".timeindex"};
    char path[PATH_MAX];
    int first = 0;
    for (size_t i = 0; i < SL_ARRAY_SIZE(ext); i++) {
        snprintf(path, sizeof(path), "%s%s", seg->path, ext[i]);
        int rc = sl_io_unlink(path);
        if (rc != 0 && rc != -ENOENT && first == 0) {
            first = rc;
        }
    }
    seg->deleted = 1;
    return first;
}

/* ---- indexes ---- */

int sl__seg_track_batch(struct sl_log *log, struct sl_seg *seg, const struct sl_batch_hdr *h,
                        int64_t pos)
{
    int64_t last = sl_batch_hdr_last_offset(h);
    if (pos == 0) {
        seg->first_ts = h->max_timestamp; /* what segment.ms rolling counts from */
    }
    if (h->max_timestamp > seg->max_ts) {
        seg->max_ts = h->max_timestamp;
        seg->max_ts_offset = last;
    }
    int rc = 0;
    /* Kafka's rule: an entry when more than index.interval.bytes went in since the last. */
    if (seg->index_loaded && seg->bytes_since_index > log->cfg.index_interval_bytes) {
        rc = sl__index_add(&seg->idx, seg->base, last, pos, seg->max_ts, seg->max_ts_offset);
        seg->bytes_since_index = 0;
    }
    seg->bytes_since_index += (int64_t)sl_batch_hdr_size(h);
    seg->next = last + 1;
    return rc;
}

int sl__seg_rebuild_index(struct sl_log *log, struct sl_seg *seg, struct sl_err *err)
{
    struct sl__scan s;
    struct sl_batch_hdr h;
    int rc;
    sl__index_fini(&seg->idx);
    seg->index_loaded = 1;
    seg->bytes_since_index = 0;
    seg->max_ts = -1;
    seg->max_ts_offset = seg->base;
    seg->first_ts = -1;
    sl__scan_init(&s, seg->fd, 0, seg->size, 1 << 20);
    int64_t pos = 0;
    while ((rc = sl__scan_next(&s, 0, &h, NULL, err)) == 1) {
        rc = sl__seg_track_batch(log, seg, &h, pos);
        if (rc != 0) {
            break;
        }
        pos = s.pos;
    }
    sl__scan_fini(&s);
    if (rc == 0) {
        rc = sl__index_write(&seg->idx, seg->path, 1);
    }
    return rc;
}

int sl__seg_ensure_index(struct sl_log *log, struct sl_seg *seg)
{
    if (seg->index_loaded) {
        return 0;
    }
    int rc = sl__index_load(&seg->idx, seg->path, seg->base, seg->size, seg->next);
    if (rc == 0) {
        seg->index_loaded = 1;
        if (seg->idx.tn > 0) {
            struct sl_tidx_entry *t = &seg->idx.t[seg->idx.tn - 1];
            seg->max_ts = t->ts;
            seg->max_ts_offset = seg->base + t->rel;
        }
        return 0;
    }
    /* Missing or corrupt: rebuild from the log, never trust it. */
    return sl__seg_rebuild_index(log, seg, NULL);
}

int sl__seg_seal(struct sl_seg *seg)
{
    if (!seg->index_loaded) {
        return 0;
    }
    if (seg->max_ts >= 0) {
        int rc = sl__index_add_time(&seg->idx, seg->base, seg->max_ts, seg->max_ts_offset);
        if (rc != 0) {
            return rc;
        }
    }
    return sl__index_write(&seg->idx, seg->path, 0);
}

int64_t sl__seg_find(struct sl_log *log, struct sl_seg *seg, int64_t offset, int *found,
                     struct sl_batch_hdr *h, struct sl_err *err)
{
    *found = 0;
    int rc = sl__seg_ensure_index(log, seg);
    if (rc != 0) {
        return sl_err_set(err, rc, "segment %s: index: %s", seg->path, sl_strerror(rc));
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        struct sl__scan s;
        int64_t pos = sl__index_lookup(&seg->idx, seg->base, offset);
        sl__scan_init(&s, seg->fd, pos, seg->size, 64 << 10);
        while ((rc = sl__scan_next(&s, 0, h, NULL, err)) == 1) {
            if (sl_batch_hdr_last_offset(h) >= offset) {
                *found = 1;
                break;
            }
            pos = s.pos;
        }
        sl__scan_fini(&s);
        if (rc >= 0) {
            return *found ? pos : seg->size;
        }
        /* The index led us to a position that is not a batch: rebuild it and try again. */
        if (attempt == 0 && sl__seg_rebuild_index(log, seg, NULL) != 0) {
            break;
        }
    }
    return rc;
}

int64_t sl__seg_largest_ts(struct sl_log *log, struct sl_seg *seg)
{
    if (sl__seg_ensure_index(log, seg) == 0 && seg->max_ts > 0) {
        return seg->max_ts;
    }
    /* Records without timestamps: fall back to the file's modification time, as Kafka does. */
    struct stat st;
    if (fstat(seg->fd, &st) == 0) {
        return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    }
    return -1;
}
