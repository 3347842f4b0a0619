/*
 * fuzz_batch.c - libFuzzer target for the record batch reader: header parsing, full
 * validation, record and header iteration, and decompression of compressed batches.
 * Whatever the bytes, the reader must return an error or succeed, never read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>

#include "store/batch.h"
#include "store/compress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_records(const uint8_t *recs, size_t len, int32_t count)
{
    struct sl_rec_iter it;
    struct sl_record r;
    sl_rec_iter_init(&it, recs, len, count);
    while (sl_rec_iter_next(&it, &r, NULL) == 1) {
        const uint8_t *hp = r.headers;
        struct sl_rec_header h;
        for (int32_t i = 0; i < r.header_count; i++) {
            if (sl_rec_header_next(&hp, r.headers + r.headers_len, &h) != 0) {
                break;
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    /* The input is a log: batches back to back, as in a segment file or a Produce request. */
    while (pos < size) {
        struct sl_batch_hdr h;
        if (sl_batch_parse_header(data + pos, size - pos, &h, NULL) != 0) {
            break;
        }
        size_t bsize = sl_batch_hdr_size(&h);
        /* Iterate even when the CRC is wrong: readers must survive any bytes. */
        if (bsize <= size - pos && sl_batch_hdr_codec(&h) == SL_CODEC_NONE) {
            walk_records(data + pos + SL_BATCH_HEADER_SIZE, bsize - SL_BATCH_HEADER_SIZE,
                         h.record_count);
        }
        int rc = sl_batch_validate(data + pos, size - pos, &h, NULL);
        if (rc != 0) {
            break;
        }
        if (sl_batch_hdr_codec(&h) != SL_CODEC_NONE) {
            const uint8_t *recs;
            size_t rlen;
            int owned;
            if (sl_batch_records(data + pos, &h, 1 << 20, &recs, &rlen, &owned, NULL) == 0) {
                sl_batch_validate_records(recs, rlen, h.record_count, h.last_offset_delta, NULL);
                walk_records(recs, rlen, h.record_count);
                if (owned) {
                    free((void *)recs);
                }
            }
        }
        pos += bsize;
    }
    return 0;
}
