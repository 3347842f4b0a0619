/*
 * test_compress.c - the batch codecs: round trips of every codec on edge-sized inputs, the
 * decompression bomb guard, damaged and truncated input (errors, never crashes), inputs made
 * by other writers (raw snappy, zlib-wrapped gzip, streamed zstd, linked lz4 blocks), and
 * re-encoding whole batches. Single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "common/sl_macros.h"
#include "store/batch.h"
#include "store/compress.h"
#include "testutil.h"

#define MIB ((size_t)1 << 20)

static const int codecs[] = {SL_CODEC_GZIP, SL_CODEC_SNAPPY, SL_CODEC_LZ4, SL_CODEC_ZSTD};
#define NCODECS ((int)(sizeof(codecs) / sizeof(codecs[0])))

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static uint8_t *random_bytes(size_t n, uint32_t seed)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)rnd(&seed);
    }
    return p;
}

/* Text-like and highly compressible, but not a single repeated byte. */
static uint8_t *repetitive_bytes(size_t n)
{
    static const char line[] = "2024-05-01T12:00:00Z INFO sluice: appended batch to partition\n";
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)line[i % (sizeof(line) - 1)];
    }
    return p;
}

/* Compress with codec, decompress with room for exactly in_len bytes, compare. */
static void round_trip(int codec, const uint8_t *in, size_t in_len)
{
    struct sl_err err = {0};
    uint8_t *c = NULL, *d = NULL;
    size_t clen = 0, dlen = 0;
    assert_int_equal(sl_compress(codec, in, in_len, &c, &clen, &err), 0);
    assert_non_null(c);
    assert_true(clen > 0);
    int rc = sl_decompress(codec, c, clen, in_len, &d, &dlen, &err);
    if (rc != 0) {
        fail_msg("%s: %zu bytes: rc %d: %s", sl_codec_name(codec), in_len, rc, err.msg);
    }
    assert_non_null(d);
    assert_int_equal(dlen, in_len);
    if (in_len > 0) {
        assert_memory_equal(d, in, in_len);
    }
    free(d);
    /* One byte less room than the data needs must be refused, not truncated. */
    if (in_len > 0) {
        d = NULL;
        assert_int_equal(sl_decompress(codec, c, clen, in_len - 1, &d, &dlen, &err), SL_ETOOLARGE);
        assert_null(d);
    }
    free(c);
}

static void test_round_trip_edges(void **state)
{
    uint8_t one = 0x5a;
    uint8_t *rand1m = random_bytes(MIB, 7);
    uint8_t *rep1m = repetitive_bytes(MIB);
    for (int i = 0; i < NCODECS; i++) {
        round_trip(codecs[i], (const uint8_t *)"", 0);
        round_trip(codecs[i], &one, 1);
        round_trip(codecs[i], rand1m, MIB);
        round_trip(codecs[i], rep1m, MIB);
        /* Not a multiple of the xerial block or lz4 block sizes. */
        round_trip(codecs[i], rep1m, 100000);
    }
    free(rand1m);
    free(rep1m);
}

static void test_repetitive_compresses(void **state)
{
    uint8_t *rep1m = repetitive_bytes(MIB);
    for (int i = 0; i < NCODECS; i++) {
        uint8_t *c;
        size_t clen;
        assert_int_equal(sl_compress(codecs[i], rep1m, MIB, &c, &clen, NULL), 0);
        assert_true(clen < MIB / 10);
        free(c);
    }
    free(rep1m);
}

static void test_bomb_guard(void **state)
{
    size_t n = 10 * MIB;
    uint8_t *zeros = calloc(n, 1);
    assert_non_null(zeros);
    for (int i = 0; i < NCODECS; i++) {
        struct sl_err err = {0};
        uint8_t *c, *d = NULL;
        size_t clen, dlen = 0;
        assert_int_equal(sl_compress(codecs[i], zeros, n, &c, &clen, &err), 0);
        assert_true(clen < MIB);
        assert_int_equal(sl_decompress(codecs[i], c, clen, MIB, &d, &dlen, &err), SL_ETOOLARGE);
        assert_null(d);
        assert_non_null(strstr(err.msg, sl_codec_name(codecs[i])));
        /* And with enough room it all comes back. */
        assert_int_equal(sl_decompress(codecs[i], c, clen, n, &d, &dlen, &err), 0);
        assert_int_equal(dlen, n);
        assert_memory_equal(d, zeros, n);
        free(d);
        free(c);
    }
    free(zeros);
}

