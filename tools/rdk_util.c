/*
 * rdk_util.c - helpers shared by the librdkafka-based tools: property lists, configuration,
 * number parsing, clocks and the stop flag. See rdk_util.h. Main thread only, except the
 * signal handler, which writes sl_rdk_stop and nothing else.
 */
#include "tools/rdk_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RDK_DESTROY_WAIT_MS 10000

volatile sig_atomic_t sl_rdk_stop;

void sl_props_init(struct sl_props *p)
{
    memset(p, 0, sizeof(*p));
}

void sl_props_fini(struct sl_props *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->keys[i]);
        free(p->values[i]);
    }
    free(p->keys);
    free(p->values);
    memset(p, 0, sizeof(*p));
}

/* Takes key and value (heap strings), also on error. */
static int props_push(struct sl_props *p, char *key, char *value)
{
    if (key == NULL || value == NULL) {
        free(key);
        free(value);
        return -ENOMEM;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        char **keys = realloc(p->keys, cap * sizeof(*keys));
        if (keys != NULL) {
            p->keys = keys;
        }
        char **values = keys ? realloc(p->values, cap * sizeof(*values)) : NULL;
        if (values == NULL) {
            free(key);
            free(value);
            return -ENOMEM;
        }
        p->values = values;
        p->cap = cap;
    }
    p->keys[p->n] = key;
    p->values[p->n] = value;
    p->n++;
    return 0;
}

int sl_props_set(struct sl_props *p, const char *key, const char *value)
{
    return props_push(p, strdup(key), strdup(value));
}

int sl_props_add_kv(struct sl_props *p, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv) {
        return -EINVAL;
    }
    return props_push(p, strndup(kv, (size_t)(eq - kv)), strdup(eq + 1));
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1])) {
        s[--len] = '\0';
    }
    return s;
}

int sl_props_load_file(struct sl_props *p, const char *path, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int rc = -errno;
        snprintf(errbuf, errlen, "cannot open %s: %s", path, strerror(errno));
        return rc;
    }
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (getline(&line, &cap, f) >= 0) {
        char *s = trim(line);
        if (*s == '\0' || *s == '#' || *s == '!') {
            continue;
        }
        size_t split = strcspn(s, "=:");
        char *value = s + split;
        if (*value != '\0') {
            *value++ = '\0';
        }
        char *key = trim(s);
        if (*key == '\0') {
            snprintf(errbuf, errlen, "%s: a line has no key", path);
            rc = -EINVAL;
            break;
        }
        rc = sl_props_set(p, key, trim(value));
        if (rc != 0) {
            snprintf(errbuf, errlen, "out of memory");
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        rc = -EIO;
        snprintf(errbuf, errlen, "cannot read %s", path);
    }
    free(line);
    fclose(f);
    return rc;
}

const char *sl_props_get(const struct sl_props *p, const char *key)
{
    for (size_t i = p->n; i > 0; i--) {
        if (strcmp(p->keys[i - 1], key) == 0) {
            return p->values[i - 1];
        }
    }
    return NULL;
}

int sl_props_get_bool(const struct sl_props *p, const char *key, int def)
{
    const char *v = sl_props_get(p, key);
    if (v == NULL) {
        return def;
    }
    return strcasecmp(v, "true") == 0;
}

rd_kafka_conf_t *sl_rdk_conf_new(const struct sl_props *props, const char *bootstrap, char *errbuf,
                                 size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; props != NULL && i < props->n; i++) {
        char why[512];
        if (rd_kafka_conf_set(conf, props->keys[i], props->values[i], why, sizeof(why)) !=
            RD_KAFKA_CONF_OK) {
            snprintf(errbuf, errlen, "invalid property %s=%s: %s", props->keys[i], props->values[i],
                     why);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    if (bootstrap != NULL && rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errbuf,
                                               errlen) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

void sl_rdk_destroy(rd_kafka_t *rk)
{
    if (rk == NULL) {
        return;
    }
    rd_kafka_destroy(rk);
    if (rd_kafka_wait_destroyed(RDK_DESTROY_WAIT_MS) != 0) {
        fprintf(stderr, "warning: librdkafka did not shut down within %d ms\n",
                RDK_DESTROY_WAIT_MS);
    }
}

int64_t sl_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sl_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_stop_signal(int sig)
{
    sl_rdk_stop = 1;
    signal(sig, SIG_DFL); /* a second Ctrl-C ends a stuck flush the usual way */
}

void sl_rdk_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked getline must return */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
