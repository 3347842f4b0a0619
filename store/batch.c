/*
 * batch.c - Kafka record batch v2: header decoding, validation, record iteration, zigzag
 * varints, and the batch builder. The layout is documented in batch.h.
 *
 * Pure functions over caller-owned bytes; the builder owns its buffer until finish hands it
 * over. No shared state: any thread may call anything here.
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "../common/sl_assert.h"
#include "../common/sl_macros.h"
#include "crc32c.h"

/* batchLength counts the bytes after itself: the header minus baseOffset and batchLength. */
#define BATCH_LENGTH_MIN (SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD)

int sl_batch_parse_header(const uint8_t *buf, size_t len, struct sl_batch_hdr *h,
                          struct sl_err *err)
{
    if (len >= SL_BATCH_MAGIC_MIN_BYTES && buf[SL_BATCH_OFF_MAGIC] != SL_BATCH_MAGIC) {
        int8_t magic = (int8_t)buf[SL_BATCH_OFF_MAGIC];
        if (magic == 0 || magic == 1) {
            return sl_err_set(err, SL_EUNSUPPORTED,
                              "message format v%d (magic %d) is not supported, only v2", magic,
                              magic);
        }
        return sl_err_set(err, SL_ECORRUPT, "invalid magic byte %d", magic);
    }
    if (len < SL_BATCH_HEADER_SIZE) {
        return sl_err_set(err, SL_ETRUNCATED, "%zu bytes cannot hold a %d-byte batch header",
                          len, SL_BATCH_HEADER_SIZE);
    }
    h->base_offset = (int64_t)sl_load_be64(buf + SL_BATCH_OFF_BASE_OFFSET);
    h->length = (int32_t)sl_load_be32(buf + SL_BATCH_OFF_LENGTH);
    h->leader_epoch = (int32_t)sl_load_be32(buf + SL_BATCH_OFF_LEADER_EPOCH);
    h->magic = (int8_t)buf[SL_BATCH_OFF_MAGIC];
    h->crc = sl_load_be32(buf + SL_BATCH_OFF_CRC);
    h->attributes = (int16_t)sl_load_be16(buf + SL_BATCH_OFF_ATTRIBUTES);
    h->last_offset_delta = (int32_t)sl_load_be32(buf + SL_BATCH_OFF_LAST_OFFSET_DELTA);
    h->base_timestamp = (int64_t)sl_load_be64(buf + SL_BATCH_OFF_BASE_TIMESTAMP);
    h->max_timestamp = (int64_t)sl_load_be64(buf + SL_BATCH_OFF_MAX_TIMESTAMP);
    h->producer_id = (int64_t)sl_load_be64(buf + SL_BATCH_OFF_PRODUCER_ID);
    h->producer_epoch = (int16_t)sl_load_be16(buf + SL_BATCH_OFF_PRODUCER_EPOCH);
    h->base_sequence = (int32_t)sl_load_be32(buf + SL_BATCH_OFF_BASE_SEQUENCE);
    h->record_count = (int32_t)sl_load_be32(buf + SL_BATCH_OFF_RECORD_COUNT);

    if (h->length < BATCH_LENGTH_MIN || h->length > SL_BATCH_SIZE_MAX) {
        return sl_err_set(err, SL_ECORRUPT, "batch length %d outside [%d, %d]", h->length,
                          BATCH_LENGTH_MIN, SL_BATCH_SIZE_MAX);
    }
    if (h->base_offset < 0) {
        return sl_err_set(err, SL_ECORRUPT, "negative base offset %lld",
                          (long long)h->base_offset);
    }
    if (h->record_count < 0) {
        return sl_err_set(err, SL_ECORRUPT, "negative record count %d", h->record_count);
    }
    if (h->last_offset_delta < 0) {
        return sl_err_set(err, SL_ECORRUPT, "negative last offset delta %d",
                          h->last_offset_delta);
    }
    if (sl_batch_hdr_codec(h) > SL_CODEC_ZSTD) {
        return sl_err_set(err, SL_ECORRUPT, "unknown compression codec %d",
                          sl_batch_hdr_codec(h));
    }
    return 0;
}