/*
 * Cut the compressed form of in at several points: each cut is an error, except that xerial
 * snappy cut exactly between blocks is a shorter valid stream, which must then decode to a
 * strict prefix of the input.
 */
static void check_truncations(int codec, const uint8_t *in, size_t in_len)
{
    uint8_t *c;
    size_t clen;
    assert_int_equal(sl_compress(codec, in, in_len, &c, &clen, NULL), 0);
    size_t cuts[] = {0, 1, 2, 5, 9, clen / 3, clen / 2, clen - 5, clen - 2, clen - 1};
    for (size_t k = 0; k < SL_ARRAY_SIZE(cuts); k++) {
        size_t cut = cuts[k];
        if (cut >= clen) {
            continue;
        }
        /* A copy of exactly cut bytes, so ASan sees any read past the end. */
        uint8_t *t = malloc(cut ? cut : 1);
        memcpy(t, c, cut);
        struct sl_err err = {0};
        uint8_t *d = NULL;
        size_t dlen = 0;
        int rc = sl_decompress(codec, t, cut, 2 * in_len + 16, &d, &dlen, &err);
        if (rc == 0) {
            if (codec != SL_CODEC_SNAPPY || dlen >= in_len ||
                (dlen > 0 && memcmp(d, in, dlen) != 0)) {
                fail_msg("%s: cut at %zu of %zu decoded to %zu bytes", sl_codec_name(codec), cut,
                         clen, dlen);
            }
            free(d);
        } else {
            if (rc != SL_ECORRUPT || d != NULL || !strstr(err.msg, sl_codec_name(codec))) {
                fail_msg("%s: cut at %zu of %zu: rc %d (%s)", sl_codec_name(codec), cut, clen, rc,
                         err.msg);
            }
        }
        free(t);
    }
    free(c);
}

static void test_truncated(void **state)
{
    uint8_t *rand = random_bytes(200000, 3);
    uint8_t *rep = repetitive_bytes(200000);
    for (int i = 0; i < NCODECS; i++) {
        check_truncations(codecs[i], rand, 200000);
        check_truncations(codecs[i], rep, 200000);
        check_truncations(codecs[i], rep, 1000);
    }
    free(rand);
    free(rep);
}

/* Flip each byte of a small compressed input in turn: any result but a crash or a leak. */
static void test_flipped_bytes(void **state)
{
    uint8_t *in = repetitive_bytes(5000);
    uint32_t seed = 99;
    for (size_t j = 0; j < 5000; j += 97) {
        in[j] = (uint8_t)rnd(&seed); /* some literals among the matches */
    }
    for (int i = 0; i < NCODECS; i++) {
        uint8_t *c;
        size_t clen;
        assert_int_equal(sl_compress(codecs[i], in, 5000, &c, &clen, NULL), 0);
        int errors = 0;
        for (size_t pos = 0; pos < clen; pos++) {
            static const uint8_t masks[] = {0x01, 0x80, 0xff};
            for (size_t m = 0; m < SL_ARRAY_SIZE(masks); m++) {
                uint8_t *t = malloc(clen);
                memcpy(t, c, clen);
                t[pos] ^= masks[m];
                uint8_t *d = NULL;
                size_t dlen = 0;
                int rc = sl_decompress(codecs[i], t, clen, 64 * 1024, &d, &dlen, NULL);
                if (rc == 0) {
                    free(d);
                } else {
                    assert_true(rc == SL_ECORRUPT || rc == SL_ETOOLARGE);
                    assert_null(d);
                    errors++;
                }
                free(t);
            }
        }
        /* Most damage must be noticed (gzip has a CRC, the rest at least their framing). */
        assert_true(errors > 0);
        free(c);
    }
    free(in);
}

