/*
 * tail_int.h - the tail source's parts shared between its files: file fingerprints
 * (tail_fp.c), the position file (tail_pos.c) and the multiline assembler (tail_ml.c), none
 * of which touches the event loop or the pipeline, so each is tested on its own; then the
 * source's state and the functions tail.c and tail_scan.c share.
 *
 * Threads: the fingerprint, position-file and multiline structs belong to their caller and
 * those functions keep no state; the position file writer (sl__tail_pos_write) may run on a
 * thread-pool thread and touches only its arguments. The source's state (struct tail_ctx and
 * what hangs off it) belongs to the source loop thread, except its stats counters (relaxed
 * atomics, read by the metrics thread).
 */
#ifndef SL_SOURCES_TAIL_INT_H
#define SL_SOURCES_TAIL_INT_H

#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <uv.h>

#include "agent/plugin.h"
#include "common/sl_err.h"

/* ---- fingerprints (tail_fp.c) ------------------------------------------------------ */

/* Bytes hashed at the start of a file, and just before a saved offset. */
#define SL_TAIL_HEAD_MAX 256
#define SL_TAIL_MARK_MAX 256

/* 64-bit FNV-1a of p[0..n). Stable across versions: it is stored in position files. */
uint64_t sl__tail_hash(const void *p, size_t n);

/*
 * Hash len bytes of fd at off (pread, may block briefly: regular files only). Returns 0,
 * SL_ETRUNCATED when the file holds fewer than len bytes there, or -errno.
 */
int sl__tail_fp_read(int fd, uint64_t off, size_t len, uint64_t *hash);

/* What a position record says about a file, to recognise it again. */
struct sl_tail_ident {
    uint64_t dev, ino;
    uint64_t pos;      /* committed offset */
    uint64_t head;     /* hash of the first head_len bytes */
    uint32_t head_len; /* 0 = unknown (e.g. a Flume position file) */
    uint64_t mark;     /* hash of the mark_len bytes just before pos */
    uint32_t mark_len; /* 0 = unknown */
};

enum sl_tail_verdict {
    SL_TAIL_SAME = 0,         /* resume at pos */
    SL_TAIL_SHRUNK = 1,       /* the file is shorter than pos (copytruncate) */
    SL_TAIL_HEAD_CHANGED = 2, /* other bytes at the start: another file on a reused inode */
    SL_TAIL_MARK_CHANGED = 3, /* other bytes before pos: truncated, then regrown past pos */
    SL_TAIL_IO_ERROR = 4,
};

/* Compare id (dev and inode already matched) with the file open at fd, of size bytes. */
enum sl_tail_verdict sl__tail_fp_check(int fd, uint64_t size, const struct sl_tail_ident *id);

/* "shrank below the saved offset", ...: for log lines. */
const char *sl__tail_verdict_str(enum sl_tail_verdict v);

/* ---- position file (tail_pos.c) ---------------------------------------------------- */

struct sl_tail_pos {
    char *file; /* owned; the path when it was written */
    struct sl_tail_ident id;
    int has_dev; /* Flume's files carry no device */
};

/*
 * Read the position file at path. A missing file is an empty list (0). Anything else that
 * is not a JSON array of records with inode and pos is SL_ECORRUPT with the reason (and the
 * JSON line:column) in err; an unreadable file is -errno. The caller frees *out with
 * sl__tail_pos_free.
 */
int sl__tail_pos_load(const char *path, struct sl_tail_pos **out, size_t *n, struct sl_err *err);

/* Parse position-file text (as sl__tail_pos_load, without the file). */
int sl__tail_pos_parse(const char *text, size_t len, const char *what, struct sl_tail_pos **out,
                       size_t *n, struct sl_err *err);

/* The JSON text of records v[0..n) (Flume's keys inode, pos, file, plus ours). NULL = OOM. */
char *sl__tail_pos_encode(const struct sl_tail_pos *v, size_t n);

