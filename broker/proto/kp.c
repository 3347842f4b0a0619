/*
 * kp.c - the Kafka wire codec's primitives (see kp.h): reader, writer with spliced file
 * ranges, and the request arena. One thread at a time per object.
 */
#include "kp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/sl_err.h"
#include "../../common/sl_macros.h"

/* ---- arena ---- */

struct sl_kp_arena_chunk {
    struct sl_kp_arena_chunk *next;
    size_t used;
    size_t cap;
    _Alignas(16) uint8_t data[];
};

#define ARENA_CHUNK 8192

void sl_kp_arena_init(struct sl_kp_arena *a, size_t limit)
{
    a->head = NULL;
    a->total = 0;
    a->limit = limit;
}

void *sl_kp_arena_alloc(struct sl_kp_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0) {
        size = 16;
    }
    if (a->limit && (size > a->limit || a->total > a->limit - size)) {
        return NULL;
    }
    struct sl_kp_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;
        c = malloc(sizeof(*c) + cap);
        if (!c) {
            return NULL;
        }
        c->cap = cap;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    a->total += size;
    memset(p, 0, size);
    return p;
}

void *sl_kp_arena_calloc(struct sl_kp_arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        return NULL;
    }
    return sl_kp_arena_alloc(a, n * size);
}

char *sl_kp_arena_strdup(struct sl_kp_arena *a, struct sl_kp_str s)
{
    if (s.len < 0) {
        return NULL;
    }
    char *d = sl_kp_arena_alloc(a, (size_t)s.len + 1);
    if (d) {
        memcpy(d, s.p, (size_t)s.len);
        d[s.len] = '\0';
    }
    return d;
}

