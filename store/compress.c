/*
 * compress.c - the Kafka batch codecs (see compress.h): gzip through zlib, snappy raw and in
 * the xerial snappy-java framing, the LZ4 frame format, and zstd frames; plus the two batch
 * helpers that unpack a batch's records region and re-encode an uncompressed batch.
 *
 * Pure functions over caller-owned buffers: no shared state, no logging, any thread may call
 * them. Each call owns the library contexts it creates and frees them before returning.
 *
 * Decompression never trusts sizes stated by the input: output buffers grow geometrically
 * and are capped at out_max + 1 bytes, so a bomb costs at most that much memory before it is
 * refused with SL_ETOOLARGE (the one spare byte is how "exactly out_max" and "more than
 * out_max" are told apart for the streaming decoders).
 */
#include "compress.h"

#include <limits.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "../common/sl_macros.h"

/* snappy-java's stream header: magic, then version and minimum compatible version (be32). */
static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define XERIAL_HEADER_SIZE 16
#define XERIAL_VERSION     1
#define XERIAL_COMPAT      1
#define XERIAL_BLOCK_SIZE  (32 * 1024) /* snappy-java's default block size */

/* First guess at a decompressed size; the buffer grows from there. */
#define OBUF_MIN_CAP ((size_t)4096)

/* zlib counts in uInt: feed it at most this much at once. */
#define ZCHUNK ((size_t)1 << 30)

/* zstd window limits: never below what common producers use, never above zstd's default. */
#define ZSTD_WLOG_FLOOR 24
#define ZSTD_WLOG_CEIL  27

static const char *const codec_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

const char *sl_codec_name(int codec)
{
    if (codec < 0 || (size_t)codec >= SL_ARRAY_SIZE(codec_names)) {
        return "?";
    }
    return codec_names[codec];
}

