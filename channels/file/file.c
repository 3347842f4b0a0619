/*
 * file.c - the durable file channel: a private partition log from store/ in dataDir (the
 * store's segment format: one record batch per put transaction) plus a durable take cursor
 * in checkpointDir (file_cursor.c).
 *
 * Invariants (under mu):
 *   1. cursor <= read_pos <= synced <= end <= the log end offset. Every offset below
 *      cursor was taken and committed; the cursor file never holds more than cursor.
 *   2. commit_put returns 0 only once its batch is below `synced`, i.e. fdatasync'ed (fsync:
 *      true). Group commit: one committer at a time (`syncing`) flushes the log up to the
 *      end it saw before starting; the others wait on `synced_cv` and return when a flush
 *      covered their batch.
 *   3. Offsets in [cursor, read_pos) are handed out (in `out`), waiting for redelivery
 *      (`rb`, sorted), or done (bit set in `done`, counted in ndone). Offsets in
 *      [read_pos, synced) are in the read-ahead `ra` or still only on disk. So memory holds
 *      at most what sinks hold plus one read-ahead window, never the whole backlog. `rb` has
 *      room for every event handed out (reserved by take), so a rollback never allocates.
 *   4. Admission: (end + reserved) - cursor <= capacity, so the `done` ring (capacity bits,
 *      or the backlog found at open when larger) never wraps.
 *   5. Segments are deleted only below the cursor already persisted.
 * Crashes: kill -9 or power loss after commit_put returned cannot lose the batch (invariant 2);
 * a torn tail past `synced` is cut by the store's recovery; the cursor file write is atomic
 * per slot (file_cursor.c), so a restart replays exactly [durable cursor, end): at least once.
 *
 * Threads: sources call commit_put from the source loop thread; sinks call take, commit_take
 * and rollback_take from their own threads; the metrics thread calls stats. Everything in
 * struct fc_ctx after the config is guarded by mu; the log has its own lock, and the disk
 * work (append, flush, read, cursor write) runs with mu released, owned through the
 * syncing / refilling / cursor_writing flags.
 *
 * Corruption: at open, file_repair.c turns each corrupt batch after the cursor that has valid
 * data behind it into a filler (after a crash: every segment from the cursor's; after a clean
 * stop: the active one, the only one the store re-checks). A read that still meets a batch
 * whose CRC fails skips it (its header gives its extent); one whose header is unreadable
 * makes the next take reopen the log with a full repair. Either way the events lost are
 * logged and counted (CorruptEventSkippedCount), and delivery goes on after them.
 *
 * The agent opens (locks, repairs, recovers) the log in the start op, before any source or
 * sink runs, so a channel that cannot open fails the agent's startup; stop closes it after
 * every source and sink stopped, marking the stop clean. init runs for `--check` too and must
 * not recover, lock or write anything. A channel used without start (the unit tests, the
 * benchmark) opens on first use instead, retrying every OPEN_RETRY_MS after a failure.
 */
#include "channels/file/file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "agent/plugin.h"
#include "channels/file/file_int.h"
#include "common/sl_assert.h"
#include "common/sl_log.h"
#include "common/sl_macros.h"
#include "store/batch.h"
#include "store/log.h"

#define READ_AHEAD_BYTES (1 << 20) /* one log read fills the read-ahead window */
#define OPEN_RETRY_MS    1000
#define LOG_EVERY_MS     10000

/* Pointer -> offset of every event handed out to a sink and not yet committed or rolled back
 * (open addressing, linear probing, backward-shift deletion). */
struct omap {
    struct sl_event **k;
    int64_t *v;
    size_t cap, n; /* cap: a power of two */
};

struct fc_ctx {
    /* config */
    char *checkpoint_dir;
    char *data_dir;
    int64_t capacity;
    int64_t tx_capacity;
    int64_t max_file_size;
    int64_t min_space;
    int fsync;
    int64_t keep_alive_s;

    /* state (see the invariants above) */
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full, synced_cv, idle_cv;
    int opened;
    int stopped; /* the stop op ran: never opened again */
    int64_t next_open_mono_ms;
    char open_error[512];
    struct sl_log *log;
    char log_dir[4096];
    int lock_fds[2];
    struct sl_fc_cursor cur;
    int64_t cursor, cursor_durable;
    int64_t read_pos, synced, end;
    int64_t reserved;
    int syncing, refilling, cursor_writing;
    struct sl_fc_item *ra; /* read-ahead: ring of decoded events, offsets ascending */
    size_t ra_head, ra_n, ra_cap;
    struct sl_fc_item *rb; /* rolled back, ascending; rb[rb_head..rb_n); room for out too */
    size_t rb_head, rb_n, rb_cap;
    struct omap out;
    uint8_t *done;
    int64_t done_bits;
    int64_t ndone;
    int sync_inited; /* mu and the condition variables exist */
    int take_waiters, put_waiters;
    int put_blocked;
    int failed;      /* a fsync or cursor write failed: no more puts until restart */
    int need_reopen; /* an append failed (disk full): reopen the log before the next put */
    int need_repair; /* a read met a corrupt batch: quarantine it (file_repair.c) on reopen */
    char failed_msg[512];
    int64_t last_space_log_ms, last_fail_log_ms;
    /* counters (under mu; read by stats) */
    uint64_t fsyncs, corrupt_batches, corrupt_events, torn_bytes, space_refusals;
};

