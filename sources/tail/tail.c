/*
 * tail.c - the tail source (Flume's TAILDIR and more): file groups of glob patterns (or, with
 * patternSyntax: regex, Flume's regular expression on the file name), one event per line (LF
 * or CRLF, the ending not part of the body) or per multiline group, a position file that
 * advances only over lines already committed to every channel, and rotation handling:
 *
 * - A file is known by device + inode, not by name, so a renamed file (app.log -> app.log.1)
 *   keeps its offset and is never read twice even when its new name matches a pattern too;
 *   it is read to its end (its fd stays open) before it is forgotten, rotateWait ms after it
 *   stopped growing and left the patterns. A file closed by idleTimeout that leaves the
 *   patterns is looked for in its directory by device + inode: renamed there, it is reopened
 *   under its new name and read to its end the same way (its writer may append to it until
 *   it reopens its log). Deleted, or moved to another directory, while closed, it cannot be
 *   found: what was appended to it after the close is not read (set idleTimeout above the
 *   rotation interval to avoid that).
 * - copytruncate: a file shorter than what was read is read again from 0; a file truncated and
 *   regrown past the old offset is caught by comparing the bytes just before the offset with
 *   the ones read there. Each such reset is counted (FileResetCount) and logged.
 * - At start, and when an idle-closed file is reopened, a saved offset is used only when the
 *   file still has the same first bytes and the same bytes before the offset (tail_fp.c):
 *   a new file on a reused inode, or one rewritten meanwhile, is read from 0 (counted).
 * - New files are found through inotify on the directories (uv_fs_event) and, as a fallback
 *   and for directories matched by wildcards, a rescan every pollInterval ms (tail_scan.c).
 *
 * This file: the config map, reading and splitting lines, committing, files' offsets and
 * fingerprints, the work loop and timers, the position file writes, start and stop.
 *
 * When a channel is full the source stops reading every file until the channel has room
 * (the `room` op, or a 100 ms retry timer); lines read but not committed wait in memory
 * (at most one read per file) and are never dropped. At stop they are dropped uncommitted:
 * the position file does not cover them, so they are read again at the next start.
 *
 * Threads: everything here belongs to the source loop thread (the agent's main thread) except
 * the position-file write, which runs in libuv's thread pool on a text built beforehand. File
 * reads happen on the loop thread: they are regular files (page cache, or a disk read), and
 * each loop turn does at most one read of readBufferSize bytes per file, so sockets of other
 * sources on the same loop stay responsive. The stats counters are relaxed atomics read by
 * the metrics thread.
 */
#include "sources/tail/tail.h"

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
#include <unistd.h>

#include "agent/plugin.h"
#include "common/sl_log.h"
#include "common/sl_macros.h"
#include "sources/tail/tail_int.h"

#define RETRY_MS    100
#define BYTEOFF_KEY "byteoffset"

static const char *const overflow_choices[] = {"split", "truncate", NULL};
static const char *const ml_choices[] = {"start", "continue", NULL};
static const char *const syntax_choices[] = {"glob", "regex", NULL};

#define OFF(f) offsetof(struct tail_ctx, f)
static const struct sl_conf_map tail_conf[] = {
    {"filegroups.", SL_CONF_PREFIX, NULL, OFF(groups_kv), 0, 0, 0, NULL,
     "file groups, name: absolute path pattern (YAML: filegroups: {f1: /var/log/app/*.log}; "
     "Flume: filegroups.f1). A glob (wildcards also in directories), or with patternSyntax: "
     "regex, Flume's regular expression on the file name. A directory without wildcards must "
     "exist at start. With copytruncate rotation, the pattern must not match the rotated "
     "copies. A file matched by two groups belongs to the first. Required"},
    {"positionFile", SL_CONF_STR, NULL, OFF(pos_path), 0, 0, SL_CONF_REQUIRED, NULL,
     "JSON file of committed offsets (written atomically); if it exists but is not valid, the "
     "source does not start: fix or delete it (then files are read from the start)"},
    {"headers.", SL_CONF_PREFIX, NULL, OFF(headers_kv), 0, 0, 0, NULL,
     "static headers per group: headers: {f1: {key: value}} (Flume: headers.f1.key)"},
    {"batchSize", SL_CONF_INT, "100", OFF(batch_size), 1, 1000000, 0, NULL,
     "most events per put transaction (also bounded by the channels' transactionCapacity)"},
    {"writePosInterval", SL_CONF_INT, "3000", OFF(write_pos_ms), 10, 3600000, 0, NULL,
     "ms between position file writes (only when something was committed; also at stop)"},
    {"skipToEnd", SL_CONF_BOOL, "false", OFF(skip_to_end), 0, 0, 0, NULL,
     "at start, files without a saved position are read from their end, not their start"},
    {"idleTimeout", SL_CONF_INT, "120000", OFF(idle_ms), 100, INT64_MAX / 2, 0, NULL,
     "ms without new data after which a file's descriptor is closed (reopened when it grows, "
     "or when it is renamed within its directory)"},
    {"fileHeader", SL_CONF_BOOL, "false", OFF(file_header), 0, 0, 0, NULL,
     "add the file's path as a header"},
    {"fileHeaderKey", SL_CONF_STR, "file", OFF(file_header_key), 0, 0, 0, NULL,
     "the header name for fileHeader"},
    {"byteOffsetHeader", SL_CONF_BOOL, "false", OFF(byte_offset_header), 0, 0, 0, NULL,
     "add the line's byte offset in its file as header 'byteoffset'"},
    {"maxLineLength", SL_CONF_INT, "1048576", OFF(max_line), 1, 1 << 28, 0, NULL,
     "longest line body in bytes; longer lines are split or truncated (lineOverflow), counted"},
    {"lineOverflow", SL_CONF_STR, "split", OFF(line_overflow), 0, 0, 0, overflow_choices,
     "a line longer than maxLineLength: split (several events, nothing lost) or truncate"},
    {"multiline.pattern", SL_CONF_STR, NULL, OFF(ml_pattern), 0, 0, 0, NULL,
     "PCRE2 pattern: lines are grouped into one event (joined with \\n); unset = one per line"},
    {"multiline.match", SL_CONF_STR, "start", OFF(ml_match), 0, 0, 0, ml_choices,
     "start: the pattern matches an event's first line; continue: its continuation lines"},
    {"multiline.flushTimeout", SL_CONF_INT, "1000", OFF(ml_flush_ms), 10, 3600000, 0, NULL,
     "ms after its last line that an event is emitted when no next event starts"},
    {"multiline.maxBytes", SL_CONF_INT, "1048576", OFF(ml_max_bytes), 1, 1 << 28, 0, NULL,
     "largest multiline event; further lines of it are dropped, counted as truncated"},
    {"pollInterval", SL_CONF_INT, "1000", OFF(poll_ms), 10, 3600000, 0, NULL,
     "ms between rescans of the patterns and checks of every file (inotify's fallback)"},
    {"inotify", SL_CONF_BOOL, "true", OFF(use_inotify), 0, 0, 0, NULL,
     "watch the directories for new, renamed and written files"},
    {"rotateWait", SL_CONF_INT, "5000", OFF(rotate_wait_ms), 0, 3600000, 0, NULL,
     "ms a file that left the patterns (rotated, deleted) is still read after its last growth"},
    {"readBufferSize", SL_CONF_INT, "262144", OFF(read_bytes), 4096, 64 << 20, 0, NULL,
     "bytes per read(2)"},
    {"patternSyntax", SL_CONF_STR, "glob", OFF(pattern_syntax), 0, 0, 0, syntax_choices,
     "glob, or regex: Flume's TAILDIR form, a literal directory and a regular expression "
     "matched against whole file names"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL},
};

