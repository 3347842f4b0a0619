/*
 * broker.c - the single-node broker's configuration (Kafka's key names, strict: an unknown
 * key or a bad value is an error naming it) and its lifecycle: open and recover the log
 * directories, agree on the cluster id in meta.properties, load the topic registry, and
 * start the network server.
 *
 * Threads: sl_broker_config_* touch only the caller's struct (any thread, before create);
 * a struct sl_broker belongs to the broker loop thread.
 */
#include "broker.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../common/sl_log.h"
#include "../common/sl_macros.h"
#include "../common/sl_parse.h"
#include "../store/io.h"
#include "handlers/data.h"
#include "server.h"
#include "topics.h"

#define META_FILE "meta.properties"

/* ---- configuration ---- */

void sl_broker_config_default(struct sl_broker_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->broker_id = 0;
    snprintf(cfg->listen_host, sizeof(cfg->listen_host), "0.0.0.0");
    cfg->listen_port = 9092;
    snprintf(cfg->log_dirs[0], sizeof(cfg->log_dirs[0]), "/tmp/sluice-logs");
    cfg->nlog_dirs = 1;
    cfg->num_partitions = 1;
    cfg->default_replication_factor = 1;
    cfg->auto_create_topics = 1;
    cfg->socket_request_max_bytes = 104857600;
    cfg->fetch_max_bytes = 57671680;
    sl_groups_config_default(&cfg->groups);
    sl_store_config_default(&cfg->store);
}

static int bad_value(struct sl_err *err, const char *key, const char *value, const char *why)
{
    return sl_err_set(err, SL_ECONFIG, "%s: invalid value '%s': %s", key, value, why);
}

/* A decimal integer in [min, max], the whole string. */
static int parse_int(const char *key, const char *value, int64_t min, int64_t max, int64_t *out,
                     struct sl_err *err)
{
    int rc = sl_parse_i64(value, min, max, out);
    if (rc == -EINVAL) {
        return bad_value(err, key, value, "not an integer");
    }
    if (rc == -ERANGE) {
        return sl_err_set(err, SL_ECONFIG,
                          "%s: invalid value '%s': must be in %" PRId64 "..%" PRId64, key, value,
                          min, max);
    }
    return 0;
}

static int parse_bool(const char *key, const char *value, int *out, struct sl_err *err)
{
    if (strcasecmp(value, "true") == 0) {
        *out = 1;
    } else if (strcasecmp(value, "false") == 0) {
        *out = 0;
    } else {
        return bad_value(err, key, value, "expected true or false");
    }
    return 0;
}

/*
 * One listener: PLAINTEXT://host:port or host:port ("[v6addr]:port" for IPv6; an empty
 * host means every interface). Other protocols and listener lists are rejected.
 */
static int parse_listener(const char *key, const char *value, char *host, size_t hostsz, int *port,
                          struct sl_err *err)
{
    if (strchr(value, ',')) {
        return bad_value(err, key, value, "only one listener is supported");
    }
    const char *rest = value;
    const char *sep = strstr(value, "://");
    if (sep) {
        if ((size_t)(sep - value) != strlen("PLAINTEXT") ||
            strncasecmp(value, "PLAINTEXT", (size_t)(sep - value)) != 0) {
            return sl_err_set(err, SL_ECONFIG,
                              "%s: invalid value '%s': security protocol '%.*s' is not "
                              "supported (only PLAINTEXT)",
                              key, value, (int)(sep - value), value);
        }
        rest = sep + 3;
    }
    const char *h = rest, *hend, *colon;
    if (rest[0] == '[') {
        const char *close = strchr(rest, ']');
        if (!close || close[1] != ':') {
            return bad_value(err, key, value, "expected [address]:port");
        }
        h = rest + 1;
        hend = close;
        colon = close + 1;
    } else {
        colon = strrchr(rest, ':');
        if (!colon) {
            return bad_value(err, key, value, "expected [PLAINTEXT://]host:port");
        }
        hend = colon;
        if (memchr(h, ':', (size_t)(hend - h))) {
            return bad_value(err, key, value, "an IPv6 address needs brackets: [address]:port");
        }
    }
    if ((size_t)(hend - h) >= hostsz) {
        return bad_value(err, key, value, "host name too long");
    }
    int64_t p;
    int rc = parse_int(key, colon + 1, 0, 65535, &p, NULL);
    if (rc != 0) {
        return bad_value(err, key, value, "the port must be a number in 0..65535");
    }
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    *port = (int)p;
    return 0;
}