int sl_codec_from_name(const char *name)
{
    if (!name) {
        return -1;
    }
    for (size_t i = 0; i < SL_ARRAY_SIZE(codec_names); i++) {
        if (strcmp(name, codec_names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* ---- output buffer with a hard cap ---- */

struct obuf {
    uint8_t *p;
    size_t len;
    size_t cap;
    size_t limit; /* out_max + 1 (saturating): cap never exceeds it */
};

static int obuf_init(struct obuf *o, size_t out_max, size_t guess)
{
    o->limit = out_max < SIZE_MAX ? out_max + 1 : SIZE_MAX;
    o->len = 0;
    o->cap = SL_MIN(SL_MAX(guess, OBUF_MIN_CAP), o->limit);
    o->p = malloc(o->cap);
    return o->p ? 0 : -ENOMEM;
}

/*
 * Make room for at least `need` more bytes (geometric growth, capped at the limit).
 * Returns 0, SL_ETOOLARGE when the cap is reached, or -ENOMEM.
 */
static int obuf_reserve(struct obuf *o, size_t need)
{
    if (o->cap - o->len >= need) {
        return 0;
    }
    if (need > o->limit - o->len) {
        return SL_ETOOLARGE;
    }
    size_t want = o->len + need;
    size_t ncap = o->cap > SIZE_MAX / 2 ? SIZE_MAX : o->cap * 2;
    ncap = SL_MIN(SL_MAX(ncap, want), o->limit);
    uint8_t *np = realloc(o->p, ncap);
    if (!np) {
        return -ENOMEM;
    }
    o->p = np;
    o->cap = ncap;
    return 0;
}

/* Room for "some" more output: the streaming decoders take whatever space there is. */
static int obuf_more(struct obuf *o)
{
    return o->len < o->cap ? 0 : obuf_reserve(o, 1);
}

/* Hand the bytes to the caller, trimming slack (a failed shrink keeps the larger block). */
static void obuf_take(struct obuf *o, uint8_t **out, size_t *out_len)
{
    if (o->len > 0 && o->cap - o->len > o->cap / 4) {
        uint8_t *np = realloc(o->p, o->len);
        if (np) {
            o->p = np;
        }
    }
    *out = o->p;
    *out_len = o->len;
    o->p = NULL;
}

static int too_large(struct sl_err *err, const char *codec, size_t out_max)
{
    return sl_err_set(err, SL_ETOOLARGE, "%s: decompressed data exceeds %zu bytes", codec, out_max);
}

/* ---- gzip ---- */

static int gzip_decompress(const uint8_t *in, size_t in_len, struct obuf *o, size_t out_max,
                           struct sl_err *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    /* 15 + 32: accept a gzip or a zlib header, as Kafka clients differ. */
    int zr = inflateInit2(&zs, 15 + 32);
    if (zr != Z_OK) {
        return zr == Z_MEM_ERROR ? -ENOMEM
                                 : sl_err_set(err, SL_ECORRUPT, "gzip: inflateInit2 failed");
    }
    size_t in_pos = 0;
    int rc = 0;
    for (;;) {
        if ((rc = obuf_more(o)) != 0) {
            if (rc == SL_ETOOLARGE) {
                rc = too_large(err, "gzip", out_max);
            }
            break;
        }
        if (zs.avail_in == 0 && in_pos < in_len) {
            size_t n = SL_MIN(in_len - in_pos, ZCHUNK);
            zs.next_in = (Bytef *)(uintptr_t)(in + in_pos);
            zs.avail_in = (uInt)n;
            in_pos += n;
        }
        size_t room = SL_MIN(o->cap - o->len, ZCHUNK);
        zs.next_out = o->p + o->len;
        zs.avail_out = (uInt)room;
        zr = inflate(&zs, Z_NO_FLUSH);
        o->len += room - zs.avail_out;
        if (o->len > out_max) {
            rc = too_large(err, "gzip", out_max);
            break;
        }
        if (zr == Z_STREAM_END) {
            size_t left = zs.avail_in + (in_len - in_pos);
            if (left == 0) {
                break;
            }
            /* Concatenated members are legal gzip (RFC 1952 2.2); anything else is not. */
            const uint8_t *next = in + in_len - left;
            if (left >= 2 && next[0] == 0x1f && next[1] == 0x8b) {
                uInt keep = zs.avail_in;
                const Bytef *keep_in = zs.next_in;
                inflateReset(&zs);
                zs.next_in = (Bytef *)(uintptr_t)keep_in;
                zs.avail_in = keep;
                continue;
            }
            rc = sl_err_set(err, SL_ECORRUPT, "gzip: %zu trailing bytes after the stream", left);
            break;
        }
        if (zr == Z_MEM_ERROR) {
            rc = -ENOMEM;
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = sl_err_set(err, SL_ECORRUPT, "gzip: corrupt input (%s)",
                            zs.msg ? zs.msg : "inflate failed");
            break;
        }
        if (zs.avail_out > 0 && zs.avail_in == 0 && in_pos == in_len) {
            /* Space left, input gone, stream not ended: it was cut short. */
            rc = sl_err_set(err, SL_ECORRUPT, "gzip: truncated input");
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}

static int gzip_compress(const uint8_t *in, size_t in_len, struct obuf *o, struct sl_err *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    /* 15 + 16: a gzip header, which is what Kafka's Java client writes and expects. */
    int zr = deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (zr != Z_OK) {
        return zr == Z_MEM_ERROR ? -ENOMEM
                                 : sl_err_set(err, SL_EUNSUPPORTED, "gzip: deflateInit2 failed");
    }
    int rc = 0;
    size_t in_pos = 0;
    if (in_len <= ZCHUNK) {
        rc = obuf_reserve(o, deflateBound(&zs, (uLong)in_len));
    }
    while (rc == 0) {
        if (zs.avail_in == 0 && in_pos < in_len) {
            size_t n = SL_MIN(in_len - in_pos, ZCHUNK);
            zs.next_in = (Bytef *)(uintptr_t)(in + in_pos);
            zs.avail_in = (uInt)n;
            in_pos += n;
        }
        if ((rc = obuf_more(o)) != 0) {
            break;
        }
        size_t room = SL_MIN(o->cap - o->len, ZCHUNK);
        zs.next_out = o->p + o->len;
        zs.avail_out = (uInt)room;
        int flush = in_pos == in_len ? Z_FINISH : Z_NO_FLUSH;
        zr = deflate(&zs, flush);
        o->len += room - zs.avail_out;
        if (zr == Z_STREAM_END) {
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = sl_err_set(err, SL_EUNSUPPORTED, "gzip: deflate failed (%d)", zr);
        }
    }
    deflateEnd(&zs);
    return rc;
}

/* ---- snappy ---- */

static int snappy_block(const uint8_t *blk, size_t blen, struct obuf *o, size_t out_max,
                        struct sl_err *err)
{
    size_t ulen;
    if (snappy_uncompressed_length((const char *)blk, blen, &ulen) != SNAPPY_OK) {
        return sl_err_set(err, SL_ECORRUPT, "snappy: corrupt block header");
    }
    if (ulen > out_max - o->len) {
        return too_large(err, "snappy", out_max);
    }
    int rc = obuf_reserve(o, ulen);
    if (rc != 0) {
        return rc == SL_ETOOLARGE ? too_large(err, "snappy", out_max) : rc;
    }
    size_t got = ulen;
    if (snappy_uncompress((const char *)blk, blen, (char *)o->p + o->len, &got) != SNAPPY_OK ||
        got != ulen) {
        return sl_err_set(err, SL_ECORRUPT, "snappy: corrupt block");
    }
    o->len += got;
    return 0;
}

static int snappy_decompress(const uint8_t *in, size_t in_len, struct obuf *o, size_t out_max,
                             struct sl_err *err)
{
    /*
     * A few bytes of the magic are a cut xerial header, not raw snappy: a raw block that
     * short could never hold the length its first bytes (0x82 0x53...) would claim.
     */
    if (in_len > 0 && in_len < XERIAL_HEADER_SIZE &&
        memcmp(in, xerial_magic, SL_MIN(in_len, sizeof(xerial_magic))) == 0) {
        return sl_err_set(err, SL_ECORRUPT, "snappy: truncated xerial header (%zu bytes)", in_len);
    }
    if (in_len < sizeof(xerial_magic) || memcmp(in, xerial_magic, sizeof(xerial_magic)) != 0) {
        return snappy_block(in, in_len, o, out_max, err);
    }
    /* Version and compat are not checked: snappy-java itself only ever wrote 1 and 1. */
    size_t pos = XERIAL_HEADER_SIZE;
    while (pos < in_len) {
        if (in_len - pos < 4) {
            return sl_err_set(err, SL_ECORRUPT, "snappy: truncated xerial block length at %zu",
                              pos);
        }
        size_t blen = sl_load_be32(in + pos);
        pos += 4;
        if (blen > in_len - pos) {
            return sl_err_set(err, SL_ECORRUPT,
                              "snappy: xerial block of %zu bytes at %zu runs past the end (%zu)",
                              blen, pos, in_len);
        }
        int rc = snappy_block(in + pos, blen, o, out_max, err);
        if (rc != 0) {
            return rc;
        }
        pos += blen;
    }
    return 0;
}

static int snappy_compress_xerial(const uint8_t *in, size_t in_len, struct obuf *o,
                                  struct sl_err *err)
{
    size_t nblocks = in_len / XERIAL_BLOCK_SIZE + (in_len % XERIAL_BLOCK_SIZE != 0);
    size_t per_block = 4 + snappy_max_compressed_length(XERIAL_BLOCK_SIZE);
    if (nblocks > (SIZE_MAX - XERIAL_HEADER_SIZE) / per_block) {
        return -ENOMEM;
    }
    int rc = obuf_reserve(o, XERIAL_HEADER_SIZE + nblocks * per_block);
    if (rc != 0) {
        return rc;
    }
    memcpy(o->p, xerial_magic, sizeof(xerial_magic));
    sl_store_be32(o->p + 8, XERIAL_VERSION);
    sl_store_be32(o->p + 12, XERIAL_COMPAT);
    o->len = XERIAL_HEADER_SIZE;
    for (size_t pos = 0; pos < in_len; pos += XERIAL_BLOCK_SIZE) {
        size_t n = SL_MIN(in_len - pos, (size_t)XERIAL_BLOCK_SIZE);
        size_t clen = o->cap - o->len - 4;
        if (snappy_compress((const char *)in + pos, n, (char *)o->p + o->len + 4, &clen) !=
            SNAPPY_OK) {
            return sl_err_set(err, SL_EUNSUPPORTED, "snappy: compression failed");
        }
        sl_store_be32(o->p + o->len, (uint32_t)clen);
        o->len += 4 + clen;
    }
    return 0;
}

/* ---- lz4 ---- */

static int lz4_decompress(const uint8_t *in, size_t in_len, struct obuf *o, size_t out_max,
                          struct sl_err *err)
{
    LZ4F_dctx *dctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) {
        return -ENOMEM;
    }
    size_t in_pos = 0;
    int rc = 0;
    for (;;) {
        if ((rc = obuf_more(o)) != 0) {
            if (rc == SL_ETOOLARGE) {
                rc = too_large(err, "lz4", out_max);
            }
            break;
        }
        size_t room = o->cap - o->len;
        size_t dst_n = room;
        size_t src_n = in_len - in_pos;
        size_t hint = LZ4F_decompress(dctx, o->p + o->len, &dst_n, in + in_pos, &src_n, NULL);
        if (LZ4F_isError(hint)) {
            rc = sl_err_set(err, SL_ECORRUPT, "lz4: corrupt input at %zu (%s)", in_pos,
                            LZ4F_getErrorName(hint));
            break;
        }
        in_pos += src_n;
        o->len += dst_n;
        if (o->len > out_max) {
            rc = too_large(err, "lz4", out_max);
            break;
        }
        /*
         * hint 0: a frame ended. Further bytes must be another frame (LZ4F starts one by
         * itself); garbage fails its magic check above.
         */
        if (hint == 0 && in_pos == in_len) {
            break;
        }
        if (hint != 0 && in_pos == in_len && dst_n < room) {
            rc = sl_err_set(err, SL_ECORRUPT, "lz4: truncated input (%zu bytes)", in_len);
            break;
        }
        if (src_n == 0 && dst_n == 0) {
            /* Room and input both offered, nothing taken: never loop on it. */
            rc = sl_err_set(err, SL_ECORRUPT, "lz4: decoder stalled at %zu", in_pos);
            break;
        }
    }
    LZ4F_freeDecompressionContext(dctx);
    return rc;
}

static int lz4_compress(const uint8_t *in, size_t in_len, struct obuf *o, struct sl_err *err)
{
    /*
     * Independent 64 KiB blocks, no content size or checksum: what Kafka's Java
     * KafkaLZ4BlockOutputStream and librdkafka write, and all the Java reader is sure to take.
     */
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof(prefs));
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    size_t bound = LZ4F_compressFrameBound(in_len, &prefs);
    int rc = obuf_reserve(o, bound);
    if (rc != 0) {
        return rc;
    }
    size_t n = LZ4F_compressFrame(o->p, o->cap, in, in_len, &prefs);
    if (LZ4F_isError(n)) {
        return sl_err_set(err, SL_EUNSUPPORTED, "lz4: compression failed (%s)",
                          LZ4F_getErrorName(n));
    }
    o->len = n;
    return 0;
}

/* ---- zstd ---- */

static int ceil_log2(size_t v)
{
    int b = 0;
    while (b < (int)(sizeof(size_t) * CHAR_BIT) - 1 && ((size_t)1 << b) < v) {
        b++;
    }
    return b;
}

static int zstd_decompress(const uint8_t *in, size_t in_len, struct obuf *o, size_t out_max,
                           struct sl_err *err)
{
    /* A frame that states its size up front can be refused before any work. */
    unsigned long long fcs = ZSTD_getFrameContentSize(in, in_len);
    if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs != ZSTD_CONTENTSIZE_ERROR && fcs > out_max) {
        return too_large(err, "zstd", out_max);
    }
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx) {
        return -ENOMEM;
    }
    /*
     * Bound the window (the decoder's own allocation) by out_max, but not below 16 MiB: a
     * streaming producer picks its level's window whatever the payload size.
     */
    int wlog = SL_MIN(SL_MAX(ceil_log2(out_max), ZSTD_WLOG_FLOOR), ZSTD_WLOG_CEIL);
    ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, wlog);
    ZSTD_inBuffer ib = {in, in_len, 0};
    int rc = 0;
    for (;;) {
        if ((rc = obuf_more(o)) != 0) {
            if (rc == SL_ETOOLARGE) {
                rc = too_large(err, "zstd", out_max);
            }
            break;
        }
        ZSTD_outBuffer ob = {o->p + o->len, o->cap - o->len, 0};
        size_t in_before = ib.pos;
        size_t r = ZSTD_decompressStream(dctx, &ob, &ib);
        if (ZSTD_isError(r)) {
            if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge) {
                rc = sl_err_set(err, SL_ETOOLARGE, "zstd: frame window above 2^%d bytes", wlog);
            } else if (ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation) {
                rc = -ENOMEM;
            } else {
                rc = sl_err_set(err, SL_ECORRUPT, "zstd: corrupt input at %zu (%s)", ib.pos,
                                ZSTD_getErrorName(r));
            }
            break;
        }
        o->len += ob.pos;
        if (o->len > out_max) {
            rc = too_large(err, "zstd", out_max);
            break;
        }
        /* r == 0: a frame ended and is flushed; more input must be another (checked) frame. */
        if (r == 0 && ib.pos == ib.size) {
            break;
        }
        if (r != 0 && ib.pos == ib.size && ob.pos < ob.size) {
            rc = sl_err_set(err, SL_ECORRUPT, "zstd: truncated input (%zu bytes)", in_len);
            break;
        }
        if (ib.pos == in_before && ob.pos == 0) {
            /* Room and input both offered, nothing taken: never loop on it. */
            rc = sl_err_set(err, SL_ECORRUPT, "zstd: decoder stalled at %zu", ib.pos);
            break;
        }
    }
    ZSTD_freeDCtx(dctx);
    return rc;
}

