/*
 * file_roll.c - the file_roll sink (Flume's RollingFileSink): writes each event's body and a
 * newline (Flume's TEXT serializer) to files in sink.directory named
 * <prefix><start time ms>-<n>[.<extension>] like Flume's DEFAULT path manager (the start time
 * is the sink's, n counts from 1), and moves to a new file every sink.rollInterval seconds
 * and, beyond Flume, once a file would pass sink.rollSize bytes.
 *
 * Durability: deliver returns SL_OK only after the batch is written and fdatasync'ed, and,
 * for a file created by this batch, the directory fsync'ed too (else a crash could lose the
 * new file's name and every acknowledged line in it). A batch goes whole into one file: a
 * file is rolled before a batch that would take it past rollSize, so it passes rollSize
 * only when one batch alone is larger. A failed write or sync truncates the file back to
 * where the batch began (no partial line, no half batch before the retry); if even that
 * fails the file is abandoned and the retry goes to a new one. After a failed fdatasync or
 * directory fsync the file is always closed and the retry goes to a new file (a later fsync
 * of the same file could succeed although the kernel dropped the pages that failed), and a
 * file left empty is removed. At least once: should the truncation not reach the disk, the
 * failed batch's bytes stay in the old file and the retry writes the batch again.
 *
 * Rolling: files are created when their first event arrives, never empty (Flume opens a new
 * file at every interval tick, idle or not). The interval counts from a file's creation; an
 * idle sink closes its file when the interval has passed (ops->idle), so the file is
 * complete then, and the next event opens the next file. rollInterval 0 = never by time,
 * rollSize 0 = never by size.
 *
 * Threads: the ctx belongs to the sink's thread (or its group's); nothing is shared.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agent/plugin.h"
#include "common/sl_log.h"
#include "common/sl_macros.h"
#include "store/io.h"

struct file_roll_ctx {
    /* config */
    char *directory;
    int64_t roll_interval_s;
    int64_t roll_size;
    int64_t batch_size;
    char *serializer;
    int append_newline;
    char *path_manager;
    char *prefix;
    char *extension;
    /* state */
    int dirfd;
    int fd;              /* the current file, -1 = none */
    uint64_t size;       /* its bytes */
    int64_t opened_ms;   /* monotonic, when it was created */
    int dir_dirty;       /* created since the last directory fsync */
    int64_t series_ms;   /* wall clock at start: the file names' time part */
    uint64_t seq;        /* the last file number used */
    char path[PATH_MAX]; /* the current file */
    int64_t (*clock_ms)(void);
};

static const char *const serializer_choices[] = {"TEXT", "text", NULL};
static const char *const pm_choices[] = {"DEFAULT", "default", NULL};

#define OFF(f) offsetof(struct file_roll_ctx, f)
static const struct sl_conf_map file_roll_conf[] = {
    {"sink.directory", SL_CONF_STR, NULL, OFF(directory), 0, 0, SL_CONF_REQUIRED, NULL,
     "directory of the files (created if missing)"},
    {"sink.rollInterval", SL_CONF_INT, "30", OFF(roll_interval_s), 0, 31536000, 0, NULL,
     "seconds until a file is closed and the next one begun; 0 = never by time"},
    {"sink.rollSize", SL_CONF_INT, "0", OFF(roll_size), 0, INT64_MAX, 0, NULL,
     "bytes after which the next file is begun (batches are not split); 0 = never by size"},
    {"sink.batchSize", SL_CONF_INT, "100", OFF(batch_size), 1, 1000000, 0, NULL,
     "events per take transaction, written with one fdatasync"},
    {"sink.serializer", SL_CONF_STR, "TEXT", OFF(serializer), 0, 0, 0, serializer_choices,
     "TEXT: the body, then a newline"},
    {"sink.serializer.appendNewline", SL_CONF_BOOL, "true", OFF(append_newline), 0, 0, 0, NULL,
     "write a newline after each body"},
    {"sink.pathManager", SL_CONF_STR, "DEFAULT", OFF(path_manager), 0, 0, 0, pm_choices,
     "DEFAULT: <prefix><start time ms>-<n>[.<extension>]"},
    {"sink.pathManager.prefix", SL_CONF_STR, "", OFF(prefix), 0, 0, 0, NULL, "file name prefix"},
    {"sink.pathManager.extension", SL_CONF_STR, "", OFF(extension), 0, 0, 0, NULL,
     "file name extension (without the dot)"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL},
};