/* A comma-separated list of directories (log.dirs) or a single one (log.dir). */
static int parse_dirs(struct sl_broker_config *cfg, const char *key, const char *value, int list,
                      struct sl_err *err)
{
    char dirs[SL_BROKER_MAX_LOG_DIRS][sizeof(cfg->log_dirs[0])];
    int n = 0;
    const char *p = value;
    for (;;) {
        const char *end = list ? strchr(p, ',') : NULL;
        if (!end) {
            end = p + strlen(p);
        }
        const char *s = p, *e = end;
        while (s < e && isspace((unsigned char)*s)) {
            s++;
        }
        while (e > s && isspace((unsigned char)e[-1])) {
            e--;
        }
        if (s == e) {
            return bad_value(err, key, value, "empty directory name");
        }
        if (n == SL_BROKER_MAX_LOG_DIRS) {
            return sl_err_set(err, SL_ECONFIG, "%s: invalid value '%s': at most %d directories",
                              key, value, SL_BROKER_MAX_LOG_DIRS);
        }
        if ((size_t)(e - s) >= sizeof(dirs[0])) {
            return bad_value(err, key, value, "directory name too long");
        }
        memcpy(dirs[n], s, (size_t)(e - s));
        dirs[n][e - s] = '\0';
        for (int i = 0; i < n; i++) {
            if (strcmp(dirs[i], dirs[n]) == 0) {
                return bad_value(err, key, value, "a directory is listed twice");
            }
        }
        n++;
        if (*end == '\0') {
            break;
        }
        p = end + 1;
    }
    memcpy(cfg->log_dirs, dirs, sizeof(dirs[0]) * (size_t)n);
    cfg->nlog_dirs = n;
    return 0;
}

