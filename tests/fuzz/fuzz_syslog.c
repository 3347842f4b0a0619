/*
 * fuzz_syslog.c - libFuzzer target for the syslog parser: any bytes (the first 8 choose "now"
 * when there are enough of them) parse without reading outside the input, every field points
 * inside it, and SD values unescape into a buffer of the value's size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    free(line);
    return 0;
}