#define OFF(f) offsetof(struct fc_ctx, f)
static const struct sl_conf_map fc_conf[] = {
    {"dataDir", SL_CONF_STR, NULL, OFF(data_dir), 0, 0, SL_CONF_REQUIRED, NULL,
     "directory of the channel's log segments (created if missing)"},
    {"checkpointDir", SL_CONF_STR, NULL, OFF(checkpoint_dir), 0, 0, 0, NULL,
     "directory of the durable take cursor (default: dataDir)"},
    {"capacity", SL_CONF_INT, "1000000", OFF(capacity), 1, 1000000000, 0, NULL,
     "most events the channel holds"},
    {"transactionCapacity", SL_CONF_INT, "10000", OFF(tx_capacity), 1, 1000000000, 0, NULL,
     "most events per put or take transaction"},
    {"maxFileSize", SL_CONF_INT, "134217728", OFF(max_file_size), 4096, 1073741824, 0, NULL,
     "bytes per log segment before a new one starts; whole segments behind the take cursor "
     "are deleted"},
    {"minimumRequiredSpace", SL_CONF_INT, "104857600", OFF(min_space), 0, INT64_MAX / 2, 0, NULL,
     "puts are refused (the source pushes back) while the data directory's file system "
     "has less free space than this, in bytes"},
    {"fsync", SL_CONF_BOOL, "true", OFF(fsync), 0, 0, 0, NULL,
     "a put commit returns only after its batch is on disk (fdatasync)"},
    {"keep-alive", SL_CONF_INT, "3", OFF(keep_alive_s), 0, 86400, 0, NULL,
     "seconds a blocking put waits for room"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL},
};

/* ---- small helpers ---- */

static size_t ptr_hash(const void *p, size_t mask)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & mask;
}

static int omap_put(struct omap *m, struct sl_event *ev, int64_t off)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        struct sl_event **k = calloc(cap, sizeof(*k));
        int64_t *v = malloc(cap * sizeof(*v));
        if (!k || !v) {
            free(k);
            free(v);
            return -ENOMEM;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (m->k[i]) {
                size_t j = ptr_hash(m->k[i], cap - 1);
                while (k[j]) {
                    j = (j + 1) & (cap - 1);
                }
                k[j] = m->k[i];
                v[j] = m->v[i];
            }
        }
        free(m->k);
        free(m->v);
        m->k = k;
        m->v = v;
        m->cap = cap;
    }
    size_t j = ptr_hash(ev, m->cap - 1);
    while (m->k[j]) {
        j = (j + 1) & (m->cap - 1);
    }
    m->k[j] = ev;
    m->v[j] = off;
    m->n++;
    return 0;
}

/* Remove ev; returns its offset, or -1 when it was not handed out by this channel. */
static int64_t omap_del(struct omap *m, const struct sl_event *ev)
{
    if (!m->cap) {
        return -1;
    }
    size_t mask = m->cap - 1;
    size_t j = ptr_hash(ev, mask);
    while (m->k[j] && m->k[j] != ev) {
        j = (j + 1) & mask;
    }
    if (!m->k[j]) {
        return -1;
    }
    int64_t off = m->v[j];
    m->k[j] = NULL;
    m->n--;
    /* Backward shift: move later entries of the cluster into the hole when their home
     * position allows it, so lookups never stop early at the hole. */
    size_t hole = j;
    for (size_t i = (j + 1) & mask; m->k[i]; i = (i + 1) & mask) {
        size_t home = ptr_hash(m->k[i], mask);
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            m->k[hole] = m->k[i];
            m->v[hole] = m->v[i];
            m->k[i] = NULL;
            hole = i;
        }
    }
    return off;
}

static int done_get(const struct fc_ctx *f, int64_t off)
{
    int64_t b = off % f->done_bits;
    return (f->done[b >> 3] >> (b & 7)) & 1;
}

static void done_set(struct fc_ctx *f, int64_t off, int v)
{
    int64_t b = off % f->done_bits;
    if (v) {
        f->done[b >> 3] |= (uint8_t)(1u << (b & 7));
    } else {
        f->done[b >> 3] &= (uint8_t) ~(1u << (b & 7));
    }
}

/* Mark off done (taken and committed, or skipped as corrupt). */
static void mark_done(struct fc_ctx *f, int64_t off)
{
    if (off < f->cursor || done_get(f, off)) {
        return;
    }
    done_set(f, off, 1);
    f->ndone++;
}

/* Move the cursor over the contiguous done prefix. Returns 1 if it moved. */
static int advance_cursor(struct fc_ctx *f)
{
    int64_t start = f->cursor;
    while (f->cursor < f->read_pos && done_get(f, f->cursor)) {
        done_set(f, f->cursor, 0);
        f->ndone--;
        f->cursor++;
    }
    return f->cursor != start;
}

static int ra_reserve(struct fc_ctx *f, size_t more)
{
    if (f->ra_n + more <= f->ra_cap) {
        return 0;
    }
    size_t cap = f->ra_cap ? f->ra_cap : 256;
    while (cap < f->ra_n + more) {
        cap *= 2;
    }
    struct sl_fc_item *n = malloc(cap * sizeof(*n));
    if (!n) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < f->ra_n; i++) {
        n[i] = f->ra[(f->ra_head + i) % f->ra_cap];
    }
    free(f->ra);
    f->ra = n;
    f->ra_cap = cap;
    f->ra_head = 0;
    return 0;
}

int sl_fc_test_nomem;
void (*sl_fc_test_refill_hook)(void);

/* Room in rb for every event that could be rolled back (those in rb and those handed out)
 * plus `more` about to be handed out, so that a rollback never allocates. 0 or -ENOMEM. */