static void test_trailing_garbage(void **state)
{
    static const uint8_t junk[] = "garbage!";
    uint8_t *in = repetitive_bytes(10000);
    for (int i = 0; i < NCODECS; i++) {
        for (size_t jl = 1; jl <= sizeof(junk) - 1; jl += 3) {
            uint8_t *c;
            size_t clen;
            assert_int_equal(sl_compress(codecs[i], in, 10000, &c, &clen, NULL), 0);
            uint8_t *t = malloc(clen + jl);
            memcpy(t, c, clen);
            memcpy(t + clen, junk, jl);
            struct sl_err err = {0};
            uint8_t *d = NULL;
            size_t dlen;
            int rc = sl_decompress(codecs[i], t, clen + jl, MIB, &d, &dlen, &err);
            if (rc != SL_ECORRUPT) {
                fail_msg("%s + %zu junk bytes: rc %d", sl_codec_name(codecs[i]), jl, rc);
            }
            assert_null(d);
            free(t);
            free(c);
        }
    }
    free(in);
}

static void test_raw_snappy(void **state)
{
    uint8_t *in = repetitive_bytes(300000);
    size_t clen = snappy_max_compressed_length(300000);
    char *c = malloc(clen);
    assert_int_equal(snappy_compress((const char *)in, 300000, c, &clen), SNAPPY_OK);
    uint8_t *d;
    size_t dlen;
    struct sl_err err = {0};
    assert_int_equal(sl_decompress(SL_CODEC_SNAPPY, (uint8_t *)c, clen, MIB, &d, &dlen, &err), 0);
    assert_int_equal(dlen, 300000);
    assert_memory_equal(d, in, 300000);
    free(d);
    /* A raw block states its size: too big is refused before decoding. */
    d = NULL;
    assert_int_equal(sl_decompress(SL_CODEC_SNAPPY, (uint8_t *)c, clen, 1000, &d, &dlen, &err),
                     SL_ETOOLARGE);
    assert_null(d);
    /* Damaged raw snappy. */
    assert_int_equal(sl_decompress(SL_CODEC_SNAPPY, (uint8_t *)c, clen / 2, MIB, &d, &dlen, &err),
                     SL_ECORRUPT);
    free(c);
    free(in);
}

static void test_xerial_framing(void **state)
{
    static const uint8_t header[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0,
                                       0,    0,   0,   1,   0,   0,   0,   1};
    uint8_t *in = random_bytes(100000, 11);
    uint8_t *c;
    size_t clen;
    assert_int_equal(sl_compress(SL_CODEC_SNAPPY, in, 100000, &c, &clen, NULL), 0);
    assert_true(clen > sizeof(header));
    assert_memory_equal(c, header, sizeof(header));
    /* 100000 bytes in 32 KiB blocks: 4 blocks, each prefixed by a big-endian length. */
    size_t pos = 16, blocks = 0, total = 0;
    while (pos < clen) {
        uint32_t blen = (uint32_t)c[pos] << 24 | (uint32_t)c[pos + 1] << 16 |
                        (uint32_t)c[pos + 2] << 8 | c[pos + 3];
        pos += 4;
        size_t ulen;
        assert_int_equal(snappy_uncompressed_length((const char *)c + pos, blen, &ulen), SNAPPY_OK);
        assert_true(ulen <= 32768);
        total += ulen;
        pos += blen;
        blocks++;
    }
    assert_int_equal(pos, clen);
    assert_int_equal(blocks, 4);
    assert_int_equal(total, 100000);
    /* Header only: a valid empty stream. Header cut short: corrupt. */
    uint8_t *d;
    size_t dlen;
    assert_int_equal(sl_decompress(SL_CODEC_SNAPPY, c, 16, 10, &d, &dlen, NULL), 0);
    assert_int_equal(dlen, 0);
    free(d);
    assert_int_equal(sl_decompress(SL_CODEC_SNAPPY, c, 12, 10, &d, &dlen, NULL), SL_ECORRUPT);
    free(c);
    free(in);
}

