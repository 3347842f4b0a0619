/*
 * test_msg_data.c - the data-path codecs (broker/proto/msg_data.h): every request and
 * response round-trips through the writer and reader at each version of its range, with the
 * version-dependent fields present or defaulted; every truncation of an encoded request is a
 * reader error (never a crash); hostile array counts are refused without large allocations;
 * Fetch record sets given as file ranges are framed with their total length.
 */
/* cmocka.h needs these first */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include "broker/proto/msg_data.h"
#include "common/sl_err.h"

#define S(lit)  ((struct sl_kp_str){lit, (int32_t)sizeof(lit) - 1})
#define NULLSTR ((struct sl_kp_str){NULL, -1})

static int str_eq(struct sl_kp_str a, struct sl_kp_str b)
{
    if (a.len != b.len) {
        return 0;
    }
    return a.len <= 0 || memcmp(a.p, b.p, (size_t)a.len) == 0;
}

typedef int (*decode_fn)(const uint8_t *buf, size_t len, int16_t v, struct sl_kp_arena *a);

/* Every strict prefix of buf must fail to decode; the whole must decode. */
static void check_truncations(const uint8_t *buf, size_t len, int16_t v, decode_fn fn)
{
    for (size_t i = 0; i < len; i++) {
        struct sl_kp_arena a;
        sl_kp_arena_init(&a, 1 << 20);
        uint8_t *copy = malloc(i ? i : 1); /* exact size: ASan catches any overread */
        memcpy(copy, buf, i);
        int rc = fn(copy, i, v, &a);
        assert_true(rc == SL_ETRUNCATED || rc == SL_ECORRUPT);
        free(copy);
        sl_kp_arena_fini(&a);
    }
    struct sl_kp_arena a;
    sl_kp_arena_init(&a, 1 << 20);
    assert_int_equal(fn(buf, len, v, &a), 0);
    sl_kp_arena_fini(&a);
}

/* ---- Produce ---- */

static const uint8_t REC1[] = {1, 2, 3, 4, 5};

static int dec_produce_req(const uint8_t *buf, size_t len, int16_t v, struct sl_kp_arena *a)
{
    struct sl_kp_reader r;
    struct sl_produce_req m;
    sl_kp_reader_init(&r, buf, len);
    return sl_msg_produce_req_decode(&r, v, a, &m);
}

static void test_produce_request(void **state)
{
    (void)state;
    for (int16_t v = SL_MSG_PRODUCE_MIN; v <= SL_MSG_PRODUCE_MAX; v++) {
        struct sl_produce_req_part parts[2] = {{0, {REC1, sizeof(REC1)}}, {7, {NULL, -1}}};
        struct sl_produce_req_topic topics[1] = {{S("events"), 2, parts}};
        struct sl_produce_req in = {v == 3 ? S("txn") : NULLSTR, -1, 30000, 1, topics};
        struct sl_kp_writer w;
        sl_kp_writer_init(&w);
        sl_msg_produce_req_encode(&w, v, &in);
        assert_int_equal(w.err, 0);

        struct sl_kp_arena a;
        sl_kp_arena_init(&a, 0);
        struct sl_kp_reader r;
        struct sl_produce_req out;
        sl_kp_reader_init(&r, w.buf, w.len);
        assert_int_equal(sl_msg_produce_req_decode(&r, v, &a, &out), 0);
        assert_int_equal(sl_kp_remaining(&r), 0);
        assert_true(str_eq(out.transactional_id, v >= 3 ? in.transactional_id : NULLSTR));
        assert_int_equal(out.acks, -1);
        assert_int_equal(out.timeout_ms, 30000);
        assert_int_equal(out.ntopics, 1);
        assert_true(str_eq(out.topics[0].name, S("events")));
        assert_int_equal(out.topics[0].npartitions, 2);
        assert_int_equal(out.topics[0].partitions[0].index, 0);
        assert_int_equal(out.topics[0].partitions[0].records.len, sizeof(REC1));
        assert_memory_equal(out.topics[0].partitions[0].records.p, REC1, sizeof(REC1));
        assert_int_equal(out.topics[0].partitions[1].index, 7);
        assert_int_equal(out.topics[0].partitions[1].records.len, -1);
        sl_kp_arena_fini(&a);
        check_truncations(w.buf, w.len, v, dec_produce_req);
        sl_kp_writer_fini(&w);
    }
    struct sl_kp_reader r;
    struct sl_produce_req out;
    struct sl_kp_arena a;
    sl_kp_arena_init(&a, 0);
    sl_kp_reader_init(&r, "", 0);
    assert_int_equal(sl_msg_produce_req_decode(&r, -1, &a, &out), SL_EUNSUPPORTED);
    assert_int_equal(sl_msg_produce_req_decode(&r, 9, &a, &out), SL_EUNSUPPORTED);
    sl_kp_arena_fini(&a);
}