int sl_broker_config_set(struct sl_broker_config *cfg, const char *key, const char *value,
                         struct sl_err *err)
{
    int64_t v;
    int rc;
    if (strcmp(key, "broker.id") == 0) {
        rc = parse_int(key, value, 0, INT32_MAX, &v, err);
        cfg->broker_id = rc ? cfg->broker_id : (int32_t)v;
        return rc;
    }
    if (strcmp(key, "listeners") == 0) {
        return parse_listener(key, value, cfg->listen_host, sizeof(cfg->listen_host),
                              &cfg->listen_port, err);
    }
    if (strcmp(key, "advertised.listeners") == 0) {
        rc = parse_listener(key, value, cfg->advertised_host, sizeof(cfg->advertised_host),
                            &cfg->advertised_port, err);
        if (rc == 0 && cfg->advertised_host[0] == '\0') {
            return bad_value(err, key, value, "the advertised host cannot be empty");
        }
        return rc;
    }
    /* Kafka reads log.dir only when log.dirs is unset; here the key set last wins, which
     * is what --override needs and the same whenever only one of them is given. */
    if (strcmp(key, "log.dirs") == 0 || strcmp(key, "log.dir") == 0) {
        return parse_dirs(cfg, key, value, strcmp(key, "log.dirs") == 0, err);
    }
    if (strcmp(key, "num.partitions") == 0) {
        rc = parse_int(key, value, 1, INT32_MAX, &v, err);
        cfg->num_partitions = rc ? cfg->num_partitions : (int32_t)v;
        return rc;
    }
    if (strcmp(key, "default.replication.factor") == 0) {
        rc = parse_int(key, value, 1, INT16_MAX, &v, err);
        cfg->default_replication_factor = rc ? cfg->default_replication_factor : (int16_t)v;
        return rc;
    }
    if (strcmp(key, "auto.create.topics.enable") == 0) {
        return parse_bool(key, value, &cfg->auto_create_topics, err);
    }
    if (strcmp(key, "socket.request.max.bytes") == 0) {
        rc = parse_int(key, value, 1, INT32_MAX, &v, err);
        cfg->socket_request_max_bytes = rc ? cfg->socket_request_max_bytes : v;
        return rc;
    }
    if (strcmp(key, "fetch.max.bytes") == 0) {
        rc = parse_int(key, value, 1024, INT32_MAX, &v, err);
        cfg->fetch_max_bytes = rc ? cfg->fetch_max_bytes : v;
        return rc;
    }
    if (strcmp(key, "log.retention.check.interval.ms") == 0) {
        rc = parse_int(key, value, 1, INT64_MAX, &v, err);
        cfg->store.retention_check_interval_ms = rc ? cfg->store.retention_check_interval_ms : v;
        return rc;
    }
    if (strcmp(key, "log.flush.offset.checkpoint.interval.ms") == 0) {
        rc = parse_int(key, value, 1, INT32_MAX, &v, err);
        cfg->store.checkpoint_interval_ms = rc ? cfg->store.checkpoint_interval_ms : v;
        return rc;
    }
    if (strcmp(key, "log.flush.scheduler.interval.ms") == 0) {
        rc = parse_int(key, value, 1, INT64_MAX, &v, err);
        cfg->store.flush_check_interval_ms = rc ? cfg->store.flush_check_interval_ms : v;
        return rc;
    }
    if (strcmp(key, "offsets.topic.num.partitions") == 0) {
        rc = parse_int(key, value, 1, 100000, &v, err);
        cfg->groups.offsets_partitions = rc ? cfg->groups.offsets_partitions : (int32_t)v;
        return rc;
    }
    if (strcmp(key, "offsets.retention.minutes") == 0) {
        rc = parse_int(key, value, 1, INT32_MAX, &v, err);
        cfg->groups.offsets_retention_ms = rc ? cfg->groups.offsets_retention_ms : v * 60000;
        return rc;
    }
    /* sluice's own: the size past which a __consumer_offsets partition is replaced by a
     * snapshot of its live state (we keep that topic bounded without log compaction). */
    if (strcmp(key, "offsets.snapshot.min.bytes") == 0) {
        rc = parse_int(key, value, 1024, INT64_MAX, &v, err);
        cfg->groups.snapshot_min_bytes = rc ? cfg->groups.snapshot_min_bytes : v;
        return rc;
    }
    if (strcmp(key, "group.min.session.timeout.ms") == 0) {
        rc = parse_int(key, value, 0, INT32_MAX, &v, err);
        cfg->groups.min_session_timeout_ms = rc ? cfg->groups.min_session_timeout_ms : (int32_t)v;
        return rc;
    }
    if (strcmp(key, "group.max.session.timeout.ms") == 0) {
        rc = parse_int(key, value, 0, INT32_MAX, &v, err);
        cfg->groups.max_session_timeout_ms = rc ? cfg->groups.max_session_timeout_ms : (int32_t)v;
        return rc;
    }
    if (strcmp(key, "zookeeper.connect") == 0) {
        return sl_err_set(err, SL_ECONFIG,
                          "%s: clustering through ZooKeeper is not in this build; remove the "
                          "key to run a single-node broker",
                          key);
    }
    rc = sl_log_config_set_broker(&cfg->store.defaults, key, value, err);
    if (rc == SL_ENOENT) {
        return sl_err_set(err, SL_ECONFIG, "%s: unknown broker configuration key", key);
    }
    return rc;
}

/* Topic-level names (sl_log_config_each) to the broker's names for the same setting. */
static const char *const log_key_names[][2] = {
    {"segment.bytes", "log.segment.bytes"},
    {"segment.ms", "log.roll.ms"},
    {"segment.index.bytes", "log.index.size.max.bytes"},
    {"index.interval.bytes", "log.index.interval.bytes"},
    {"retention.ms", "log.retention.ms"},
    {"retention.bytes", "log.retention.bytes"},
    {"flush.messages", "log.flush.interval.messages"},
    {"flush.ms", "log.flush.interval.ms"},
    {"max.message.bytes", "message.max.bytes"},
    {"message.timestamp.type", "log.message.timestamp.type"},
};