/* ---- handles ------------------------------------------------------------------------ */

void sl__tail_handle_done(struct tail_ctx *t)
{
    if (--t->handles == 0 && t->done) {
        sl_done_cb done = t->done;
        t->done = NULL;
        done(t->src);
    }
}

static void handle_closed(uv_handle_t *h)
{
    sl__tail_handle_done(h->data);
}

static void on_work(uv_idle_t *h);

void sl__tail_wake(struct tail_ctx *t)
{
    if (!t->stopping && !t->paused) {
        uv_idle_start(&t->work, on_work);
    }
}

/* ---- events ------------------------------------------------------------------------- */

static int pend_reserve(struct tail_file *f)
{
    if (f->pn < f->pcap_ev) {
        return 0;
    }
    size_t cap = f->pcap_ev ? f->pcap_ev * 2 : 256;
    struct sl_event **p = realloc(f->pend, cap * sizeof(*p));
    if (!p) {
        return -ENOMEM;
    }
    f->pend = p;
    uint64_t *e = realloc(f->pend_end, cap * sizeof(*e));
    if (!e) {
        return -ENOMEM;
    }
    f->pend_end = e;
    f->pcap_ev = cap;
    return 0;
}

static int add_headers(struct tail_ctx *t, struct tail_file *f, struct sl_event *ev,
                       uint64_t start_off)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < f->g->nhdr; i++) {
        size_t k = f->g->hdr[i];
        const char *key = strchr(t->headers_kv.keys[k], '.') + 1;
        rc = sl_event_set_header(ev, key, t->headers_kv.values[k]);
    }
    if (rc == 0 && t->file_header) {
        rc = sl_event_set_header(ev, t->file_header_key, f->path);
    }
    if (rc == 0 && t->byte_offset_header) {
        char num[24];
        snprintf(num, sizeof(num), "%" PRIu64, start_off);
        rc = sl_event_set_header(ev, BYTEOFF_KEY, num);
    }
    return rc;
}

/* A finished event: body[0..len) ends at end_off of f. Queued until committed. */
static void emit(struct tail_ctx *t, struct tail_file *f, const char *body, size_t len,
                 uint64_t start_off, uint64_t end_off)
{
    struct sl_event *ev = NULL;
    if (t->slab) {
        ev = sl_event_slab_add(t->slab, body, len);
        if (!ev) {
            /* This read's slab is full (short lines): a new one for the rest of the read. */
            sl_event_slab_release(t->slab);
            size_t need = t->slab_rest + t->slab_rest / 2 + 4096;
            t->slab = sl_event_slab_create(SL_MAX(need, sl_event_slab_cost(len)));
            ev = t->slab ? sl_event_slab_add(t->slab, body, len) : NULL;
        }
    }
    if (!ev) {
        ev = sl_event_create(body, len);
    }
    int rc = ev ? 0 : -ENOMEM;
    if (rc == 0 && (f->g->nhdr || t->file_header || t->byte_offset_header)) {
        rc = add_headers(t, f, ev, start_off);
    }
    if (rc == 0) {
        rc = pend_reserve(f);
    }
    if (rc != 0) {
        sl_event_destroy(ev);
        CNT(t->src->received);
        CNT(t->src->failed);
        if (sl_every_ms(&t->last_err_log_ms, SL_TAIL_LOG_EVERY_MS)) {
            sl_clog(t->src->comp, SL_LOG_ERROR, "out of memory: a line of %s was dropped", f->path);
        }
        return;
    }
    f->pend[f->pn] = ev;
    f->pend_end[f->pn] = end_off;
    f->pn++;
    t->emitted++; /* added to received and pending once per read (counts_flush) */
}