static void test_produce_response(void **state)
{
    (void)state;
    for (int16_t v = SL_MSG_PRODUCE_MIN; v <= SL_MSG_PRODUCE_MAX; v++) {
        struct sl_produce_record_error re[1] = {{3, S("bad record")}};
        struct sl_produce_resp_part parts[2] = {
            {0, 0, 42, -1, 40, 0, NULL, NULLSTR},
            {1, 87, -1, -1, -1, 1, re, S("invalid")},
        };
        struct sl_produce_resp_topic topics[1] = {{S("t"), 2, parts}};
        struct sl_produce_resp in = {1, topics, 5};
        struct sl_kp_writer w;
        sl_kp_writer_init(&w);
        sl_msg_produce_resp_encode(&w, v, &in);
        struct sl_kp_arena a;
        sl_kp_arena_init(&a, 0);
        struct sl_kp_reader r;
        struct sl_produce_resp out;
        sl_kp_reader_init(&r, w.buf, w.len);
        assert_int_equal(sl_msg_produce_resp_decode(&r, v, &a, &out), 0);
        assert_int_equal(sl_kp_remaining(&r), 0);
        assert_int_equal(out.throttle_time_ms, v >= 1 ? 5 : 0);
        const struct sl_produce_resp_part *p = out.topics[0].partitions;
        assert_int_equal(p[0].base_offset, 42);
        assert_int_equal(p[0].log_append_time_ms, -1);
        assert_int_equal(p[0].log_start_offset, v >= 5 ? 40 : -1);
        assert_int_equal(p[1].error_code, 87);
        if (v >= 8) {
            assert_int_equal(p[1].nrecord_errors, 1);
            assert_int_equal(p[1].record_errors[0].batch_index, 3);
            assert_true(str_eq(p[1].record_errors[0].message, S("bad record")));
            assert_true(str_eq(p[1].error_message, S("invalid")));
            assert_int_equal(p[0].error_message.len, -1);
        } else {
            assert_int_equal(p[1].nrecord_errors, 0);
        }
        sl_kp_arena_fini(&a);
        sl_kp_writer_fini(&w);
    }
}

/* ---- Fetch ---- */

static int dec_fetch_req(const uint8_t *buf, size_t len, int16_t v, struct sl_kp_arena *a)
{
    struct sl_kp_reader r;
    struct sl_fetch_req m;
    sl_kp_reader_init(&r, buf, len);
    return sl_msg_fetch_req_decode(&r, v, a, &m);
}