/*
 * Replace path's content with text and a newline, atomically (sl_io_write_file_atomic:
 * path.tmp written and fsynced, renamed over path, the directory fsynced). Blocks (call it
 * off the loop). 0 or -errno with err set.
 */
int sl__tail_pos_write(const char *path, const char *text, size_t len, struct sl_err *err);

void sl__tail_pos_free(struct sl_tail_pos *v, size_t n);

/* path's directory into dir ("." when path names none); returns path's last component. */
const char *sl__tail_dir_of(const char *path, char *dir, size_t size);

/* ---- multiline (tail_ml.c) --------------------------------------------------------- */

struct sl_tail_ml_conf {
    pcre2_code *re;
    int match_continue; /* 0: re marks a first line; 1: re marks a continuation line */
    size_t max_bytes;   /* an event is cut (the rest of its lines dropped) beyond this */
};

/* A finished multiline event: body[0..len), from start_off to end_off in its file. */
typedef void (*sl_tail_ml_emit_cb)(void *arg, const char *body, size_t len, uint64_t start_off,
                                   uint64_t end_off, int cut);

/* One file's event being assembled. */
struct sl_tail_ml {
    char *buf;
    size_t len, cap;
    size_t lines; /* lines in the event so far */
    uint64_t start_off, end_off;
    int64_t last_ms; /* when the last line was added */
    int cut;         /* lines were dropped: max_bytes was reached */
    int open;        /* an event is being assembled (even an empty first line) */
};

/*
 * Compile pattern for multiline use (JIT when available). Returns NULL with the PCRE2
 * message and the pattern offset in err.
 */
pcre2_code *sl__tail_ml_compile(const char *pattern, const char *key, struct sl_err *err);

/*
 * Add one line (without its line ending) that spans [start_off, end_off) of its file.
 * Emits the previous event through emit when line starts a new one. md is match data for
 * conf->re (the caller's, reused). Returns 0 or -ENOMEM (the line is lost; counted by the
 * caller).
 */
int sl__tail_ml_line(const struct sl_tail_ml_conf *conf, struct sl_tail_ml *ml,
                     pcre2_match_data *md, const char *line, size_t len, uint64_t start_off,
                     uint64_t end_off, int64_t now_ms, sl_tail_ml_emit_cb emit, void *arg);

/* Emit what is assembled, if anything. */
void sl__tail_ml_flush(struct sl_tail_ml *ml, sl_tail_ml_emit_cb emit, void *arg);

void sl__tail_ml_fini(struct sl_tail_ml *ml);

/* ---- the source's state (tail.c, tail_scan.c) ------------------------------------- */

struct tail_ctx;

struct tail_group {
    const char *name;    /* borrowed from the config */
    const char *pattern; /* the configured value */
    char *dir;           /* directory part (may hold wildcards when dir_glob) */
    char *name_pat;      /* file-name part */
    int dir_glob;
    pcre2_code *re; /* patternSyntax: regex */
    size_t *hdr;    /* indexes into the headers config */
    size_t nhdr;
};

struct tail_file {
    struct tail_group *g;
    char *path;
    uint64_t dev, ino;
    int fd;              /* -1: closed (idle) */
    uint64_t read_off;   /* next byte to read */
    uint64_t commit_off; /* every line before it is committed */
    uint64_t head;       /* hash of the first head_len bytes */
    uint32_t head_len;
    unsigned char mark[SL_TAIL_MARK_MAX]; /* the bytes just before read_off */
    uint32_t mark_len;
    struct sl_tail_ident closed_id; /* who the file was when its fd was closed */
    uint64_t pmark, pmark_off;      /* position-file mark cache: hash of bytes before pmark_off */
    uint32_t pmark_len;
    int pmark_ok;
    /* the line being read */
    char *part;
    size_t plen, pcap;
    uint64_t part_start;
    int discarding; /* truncate mode: skipping the rest of a too-long line */
    int split;      /* this line was already split (counted once) */
    struct sl_tail_ml ml;
    /* read, not yet committed to every channel */
    struct sl_event **pend;
    uint64_t *pend_end; /* file offset just after each event's last line */
    size_t ph, pn, pcap_ev;
    struct sl_put_state put; /* the chunk in flight and how a refused one resumes */
    int ready;  /* may have data to read */
    int at_eof; /* the last read ended at the end of the file */
    int gone;   /* no pattern matches it any more (rotated away or deleted) */
    unsigned seen;
    int64_t last_data_ms, gone_ms;
};

