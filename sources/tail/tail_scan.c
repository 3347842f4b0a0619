/*
 * tail_scan.c - how the tail source finds its files: each group's pattern expanded (a
 * directory, or directories by glob, listed and their names matched by fnmatch or, with
 * patternSyntax: regex, PCRE2), each match identified by device + inode so a renamed file
 * keeps its state, files no pattern matches any more marked gone (read to their end, then
 * forgotten; one closed while idle is first looked for under another name in its directory,
 * and reopened there), and inotify watches (uv_fs_event) on the directories that mark files ready
 * or ask for a rescan.
 *
 * Threads: the source loop thread only, on the state defined in tail_int.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/sl_log.h"
#include "common/sl_macros.h"
#include "sources/tail/tail_int.h"

struct tail_file *sl__tail_find_file(struct tail_ctx *t, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < t->nfiles; i++) {
        if (t->files[i]->dev == dev && t->files[i]->ino == ino) {
            return t->files[i];
        }
    }
    return NULL;
}

static const struct sl_tail_ident *find_saved(struct tail_ctx *t, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < t->nsaved; i++) {
        struct sl_tail_pos *p = &t->saved[i];
        if (p->id.ino == ino && (!p->has_dev || p->id.dev == dev)) {
            p->id.dev = dev;
            return &p->id;
        }
    }
    return NULL;
}

static void on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status);

static void watch_dir(struct tail_ctx *t, const char *dir)
{
    if (!t->use_inotify || t->stopping) {
        return;
    }
    for (struct tail_watch *w = t->watches; w; w = w->next) {
        if (strcmp(w->dir, dir) == 0) {
            return;
        }
    }
    struct tail_watch *w = calloc(1, sizeof(*w));
    if (!w || !(w->dir = strdup(dir))) {
        free(w);
        return;
    }
    w->t = t;
    uv_fs_event_init(t->loop, &w->h);
    w->h.data = t;
    t->handles++;
    int rc = uv_fs_event_start(&w->h, on_fs_event, dir, 0);
    if (rc != 0) {
        sl_clog(t->src->comp, SL_LOG_WARN, "%s: cannot watch (%s): polling every %lld ms", dir,
                uv_strerror(rc), (long long)t->poll_ms);
    }
    w->next = t->watches;
    t->watches = w;
}

static void scan_path(struct tail_ctx *t, struct tail_group *g, const char *path, int initial)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        return;
    }
    struct tail_file *f = sl__tail_find_file(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    if (f) {
        if (f->seen == t->gen) {
            return; /* another name of the same file, or another group: read once */
        }
        f->seen = t->gen;
        f->gone = 0;
        if (strcmp(f->path, path) != 0) {
            char *p = strdup(path);
            if (p) {
                sl_clog(t->src->comp, SL_LOG_INFO,
                        "%s is now %s (renamed): continuing at offset %" PRIu64, f->path, p,
                        f->read_off);
                free(f->path);
                f->path = p;
                t->pos_dirty = 1;
            }
        }
        if (f->fd < 0 && (uint64_t)st.st_size != f->commit_off) {
            struct sl_tail_ident id = f->closed_id;
            if (sl__tail_file_open(t, f, &id, 0) != 0) {
                f->fd = -1;
            }
        } else if (f->fd >= 0 && (uint64_t)st.st_size != f->read_off) {
            f->ready = 1;
        }
        return;
    }
    f = calloc(1, sizeof(*f));
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return;
    }
    f->fd = -1;
    f->g = g;
    f->dev = (uint64_t)st.st_dev;
    f->ino = (uint64_t)st.st_ino;
    f->seen = t->gen;
    const struct sl_tail_ident *id = initial ? find_saved(t, f->dev, f->ino) : NULL;
    int rc = sl__tail_file_open(t, f, id, initial && t->skip_to_end && !id);
    if (rc == 0 && t->nfiles == t->files_cap) {
        size_t cap = t->files_cap ? t->files_cap * 2 : 16;
        struct tail_file **v = realloc(t->files, cap * sizeof(*v));
        if (v) {
            t->files = v;
            t->files_cap = cap;
        } else {
            rc = -ENOMEM;
        }
    }
    if (rc != 0) {
        if (rc != -ESTALE && sl_every_ms(&t->last_err_log_ms, SL_TAIL_LOG_EVERY_MS)) {
            sl_clog(t->src->comp, SL_LOG_ERROR, "%s: cannot open: %s (retrying every %lld ms)",
                    path, strerror(-rc), (long long)t->poll_ms);
        }
        sl__tail_file_free(t, f);
        return;
    }
    sl_clog(t->src->comp, SL_LOG_INFO, "%s: tailing from offset %" PRIu64 "%s", path, f->read_off,
            id ? " (saved position)" : "");
    t->files[t->nfiles++] = f;
    CNT(t->tracked);
}

static int name_matches(struct tail_ctx *t, struct tail_group *g, const char *name)
{
    if (g->re) {
        return pcre2_match(g->re, (PCRE2_SPTR)name, strlen(name), 0, 0, t->md, NULL) >= 0;
    }
    return fnmatch(g->name_pat, name, FNM_PERIOD) == 0;
}