static void test_fetch_request(void **state)
{
    (void)state;
    for (int16_t v = SL_MSG_FETCH_MIN; v <= SL_MSG_FETCH_MAX; v++) {
        struct sl_fetch_req_part parts[2] = {{0, 3, 100, 5, 1 << 20}, {4, 3, 0, 0, 65536}};
        struct sl_fetch_req_topic topics[1] = {{S("logs"), 2, parts}};
        int32_t fparts[2] = {1, 2};
        struct sl_fetch_forgotten forgotten[1] = {{S("old"), 2, fparts}};
        struct sl_fetch_req in = {-1, 500, 1,      52428800, 1,         0,
                                  -1, 1,   topics, 1,        forgotten, S("rack-a")};
        struct sl_kp_writer w;
        sl_kp_writer_init(&w);
        sl_msg_fetch_req_encode(&w, v, &in);
        struct sl_kp_arena a;
        sl_kp_arena_init(&a, 0);
        struct sl_kp_reader r;
        struct sl_fetch_req out;
        sl_kp_reader_init(&r, w.buf, w.len);
        assert_int_equal(sl_msg_fetch_req_decode(&r, v, &a, &out), 0);
        assert_int_equal(sl_kp_remaining(&r), 0);
        assert_int_equal(out.replica_id, -1);
        assert_int_equal(out.max_wait_ms, 500);
        assert_int_equal(out.min_bytes, 1);
        assert_int_equal(out.max_bytes, 52428800);
        assert_int_equal(out.isolation_level, 1);
        assert_int_equal(out.session_epoch, -1);
        const struct sl_fetch_req_part *p = out.topics[0].partitions;
        assert_true(str_eq(out.topics[0].name, S("logs")));
        assert_int_equal(p[0].current_leader_epoch, v >= 9 ? 3 : -1);
        assert_int_equal(p[0].fetch_offset, 100);
        assert_int_equal(p[0].log_start_offset, v >= 5 ? 5 : -1);
        assert_int_equal(p[0].partition_max_bytes, 1 << 20);
        assert_int_equal(p[1].partition, 4);
        assert_int_equal(out.nforgotten, v >= 7 ? 1 : 0);
        if (v >= 7) {
            assert_true(str_eq(out.forgotten[0].name, S("old")));
            assert_int_equal(out.forgotten[0].partitions[1], 2);
        }
        assert_true(str_eq(out.rack_id, v >= 11 ? S("rack-a") : S("")));
        sl_kp_arena_fini(&a);
        check_truncations(w.buf, w.len, v, dec_fetch_req);
        sl_kp_writer_fini(&w);
    }
}

static int released;
static void count_release(void *owner)
{
    (void)owner;
    released++;
}

static void test_fetch_response(void **state)
{
    (void)state;
    static const uint8_t recs[] = "0123456789";
    for (int16_t v = SL_MSG_FETCH_MIN; v <= SL_MSG_FETCH_MAX; v++) {
        struct sl_fetch_aborted ab[1] = {{9, 10}};
        struct sl_fetch_resp_part parts[2];
        memset(parts, 0, sizeof(parts));
        parts[0] = (struct sl_fetch_resp_part){0, 0, 10, 10, 2, -1, NULL, -1, {recs, 10}, 0, NULL};
        parts[1] = (struct sl_fetch_resp_part){1, 1, 5, 5, 0, 1, ab, -1, {NULL, -1}, 0, NULL};
        struct sl_fetch_resp_topic topics[1] = {{S("t"), 2, parts}};
        struct sl_fetch_resp in = {7, 0, 0, 1, topics};
        struct sl_kp_writer w;
        sl_kp_writer_init(&w);
        sl_msg_fetch_resp_encode(&w, v, &in);
        struct sl_kp_arena a;
        sl_kp_arena_init(&a, 0);
        struct sl_kp_reader r;
        struct sl_fetch_resp out;
        sl_kp_reader_init(&r, w.buf, w.len);
        assert_int_equal(sl_msg_fetch_resp_decode(&r, v, &a, &out), 0);
        assert_int_equal(sl_kp_remaining(&r), 0);
        assert_int_equal(out.throttle_time_ms, 7);
        const struct sl_fetch_resp_part *p = out.topics[0].partitions;
        assert_int_equal(p[0].high_watermark, 10);
        assert_int_equal(p[0].last_stable_offset, 10);
        assert_int_equal(p[0].log_start_offset, v >= 5 ? 2 : -1);
        assert_int_equal(p[0].naborted, -1);
        assert_int_equal(p[0].records.len, 10);
        assert_memory_equal(p[0].records.p, recs, 10);
        assert_int_equal(p[1].naborted, 1);
        assert_int_equal(p[1].aborted[0].producer_id, 9);
        assert_int_equal(p[1].aborted[0].first_offset, 10);
        assert_int_equal(p[1].records.len, -1);
        sl_kp_arena_fini(&a);
        sl_kp_writer_fini(&w);
    }

    /* File ranges: the length prefix is their total, the ranges go to the writer. */
    struct sl_kp_file_part files[2] = {{0, 5, 100, 30, count_release, NULL},
                                       {0, 6, 0, 12, count_release, NULL}};
    struct sl_fetch_resp_part part = {0, 0, 1, 1, 0, -1, NULL, -1, {NULL, -1}, 2, files};
    struct sl_fetch_resp_topic topic = {S("t"), 1, &part};
    struct sl_fetch_resp in = {0, 0, 0, 1, &topic};
    struct sl_kp_writer w;
    sl_kp_writer_init(&w);
    released = 0;
    sl_msg_fetch_resp_encode(&w, 11, &in);
    assert_int_equal(w.err, 0);
    assert_int_equal(w.nfiles, 2);
    assert_int_equal(w.file_bytes, 42);
    assert_int_equal(w.files[0].at, w.len);
    /* the last 4 bytes of the buffer are the record set's length */
    assert_int_equal(w.buf[w.len - 1], 42);
    assert_int_equal(w.buf[w.len - 2], 0);
    sl_kp_writer_fini(&w);
    assert_int_equal(released, 2);
}