struct each_ctx {
    sl_broker_config_each_cb cb;
    void *arg;
};

static void each_log_key(void *arg, const char *key, const char *value)
{
    struct each_ctx *ctx = arg;
    for (size_t i = 0; i < SL_ARRAY_SIZE(log_key_names); i++) {
        if (strcmp(log_key_names[i][0], key) == 0) {
            ctx->cb(ctx->arg, log_key_names[i][1], value);
            return;
        }
    }
}

static void listener_text(char *buf, size_t size, const char *host, int port)
{
    if (strchr(host, ':')) {
        snprintf(buf, size, "PLAINTEXT://[%s]:%d", host, port);
    } else {
        snprintf(buf, size, "PLAINTEXT://%s:%d", host, port);
    }
}

void sl_broker_config_each(const struct sl_broker_config *cfg, sl_broker_config_each_cb cb,
                           void *arg)
{
    char buf[SL_BROKER_MAX_LOG_DIRS * 1025 + 16];
    snprintf(buf, sizeof(buf), "%" PRId32, cfg->broker_id);
    cb(arg, "broker.id", buf);
    listener_text(buf, sizeof(buf), cfg->listen_host, cfg->listen_port);
    cb(arg, "listeners", buf);
    if (cfg->advertised_host[0]) {
        listener_text(buf, sizeof(buf), cfg->advertised_host, cfg->advertised_port);
        cb(arg, "advertised.listeners", buf);
    } else {
        cb(arg, "advertised.listeners", "");
    }
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < cfg->nlog_dirs; i++) {
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "," : "", cfg->log_dirs[i]);
    }
    cb(arg, "log.dirs", buf);
    snprintf(buf, sizeof(buf), "%" PRId32, cfg->num_partitions);
    cb(arg, "num.partitions", buf);
    snprintf(buf, sizeof(buf), "%d", cfg->default_replication_factor);
    cb(arg, "default.replication.factor", buf);
    cb(arg, "auto.create.topics.enable", cfg->auto_create_topics ? "true" : "false");
    snprintf(buf, sizeof(buf), "%" PRId64, cfg->socket_request_max_bytes);
    cb(arg, "socket.request.max.bytes", buf);
    snprintf(buf, sizeof(buf), "%" PRId64, cfg->fetch_max_bytes);
    cb(arg, "fetch.max.bytes", buf);
    snprintf(buf, sizeof(buf), "%" PRId64, cfg->store.retention_check_interval_ms);
    cb(arg, "log.retention.check.interval.ms", buf);
    snprintf(buf, sizeof(buf), "%" PRId64, cfg->store.checkpoint_interval_ms);
    cb(arg, "log.flush.offset.checkpoint.interval.ms", buf);
    snprintf(buf, sizeof(buf), "%" PRId64, cfg->store.flush_check_interval_ms);
    cb(arg, "log.flush.scheduler.interval.ms", buf);
    snprintf(buf, sizeof(buf), "%" PRId32, cfg->groups.offsets_partitions);
    cb(arg, "offsets.topic.num.partitions", buf);
    snprintf(buf, sizeof(buf), "%" PRId64, cfg->groups.offsets_retention_ms / 60000);
    cb(arg, "offsets.retention.minutes", buf);
    snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)cfg->groups.snapshot_min_bytes);
    cb(arg, "offsets.snapshot.min.bytes", buf);
    snprintf(buf, sizeof(buf), "%" PRId32, cfg->groups.min_session_timeout_ms);
    cb(arg, "group.min.session.timeout.ms", buf);
    snprintf(buf, sizeof(buf), "%" PRId32, cfg->groups.max_session_timeout_ms);
    cb(arg, "group.max.session.timeout.ms", buf);
    struct each_ctx ctx = {cb, arg};
    sl_log_config_each(&cfg->store.defaults, each_log_key, &ctx);
}

/* ---- meta.properties ---- */

struct meta {
    int present;
    int32_t broker_id; /* -1 when the file has none */
    char cluster_id[64];
};