static void scan_dir(struct tail_ctx *t, struct tail_group *g, const char *dir, int initial)
{
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    watch_dir(t, dir);
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) {
            continue;
        }
        if (!name_matches(t, g, e->d_name)) {
            continue;
        }
        if (snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", e->d_name) >=
            (int)sizeof(path)) {
            continue;
        }
        scan_path(t, g, path, initial);
    }
    closedir(d);
}

/*
 * f was closed while idle and no pattern matches it any more: rotated (renamed) or deleted.
 * Its writer may still append to it through the descriptor it holds (a rotation renames the
 * file and the application reopens its log a moment later), so look for the same device and
 * inode in its directory; if it is there under another name, reopen it there and read it to
 * its end like a file that was open when it was renamed (gone: rotateWait ms after its last
 * growth). Returns 1 when f was reopened. A file deleted, or moved to another directory,
 * while it was closed cannot be found: it is forgotten, and what was appended to it after its
 * last read is not read.
 */
static int reopen_moved(struct tail_ctx *t, struct tail_file *f, int64_t now)
{
    const char *slash = strrchr(f->path, '/');
    char dir[PATH_MAX], path[PATH_MAX];
    if (!slash || (size_t)(slash - f->path) >= sizeof(dir)) {
        return 0;
    }
    size_t dl = slash == f->path ? 1 : (size_t)(slash - f->path);
    memcpy(dir, f->path, dl);
    dir[dl] = '\0';
    DIR *d = opendir(dir);
    if (!d) {
        return 0;
    }
    int found = 0;
    struct dirent *e;
    struct stat st;
    while (!found && (e = readdir(d)) != NULL) {
        found =
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            (uint64_t)st.st_dev == f->dev && (uint64_t)st.st_ino == f->ino &&
            snprintf(path, sizeof(path), "%s/%s", dl > 1 ? dir : "", e->d_name) < (int)sizeof(path);
    }
    closedir(d);
    char *p = found ? strdup(path) : NULL;
    if (!p) {
        return 0;
    }
    char *old = f->path;
    f->path = p;
    struct sl_tail_ident id = f->closed_id;
    if (sl__tail_file_open(t, f, &id, 0) != 0) {
        f->fd = -1;
        f->path = old;
        free(p);
        return 0;
    }
    sl_clog(t->src->comp, SL_LOG_INFO,
            "%s is now %s (renamed while closed): reading it to its end from offset %" PRIu64, old,
            p, f->read_off);
    free(old);
    f->gone = 1;
    f->gone_ms = now;
    t->pos_dirty = 1;
    return 1;
}

void sl__tail_scan(struct tail_ctx *t, int initial)
{
    t->scan_wanted = 0;
    t->gen++;
    for (size_t i = 0; i < t->ngroups; i++) {
        struct tail_group *g = &t->groups[i];
        if (!g->dir_glob) {
            scan_dir(t, g, g->dir, initial);
            continue;
        }
        glob_t gl;
        if (glob(g->dir, GLOB_ONLYDIR, NULL, &gl) == 0) {
            for (size_t j = 0; j < gl.gl_pathc; j++) {
                scan_dir(t, g, gl.gl_pathv[j], initial);
            }
        }
        globfree(&gl);
    }
    int64_t now = sl_mono_ms();
    for (size_t i = t->nfiles; i-- > 0;) {
        struct tail_file *f = t->files[i];
        if (f->seen == t->gen) {
            continue;
        }
        if (f->fd < 0) {
            if (!reopen_moved(t, f, now)) {
                sl__tail_file_forget(t, i); /* deleted, or moved out of its directory */
            }
        } else if (!f->gone) {
            f->gone = 1;
            f->gone_ms = now;
            f->ready = 1;
        }
    }
}

static void on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    struct tail_ctx *t = h->data;
    struct tail_watch *w = (struct tail_watch *)h;
    if (t->stopping) {
        return;
    }
    if (status < 0 || (events & UV_RENAME) || !filename) {
        t->scan_wanted = 1;
    }
    size_t dl = strlen(w->dir);
    for (size_t i = 0; i < t->nfiles; i++) {
        struct tail_file *f = t->files[i];
        const char *slash = strrchr(f->path, '/');
        int named = filename && slash && (size_t)(slash - f->path) == dl &&
                    strncmp(f->path, w->dir, dl) == 0 && strcmp(slash + 1, filename) == 0;
        if (f->fd < 0) {
            /* Closed while idle and written again: reopen it (a scan) before a rotation
             * takes its name away. */
            t->scan_wanted |= named;
        } else if (f->gone || !filename || named) {
            f->ready = 1;
        }
    }
    sl__tail_wake(t);
}

static void watch_closed(uv_handle_t *h)
{
    struct tail_watch *w = (struct tail_watch *)h;
    struct tail_ctx *t = w->t;
    free(w->dir);
    free(w);
    sl__tail_handle_done(t);
}

void sl__tail_watches_close(struct tail_ctx *t)
{
    for (struct tail_watch *w = t->watches; w; w = w->next) {
        uv_close((uv_handle_t *)&w->h, watch_closed);
    }
    t->watches = NULL;
}