int sl_batch_validate_crc(const uint8_t *buf, size_t len, struct sl_batch_hdr *h,
                          struct sl_err *err)
{
    int rc = sl_batch_parse_header(buf, len, h, err);
    if (rc != 0) {
        return rc;
    }
    size_t size = sl_batch_hdr_size(h);
    if (len < size) {
        return sl_err_set(err, SL_ETRUNCATED, "batch of %zu bytes but only %zu available", size,
                          len);
    }
    uint32_t crc = sl_crc32c(0, buf + SL_BATCH_OFF_ATTRIBUTES, size - SL_BATCH_OFF_ATTRIBUTES);
    if (crc != h->crc) {
        return sl_err_set(err, SL_ECRC, "CRC mismatch: stored %u, computed %u", h->crc, crc);
    }
    return 0;
}

int sl_batch_validate(const uint8_t *buf, size_t len, struct sl_batch_hdr *h,
                      struct sl_err *err)
{
    int rc = sl_batch_validate_crc(buf, len, h, err);
    if (rc != 0) {
        return rc;
    }
    size_t size = sl_batch_hdr_size(h);
    if (sl_batch_hdr_codec(h) != SL_CODEC_NONE) {
        return 0;
    }
    if (h->record_count == 0) {
        /* An empty batch carries no records; Kafka writes these only after compaction. */
        if (size != SL_BATCH_HEADER_SIZE) {
            return sl_err_set(err, SL_ECORRUPT, "batch with 0 records has %zu trailing bytes",
                              size - SL_BATCH_HEADER_SIZE);
        }
        return 0;
    }
    return sl_batch_validate_records(buf + SL_BATCH_HEADER_SIZE, size - SL_BATCH_HEADER_SIZE,
                                     h->record_count, h->last_offset_delta, err);
}

int sl_batch_validate_records(const uint8_t *records, size_t len, int32_t count,
                              int32_t last_offset_delta, struct sl_err *err)
{
    struct sl_rec_iter it;
    struct sl_record r;
    int64_t prev = -1;
    int rc;
    sl_rec_iter_init(&it, records, len, count);
    while ((rc = sl_rec_iter_next(&it, &r, err)) == 1) {
        if (r.offset_delta <= prev || r.offset_delta > last_offset_delta) {
            return sl_err_set(err, SL_ECORRUPT,
                              "record offset delta %d out of order (previous %lld, last %d)",
                              r.offset_delta, (long long)prev, last_offset_delta);
        }
        prev = r.offset_delta;
        const uint8_t *hp = r.headers;
        const uint8_t *hend = r.headers + r.headers_len;
        for (int32_t i = 0; i < r.header_count; i++) {
            struct sl_rec_header hdr;
            if (sl_rec_header_next(&hp, hend, &hdr) != 0) {
                return sl_err_set(err, SL_ECORRUPT, "record at delta %d: malformed header %d",
                                  r.offset_delta, i);
            }
        }
        if (hp != hend) {
            return sl_err_set(err, SL_ECORRUPT, "record at delta %d: bytes after its headers",
                              r.offset_delta);
        }
    }
    if (rc == 0 && len > 0 && count == 0) {
        return sl_err_set(err, SL_ECORRUPT, "%zu record bytes but a record count of 0", len);
    }
    return rc < 0 ? SL_ECORRUPT : 0;
}

void sl_batch_set_base_offset(uint8_t *buf, int64_t base_offset)
{
    sl_store_be64(buf + SL_BATCH_OFF_BASE_OFFSET, (uint64_t)base_offset);
}

void sl_batch_set_leader_epoch(uint8_t *buf, int32_t epoch)
{
    sl_store_be32(buf + SL_BATCH_OFF_LEADER_EPOCH, (uint32_t)epoch);
}

void sl_batch_update_crc(uint8_t *buf, size_t len)
{
    uint32_t crc = sl_crc32c(0, buf + SL_BATCH_OFF_ATTRIBUTES, len - SL_BATCH_OFF_ATTRIBUTES);
    sl_store_be32(buf + SL_BATCH_OFF_CRC, crc);
}

