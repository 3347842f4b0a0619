/*
 * msg_admin_common.c - small readers and writers shared by the admin codec files: strings copied
 * into the arena, int32 and string arrays. Pure functions on the caller's reader, writer and
 * arena (the thread handling the request).
 */
#include <errno.h>
#include <string.h>

#include "../../common/sl_err.h"
#include "msg_admin_int.h"

char *sl__msg_str(struct sl_kp_reader *r, struct sl_kp_arena *a, int nullable)
{
    struct sl_kp_str s = sl_kp_read_str(r, nullable);
    if (r->err || s.len < 0) {
        return NULL;
    }
    if (memchr(s.p, '\0', (size_t)s.len)) {
        sl_kp_reader_fail(r, SL_ECORRUPT);
        return NULL;
    }
    char *d = sl_kp_arena_strdup(a, s);
    if (!d) {
        sl_kp_reader_fail(r, -ENOMEM);
    }
    return d;
}

void *sl__msg_alloc(struct sl_kp_reader *r, struct sl_kp_arena *a, int32_t n, size_t size)
{
    if (r->err || n < 0) {
        return NULL;
    }
    /* An empty array still gets a pointer: NULL means a null array. */
    void *p = sl_kp_arena_calloc(a, n ? (size_t)n : 1, size);
    if (!p) {
        sl_kp_reader_fail(r, -ENOMEM);
    }
    return p;
}

int32_t *sl__msg_i32_array(struct sl_kp_reader *r, struct sl_kp_arena *a, int32_t *n, int nullable)
{
    *n = sl_kp_read_array(r, 4, nullable);
    int32_t *v = sl__msg_alloc(r, a, *n, sizeof(*v));
    for (int32_t i = 0; v && i < *n; i++) {
        v[i] = sl_kp_read_i32(r);
    }
    if (r->err) {
        *n = 0;
        return NULL;
    }
    return v;
}

void sl__msg_write_i32_array(struct sl_kp_writer *w, const int32_t *v, int32_t n)
{
    sl_kp_write_i32(w, v ? n : 0);
    for (int32_t i = 0; v && i < n; i++) {
        sl_kp_write_i32(w, v[i]);
    }
}

char **sl__msg_str_array(struct sl_kp_reader *r, struct sl_kp_arena *a, int32_t *n, int nullable)
{
    *n = sl_kp_read_array(r, 2, nullable);
    char **v = sl__msg_alloc(r, a, *n, sizeof(*v));
    for (int32_t i = 0; v && i < *n && !r->err; i++) {
        v[i] = sl__msg_str(r, a, 0);
    }
    if (r->err) {
        *n = 0;
        return NULL;
    }
    return v;
}

void sl__msg_write_str_array(struct sl_kp_writer *w, char *const *v, int32_t n)
{
    if (!v) {
        sl_kp_write_i32(w, -1);
        return;
    }
    sl_kp_write_i32(w, n);
    for (int32_t i = 0; i < n; i++) {
        sl_kp_write_str(w, v[i]);
    }
}

int sl__msg_finish(struct sl_kp_reader *r)
{
    return r->err;
}
