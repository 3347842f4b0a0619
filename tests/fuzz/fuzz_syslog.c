/*
 * fuzz_syslog.c - libFuzzer target for the syslog parser: any bytes (the first 8 choose "now"
 * when there are enough of them) parse without reading outside the input, every field points
 * inside it, SD values unescape into a buffer of the value's size, and the event built from
 * the result (syslog_event.c) has the body and the headers the source would send on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/event.h"
#include "sources/syslog/syslog_event.h"
#include "sources/syslog/syslog_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const struct sl_syslog_str *f, const char *base, size_t len)
{
    if (f->ptr && (f->ptr < base || f->ptr + f->len > base + len)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t now = 1718452800000LL;
    if (size > 8 && data[0] == 0xFF) {
        uint32_t v;
        memcpy(&v, data + 1, 4);
        now = (int64_t)v * 1000; /* 1970..2106 */
        data += 8;
        size -= 8;
    }
    /* An exact-size copy, so ASan sees any read past the end. */
    char *line = malloc(size ? size : 1);
    if (!line) {
        return 0;
    }
    memcpy(line, data, size);
    struct sl_syslog_msg m;
    sl_syslog_parse(line, size, now, &m);
    if (m.pri > 191 || (m.status == SL_SYSLOG_INVALID && m.msg.len != size)) {
        abort();
    }
    inside(&m.host, line, size);
    inside(&m.app, line, size);
    inside(&m.procid, line, size);
    inside(&m.msgid, line, size);
    inside(&m.msg, line, size);
    for (size_t i = 0; i < m.nsd; i++) {
        inside(&m.sd[i].id, line, size);
        inside(&m.sd[i].name, line, size);
        inside(&m.sd[i].value, line, size);
        char *buf = malloc(m.sd[i].value.len + 1);
        if (buf) {
            if (sl_syslog_unescape(buf, m.sd[i].value.ptr, m.sd[i].value.len) > m.sd[i].value.len) {
                abort();
            }
            free(buf);
        }
    }
    /* The event: body inside the line, every header a NUL-terminated key and value. */
    struct sl_syslog_str body = sl_syslog_body(&m, line, size, size % 2);
    inside(&body, line, size);
    struct sl_event *ev = sl_event_create(body.ptr, body.len);
    const struct sl_syslog_extra extra = {"clientIP", "192.0.2.1"};
    if (ev && sl_syslog_set_headers(ev, &m, (int)(size % 3 == 0), &extra, 1) == 0) {
        if (ev->nheaders == 0 || ev->nheaders > 2 + 1 + 4 + m.nsd + 1 + 1) {
            abort();
        }
        for (size_t i = 0; i < ev->nheaders; i++) {
            if (!ev->headers[i].key[0] || strlen(ev->headers[i].value) > size + 32) {
                abort();
            }
        }
        if (strcmp(ev->headers[ev->nheaders - 1].key, "clientIP") != 0) {
            abort();
        }
    }
    sl_event_destroy(ev);
    free(line);
    return 0;
}