/* ---- ListOffsets ---- */

static int dec_lo_req(const uint8_t *buf, size_t len, int16_t v, struct sl_kp_arena *a)
{
    struct sl_kp_reader r;
    struct sl_list_offsets_req m;
    sl_kp_reader_init(&r, buf, len);
    return sl_msg_list_offsets_req_decode(&r, v, a, &m);
}

static void test_list_offsets(void **state)
{
    (void)state;
    for (int16_t v = SL_MSG_LIST_OFFSETS_MIN; v <= SL_MSG_LIST_OFFSETS_MAX; v++) {
        struct sl_list_offsets_req_part parts[2] = {{0, 2, -2}, {1, 2, 1700000000000}};
        struct sl_list_offsets_req_topic topics[1] = {{S("x"), 2, parts}};
        struct sl_list_offsets_req in = {-1, 1, 1, topics};
        struct sl_kp_writer w;
        sl_kp_writer_init(&w);
        sl_msg_list_offsets_req_encode(&w, v, &in);
        struct sl_kp_arena a;
        sl_kp_arena_init(&a, 0);
        struct sl_kp_reader r;
        struct sl_list_offsets_req out;
        sl_kp_reader_init(&r, w.buf, w.len);
        assert_int_equal(sl_msg_list_offsets_req_decode(&r, v, &a, &out), 0);
        assert_int_equal(sl_kp_remaining(&r), 0);
        assert_int_equal(out.replica_id, -1);
        assert_int_equal(out.isolation_level, v >= 2 ? 1 : 0);
        assert_int_equal(out.topics[0].partitions[0].timestamp, -2);
        assert_int_equal(out.topics[0].partitions[1].timestamp, 1700000000000);
        assert_int_equal(out.topics[0].partitions[1].current_leader_epoch, v >= 4 ? 2 : -1);
        sl_kp_arena_fini(&a);
        check_truncations(w.buf, w.len, v, dec_lo_req);
        sl_kp_writer_fini(&w);

        struct sl_list_offsets_resp_part rparts[1] = {{1, 0, 1700000000001, 77, 4}};
        struct sl_list_offsets_resp_topic rtopics[1] = {{S("x"), 1, rparts}};
        struct sl_list_offsets_resp rin = {3, 1, rtopics};
        sl_kp_writer_init(&w);
        sl_msg_list_offsets_resp_encode(&w, v, &rin);
        sl_kp_arena_init(&a, 0);
        struct sl_list_offsets_resp rout;
        sl_kp_reader_init(&r, w.buf, w.len);
        assert_int_equal(sl_msg_list_offsets_resp_decode(&r, v, &a, &rout), 0);
        assert_int_equal(sl_kp_remaining(&r), 0);
        assert_int_equal(rout.throttle_time_ms, v >= 2 ? 3 : 0);
        assert_int_equal(rout.topics[0].partitions[0].offset, 77);
        assert_int_equal(rout.topics[0].partitions[0].timestamp, 1700000000001);
        assert_int_equal(rout.topics[0].partitions[0].leader_epoch, v >= 4 ? 4 : -1);
        sl_kp_arena_fini(&a);
        sl_kp_writer_fini(&w);
    }
}

/* ---- InitProducerId ---- */

static int dec_pid_req(const uint8_t *buf, size_t len, int16_t v, struct sl_kp_arena *a)
{
    (void)a;
    struct sl_kp_reader r;
    struct sl_init_pid_req m;
    sl_kp_reader_init(&r, buf, len);
    return sl_msg_init_pid_req_decode(&r, v, &m);
}