static int rb_reserve(struct fc_ctx *f, size_t more)
{
    size_t need = (f->rb_n - f->rb_head) + f->out.n + more;
    if (need <= f->rb_cap) {
        return 0;
    }
    size_t cap = f->rb_cap ? f->rb_cap : 256;
    while (cap < need) {
        cap *= 2;
    }
    struct sl_fc_item *nb = __atomic_load_n(&sl_fc_test_nomem, __ATOMIC_RELAXED)
                                ? NULL
                                : realloc(f->rb, cap * sizeof(*nb));
    if (!nb) {
        return -ENOMEM;
    }
    f->rb = nb;
    f->rb_cap = cap;
    return 0;
}

/* Put a rolled-back event into rb, keeping it sorted by offset. Never allocates: rb_reserve
 * made room for it when it was taken. */
static void rb_insert(struct fc_ctx *f, struct sl_event *ev, int64_t off)
{
    if (f->rb_head > 0) {
        memmove(f->rb, f->rb + f->rb_head, (f->rb_n - f->rb_head) * sizeof(*f->rb));
        f->rb_n -= f->rb_head;
        f->rb_head = 0;
    }
    SL_ASSERT(f->rb_n < f->rb_cap);
    size_t j = f->rb_n;
    while (j > 0 && f->rb[j - 1].off > off) {
        f->rb[j] = f->rb[j - 1];
        j--;
    }
    f->rb[j] = (struct sl_fc_item){ev, off};
    f->rb_n++;
}

static int64_t free_bytes(const char *dir)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) != 0) {
        return -1;
    }
    return (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
}

static int mkdirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
        return -ENAMETOOLONG;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                return -errno;
            }
            *p = '/';
        }
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

/* An exclusive lock on dir/.lock, so two channels or agents never share a directory. */
static int lock_dir(const char *dir, int *fd_out, struct sl_err *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return sl_err_set(err, -errno, "%s: %s", path, strerror(errno));
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        return sl_err_set(err, e == EWOULDBLOCK ? SL_EBUSY : -e,
                          "%s is in use by another file channel (in this agent or another "
                          "process): give each channel its own dataDir and checkpointDir",
                          dir);
    }
    *fd_out = fd;
    return 0;
}

static const char *ckpt_dir(const struct fc_ctx *f)
{
    return f->checkpoint_dir ? f->checkpoint_dir : f->data_dir;
}

static void log_config(const struct fc_ctx *f, struct sl_log_config *cfg)
{
    sl_log_config_default(cfg);
    cfg->segment_bytes = f->max_file_size;
    cfg->segment_ms = INT64_MAX / 4;
    cfg->retention_ms = -1;
    cfg->retention_bytes = -1;
    cfg->flush_messages = INT64_MAX;
    cfg->flush_ms = INT64_MAX / 4;
    cfg->max_message_bytes = SL_BATCH_SIZE_MAX;
}

/* ---- open and close ---- */

