/*
 * file_codec.c - the file channel's events as Kafka records: one uncompressed record batch
 * per put transaction, the body as the record value, the event headers as record headers
 * (in order), no key. Decoding validates every batch (CRC-32C, record framing) before any
 * event is made from it. Pure functions over caller-owned memory; any thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/file/file_int.h"
#include "common/sl_assert.h"
#include "common/sl_macros.h"
#include "store/batch.h"
#include "store/compress.h"

int sl_fc_encode(struct sl_event *const *evs, size_t n, int64_t now_ms, uint8_t **out,
                 size_t *out_len)
{
    struct sl_batch_builder b;
    int rc = sl_batch_builder_init(&b, 0, now_ms);
    if (rc != 0) {
        return rc;
    }
    struct sl_rec_header hs[16];
    struct sl_rec_header *h = hs;
    size_t hcap = SL_ARRAY_SIZE(hs);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct sl_event *ev = evs[i];
        if (ev->len > INT32_MAX) {
            rc = SL_ETOOLARGE;
            break;
        }
        if (ev->nheaders > hcap) {
            struct sl_rec_header *nh = malloc(ev->nheaders * sizeof(*nh));
            if (!nh) {
                rc = -ENOMEM;
                break;
            }
            if (h != hs) {
                free(h);
            }
            h = nh;
            hcap = ev->nheaders;
        }
        for (size_t j = 0; j < ev->nheaders; j++) {
            h[j].key = (const uint8_t *)ev->headers[j].key;
            h[j].key_len = (int32_t)strlen(ev->headers[j].key);
            h[j].value = (const uint8_t *)ev->headers[j].value;
            h[j].value_len = (int32_t)strlen(ev->headers[j].value);
        }
        rc = sl_batch_builder_add(&b, now_ms, NULL, -1, ev->body, (int32_t)ev->len, h,
                                  (int)ev->nheaders);
    }
    if (h != hs) {
        free(h);
    }
    if (rc == 0) {
        rc = sl_batch_builder_finish(&b, out, out_len);
    }
    sl_batch_builder_fini(&b);
    return rc;
}

static int push_item(struct sl_fc_decoded *d, struct sl_event *ev, int64_t off)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        struct sl_fc_item *it = realloc(d->items, cap * sizeof(*it));
        if (!it) {
            return -ENOMEM;
        }
        d->items = it;
        d->cap = cap;
    }
    d->items[d->n++] = (struct sl_fc_item){ev, off};
    return 0;
}

static void add_skip(struct sl_fc_decoded *d, int64_t from, int64_t to)
{
    if (to <= from) {
        return;
    }
    d->skipped_events += (uint64_t)(to - from);
    if (d->nskip > 0 && d->skip_to[d->nskip - 1] == from) {
        d->skip_to[d->nskip - 1] = to;
        return;
    }
    SL_ASSERT(d->nskip < SL_ARRAY_SIZE(d->skip_from));
    d->skip_from[d->nskip] = from;
    d->skip_to[d->nskip] = to;
    d->nskip++;
}

/* One event from a record: value as body, headers copied. NULL when out of memory. */
static struct sl_event *record_event(const struct sl_record *r, int *bad)
{
    struct sl_event *ev = sl_event_create(r->value ? r->value : (const uint8_t *)"",
                                          r->value_len > 0 ? (size_t)r->value_len : 0);
    if (!ev) {
        return NULL;
    }
    const uint8_t *p = r->headers, *end = r->headers + r->headers_len;
    for (int32_t i = 0; i < r->header_count; i++) {
        struct sl_rec_header h;
        if (sl_rec_header_next(&p, end, &h) != 0) {
            *bad = 1;
            break;
        }
        char key[256];
        size_t klen = SL_MIN((size_t)SL_MAX(h.key_len, 0), sizeof(key) - 1);
        memcpy(key, h.key, klen);
        key[klen] = '\0';
        size_t vlen = h.value_len > 0 ? (size_t)h.value_len : 0;
        char *val = malloc(vlen + 1);
        if (!val) {
            sl_event_destroy(ev);
            return NULL;
        }
        memcpy(val, h.value, vlen);
        val[vlen] = '\0';
        int rc = sl_event_set_header(ev, key, val);
        free(val);
        if (rc != 0) {
            sl_event_destroy(ev);
            return NULL;
        }
    }
    return ev;
}

