/*
 * registry.h - the explicit list of plugins compiled into sluice, looked up by type name.
 * Const tables only; any thread.
 */
#ifndef SL_AGENT_REGISTRY_H
#define SL_AGENT_REGISTRY_H

#include <stdio.h>

#include "agent/plugin.h"

extern const struct sl_source_ops sl_netcat_source_ops;
extern const struct sl_source_ops sl_syslog_source_ops;
extern const struct sl_channel_ops sl_memory_channel_ops;
extern const struct sl_sink_ops sl_kafka_sink_ops;
extern const struct sl_sink_ops sl_logger_sink_ops;
extern const struct sl_sink_ops sl_null_sink_ops;
extern const struct sl_sink_ops sl_file_roll_sink_ops;

/* The plugin named type, or NULL. */
const struct sl_source_ops *sl_registry_source(const char *type);
const struct sl_channel_ops *sl_registry_channel(const char *type);
const struct sl_sink_ops *sl_registry_sink(const char *type);

/* "a, b, c": the names of one kind, for error messages. */
void sl_registry_names(char kind, char *buf, size_t len);

/* Every plugin with its keys (for `sluice agent --help-plugins`). */
void sl_registry_print_help(FILE *out);

#endif
