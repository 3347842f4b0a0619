/*
 * store.c - the log directory manager (see store.h): opens every partition, keeps Kafka's
 * checkpoint files, marks clean shutdowns, locks the directory, and runs the background
 * retention / flush / checkpoint pass on its own thread.
 *
 * Crash protocol:
 *   open:  marker present -> clean; the marker is removed (and the directory synced) before
 *          anything is written, so a crash from then on is seen as unclean next time.
 *   close: logs flushed -> checkpoints written atomically -> marker written and synced.
 * A recovery point in the checkpoint is only ever one that sl_log_flush made durable.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/sl_macros.h"
#include "io.h"
#include "store.h"

#define CLEAN_MARKER      ".kafka_cleanshutdown"
#define LOCK_FILE         ".lock"
#define CP_RECOVERY       "recovery-point-offset-checkpoint"
#define CP_LOG_START      "log-start-offset-checkpoint"
#define CP_REPLICATION    "replication-offset-checkpoint"
#define TOPIC_NAME_MAX    249

struct entry {
    char *topic;
    int32_t partition;
    struct sl_log *log;
};

struct topic_cfg {
    char *topic;
    struct sl_log_config cfg;
};

struct sl_store {
    struct sl_store_config cfg;
    char *dir;
    int lock_fd;
    pthread_rwlock_t lock; /* guards entries and topic configs */
    struct entry *entries; /* sorted by (topic, partition) */
    size_t n, cap;
    struct topic_cfg *tcfgs;
    size_t ntcfgs;
    pthread_mutex_t thr_mu; /* guards stop and the condition */
    pthread_cond_t thr_cond;
    pthread_t thr;
    int thr_running;
    int stop;
};

void sl_store_config_default(struct sl_store_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    sl_log_config_default(&cfg->defaults);
    cfg->retention_check_interval_ms = 300000;
    cfg->flush_check_interval_ms = 1000;
    cfg->checkpoint_interval_ms = 60000;
}

