/*
 * msg_admin_int.h - helpers shared by the admin codec files (broker/proto/msg_*.c), not for
 * callers.
 * Pure functions on the caller's reader, writer and arena.
 */
#ifndef SL_MSG_ADMIN_INT_H
#define SL_MSG_ADMIN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kp.h"

/*
 * Read an int16-length string into the arena as a C string. NULL for a null string (only when
 * nullable) or on error (r failed). An embedded NUL is SL_ECORRUPT: a C string would silently
 * shorten the name.
 */
char *sl__msg_str(struct sl_kp_reader *r, struct sl_kp_arena *a, int nullable);
/*
 * Zeroed array of n elements of size from the arena, non-NULL even for n == 0 (NULL means a
 * null array); NULL for n < 0 or after an error. Fails the reader (-ENOMEM) when it cannot.
 */
void *sl__msg_alloc(struct sl_kp_reader *r, struct sl_kp_arena *a, int32_t n, size_t size);
/* int32 array: count then values. nullable: -1 gives NULL with *n = -1. */
int32_t *sl__msg_i32_array(struct sl_kp_reader *r, struct sl_kp_arena *a, int32_t *n, int nullable);
/* A (non-nullable) int32 array; NULL writes an empty one. */
void sl__msg_write_i32_array(struct sl_kp_writer *w, const int32_t *v, int32_t n);
/* string array; NULL writes a null array (-1). */
char **sl__msg_str_array(struct sl_kp_reader *r, struct sl_kp_arena *a, int32_t *n, int nullable);
void sl__msg_write_str_array(struct sl_kp_writer *w, char *const *v, int32_t n);
/*
 * The decoder's result: the sticky error or 0. Trailing bytes are ignored, as Kafka's own
 * parser does.
 */
int sl__msg_finish(struct sl_kp_reader *r);

struct sl_ac_req;
/* The resources of (Incremental)AlterConfigs: incremental adds the operation byte. */
int sl__msg_alter_configs_req_decode(struct sl_kp_reader *r, struct sl_kp_arena *a,
                                     struct sl_ac_req *out, int incremental);
void sl__msg_alter_configs_req_encode(struct sl_kp_writer *w, const struct sl_ac_req *m,
                                      int incremental);

#endif