/* Read dir/meta.properties (Java properties: key=value lines, # comments). */
static int meta_read(const char *dir, struct meta *m, struct sl_err *err)
{
    memset(m, 0, sizeof(*m));
    m->broker_id = -1;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, META_FILE);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) {
            return 0;
        }
        return sl_err_set(err, -errno, "%s: %s", path, strerror(errno));
    }
    m->present = 1;
    char line[512];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '!' || line[0] == '\0') {
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq) {
            continue;
        }
        *eq = '\0';
        const char *key = line, *value = eq + 1;
        int64_t v;
        if (strcmp(key, "version") == 0) {
            if (strcmp(value, "0") != 0) {
                rc = sl_err_set(err, SL_ECONFIG,
                                "%s: version %s is not supported (this broker writes "
                                "version 0, as ZooKeeper-mode Kafka does)",
                                path, value);
            }
        } else if (strcmp(key, "broker.id") == 0) {
            if (parse_int(key, value, 0, INT32_MAX, &v, NULL) != 0) {
                rc = sl_err_set(err, SL_ECORRUPT, "%s: bad broker.id '%s'", path, value);
            } else {
                m->broker_id = (int32_t)v;
            }
        } else if (strcmp(key, "cluster.id") == 0) {
            snprintf(m->cluster_id, sizeof(m->cluster_id), "%s", value);
        }
    }
    fclose(f);
    return rc;
}

static int meta_write(const char *dir, int32_t broker_id, const char *cluster_id)
{
    char text[256], date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a %b %d %H:%M:%S UTC %Y", &tm);
    int n =
        snprintf(text, sizeof(text), "#\n#%s\nversion=0\nbroker.id=%" PRId32 "\ncluster.id=%s\n",
                 date, broker_id, cluster_id);
    return sl_io_write_file_atomic(dir, META_FILE, text, (size_t)n);
}

/* A random cluster id in Kafka's form: 16 random bytes, base64url, no padding (22 chars). */
static int cluster_id_generate(char *out, size_t size)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t raw[16];
    do {
        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
            return -errno;
        }
        /* Kafka never hands out an id starting with '-' (it reads as a command-line flag). */
    } while ((raw[0] >> 2) == 62);
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < sizeof(raw); i++) {
        acc = acc << 8 | raw[i];
        bits += 8;
        while (bits >= 6 && n + 1 < size) {
            out[n++] = alphabet[(acc >> (bits - 6)) & 63];
            bits -= 6;
        }
    }
    if (bits > 0 && n + 1 < size) {
        out[n++] = alphabet[(acc << (6 - bits)) & 63];
    }
    out[n] = '\0';
    return 0;
}

/*
 * Check every log dir's meta.properties against broker.id and each other, pick (or create)
 * the cluster id, and write the file where it is missing. Kafka refuses a broker.id that
 * differs from the stored one: the data would be served under another broker's name.
 */
static int meta_properties(struct sl_broker *b, struct sl_err *err)
{
    struct meta m[SL_BROKER_MAX_LOG_DIRS];
    const char *cid_dir = NULL;
    b->cluster_id[0] = '\0';
    for (int i = 0; i < b->cfg.nlog_dirs; i++) {
        const char *dir = b->cfg.log_dirs[i];
        int rc = meta_read(dir, &m[i], err);
        if (rc != 0) {
            return rc;
        }
        if (m[i].present && m[i].broker_id >= 0 && m[i].broker_id != b->cfg.broker_id) {
            return sl_err_set(err, SL_ECONFIG,
                              "Configured broker.id %" PRId32 " doesn't match stored "
                              "broker.id %" PRId32 " in meta.properties of %s. If you moved "
                              "your data, make sure your configured broker.id matches. If you "
                              "intend to create a new broker, you should remove all data in "
                              "your data directories (log.dirs).",
                              b->cfg.broker_id, m[i].broker_id, dir);
        }
        if (m[i].cluster_id[0]) {
            if (!cid_dir) {
                snprintf(b->cluster_id, sizeof(b->cluster_id), "%s", m[i].cluster_id);
                cid_dir = dir;
            } else if (strcmp(b->cluster_id, m[i].cluster_id) != 0) {
                return sl_err_set(err, SL_ECONFIG,
                                  "the log directories belong to different clusters: "
                                  "cluster.id %s in %s, %s in %s",
                                  b->cluster_id, cid_dir, m[i].cluster_id, dir);
            }
        }
    }
    if (!cid_dir) {
        int rc = cluster_id_generate(b->cluster_id, sizeof(b->cluster_id));
        if (rc != 0) {
            return sl_err_set(err, rc, "cannot generate a cluster id: %s", sl_strerror(rc));
        }
    }
    for (int i = 0; i < b->cfg.nlog_dirs; i++) {
        if (m[i].present && m[i].broker_id >= 0 && m[i].cluster_id[0]) {
            continue;
        }
        int rc = meta_write(b->cfg.log_dirs[i], b->cfg.broker_id, b->cluster_id);
        if (rc != 0) {
            return sl_err_set(err, rc, "%s/%s: %s", b->cfg.log_dirs[i], META_FILE, sl_strerror(rc));
        }
    }
    return 0;
}