/* Open, lock, repair and recover. Under mu, before anything else touches the log. */
static int fc_open(struct sl_channel *c, struct sl_err *err)
{
    struct fc_ctx *f = c->ctx;
    int rc;
    const char *dirs[2] = {f->data_dir, ckpt_dir(f)};
    int ndirs = strcmp(dirs[0], dirs[1]) == 0 ? 1 : 2;
    for (int i = 0; i < ndirs; i++) {
        if ((rc = mkdirs(dirs[i])) != 0) {
            return sl_err_set(err, rc, "%s: %s", dirs[i], sl_strerror(rc));
        }
        if ((rc = lock_dir(dirs[i], &f->lock_fds[i], err)) != 0) {
            return rc;
        }
    }
    int64_t cur;
    int clean;
    rc = sl_fc_cursor_open(&f->cur, ckpt_dir(f), f->fsync, &cur, &clean, err);
    if (rc != 0) {
        return rc;
    }
    snprintf(f->log_dir, sizeof(f->log_dir), "%s/%s", f->data_dir, SL_FC_LOG_NAME);
    struct stat st;
    int exists = stat(f->log_dir, &st) == 0;
    if (exists) {
        struct sl_fc_repair_info ri = {0};
        rc = sl_fc_repair(f->log_dir, cur, clean, &ri);
        if (rc != 0) {
            return sl_err_set(err, rc, "%s: scanning for corrupt batches: %s", f->log_dir,
                              sl_strerror(rc));
        }
        if (ri.batches_replaced > 0) {
            sl_clog(c->comp, SL_LOG_ERROR,
                    "%" PRId64 " corrupt batches after the take cursor (%" PRId64
                    " events) are skipped: %s",
                    ri.batches_replaced, ri.events_lost, ri.first_error);
        }
    }
    struct sl_log_config cfg;
    log_config(f, &cfg);
    /* Only segments from the one holding the cursor on are re-validated after a crash:
     * everything before it was taken already. */
    struct sl_log_open_opts o = {.clean = clean,
                                 .recovery_point = cur,
                                 .log_start_offset = -1,
                                 .high_watermark = -1,
                                 .create = 1};
    struct sl_log_recovery_info info;
    rc = sl_log_open(f->log_dir, &cfg, &o, &f->log, &info, err);
    if (rc != 0) {
        return rc;
    }
    if (info.bytes_truncated > 0) {
        f->torn_bytes += (uint64_t)info.bytes_truncated;
        sl_clog(c->comp, SL_LOG_WARN,
                "recovery cut %" PRId64 " bytes of an unfinished write at the log's end "
                "(never acknowledged): %s",
                info.bytes_truncated, info.first_error);
    }
    int64_t leo = sl_log_end_offset(f->log), start = sl_log_start_offset(f->log);
    if (cur > leo) {
        /* Only possible with fsync: false and a power loss: the tail the cursor had passed
         * is gone. Continue the offsets from the cursor so they never go backwards. */
        sl_clog(c->comp, SL_LOG_WARN,
                "take cursor %" PRId64 " is past the log end %" PRId64 ": restarting the log "
                "at the cursor",
                cur, leo);
        if ((rc = sl_log_truncate_fully(f->log, cur, err)) != 0) {
            return rc;
        }
        leo = start = cur;
    }
    if (cur < start) {
        sl_clog(c->comp, SL_LOG_WARN,
                "take cursor %" PRId64 " is below the log start %" PRId64
                " (segments deleted before the cursor reached the disk): starting at %" PRId64,
                cur, start, start);
        cur = start;
    }
    /* From now on a crash must trigger recovery: clear the clean flag before any append. */
    if ((rc = sl_fc_cursor_write(&f->cur, cur, 0)) != 0) {
        return sl_err_set(err, rc, "%s/%s: %s", ckpt_dir(f), SL_FC_CURSOR_NAME, sl_strerror(rc));
    }
    rc = sl_log_delete_before(f->log, cur, err);
    if (rc < 0) {
        return rc;
    }
    f->cursor = f->cursor_durable = f->read_pos = cur;
    f->synced = f->end = leo;
    f->done_bits = SL_MAX(f->capacity, leo - cur) + 64;
    f->done = calloc((size_t)(f->done_bits + 7) / 8, 1);
    if (!f->done) {
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    sl_clog(c->comp, SL_LOG_INFO,
            "opened %s (%s stop): %" PRId64 " events to deliver from offset %" PRId64 ", %" PRId64
            " bytes in %d segments",
            f->log_dir, clean ? "clean" : "unclean", leo - cur, cur, sl_log_size_bytes(f->log),
            sl_log_segment_count(f->log));
    return 0;
}

static void fc_close_files(struct fc_ctx *f)
{
    if (f->log) {
        sl_log_close(f->log, 0);
        f->log = NULL;
    }
    sl_fc_cursor_close(&f->cur);
    for (int i = 0; i < 2; i++) {
        if (f->lock_fds[i] >= 0) {
            close(f->lock_fds[i]);
            f->lock_fds[i] = -1;
        }
    }
    free(f->done);
    f->done = NULL;
}

/* Open on first use without start; retried at most every OPEN_RETRY_MS. Under mu. Returns 0
 * or an error. */
static int ensure_open(struct sl_channel *c)
{
    struct fc_ctx *f = c->ctx;
    if (f->opened) {
        return 0;
    }
    if (f->stopped) {
        return SL_ERETRY;
    }
    int64_t now = sl_mono_ms();
    if (now < f->next_open_mono_ms) {
        return SL_ERETRY;
    }
    struct sl_err err;
    sl_err_clear(&err);
    int rc = fc_open(c, &err);
    if (rc == 0) {
        f->opened = 1;
        f->open_error[0] = '\0';
        return 0;
    }
    fc_close_files(f);
    f->next_open_mono_ms = now + OPEN_RETRY_MS;
    if (strcmp(f->open_error, err.msg) != 0 || now - f->last_fail_log_ms >= LOG_EVERY_MS) {
        sl_clog(c->comp, SL_LOG_ERROR, "cannot open (retrying every %d ms): %s", OPEN_RETRY_MS,
                err.msg);
        snprintf(f->open_error, sizeof(f->open_error), "%s", err.msg);
        f->last_fail_log_ms = now;
    }
    return rc;
}

/* ---- ops ---- */

static int check_dir(const char *key, const char *dir, struct sl_err *err)
{
    struct stat st;
    if (dir[0] == '\0') {
        return sl_err_set(err, SL_ECONFIG, "%s must not be empty", key);
    }
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            return sl_err_set(err, SL_ECONFIG, "%s '%s' is not a directory", key, dir);
        }
        if (access(dir, W_OK | X_OK) != 0) {
            return sl_err_set(err, SL_ECONFIG, "%s '%s' is not writable: %s", key, dir,
                              strerror(errno));
        }
    }
    return 0;
}

static int fc_init(struct sl_channel *c, struct sl_err *err)
{
    struct fc_ctx *f = c->ctx;
    if (f->tx_capacity > f->capacity) {
        return sl_err_set(err, SL_ECONFIG,
                          "transactionCapacity (%lld) must not exceed capacity (%lld)",
                          (long long)f->tx_capacity, (long long)f->capacity);
    }
    int rc = check_dir("dataDir", f->data_dir, err);
    if (rc == 0 && f->checkpoint_dir) {
        rc = check_dir("checkpointDir", f->checkpoint_dir, err);
    }
    if (rc != 0) {
        return rc;
    }
    pthread_mutex_init(&f->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->not_empty, &ca);
    pthread_cond_init(&f->not_full, &ca);
    pthread_cond_init(&f->synced_cv, &ca);
    pthread_cond_init(&f->idle_cv, &ca);
    pthread_condattr_destroy(&ca);
    f->sync_inited = 1;
    f->lock_fds[0] = f->lock_fds[1] = -1;
    f->cur.fd = -1;
    c->tx_capacity = (size_t)f->tx_capacity;
    return 0;
}

static void free_items(struct sl_fc_item *it, size_t head, size_t n, size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        sl_event_destroy(it[(head + i) % cap].ev);
    }
}