int sl_store_topic_name_ok(const char *topic)
{
    size_t len = strlen(topic);
    if (len == 0 || len > TOPIC_NAME_MAX || strcmp(topic, ".") == 0 || strcmp(topic, "..") == 0) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = topic[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

/* ---- the sorted table ---- */

static int cmp_key(const char *t1, int32_t p1, const char *t2, int32_t p2)
{
    int c = strcmp(t1, t2);
    return c ? c : (p1 > p2) - (p1 < p2);
}

/* Index of the first entry >= key. */
static size_t lower_bound(const struct sl_store *st, const char *topic, int32_t partition)
{
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_key(st->entries[mid].topic, st->entries[mid].partition, topic, partition) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static struct entry *find(const struct sl_store *st, const char *topic, int32_t partition)
{
    size_t i = lower_bound(st, topic, partition);
    if (i < st->n && cmp_key(st->entries[i].topic, st->entries[i].partition, topic, partition) == 0) {
        return &st->entries[i];
    }
    return NULL;
}

static int insert(struct sl_store *st, struct sl_log *log)
{
    if (st->n == st->cap) {
        size_t ncap = st->cap ? st->cap * 2 : 16;
        struct entry *ne = realloc(st->entries, ncap * sizeof(*ne));
        if (!ne) {
            return -ENOMEM;
        }
        st->entries = ne;
        st->cap = ncap;
    }
    char *topic = strdup(sl_log_topic(log));
    if (!topic) {
        return -ENOMEM;
    }
    size_t i = lower_bound(st, topic, sl_log_partition(log));
    memmove(&st->entries[i + 1], &st->entries[i], (st->n - i) * sizeof(*st->entries));
    st->entries[i] = (struct entry){topic, sl_log_partition(log), log};
    st->n++;
    return 0;
}

/* ---- checkpoint files: "0\n<count>\n<topic> <partition> <offset>\n..." ---- */

struct cp_entry {
    char topic[TOPIC_NAME_MAX + 1];
    int32_t partition;
    int64_t offset;
};

struct cp {
    struct cp_entry *e;
    size_t n;
};

static int cp_cmp(const void *a, const void *b)
{
    const struct cp_entry *x = a, *y = b;
    return cmp_key(x->topic, x->partition, y->topic, y->partition);
}

/* A missing or damaged checkpoint reads as empty: every log then falls back to its safe
 * default (recovery from offset 0, start at the first segment, high watermark = end). */
static void cp_read(const char *dir, const char *name, struct cp *cp)
{
    char path[PATH_MAX];
    memset(cp, 0, sizeof(*cp));
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        return;
    }
    int version;
    size_t count;
    if (fscanf(f, "%d %zu", &version, &count) == 2 && version == 0 && count < (1u << 24)) {
        cp->e = calloc(count ? count : 1, sizeof(*cp->e));
        while (cp->e && cp->n < count &&
               fscanf(f, "%249s %" SCNd32 " %" SCNd64, cp->e[cp->n].topic, &cp->e[cp->n].partition,
                      &cp->e[cp->n].offset) == 3) {
            cp->n++;
        }
        if (cp->n != count) {
            cp->n = 0;
        }
        if (cp->n > 0) {
            qsort(cp->e, cp->n, sizeof(*cp->e), cp_cmp);
        }
    }
    fclose(f);
}

static int64_t cp_get(const struct cp *cp, const char *topic, int32_t partition, int64_t dflt)
{
    struct cp_entry key;
    snprintf(key.topic, sizeof(key.topic), "%s", topic);
    key.partition = partition;
    struct cp_entry *e = cp->n ? bsearch(&key, cp->e, cp->n, sizeof(*cp->e), cp_cmp) : NULL;
    return e ? e->offset : dflt;
}

static int cp_write(struct sl_store *st, const char *name, int64_t (*get)(struct sl_log *))
{
    size_t cap = 32 + st->n * (TOPIC_NAME_MAX + 40);
    char *buf = malloc(cap);
    if (!buf) {
        return -ENOMEM;
    }
    size_t len = (size_t)snprintf(buf, cap, "0\n%zu\n", st->n);
    for (size_t i = 0; i < st->n; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "%s %" PRId32 " %" PRId64 "\n",
                                st->entries[i].topic, st->entries[i].partition,
                                get(st->entries[i].log));
    }
    int rc = sl_io_write_file_atomic(st->dir, name, buf, len);
    free(buf);
    return rc;
}

static int checkpoint_locked(struct sl_store *st, struct sl_err *err)
{
    int rc = cp_write(st, CP_RECOVERY, sl_log_recovery_point);
    if (rc == 0) {
        rc = cp_write(st, CP_LOG_START, sl_log_start_offset);
    }
    if (rc == 0) {
        rc = cp_write(st, CP_REPLICATION, sl_log_high_watermark);
    }
    return rc == 0 ? 0 : sl_err_set(err, rc, "%s: writing checkpoints: %s", st->dir,
                                    sl_strerror(rc));
}

int sl_store_checkpoint(struct sl_store *st, struct sl_err *err)
{
    pthread_rwlock_rdlock(&st->lock);
    int rc = checkpoint_locked(st, err);
    pthread_rwlock_unlock(&st->lock);
    return rc;
}

/* ---- open / close ---- */

static int remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        return -errno;
    }
    struct dirent *e;
    char child[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
            sl_io_unlink(child);
        }
    }
    closedir(d);
    return rmdir(path) == -1 ? -errno : 0;
}

