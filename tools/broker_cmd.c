/*
 * broker_cmd.c - `sluice broker`: run the Kafka-compatible broker until SIGTERM or SIGINT.
 * Configuration comes from Kafka's broker keys, in a YAML file (-c: a map of key: value,
 * nested maps read as dotted prefixes) and then --override key=value, which wins.
 *
 * Runs on the main thread, which is also the broker loop thread; all state lives in one
 * call of sl_tool_broker_main.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "broker/broker.h"
#include "common/sl_log.h"
#include "conf/yaml.h"
#include "tools/tools.h"

#define KEY_MAX 256

static void usage(FILE *out)
{
    fprintf(out, "usage: sluice broker [-c FILE] [--override KEY=VALUE]...\n"
                 "\n"
                 "Run a single-node Kafka-compatible broker until SIGTERM or SIGINT.\n"
                 "\n"
                 "options:\n"
                 "  -c, --config FILE        broker configuration (YAML map of Kafka broker keys;\n"
                 "                           nested maps read as dotted prefixes:\n"
                 "                           log: {retention.hours: 1} is log.retention.hours)\n"
                 "      --override KEY=VALUE set a key after the file (repeatable; wins)\n"
                 "  -h, --help               show this help\n"
                 "\n"
                 "keys: broker.id, listeners (PLAINTEXT://host:port), advertised.listeners,\n"
                 "  log.dirs, log.dir, num.partitions, default.replication.factor,\n"
                 "  auto.create.topics.enable, socket.request.max.bytes, message.max.bytes,\n"
                 "  fetch.max.bytes, log.retention.check.interval.ms,\n"
                 "  log.flush.offset.checkpoint.interval.ms, log.flush.scheduler.interval.ms,\n"
                 "  and the log.* defaults (log.segment.bytes, log.roll.ms|hours,\n"
                 "  log.retention.ms|minutes|hours, log.retention.bytes, log.flush.interval.*,\n"
                 "  log.index.*, log.message.timestamp.type).\n");
}

/* Apply a YAML map to cfg: scalars as key: value, maps as dotted prefixes. */
static int apply_map(struct sl_broker_config *cfg, const struct sl_yaml_doc *doc,
                     const struct sl_yaml_node *map, const char *prefix, struct sl_err *err)
{
    for (size_t i = 0; i < map->n; i++) {
        char key[KEY_MAX];
        int n = snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", map->keys[i]);
        /* Errors point at the key, where the reader looks first. */
        struct sl_yaml_node at = {.line = map->key_lines[i], .col = map->key_cols[i]};
        if (n < 0 || (size_t)n >= sizeof(key)) {
            return sl_yaml_error(err, doc, &at, "key too long: %s...", key);
        }
        const struct sl_yaml_node *v = map->items[i];
        if (v->kind == SL_YAML_MAP) {
            int rc = apply_map(cfg, doc, v, key, err);
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        if (v->kind != SL_YAML_SCALAR) {
            return sl_yaml_error(err, doc, &at,
                                 "%s: a list is not a valid value (lists of directories are "
                                 "written comma-separated, as in Kafka)",
                                 key);
        }
        struct sl_err e;
        sl_err_clear(&e);
        if (sl_broker_config_set(cfg, key, v->value, &e) != 0) {
            return sl_yaml_error(err, doc, &at, "%s", e.msg);
        }
    }
    return 0;
}

static int load_file(struct sl_broker_config *cfg, const char *path, struct sl_err *err)
{
    struct sl_yaml_doc doc;
    int rc = sl_yaml_load_file(path, &doc, err);
    if (rc == 0 && doc.root) {
        if (doc.root->kind != SL_YAML_MAP) {
            rc = sl_yaml_error(err, &doc, doc.root,
                               "expected a map of broker keys (key: value lines)");
        } else {
            rc = apply_map(cfg, &doc, doc.root, "", err);
        }
    }
    sl_yaml_free(&doc);
    return rc;
}

struct cmd {
    uv_loop_t loop;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    struct sl_broker *broker;
};

static void on_signal(uv_signal_t *h, int signum)
{
    struct cmd *c = h->data;
    sl_log(SL_LOG_INFO, "%s received: shutting down", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    sl_broker_stop(c->broker);
    /* Closing them restores the default action: a second signal ends the process at once. */
    uv_close((uv_handle_t *)&c->sigterm, NULL);
    uv_close((uv_handle_t *)&c->sigint, NULL);
}

static void log_startup(const struct sl_broker *b)
{
    const struct sl_broker_config *cfg = &b->cfg;
    char dirs[SL_BROKER_MAX_LOG_DIRS * 1025];
    size_t n = 0;
    dirs[0] = '\0';
    for (int i = 0; i < cfg->nlog_dirs && n < sizeof(dirs); i++) {
        n += (size_t)snprintf(dirs + n, sizeof(dirs) - n, "%s%s", i ? "," : "", cfg->log_dirs[i]);
    }
    const char *lh = cfg->listen_host[0] ? cfg->listen_host : "0.0.0.0";
    int v6 = strchr(lh, ':') != NULL, av6 = strchr(cfg->advertised_host, ':') != NULL;
    sl_log(SL_LOG_INFO,
           "broker %d started: listening on PLAINTEXT://%s%s%s:%d (advertised as "
           "%s%s%s:%d), cluster id %s, log dirs %s",
           (int)cfg->broker_id, v6 ? "[" : "", lh, v6 ? "]" : "", sl_broker_port(b), av6 ? "[" : "",
           cfg->advertised_host, av6 ? "]" : "", cfg->advertised_port, b->cluster_id, dirs);
}

int sl_tool_broker_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"override", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    char **overrides = calloc((size_t)argc + 1, sizeof(char *));
    int noverrides = 0;
    if (!overrides) {
        fprintf(stderr, "sluice broker: out of memory\n");
        return 1;
    }
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config = optarg;
            break;
        case 'o':
            overrides[noverrides++] = optarg;
            break;
        case 'h':
            usage(stdout);
            free(overrides);
            return 0;
        default:
            usage(stderr);
            free(overrides);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sluice broker: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        free(overrides);
        return 2;
    }

    struct sl_broker_config cfg;
    sl_broker_config_default(&cfg);
    struct sl_err err;
    sl_err_clear(&err);
    if (config && load_file(&cfg, config, &err) != 0) {
        fprintf(stderr, "sluice broker: %s\n", err.msg);
        free(overrides);
        return 1;
    }
    for (int i = 0; i < noverrides; i++) {
        char key[KEY_MAX];
        const char *eq = strchr(overrides[i], '=');
        if (!eq || eq == overrides[i] || (size_t)(eq - overrides[i]) >= sizeof(key)) {
            fprintf(stderr, "sluice broker: --override %s: expected KEY=VALUE\n", overrides[i]);
            free(overrides);
            return 2;
        }
        memcpy(key, overrides[i], (size_t)(eq - overrides[i]));
        key[eq - overrides[i]] = '\0';
        if (sl_broker_config_set(&cfg, key, eq + 1, &err) != 0) {
            fprintf(stderr, "sluice broker: --override %s: %s\n", overrides[i], err.msg);
            free(overrides);
            return 1;
        }
    }
    free(overrides);

    /* sendfile(2) cannot be told MSG_NOSIGNAL: a client that goes away must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    struct cmd c;
    memset(&c, 0, sizeof(c));
    int rc = uv_loop_init(&c.loop);
    if (rc != 0) {
        fprintf(stderr, "sluice broker: event loop: %s\n", uv_strerror(rc));
        return 1;
    }
    rc = sl_broker_create(&cfg, &c.loop, &c.broker, &err);
    if (rc != 0) {
        sl_log(SL_LOG_ERROR, "cannot start the broker: %s", err.msg);
        uv_run(&c.loop, UV_RUN_DEFAULT); /* whatever create closed */
        uv_loop_close(&c.loop);
        return 1;
    }
    uv_signal_init(&c.loop, &c.sigterm);
    uv_signal_init(&c.loop, &c.sigint);
    c.sigterm.data = c.sigint.data = &c;
    uv_signal_start(&c.sigterm, on_signal, SIGTERM);
    uv_signal_start(&c.sigint, on_signal, SIGINT);
    log_startup(c.broker);

    uv_run(&c.loop, UV_RUN_DEFAULT);

    rc = sl_broker_destroy(c.broker, 1);
    uv_run(&c.loop, UV_RUN_DEFAULT); /* handles the broker's parts closed in destroy */
    int lrc = uv_loop_close(&c.loop);
    if (lrc != 0) {
        sl_log(SL_LOG_WARN, "event loop still has handles at exit: %s", uv_strerror(lrc));
    }
    if (rc != 0) {
        sl_log(SL_LOG_ERROR, "unclean shutdown: %s", sl_strerror(rc));
        return 1;
    }
    sl_log(SL_LOG_INFO, "broker stopped cleanly");
    return 0;
}
