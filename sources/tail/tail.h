/*
 * tail.h - what the rest of the agent may know of the tail source: its ops (registry.c) and
 * its counters beyond struct sl_source's (metrics.c).
 *
 * Threads: sl_tail_source_stats reads relaxed atomics; any thread.
 */
#ifndef SL_SOURCES_TAIL_H
#define SL_SOURCES_TAIL_H

#include <stdint.h>

#include "agent/plugin.h"

extern const struct sl_source_ops sl_tail_source_ops;

struct sl_tail_stats {
    uint64_t resets;     /* files read again from 0: truncated, or not the file saved */
    uint64_t open_files; /* descriptors open now */
    uint64_t tracked;    /* files followed now (open or idle-closed) */
};

/* s must be a tail source (s->ops == &sl_tail_source_ops). */
void sl_tail_source_stats(const struct sl_source *s, struct sl_tail_stats *st);

#endif