static void counts_flush(struct tail_ctx *t)
{
    if (t->emitted) {
        CNT_ADD(t->src->received, t->emitted);
        CNT_ADD(t->src->pending, t->emitted);
        t->emitted = 0;
    }
}

struct ml_arg {
    struct tail_ctx *t;
    struct tail_file *f;
};

static void ml_emit(void *arg, const char *body, size_t len, uint64_t start_off, uint64_t end_off,
                    int cut)
{
    struct ml_arg *a = arg;
    if (cut) {
        CNT(a->t->src->truncated);
    }
    emit(a->t, a->f, body, len, start_off, end_off);
}

/* One line of f (without its ending), spanning [start_off, end_off). */
static void line_out(struct tail_ctx *t, struct tail_file *f, const char *body, size_t len,
                     uint64_t start_off, uint64_t end_off)
{
    if (!t->mlc.re) {
        emit(t, f, body, len, start_off, end_off);
        return;
    }
    struct ml_arg a = {t, f};
    if (sl__tail_ml_line(&t->mlc, &f->ml, t->md, body, len, start_off, end_off, sl_mono_ms(),
                         ml_emit, &a) != 0) {
        CNT(t->src->received);
        CNT(t->src->failed);
    }
}

static void ml_flush(struct tail_ctx *t, struct tail_file *f)
{
    struct ml_arg a = {t, f};
    sl__tail_ml_flush(&f->ml, ml_emit, &a);
}

static int part_append(struct tail_file *f, const char *p, size_t n, size_t max)
{
    if (f->plen + n > f->pcap) {
        size_t cap = f->pcap ? f->pcap : 256;
        while (cap < f->plen + n) {
            cap *= 2;
        }
        cap = SL_MIN(cap, max + 1);
        char *b = realloc(f->part, cap);
        if (!b) {
            return -ENOMEM;
        }
        f->part = b;
        f->pcap = cap;
    }
    memcpy(f->part + f->plen, p, n);
    f->plen += n;
    return 0;
}

/* Emit the line held in f->part, ending at end_off (its CR stripped). */
static void part_out(struct tail_ctx *t, struct tail_file *f, uint64_t end_off)
{
    size_t len = f->plen;
    if (len && f->part[len - 1] == '\r' && !f->discarding) {
        len--;
    }
    line_out(t, f, f->part, len, f->part_start, end_off);
    f->plen = 0;
    f->split = 0;
    f->discarding = 0;
}

/* Split p[0..n) (read at file offset base) into lines. */
static void parse(struct tail_ctx *t, struct tail_file *f, const char *p, size_t n, uint64_t base)
{
    size_t max = (size_t)t->max_line;
    const char *start = p, *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *seg_end = nl ? nl : end;
        uint64_t after = base + (uint64_t)((nl ? nl + 1 : end) - start);
        t->slab_rest = (size_t)(end - p);
        if (f->plen == 0 && !f->discarding && nl) {
            size_t body = (size_t)(nl - p);
            if (body && p[body - 1] == '\r') {
                body--;
            }
            if (body <= max) { /* the common case: a whole line in this read, no copy */
                line_out(t, f, p, body, base + (uint64_t)(p - start), after);
                p = nl + 1;
                continue;
            }
        }
        if (f->plen == 0 && !f->discarding) {
            f->part_start = base + (uint64_t)(p - start);
        }
        const char *q = p;
        while (q < seg_end && !f->discarding) {
            if (f->plen == max) {
                /* One more byte than fits: this line overflows. CR-LF endings at exactly
                 * max count as an overflow too (the CR is part of the line so far). */
                if (t->truncate) {
                    CNT(t->src->truncated);
                    f->discarding = 1;
                    break;
                }
                if (!f->split) {
                    CNT(t->src->truncated);
                    f->split = 1;
                }
                uint64_t cut = base + (uint64_t)(q - start);
                line_out(t, f, f->part, f->plen, f->part_start, cut);
                f->plen = 0;
                f->part_start = cut;
            }
            size_t take = SL_MIN((size_t)(seg_end - q), max - f->plen);
            if (part_append(f, q, take, max) != 0) {
                CNT(t->src->failed);
                f->discarding = 1;
                f->plen = 0;
                break;
            }
            q += take;
        }
        if (!nl) {
            return; /* the rest of this line comes with a later read */
        }
        part_out(t, f, after);
        p = nl + 1;
    }
}

/* ---- committing --------------------------------------------------------------------- */

/*
 * Commit f's queued events (see sl_source_put_next: a chunk some channels hold is retried
 * exactly as it was, so events queued meanwhile — a multiline event flushed by its timer, a
 * file's last line at rotation — wait behind it). 0 when none is left, SL_ERETRY when a
 * channel is full.
 */
static int file_flush(struct tail_ctx *t, struct tail_file *f)
{
    struct sl_source *s = t->src;
    while (f->ph < f->pn) {
        size_t done, at;
        int rc = sl_source_put_next(s, &f->put, f->pend + f->ph, f->pn - f->ph,
                                    (size_t)t->batch_size, &done, &at);
        if (rc == SL_ERETRY) {
            return SL_ERETRY;
        }
        if (rc == 0) {
            if (done) {
                CNT_ADD(s->accepted, done);
                CNT_SUB(s->pending, done);
                f->commit_off = f->pend_end[f->ph + done - 1];
                f->ph += done;
                t->pos_dirty = 1;
            }
            continue;
        }
        CNT(s->failed);
        CNT_SUB(s->pending, 1);
        sl_clog(s->comp, SL_LOG_WARN,
                "%s: an event of %zu bytes does not fit in channel %s: dropped%s", f->path,
                f->pend[f->ph]->len, at < s->nchannels ? s->channels[at]->name : "?",
                at ? " there and in the channels after it" : "");
        sl_event_destroy(f->pend[f->ph]);
        f->commit_off = f->pend_end[f->ph];
        f->ph++;
        t->pos_dirty = 1;
    }
    f->ph = f->pn = 0;
    return 0;
}

