/*
 * compress.h - the four Kafka batch codecs: gzip (zlib), snappy (raw and the xerial
 * snappy-java framing), lz4 (the standard LZ4 frame format) and zstd (a zstd frame).
 *
 * Pure functions over caller-owned buffers; no shared state; any thread may call them.
 */
#ifndef SL_COMPRESS_H
#define SL_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/sl_err.h"
#include "batch.h"

/* Codec name as Kafka spells it ("none", "gzip", "snappy", "lz4", "zstd"); "?" if unknown. */
const char *sl_codec_name(int codec);

/* Codec id from Kafka's name; -1 if unknown. */
int sl_codec_from_name(const char *name);

/*
 * Decompress in[0..in_len) compressed with codec into a fresh malloc'd buffer (*out, *out_len,
 * the caller frees it). Output larger than out_max is refused with SL_ETOOLARGE (a
 * decompression bomb guard). Returns 0, SL_ECORRUPT, SL_EUNSUPPORTED, SL_ETOOLARGE or -ENOMEM.
 */
int sl_decompress(int codec, const uint8_t *in, size_t in_len, size_t out_max, uint8_t **out,
                  size_t *out_len, struct sl_err *err);

/*
 * Compress in[0..in_len) with codec into a fresh malloc'd buffer (*out, *out_len). Snappy is
 * written in the xerial framing, as the Java client does. Returns 0, SL_EUNSUPPORTED or -ENOMEM.
 */
int sl_compress(int codec, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
                struct sl_err *err);

/*
 * The uncompressed records region of a whole, validated batch: for an uncompressed batch a
 * pointer into buf (*owned = 0); otherwise a fresh malloc'd buffer (*owned = 1) that the
 * caller frees. Returns as sl_decompress.
 */
int sl_batch_records(const uint8_t *buf, const struct sl_batch_hdr *h, size_t out_max,
                     const uint8_t **records, size_t *len, int *owned, struct sl_err *err);

/*
 * Re-encode an uncompressed batch (as sl_batch_builder_finish makes it) with codec: returns a
 * fresh malloc'd batch with the compression attribute set and the CRC recomputed.
 */
int sl_batch_compress(const uint8_t *buf, size_t len, int codec, uint8_t **out, size_t *out_len,
                      struct sl_err *err);

#endif
