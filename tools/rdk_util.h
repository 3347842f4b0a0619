/*
 * rdk_util.h - helpers shared by the Kafka-style tools built on librdkafka: k=v property
 * lists (from flags and Java .properties files), turning them into an rd_kafka_conf_t,
 * number parsing for flags, clocks, and a SIGINT/SIGTERM flag. Everything runs on the
 * tool's main thread; the stop flag is the only state written from a signal handler.
 */
#ifndef SL_RDK_UTIL_H
#define SL_RDK_UTIL_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/sl_parse.h"

/* An ordered list of key=value strings; a later key overrides an earlier one on apply. */
struct sl_props {
    char **keys;   /* owned */
    char **values; /* owned */
    size_t n;
    size_t cap;
};

void sl_props_init(struct sl_props *p);
void sl_props_fini(struct sl_props *p);

/*
 * Adds "key=value" (split at the first '='). Returns 0, or -EINVAL when there is no '=' or
 * the key is empty, or -ENOMEM. Copies the text.
 */
int sl_props_add_kv(struct sl_props *p, const char *kv);

/* Adds key and value as they are. Returns 0 or -ENOMEM. Copies both. */
int sl_props_set(struct sl_props *p, const char *key, const char *value);

/*
 * Appends the properties of a Java .properties file (key=value or key:value lines, '#' and
 * '!' comments, surrounding blanks trimmed). Returns 0, or a negative errno with a message
 * in errbuf. Blocks on the file read.
 */
int sl_props_load_file(struct sl_props *p, const char *path, char *errbuf, size_t errlen);

/* The value of the last occurrence of key (borrowed), or NULL. */
const char *sl_props_get(const struct sl_props *p, const char *key);

/* True when key's last value is "true" (case-insensitive); def when key is absent. */
int sl_props_get_bool(const struct sl_props *p, const char *key, int def);

/*
 * A new librdkafka configuration: each property of props in order, then bootstrap (when not
 * NULL) as bootstrap.servers. Returns NULL with a message in errbuf when librdkafka rejects
 * a key or value. The caller owns the result (rd_kafka_new takes it over on success).
 */
rd_kafka_conf_t *sl_rdk_conf_new(const struct sl_props *props, const char *bootstrap, char *errbuf,
                                 size_t errlen);

/* Destroys rk and waits (bounded) until librdkafka's threads are gone. NULL is a no-op. */
void sl_rdk_destroy(rd_kafka_t *rk);

int64_t sl_mono_us(void); /* monotonic clock in microseconds */
int64_t sl_wall_ms(void); /* wall clock in milliseconds since the epoch */

/* Set by SIGINT/SIGTERM once sl_rdk_catch_signals ran; a second signal kills as usual. */
extern volatile sig_atomic_t sl_rdk_stop;

/*
 * Installs handlers for SIGINT and SIGTERM that set sl_rdk_stop, without SA_RESTART, so a
 * blocking read returns EINTR and the tool can flush and exit cleanly.
 */
void sl_rdk_catch_signals(void);

#endif