static void on_retry(uv_timer_t *h);

static void pause_reading(struct tail_ctx *t)
{
    if (t->paused) {
        return;
    }
    t->paused = 1;
    uv_idle_stop(&t->work);
    if (sl_every_ms(&t->last_pause_log_ms, SL_TAIL_LOG_EVERY_MS)) {
        sl_clog(t->src->comp, SL_LOG_WARN,
                "channel full: stopped reading files until there is "
                "room");
    }
    uv_timer_start(&t->retry, on_retry, RETRY_MS, RETRY_MS);
}

static void retry_flush(struct tail_ctx *t)
{
    for (size_t i = 0; i < t->nfiles; i++) {
        if (file_flush(t, t->files[i]) == SL_ERETRY) {
            return;
        }
    }
    t->paused = 0;
    uv_timer_stop(&t->retry);
    sl__tail_wake(t);
}

static void on_retry(uv_timer_t *h)
{
    struct tail_ctx *t = h->data;
    if (t->paused && !t->stopping) {
        retry_flush(t);
    }
}

static void tail_room(struct sl_source *s)
{
    struct tail_ctx *t = s->ctx;
    if (t->paused && !t->stopping) {
        retry_flush(t);
    }
}

/* ---- files -------------------------------------------------------------------------- */

static void file_head(struct tail_file *f, uint64_t size)
{
    uint32_t len = (uint32_t)SL_MIN(size, (uint64_t)SL_TAIL_HEAD_MAX);
    uint64_t h = 0;
    if (len && sl__tail_fp_read(f->fd, 0, len, &h) != 0) {
        len = 0;
    }
    f->head = h;
    f->head_len = len;
}

/* Load f->mark with the bytes before read_off. */
static void file_mark_load(struct tail_file *f)
{
    uint32_t len = (uint32_t)SL_MIN(f->read_off, (uint64_t)SL_TAIL_MARK_MAX);
    f->mark_len = 0;
    if (len && pread(f->fd, f->mark, len, (off_t)(f->read_off - len)) == (ssize_t)len) {
        f->mark_len = len;
    }
}

static void file_mark_update(struct tail_file *f, const char *p, size_t n)
{
    if (n >= SL_TAIL_MARK_MAX) {
        memcpy(f->mark, p + n - SL_TAIL_MARK_MAX, SL_TAIL_MARK_MAX);
        f->mark_len = SL_TAIL_MARK_MAX;
        return;
    }
    size_t keep = SL_MIN((size_t)f->mark_len, SL_TAIL_MARK_MAX - n);
    memmove(f->mark, f->mark + f->mark_len - keep, keep);
    memcpy(f->mark + keep, p, n);
    f->mark_len = (uint32_t)(keep + n);
}

/* f's content is not what was read: read it again from 0 (counted, logged). */
static void file_reset(struct tail_ctx *t, struct tail_file *f, enum sl_tail_verdict why)
{
    CNT(t->resets);
    sl_clog(t->src->comp, SL_LOG_WARN,
            "%s: %s: reading it again from offset 0 (was at %" PRIu64 ")", f->path,
            sl__tail_verdict_str(why), f->read_off);
    ml_flush(t, f); /* lines of the old content already read still go out */
    for (size_t i = f->ph; i < f->pn; i++) {
        f->pend_end[i] = 0;
    }
    f->plen = 0;
    f->discarding = 0;
    f->split = 0;
    f->read_off = 0;
    f->commit_off = 0;
    f->mark_len = 0;
    f->pmark_ok = 0;
    struct stat st;
    file_head(f, fstat(f->fd, &st) == 0 ? (uint64_t)st.st_size : 0);
    t->pos_dirty = 1;
}

/*
 * Open f->path and decide where to start: at a saved offset if the file is still the one
 * that offset belongs to (id), else at 0 (counted when id said otherwise), or at its end
 * (skip). Returns 0, or -errno (f stays closed).
 */
int sl__tail_file_open(struct tail_ctx *t, struct tail_file *f, const struct sl_tail_ident *id,
                       int skip)
{
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_dev != f->dev ||
        (uint64_t)st.st_ino != f->ino) {
        close(fd); /* replaced between stat and open: the next scan sees the new one */
        return -ESTALE;
    }
    f->fd = fd;
    CNT(t->open_files);
    uint64_t size = (uint64_t)st.st_size;
    uint64_t start = skip ? size : 0;
    if (id) {
        enum sl_tail_verdict v = sl__tail_fp_check(fd, size, id);
        if (v == SL_TAIL_SAME) {
            start = id->pos;
        } else {
            CNT(t->resets);
            start = 0;
            sl_clog(t->src->comp, SL_LOG_WARN,
                    "%s: not resuming at saved offset %" PRIu64 ": %s: reading from offset 0",
                    f->path, id->pos, sl__tail_verdict_str(v));
        }
    }
    f->read_off = f->commit_off = start;
    f->pmark_ok = 0;
    file_head(f, size);
    file_mark_load(f);
    f->at_eof = 0;
    f->ready = 1;
    f->last_data_ms = sl_mono_ms();
    t->pos_dirty = 1;
    return 0;
}

