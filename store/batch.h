/*
 * batch.h - Kafka record batch v2 (magic 2): header layout, validation, record iteration,
 * zigzag varints, and a builder for our own producers and tests.
 *
 * Everything here is a pure function over caller-owned bytes: no I/O, no allocation except
 * in the builder, no logging, no shared state. Any thread may call it.
 *
 * Layout (big-endian), offsets from the start of the batch:
 *   0 baseOffset i64 | 8 batchLength i32 (bytes after this field) | 12 partitionLeaderEpoch i32
 *  16 magic i8 | 17 crc u32 (CRC-32C of bytes 21..end) | 21 attributes i16
 *  23 lastOffsetDelta i32 | 27 baseTimestamp i64 | 35 maxTimestamp i64 | 43 producerId i64
 *  51 producerEpoch i16 | 53 baseSequence i32 | 57 recordCount i32 | 61 records...
 */
#ifndef SL_BATCH_H
#define SL_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "../common/sl_err.h"

#define SL_BATCH_HEADER_SIZE     61 /* full v2 header, records start here */
#define SL_BATCH_LOG_OVERHEAD    12 /* baseOffset + batchLength */
#define SL_BATCH_MAGIC_MIN_BYTES 17 /* enough bytes to read the magic */
#define SL_BATCH_MAGIC           2

#define SL_BATCH_OFF_BASE_OFFSET       0
#define SL_BATCH_OFF_LENGTH            8
#define SL_BATCH_OFF_LEADER_EPOCH      12
#define SL_BATCH_OFF_MAGIC             16
#define SL_BATCH_OFF_CRC               17
#define SL_BATCH_OFF_ATTRIBUTES        21
#define SL_BATCH_OFF_LAST_OFFSET_DELTA 23
#define SL_BATCH_OFF_BASE_TIMESTAMP    27
#define SL_BATCH_OFF_MAX_TIMESTAMP     35
#define SL_BATCH_OFF_PRODUCER_ID       43
#define SL_BATCH_OFF_PRODUCER_EPOCH    51
#define SL_BATCH_OFF_BASE_SEQUENCE     53
#define SL_BATCH_OFF_RECORD_COUNT      57

#define SL_BATCH_ATTR_COMPRESSION_MASK 0x07
#define SL_BATCH_ATTR_LOG_APPEND_TIME  0x08
#define SL_BATCH_ATTR_TRANSACTIONAL    0x10
#define SL_BATCH_ATTR_CONTROL          0x20

/* Largest batch we accept anywhere; a batchLength above this is corruption, not data. */
#define SL_BATCH_SIZE_MAX (1 << 30)

enum sl_codec {
    SL_CODEC_NONE = 0,
    SL_CODEC_GZIP = 1,
    SL_CODEC_SNAPPY = 2,
    SL_CODEC_LZ4 = 3,
    SL_CODEC_ZSTD = 4,
};

/* The decoded header of one batch. */
struct sl_batch_hdr {
    int64_t base_offset;
    int32_t length; /* batchLength: bytes after the length field */
    int32_t leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t record_count;
};

/* Whole size of the batch on disk / on the wire: batchLength + 12. */
static inline size_t sl_batch_hdr_size(const struct sl_batch_hdr *h)
{
    return (size_t)h->length + SL_BATCH_LOG_OVERHEAD;
}

static inline int64_t sl_batch_hdr_last_offset(const struct sl_batch_hdr *h)
{
    return h->base_offset + h->last_offset_delta;
}

static inline int sl_batch_hdr_codec(const struct sl_batch_hdr *h)
{
    return h->attributes & SL_BATCH_ATTR_COMPRESSION_MASK;
}

/*
 * Decode the 61-byte header at buf. Checks only what the header alone can show: magic 2,
 * batchLength in [49, SL_BATCH_SIZE_MAX], recordCount >= 0, lastOffsetDelta >= 0, a known
 * codec. Does not check the CRC nor that len holds the whole batch.
 * Returns 0, SL_ETRUNCATED (len < 61), SL_EUNSUPPORTED (magic 0/1) or SL_ECORRUPT.
 */
int sl_batch_parse_header(const uint8_t *buf, size_t len, struct sl_batch_hdr *h,
                          struct sl_err *err);

/*
 * The batch at the start of buf up to its CRC: the header as above, len holds the whole
 * batch, and the CRC matches; its records are not looked at. On success fills h. Returns 0,
 * SL_ETRUNCATED, SL_EUNSUPPORTED, SL_ECRC or SL_ECORRUPT, with detail in err.
 */
int sl_batch_validate_crc(const uint8_t *buf, size_t len, struct sl_batch_hdr *h,
                          struct sl_err *err);

/*
 * Fully validate the batch at the start of buf: the header as above, len holds the whole
 * batch, the CRC matches, and for uncompressed batches every record's framing, that
 * recordCount records exactly fill the batch, and that offset deltas are strictly increasing
 * and never beyond lastOffsetDelta. Compressed batches are checked up to the CRC (their
 * records need sl_batch_records_decompress first). On success fills h.
 * Returns 0, SL_ETRUNCATED, SL_EUNSUPPORTED, SL_ECRC or SL_ECORRUPT, with detail in err.
 */
int sl_batch_validate(const uint8_t *buf, size_t len, struct sl_batch_hdr *h,
                      struct sl_err *err);

