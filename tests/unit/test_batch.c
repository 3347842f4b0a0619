/*
 * test_batch.c - record batch v2: builder round trip, validation of every malformed length,
 * CRC coverage byte by byte, zigzag varint edges, log-append-time stamping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/sl_macros.h"
#include "store/batch.h"
#include "store/crc32c.h"
#include "testutil.h"

static void test_build_and_iterate(void **state)
{
    (void)state;
    struct sl_batch_builder b;
    assert_int_equal(sl_batch_builder_init(&b, 42, 1700000000000), 0);
    struct sl_rec_header hs[2] = {
        {(const uint8_t *)"h1", 2, (const uint8_t *)"v1", 2},
        {(const uint8_t *)"h2", 2, NULL, -1},
    };
    assert_int_equal(sl_batch_builder_add(&b, 1700000000005, "key", 3, "value", 5, hs, 2), 0);
    assert_int_equal(sl_batch_builder_add(&b, 1699999999990, NULL, 0, NULL, 0, NULL, 0), 0);
    assert_int_equal(sl_batch_builder_add(&b, 1700000000001, "", 0, "", 0, NULL, 0), 0);
    uint8_t *buf;
    size_t len;
    assert_int_equal(sl_batch_builder_finish(&b, &buf, &len), 0);
    sl_batch_builder_fini(&b);

    struct sl_batch_hdr h;
    struct sl_err err;
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), 0);
    assert_int_equal(h.base_offset, 42);
    assert_int_equal(h.record_count, 3);
    assert_int_equal(h.last_offset_delta, 2);
    assert_int_equal(sl_batch_hdr_size(&h), len);
    assert_int_equal(h.base_timestamp, 1700000000000);
    assert_int_equal(h.max_timestamp, 1700000000005);
    assert_int_equal(h.producer_id, -1);
    assert_int_equal(h.producer_epoch, -1);
    assert_int_equal(h.base_sequence, -1);
    assert_int_equal(h.leader_epoch, -1);
    assert_int_equal(h.magic, 2);

    struct sl_rec_iter it;
    struct sl_record r;
    sl_rec_iter_init(&it, buf + SL_BATCH_HEADER_SIZE, len - SL_BATCH_HEADER_SIZE, 3);
    assert_int_equal(sl_rec_iter_next(&it, &r, &err), 1);
    assert_int_equal(r.offset_delta, 0);
    assert_int_equal(r.timestamp_delta, 5);
    assert_int_equal(r.key_len, 3);
    assert_memory_equal(r.key, "key", 3);
    assert_int_equal(r.value_len, 5);
    assert_memory_equal(r.value, "value", 5);
    assert_int_equal(r.header_count, 2);
    const uint8_t *hp = r.headers;
    struct sl_rec_header hh;
    assert_int_equal(sl_rec_header_next(&hp, r.headers + r.headers_len, &hh), 0);
    assert_int_equal(hh.key_len, 2);
    assert_memory_equal(hh.key, "h1", 2);
    assert_memory_equal(hh.value, "v1", 2);
    assert_int_equal(sl_rec_header_next(&hp, r.headers + r.headers_len, &hh), 0);
    assert_memory_equal(hh.key, "h2", 2);
    assert_int_equal(hh.value_len, -1);
    assert_null(hh.value);
    assert_ptr_equal(hp, r.headers + r.headers_len);

    assert_int_equal(sl_rec_iter_next(&it, &r, &err), 1);
    assert_int_equal(r.offset_delta, 1);
    assert_int_equal(r.timestamp_delta, -10);
    assert_int_equal(r.key_len, -1);
    assert_null(r.key);
    assert_int_equal(r.value_len, -1);
    assert_int_equal(sl_rec_iter_next(&it, &r, &err), 1);
    assert_int_equal(r.key_len, 0);
    assert_int_equal(r.value_len, 0);
    assert_int_equal(sl_rec_iter_next(&it, &r, &err), 0);
    free(buf);
}

static void test_empty_builder(void **state)
{
    (void)state;
    struct sl_batch_builder b;
    uint8_t *buf;
    size_t len;
    assert_int_equal(sl_batch_builder_init(&b, 0, 0), 0);
    assert_int_equal(sl_batch_builder_finish(&b, &buf, &len), SL_ERANGE);
    sl_batch_builder_fini(&b);
}

/* Every byte under the CRC (attributes to the end) changes the CRC; bytes before do not. */
static void test_crc_covers_right_bytes(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len = tu_batch(&buf, 5, 20, 1000, 1);
    struct sl_batch_hdr h;
    for (size_t i = SL_BATCH_OFF_ATTRIBUTES; i < len; i++) {
        buf[i] ^= 0x01;
        int rc = sl_batch_validate(buf, len, &h, NULL);
        assert_int_equal(rc, SL_ECRC);
        buf[i] ^= 0x01;
    }
    /* baseOffset and partitionLeaderEpoch sit outside the CRC: brokers rewrite them. */
    sl_batch_set_base_offset(buf, 123456789);
    sl_batch_set_leader_epoch(buf, 77);
    assert_int_equal(sl_batch_validate(buf, len, &h, NULL), 0);
    assert_int_equal(h.base_offset, 123456789);
    assert_int_equal(h.leader_epoch, 77);
    /* The CRC field itself. */
    buf[SL_BATCH_OFF_CRC + 3] ^= 0x80;
    assert_int_equal(sl_batch_validate(buf, len, &h, NULL), SL_ECRC);
    free(buf);
}