/* Who f is now, for the position file (and for reopening it after an idle close). */
static void file_ident(struct tail_file *f, struct sl_tail_ident *id)
{
    if (f->fd < 0) {
        *id = f->closed_id;
        return;
    }
    memset(id, 0, sizeof(*id));
    id->dev = f->dev;
    id->ino = f->ino;
    id->pos = f->commit_off;
    if (f->head_len < SL_TAIL_HEAD_MAX) {
        struct stat st;
        if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size > f->head_len) {
            file_head(f, (uint64_t)st.st_size);
        }
    }
    id->head = f->head;
    id->head_len = f->head_len;
    if (!f->pmark_ok || f->pmark_off != f->commit_off) {
        uint32_t len = (uint32_t)SL_MIN(f->commit_off, (uint64_t)SL_TAIL_MARK_MAX);
        f->pmark_ok = 1;
        f->pmark_off = f->commit_off;
        f->pmark_len = len;
        if (len && sl__tail_fp_read(f->fd, f->commit_off - len, len, &f->pmark) != 0) {
            f->pmark_len = 0; /* shrank meanwhile: a reset follows */
        }
    }
    id->mark = f->pmark;
    id->mark_len = f->pmark_len;
}

static void file_close(struct tail_ctx *t, struct tail_file *f)
{
    if (f->fd >= 0) {
        file_ident(f, &f->closed_id);
        close(f->fd);
        f->fd = -1;
        CNT_SUB(t->open_files, 1);
    }
    /* A partial last line is read again when the file is reopened. */
    f->plen = 0;
    f->discarding = 0;
    f->split = 0;
    f->read_off = f->commit_off;
    f->ready = 0;
}

void sl__tail_file_free(struct tail_ctx *t, struct tail_file *f)
{
    for (size_t i = f->ph; i < f->pn; i++) {
        sl_event_destroy(f->pend[i]);
    }
    if (f->pn > f->ph) {
        /* Never committed, not covered by the position file: read again next time. */
        CNT_SUB(t->src->pending, f->pn - f->ph);
        CNT_SUB(t->src->received, f->pn - f->ph);
    }
    if (f->fd >= 0) {
        close(f->fd);
        CNT_SUB(t->open_files, 1);
    }
    sl__tail_ml_fini(&f->ml);
    free(f->pend);
    free(f->pend_end);
    free(f->part);
    free(f->path);
    free(f);
}

void sl__tail_file_forget(struct tail_ctx *t, size_t i)
{
    struct tail_file *f = t->files[i];
    sl_clog(t->src->comp, SL_LOG_INFO,
            "%s: done (rotated away or deleted, read to offset %" PRIu64 ")", f->path,
            f->commit_off);
    sl__tail_file_free(t, f);
    t->files[i] = t->files[--t->nfiles];
    CNT_SUB(t->tracked, 1);
    t->pos_dirty = 1;
}

/* One read of f. Returns 1 when f may hold more data right now. */
static int file_read(struct tail_ctx *t, struct tail_file *f)
{
    if (f->fd < 0) {
        return 0;
    }
    if (f->at_eof) {
        /* Resuming after the end: was the file truncated (and maybe regrown) meanwhile? */
        struct stat st;
        if (fstat(f->fd, &st) == 0) {
            uint64_t size = (uint64_t)st.st_size;
            if (size < f->read_off) {
                file_reset(t, f, SL_TAIL_SHRUNK);
            } else if (size == f->read_off) {
                return 0;
            } else {
                /* Grown: still the bytes we read? (Both checks: lines of a fixed format can
                 * end in the same bytes, while the first bytes carry a timestamp.) */
                unsigned char now[SL_TAIL_MARK_MAX];
                uint64_t h;
                ssize_t r = f->mark_len
                                ? pread(f->fd, now, f->mark_len, (off_t)(f->read_off - f->mark_len))
                                : 0;
                if (r != (ssize_t)f->mark_len || memcmp(now, f->mark, f->mark_len) != 0) {
                    file_reset(t, f, SL_TAIL_MARK_CHANGED);
                } else if (f->head_len &&
                           (sl__tail_fp_read(f->fd, 0, f->head_len, &h) != 0 || h != f->head)) {
                    file_reset(t, f, SL_TAIL_HEAD_CHANGED);
                }
            }
        }
        f->at_eof = 0;
    }
    ssize_t r = pread(f->fd, t->rbuf, (size_t)t->read_bytes, (off_t)f->read_off);
    if (r < 0) {
        if (errno == EINTR) {
            return 1;
        }
        if (sl_every_ms(&t->last_err_log_ms, SL_TAIL_LOG_EVERY_MS)) {
            sl_clog(t->src->comp, SL_LOG_ERROR, "%s: read: %s", f->path, strerror(errno));
        }
        f->at_eof = 1;
        return 0;
    }
    if (r == 0) {
        f->at_eof = 1;
        return 0;
    }
    size_t n = (size_t)r;
    CNT_ADD(t->src->bytes_received, n);
    /* One allocation for the events of this read; it lives on in them. */
    t->slab = sl_event_slab_create(n + n / 2 + 4096);
    parse(t, f, t->rbuf, n, f->read_off);
    sl_event_slab_release(t->slab);
    t->slab = NULL;
    f->read_off += n;
    file_mark_update(f, t->rbuf, n);
    f->last_data_ms = sl_mono_ms();
    counts_flush(t);
    if (n < (size_t)t->read_bytes) {
        f->at_eof = 1; /* most likely the end; the next notification resumes */
        return 0;
    }
    return 1;
}

/* ---- the work loop ------------------------------------------------------------------ */