static int zstd_compress(const uint8_t *in, size_t in_len, struct obuf *o, struct sl_err *err)
{
    int rc = obuf_reserve(o, ZSTD_compressBound(in_len));
    if (rc != 0) {
        return rc;
    }
    size_t n = ZSTD_compress(o->p, o->cap, in, in_len, 3);
    if (ZSTD_isError(n)) {
        return ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation
                   ? -ENOMEM
                   : sl_err_set(err, SL_EUNSUPPORTED, "zstd: compression failed (%s)",
                                ZSTD_getErrorName(n));
    }
    o->len = n;
    return 0;
}

/* ---- public ---- */

int sl_decompress(int codec, const uint8_t *in, size_t in_len, size_t out_max, uint8_t **out,
                  size_t *out_len, struct sl_err *err)
{
    *out = NULL;
    *out_len = 0;
    if (codec <= SL_CODEC_NONE || codec > SL_CODEC_ZSTD) {
        return sl_err_set(err, SL_EUNSUPPORTED, "cannot decompress codec %d (%s)", codec,
                          sl_codec_name(codec));
    }
    /* Typical batches compress 2-5x; start there and let the buffer grow. */
    size_t guess = in_len <= SIZE_MAX / 4 ? in_len * 4 : SIZE_MAX;
    struct obuf o;
    if (obuf_init(&o, out_max, guess) != 0) {
        return -ENOMEM;
    }
    int rc;
    switch (codec) {
    case SL_CODEC_GZIP:
        rc = gzip_decompress(in, in_len, &o, out_max, err);
        break;
    case SL_CODEC_SNAPPY:
        rc = snappy_decompress(in, in_len, &o, out_max, err);
        break;
    case SL_CODEC_LZ4:
        rc = lz4_decompress(in, in_len, &o, out_max, err);
        break;
    default:
        rc = zstd_decompress(in, in_len, &o, out_max, err);
        break;
    }
    if (rc != 0) {
        free(o.p);
        return rc;
    }
    obuf_take(&o, out, out_len);
    return 0;
}