struct tail_watch {
    uv_fs_event_t h;
    struct tail_ctx *t;
    char *dir;
    struct tail_watch *next;
};

struct tail_ctx {
    /* config */
    struct sl_conf_kv groups_kv;
    struct sl_conf_kv headers_kv;
    char *pos_path;
    int64_t batch_size;
    int64_t write_pos_ms;
    int skip_to_end;
    int64_t idle_ms;
    int file_header;
    char *file_header_key;
    int byte_offset_header;
    int64_t max_line;
    char *line_overflow;
    char *ml_pattern;
    char *ml_match;
    int64_t ml_flush_ms;
    int64_t ml_max_bytes;
    int64_t poll_ms;
    int use_inotify;
    int64_t rotate_wait_ms;
    int64_t read_bytes;
    char *pattern_syntax;
    /* derived */
    struct tail_group *groups;
    size_t ngroups;
    int truncate;
    int regex_names;
    struct sl_tail_ml_conf mlc;
    pcre2_match_data *md;
    /* state */
    struct sl_source *src;
    uv_loop_t *loop;
    uv_idle_t work;
    uv_timer_t poll, pos_timer, retry, ml_timer;
    struct tail_watch *watches;
    struct tail_file **files;
    size_t nfiles, files_cap;
    size_t rr;
    unsigned gen;
    int scan_wanted;
    int paused, stopping;
    int pos_dirty;
    size_t handles;
    sl_done_cb done;
    char *rbuf;
    struct sl_event_slab *slab; /* during one read's parse */
    size_t slab_rest;
    uint64_t emitted;
    struct sl_tail_pos *saved; /* from the position file, until the first scan */
    size_t nsaved;
    uv_work_t pos_work;
    int pos_busy;
    char *pos_text;
    int pos_rc;
    struct sl_err pos_err;
    int64_t last_pause_log_ms, last_err_log_ms, last_pos_err_ms;
    /* stats (relaxed atomics; read by the metrics thread) */
    uint64_t resets, open_files, tracked;
};

#define CNT(p)        __atomic_add_fetch(&(p), 1, __ATOMIC_RELAXED)
#define CNT_ADD(p, v) __atomic_add_fetch(&(p), (v), __ATOMIC_RELAXED)
#define CNT_SUB(p, v) __atomic_sub_fetch(&(p), (v), __ATOMIC_RELAXED)

/* tail.c */
/* Repeated errors and pauses: one log line per 10 s (sl_every_ms). */
#define SL_TAIL_LOG_EVERY_MS 10000
void sl__tail_handle_done(struct tail_ctx *t);
void sl__tail_wake(struct tail_ctx *t); /* keep the work loop turning */
/* Open f->path, resume at id->pos if id still describes it (else 0, counted), or at the end
 * with skip. Returns 0 or -errno (f stays closed). */
int sl__tail_file_open(struct tail_ctx *t, struct tail_file *f, const struct sl_tail_ident *id,
                       int skip);
void sl__tail_file_free(struct tail_ctx *t, struct tail_file *f);
void sl__tail_file_forget(struct tail_ctx *t, size_t i); /* remove t->files[i] */

/* tail_scan.c */
/* Expand every group's pattern; new files are opened (initial: at start, with the saved
 * positions and skipToEnd), renamed ones keep their state, missing ones are marked gone. */
void sl__tail_scan(struct tail_ctx *t, int initial);
struct tail_file *sl__tail_find_file(struct tail_ctx *t, uint64_t dev, uint64_t ino);
void sl__tail_watches_close(struct tail_ctx *t);

#endif
