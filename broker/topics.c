/*
 * topics.c - the topic registry (contract in topics.h). The partition directories in the
 * stores are the truth about which topics exist; `<first log dir>/topic-configs` holds the
 * per-topic overrides as `topic key value` lines.
 *
 * Invariants:
 * - A registered topic has had partitions 0..partitions-1 created; at load a topic is every
 *   name with a partition directory, counted up to its largest partition (a gap is logged as
 *   a corrupt registry, and Metadata reports the missing partition as unavailable).
 * - topic-configs is only ever replaced whole (sl_io_write_file_atomic: tmp, fsync, rename,
 *   fsync dir), so a crash leaves the old or the new overrides, never a mix.
 * - Overrides are persisted before a topic's partitions are created: a crash in between
 *   leaves overrides without partitions, which the next load drops, rather than partitions
 *   without their (say, retention) overrides.
 *
 * Threads: the broker loop thread owns the registry. The stores are thread-safe; their
 * background thread sees configuration changes through sl_store_set_topic_config.
 */
#include "topics.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/sl_assert.h"
#include "../store/io.h"
#include "../store/store.h"
#include "broker.h"
#include "../common/sl_log.h"

#define CONFIG_FILE  "topic-configs"
#define NAME_MAX_LEN 249

struct sl_topics {
    struct sl_topic **v; /* sorted by name */
    int n;
    int cap;
};

/* ---- registry array ---- */