int sl_compress(int codec, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
                struct sl_err *err)
{
    *out = NULL;
    *out_len = 0;
    struct obuf o;
    if (obuf_init(&o, SIZE_MAX, 0) != 0) {
        return -ENOMEM;
    }
    int rc;
    switch (codec) {
    case SL_CODEC_NONE:
        rc = obuf_reserve(&o, in_len);
        if (rc == 0 && in_len > 0) {
            memcpy(o.p, in, in_len);
            o.len = in_len;
        }
        break;
    case SL_CODEC_GZIP:
        rc = gzip_compress(in, in_len, &o, err);
        break;
    case SL_CODEC_SNAPPY:
        rc = snappy_compress_xerial(in, in_len, &o, err);
        break;
    case SL_CODEC_LZ4:
        rc = lz4_compress(in, in_len, &o, err);
        break;
    case SL_CODEC_ZSTD:
        rc = zstd_compress(in, in_len, &o, err);
        break;
    default:
        rc = sl_err_set(err, SL_EUNSUPPORTED, "cannot compress with codec %d", codec);
        break;
    }
    if (rc != 0) {
        free(o.p);
        return rc;
    }
    obuf_take(&o, out, out_len);
    return 0;
}

int sl_batch_records(const uint8_t *buf, const struct sl_batch_hdr *h, size_t out_max,
                     const uint8_t **records, size_t *len, int *owned, struct sl_err *err)
{
    *records = NULL;
    *len = 0;
    *owned = 0;
    size_t size = sl_batch_hdr_size(h);
    if (h->length < 0 || size < SL_BATCH_HEADER_SIZE) {
        return sl_err_set(err, SL_ECORRUPT, "batch of %zu bytes has no records region", size);
    }
    const uint8_t *region = buf + SL_BATCH_HEADER_SIZE;
    size_t region_len = size - SL_BATCH_HEADER_SIZE;
    int codec = sl_batch_hdr_codec(h);
    if (codec == SL_CODEC_NONE) {
        if (region_len > out_max) {
            return too_large(err, "none", out_max);
        }
        *records = region;
        *len = region_len;
        return 0;
    }
    uint8_t *dec;
    int rc = sl_decompress(codec, region, region_len, out_max, &dec, len, err);
    if (rc != 0) {
        return rc;
    }
    *records = dec;
    *owned = 1;
    return 0;
}