/* Close the log and mark the stop clean when it was. Under mu, no disk work in flight. */
static void fc_close_log(struct sl_channel *c)
{
    struct fc_ctx *f = c->ctx;
    if (f->opened) {
        /* Events still held by the channel are on disk: the next start delivers them. */
        int clean = !f->failed && !f->need_reopen;
        if (clean && sl_log_close(f->log, 1) != 0) {
            clean = 0;
        }
        if (!clean && f->log) {
            sl_log_close(f->log, 0);
        }
        f->log = NULL;
        if (sl_fc_cursor_write(&f->cur, f->cursor_durable, clean) != 0) {
            sl_clog(c->comp, SL_LOG_WARN,
                    "could not mark the stop clean: the next start "
                    "re-validates the log after the cursor");
        }
        sl_clog(c->comp, SL_LOG_INFO,
                "closed %s: %" PRId64 " events stay on disk for the next start", f->log_dir,
                f->end - f->cursor_durable);
    }
    fc_close_files(f);
    f->opened = 0;
}

static int fc_start(struct sl_channel *c, struct sl_err *err)
{
    struct fc_ctx *f = c->ctx;
    pthread_mutex_lock(&f->mu);
    int rc = 0;
    if (!f->opened) {
        rc = fc_open(c, err);
        if (rc == 0) {
            f->opened = 1;
        } else {
            fc_close_files(f);
        }
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static void fc_stop(struct sl_channel *c)
{
    struct fc_ctx *f = c->ctx;
    pthread_mutex_lock(&f->mu);
    /* Every source and sink has stopped; a cursor write may still be finishing. */
    while (f->syncing || f->refilling || f->cursor_writing || f->reserved > 0) {
        pthread_cond_wait(&f->idle_cv, &f->mu);
    }
    fc_close_log(c);
    f->stopped = 1;
    pthread_mutex_unlock(&f->mu);
}

static void fc_fini(struct sl_channel *c)
{
    struct fc_ctx *f = c->ctx;
    if (f->sync_inited) {
        fc_close_log(c); /* used without start and stop */
    }
    if (f->ra_cap) {
        free_items(f->ra, f->ra_head, f->ra_n, f->ra_cap);
    }
    free(f->ra);
    free_items(f->rb, f->rb_head, f->rb_n - f->rb_head, f->rb_cap ? f->rb_cap : 1);
    free(f->rb);
    /* Events still in `out` belong to a sink transaction that was never finished; the
     * runtime finishes every one before channels are freed, so this map is empty here. */
    free(f->out.k);
    free(f->out.v);
    if (f->sync_inited) {
        pthread_mutex_destroy(&f->mu);
        pthread_cond_destroy(&f->not_empty);
        pthread_cond_destroy(&f->not_full);
        pthread_cond_destroy(&f->synced_cv);
        pthread_cond_destroy(&f->idle_cv);
    }
}

/* Wait on cv until the monotonic deadline; returns ETIMEDOUT or 0. */
static int wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, const struct timespec *until)
{
    return pthread_cond_timedwait(cv, mu, until);
}

/* Reopen the log after a failed append (disk full): the store's recovery cuts whatever part
 * of the failed batch reached the file. Under mu; waits until no disk work is in flight. */
static int reopen(struct sl_channel *c)
{
    struct fc_ctx *f = c->ctx;
    while (f->syncing || f->refilling || f->cursor_writing || f->reserved > 0) {
        pthread_cond_wait(&f->idle_cv, &f->mu);
    }
    if (!f->need_reopen) {
        return 0;
    }
    sl_log_close(f->log, 0);
    f->log = NULL;
    if (f->need_repair) {
        /* A read could not get past a damaged batch: quarantine it like a crash recovery
         * would, across every segment after the cursor. */
        struct sl_fc_repair_info ri = {0};
        int rrc = sl_fc_repair(f->log_dir, f->cursor_durable, 0, &ri);
        f->need_repair = 0;
        if (rrc != 0 || ri.batches_replaced == 0) {
            f->failed = 1;
            snprintf(f->failed_msg, sizeof(f->failed_msg),
                     "the log cannot be read past offset %" PRId64 " and no corrupt batch "
                     "could be quarantined (%s)",
                     f->read_pos, rrc ? sl_strerror(rrc) : "nothing found");
            sl_clog(c->comp, SL_LOG_ERROR, "%s", f->failed_msg);
        } else {
            sl_clog(c->comp, SL_LOG_ERROR,
                    "%" PRId64 " corrupt batches (%" PRId64 " events) are skipped: %s",
                    ri.batches_replaced, ri.events_lost, ri.first_error);
        }
    }
    struct sl_log_config cfg;
    log_config(f, &cfg);
    struct sl_log_open_opts o = {.clean = 0,
                                 .recovery_point = f->cursor_durable,
                                 .log_start_offset = -1,
                                 .high_watermark = -1,
                                 .create = 1};
    struct sl_err err;
    sl_err_clear(&err);
    int rc = sl_log_open(f->log_dir, &cfg, &o, &f->log, NULL, &err);
    if (rc != 0) {
        f->failed = 1;
        snprintf(f->failed_msg, sizeof(f->failed_msg), "reopening after a failed write: %.400s",
                 err.msg);
        sl_clog(c->comp, SL_LOG_ERROR, "%s", f->failed_msg);
        return SL_EFAILED;
    }
    if (sl_log_end_offset(f->log) != f->end) {
        f->failed = 1;
        snprintf(f->failed_msg, sizeof(f->failed_msg),
                 "reopened log ends at %" PRId64 ", expected %" PRId64, sl_log_end_offset(f->log),
                 f->end);
        sl_clog(c->comp, SL_LOG_ERROR, "%s", f->failed_msg);
        return SL_EFAILED;
    }
    f->need_reopen = 0;
    sl_clog(c->comp, SL_LOG_INFO, "log reopened after a failed write; puts resume");
    return 0;
}

/* Log (rate-limited) why a put is refused. Under mu. */
static void refuse_log(struct sl_channel *c, int64_t *last, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse_log(struct sl_channel *c, int64_t *last, const char *fmt, ...)
{
    if (!sl_every_ms(last, LOG_EVERY_MS)) {
        return;
    }
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sl_clog(c->comp, SL_LOG_ERROR, "%s", msg);
}

static int fc_commit_put(struct sl_channel *c, struct sl_event **evs, size_t n, uint64_t bytes,
                         int64_t wait_ms)
{
    struct fc_ctx *f = c->ctx;
    if (n > (size_t)f->capacity) {
        return SL_ETOOLARGE;
    }
    if (wait_ms < 0) {
        wait_ms = f->keep_alive_s * 1000;
    }
    struct timespec until;
    sl_mono_deadline(&until, wait_ms);
    pthread_mutex_lock(&f->mu);
    int rc = ensure_open(c);
    if (rc == 0 && f->failed) {
        refuse_log(c, &f->last_fail_log_ms, "puts refused until restart: %s", f->failed_msg);
        rc = SL_ERETRY;
    }
    /* Refuse before the disk is full rather than fail mid-write (Flume's rule). */
    int64_t space = rc == 0 && f->min_space > 0 ? free_bytes(f->data_dir) : -1;
    if (space >= 0 && space < f->min_space + (int64_t)bytes) {
        f->space_refusals++;
        refuse_log(c, &f->last_space_log_ms,
                   "puts refused: %s has %" PRId64
                   " bytes free, below minimumRequiredSpace %" PRId64
                   " plus this batch; the sources push back until space returns",
                   f->data_dir, space, f->min_space);
        f->put_blocked = 1;
        rc = SL_ERETRY;
    }
    if (rc == 0 && f->need_reopen) {
        rc = reopen(c);
    }
    while (rc == 0 && f->end + f->reserved - f->cursor + (int64_t)n > f->capacity) {
        int w = 0;
        if (wait_ms != 0) {
            f->put_waiters++;
            w = wait_until(&f->not_full, &f->mu, &until);
            f->put_waiters--;
        }
        if (wait_ms == 0 || w == ETIMEDOUT) {
            if (f->end + f->reserved - f->cursor + (int64_t)n <= f->capacity) {
                break;
            }
            f->put_blocked = 1;
            rc = SL_ERETRY;
        }
    }
    if (rc != 0) {
        pthread_mutex_unlock(&f->mu);
        return rc == SL_ETOOLARGE ? rc : SL_ERETRY;
    }
    f->reserved += (int64_t)n;
    struct sl_log *log = f->log;
    pthread_mutex_unlock(&f->mu);

    uint8_t *buf = NULL;
    size_t len = 0;
    struct sl_err err;
    sl_err_clear(&err);
    rc = sl_fc_encode(evs, n, sl_now_ms(), &buf, &len);
    struct sl_log_append_info info;
    if (rc == 0) {
        struct sl_log_append_opts o = {.leader_epoch = -1, .assign_offsets = 1};
        rc = sl_log_append(log, buf, len, &o, &info, &err);
    } else {
        snprintf(err.msg, sizeof(err.msg), "encoding %zu events: %s", n, sl_strerror(rc));
    }
    free(buf);

    pthread_mutex_lock(&f->mu);
    f->reserved -= (int64_t)n;
    if (f->reserved == 0) {
        pthread_cond_broadcast(&f->idle_cv);
    }
    if (rc != 0) {
        if (rc != SL_ETOOLARGE && rc != -ENOMEM) {
            /* The store poisoned the log and cut what part of the batch landed; reopen it
             * before the next put (its recovery checks that tail again). */
            f->need_reopen = 1;
            f->put_blocked = 1;
        }
        refuse_log(c, &f->last_fail_log_ms, "put of %zu events failed: %s", n, err.msg);
        pthread_mutex_unlock(&f->mu);
        return rc == SL_ETOOLARGE ? rc : SL_ERETRY;
    }
    int64_t my_end = info.last_offset + 1;
    f->end = SL_MAX(f->end, my_end);
    if (!f->fsync) {
        f->synced = SL_MAX(f->synced, my_end);
    }
    /* Group commit (invariant 2). */
    while (f->synced < my_end && !f->failed) {
        if (f->syncing) {
            pthread_cond_wait(&f->synced_cv, &f->mu);
            continue;
        }
        f->syncing = 1;
        struct sl_log *lg = f->log; /* not `log`: a reopen may have replaced it */
        pthread_mutex_unlock(&f->mu);
        int64_t target = sl_log_end_offset(lg);
        int frc = sl_log_flush(lg, &err);
        pthread_mutex_lock(&f->mu);
        f->syncing = 0;
        f->fsyncs++;
        if (frc != 0) {
            /* fsync failed: the kernel may have dropped the dirty pages; never pretend
             * (CONVENTIONS: a failed fsync marks the log failed). */
            f->failed = 1;
            snprintf(f->failed_msg, sizeof(f->failed_msg), "fsync failed: %.400s", err.msg);
            sl_clog(c->comp, SL_LOG_ERROR, "%s", f->failed_msg);
        } else {
            f->synced = SL_MAX(f->synced, target);
        }
        pthread_cond_broadcast(&f->synced_cv);
        pthread_cond_broadcast(&f->idle_cv);
    }
    if (f->synced < my_end) {
        /* Appended but not durable: the source keeps the events and retries; if they are
         * delivered anyway, that is a duplicate, never a loss. */
        pthread_mutex_unlock(&f->mu);
        return SL_ERETRY;
    }
    if (f->take_waiters) {
        pthread_cond_broadcast(&f->not_empty);
    }
    pthread_mutex_unlock(&f->mu);
    sl_event_destroy_many(evs, n);
    return 0;
}

/* Fill the read-ahead from the log. Under mu; releases it while reading. 0 or an error. */
static int refill(struct sl_channel *c)
{
    struct fc_ctx *f = c->ctx;
    f->refilling = 1;
    int64_t from = f->read_pos, limit = f->synced;
    struct sl_log *log = f->log;
    pthread_mutex_unlock(&f->mu);

    uint8_t *buf = NULL;
    size_t len = 0;
    int64_t next = from;
    struct sl_err err;
    sl_err_clear(&err);
    struct sl_fc_decoded d;
    memset(&d, 0, sizeof(d));
    size_t consumed = 0;
    int rc = sl_log_read_copy(log, from, READ_AHEAD_BYTES, limit, 1, &buf, &len, &next, &err);
    if (rc == 0 && len > 0) {
        rc = sl_fc_decode(buf, len, from, &d, &consumed);
    }
    free(buf);
    void (*hook)(void) = __atomic_load_n(&sl_fc_test_refill_hook, __ATOMIC_RELAXED);
    if (hook) {
        hook();
    }

    pthread_mutex_lock(&f->mu);
    f->refilling = 0;
    pthread_cond_broadcast(&f->idle_cv);
    if (f->take_waiters) {
        /* A sink that came in during the read waits: events to take now, or its turn to
         * read (it re-checks once mu is released by this taker). */
        pthread_cond_broadcast(&f->not_empty);
    }
    if (rc == SL_FC_DECODE_FULL) {
        /* Too many skipped ranges for one pass: the next refill reads on from the batch
         * after the last one decoded (the bytes after it are not damaged). */
        next = d.end_off;
        rc = 0;
    } else if (rc == 0 && consumed < len) {
        /* A batch whose header cannot be read: skip to the end of what the log read covered
         * (the store's own header walk found it plausible), losing that range. */
        if (!d.first_error[0]) {
            snprintf(d.first_error, sizeof(d.first_error), "unreadable batch");
        }
        int64_t lost_from = d.n ? d.items[d.n - 1].off + 1 : from;
        if (d.nskip && d.skip_to[d.nskip - 1] > lost_from) {
            lost_from = d.skip_to[d.nskip - 1];
        }
        d.skip_from[d.nskip] = lost_from;
        d.skip_to[d.nskip] = next;
        d.nskip++;
        d.skipped_events += (uint64_t)(next - lost_from);
    }
    if (rc == 0 && next <= from && d.nskip == 0) {
        rc = SL_ERETRY; /* no progress: nothing readable yet */
    }
    if (rc == 0 && ra_reserve(f, d.n) != 0) {
        rc = -ENOMEM;
    }
    if (rc == SL_ERETRY) {
        sl_fc_decoded_fini(&d);
        return rc;
    }
    if (rc == SL_ECORRUPT || rc == SL_ECRC || rc == SL_ETRUNCATED) {
        f->need_reopen = f->need_repair = 1;
    }
    if (rc != 0) {
        refuse_log(c, &f->last_fail_log_ms, "reading the log at offset %" PRId64 ": %s", from,
                   err.msg[0] ? err.msg : sl_strerror(rc));
        sl_fc_decoded_fini(&d);
        return rc;
    }
    if (d.corrupt_batches || d.skipped_events) {
        f->corrupt_batches += d.corrupt_batches;
        f->corrupt_events += d.skipped_events;
        sl_clog(c->comp, SL_LOG_ERROR,
                "skipped %" PRIu64 " events at offsets from %" PRId64 " (corrupt or "
                "quarantined batches): %s",
                d.skipped_events, d.nskip ? d.skip_from[0] : from,
                d.first_error[0] ? d.first_error : "quarantined at open");
    }
    for (size_t i = 0; i < d.n; i++) {
        f->ra[(f->ra_head + f->ra_n) % f->ra_cap] = d.items[i];
        f->ra_n++;
    }
    d.n = 0;
    f->read_pos = SL_MAX(f->read_pos, next);
    for (size_t i = 0; i < d.nskip; i++) {
        for (int64_t o = d.skip_from[i]; o < d.skip_to[i]; o++) {
            mark_done(f, o);
        }
    }
    sl_fc_decoded_fini(&d);
    if (advance_cursor(f) && f->put_waiters) {
        pthread_cond_broadcast(&f->not_full);
    }
    return 0;
}

static size_t fc_take(struct sl_channel *c, struct sl_event **out, size_t max, int64_t wait_ms)
{
    struct fc_ctx *f = c->ctx;
    struct timespec until;
    sl_mono_deadline(&until, wait_ms > 0 ? wait_ms : 0);
    size_t n = 0;
    pthread_mutex_lock(&f->mu);
    if (ensure_open(c) != 0) {
        pthread_mutex_unlock(&f->mu);
        /* The sink's loop retries; do not spin. */
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
        return 0;
    }
    for (;;) {
        while (n < max && f->rb_head < f->rb_n) {
            struct sl_fc_item it = f->rb[f->rb_head];
            if (omap_put(&f->out, it.ev, it.off) != 0) {
                break;
            }
            f->rb_head++;
            out[n++] = it.ev;
        }
        while (n < max && f->ra_n > 0) {
            struct sl_fc_item it = f->ra[f->ra_head];
            if (rb_reserve(f, 1) != 0) {
                /* Nothing is handed out that a rollback could not put back. */
                refuse_log(c, &f->last_fail_log_ms, "out of memory: taking events later");
                break;
            }
            if (omap_put(&f->out, it.ev, it.off) != 0) {
                break;
            }
            f->ra_head = (f->ra_head + 1) % f->ra_cap;
            f->ra_n--;
            out[n++] = it.ev;
        }
        if (n == max) {
            break;
        }
        if (f->need_reopen && !f->failed) {
            if (reopen(c) != 0) {
                break;
            }
            continue;
        }
        if (f->read_pos < f->synced && !f->refilling && !f->need_reopen) {
            if (refill(c) == 0 || (f->need_reopen && !f->failed)) {
                continue; /* more read, or a damaged batch to quarantine first */
            }
            break;
        }
        if (n > 0 || wait_ms <= 0) {
            break;
        }
        f->take_waiters++;
        int w = wait_until(&f->not_empty, &f->mu, &until);
        f->take_waiters--;
        if (w == ETIMEDOUT) {
            wait_ms = 0;
        }
    }
    if (f->rb_head == f->rb_n) {
        f->rb_head = f->rb_n = 0;
    }
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* Persist the cursor and delete segments behind it. Under mu; one writer at a time. */
static void persist_cursor(struct sl_channel *c)
{
    struct fc_ctx *f = c->ctx;
    if (f->cursor_writing) {
        return; /* the writer loops until it has written the newest cursor */
    }
    f->cursor_writing = 1;
    while (f->cursor_durable < f->cursor && f->cur.fd >= 0) {
        int64_t to = f->cursor;
        pthread_mutex_unlock(&f->mu);
        int rc = sl_fc_cursor_write(&f->cur, to, 0);
        struct sl_err err;
        sl_err_clear(&err);
        int drc = rc == 0 ? sl_log_delete_before(f->log, to, &err) : 0;
        pthread_mutex_lock(&f->mu);
        if (rc != 0) {
            f->failed = 1;
            snprintf(f->failed_msg, sizeof(f->failed_msg), "writing the take cursor in %s: %s",
                     ckpt_dir(f), sl_strerror(rc));
            sl_clog(c->comp, SL_LOG_ERROR, "%s", f->failed_msg);
            break;
        }
        if (drc < 0) {
            refuse_log(c, &f->last_fail_log_ms, "deleting segments behind the cursor: %s", err.msg);
        }
        f->cursor_durable = to;
    }
    f->cursor_writing = 0;
    pthread_cond_broadcast(&f->idle_cv);
}

static void fc_commit_take(struct sl_channel *c, struct sl_event **evs, size_t n, uint64_t bytes)
{
    struct fc_ctx *f = c->ctx;
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < n; i++) {
        int64_t off = omap_del(&f->out, evs[i]);
        SL_ASSERT(off >= 0);
        mark_done(f, off);
    }
    int moved = advance_cursor(f);
    if (moved && f->put_waiters) {
        pthread_cond_broadcast(&f->not_full);
    }
    int notify = moved && f->put_blocked;
    if (notify) {
        f->put_blocked = 0;
    }
    if (moved) {
        persist_cursor(c);
    }
    pthread_mutex_unlock(&f->mu);
    if (notify && c->room_cb) {
        c->room_cb(c->room_arg);
    }
}

static void fc_rollback_take(struct sl_channel *c, struct sl_event **evs, size_t n)
{
    struct fc_ctx *f = c->ctx;
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < n; i++) {
        int64_t off = omap_del(&f->out, evs[i]);
        SL_ASSERT(off >= 0);
        rb_insert(f, evs[i], off); /* room reserved at take: cannot fail */
    }
    if (f->take_waiters) {
        pthread_cond_broadcast(&f->not_empty);
    }
    pthread_mutex_unlock(&f->mu);
}

static void fc_stats(struct sl_channel *c, struct sl_chan_stats *st)
{
    struct sl_file_chan_stats x;
    sl_file_channel_stats(c, &x);
    st->size = x.size;
    st->capacity = x.capacity;
    st->bytes = x.bytes_on_disk;
}

static void fc_wakeup(struct sl_channel *c)
{
    struct fc_ctx *f = c->ctx;
    pthread_mutex_lock(&f->mu);
    pthread_cond_broadcast(&f->not_empty);
    pthread_cond_broadcast(&f->not_full);
    pthread_mutex_unlock(&f->mu);
}

const struct sl_channel_ops sl_file_channel_ops = {
    .name = "file",
    .conf = fc_conf,
    .ctx_size = sizeof(struct fc_ctx),
    .init = fc_init,
    .fini = fc_fini,
    .commit_put = fc_commit_put,
    .take = fc_take,
    .commit_take = fc_commit_take,
    .rollback_take = fc_rollback_take,
    .stats = fc_stats,
    .wakeup = fc_wakeup,
    .start = fc_start,
    .stop = fc_stop,
    .durable = 1,
};

void sl_file_channel_stats(struct sl_channel *c, struct sl_file_chan_stats *st)
{
    struct fc_ctx *f = c->ctx;
    memset(st, 0, sizeof(*st));
    st->capacity = (uint64_t)f->capacity;
    pthread_mutex_lock(&f->mu);
    if (f->opened) {
        /* Exact: appended, minus taken-and-committed (ndone: committed out of order). */
        st->size = (uint64_t)(f->end - f->cursor - f->ndone);
        st->bytes_on_disk = (uint64_t)sl_log_size_bytes(f->log);
    }
    st->fsyncs = f->fsyncs;
    st->corrupt_batches = f->corrupt_batches;
    st->corrupt_events = f->corrupt_events;
    st->space_refusals = f->space_refusals;
    st->failed = f->failed;
    pthread_mutex_unlock(&f->mu);
}