static int open_logs(struct sl_store *st, int clean, struct sl_store_open_info *info,
                     struct sl_err *err)
{
    struct cp rp, ls, hw;
    cp_read(st->dir, CP_RECOVERY, &rp);
    cp_read(st->dir, CP_LOG_START, &ls);
    cp_read(st->dir, CP_REPLICATION, &hw);
    DIR *d = opendir(st->dir);
    int rc = d ? 0 : sl_err_set(err, -errno, "%s: %s", st->dir, strerror(errno));
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char topic[TOPIC_NAME_MAX + 1], path[PATH_MAX];
        int32_t partition;
        size_t len = strlen(e->d_name);
        snprintf(path, sizeof(path), "%s/%s", st->dir, e->d_name);
        if (len > 7 && strcmp(e->d_name + len - 7, "-delete") == 0) {
            remove_tree(path); /* a deletion a crash interrupted */
            continue;
        }
        struct stat sb;
        if (e->d_name[0] == '.' || stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
            sl_log_parse_dir_name(e->d_name, topic, sizeof(topic), &partition) != 0 ||
            !sl_store_topic_name_ok(topic)) {
            continue;
        }
        struct sl_log_config cfg;
        sl_store_topic_config(st, topic, &cfg);
        struct sl_log_open_opts o = {
            .clean = clean,
            .recovery_point = cp_get(&rp, topic, partition, 0),
            .log_start_offset = cp_get(&ls, topic, partition, -1),
            .high_watermark = cp_get(&hw, topic, partition, -1),
        };
        struct sl_log_recovery_info ri;
        struct sl_log *log;
        rc = sl_log_open(path, &cfg, &o, &log, &ri, err);
        if (rc == 0 && (rc = insert(st, log)) != 0) {
            sl_log_close(log, 0);
        }
        if (rc == 0 && info) {
            info->logs++;
            info->rec.recovered |= ri.recovered;
            info->rec.segments_checked += ri.segments_checked;
            info->rec.bytes_checked += ri.bytes_checked;
            info->rec.bytes_truncated += ri.bytes_truncated;
            info->rec.segments_deleted += ri.segments_deleted;
            info->rec.indexes_rebuilt += ri.indexes_rebuilt;
            if (!info->rec.first_error[0] && ri.first_error[0]) {
                memcpy(info->rec.first_error, ri.first_error, sizeof(ri.first_error));
            }
        }
    }
    if (d) {
        closedir(d);
    }
    free(rp.e);
    free(ls.e);
    free(hw.e);
    return rc;
}

