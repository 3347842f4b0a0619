/*
 * kp.h - the Kafka wire codec's primitives: a bounds-checked reader and a growing writer,
 * both with a sticky error flag (after the first error every read returns zero values and
 * every write is dropped, so a decoder checks once at the end), and a per-request arena.
 *
 * The writer can splice file ranges between its bytes (sl_kp_write_file), so a Fetch
 * response carries record batches as (fd, position, length) for sendfile(2) and never copies
 * them through user space.
 *
 * Pure data structures: no I/O, no logging. A reader, writer or arena belongs to one thread
 * (the broker loop thread that handles the request).
 */
#ifndef SL_KP_H
#define SL_KP_H

#include <stddef.h>
#include <stdint.h>

/* A string or byte slice pointing into a request buffer; len -1 means null. */
struct sl_kp_str {
    const char *p;
    int32_t len;
};

struct sl_kp_bytes {
    const uint8_t *p;
    int32_t len;
};

/* ---- arena: many small allocations, freed together when the request is done ---- */

struct sl_kp_arena_chunk;

struct sl_kp_arena {
    struct sl_kp_arena_chunk *head;
    size_t total; /* bytes handed out, bounded by limit */
    size_t limit; /* 0 = unlimited */
};

void sl_kp_arena_init(struct sl_kp_arena *a, size_t limit);
/* Zeroed memory, 16-byte aligned; NULL when out of memory or past the arena's limit. */
void *sl_kp_arena_alloc(struct sl_kp_arena *a, size_t size);
/* Zeroed array of n elements of size; NULL on overflow, no memory or past the limit. */
void *sl_kp_arena_calloc(struct sl_kp_arena *a, size_t n, size_t size);
char *sl_kp_arena_strdup(struct sl_kp_arena *a, struct sl_kp_str s);
void sl_kp_arena_fini(struct sl_kp_arena *a);

/* ---- reader ---- */

struct sl_kp_reader {
    const uint8_t *p;
    const uint8_t *end;
    int err; /* sticky: 0, or SL_ETRUNCATED / SL_ECORRUPT */
};

void sl_kp_reader_init(struct sl_kp_reader *r, const void *buf, size_t len);
static inline size_t sl_kp_remaining(const struct sl_kp_reader *r)
{
    return r->err ? 0 : (size_t)(r->end - r->p);
}

int8_t sl_kp_read_i8(struct sl_kp_reader *r);
int16_t sl_kp_read_i16(struct sl_kp_reader *r);
int32_t sl_kp_read_i32(struct sl_kp_reader *r);
int64_t sl_kp_read_i64(struct sl_kp_reader *r);
int sl_kp_read_bool(struct sl_kp_reader *r);
uint32_t sl_kp_read_uvarint(struct sl_kp_reader *r);
/* Zigzag (signed) varint: the record encoding. */
int32_t sl_kp_read_varint(struct sl_kp_reader *r);

/* int16-length string; nullable allows -1 (else -1 is an error). */
struct sl_kp_str sl_kp_read_str(struct sl_kp_reader *r, int nullable);
/* int32-length bytes; -1 = null. */
struct sl_kp_bytes sl_kp_read_bytes(struct sl_kp_reader *r);
/* Compact (flexible) forms: uvarint length + 1, 0 = null. */
struct sl_kp_str sl_kp_read_cstr(struct sl_kp_reader *r, int nullable);
struct sl_kp_bytes sl_kp_read_cbytes(struct sl_kp_reader *r);

/*
 * Array length (int32; compact: uvarint - 1). -1 = null, allowed only when nullable.
 * A count larger than the bytes left could hold (min_elem_size bytes each) is an error, so a
 * hostile count never drives a large allocation.
 */
int32_t sl_kp_read_array(struct sl_kp_reader *r, size_t min_elem_size, int nullable);
int32_t sl_kp_read_carray(struct sl_kp_reader *r, size_t min_elem_size, int nullable);

/* Skip a tagged-field section (flexible versions). */
void sl_kp_skip_tags(struct sl_kp_reader *r);

/* Mark the reader failed (a decoder found a semantic error). */
void sl_kp_reader_fail(struct sl_kp_reader *r, int err);

/* ---- writer ---- */

/* A file range spliced into the output at byte `at` of the writer's buffer. */
struct sl_kp_file_part {
    size_t at;
    int fd;
    int64_t position;
    int64_t length;
    void (*release)(void *owner); /* called once the range is sent or dropped */
    void *owner;
};

struct sl_kp_writer {
    uint8_t *buf;
    size_t len; /* bytes in buf (file parts not counted) */
    size_t cap;
    struct sl_kp_file_part *files;
    size_t nfiles;
    size_t files_cap;
    int64_t file_bytes; /* total length of the file parts */
    int err;            /* sticky: 0 or -ENOMEM */
};

void sl_kp_writer_init(struct sl_kp_writer *w);
/* Releases file parts not yet handed over, frees the buffer. */
void sl_kp_writer_fini(struct sl_kp_writer *w);
/* Total bytes the writer will send: buffer plus file parts. */
static inline int64_t sl_kp_writer_size(const struct sl_kp_writer *w)
{
    return (int64_t)w->len + w->file_bytes;
}

void sl_kp_write_i8(struct sl_kp_writer *w, int8_t v);
void sl_kp_write_i16(struct sl_kp_writer *w, int16_t v);
void sl_kp_write_i32(struct sl_kp_writer *w, int32_t v);
void sl_kp_write_i64(struct sl_kp_writer *w, int64_t v);
void sl_kp_write_bool(struct sl_kp_writer *w, int v);
void sl_kp_write_uvarint(struct sl_kp_writer *w, uint32_t v);
void sl_kp_write_raw(struct sl_kp_writer *w, const void *p, size_t len);
/* int16-length string; s == NULL writes null (-1). */
void sl_kp_write_str(struct sl_kp_writer *w, const char *s);
void sl_kp_write_strn(struct sl_kp_writer *w, const char *s, int32_t len);
/* int32-length bytes; p == NULL writes null (-1). */
void sl_kp_write_bytes(struct sl_kp_writer *w, const void *p, int32_t len);
/* Compact forms (flexible versions). */
void sl_kp_write_cstr(struct sl_kp_writer *w, const char *s);
void sl_kp_write_carray_len(struct sl_kp_writer *w, int32_t n); /* -1 = null */
/* An empty tagged-field section. */
void sl_kp_write_tags_empty(struct sl_kp_writer *w);

/* Reserve 4 bytes to fill in later (a count or size known only afterwards); returns where. */
size_t sl_kp_reserve_i32(struct sl_kp_writer *w);
void sl_kp_patch_i32(struct sl_kp_writer *w, size_t at, int32_t v);

/*
 * Splice length bytes of fd from position into the output here. The writer takes the range
 * and calls release(owner) exactly once (when sent, or in fini), also on error.
 */
void sl_kp_write_file(struct sl_kp_writer *w, int fd, int64_t position, int64_t length,
                      void (*release)(void *owner), void *owner);

#endif
