/*
 * selector.h - a source's channel selector (`selector:` in the YAML, Flume's
 * `a1.sources.r1.selector.*`) and the routed put that applies it together with the source's
 * interceptors:
 *   replicating (default)  every event to every channel; `optional: [c2]` names channels
 *                          whose failure (full) does not fail the put: their copies are
 *                          dropped and counted instead.
 *   multiplexing           by the value of `header`: `mapping: {value: [channels]}`,
 *                          `default: [channels]` for an absent or unmapped value, and
 *                          `optional: {value: [channels]}`.
 * Every channel named must be one of the source's `channels`.
 *
 * Threads: built on the main thread; the put runs on the source loop thread (the selector
 * keeps per-put scratch arrays, so one source's puts never run on two threads at once).
 */
#ifndef SL_AGENT_SELECTOR_H
#define SL_AGENT_SELECTOR_H

#include <stdio.h>

#include "agent/plugin.h"
#include "conf/yaml.h"

struct sl_selector;

/*
 * Build s's selector from node (the value of `selector:`, or NULL when absent) once
 * s->channels is resolved. Sets s->selector; it stays NULL for plain replication without
 * interceptors (sl_source_put's fast path). Returns 0, or SL_ECONFIG / -ENOMEM with err set
 * (file:line:col of the offending key or channel name). Build s->icpt first.
 */
int sl_selector_build(struct sl_source *s, const struct sl_yaml_doc *doc,
                      const struct sl_yaml_node *node, const char *what, struct sl_err *err);

/* NULL is a no-op. */
void sl_selector_destroy(struct sl_selector *sel);

/* Print s's selector (NULL: replicating), after indent. */
void sl_selector_print(const struct sl_source *s, FILE *out, const char *indent);

/*
 * sl_source_put (see plugin.h) for a source with interceptors or a selector: run the
 * interceptors, route, put each required channel's subset (all or SL_ERETRY, resuming at
 * *next_chan), then each optional channel's subset without retry. Source loop thread.
 */
int sl_selector_put(struct sl_source *s, struct sl_event **evs, size_t n, size_t *next_chan);

#endif