static void test_magic(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len = tu_batch(&buf, 1, 10, 1000, 1);
    struct sl_batch_hdr h;
    struct sl_err err;
    buf[SL_BATCH_OFF_MAGIC] = 1;
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "v1"));
    buf[SL_BATCH_OFF_MAGIC] = 0;
    assert_int_equal(sl_batch_parse_header(buf, len, &h, NULL), SL_EUNSUPPORTED);
    buf[SL_BATCH_OFF_MAGIC] = 3;
    assert_int_equal(sl_batch_parse_header(buf, len, &h, NULL), SL_ECORRUPT);
    /* 17 bytes are enough to see a bad magic; fewer than 61 good ones are truncation. */
    assert_int_equal(sl_batch_parse_header(buf, 17, &h, NULL), SL_ECORRUPT);
    buf[SL_BATCH_OFF_MAGIC] = 2;
    assert_int_equal(sl_batch_parse_header(buf, 60, &h, NULL), SL_ETRUNCATED);
    assert_int_equal(sl_batch_parse_header(buf, 0, &h, NULL), SL_ETRUNCATED);
    free(buf);
}

/* Rewrite a header field, then restore the CRC so only the field is wrong. */
static void set32(uint8_t *buf, size_t len, int off, uint32_t v)
{
    sl_store_be32(buf + off, v);
    sl_batch_update_crc(buf, len);
}