static void on_work(uv_idle_t *h)
{
    struct tail_ctx *t = h->data;
    if (t->stopping) {
        uv_idle_stop(h);
        return;
    }
    if (t->scan_wanted) {
        sl__tail_scan(t, 0);
    }
    if (t->paused) {
        uv_idle_stop(h);
        return;
    }
    int busy = 0;
    size_t n = t->nfiles;
    for (size_t k = 0; k < n; k++) {
        struct tail_file *f = t->files[(t->rr + k) % n];
        if (!f->ready) {
            continue;
        }
        int more = file_read(t, f);
        f->ready = more;
        if (file_flush(t, f) == SL_ERETRY) {
            pause_reading(t);
            return;
        }
        busy |= more;
    }
    t->rr++;
    if (!busy && !t->scan_wanted) {
        uv_idle_stop(h);
    }
}

static void reap(struct tail_ctx *t, int64_t now)
{
    for (size_t i = t->nfiles; i-- > 0;) {
        struct tail_file *f = t->files[i];
        int quiet = f->at_eof && f->ph == f->pn && !f->ready;
        if (f->gone && quiet && now - SL_MAX(f->gone_ms, f->last_data_ms) >= t->rotate_wait_ms) {
            if (f->plen && !f->discarding) {
                part_out(t, f, f->read_off); /* its writer is done with it: a last line */
            }
            ml_flush(t, f);
            counts_flush(t);
            if (f->pn > f->ph) {
                f->ready = 1; /* commit those first, forget it next time */
                continue;
            }
            sl__tail_file_forget(t, i);
        } else if (!f->gone && f->fd >= 0 && quiet && !f->ml.open &&
                   now - f->last_data_ms >= t->idle_ms) {
            sl_clog(t->src->comp, SL_LOG_INFO,
                    "%s: idle for %lld ms: closed (reopened when it "
                    "grows)",
                    f->path, (long long)t->idle_ms);
            file_close(t, f);
        }
    }
}

static void on_poll(uv_timer_t *h)
{
    struct tail_ctx *t = h->data;
    t->scan_wanted = 1;
    reap(t, sl_mono_ms());
    for (size_t i = 0; i < t->nfiles; i++) {
        if (t->files[i]->fd >= 0) {
            t->files[i]->ready = 1; /* a read at the end costs one fstat */
        }
    }
    sl__tail_wake(t);
}

static void on_ml_timer(uv_timer_t *h)
{
    struct tail_ctx *t = h->data;
    int64_t now = sl_mono_ms();
    for (size_t i = 0; i < t->nfiles; i++) {
        struct tail_file *f = t->files[i];
        if (f->ml.open && f->at_eof && f->plen == 0 && now - f->ml.last_ms >= t->ml_flush_ms) {
            ml_flush(t, f);
            f->ready = 1;
        }
    }
    counts_flush(t);
    sl__tail_wake(t);
}

/* ---- position file ------------------------------------------------------------------ */

static char *pos_text(struct tail_ctx *t)
{
    struct sl_tail_pos *v = calloc(t->nfiles ? t->nfiles : 1, sizeof(*v));
    if (!v) {
        return NULL;
    }
    for (size_t i = 0; i < t->nfiles; i++) {
        struct tail_file *f = t->files[i];
        v[i].file = f->path;
        v[i].has_dev = 1;
        file_ident(f, &v[i].id);
    }
    char *text = sl__tail_pos_encode(v, t->nfiles);
    free(v); /* the paths are borrowed */
    return text;
}

static void pos_work_cb(uv_work_t *req)
{
    struct tail_ctx *t = req->data;
    sl_err_clear(&t->pos_err);
    t->pos_rc = sl__tail_pos_write(t->pos_path, t->pos_text, strlen(t->pos_text), &t->pos_err);
}

static void pos_save_final(struct tail_ctx *t);

static void pos_after_cb(uv_work_t *req, int status)
{
    struct tail_ctx *t = req->data;
    free(t->pos_text);
    t->pos_text = NULL;
    t->pos_busy = 0;
    if (t->pos_rc != 0 || status != 0) {
        t->pos_dirty = 1;
        if (sl_every_ms(&t->last_pos_err_ms, SL_TAIL_LOG_EVERY_MS)) {
            sl_clog(t->src->comp, SL_LOG_ERROR, "%s (retrying)", t->pos_err.msg);
        }
    }
    if (t->stopping) {
        pos_save_final(t);
    }
    sl__tail_handle_done(t);
}

static void on_pos_timer(uv_timer_t *h)
{
    struct tail_ctx *t = h->data;
    if (!t->pos_dirty || t->pos_busy || t->stopping) {
        return;
    }
    t->pos_text = pos_text(t);
    if (!t->pos_text) {
        return;
    }
    t->pos_dirty = 0;
    t->pos_busy = 1;
    t->pos_work.data = t;
    t->handles++;
    if (uv_queue_work(t->loop, &t->pos_work, pos_work_cb, pos_after_cb) != 0) {
        free(t->pos_text);
        t->pos_text = NULL;
        t->pos_busy = 0;
        t->pos_dirty = 1;
        t->handles--;
    }
}