static void test_gzip_other_writers(void **state)
{
    uint8_t *in = repetitive_bytes(50000);
    /* zlib-wrapped (compress2), which some clients send under the gzip codec id. */
    uLongf zlen = compressBound(50000);
    uint8_t *z = malloc(zlen);
    assert_int_equal(compress2(z, &zlen, in, 50000, 6), Z_OK);
    uint8_t *d;
    size_t dlen;
    assert_int_equal(sl_decompress(SL_CODEC_GZIP, z, zlen, MIB, &d, &dlen, NULL), 0);
    assert_int_equal(dlen, 50000);
    assert_memory_equal(d, in, 50000);
    free(d);
    free(z);
    /* Two concatenated gzip members decode as their concatenation. */
    uint8_t *a, *b;
    size_t alen, blen;
    assert_int_equal(sl_compress(SL_CODEC_GZIP, in, 20000, &a, &alen, NULL), 0);
    assert_int_equal(sl_compress(SL_CODEC_GZIP, in + 20000, 30000, &b, &blen, NULL), 0);
    uint8_t *ab = malloc(alen + blen);
    memcpy(ab, a, alen);
    memcpy(ab + alen, b, blen);
    assert_int_equal(sl_decompress(SL_CODEC_GZIP, ab, alen + blen, MIB, &d, &dlen, NULL), 0);
    assert_int_equal(dlen, 50000);
    assert_memory_equal(d, in, 50000);
    free(d);
    free(ab);
    free(a);
    free(b);
    free(in);
}

static void test_zstd_streamed_unknown_size(void **state)
{
    uint8_t *in = repetitive_bytes(3 * MIB);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(3 * MIB);
    uint8_t *c = malloc(cap);
    ZSTD_outBuffer ob = {c, cap, 0};
    /* Feed in pieces without a pledged size: the frame header carries no content size. */
    for (size_t pos = 0; pos < 3 * MIB; pos += 100000) {
        size_t n = SL_MIN(3 * MIB - pos, (size_t)100000);
        ZSTD_inBuffer ib = {in + pos, n, 0};
        while (ib.pos < ib.size) {
            assert_false(ZSTD_isError(ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_continue)));
        }
    }
    ZSTD_inBuffer empty = {NULL, 0, 0};
    size_t left;
    do {
        left = ZSTD_compressStream2(cc, &ob, &empty, ZSTD_e_end);
        assert_false(ZSTD_isError(left));
    } while (left != 0);
    ZSTD_freeCCtx(cc);
    assert_int_equal(ZSTD_getFrameContentSize(c, ob.pos), ZSTD_CONTENTSIZE_UNKNOWN);
    uint8_t *d;
    size_t dlen;
    assert_int_equal(sl_decompress(SL_CODEC_ZSTD, c, ob.pos, 3 * MIB, &d, &dlen, NULL), 0);
    assert_int_equal(dlen, 3 * MIB);
    assert_memory_equal(d, in, 3 * MIB);
    free(d);
    d = NULL;
    assert_int_equal(sl_decompress(SL_CODEC_ZSTD, c, ob.pos, 2 * MIB, &d, &dlen, NULL),
                     SL_ETOOLARGE);
    assert_null(d);
    free(c);
    free(in);
}

static void test_lz4_linked_blocks_with_checksum(void **state)
{
    uint8_t *in = repetitive_bytes(MIB);
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof(prefs));
    prefs.frameInfo.blockMode = LZ4F_blockLinked;
    prefs.frameInfo.blockSizeID = LZ4F_max4MB;
    prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    prefs.frameInfo.contentSize = MIB;
    size_t cap = LZ4F_compressFrameBound(MIB, &prefs);
    uint8_t *c = malloc(cap);
    size_t clen = LZ4F_compressFrame(c, cap, in, MIB, &prefs);
    assert_false(LZ4F_isError(clen));
    uint8_t *d;
    size_t dlen;
    assert_int_equal(sl_decompress(SL_CODEC_LZ4, c, clen, MIB, &d, &dlen, NULL), 0);
    assert_int_equal(dlen, MIB);
    assert_memory_equal(d, in, MIB);
    free(d);
    /* With a content checksum a damaged literal is caught too. */
    c[clen / 2] ^= 0x10;
    d = NULL;
    assert_int_equal(sl_decompress(SL_CODEC_LZ4, c, clen, MIB, &d, &dlen, NULL), SL_ECORRUPT);
    assert_null(d);
    free(c);
    free(in);
}