static void test_malformed_lengths(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len = tu_batch(&buf, 4, 30, 1000, 2);
    uint8_t *copy = malloc(len);
    memcpy(copy, buf, len);
    struct sl_batch_hdr h;
    struct sl_err err;

    /* batchLength below the header, negative, above the limit, and beyond the buffer. */
    int32_t bad_lengths[] = {0, 48, -1, INT32_MIN, SL_BATCH_SIZE_MAX + 1};
    for (size_t i = 0; i < SL_ARRAY_SIZE(bad_lengths); i++) {
        sl_store_be32(buf + SL_BATCH_OFF_LENGTH, (uint32_t)bad_lengths[i]);
        assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_ECORRUPT);
    }
    sl_store_be32(buf + SL_BATCH_OFF_LENGTH, (uint32_t)(len - 12 + 1));
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_ETRUNCATED);
    memcpy(buf, copy, len);

    /* Every truncation of the buffer. */
    for (size_t cut = 0; cut < len; cut++) {
        int rc = sl_batch_validate(buf, cut, &h, NULL);
        assert_int_equal(rc, SL_ETRUNCATED);
    }

    /* batchLength shorter than the records (CRC recomputed over the shorter range). */
    size_t short_len = len - 5;
    sl_store_be32(buf + SL_BATCH_OFF_LENGTH, (uint32_t)(short_len - 12));
    sl_batch_update_crc(buf, short_len);
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_ECORRUPT);
    memcpy(buf, copy, len);

    /* recordCount too high, too low, negative; lastOffsetDelta too small, negative. */
    set32(buf, len, SL_BATCH_OFF_RECORD_COUNT, 5);
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_ECORRUPT);
    memcpy(buf, copy, len);
    set32(buf, len, SL_BATCH_OFF_RECORD_COUNT, 3);
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_ECORRUPT);
    assert_non_null(strstr(err.msg, "after the last record"));
    memcpy(buf, copy, len);
    set32(buf, len, SL_BATCH_OFF_RECORD_COUNT, 0);
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_ECORRUPT);
    memcpy(buf, copy, len);
    set32(buf, len, SL_BATCH_OFF_RECORD_COUNT, (uint32_t)-3);
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_ECORRUPT);
    memcpy(buf, copy, len);
    set32(buf, len, SL_BATCH_OFF_LAST_OFFSET_DELTA, 2);
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_ECORRUPT);
    memcpy(buf, copy, len);
    set32(buf, len, SL_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)-1);
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_ECORRUPT);
    memcpy(buf, copy, len);

    /* The first record's length varint claiming more than the batch holds. */
    buf[SL_BATCH_HEADER_SIZE] = 0x7e; /* zigzag 63 */
    sl_batch_update_crc(buf, len);
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_ECORRUPT);
    memcpy(buf, copy, len);
    /* A record length of zigzag -2. */
    buf[SL_BATCH_HEADER_SIZE] = 0x03;
    sl_batch_update_crc(buf, len);
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_ECORRUPT);
    memcpy(buf, copy, len);

    /* Unknown codec 5..7. */
    sl_store_be16(buf + SL_BATCH_OFF_ATTRIBUTES, 5);
    sl_batch_update_crc(buf, len);
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_ECORRUPT);
    memcpy(buf, copy, len);

    assert_int_equal(sl_batch_validate(buf, len, &h, &err), 0);
    free(copy);
    free(buf);
}

/* A record whose key length runs past the record, inside an otherwise well-framed batch. */
static void test_malformed_record_fields(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len = tu_batch(&buf, 1, 8, 1000, 3);
    struct sl_batch_hdr h;
    struct sl_err err;
    /* Record: len varint, attrs, tsDelta(0), offDelta(0), keyLen varint (zigzag 2 = 0x04). */
    size_t key_len_at = SL_BATCH_HEADER_SIZE + 1 + 1 + 1 + 1;
    assert_int_equal(buf[key_len_at], 0x04);
    buf[key_len_at] = 0x40; /* key length 32: beyond the record */
    sl_batch_update_crc(buf, len);
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_ECORRUPT);
    buf[key_len_at] = 0x05; /* key length -3 */
    sl_batch_update_crc(buf, len);
    assert_int_equal(sl_batch_validate(buf, len, &h, &err), SL_ECORRUPT);
    free(buf);
}

static void test_offset_deltas_must_increase(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len = tu_batch(&buf, 2, 4, 1000, 4);
    struct sl_batch_hdr h;
    /* Second record's offset delta: record 0 is len(1) + body; set record 1 delta to 0. */
    int32_t rlen;
    const uint8_t *p = buf + SL_BATCH_HEADER_SIZE;
    assert_int_equal(sl_varint_read(&p, buf + len, &rlen), 0);
    uint8_t *rec1 = (uint8_t *)p + rlen;
    /* rec1: len varint (1 byte), attrs, tsDelta varlong (1 byte), offsetDelta. */
    assert_int_equal(rec1[3], 0x02);
    rec1[3] = 0x00;
    sl_batch_update_crc(buf, len);
    assert_int_equal(sl_batch_validate(buf, len, &h, NULL), SL_ECORRUPT);
    free(buf);
}