int sl_batch_compress(const uint8_t *buf, size_t len, int codec, uint8_t **out, size_t *out_len,
                      struct sl_err *err)
{
    *out = NULL;
    *out_len = 0;
    if (len < SL_BATCH_HEADER_SIZE) {
        return sl_err_set(err, SL_ETRUNCATED, "batch of %zu bytes is shorter than its header", len);
    }
    if ((size_t)sl_load_be32(buf + SL_BATCH_OFF_LENGTH) + SL_BATCH_LOG_OVERHEAD != len) {
        return sl_err_set(err, SL_ECORRUPT, "batchLength %u does not match %zu bytes",
                          sl_load_be32(buf + SL_BATCH_OFF_LENGTH), len);
    }
    uint16_t attrs = sl_load_be16(buf + SL_BATCH_OFF_ATTRIBUTES);
    if ((attrs & SL_BATCH_ATTR_COMPRESSION_MASK) != SL_CODEC_NONE) {
        return sl_err_set(err, SL_EUNSUPPORTED, "batch is already compressed (%s)",
                          sl_codec_name(attrs & SL_BATCH_ATTR_COMPRESSION_MASK));
    }
    if (codec < SL_CODEC_NONE || codec > SL_CODEC_ZSTD) {
        return sl_err_set(err, SL_EUNSUPPORTED, "cannot compress with codec %d", codec);
    }
    uint8_t *comp;
    size_t clen;
    int rc = sl_compress(codec, buf + SL_BATCH_HEADER_SIZE, len - SL_BATCH_HEADER_SIZE, &comp,
                         &clen, err);
    if (rc != 0) {
        return rc;
    }
    if (clen > (size_t)SL_BATCH_SIZE_MAX - (SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD)) {
        free(comp);
        return sl_err_set(err, SL_ETOOLARGE, "%s batch of %zu bytes exceeds the batch limit",
                          sl_codec_name(codec), clen);
    }
    size_t total = SL_BATCH_HEADER_SIZE + clen;
    uint8_t *nb = malloc(total);
    if (!nb) {
        free(comp);
        return -ENOMEM;
    }
    memcpy(nb, buf, SL_BATCH_HEADER_SIZE);
    if (clen > 0) {
        memcpy(nb + SL_BATCH_HEADER_SIZE, comp, clen);
    }
    free(comp);
    sl_store_be32(nb + SL_BATCH_OFF_LENGTH, (uint32_t)(total - SL_BATCH_LOG_OVERHEAD));
    attrs = (uint16_t)((attrs & ~SL_BATCH_ATTR_COMPRESSION_MASK) | codec);
    sl_store_be16(nb + SL_BATCH_OFF_ATTRIBUTES, attrs);
    sl_batch_update_crc(nb, total);
    *out = nb;
    *out_len = total;
    return 0;
}