/* ---- lifecycle ---- */

static void log_open_info(const char *dir, const struct sl_store_open_info *info)
{
    const struct sl_log_recovery_info *r = &info->rec;
    if (info->logs == 0) {
        sl_log(SL_LOG_INFO, "log dir %s: no partitions yet", dir);
    } else if (info->clean) {
        sl_log(SL_LOG_INFO, "log dir %s: clean shutdown: %d partitions opened without recovery",
               dir, info->logs);
    } else {
        sl_log(info->rec.bytes_truncated || info->rec.segments_deleted ? SL_LOG_WARN : SL_LOG_INFO,
               "log dir %s: recovered after an unclean shutdown: %d partitions, %" PRId64
               " segments (%" PRId64 " bytes) re-validated, %" PRId64 " bytes truncated, %" PRId64
               " segments deleted, %" PRId64 " indexes rebuilt%s%s",
               dir, info->logs, r->segments_checked, r->bytes_checked, r->bytes_truncated,
               r->segments_deleted, r->indexes_rebuilt, r->first_error[0] ? "; first error: " : "",
               r->first_error);
    }
}

/* Fill in what advertised.listeners left open: the listening host and the bound port. */
static void advertised_resolve(struct sl_broker *b)
{
    struct sl_broker_config *c = &b->cfg;
    if (c->advertised_host[0] == '\0') {
        const char *h = c->listen_host;
        if (h[0] == '\0' || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0) {
            /* Kafka advertises the canonical host name when bound to every interface. */
            if (gethostname(c->advertised_host, sizeof(c->advertised_host) - 1) != 0) {
                snprintf(c->advertised_host, sizeof(c->advertised_host), "localhost");
            }
            c->advertised_host[sizeof(c->advertised_host) - 1] = '\0';
        } else {
            snprintf(c->advertised_host, sizeof(c->advertised_host), "%s", h);
        }
    }
    if (c->advertised_port == 0) {
        c->advertised_port = sl_server_port(b->server);
    }
}

static void hw_to_log_end(void *arg, struct sl_log *log)
{
    (void)arg;
    sl_log_set_high_watermark(log, sl_log_end_offset(log));
}