void sl_kp_arena_fini(struct sl_kp_arena *a)
{
    struct sl_kp_arena_chunk *c = a->head;
    while (c) {
        struct sl_kp_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}

/* ---- reader ---- */

void sl_kp_reader_init(struct sl_kp_reader *r, const void *buf, size_t len)
{
    r->p = buf;
    r->end = r->p + len;
    r->err = 0;
}

void sl_kp_reader_fail(struct sl_kp_reader *r, int err)
{
    if (!r->err) {
        r->err = err;
    }
}

/* Returns a pointer to n bytes and consumes them, or NULL (and fails the reader). */
static const uint8_t *take(struct sl_kp_reader *r, size_t n)
{
    if (r->err) {
        return NULL;
    }
    if ((size_t)(r->end - r->p) < n) {
        r->err = SL_ETRUNCATED;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

int8_t sl_kp_read_i8(struct sl_kp_reader *r)
{
    const uint8_t *p = take(r, 1);
    return p ? (int8_t)p[0] : 0;
}

int16_t sl_kp_read_i16(struct sl_kp_reader *r)
{
    const uint8_t *p = take(r, 2);
    return p ? (int16_t)sl_load_be16(p) : 0;
}

int32_t sl_kp_read_i32(struct sl_kp_reader *r)
{
    const uint8_t *p = take(r, 4);
    return p ? (int32_t)sl_load_be32(p) : 0;
}

int64_t sl_kp_read_i64(struct sl_kp_reader *r)
{
    const uint8_t *p = take(r, 8);
    return p ? (int64_t)sl_load_be64(p) : 0;
}

int sl_kp_read_bool(struct sl_kp_reader *r)
{
    return sl_kp_read_i8(r) != 0;
}

uint32_t sl_kp_read_uvarint(struct sl_kp_reader *r)
{
    uint32_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        const uint8_t *p = take(r, 1);
        if (!p) {
            return 0;
        }
        if (shift == 28 && (*p & 0xf0)) {
            sl_kp_reader_fail(r, SL_ECORRUPT);
            return 0;
        }
        v |= (uint32_t)(*p & 0x7f) << shift;
        if (!(*p & 0x80)) {
            return v;
        }
    }
    sl_kp_reader_fail(r, SL_ECORRUPT);
    return 0;
}

int32_t sl_kp_read_varint(struct sl_kp_reader *r)
{
    uint32_t z = sl_kp_read_uvarint(r);
    return (int32_t)(z >> 1) ^ -(int32_t)(z & 1);
}

static struct sl_kp_str read_str_len(struct sl_kp_reader *r, int64_t len, int nullable)
{
    struct sl_kp_str s = {NULL, -1};
    if (r->err) {
        return s;
    }
    if (len < 0) {
        if (len != -1 || !nullable) {
            sl_kp_reader_fail(r, SL_ECORRUPT);
        }
        return s;
    }
    const uint8_t *p = take(r, (size_t)len);
    if (p) {
        s.p = (const char *)p;
        s.len = (int32_t)len;
    }
    return s;
}

struct sl_kp_str sl_kp_read_str(struct sl_kp_reader *r, int nullable)
{
    int16_t len = sl_kp_read_i16(r);
    return read_str_len(r, len, nullable);
}

struct sl_kp_str sl_kp_read_cstr(struct sl_kp_reader *r, int nullable)
{
    uint32_t n = sl_kp_read_uvarint(r);
    return read_str_len(r, (int64_t)n - 1, nullable);
}

struct sl_kp_bytes sl_kp_read_bytes(struct sl_kp_reader *r)
{
    int32_t len = sl_kp_read_i32(r);
    struct sl_kp_str s = read_str_len(r, len, 1);
    struct sl_kp_bytes b = {(const uint8_t *)s.p, s.len};
    return b;
}

struct sl_kp_bytes sl_kp_read_cbytes(struct sl_kp_reader *r)
{
    uint32_t n = sl_kp_read_uvarint(r);
    struct sl_kp_str s = read_str_len(r, (int64_t)n - 1, 1);
    struct sl_kp_bytes b = {(const uint8_t *)s.p, s.len};
    return b;
}

static int32_t check_count(struct sl_kp_reader *r, int64_t n, size_t min_elem_size,
                           int nullable)
{
    if (r->err) {
        return 0;
    }
    if (n < 0) {
        if (n != -1 || !nullable) {
            sl_kp_reader_fail(r, SL_ECORRUPT);
            return 0;
        }
        return -1;
    }
    if (min_elem_size && (uint64_t)n > (uint64_t)(r->end - r->p) / min_elem_size) {
        sl_kp_reader_fail(r, SL_ECORRUPT);
        return 0;
    }
    return (int32_t)n;
}

int32_t sl_kp_read_array(struct sl_kp_reader *r, size_t min_elem_size, int nullable)
{
    int32_t n = sl_kp_read_i32(r);
    return check_count(r, n, min_elem_size, nullable);
}

int32_t sl_kp_read_carray(struct sl_kp_reader *r, size_t min_elem_size, int nullable)
{
    uint32_t n = sl_kp_read_uvarint(r);
    return check_count(r, (int64_t)n - 1, min_elem_size, nullable);
}

void sl_kp_skip_tags(struct sl_kp_reader *r)
{
    uint32_t n = sl_kp_read_uvarint(r);
    for (uint32_t i = 0; i < n && !r->err; i++) {
        (void)sl_kp_read_uvarint(r); /* tag */
        uint32_t size = sl_kp_read_uvarint(r);
        take(r, size);
    }
}

/* ---- writer ---- */

void sl_kp_writer_init(struct sl_kp_writer *w)
{
    memset(w, 0, sizeof(*w));
}

void sl_kp_writer_fini(struct sl_kp_writer *w)
{
    for (size_t i = 0; i < w->nfiles; i++) {
        if (w->files[i].release) {
            w->files[i].release(w->files[i].owner);
        }
    }
    free(w->files);
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

/* Room for n more bytes; NULL (and the sticky error) when out of memory. */
static uint8_t *room(struct sl_kp_writer *w, size_t n)
{
    if (w->err) {
        return NULL;
    }
    if (w->cap - w->len < n) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap - w->len < n) {
            cap *= 2;
        }
        uint8_t *nb = realloc(w->buf, cap);
        if (!nb) {
            w->err = -ENOMEM;
            return NULL;
        }
        w->buf = nb;
        w->cap = cap;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

void sl_kp_write_raw(struct sl_kp_writer *w, const void *src, size_t len)
{
    uint8_t *p = room(w, len);
    if (p && len) {
        memcpy(p, src, len);
    }
}

void sl_kp_write_i8(struct sl_kp_writer *w, int8_t v)
{
    uint8_t *p = room(w, 1);
    if (p) {
        p[0] = (uint8_t)v;
    }
}

void sl_kp_write_i16(struct sl_kp_writer *w, int16_t v)
{
    uint8_t *p = room(w, 2);
    if (p) {
        sl_store_be16(p, (uint16_t)v);
    }
}

void sl_kp_write_i32(struct sl_kp_writer *w, int32_t v)
{
    uint8_t *p = room(w, 4);
    if (p) {
        sl_store_be32(p, (uint32_t)v);
    }
}

void sl_kp_write_i64(struct sl_kp_writer *w, int64_t v)
{
    uint8_t *p = room(w, 8);
    if (p) {
        sl_store_be64(p, (uint64_t)v);
    }
}

void sl_kp_write_bool(struct sl_kp_writer *w, int v)
{
    sl_kp_write_i8(w, v ? 1 : 0);
}

void sl_kp_write_uvarint(struct sl_kp_writer *w, uint32_t v)
{
    uint8_t tmp[5];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    sl_kp_write_raw(w, tmp, n);
}

void sl_kp_write_strn(struct sl_kp_writer *w, const char *s, int32_t len)
{
    if (!s) {
        sl_kp_write_i16(w, -1);
        return;
    }
    if (len > INT16_MAX) {
        len = INT16_MAX; /* the protocol cannot carry more; only messages could be this long */
    }
    sl_kp_write_i16(w, (int16_t)len);
    sl_kp_write_raw(w, s, (size_t)len);
}

void sl_kp_write_str(struct sl_kp_writer *w, const char *s)
{
    sl_kp_write_strn(w, s, s ? (int32_t)strlen(s) : -1);
}

void sl_kp_write_bytes(struct sl_kp_writer *w, const void *p, int32_t len)
{
    if (!p) {
        sl_kp_write_i32(w, -1);
        return;
    }
    sl_kp_write_i32(w, len);
    sl_kp_write_raw(w, p, (size_t)len);
}

void sl_kp_write_cstr(struct sl_kp_writer *w, const char *s)
{
    if (!s) {
        sl_kp_write_uvarint(w, 0);
        return;
    }
    size_t len = strlen(s);
    sl_kp_write_uvarint(w, (uint32_t)len + 1);
    sl_kp_write_raw(w, s, len);
}

void sl_kp_write_carray_len(struct sl_kp_writer *w, int32_t n)
{
    sl_kp_write_uvarint(w, n < 0 ? 0 : (uint32_t)n + 1);
}

void sl_kp_write_tags_empty(struct sl_kp_writer *w)
{
    sl_kp_write_uvarint(w, 0);
}

size_t sl_kp_reserve_i32(struct sl_kp_writer *w)
{
    size_t at = w->len;
    sl_kp_write_i32(w, 0);
    return at;
}

void sl_kp_patch_i32(struct sl_kp_writer *w, size_t at, int32_t v)
{
    if (!w->err && at + 4 <= w->len) {
        sl_store_be32(w->buf + at, (uint32_t)v);
    }
}

void sl_kp_write_file(struct sl_kp_writer *w, int fd, int64_t position, int64_t length,
                      void (*release)(void *owner), void *owner)
{
    if (!w->err && w->nfiles == w->files_cap) {
        size_t cap = w->files_cap ? w->files_cap * 2 : 8;
        struct sl_kp_file_part *nf = realloc(w->files, cap * sizeof(*nf));
        if (!nf) {
            w->err = -ENOMEM;
        } else {
            w->files = nf;
            w->files_cap = cap;
        }
    }
    if (w->err) {
        if (release) {
            release(owner);
        }
        return;
    }
    struct sl_kp_file_part *f = &w->files[w->nfiles++];
    f->at = w->len;
    f->fd = fd;
    f->position = position;
    f->length = length;
    f->release = release;
    f->owner = owner;
    w->file_bytes += length;
}