static void test_unsupported_codec(void **state)
{
    uint8_t *d = (uint8_t *)"x";
    size_t dlen;
    assert_int_equal(sl_decompress(SL_CODEC_NONE, (const uint8_t *)"x", 1, 10, &d, &dlen, NULL),
                     SL_EUNSUPPORTED);
    assert_null(d);
    assert_int_equal(sl_decompress(5, (const uint8_t *)"x", 1, 10, &d, &dlen, NULL),
                     SL_EUNSUPPORTED);
    assert_int_equal(sl_compress(7, (const uint8_t *)"x", 1, &d, &dlen, NULL), SL_EUNSUPPORTED);
    assert_null(d);
}

static void test_codec_names(void **state)
{
    static const char *const names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    for (int c = 0; c < 5; c++) {
        assert_string_equal(sl_codec_name(c), names[c]);
        assert_int_equal(sl_codec_from_name(names[c]), c);
    }
    assert_int_equal(SL_CODEC_ZSTD, sl_codec_from_name("zstd"));
    assert_string_equal(sl_codec_name(5), "?");
    assert_string_equal(sl_codec_name(-1), "?");
    assert_int_equal(sl_codec_from_name("brotli"), -1);
    assert_int_equal(sl_codec_from_name(""), -1);
    assert_int_equal(sl_codec_from_name(NULL), -1);
    assert_int_equal(sl_codec_from_name("producer"), -1);
}