int sl_broker_create(const struct sl_broker_config *cfg, uv_loop_t *loop, struct sl_broker **out,
                     struct sl_err *err)
{
    *out = NULL;
    if (cfg->nlog_dirs < 1) {
        return sl_err_set(err, SL_ECONFIG, "log.dirs: no log directory configured");
    }
    struct sl_broker *b = calloc(1, sizeof(*b));
    if (!b) {
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    b->cfg = *cfg;
    b->loop = loop;
    int rc = 0;
    for (int i = 0; i < b->cfg.nlog_dirs && rc == 0; i++) {
        struct sl_store_config sc = b->cfg.store;
        sc.log_dir = b->cfg.log_dirs[i];
        struct sl_store_open_info info;
        rc = sl_store_open(&sc, &b->stores[i], &info, err);
        if (rc == 0) {
            b->nstores++;
            log_open_info(sc.log_dir, &info);
        }
    }
    if (rc == 0) {
        rc = meta_properties(b, err);
    }
    for (int i = 0; i < b->nstores && rc == 0; i++) {
        rc = sl_store_start(b->stores[i]);
        if (rc != 0) {
            sl_err_set(err, rc, "%s: cannot start the background thread: %s", b->cfg.log_dirs[i],
                       sl_strerror(rc));
        }
    }
    if (rc == 0) {
        rc = sl_topics_create(b, &b->topics, err);
    }
    if (rc == 0) {
        /* This broker is the only replica of every partition, so all it holds is committed:
         * the high watermark is the log end, as Kafka sets it when a sole replica becomes
         * leader. (The checkpointed one can lag by up to a checkpoint interval after a
         * crash and would hide acknowledged records.) */
        for (int i = 0; i < b->nstores; i++) {
            sl_store_each(b->stores[i], hw_to_log_end, NULL);
        }
    }
    if (rc == 0 && (rc = sl_fetch_waiters_create(b, &b->fetch_waiters)) != 0) {
        sl_err_set(err, rc, "fetch waiters: %s", sl_strerror(rc));
    }
    if (rc == 0 && (rc = sl_producers_create(&b->producers)) != 0) {
        sl_err_set(err, rc, "producer state: %s", sl_strerror(rc));
    }
    if (rc == 0) {
        rc = sl_groups_create(&b->cfg.groups, b, &b->groups, err);
    }
    if (rc == 0) {
        rc = sl_server_create(b, loop, b->cfg.listen_host, b->cfg.listen_port,
                              b->cfg.socket_request_max_bytes, &b->server, err);
    }
    if (rc != 0) {
        /* Nothing was served: closing clean keeps the next start fast. */
        sl_broker_destroy(b, 1);
        return rc;
    }
    advertised_resolve(b);
    /* last: a started timer must be closed on the loop before the broker is freed */
    sl_groups_start(b->groups, loop);
    *out = b;
    return 0;
}

int sl_broker_port(const struct sl_broker *b)
{
    return b->server ? sl_server_port(b->server) : -1;
}

void sl_broker_metrics_read(const struct sl_broker *b, struct sl_broker_metrics *out)
{
    const struct sl_broker_metrics *m = &b->metrics;
    out->bytes_in = __atomic_load_n(&m->bytes_in, __ATOMIC_RELAXED);
    out->messages_in = __atomic_load_n(&m->messages_in, __ATOMIC_RELAXED);
    out->bytes_out = __atomic_load_n(&m->bytes_out, __ATOMIC_RELAXED);
    for (int i = 0; i < SL_BROKER_METRICS_API_KEYS; i++) {
        out->api[i].requests = __atomic_load_n(&m->api[i].requests, __ATOMIC_RELAXED);
        out->api[i].time_us_sum = __atomic_load_n(&m->api[i].time_us_sum, __ATOMIC_RELAXED);
    }
}

void sl_broker_stop(struct sl_broker *b)
{
    if (b->stopping) {
        return;
    }
    b->stopping = 1;
    if (b->server) {
        sl_server_stop(b->server); /* cancels parked requests, so fetch waiters empty out */
    }
    sl_groups_stop(b->groups); /* closes the tick timer; the loop runs before destroy */
}

int sl_broker_destroy(struct sl_broker *b, int clean)
{
    if (!b) {
        return 0;
    }
    sl_server_destroy(b->server);
    sl_fetch_waiters_destroy(b->fetch_waiters);
    sl_producers_destroy(b->producers);
    sl_groups_destroy(b->groups);
    sl_topics_destroy(b->topics);
    int rc = 0;
    for (int i = 0; i < b->nstores; i++) {
        int r = sl_store_close(b->stores[i], clean);
        if (r != 0) {
            sl_log(SL_LOG_ERROR, "log dir %s: close: %s", b->cfg.log_dirs[i], sl_strerror(r));
            rc = rc ? rc : r;
        }
    }
    free(b);
    return rc;
}

struct sl_log *sl_broker_log(struct sl_broker *b, const char *topic, int32_t partition)
{
    for (int i = 0; i < b->nstores; i++) {
        struct sl_log *log = sl_store_get(b->stores[i], topic, partition);
        if (log) {
            return log;
        }
    }
    return NULL;
}