static void test_init_producer_id(void **state)
{
    (void)state;
    for (int16_t v = SL_MSG_INIT_PID_MIN; v <= SL_MSG_INIT_PID_MAX; v++) {
        struct sl_init_pid_req in = {v ? S("tx") : NULLSTR, 60000};
        struct sl_kp_writer w;
        sl_kp_writer_init(&w);
        sl_msg_init_pid_req_encode(&w, v, &in);
        struct sl_kp_reader r;
        struct sl_init_pid_req out;
        sl_kp_reader_init(&r, w.buf, w.len);
        assert_int_equal(sl_msg_init_pid_req_decode(&r, v, &out), 0);
        assert_true(str_eq(out.transactional_id, in.transactional_id));
        assert_int_equal(out.transaction_timeout_ms, 60000);
        check_truncations(w.buf, w.len, v, dec_pid_req);
        sl_kp_writer_fini(&w);

        struct sl_init_pid_resp rin = {0, 0, 1234567890123, 0};
        sl_kp_writer_init(&w);
        sl_msg_init_pid_resp_encode(&w, v, &rin);
        assert_int_equal(w.len, 4 + 2 + 8 + 2);
        struct sl_init_pid_resp rout;
        sl_kp_reader_init(&r, w.buf, w.len);
        assert_int_equal(sl_msg_init_pid_resp_decode(&r, v, &rout), 0);
        assert_int_equal(rout.producer_id, 1234567890123);
        assert_int_equal(rout.producer_epoch, 0);
        sl_kp_writer_fini(&w);
    }
}

/* ---- OffsetForLeaderEpoch ---- */

static int dec_ofle_req(const uint8_t *buf, size_t len, int16_t v, struct sl_kp_arena *a)
{
    struct sl_kp_reader r;
    struct sl_ofle_req m;
    sl_kp_reader_init(&r, buf, len);
    return sl_msg_ofle_req_decode(&r, v, a, &m);
}

static void test_offset_for_leader_epoch(void **state)
{
    (void)state;
    for (int16_t v = SL_MSG_OFLE_MIN; v <= SL_MSG_OFLE_MAX; v++) {
        struct sl_ofle_req_part parts[1] = {{3, 5, 4}};
        struct sl_ofle_req_topic topics[1] = {{S("y"), 1, parts}};
        struct sl_ofle_req in = {1, 1, topics};
        struct sl_kp_writer w;
        sl_kp_writer_init(&w);
        sl_msg_ofle_req_encode(&w, v, &in);
        struct sl_kp_arena a;
        sl_kp_arena_init(&a, 0);
        struct sl_kp_reader r;
        struct sl_ofle_req out;
        sl_kp_reader_init(&r, w.buf, w.len);
        assert_int_equal(sl_msg_ofle_req_decode(&r, v, &a, &out), 0);
        assert_int_equal(sl_kp_remaining(&r), 0);
        assert_int_equal(out.replica_id, v >= 3 ? 1 : -2);
        assert_int_equal(out.topics[0].partitions[0].partition, 3);
        assert_int_equal(out.topics[0].partitions[0].current_leader_epoch, v >= 2 ? 5 : -1);
        assert_int_equal(out.topics[0].partitions[0].leader_epoch, 4);
        sl_kp_arena_fini(&a);
        check_truncations(w.buf, w.len, v, dec_ofle_req);
        sl_kp_writer_fini(&w);

        struct sl_ofle_resp_part rparts[1] = {{0, 3, 4, 1000}};
        struct sl_ofle_resp_topic rtopics[1] = {{S("y"), 1, rparts}};
        struct sl_ofle_resp rin = {2, 1, rtopics};
        sl_kp_writer_init(&w);
        sl_msg_ofle_resp_encode(&w, v, &rin);
        sl_kp_arena_init(&a, 0);
        struct sl_ofle_resp rout;
        sl_kp_reader_init(&r, w.buf, w.len);
        assert_int_equal(sl_msg_ofle_resp_decode(&r, v, &a, &rout), 0);
        assert_int_equal(sl_kp_remaining(&r), 0);
        assert_int_equal(rout.throttle_time_ms, v >= 2 ? 2 : 0);
        assert_int_equal(rout.topics[0].partitions[0].partition, 3);
        assert_int_equal(rout.topics[0].partitions[0].leader_epoch, v >= 1 ? 4 : -1);
        assert_int_equal(rout.topics[0].partitions[0].end_offset, 1000);
        sl_kp_arena_fini(&a);
        sl_kp_writer_fini(&w);
    }
}