/* Index of name, or -(insertion point) - 1. */
static int find(const struct sl_topics *t, const char *name)
{
    int lo = 0, hi = t->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(t->v[mid]->name, name);
        if (c == 0) {
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return -lo - 1;
}

static void free_overrides(struct sl_topic_override *o, int n)
{
    for (int i = 0; i < n; i++) {
        free(o[i].key);
        free(o[i].value);
    }
    free(o);
}

static void topic_free(struct sl_topic *tp)
{
    if (tp) {
        free(tp->name);
        free_overrides(tp->overrides, tp->noverrides);
        free(tp);
    }
}

static int insert(struct sl_topics *t, struct sl_topic *tp)
{
    int i = find(t, tp->name);
    SL_ASSERT(i < 0);
    i = -i - 1;
    if (t->n == t->cap) {
        int cap = t->cap ? t->cap * 2 : 16;
        struct sl_topic **v = realloc(t->v, (size_t)cap * sizeof(*v));
        if (!v) {
            return -ENOMEM;
        }
        t->v = v;
        t->cap = cap;
    }
    memmove(&t->v[i + 1], &t->v[i], (size_t)(t->n - i) * sizeof(*t->v));
    t->v[i] = tp;
    t->n++;
    return 0;
}

static struct sl_topic *remove_at(struct sl_topics *t, int i)
{
    struct sl_topic *tp = t->v[i];
    memmove(&t->v[i], &t->v[i + 1], (size_t)(t->n - i - 1) * sizeof(*t->v));
    t->n--;
    return tp;
}

static struct sl_topic *topic_new(const char *name, int32_t partitions)
{
    struct sl_topic *tp = calloc(1, sizeof(*tp));
    if (!tp || !(tp->name = strdup(name))) {
        free(tp);
        return NULL;
    }
    tp->partitions = partitions;
    tp->internal = strncmp(name, "__", 2) == 0;
    return tp;
}

/* ---- overrides ---- */

/* The effective configuration: the broker's defaults, then the overrides in order. */
static int effective(const struct sl_broker *b, const struct sl_topic_override *o, int n,
                     struct sl_log_config *cfg, struct sl_err *err)
{
    *cfg = b->cfg.store.defaults;
    for (int i = 0; i < n; i++) {
        if (!o[i].value) {
            return sl_err_set(err, SL_ECONFIG, "%s: a null value is not a value", o[i].key);
        }
        int rc = sl_log_config_set(cfg, o[i].key, o[i].value, err);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static struct sl_topic_override *dup_overrides(const struct sl_topic_override *o, int n)
{
    struct sl_topic_override *d = calloc(n > 0 ? (size_t)n : 1, sizeof(*d));
    for (int i = 0; d && i < n; i++) {
        d[i].key = strdup(o[i].key);
        d[i].value = strdup(o[i].value);
        if (!d[i].key || !d[i].value) {
            free_overrides(d, i + 1);
            return NULL;
        }
    }
    return d;
}

/* Give every store the topic's configuration: existing partitions and later ones. */
static void apply_config(struct sl_broker *b, const struct sl_topic *tp)
{
    for (int i = 0; i < b->nstores; i++) {
        sl_store_set_topic_config(b->stores[i], tp->name, &tp->cfg);
    }
}

/* Rewrite topic-configs from the registry. Returns 0 or an I/O error (err says which). */
static int persist(struct sl_broker *b, const struct sl_topics *t, struct sl_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        return sl_err_set(err, -ENOMEM, "out of memory writing %s", CONFIG_FILE);
    }
    fputs("# sluice topic configuration overrides: topic key value\n", f);
    for (int i = 0; i < t->n; i++) {
        const struct sl_topic *tp = t->v[i];
        for (int j = 0; j < tp->noverrides; j++) {
            fprintf(f, "%s %s %s\n", tp->name, tp->overrides[j].key, tp->overrides[j].value);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad || !buf) {
        free(buf);
        return sl_err_set(err, -ENOMEM, "out of memory writing %s", CONFIG_FILE);
    }
    int rc = sl_io_write_file_atomic(b->cfg.log_dirs[0], CONFIG_FILE, buf, len);
    free(buf);
    if (rc != 0) {
        return sl_err_set(err, rc, "writing %s/%s: %s", b->cfg.log_dirs[0], CONFIG_FILE,
                          sl_strerror(rc));
    }
    return 0;
}

/* ---- load ---- */

struct scan {
    struct part {
        char *topic;
        int32_t partition;
    } * v;
    size_t n, cap;
    int oom;
};

static void scan_cb(void *arg, struct sl_log *log)
{
    struct scan *s = arg;
    if (s->oom) {
        return;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct part *v = realloc(s->v, cap * sizeof(*v));
        if (!v) {
            s->oom = 1;
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    if (!(s->v[s->n].topic = strdup(sl_log_topic(log)))) {
        s->oom = 1;
        return;
    }
    s->v[s->n++].partition = sl_log_partition(log);
}

static int part_cmp(const void *a, const void *b)
{
    const struct part *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

/* Register every topic found on disk. */
static int load_partitions(struct sl_broker *b, struct sl_topics *t, struct sl_err *err)
{
    struct scan s = {0};
    for (int i = 0; i < b->nstores; i++) {
        sl_store_each(b->stores[i], scan_cb, &s);
    }
    int rc = s.oom ? sl_err_set(err, -ENOMEM, "out of memory loading topics") : 0;
    if (s.n > 1) {
        qsort(s.v, s.n, sizeof(*s.v), part_cmp);
    }
    for (size_t i = 0; rc == 0 && i < s.n;) {
        size_t j = i;
        int32_t present = 0, max = -1;
        for (; j < s.n && strcmp(s.v[j].topic, s.v[i].topic) == 0; j++) {
            if (j > i && s.v[j].partition == s.v[j - 1].partition) {
                sl_log(SL_LOG_ERROR, "topics: %s-%d exists in two log directories; using one",
                       s.v[j].topic, s.v[j].partition);
                continue;
            }
            present++;
            max = s.v[j].partition;
        }
        if (present != max + 1) {
            sl_log(SL_LOG_ERROR,
                   "topics: %s has partitions up to %d but %d of them are missing on disk: "
                   "the registry is corrupt; the missing ones are reported unavailable",
                   s.v[i].topic, max, max + 1 - present);
        }
        struct sl_topic *tp = topic_new(s.v[i].topic, max + 1);
        if (tp) {
            tp->cfg = b->cfg.store.defaults;
        }
        if (!tp || insert(t, tp) != 0) {
            topic_free(tp);
            rc = sl_err_set(err, -ENOMEM, "out of memory loading topics");
        }
        i = j;
    }
    for (size_t i = 0; i < s.n; i++) {
        free(s.v[i].topic);
    }
    free(s.v);
    return rc;
}

/* Append one override to tp (replacing the same key). */
static int override_put(struct sl_topic *tp, const char *key, const char *value)
{
    char *v = strdup(value);
    if (!v) {
        return -ENOMEM;
    }
    for (int i = 0; i < tp->noverrides; i++) {
        if (strcmp(tp->overrides[i].key, key) == 0) {
            free(tp->overrides[i].value);
            tp->overrides[i].value = v;
            return 0;
        }
    }
    struct sl_topic_override *o = realloc(tp->overrides, (size_t)(tp->noverrides + 1) * sizeof(*o));
    char *k = strdup(key);
    if (!o || !k) {
        if (o) {
            tp->overrides = o;
        }
        free(k);
        free(v);
        return -ENOMEM;
    }
    tp->overrides = o;
    o[tp->noverrides].key = k;
    o[tp->noverrides].value = v;
    tp->noverrides++;
    return 0;
}

/*
 * Read topic-configs. Lines for topics that have no partitions (a crash between persisting
 * and creating, or between deleting and persisting) and lines that no longer parse are
 * dropped with a warning; *dirty tells the caller to rewrite the file.
 */
static int load_configs(struct sl_broker *b, struct sl_topics *t, int *dirty, struct sl_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", b->cfg.log_dirs[0], CONFIG_FILE);
    FILE *f = fopen(path, "r");
    if (!f) {
        return errno == ENOENT ? 0 : sl_err_set(err, -errno, "%s: %s", path, strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
            line[--len] = '\0';
        }
        if (len == 0 || line[0] == '#') {
            continue;
        }
        char *key = strchr(line, ' ');
        char *value = key ? strchr(key + 1, ' ') : NULL;
        if (!value) {
            sl_log(SL_LOG_WARN, "topics: %s:%d: not `topic key value`; ignored", path, lineno);
            *dirty = 1;
            continue;
        }
        *key++ = '\0';
        *value++ = '\0';
        int i = find(t, line);
        if (i < 0) {
            sl_log(SL_LOG_WARN, "topics: %s:%d: topic %s has no partitions; override %s dropped",
                   path, lineno, line, key);
            *dirty = 1;
            continue;
        }
        struct sl_log_config probe = t->v[i]->cfg;
        struct sl_err e;
        if (sl_log_config_set(&probe, key, value, &e) != 0) {
            sl_log(SL_LOG_WARN, "topics: %s:%d: %s; dropped", path, lineno, e.msg);
            *dirty = 1;
            continue;
        }
        t->v[i]->cfg = probe;
        if (override_put(t->v[i], key, value) != 0) {
            rc = sl_err_set(err, -ENOMEM, "out of memory reading %s", path);
        }
    }
    if (rc == 0 && ferror(f)) {
        rc = sl_err_set(err, -EIO, "reading %s: %s", path, strerror(errno));
    }
    free(line);
    fclose(f);
    return rc;
}

int sl_topics_create(struct sl_broker *b, struct sl_topics **out, struct sl_err *err)
{
    *out = NULL;
    if (b->nstores < 1) {
        return sl_err_set(err, SL_ECONFIG, "the broker has no log directory");
    }
    struct sl_topics *t = calloc(1, sizeof(*t));
    if (!t) {
        return sl_err_set(err, -ENOMEM, "out of memory loading topics");
    }
    int dirty = 0;
    int rc = load_partitions(b, t, err);
    if (rc == 0) {
        rc = load_configs(b, t, &dirty, err);
    }
    if (rc != 0) {
        sl_topics_destroy(t);
        return rc;
    }
    for (int i = 0; i < t->n; i++) {
        struct sl_topic *tp = t->v[i];
        if (tp->noverrides) {
            apply_config(b, tp);
        }
        /* A partition made before leader epochs were kept starts epoch 0 at its end. */
        for (int32_t p = 0; p < tp->partitions; p++) {
            struct sl_log *log = NULL;
            for (int s = 0; s < b->nstores && !log; s++) {
                log = sl_store_get(b->stores[s], tp->name, p);
            }
            struct sl_err e;
            if (log && sl_log_epoch_latest(log) < 0 &&
                sl_log_epoch_assign(log, 0, sl_log_end_offset(log), &e) != 0) {
                sl_log(SL_LOG_WARN, "topics: %s-%d: leader epoch 0: %s", tp->name, p, e.msg);
            }
        }
    }
    *out = t;
    struct sl_err e;
    if (dirty && persist(b, t, &e) != 0) {
        sl_log(SL_LOG_WARN, "topics: %s", e.msg);
    }
    sl_log(SL_LOG_INFO, "topics: %d topics loaded", t->n);
    return 0;
}

void sl_topics_destroy(struct sl_topics *t)
{
    if (!t) {
        return;
    }
    for (int i = 0; i < t->n; i++) {
        topic_free(t->v[i]);
    }
    free(t->v);
    free(t);
}

const struct sl_topic *sl_topics_get(struct sl_topics *t, const char *name)
{
    int i = find(t, name);
    return i >= 0 ? t->v[i] : NULL;
}

int sl_topics_count(struct sl_topics *t)
{
    return t->n;
}

const struct sl_topic *sl_topics_at(struct sl_topics *t, int i)
{
    return i >= 0 && i < t->n ? t->v[i] : NULL;
}

/* ---- changes ---- */

/* Kafka's Topic.validate, with its messages. */
static int name_check(const char *name, struct sl_err *err)
{
    size_t len = strlen(name);
    if (len == 0) {
        return sl_err_set(err, SL_EUNSUPPORTED, "Topic name is illegal, it can't be empty");
    }
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        return sl_err_set(err, SL_EUNSUPPORTED, "Topic name cannot be \".\" or \"..\"");
    }
    if (len > NAME_MAX_LEN) {
        return sl_err_set(err, SL_EUNSUPPORTED,
                          "Topic name is illegal, it can't be longer than %d characters, topic "
                          "name: %.64s...",
                          NAME_MAX_LEN, name);
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            return sl_err_set(err, SL_EUNSUPPORTED,
                              "Topic name \"%.300s\" is illegal, it contains a character other "
                              "than ASCII alphanumerics, '.', '_' and '-'",
                              name);
        }
    }
    return 0;
}

/* The store holding the fewest partitions (counts are kept current by the caller). */
static int emptiest(const int *counts, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++) {
        if (counts[i] < counts[best]) {
            best = i;
        }
    }
    return best;
}

static void count_cb(void *arg, struct sl_log *log)
{
    (*(int *)arg)++;
}

/* Delete partitions [from, to) of name wherever they are; SL_ENOENT is not an error. */
static int drop_partitions(struct sl_broker *b, const char *name, int32_t from, int32_t to,
                           struct sl_err *err)
{
    int first = 0;
    for (int32_t p = from; p < to; p++) {
        for (int s = 0; s < b->nstores; s++) {
            if (!sl_store_get(b->stores[s], name, p)) {
                continue;
            }
            struct sl_err e;
            int rc = sl_store_delete(b->stores[s], name, p, &e);
            if (rc != 0 && rc != SL_ENOENT && first == 0) {
                first = sl_err_set(err, rc, "%s", e.msg);
            }
        }
    }
    return first;
}

/*
 * Create partitions [from, to) of tp, each in the store with the fewest partitions, with
 * leader epoch 0 from offset 0. On failure the ones created here are removed again.
 */
static int make_partitions(struct sl_broker *b, const struct sl_topic *tp, int32_t from, int32_t to,
                           struct sl_err *err)
{
    int counts[SL_BROKER_MAX_LOG_DIRS] = {0};
    for (int s = 0; s < b->nstores; s++) {
        sl_store_each(b->stores[s], count_cb, &counts[s]);
    }
    int rc = 0;
    int32_t p;
    for (p = from; p < to && rc == 0; p++) {
        int s = emptiest(counts, b->nstores);
        struct sl_log *log;
        rc = sl_store_create(b->stores[s], tp->name, p, &tp->cfg, &log, err);
        if (rc == 0) {
            counts[s]++;
            rc = sl_log_epoch_assign(log, 0, 0, err);
            if (rc != 0) {
                p++; /* this one exists: remove it too */
            }
        }
    }
    if (rc != 0) {
        struct sl_err e;
        if (drop_partitions(b, tp->name, from, p, &e) != 0) {
            sl_log(SL_LOG_ERROR, "topics: removing %s after a failed create: %s", tp->name, e.msg);
        }
    }
    return rc;
}

int sl_topics_add(struct sl_broker *b, const char *name, int32_t partitions,
                  const struct sl_topic_override *overrides, int noverrides, int validate_only,
                  struct sl_err *err)
{
    struct sl_topics *t = b->topics;
    int rc = name_check(name, err);
    if (rc != 0) {
        return rc;
    }
    if (find(t, name) >= 0) {
        return sl_err_set(err, SL_EEXIST, "Topic '%s' already exists.", name);
    }
    if (partitions < 1) {
        return sl_err_set(err, SL_ERANGE, "Number of partitions must be larger than 0.");
    }
    struct sl_log_config cfg;
    if ((rc = effective(b, overrides, noverrides, &cfg, err)) != 0) {
        return rc;
    }
    if (validate_only) {
        return 0;
    }
    struct sl_topic *tp = topic_new(name, partitions);
    if (!tp || !(tp->overrides = dup_overrides(overrides, noverrides)) || insert(t, tp) != 0) {
        topic_free(tp);
        return sl_err_set(err, -ENOMEM, "out of memory creating %s", name);
    }
    tp->noverrides = noverrides;
    tp->cfg = cfg;
    if (noverrides) {
        apply_config(b, tp);
        rc = persist(b, b->topics, err);
    }
    if (rc == 0) {
        rc = make_partitions(b, tp, 0, partitions, err);
    }
    if (rc != 0) {
        int had = tp->noverrides;
        topic_free(remove_at(t, find(t, name)));
        if (had) {
            struct sl_log_config d = b->cfg.store.defaults;
            for (int i = 0; i < b->nstores; i++) {
                sl_store_set_topic_config(b->stores[i], name, &d);
            }
            struct sl_err e;
            if (persist(b, b->topics, &e) != 0) {
                sl_log(SL_LOG_WARN, "topics: %s", e.msg);
            }
        }
        return rc;
    }
    sl_log(SL_LOG_INFO, "topics: created %s with %d partitions", name, partitions);
    return 0;
}

int sl_topics_delete(struct sl_broker *b, const char *name, struct sl_err *err)
{
    struct sl_topics *t = b->topics;
    int i = find(t, name);
    if (i < 0) {
        return sl_err_set(err, SL_ENOENT, "Topic '%s' does not exist.", name);
    }
    struct sl_topic *tp = t->v[i];
    /* A failure keeps the topic registered, so a retry can finish the job. */
    int rc = drop_partitions(b, name, 0, tp->partitions, err);
    if (rc != 0) {
        return rc;
    }
    int had = tp->noverrides;
    topic_free(remove_at(t, i));
    if (had) {
        struct sl_log_config d = b->cfg.store.defaults;
        for (int s = 0; s < b->nstores; s++) {
            sl_store_set_topic_config(b->stores[s], name, &d);
        }
        /* Not fatal: a stale line for a topic without partitions is dropped at load. */
        struct sl_err e;
        if (persist(b, b->topics, &e) != 0) {
            sl_log(SL_LOG_WARN, "topics: %s", e.msg);
        }
    }
    sl_log(SL_LOG_INFO, "topics: deleted %s", name);
    return 0;
}

int sl_topics_grow(struct sl_broker *b, const char *name, int32_t total, int validate_only,
                   struct sl_err *err)
{
    int i = find(b->topics, name);
    if (i < 0) {
        return sl_err_set(err, SL_ENOENT, "Topic '%s' does not exist.", name);
    }
    struct sl_topic *tp = b->topics->v[i];
    if (total < tp->partitions) {
        return sl_err_set(err, SL_ERANGE,
                          "Topic currently has %d partitions, which is higher than the "
                          "requested %d.",
                          tp->partitions, total);
    }
    if (total == tp->partitions) {
        return sl_err_set(err, SL_ERANGE, "Topic already has %d partitions.", tp->partitions);
    }
    if (validate_only) {
        return 0;
    }
    int rc = make_partitions(b, tp, tp->partitions, total, err);
    if (rc == 0) {
        sl_log(SL_LOG_INFO, "topics: %s grew from %d to %d partitions", name, tp->partitions,
               total);
        tp->partitions = total;
    }
    return rc;
}

/* The overrides after changes: a fresh array (caller frees), or NULL with *rc set. */
static struct sl_topic_override *merged(const struct sl_topic *tp,
                                        const struct sl_topic_override *changes, int nchanges,
                                        int incremental, int *nout, int *rc)
{
    struct sl_topic tmp = {0};
    *rc = 0;
    if (incremental) {
        tmp.overrides = dup_overrides(tp->overrides, tp->noverrides);
        tmp.noverrides = tmp.overrides ? tp->noverrides : 0;
        *rc = tmp.overrides ? 0 : -ENOMEM;
    }
    for (int i = 0; *rc == 0 && i < nchanges; i++) {
        if (changes[i].value) {
            *rc = override_put(&tmp, changes[i].key, changes[i].value);
            continue;
        }
        for (int j = 0; incremental && j < tmp.noverrides; j++) {
            if (strcmp(tmp.overrides[j].key, changes[i].key) == 0) {
                free(tmp.overrides[j].key);
                free(tmp.overrides[j].value);
                memmove(&tmp.overrides[j], &tmp.overrides[j + 1],
                        (size_t)(tmp.noverrides - j - 1) * sizeof(*tmp.overrides));
                tmp.noverrides--;
                break;
            }
        }
    }
    if (*rc != 0) {
        free_overrides(tmp.overrides, tmp.noverrides);
        return NULL;
    }
    *nout = tmp.noverrides;
    return tmp.overrides ? tmp.overrides : calloc(1, sizeof(*tmp.overrides));
}

int sl_topics_set_config(struct sl_broker *b, const char *name,
                         const struct sl_topic_override *changes, int nchanges, int incremental,
                         int validate_only, struct sl_err *err)
{
    int i = find(b->topics, name);
    if (i < 0) {
        return sl_err_set(err, SL_ENOENT, "Topic '%s' does not exist.", name);
    }
    struct sl_topic *tp = b->topics->v[i];
    int n = 0, rc;
    struct sl_topic_override *o = merged(tp, changes, nchanges, incremental, &n, &rc);
    if (!o) {
        return sl_err_set(err, rc ? rc : -ENOMEM, "out of memory changing %s", name);
    }
    struct sl_log_config cfg;
    if ((rc = effective(b, o, n, &cfg, err)) != 0 || validate_only) {
        free_overrides(o, n);
        return rc;
    }
    struct sl_topic_override *old = tp->overrides;
    int nold = tp->noverrides;
    struct sl_log_config old_cfg = tp->cfg;
    tp->overrides = o;
    tp->noverrides = n;
    tp->cfg = cfg;
    if ((rc = persist(b, b->topics, err)) != 0) {
        tp->overrides = old;
        tp->noverrides = nold;
        tp->cfg = old_cfg;
        free_overrides(o, n);
        return rc;
    }
    free_overrides(old, nold);
    apply_config(b, tp);
    sl_log(SL_LOG_INFO, "topics: %s now has %d configuration overrides", name, n);
    return 0;
}
