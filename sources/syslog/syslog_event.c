/*
 * syslog_event.c - see syslog_event.h. All of a message's headers go in with one
 * sl_event_slab_set_headers call (into the event's slab next to its body when there is room,
 * else one allocation for the lot) from slices of the input line; only
 * the numbers, the SD header names and the unescaped SD values are first written to a
 * scratch buffer (on the stack unless the message has a lot of structured data).
 *
 * Threads: none of its own.
 */
#include "sources/syslog/syslog_event.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct sl_syslog_str sl_syslog_body(const struct sl_syslog_msg *m, const char *line, size_t len,
                                    int keep_all)
{
    if (keep_all || m->status != SL_SYSLOG_OK) {
        return (struct sl_syslog_str){line, len};
    }
    if (!m->msg.ptr) {
        return (struct sl_syslog_str){line + len, 0}; /* no MSG: an empty body */
    }
    return m->msg;
}

#define INT_CHARS 21 /* "-9223372036854775808" and one spare */

/* v in decimal at the end of buf[0..INT_CHARS); returns where it starts. */
static char *fmt_int(char *buf, int64_t v, size_t *len)
{
    char *end = buf + INT_CHARS, *p = end;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        *--p = '-';
    }
    *len = (size_t)(end - p);
    return p;
}

static void add(struct sl_header_in *h, size_t *n, const char *key, size_t klen, const char *value,
                size_t vlen)
{
    h[*n] = (struct sl_header_in){key, klen, value, vlen};
    (*n)++;
}

#define SCRATCH_STACK 2048

int sl_syslog_set_headers(struct sl_event *ev, const struct sl_syslog_msg *m, int truncated,
                          const struct sl_syslog_extra *extra, size_t nextra)
{
    struct sl_header_in h[7 + SL_SYSLOG_SD_MAX + 1 + 2];
    struct sl_header_in *hs = h;
    size_t max = 7 + m->nsd + 1 + nextra;
    size_t scratch_len = 3 * INT_CHARS;
    for (size_t i = 0; i < m->nsd; i++) {
        const struct sl_syslog_sd_param *p = &m->sd[i];
        scratch_len += 4 + p->id.len + p->name.len + p->value.len + 1;
    }
    char stack[SCRATCH_STACK];
    char *scratch = stack;
    if (scratch_len > sizeof(stack)) {
        scratch = malloc(scratch_len);
    }
    if (max > sizeof(h) / sizeof(h[0])) {
        hs = malloc(max * sizeof(*hs));
    }
    int rc = -ENOMEM;
    if (!scratch || !hs) {
        goto out;
    }
    size_t n = 0, len;
    char *s = scratch;
    if (m->pri >= 0) {
        const char *v = fmt_int(s, m->pri / 8, &len);
        add(hs, &n, "Facility", 8, v, len);
        s += INT_CHARS;
        v = fmt_int(s, m->pri % 8, &len);
        add(hs, &n, "Severity", 8, v, len);
        s += INT_CHARS;
    }
    if (m->has_ts) {
        const char *v = fmt_int(s, m->ts_ms, &len);
        add(hs, &n, "timestamp", 9, v, len);
        s += INT_CHARS;
    }
    static const struct {
        const char *key;
        size_t klen;
        size_t off;
    } fields[] = {
        {"host", 4, offsetof(struct sl_syslog_msg, host)},
        {"app", 3, offsetof(struct sl_syslog_msg, app)},
        {"procid", 6, offsetof(struct sl_syslog_msg, procid)},
        {"msgid", 5, offsetof(struct sl_syslog_msg, msgid)},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const struct sl_syslog_str *f =
            (const struct sl_syslog_str *)(const void *)((const char *)m + fields[i].off);
        if (f->ptr) {
            add(hs, &n, fields[i].key, fields[i].klen, f->ptr, f->len);
        }
    }
    for (size_t i = 0; i < m->nsd; i++) {
        /* sd.<SD-ID>.<PARAM-NAME> = the unescaped value; a repeated one replaces. */
        const struct sl_syslog_sd_param *p = &m->sd[i];
        char *k = s;
        memcpy(s, "sd.", 3);
        memcpy(s + 3, p->id.ptr, p->id.len);
        s[3 + p->id.len] = '.';
        memcpy(s + 4 + p->id.len, p->name.ptr, p->name.len);
        size_t klen = 4 + p->id.len + p->name.len;
        s += klen;
        char *v = s;
        size_t vlen = sl_syslog_unescape(v, p->value.ptr, p->value.len);
        s += p->value.len + 1;
        add(hs, &n, k, klen, v, vlen);
    }
    if (m->status != SL_SYSLOG_OK) {
        add(hs, &n, "syslog.status", 13, "Invalid", 7);
    } else if (truncated) {
        add(hs, &n, "syslog.status", 13, "Incomplete", 10);
    }
    for (size_t i = 0; i < nextra; i++) {
        add(hs, &n, extra[i].key, strlen(extra[i].key), extra[i].value, strlen(extra[i].value));
    }
    rc = sl_event_slab_set_headers(ev, hs, n);
out:
    if (scratch != stack) {
        free(scratch);
    }
    if (hs != h) {
        free(hs);
    }
    return rc;
}
