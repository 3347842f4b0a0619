/*
 * interceptor.h - a source's interceptor chain (`interceptors:` in the YAML, Flume's
 * `a1.sources.r1.interceptors = i1 i2`): timestamp, host, static, uuid, regex_filter,
 * regex_extractor, search_replace, remove_header, applied in the listed order to every event
 * before the channel selector sees it. An interceptor may set or remove headers, replace the
 * body (a new event) or filter the event out.
 *
 * Threads: a chain is built on the main thread at config time and then run only by its
 * source's sl_source_put, on the source loop thread (it keeps per-chain scratch state: PCRE2
 * match data, a UUID random pool), so one chain is never run by two threads at once.
 */
#ifndef SL_AGENT_INTERCEPTOR_H
#define SL_AGENT_INTERCEPTOR_H

#include <stddef.h>
#include <stdio.h>

#include "agent/event.h"
#include "common/sl_err.h"
#include "conf/yaml.h"

struct sl_icpt_chain;

/*
 * Build the chain described by `list` (the value of a source's `interceptors:` key: a list
 * of maps, each with `type` and that interceptor's keys; type is our name or Flume's builder
 * class, e.g. org.apache.flume.interceptor.TimestampInterceptor$Builder). Every key is bound
 * strictly; a bad regex names the pattern's line:col and PCRE2's message with the offset. `what`
 * names the source in messages ("source r1"). comp is the source's log prefix. Returns 0
 * with *out (NULL for an empty list), or SL_ECONFIG / -ENOMEM with err set.
 */
int sl_icpt_chain_build(const struct sl_yaml_doc *doc, const struct sl_yaml_node *list,
                        const char *what, const char *comp, struct sl_icpt_chain **out,
                        struct sl_err *err);

/* NULL is a no-op. */
void sl_icpt_chain_destroy(struct sl_icpt_chain *c);

/*
 * Run the chain over each of evs[0..n) that is not yet SL_EVENT_INTERCEPTED and mark it so;
 * an event filtered out is marked SL_EVENT_DROPPED and left in place (the caller destroys it
 * once its put succeeded). An interceptor that replaces an event stores the new one in
 * evs[i] and destroys the old. Out of memory while rewriting leaves that event unchanged
 * (logged with a rate limit). Never fails, never blocks.
 */
void sl_icpt_chain_run(struct sl_icpt_chain *c, struct sl_event **evs, size_t n);

/* Print the chain (one interceptor per line with its settings), each line after indent. */
void sl_icpt_chain_print(const struct sl_icpt_chain *c, FILE *out, const char *indent);

/* The interceptor type names sluice knows, comma-separated, into buf. */
void sl_icpt_names(char *buf, size_t len);

#endif