void sl_batch_set_log_append_time(uint8_t *buf, int64_t now_ms)
{
    uint16_t attrs = sl_load_be16(buf + SL_BATCH_OFF_ATTRIBUTES);
    sl_store_be16(buf + SL_BATCH_OFF_ATTRIBUTES, attrs | SL_BATCH_ATTR_LOG_APPEND_TIME);
    sl_store_be64(buf + SL_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)now_ms);
    size_t len = (size_t)(int32_t)sl_load_be32(buf + SL_BATCH_OFF_LENGTH) + SL_BATCH_LOG_OVERHEAD;
    sl_batch_update_crc(buf, len);
}

/* ---- varints ---- */

int sl_varlong_read(const uint8_t **p, const uint8_t *end, int64_t *out)
{
    const uint8_t *q = *p;
    if (q < end && !(*q & 0x80)) { /* most record fields fit one byte */
        *p = q + 1;
        *out = (int64_t)(*q >> 1) ^ -(int64_t)(*q & 1);
        return 0;
    }
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (q >= end) {
            return SL_ETRUNCATED;
        }
        uint8_t b = *q++;
        if (shift == 63 && (b & 0x7e)) {
            return SL_ECORRUPT; /* the 10th byte may only carry the top bit */
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *p = q;
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return SL_ECORRUPT;
}

int sl_varint_read(const uint8_t **p, const uint8_t *end, int32_t *out)
{
    const uint8_t *q = *p;
    if (q < end && !(*q & 0x80)) {
        *p = q + 1;
        *out = (int32_t)(*q >> 1) ^ -(int32_t)(*q & 1);
        return 0;
    }
    uint32_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (q >= end) {
            return SL_ETRUNCATED;
        }
        uint8_t b = *q++;
        if (shift == 28 && (b & 0xf0)) {
            return SL_ECORRUPT; /* more than 32 bits, or a 6th byte */
        }
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *p = q;
            *out = (int32_t)(v >> 1) ^ -(int32_t)(v & 1);
            return 0;
        }
    }
    return SL_ECORRUPT;
}

/* Inlined one-byte fast paths for the record walk; longer varints take the full decoder. */
static inline int rd_varint(const uint8_t **p, const uint8_t *end, int32_t *out)
{
    const uint8_t *q = *p;
    if (__builtin_expect(q < end && !(*q & 0x80), 1)) {
        *p = q + 1;
        *out = (int32_t)(*q >> 1) ^ -(int32_t)(*q & 1);
        return 0;
    }
    return sl_varint_read(p, end, out);
}

static inline int rd_varlong(const uint8_t **p, const uint8_t *end, int64_t *out)
{
    const uint8_t *q = *p;
    if (__builtin_expect(q < end && !(*q & 0x80), 1)) {
        *p = q + 1;
        *out = (int64_t)(*q >> 1) ^ -(int64_t)(*q & 1);
        return 0;
    }
    return sl_varlong_read(p, end, out);
}