static void test_varints(void **state)
{
    (void)state;
    int64_t longs[] = {0, 1, -1, 63, -64, 64, -65, 8191, 8192, INT32_MAX, INT32_MIN,
                       (int64_t)INT32_MAX + 1, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < SL_ARRAY_SIZE(longs); i++) {
        uint8_t b[SL_VARLONG_MAX];
        size_t n = sl_varlong_write(b, longs[i]);
        assert_int_equal(n, sl_varlong_size(longs[i]));
        assert_true(n <= SL_VARLONG_MAX);
        const uint8_t *p = b;
        int64_t v;
        assert_int_equal(sl_varlong_read(&p, b + n, &v), 0);
        assert_true(v == longs[i]);
        assert_ptr_equal(p, b + n);
        /* Every truncation reports truncation and does not move p. */
        for (size_t cut = 0; cut < n; cut++) {
            p = b;
            assert_int_equal(sl_varlong_read(&p, b + cut, &v), SL_ETRUNCATED);
            assert_ptr_equal(p, b);
        }
        if (longs[i] >= INT32_MIN && longs[i] <= INT32_MAX) {
            int32_t v32;
            p = b;
            assert_int_equal(sl_varint_read(&p, b + n, &v32), 0);
            assert_int_equal(v32, (int32_t)longs[i]);
        } else {
            int32_t v32;
            p = b;
            assert_int_equal(sl_varint_read(&p, b + n, &v32), SL_ECORRUPT);
        }
    }
    /* Known encodings: zigzag 0->00, -1->01, 1->02, 150 -> ac 02. */
    uint8_t b[SL_VARLONG_MAX];
    assert_int_equal(sl_varlong_write(b, -1), 1);
    assert_int_equal(b[0], 0x01);
    assert_int_equal(sl_varlong_write(b, 75), 2);
    assert_int_equal(b[0], 0x96);
    assert_int_equal(b[1], 0x01);
    /* Overlong: 11 continuation bytes, and a varint of 6 bytes. */
    uint8_t over[12];
    memset(over, 0x80, sizeof(over));
    const uint8_t *p = over;
    int64_t v;
    assert_int_equal(sl_varlong_read(&p, over + sizeof(over), &v), SL_ECORRUPT);
    int32_t v32;
    p = over;
    assert_int_equal(sl_varint_read(&p, over + sizeof(over), &v32), SL_ECORRUPT);
}

static void test_log_append_time(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len = tu_batch(&buf, 3, 10, 1000, 5);
    sl_batch_set_log_append_time(buf, 99999);
    struct sl_batch_hdr h;
    assert_int_equal(sl_batch_validate(buf, len, &h, NULL), 0);
    assert_true(h.attributes & SL_BATCH_ATTR_LOG_APPEND_TIME);
    assert_int_equal(h.max_timestamp, 99999);
    free(buf);
}

static void test_large_batch(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len = tu_batch(&buf, 1000, 1024, 1000, 6);
    struct sl_batch_hdr h;
    assert_int_equal(sl_batch_validate(buf, len, &h, NULL), 0);
    assert_int_equal(h.record_count, 1000);
    assert_int_equal(h.last_offset_delta, 999);
    assert_int_equal(h.max_timestamp, 1999);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_iterate),
        cmocka_unit_test(test_empty_builder),
        cmocka_unit_test(test_crc_covers_right_bytes),
        cmocka_unit_test(test_magic),
        cmocka_unit_test(test_malformed_lengths),
        cmocka_unit_test(test_malformed_record_fields),
        cmocka_unit_test(test_offset_deltas_must_increase),
        cmocka_unit_test(test_varints),
        cmocka_unit_test(test_log_append_time),
        cmocka_unit_test(test_large_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