/*
 * Check the records region (uncompressed) of a batch: count records exactly fill len bytes,
 * offset deltas strictly increase and stay <= last_offset_delta. Returns 0 or SL_ECORRUPT.
 */
int sl_batch_validate_records(const uint8_t *records, size_t len, int32_t count,
                              int32_t last_offset_delta, struct sl_err *err);

/* Rewrite fields that lie outside the CRC: no checksum work needed. */
void sl_batch_set_base_offset(uint8_t *buf, int64_t base_offset);
void sl_batch_set_leader_epoch(uint8_t *buf, int32_t epoch);

/*
 * Stamp the batch with log-append time: sets the timestamp-type attribute, maxTimestamp =
 * now_ms, and recomputes the CRC. buf must hold a whole valid batch.
 */
void sl_batch_set_log_append_time(uint8_t *buf, int64_t now_ms);

/* Recompute and store the CRC of a whole batch of total size len. */
void sl_batch_update_crc(uint8_t *buf, size_t len);

/* ---- zigzag varints (Kafka's record encoding; protobuf style) ---- */

/* Max bytes of an encoded varint (int32) and varlong (int64). */
#define SL_VARINT_MAX  5
#define SL_VARLONG_MAX 10

/*
 * Decode a zigzag varint (int32) / varlong (int64) at *p, not reading at or past end.
 * Advances *p. Returns 0, SL_ETRUNCATED (ran into end) or SL_ECORRUPT (too many bytes, or a
 * varint whose value does not fit 32 bits).
 */
int sl_varint_read(const uint8_t **p, const uint8_t *end, int32_t *out);
int sl_varlong_read(const uint8_t **p, const uint8_t *end, int64_t *out);

/* Encode v zigzag at p (room for SL_VARLONG_MAX bytes). Returns bytes written. */
size_t sl_varlong_write(uint8_t *p, int64_t v);

/* Bytes sl_varlong_write would write for v. */
size_t sl_varlong_size(int64_t v);

/* ---- records ---- */

struct sl_rec_header {
    const uint8_t *key;
    int32_t key_len;
    const uint8_t *value;
    int32_t value_len; /* -1 = null */
};

struct sl_record {
    int32_t length; /* bytes after the length varint */
    int8_t attributes;
    int64_t timestamp_delta;
    int32_t offset_delta;
    const uint8_t *key;
    int32_t key_len; /* -1 = null */
    const uint8_t *value;
    int32_t value_len; /* -1 = null */
    int32_t header_count;
    const uint8_t *headers; /* raw header bytes; walk with sl_rec_header_next */
    size_t headers_len;
};

struct sl_rec_iter {
    const uint8_t *p;
    const uint8_t *end;
    int32_t remaining;
};

/* Start iterating count records stored in [records, records + len). */
void sl_rec_iter_init(struct sl_rec_iter *it, const uint8_t *records, size_t len, int32_t count);

/*
 * Decode the next record into rec (pointers into the iterated buffer).
 * Returns 1 for a record, 0 at the end (all count records read and no bytes left over),
 * SL_ECORRUPT/SL_ETRUNCATED on a malformed record or leftover bytes, with detail in err.
 */
int sl_rec_iter_next(struct sl_rec_iter *it, struct sl_record *rec, struct sl_err *err);

/*
 * Decode the next header of a record from *p (start at rec->headers, stop after
 * rec->header_count calls). Returns 0 or SL_ECORRUPT/SL_ETRUNCATED.
 */
int sl_rec_header_next(const uint8_t **p, const uint8_t *end, struct sl_rec_header *h);

/* ---- builder (uncompressed; compress afterwards with sl_batch_compress) ---- */

struct sl_batch_builder {
    uint8_t *buf; /* header + records; owned */
    size_t len;
    size_t cap;
    int32_t count;
    int64_t base_offset;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int16_t attributes;
};

/*
 * Start a batch at base_offset whose timestamps are relative to base_timestamp. Producer id
 * -1, epoch -1, sequence -1 (no idempotence) unless changed in the struct before finish.
 * Returns 0 or -ENOMEM.
 */
int sl_batch_builder_init(struct sl_batch_builder *b, int64_t base_offset,
                          int64_t base_timestamp);

/*
 * As sl_batch_builder_init, on buf (malloc'd, cap >= SL_BATCH_HEADER_SIZE bytes), which the
 * builder takes over and may realloc: a caller that builds many batches reuses their buffers.
 */
void sl_batch_builder_init_buf(struct sl_batch_builder *b, int64_t base_offset,
                               int64_t base_timestamp, uint8_t *buf, size_t cap);

/*
 * Append one record with offset delta = number of records so far. key/value may be NULL
 * (null, length -1). Returns 0, -ENOMEM, or SL_ETOOLARGE past SL_BATCH_SIZE_MAX.
 */
int sl_batch_builder_add(struct sl_batch_builder *b, int64_t timestamp, const void *key,
                         int32_t key_len, const void *value, int32_t value_len,
                         const struct sl_rec_header *headers, int header_count);

/*
 * Finish the header (lengths, counts, timestamps, CRC) and hand the bytes to the caller, who
 * frees them with free(). The builder is left empty (fini is still safe). A batch needs at
 * least one record: returns SL_ERANGE on an empty builder.
 */
int sl_batch_builder_finish(struct sl_batch_builder *b, uint8_t **out, size_t *out_len);

/* Free what the builder holds. Safe after finish and on a zeroed struct. */
void sl_batch_builder_fini(struct sl_batch_builder *b);

#endif
