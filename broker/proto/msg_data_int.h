/*
 * msg_data_int.h - helpers shared by the data-path codecs (msg_produce.c, msg_fetch.c,
 * msg_list_offsets.c, msg_init_producer_id.c, msg_offset_for_leader_epoch.c); not for
 * callers. Header-only, pure.
 */
#ifndef SL_MSG_DATA_INT_H
#define SL_MSG_DATA_INT_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../../common/sl_err.h"
#include "kp.h"

/* Write s as a classic int16-length string; len -1 writes null. */
static inline void sl__data_write_str(struct sl_kp_writer *w, struct sl_kp_str s)
{
    sl_kp_write_strn(w, s.len < 0 ? NULL : (s.p ? s.p : ""), s.len);
}

/* Write b as int32-length bytes; len -1 writes null. */
static inline void sl__data_write_bytes(struct sl_kp_writer *w, struct sl_kp_bytes b)
{
    sl_kp_write_bytes(w, b.len < 0 ? NULL : (const void *)(b.p ? b.p : (const uint8_t *)""), b.len);
}

/*
 * Allocate n elements for a decoded array (n from sl_kp_read_array, so bounded by the bytes
 * left); fails the reader with -ENOMEM when the arena refuses. n <= 0 gives NULL.
 */
static inline void *sl__data_array(struct sl_kp_reader *r, struct sl_kp_arena *a, int32_t n,
                                   size_t size)
{
    if (r->err || n <= 0) {
        return NULL;
    }
    void *p = sl_kp_arena_calloc(a, (size_t)n, size);
    if (!p) {
        sl_kp_reader_fail(r, -ENOMEM);
    }
    return p;
}

/* The decoder's result: the reader's sticky error or 0 (trailing bytes are ignored, as
 * Kafka's own parser does). */
static inline int sl__data_result(const struct sl_kp_reader *r)
{
    return r->err ? r->err : 0;
}

#endif