size_t sl_varlong_write(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

size_t sl_varlong_size(int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 1;
    while (z >= 0x80) {
        z >>= 7;
        n++;
    }
    return n;
}

/* ---- records ---- */

void sl_rec_iter_init(struct sl_rec_iter *it, const uint8_t *records, size_t len, int32_t count)
{
    it->p = records;
    it->end = records + len;
    it->remaining = count;
}

/* A length-prefixed byte string: -1 is null, other negatives are corrupt. */
static inline int read_bytes(const uint8_t **p, const uint8_t *end, const uint8_t **data, int32_t *len)
{
    int rc = rd_varint(p, end, len);
    if (rc != 0) {
        return rc;
    }
    if (*len < -1) {
        return SL_ECORRUPT;
    }
    if (*len == -1) {
        *data = NULL;
        return 0;
    }
    if ((size_t)(end - *p) < (size_t)*len) {
        return SL_ETRUNCATED;
    }
    *data = *p;
    *p += *len;
    return 0;
}

int sl_rec_header_next(const uint8_t **p, const uint8_t *end, struct sl_rec_header *h)
{
    int rc = read_bytes(p, end, &h->key, &h->key_len);
    if (rc != 0) {
        return rc;
    }
    if (h->key_len < 0) {
        return SL_ECORRUPT; /* header keys are non-null strings */
    }
    return read_bytes(p, end, &h->value, &h->value_len);
}

int sl_rec_iter_next(struct sl_rec_iter *it, struct sl_record *rec, struct sl_err *err)
{
    if (it->remaining == 0) {
        if (it->p != it->end) {
            return sl_err_set(err, SL_ECORRUPT, "%td bytes after the last record",
                              it->end - it->p);
        }
        return 0;
    }
    if (it->p >= it->end) {
        return sl_err_set(err, SL_ETRUNCATED, "records end with %d of them still expected",
                          it->remaining);
    }
    const uint8_t *p = it->p;
    int rc = rd_varint(&p, it->end, &rec->length);
    if (rc != 0) {
        return sl_err_set(err, rc, "malformed record length");
    }
    if (rec->length < 0 || (size_t)(it->end - p) < (size_t)rec->length) {
        return sl_err_set(err, SL_ECORRUPT, "record length %d exceeds the %td bytes left",
                          rec->length, it->end - p);
    }
    const uint8_t *end = p + rec->length;
    if (p >= end) {
        return sl_err_set(err, SL_ECORRUPT, "empty record");
    }
    rec->attributes = (int8_t)*p++;
    int32_t hc;
    if ((rc = rd_varlong(&p, end, &rec->timestamp_delta)) != 0 ||
        (rc = rd_varint(&p, end, &rec->offset_delta)) != 0 ||
        (rc = read_bytes(&p, end, &rec->key, &rec->key_len)) != 0 ||
        (rc = read_bytes(&p, end, &rec->value, &rec->value_len)) != 0 ||
        (rc = rd_varint(&p, end, &hc)) != 0) {
        return sl_err_set(err, SL_ECORRUPT, "malformed record fields (%s)", sl_strerror(rc));
    }
    if (hc < 0) {
        return sl_err_set(err, SL_ECORRUPT, "negative header count %d", hc);
    }
    /* Each header takes at least two bytes, which bounds a hostile count cheaply. */
    if ((size_t)hc > (size_t)(end - p) / 2) {
        return sl_err_set(err, SL_ECORRUPT, "header count %d exceeds the record", hc);
    }
    rec->header_count = hc;
    rec->headers = p;
    rec->headers_len = (size_t)(end - p);
    it->p = end;
    it->remaining--;
    return 1;
}

/* ---- builder ---- */

int sl_batch_builder_init(struct sl_batch_builder *b, int64_t base_offset, int64_t base_timestamp)
{
    uint8_t *buf = malloc(4096);
    if (!buf) {
        memset(b, 0, sizeof(*b));
        return -ENOMEM;
    }
    sl_batch_builder_init_buf(b, base_offset, base_timestamp, buf, 4096);
    return 0;
}

void sl_batch_builder_init_buf(struct sl_batch_builder *b, int64_t base_offset,
                               int64_t base_timestamp, uint8_t *buf, size_t cap)
{
    SL_ASSERT(cap >= SL_BATCH_HEADER_SIZE);
    memset(b, 0, sizeof(*b));
    b->cap = cap;
    b->buf = buf;
    b->len = SL_BATCH_HEADER_SIZE;
    b->base_offset = base_offset;
    b->base_timestamp = base_timestamp;
    b->max_timestamp = -1;
    b->producer_id = -1;
    b->producer_epoch = -1;
    b->base_sequence = -1;
}

static int reserve(struct sl_batch_builder *b, size_t more)
{
    if (b->len + more > (size_t)SL_BATCH_SIZE_MAX) {
        return SL_ETOOLARGE;
    }
    if (b->len + more <= b->cap) {
        return 0;
    }
    size_t cap = b->cap;
    while (cap < b->len + more) {
        cap *= 2;
    }
    uint8_t *nb = realloc(b->buf, cap);
    if (!nb) {
        return -ENOMEM;
    }
    b->buf = nb;
    b->cap = cap;
    return 0;
}

static size_t bytes_size(int32_t len)
{
    return sl_varlong_size(len) + (len > 0 ? (size_t)len : 0);
}

static uint8_t *put_bytes(uint8_t *p, const void *data, int32_t len)
{
    if (!data) {
        return p + sl_varlong_write(p, -1);
    }
    p += sl_varlong_write(p, len);
    if (len > 0) {
        memcpy(p, data, (size_t)len);
    }
    return p + len;
}

int sl_batch_builder_add(struct sl_batch_builder *b, int64_t timestamp, const void *key,
                         int32_t key_len, const void *value, int32_t value_len,
                         const struct sl_rec_header *headers, int header_count)
{
    if (!b->buf) {
        return SL_ERANGE;
    }
    if (!key) {
        key_len = -1;
    }
    if (!value) {
        value_len = -1;
    }
    int64_t ts_delta = timestamp - b->base_timestamp;
    size_t body = 1 + sl_varlong_size(ts_delta) + sl_varlong_size(b->count) + bytes_size(key_len) +
                  bytes_size(value_len) + sl_varlong_size(header_count);
    for (int i = 0; i < header_count; i++) {
        body += bytes_size(headers[i].key_len) +
                bytes_size(headers[i].value ? headers[i].value_len : -1);
    }
    if (body > (size_t)SL_BATCH_SIZE_MAX) {
        return SL_ETOOLARGE;
    }
    int rc = reserve(b, body + SL_VARLONG_MAX);
    if (rc != 0) {
        return rc;
    }
    uint8_t *p = b->buf + b->len;
    p += sl_varlong_write(p, (int64_t)body);
    *p++ = 0; /* record attributes: unused in v2 */
    p += sl_varlong_write(p, ts_delta);
    p += sl_varlong_write(p, b->count);
    p = put_bytes(p, key, key_len);
    p = put_bytes(p, value, value_len);
    p += sl_varlong_write(p, header_count);
    for (int i = 0; i < header_count; i++) {
        p = put_bytes(p, headers[i].key, headers[i].key_len);
        p = put_bytes(p, headers[i].value, headers[i].value_len);
    }
    b->len = (size_t)(p - b->buf);
    b->count++;
    if (timestamp > b->max_timestamp) {
        b->max_timestamp = timestamp;
    }
    return 0;
}

int sl_batch_builder_finish(struct sl_batch_builder *b, uint8_t **out, size_t *out_len)
{
    if (!b->buf || b->count == 0) {
        return SL_ERANGE;
    }
    uint8_t *p = b->buf;
    sl_store_be64(p + SL_BATCH_OFF_BASE_OFFSET, (uint64_t)b->base_offset);
    sl_store_be32(p + SL_BATCH_OFF_LENGTH, (uint32_t)(b->len - SL_BATCH_LOG_OVERHEAD));
    sl_store_be32(p + SL_BATCH_OFF_LEADER_EPOCH, (uint32_t)-1);
    p[SL_BATCH_OFF_MAGIC] = SL_BATCH_MAGIC;
    sl_store_be16(p + SL_BATCH_OFF_ATTRIBUTES, (uint16_t)b->attributes);
    sl_store_be32(p + SL_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(b->count - 1));
    sl_store_be64(p + SL_BATCH_OFF_BASE_TIMESTAMP, (uint64_t)b->base_timestamp);
    sl_store_be64(p + SL_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)b->max_timestamp);
    sl_store_be64(p + SL_BATCH_OFF_PRODUCER_ID, (uint64_t)b->producer_id);
    sl_store_be16(p + SL_BATCH_OFF_PRODUCER_EPOCH, (uint16_t)b->producer_epoch);
    sl_store_be32(p + SL_BATCH_OFF_BASE_SEQUENCE, (uint32_t)b->base_sequence);
    sl_store_be32(p + SL_BATCH_OFF_RECORD_COUNT, (uint32_t)b->count);
    sl_batch_update_crc(p, b->len);
    *out = p;
    *out_len = b->len;
    b->buf = NULL;
    b->len = b->cap = 0;
    b->count = 0;
    return 0;
}

void sl_batch_builder_fini(struct sl_batch_builder *b)
{
    free(b->buf);
    b->buf = NULL;
    b->len = b->cap = 0;
}
