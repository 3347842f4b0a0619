/*
 * registry.c - the explicit list of plugins. Adding a plugin means one line here.
 */
#include "agent/registry.h"
#include "channels/file/file.h"
#include "sources/tail/tail.h"

#include <string.h>

static const struct sl_source_ops *const sources[] = {
    &sl_netcat_source_ops,
    &sl_syslog_source_ops,
    &sl_tail_source_ops,
};

static const struct sl_channel_ops *const channels[] = {
    &sl_memory_channel_ops,
    &sl_file_channel_ops,
};

static const struct sl_sink_ops *const sinks[] = {
    &sl_kafka_sink_ops,
    &sl_logger_sink_ops,
    &sl_null_sink_ops,
    &sl_file_roll_sink_ops,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const struct sl_source_ops *sl_registry_source(const char *type)
{
    for (size_t i = 0; i < N(sources); i++) {
        if (strcmp(sources[i]->name, type) == 0) {
            return sources[i];
        }
    }
    return NULL;
}

const struct sl_channel_ops *sl_registry_channel(const char *type)
{
    for (size_t i = 0; i < N(channels); i++) {
        if (strcmp(channels[i]->name, type) == 0) {
            return channels[i];
        }
    }
    return NULL;
}

const struct sl_sink_ops *sl_registry_sink(const char *type)
{
    for (size_t i = 0; i < N(sinks); i++) {
        if (strcmp(sinks[i]->name, type) == 0) {
            return sinks[i];
        }
    }
    return NULL;
}

void sl_registry_names(char kind, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    size_t count = kind == 's' ? N(sources) : kind == 'c' ? N(channels) : N(sinks);
    for (size_t i = 0; i < count && n < len; i++) {
        const char *name = kind == 's'   ? sources[i]->name
                           : kind == 'c' ? channels[i]->name
                                         : sinks[i]->name;
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", name);
    }
}

void sl_registry_print_help(FILE *out)
{
    for (size_t i = 0; i < N(sources); i++) {
        fprintf(out, "source %s:\n", sources[i]->name);
        sl_conf_print_help(sources[i]->conf, out, "  ");
    }
    for (size_t i = 0; i < N(channels); i++) {
        fprintf(out, "channel %s:\n", channels[i]->name);
        sl_conf_print_help(channels[i]->conf, out, "  ");
    }
    for (size_t i = 0; i < N(sinks); i++) {
        fprintf(out, "sink %s:\n", sinks[i]->name);
        sl_conf_print_help(sinks[i]->conf, out, "  ");
    }
}