/* At stop, on the loop thread: the last positions, then every file closed. */
static void pos_save_final(struct tail_ctx *t)
{
    for (size_t i = 0; i < t->nfiles; i++) {
        struct tail_file *f = t->files[i];
        for (size_t j = f->ph; j < f->pn; j++) {
            sl_event_destroy(f->pend[j]);
        }
        if (f->pn > f->ph) {
            CNT_SUB(t->src->pending, f->pn - f->ph);
            CNT_SUB(t->src->received, f->pn - f->ph); /* read again at the next start */
        }
        f->ph = f->pn = 0;
    }
    char *text = pos_text(t);
    struct sl_err err;
    sl_err_clear(&err);
    if (!text) {
        sl_clog(t->src->comp, SL_LOG_ERROR, "position file %s: out of memory: not written",
                t->pos_path);
    } else if (sl__tail_pos_write(t->pos_path, text, strlen(text), &err) != 0) {
        sl_clog(t->src->comp, SL_LOG_ERROR, "%s", err.msg);
    }
    free(text);
    for (size_t i = 0; i < t->nfiles; i++) {
        sl__tail_file_free(t, t->files[i]);
    }
    CNT_SUB(t->tracked, t->nfiles);
    t->nfiles = 0;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static int split_pattern(struct tail_ctx *t, struct tail_group *g, struct sl_err *err)
{
    const char *p = g->pattern;
    if (p[0] != '/') {
        return sl_err_set(err, SL_ECONFIG, "filegroups.%s: '%s' must be an absolute path", g->name,
                          p);
    }
    const char *slash = strrchr(p, '/');
    if (!slash[1]) {
        return sl_err_set(err, SL_ECONFIG,
                          "filegroups.%s: '%s' names a directory, not files "
                          "(add a file pattern, e.g. %s*.log)",
                          g->name, p, p);
    }
    g->dir = slash == p ? strdup("/") : strndup(p, (size_t)(slash - p));
    g->name_pat = strdup(slash + 1);
    if (!g->dir || !g->name_pat) {
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    if (t->regex_names) {
        int ecode;
        PCRE2_SIZE eoff;
        g->re = pcre2_compile((PCRE2_SPTR)g->name_pat, PCRE2_ZERO_TERMINATED,
                              PCRE2_ANCHORED | PCRE2_ENDANCHORED, &ecode, &eoff, NULL);
        if (!g->re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(ecode, msg, sizeof(msg));
            return sl_err_set(err, SL_ECONFIG,
                              "filegroups.%s: bad regular expression '%s' at offset %zu: %s",
                              g->name, g->name_pat, (size_t)eoff, (const char *)msg);
        }
        (void)pcre2_jit_compile(g->re, PCRE2_JIT_COMPLETE);
    } else {
        g->dir_glob = strpbrk(g->dir, "*?[") != NULL;
    }
    return 0;
}

static void tail_fini(struct sl_source *s);

static int tail_init_groups(struct sl_source *s, struct sl_err *err)
{
    struct tail_ctx *t = s->ctx;
    t->src = s;
    t->truncate = strcmp(t->line_overflow, "truncate") == 0;
    t->regex_names = strcmp(t->pattern_syntax, "regex") == 0;
    if (t->groups_kv.n == 0) {
        return sl_err_set(err, SL_ECONFIG,
                          "filegroups: name at least one group of files, e.g. "
                          "filegroups: {f1: /var/log/app/*.log}");
    }
    t->groups = calloc(t->groups_kv.n, sizeof(*t->groups));
    if (!t->groups) {
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    t->md = pcre2_match_data_create(4, NULL);
    if (!t->md) {
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < t->groups_kv.n; i++) {
        struct tail_group *g = &t->groups[t->ngroups++];
        g->name = t->groups_kv.keys[i];
        g->pattern = t->groups_kv.values[i];
        if (strchr(g->name, '.')) {
            return sl_err_set(err, SL_ECONFIG, "filegroups.%s: a group name has no dots", g->name);
        }
        int rc = split_pattern(t, g, err);
        if (rc != 0) {
            return rc;
        }
    }
    for (size_t k = 0; k < t->headers_kv.n; k++) {
        const char *key = t->headers_kv.keys[k];
        const char *dot = strchr(key, '.');
        struct tail_group *g = NULL;
        for (size_t i = 0; dot && dot[1] && i < t->ngroups; i++) {
            if (strlen(t->groups[i].name) == (size_t)(dot - key) &&
                strncmp(t->groups[i].name, key, (size_t)(dot - key)) == 0) {
                g = &t->groups[i];
            }
        }
        if (!g) {
            return sl_err_set(err, SL_ECONFIG,
                              "headers.%s: expected headers.<group>.<header> "
                              "with a group named in filegroups",
                              key);
        }
        size_t *h = realloc(g->hdr, (g->nhdr + 1) * sizeof(*h));
        if (!h) {
            return sl_err_set(err, -ENOMEM, "out of memory");
        }
        g->hdr = h;
        g->hdr[g->nhdr++] = k;
    }
    if (t->ml_pattern) {
        t->mlc.re = sl__tail_ml_compile(t->ml_pattern, "multiline.pattern", err);
        if (!t->mlc.re) {
            return SL_ECONFIG;
        }
        t->mlc.match_continue = strcmp(t->ml_match, "continue") == 0;
        t->mlc.max_bytes = (size_t)t->ml_max_bytes;
    }
    return 0;
}

static int tail_init(struct sl_source *s, struct sl_err *err)
{
    int rc = tail_init_groups(s, err);
    if (rc != 0) {
        tail_fini(s); /* the runtime calls fini only after a successful init */
    }
    return rc;
}

static int check_dirs(struct tail_ctx *t, struct sl_err *err)
{
    for (size_t i = 0; i < t->ngroups; i++) {
        struct tail_group *g = &t->groups[i];
        struct stat st;
        if (g->dir_glob) {
            continue; /* directories appear and go: found by each scan */
        }
        if (stat(g->dir, &st) != 0) {
            return sl_err_set(err, -errno, "filegroups.%s: directory %s: %s", g->name, g->dir,
                              strerror(errno));
        }
        if (!S_ISDIR(st.st_mode)) {
            return sl_err_set(err, -ENOTDIR, "filegroups.%s: %s is not a directory", g->name,
                              g->dir);
        }
    }
    char dir[PATH_MAX];
    sl__tail_dir_of(t->pos_path, dir, sizeof(dir));
    if (access(dir, W_OK | X_OK) != 0) {
        return sl_err_set(err, -errno, "positionFile %s: directory %s: %s", t->pos_path, dir,
                          strerror(errno));
    }
    return 0;
}

static int tail_start(struct sl_source *s, uv_loop_t *loop, struct sl_err *err)
{
    struct tail_ctx *t = s->ctx;
    t->loop = loop;
    int rc = check_dirs(t, err);
    if (rc == 0) {
        rc = sl__tail_pos_load(t->pos_path, &t->saved, &t->nsaved, err);
        if (rc == SL_ECORRUPT) {
            size_t l = strlen(err->msg);
            snprintf(err->msg + l, sizeof(err->msg) - l,
                     " (fix or delete it; without it every file is read from its start%s)",
                     t->skip_to_end ? ", or its end with skipToEnd" : "");
        }
    }
    if (rc == 0) {
        t->rbuf = malloc((size_t)t->read_bytes);
        rc = t->rbuf ? 0 : sl_err_set(err, -ENOMEM, "out of memory");
    }
    if (rc != 0) {
        return rc;
    }
    uv_idle_init(loop, &t->work);
    uv_timer_init(loop, &t->poll);
    uv_timer_init(loop, &t->pos_timer);
    uv_timer_init(loop, &t->retry);
    uv_timer_init(loop, &t->ml_timer);
    t->work.data = t->poll.data = t->pos_timer.data = t->retry.data = t->ml_timer.data = t;
    t->handles = 5;
    sl__tail_scan(t, 1);
    for (size_t i = 0; i < t->nsaved; i++) {
        if (!sl__tail_find_file(t, t->saved[i].id.dev, t->saved[i].id.ino) ||
            strcmp(t->saved[i].file, "") == 0) {
            sl_clog(s->comp, SL_LOG_INFO,
                    "%s (saved at offset %" PRIu64 ") is no longer "
                    "matched: its position is dropped",
                    t->saved[i].file, t->saved[i].id.pos);
        }
    }
    sl__tail_pos_free(t->saved, t->nsaved);
    t->saved = NULL;
    t->nsaved = 0;
    t->pos_dirty = 1;
    uv_timer_start(&t->poll, on_poll, (uint64_t)t->poll_ms, (uint64_t)t->poll_ms);
    uv_timer_start(&t->pos_timer, on_pos_timer, (uint64_t)t->write_pos_ms,
                   (uint64_t)t->write_pos_ms);
    if (t->mlc.re) {
        uint64_t every = (uint64_t)SL_MAX(10, SL_MIN(500, t->ml_flush_ms / 4));
        uv_timer_start(&t->ml_timer, on_ml_timer, every, every);
    }
    sl__tail_wake(t);
    sl_clog(s->comp, SL_LOG_INFO, "tailing %zu files in %zu groups (position file %s)", t->nfiles,
            t->ngroups, t->pos_path);
    return 0;
}

static void tail_stop(struct sl_source *s, sl_done_cb done)
{
    struct tail_ctx *t = s->ctx;
    t->stopping = 1;
    t->done = done;
    uv_idle_stop(&t->work);
    uv_close((uv_handle_t *)&t->work, handle_closed);
    uv_close((uv_handle_t *)&t->poll, handle_closed);
    uv_close((uv_handle_t *)&t->pos_timer, handle_closed);
    uv_close((uv_handle_t *)&t->retry, handle_closed);
    uv_close((uv_handle_t *)&t->ml_timer, handle_closed);
    sl__tail_watches_close(t);
    if (!t->pos_busy) {
        pos_save_final(t); /* else when the write in flight is done (pos_after_cb) */
    }
}

static void tail_fini(struct sl_source *s)
{
    struct tail_ctx *t = s->ctx;
    for (size_t i = 0; i < t->nfiles; i++) {
        sl__tail_file_free(t, t->files[i]);
    }
    free(t->files);
    for (size_t i = 0; t->groups && i < t->ngroups; i++) {
        free(t->groups[i].dir);
        free(t->groups[i].name_pat);
        free(t->groups[i].hdr);
        pcre2_code_free(t->groups[i].re);
    }
    free(t->groups);
    pcre2_code_free(t->mlc.re);
    pcre2_match_data_free(t->md);
    sl__tail_pos_free(t->saved, t->nsaved);
    free(t->rbuf);
    free(t->pos_text);
    t->files = NULL;
    t->nfiles = 0;
    t->groups = NULL;
    t->ngroups = 0;
    t->mlc.re = NULL;
    t->md = NULL;
    t->saved = NULL;
    t->nsaved = 0;
    t->rbuf = NULL;
    t->pos_text = NULL;
}

void sl_tail_source_stats(const struct sl_source *s, struct sl_tail_stats *st)
{
    const struct tail_ctx *t = s->ctx;
    st->resets = __atomic_load_n(&t->resets, __ATOMIC_RELAXED);
    st->open_files = __atomic_load_n(&t->open_files, __ATOMIC_RELAXED);
    st->tracked = __atomic_load_n(&t->tracked, __ATOMIC_RELAXED);
}

const struct sl_source_ops sl_tail_source_ops = {
    .name = "tail",
    .conf = tail_conf,
    .ctx_size = sizeof(struct tail_ctx),
    .init = tail_init,
    .start = tail_start,
    .stop = tail_stop,
    .fini = tail_fini,
    .room = tail_room,
};
