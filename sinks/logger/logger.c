/*
 * logger.c - the logger sink: logs each event's headers and the first maxBytesToLog bytes of
 * its body (Flume's LoggerSink), non-printable bytes escaped. Sink thread only.
 */
#include <stdio.h>
#include <string.h>

#include "agent/plugin.h"
#include "common/sl_log.h"

struct logger_ctx {
    int64_t batch_size;
    int64_t max_bytes;
};

static const struct sl_conf_map logger_conf[] = {
    {"batchSize", SL_CONF_INT, "100", offsetof(struct logger_ctx, batch_size), 1, 100000000, 0,
     NULL, "events per take transaction"},
    {"maxBytesToLog", SL_CONF_INT, "16", offsetof(struct logger_ctx, max_bytes), 0, 65536, 0, NULL,
     "body bytes shown per event"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL},
};

static int logger_init(struct sl_sink *s, struct sl_err *err)
{
    struct logger_ctx *c = s->ctx;
    s->batch_size = (size_t)c->batch_size;
    return 0;
}

static int logger_deliver(struct sl_sink *s, struct sl_event **evs, size_t n)
{
    struct logger_ctx *c = s->ctx;
    for (size_t i = 0; i < n; i++) {
        const struct sl_event *ev = evs[i];
        char hdr[512], body[1024];
        size_t h = 0, b = 0;
        hdr[0] = body[0] = '\0';
        for (size_t j = 0; j < ev->nheaders && h < sizeof(hdr); j++) {
            h += (size_t)snprintf(hdr + h, sizeof(hdr) - h, "%s%s=%s", j ? ", " : "",
                                  ev->headers[j].key, ev->headers[j].value);
        }
        size_t show = ev->len < (size_t)c->max_bytes ? ev->len : (size_t)c->max_bytes;
        for (size_t j = 0; j < show && b + 5 < sizeof(body); j++) {
            unsigned char ch = ev->body[j];
            if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
                body[b++] = (char)ch;
            } else {
                b += (size_t)snprintf(body + b, sizeof(body) - b, "\\x%02x", ch);
            }
        }
        body[b] = '\0';
        sl_clog(s->comp, SL_LOG_INFO, "Event: { headers:{%s} body: %zu bytes \"%s\"%s }", hdr,
                ev->len, body, show < ev->len ? "..." : "");
    }
    return SL_OK;
}

const struct sl_sink_ops sl_logger_sink_ops = {
    .name = "logger",
    .conf = logger_conf,
    .ctx_size = sizeof(struct logger_ctx),
    .init = logger_init,
    .deliver = logger_deliver,
};
