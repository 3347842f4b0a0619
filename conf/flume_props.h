/*
 * flume_props.h - read a Flume agent .properties file (flume-ng agent -n a1 -f file.conf)
 * into the same YAML-shaped tree `sluice agent -f` reads, mapping Flume's class names and
 * keys to ours (org.apache.flume.sink.kafka.KafkaSink → kafka, kafka.bootstrap.servers →
 * bootstrap.servers, kafka.producer.acks → acks, ...). Every node keeps the line and column
 * of its text in the .properties file, so later errors point into it. Anything sluice does
 * not support (other component types, interceptor types, selector types) is an error
 * that says so; a source's interceptors become an ordered `interceptors:` list and its
 * selector.* keys a `selector:` map (Java escapes such as \\d in interceptor values are
 * decoded, as Flume's loader does). Nothing shared: the tree belongs to the caller.
 */
#ifndef SL_CONF_FLUME_PROPS_H
#define SL_CONF_FLUME_PROPS_H

#include "../common/sl_err.h"
#include "yaml.h"

/*
 * Load path's keys for agent `name` into doc. Returns 0, SL_ECONFIG with file:line:col in
 * err, or -errno (unreadable file). On error doc is empty (sl_yaml_free is still safe).
 */
int sl_flume_props_load(const char *path, const char *name, struct sl_yaml_doc *doc,
                        struct sl_err *err);

/* The same, from text in memory; file names the text in messages. */
int sl_flume_props_load_string(const char *text, const char *file, const char *name,
                               struct sl_yaml_doc *doc, struct sl_err *err);

#endif