static void test_batch_compress(void **state)
{
    uint8_t *b;
    size_t len = tu_batch(&b, 50, 200, 1700000000000, 5);
    struct sl_batch_hdr h0;
    struct sl_err err = {0};
    assert_int_equal(sl_batch_validate(b, len, &h0, &err), 0);
    const uint8_t *recs0;
    size_t rlen0;
    int owned;
    assert_int_equal(sl_batch_records(b, &h0, MIB, &recs0, &rlen0, &owned, &err), 0);
    assert_int_equal(owned, 0);
    assert_ptr_equal(recs0, b + SL_BATCH_HEADER_SIZE);
    assert_int_equal(rlen0, len - SL_BATCH_HEADER_SIZE);

    for (int i = 0; i < NCODECS; i++) {
        int codec = codecs[i];
        uint8_t *cb;
        size_t clen;
        assert_int_equal(sl_batch_compress(b, len, codec, &cb, &clen, &err), 0);
        assert_true(clen < len);
        struct sl_batch_hdr h;
        int rc = sl_batch_validate(cb, clen, &h, &err);
        if (rc != 0) {
            fail_msg("%s batch fails validation: %d %s", sl_codec_name(codec), rc, err.msg);
        }
        assert_int_equal(sl_batch_hdr_codec(&h), codec);
        assert_int_equal(sl_batch_hdr_size(&h), clen);
        assert_int_equal(h.record_count, h0.record_count);
        assert_int_equal(h.base_offset, h0.base_offset);
        assert_int_equal(h.last_offset_delta, h0.last_offset_delta);
        assert_int_equal(h.max_timestamp, h0.max_timestamp);
        assert_int_equal(h.attributes & ~SL_BATCH_ATTR_COMPRESSION_MASK,
                         h0.attributes & ~SL_BATCH_ATTR_COMPRESSION_MASK);
        /* Header bytes outside length, CRC and attributes are copied unchanged. */
        assert_memory_equal(cb + SL_BATCH_OFF_LEADER_EPOCH, b + SL_BATCH_OFF_LEADER_EPOCH,
                            SL_BATCH_OFF_CRC - SL_BATCH_OFF_LEADER_EPOCH);
        assert_memory_equal(cb + SL_BATCH_OFF_LAST_OFFSET_DELTA, b + SL_BATCH_OFF_LAST_OFFSET_DELTA,
                            SL_BATCH_HEADER_SIZE - SL_BATCH_OFF_LAST_OFFSET_DELTA);

        const uint8_t *recs;
        size_t rlen;
        assert_int_equal(sl_batch_records(cb, &h, MIB, &recs, &rlen, &owned, &err), 0);
        assert_int_equal(owned, 1);
        assert_int_equal(rlen, rlen0);
        assert_memory_equal(recs, recs0, rlen0);
        assert_int_equal(
            sl_batch_validate_records(recs, rlen, h.record_count, h.last_offset_delta, &err), 0);
        free((void *)recs);

        /* The bomb guard reaches through sl_batch_records too. */
        recs = NULL;
        assert_int_equal(sl_batch_records(cb, &h, rlen0 - 1, &recs, &rlen, &owned, &err),
                         SL_ETOOLARGE);
        assert_null(recs);

        /* Compressing a compressed batch is refused. */
        uint8_t *twice = NULL;
        size_t tlen;
        assert_int_equal(sl_batch_compress(cb, clen, SL_CODEC_GZIP, &twice, &tlen, &err),
                         SL_EUNSUPPORTED);
        assert_null(twice);

        /* Damage in the compressed records is caught by the CRC. */
        cb[clen - 3] ^= 0x40;
        assert_int_equal(sl_batch_validate(cb, clen, &h, &err), SL_ECRC);
        free(cb);
    }

    /* codec none: a copy that still validates. */
    uint8_t *nb;
    size_t nlen;
    assert_int_equal(sl_batch_compress(b, len, SL_CODEC_NONE, &nb, &nlen, &err), 0);
    assert_int_equal(nlen, len);
    assert_memory_equal(nb, b, len);
    free(nb);

    /* A length that disagrees with the buffer, or a buffer shorter than a header. */
    assert_int_equal(sl_batch_compress(b, len - 1, SL_CODEC_LZ4, &nb, &nlen, &err), SL_ECORRUPT);
    assert_int_equal(sl_batch_compress(b, 60, SL_CODEC_LZ4, &nb, &nlen, &err), SL_ETRUNCATED);
    free(b);
}

static void test_batch_compress_one_record(void **state)
{
    /* Smallest batch: one record with an empty value; compression may grow it, fine. */
    uint8_t *b;
    size_t len = tu_batch(&b, 1, 0, 1000, 1);
    for (int i = 0; i < NCODECS; i++) {
        uint8_t *cb;
        size_t clen;
        struct sl_batch_hdr h;
        struct sl_err err = {0};
        assert_int_equal(sl_batch_compress(b, len, codecs[i], &cb, &clen, &err), 0);
        assert_int_equal(sl_batch_validate(cb, clen, &h, &err), 0);
        const uint8_t *recs;
        size_t rlen;
        int owned;
        assert_int_equal(sl_batch_records(cb, &h, MIB, &recs, &rlen, &owned, &err), 0);
        assert_int_equal(rlen, len - SL_BATCH_HEADER_SIZE);
        assert_memory_equal(recs, b + SL_BATCH_HEADER_SIZE, rlen);
        free((void *)recs);
        free(cb);
    }
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_names),
        cmocka_unit_test(test_round_trip_edges),
        cmocka_unit_test(test_repetitive_compresses),
        cmocka_unit_test(test_bomb_guard),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_flipped_bytes),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_raw_snappy),
        cmocka_unit_test(test_xerial_framing),
        cmocka_unit_test(test_gzip_other_writers),
        cmocka_unit_test(test_zstd_streamed_unknown_size),
        cmocka_unit_test(test_lz4_linked_blocks_with_checksum),
        cmocka_unit_test(test_unsupported_codec),
        cmocka_unit_test(test_batch_compress),
        cmocka_unit_test(test_batch_compress_one_record),
    };
    return cmocka_run_group_tests_name("compress", tests, NULL, NULL);
}