int sl_store_open(const struct sl_store_config *cfg, struct sl_store **out,
                  struct sl_store_open_info *info, struct sl_err *err)
{
    *out = NULL;
    if (info) {
        memset(info, 0, sizeof(*info));
    }
    if (mkdir(cfg->log_dir, 0755) == -1 && errno != EEXIST) {
        return sl_err_set(err, -errno, "%s: mkdir: %s", cfg->log_dir, strerror(errno));
    }
    struct sl_store *st = calloc(1, sizeof(*st));
    if (!st || !(st->dir = strdup(cfg->log_dir))) {
        free(st);
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    st->cfg = *cfg;
    st->cfg.log_dir = st->dir;
    st->lock_fd = -1;
    pthread_rwlock_init(&st->lock, NULL);
    pthread_mutex_init(&st->thr_mu, NULL);
    pthread_cond_init(&st->thr_cond, NULL);

    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", st->dir, LOCK_FILE);
    int rc = 0;
    st->lock_fd = sl_io_open(path, O_RDWR | O_CREAT, 0644);
    if (st->lock_fd < 0) {
        rc = sl_err_set(err, st->lock_fd, "%s: %s", path, sl_strerror(st->lock_fd));
    } else if (flock(st->lock_fd, LOCK_EX | LOCK_NB) == -1) {
        rc = sl_err_set(err, SL_EBUSY, "%s: log directory is in use by another process",
                        st->dir);
    }
    int clean = 0;
    if (rc == 0) {
        snprintf(path, sizeof(path), "%s/%s", st->dir, CLEAN_MARKER);
        clean = access(path, F_OK) == 0;
        /* Remove the marker durably before anything is written: a crash from here on must
         * read as unclean. */
        if (clean && ((rc = sl_io_unlink(path)) != 0 || (rc = sl_io_fsync_dir(st->dir)) != 0)) {
            sl_err_set(err, rc, "%s: %s", path, sl_strerror(rc));
        }
    }
    if (info) {
        info->clean = clean;
    }
    if (rc == 0) {
        rc = open_logs(st, clean, info, err);
    }
    if (rc != 0) {
        sl_store_close(st, 0);
        return rc;
    }
    *out = st;
    return 0;
}

int sl_store_close(struct sl_store *st, int clean)
{
    if (!st) {
        return 0;
    }
    sl_store_stop(st);
    int rc = 0;
    for (size_t i = 0; i < st->n; i++) {
        int r = clean ? sl_log_flush(st->entries[i].log, NULL) : 0;
        rc = rc ? rc : r;
    }
    if (clean && rc == 0) {
        rc = checkpoint_locked(st, NULL);
    }
    for (size_t i = 0; i < st->n; i++) {
        int r = sl_log_close(st->entries[i].log, clean && rc == 0);
        rc = rc ? rc : r;
        free(st->entries[i].topic);
    }
    if (clean && rc == 0 && st->lock_fd >= 0) {
        /* Only after every log and checkpoint is durable may the next start skip recovery. */
        rc = sl_io_write_file_atomic(st->dir, CLEAN_MARKER, "", 0);
    }
    if (st->lock_fd >= 0) {
        sl_io_close(st->lock_fd);
    }
    for (size_t i = 0; i < st->ntcfgs; i++) {
        free(st->tcfgs[i].topic);
    }
    free(st->tcfgs);
    free(st->entries);
    pthread_rwlock_destroy(&st->lock);
    pthread_mutex_destroy(&st->thr_mu);
    pthread_cond_destroy(&st->thr_cond);
    free(st->dir);
    free(st);
    return rc;
}

/* ---- partitions ---- */

struct sl_log *sl_store_get(struct sl_store *st, const char *topic, int32_t partition)
{
    pthread_rwlock_rdlock(&st->lock);
    struct entry *e = find(st, topic, partition);
    struct sl_log *log = e ? e->log : NULL;
    pthread_rwlock_unlock(&st->lock);
    return log;
}

int sl_store_create(struct sl_store *st, const char *topic, int32_t partition,
                    const struct sl_log_config *cfg, struct sl_log **out, struct sl_err *err)
{
    if (!sl_store_topic_name_ok(topic) || partition < 0) {
        return sl_err_set(err, SL_ECONFIG, "'%s' partition %d is not a legal topic partition",
                          topic, partition);
    }
    struct sl_log_config c;
    if (!cfg) {
        sl_store_topic_config(st, topic, &c);
        cfg = &c;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s-%" PRId32, st->dir, topic, partition);
    pthread_rwlock_wrlock(&st->lock);
    int rc = 0;
    if (find(st, topic, partition)) {
        rc = sl_err_set(err, SL_EEXIST, "%s-%d already exists", topic, partition);
    } else {
        struct sl_log_open_opts o = {.clean = 1, .log_start_offset = -1, .high_watermark = -1,
                                     .create = 1};
        rc = sl_log_open(path, cfg, &o, out, NULL, err);
        if (rc == 0 && (rc = insert(st, *out)) != 0) {
            sl_log_close(*out, 0);
        }
        /* The partition directory's name must survive a crash before its first flush. */
        if (rc == 0) {
            sl_io_fsync_dir(st->dir);
        }
    }
    pthread_rwlock_unlock(&st->lock);
    return rc;
}

int sl_store_delete(struct sl_store *st, const char *topic, int32_t partition,
                    struct sl_err *err)
{
    pthread_rwlock_wrlock(&st->lock);
    struct entry *e = find(st, topic, partition);
    if (!e) {
        pthread_rwlock_unlock(&st->lock);
        return sl_err_set(err, SL_ENOENT, "%s-%d does not exist", topic, partition);
    }
    char from[PATH_MAX], to[PATH_MAX + 32];
    snprintf(from, sizeof(from), "%s", sl_log_dir(e->log));
    snprintf(to, sizeof(to), "%s.%" PRId64 "-delete", from, sl_now_ms());
    sl_log_close(e->log, 0);
    free(e->topic);
    size_t i = (size_t)(e - st->entries);
    memmove(e, e + 1, (st->n - i - 1) * sizeof(*e));
    st->n--;
    /* Rename first: a crash midway leaves a *-delete directory that open removes, never a
     * half-deleted partition that would be loaded again. */
    int rc = sl_io_rename(from, to);
    if (rc == 0) {
        sl_io_fsync_dir(st->dir);
        rc = remove_tree(to);
    }
    pthread_rwlock_unlock(&st->lock);
    return rc == 0 ? 0 : sl_err_set(err, rc, "deleting %s: %s", from, sl_strerror(rc));
}

void sl_store_topic_config(struct sl_store *st, const char *topic, struct sl_log_config *cfg)
{
    *cfg = st->cfg.defaults;
    for (size_t i = 0; i < st->ntcfgs; i++) {
        if (strcmp(st->tcfgs[i].topic, topic) == 0) {
            *cfg = st->tcfgs[i].cfg;
        }
    }
}

void sl_store_set_topic_config(struct sl_store *st, const char *topic,
                               const struct sl_log_config *cfg)
{
    pthread_rwlock_wrlock(&st->lock);
    size_t i;
    for (i = 0; i < st->ntcfgs && strcmp(st->tcfgs[i].topic, topic) != 0; i++) {
    }
    if (i == st->ntcfgs) {
        struct topic_cfg *n = realloc(st->tcfgs, (st->ntcfgs + 1) * sizeof(*n));
        char *t = strdup(topic);
        if (!n || !t) {
            free(t);
            if (n) {
                st->tcfgs = n;
            }
            pthread_rwlock_unlock(&st->lock);
            return;
        }
        st->tcfgs = n;
        st->tcfgs[st->ntcfgs++].topic = t;
    }
    st->tcfgs[i].cfg = *cfg;
    for (size_t j = lower_bound(st, topic, 0); j < st->n && strcmp(st->entries[j].topic, topic) == 0;
         j++) {
        sl_log_set_config(st->entries[j].log, cfg);
    }
    pthread_rwlock_unlock(&st->lock);
}

void sl_store_each(struct sl_store *st, sl_store_each_cb cb, void *arg)
{
    pthread_rwlock_rdlock(&st->lock);
    for (size_t i = 0; i < st->n; i++) {
        cb(arg, st->entries[i].log);
    }
    pthread_rwlock_unlock(&st->lock);
}

int sl_store_retain(struct sl_store *st, int64_t now_ms)
{
    int total = 0;
    pthread_rwlock_rdlock(&st->lock);
    for (size_t i = 0; i < st->n; i++) {
        int n = sl_log_retain(st->entries[i].log, now_ms, NULL);
        total += n > 0 ? n : 0;
    }
    pthread_rwlock_unlock(&st->lock);
    return total;
}

/* ---- background pass ---- */

static void *scheduler(void *arg)
{
    struct sl_store *st = arg;
    int64_t now = sl_mono_ms();
    int64_t next_retain = now + st->cfg.retention_check_interval_ms;
    int64_t next_cp = now + st->cfg.checkpoint_interval_ms;
    pthread_mutex_lock(&st->thr_mu);
    while (!st->stop) {
        int64_t wake = SL_MIN(SL_MIN(next_retain, next_cp), now + st->cfg.flush_check_interval_ms);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t wait_ms = SL_MAX(wake - sl_mono_ms(), 0);
        ts.tv_sec += wait_ms / 1000;
        ts.tv_nsec += (wait_ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&st->thr_cond, &st->thr_mu, &ts);
        if (st->stop) {
            break;
        }
        pthread_mutex_unlock(&st->thr_mu);
        now = sl_mono_ms();
        pthread_rwlock_rdlock(&st->lock);
        for (size_t i = 0; i < st->n; i++) {
            sl_log_maybe_flush(st->entries[i].log, now, NULL);
        }
        pthread_rwlock_unlock(&st->lock);
        if (now >= next_retain) {
            sl_store_retain(st, sl_now_ms());
            next_retain = now + st->cfg.retention_check_interval_ms;
        }
        if (now >= next_cp) {
            sl_store_checkpoint(st, NULL);
            next_cp = now + st->cfg.checkpoint_interval_ms;
        }
        pthread_mutex_lock(&st->thr_mu);
    }
    pthread_mutex_unlock(&st->thr_mu);
    return NULL;
}

int sl_store_start(struct sl_store *st)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_destroy(&st->thr_cond);
    pthread_cond_init(&st->thr_cond, &attr);
    pthread_condattr_destroy(&attr);
    st->stop = 0;
    int rc = pthread_create(&st->thr, NULL, scheduler, st);
    st->thr_running = rc == 0;
    return -rc;
}

void sl_store_stop(struct sl_store *st)
{
    if (!st->thr_running) {
        return;
    }
    pthread_mutex_lock(&st->thr_mu);
    st->stop = 1;
    pthread_cond_signal(&st->thr_cond);
    pthread_mutex_unlock(&st->thr_mu);
    pthread_join(st->thr, NULL);
    st->thr_running = 0;
}