/* ---- hostile input ---- */

static void test_hostile_counts(void **state)
{
    (void)state;
    /* Produce v3: null txn id, acks, timeout, then 2^31-1 topics in 10 bytes. */
    static const uint8_t produce[] = {0xff, 0xff, 0, 1, 0, 0, 0, 100, 0x7f, 0xff, 0xff,
                                      0xff, 0,    0, 0, 0, 0, 0, 0,   0,    0,    0};
    struct sl_kp_arena a;
    sl_kp_arena_init(&a, 1 << 20);
    struct sl_kp_reader r;
    struct sl_produce_req pm;
    sl_kp_reader_init(&r, produce, sizeof(produce));
    assert_int_equal(sl_msg_produce_req_decode(&r, 3, &a, &pm), SL_ECORRUPT);
    assert_true(a.total < 4096);

    /* Negative counts (other than a nullable -1) are corrupt. */
    static const uint8_t neg[] = {0xff, 0xff, 0, 1, 0, 0, 0, 100, 0xff, 0xff, 0xff, 0xfe};
    sl_kp_reader_init(&r, neg, sizeof(neg));
    assert_int_equal(sl_msg_produce_req_decode(&r, 3, &a, &pm), SL_ECORRUPT);

    /* Fetch v11 with a huge partition count inside the first topic. */
    struct sl_kp_writer fw;
    sl_kp_writer_init(&fw);
    sl_kp_write_i32(&fw, -1);  /* replica_id */
    sl_kp_write_i32(&fw, 500); /* max_wait_ms */
    sl_kp_write_i32(&fw, 1);   /* min_bytes */
    sl_kp_write_i32(&fw, 1 << 20);
    sl_kp_write_i8(&fw, 0);
    sl_kp_write_i32(&fw, 0);  /* session_id */
    sl_kp_write_i32(&fw, -1); /* session_epoch */
    sl_kp_write_i32(&fw, 1);  /* one topic */
    sl_kp_write_str(&fw, "t");
    sl_kp_write_i32(&fw, 0x10000000); /* partitions */
    sl_kp_write_i64(&fw, 0);
    struct sl_fetch_req fm;
    sl_kp_reader_init(&r, fw.buf, fw.len);
    assert_int_equal(sl_msg_fetch_req_decode(&r, 11, &a, &fm), SL_ECORRUPT);
    sl_kp_writer_fini(&fw);

    /* A null topic name is refused (names are not nullable). */
    static const uint8_t lo[] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 0};
    struct sl_list_offsets_req lm;
    sl_kp_reader_init(&r, lo, sizeof(lo));
    assert_int_equal(sl_msg_list_offsets_req_decode(&r, 2, &a, &lm), SL_ECORRUPT);

    /* An arena too small for a legitimate array fails cleanly with -ENOMEM. */
    struct sl_kp_arena tiny;
    sl_kp_arena_init(&tiny, 32);
    struct sl_produce_req_part parts[8];
    memset(parts, 0, sizeof(parts));
    for (int i = 0; i < 8; i++) {
        parts[i].index = i;
        parts[i].records.len = -1;
    }
    struct sl_produce_req_topic topics[1] = {{S("t"), 8, parts}};
    struct sl_produce_req in = {NULLSTR, 1, 0, 1, topics};
    struct sl_kp_writer w;
    sl_kp_writer_init(&w);
    sl_msg_produce_req_encode(&w, 3, &in);
    sl_kp_reader_init(&r, w.buf, w.len);
    assert_int_equal(sl_msg_produce_req_decode(&r, 3, &tiny, &pm), -ENOMEM);
    sl_kp_writer_fini(&w);
    sl_kp_arena_fini(&tiny);
    sl_kp_arena_fini(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_produce_request),
        cmocka_unit_test(test_produce_response),
        cmocka_unit_test(test_fetch_request),
        cmocka_unit_test(test_fetch_response),
        cmocka_unit_test(test_list_offsets),
        cmocka_unit_test(test_init_producer_id),
        cmocka_unit_test(test_offset_for_leader_epoch),
        cmocka_unit_test(test_hostile_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
