/*
 * null.c - the null sink: takes batches and discards them (Flume's NullSink), for tests and
 * for measuring a pipeline without a destination. Sink thread only.
 */
#include "agent/plugin.h"

struct null_ctx {
    int64_t batch_size;
};

static const struct sl_conf_map null_conf[] = {
    {"batchSize", SL_CONF_INT, "100", offsetof(struct null_ctx, batch_size), 1, 100000000, 0, NULL,
     "events per take transaction"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL},
};

static int null_init(struct sl_sink *s, struct sl_err *err)
{
    struct null_ctx *c = s->ctx;
    s->batch_size = (size_t)c->batch_size;
    return 0;
}

static int null_deliver(struct sl_sink *s, struct sl_event **evs, size_t n)
{
    return SL_OK;
}

const struct sl_sink_ops sl_null_sink_ops = {
    .name = "null",
    .conf = null_conf,
    .ctx_size = sizeof(struct null_ctx),
    .init = null_init,
    .deliver = null_deliver,
};