int sl_fc_decode(const uint8_t *buf, size_t len, int64_t from, struct sl_fc_decoded *d,
                 size_t *consumed)
{
    size_t pos = 0;
    *consumed = 0;
    while (pos < len) {
        if (d->nskip + 1 >= SL_ARRAY_SIZE(d->skip_from)) {
            /* One slot stays free for the caller; the rest is decoded by the next read. */
            return SL_FC_DECODE_FULL;
        }
        struct sl_batch_hdr h;
        struct sl_err e = {0};
        if (sl_batch_parse_header(buf + pos, len - pos, &h, &e) != 0 ||
            sl_batch_hdr_size(&h) > len - pos) {
            /* Without a header the extent of this batch is unknown: stop here. */
            if (!d->first_error[0]) {
                snprintf(d->first_error, sizeof(d->first_error), "batch header at byte %zu: %.200s",
                         pos, e.msg[0] ? e.msg : "truncated");
            }
            d->corrupt_batches++;
            return 0;
        }
        size_t size = sl_batch_hdr_size(&h);
        int64_t last = sl_batch_hdr_last_offset(&h);
        if (h.producer_id == SL_FC_FILLER_PID) {
            add_skip(d, SL_MAX(h.base_offset, from), last + 1);
            pos += size;
            *consumed = pos;
            d->end_off = last + 1;
            continue;
        }
        int rc = sl_batch_validate(buf + pos, size, &h, &e);
        const uint8_t *recs = NULL;
        size_t rlen = 0;
        int owned = 0;
        if (rc == 0) {
            rc = sl_batch_records(buf + pos, &h, (size_t)SL_BATCH_SIZE_MAX, &recs, &rlen, &owned,
                                  &e);
        }
        size_t first_item = d->n;
        if (rc == 0) {
            struct sl_rec_iter it;
            struct sl_record r;
            sl_rec_iter_init(&it, recs, rlen, h.record_count);
            int more;
            while ((more = sl_rec_iter_next(&it, &r, &e)) == 1) {
                int64_t off = h.base_offset + r.offset_delta;
                if (off < from) {
                    continue;
                }
                int bad = 0;
                struct sl_event *ev = record_event(&r, &bad);
                if (!ev || push_item(d, ev, off) != 0) {
                    sl_event_destroy(ev);
                    if (owned) {
                        free((void *)recs);
                    }
                    return -ENOMEM;
                }
                if (bad) {
                    rc = SL_ECORRUPT;
                    snprintf(e.msg, sizeof(e.msg), "record at offset %lld: bad header",
                             (long long)off);
                    break;
                }
            }
            if (more < 0) {
                rc = more;
            }
        }
        if (owned) {
            free((void *)recs);
        }
        if (rc != 0) {
            /* Drop what this batch produced and skip it whole. */
            for (size_t i = first_item; i < d->n; i++) {
                sl_event_destroy(d->items[i].ev);
            }
            d->n = first_item;
            if (!d->first_error[0]) {
                snprintf(d->first_error, sizeof(d->first_error), "batch at offset %lld: %.200s",
                         (long long)h.base_offset, e.msg);
            }
            d->corrupt_batches++;
            add_skip(d, SL_MAX(h.base_offset, from), last + 1);
        }
        pos += size;
        *consumed = pos;
        d->end_off = last + 1;
    }
    return 0;
}

void sl_fc_decoded_fini(struct sl_fc_decoded *d)
{
    for (size_t i = 0; i < d->n; i++) {
        sl_event_destroy(d->items[i].ev);
    }
    free(d->items);
    memset(d, 0, sizeof(*d));
}