static int file_roll_init(struct sl_sink *s, struct sl_err *err)
{
    struct file_roll_ctx *c = s->ctx;
    s->batch_size = (size_t)c->batch_size;
    c->fd = -1;
    c->dirfd = -1;
    c->clock_ms = sl_mono_ms;
    if (!c->directory[0]) {
        return sl_err_set(err, SL_ECONFIG, "sink.directory is empty");
    }
    if (strchr(c->prefix, '/') || strchr(c->extension, '/')) {
        return sl_err_set(err, SL_ECONFIG,
                          "sink.pathManager.prefix and .extension must not contain '/'");
    }
    if (strlen(c->directory) + strlen(c->prefix) + strlen(c->extension) + 48 >= PATH_MAX) {
        return sl_err_set(err, SL_ECONFIG, "sink.directory and file names are too long");
    }
    return 0;
}

/* mkdir -p, mode 0755. 0 or -errno. */
static int mkdirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            return -errno;
        }
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

static int file_roll_start(struct sl_sink *s, struct sl_err *err)
{
    struct file_roll_ctx *c = s->ctx;
    int rc = mkdirs(c->directory);
    if (rc != 0) {
        return sl_err_set(err, rc, "sink.directory %s: cannot create it: %s", c->directory,
                          strerror(-rc));
    }
    c->dirfd = open(c->directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->dirfd < 0) {
        int e = errno;
        return sl_err_set(err, -e, "sink.directory %s: %s", c->directory, strerror(e));
    }
    if (faccessat(c->dirfd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
        int e = errno;
        close(c->dirfd);
        c->dirfd = -1;
        return sl_err_set(err, -e, "sink.directory %s: not writable: %s", c->directory,
                          strerror(e));
    }
    c->series_ms = sl_now_ms();
    c->seq = 0;
    char every[64] = "never by time";
    if (c->roll_interval_s > 0) {
        snprintf(every, sizeof(every), "every %lld s", (long long)c->roll_interval_s);
    }
    sl_clog(s->comp, SL_LOG_INFO, "writing %s/%s%lld-<n>%s%s, rolling %s%s", c->directory,
            c->prefix, (long long)c->series_ms, c->extension[0] ? "." : "", c->extension, every,
            c->roll_size ? ", and at sink.rollSize bytes" : "");
    return 0;
}

/* Close the current file (its data was synced by the deliver that wrote it). */
static void roll(struct sl_sink *s)
{
    struct file_roll_ctx *c = s->ctx;
    if (c->fd < 0) {
        return;
    }
    if (close(c->fd) != 0) {
        sl_clog(s->comp, SL_LOG_WARN, "close %s: %s", c->path, strerror(errno));
    }
    c->fd = -1;
    sl_clog(s->comp, SL_LOG_DEBUG, "closed %s (%llu bytes)", c->path, (unsigned long long)c->size);
}

/* Create the next file. 0 or -errno (logged). */
static int open_next(struct sl_sink *s)
{
    struct file_roll_ctx *c = s->ctx;
    for (int tries = 0; tries < 1000; tries++) {
        c->seq++;
        char name[NAME_MAX + 1];
        int n = snprintf(name, sizeof(name), "%s%lld-%llu%s%s", c->prefix, (long long)c->series_ms,
                         (unsigned long long)c->seq, c->extension[0] ? "." : "", c->extension);
        if (n < 0 || (size_t)n >= sizeof(name)) {
            sl_clog(s->comp, SL_LOG_ERROR, "file name too long");
            return -ENAMETOOLONG;
        }
        int fd = openat(c->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST) {
            continue; /* a name left by an earlier run with the same start time */
        }
        if (fd < 0) {
            int e = errno;
            sl_clog(s->comp, SL_LOG_WARN, "cannot create %s/%s: %s", c->directory, name,
                    strerror(e));
            return -e;
        }
        c->fd = fd;
        c->size = 0;
        c->opened_ms = c->clock_ms();
        c->dir_dirty = 1;
        snprintf(c->path, sizeof(c->path), "%s/%s", c->directory, name);
        return 0;
    }
    return -EEXIST;
}

static int interval_due(const struct file_roll_ctx *c)
{
    return c->roll_interval_s > 0 && c->clock_ms() - c->opened_ms >= c->roll_interval_s * 1000;
}

/* Write all of iov (advancing it on short writes). 0 or -errno. */
static int write_all(int fd, struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        ssize_t w = writev(fd, iov, cnt);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        size_t left = (size_t)w;
        while (cnt > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

#define IOV_BATCH 512

static int write_batch(struct file_roll_ctx *c, struct sl_event **evs, size_t n)
{
    static char nl[] = "\n";
    struct iovec iov[IOV_BATCH];
    int cnt = 0;
    for (size_t i = 0; i < n; i++) {
        if (evs[i]->len) {
            iov[cnt].iov_base = evs[i]->body;
            iov[cnt].iov_len = evs[i]->len;
            cnt++;
        }
        if (c->append_newline) {
            iov[cnt].iov_base = nl;
            iov[cnt].iov_len = 1;
            cnt++;
        }
        if (cnt >= IOV_BATCH - 2 || i + 1 == n) {
            int rc = write_all(c->fd, iov, cnt);
            if (rc != 0) {
                return rc;
            }
            cnt = 0;
        }
    }
    return 0;
}

static int file_roll_deliver(struct sl_sink *s, struct sl_event **evs, size_t n)
{
    struct file_roll_ctx *c = s->ctx;
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += evs[i]->len + (c->append_newline ? 1 : 0);
    }
    if (c->fd >= 0 && (interval_due(c) || (c->roll_size > 0 && c->size > 0 &&
                                           c->size + bytes > (uint64_t)c->roll_size))) {
        roll(s);
    }
    if (c->fd < 0) {
        int rc = open_next(s);
        if (rc != 0) {
            return rc;
        }
    }
    int rc = write_batch(c, evs, n);
    const char *what = "write";
    int sync_failed = 0;
    if (rc == 0 && (rc = sl_io_fdatasync(c->fd)) != 0) {
        what = "fdatasync";
        sync_failed = 1;
    }
    if (rc == 0 && c->dir_dirty) {
        if ((rc = sl_io_fsync(c->dirfd)) != 0) {
            what = "fsync of the directory";
            sync_failed = 1;
        } else {
            c->dir_dirty = 0;
        }
    }
    if (rc != 0) {
        sl_clog(s->comp, SL_LOG_WARN, "%s %s: %s; the batch of %zu events is retried%s", what,
                c->path, strerror(-rc), n, sync_failed ? " in a new file" : "");
        /* Take the failed batch's bytes back out, so the retry does not follow a partial
         * batch. A file that cannot be cut back is left as it is, and the retry (at least
         * once) goes to a new file. After a failed sync the file is never trusted again:
         * the kernel may have dropped its dirty pages and a later fsync would succeed
         * without them, so it is closed and the retry goes to a new file. */
        int cut = ftruncate(c->fd, (off_t)c->size) == 0;
        if (!cut) {
            sl_clog(s->comp, SL_LOG_WARN,
                    "cannot truncate %s back to %llu bytes (%s): moving on "
                    "to a new file",
                    c->path, (unsigned long long)c->size, strerror(errno));
        }
        if (!cut || sync_failed) {
            int empty = cut && c->size == 0;
            roll(s);
            if (empty) {
                unlink(c->path); /* best effort: an empty file holds nothing to lose */
            }
        }
        return rc;
    }
    c->size += bytes;
    if (c->roll_size > 0 && c->size >= (uint64_t)c->roll_size) {
        roll(s);
    }
    return SL_OK;
}

static void file_roll_idle(struct sl_sink *s)
{
    struct file_roll_ctx *c = s->ctx;
    if (c->fd >= 0 && interval_due(c)) {
        roll(s);
    }
}

static void file_roll_stop(struct sl_sink *s)
{
    struct file_roll_ctx *c = s->ctx;
    roll(s);
    if (c->dirfd >= 0) {
        close(c->dirfd);
        c->dirfd = -1;
    }
}

static void file_roll_fini(struct sl_sink *s)
{
    file_roll_stop(s);
}

const struct sl_sink_ops sl_file_roll_sink_ops = {
    .name = "file_roll",
    .conf = file_roll_conf,
    .ctx_size = sizeof(struct file_roll_ctx),
    .init = file_roll_init,
    .start = file_roll_start,
    .deliver = file_roll_deliver,
    .idle = file_roll_idle,
    .stop = file_roll_stop,
    .fini = file_roll_fini,
};
