/*
 * dump_log.c - `sluice dump-log`: print and check segment files (.log, .index, .timeindex)
 * line for line as Kafka's kafka-dump-log.sh (kafka.tools.DumpLogSegments) prints them, so
 * whatever reads Kafka's output reads ours. Unlike Kafka it also says where and why a log
 * stops being valid, and exits 1 when any file has a problem (0 when all are sound, 2 on a
 * usage error).
 *
 * Files are read in windows with pread, never whole: only one batch at a time must fit in
 * memory. Runs on the main thread; all state lives in one call of sl_tool_dump_log_main.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sl_err.h"
#include "common/sl_macros.h"
#include "store/batch.h"
#include "store/compress.h"
#include "store/crc32c.h"
#include "tools/tools.h"

#define DL_CHUNK               (1 << 20)  /* bytes read at a time when batches are small */
#define DL_DECOMPRESS_MIN      (64 << 20) /* records of one batch may inflate to this much */
#define DL_INDEX_ENTRY         8
#define DL_TIMEINDEX_ENTRY     12
#define DL_MAX_MESSAGE_DEFAULT (5 << 20) /* Kafka's default for --max-message-size */

#define DL_ATTR_DELETE_HORIZON 0x40 /* baseTimestamp holds the delete horizon (KIP-534) */

struct dl_opts {
    char **files; /* owned array; the names point into argv (see dl_add_files) */
    size_t nfiles;
    int print_data;
    int deep;
    int verify_only;
    int sanity_only;
    int skip_meta;
    int64_t max_message_size;
    int64_t max_bytes; /* -1: the whole file */
};

/* ---- windowed reading ---- */

/* An open file and a window [win_pos, win_pos + win_len) of it held in buf. */
struct dl_file {
    const char *path;
    int fd;
    int64_t size;
    uint8_t *buf;
    size_t cap;
    int64_t win_pos;
    size_t win_len;
};

static int dl_file_open(struct dl_file *f, const char *path)
{
    struct stat st;
    memset(f, 0, sizeof(*f));
    f->path = path;
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        return -errno;
    }
    if (fstat(f->fd, &st) != 0) {
        int rc = -errno;
        close(f->fd);
        f->fd = -1;
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(f->fd);
        f->fd = -1;
        return -EISDIR;
    }
    f->size = st.st_size;
    return 0;
}

static void dl_file_close(struct dl_file *f)
{
    if (f->fd >= 0) {
        close(f->fd);
    }
    free(f->buf);
    memset(f, 0, sizeof(*f));
    f->fd = -1;
}

/*
 * Point *out at n bytes of the file at pos, valid until the next call. Reads a chunk ahead so
 * that walking small batches costs one pread per megabyte. Returns 0, SL_ETRUNCATED (the file
 * ends first, also when it shrank under us), -ENOMEM or -errno.
 */
static int dl_file_view(struct dl_file *f, int64_t pos, size_t n, const uint8_t **out)
{
    if (pos < 0 || pos > f->size || (uint64_t)(f->size - pos) < n) {
        return SL_ETRUNCATED;
    }
    if (pos >= f->win_pos && (uint64_t)(pos - f->win_pos) + n <= f->win_len) {
        *out = f->buf + (pos - f->win_pos);
        return 0;
    }
    size_t want = n;
    if (want < DL_CHUNK) {
        want = (size_t)SL_MIN((int64_t)DL_CHUNK, f->size - pos);
    }
    if (want > f->cap) {
        /* No realloc: the old window's bytes are not needed, so never hold both. */
        free(f->buf);
        f->win_len = 0;
        f->buf = malloc(want);
        f->cap = f->buf ? want : 0;
        if (!f->buf) {
            return -ENOMEM;
        }
    }
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(f->fd, f->buf + got, want - got, (off_t)(pos + (int64_t)got));
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            f->win_len = 0;
            return -errno;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    f->win_pos = pos;
    f->win_len = got;
    if (got < n) {
        return SL_ETRUNCATED;
    }
    *out = f->buf;
    return 0;
}

/* ---- walking batch headers ---- */

enum dl_step {
    DL_BATCH,    /* a whole batch whose header parses starts here */
    DL_END,      /* exactly at the end */
    DL_TRAILING, /* bytes that cannot hold the batch they start */
    DL_INVALID,  /* bytes that are not a batch header */
    DL_IOERR,    /* reading failed */
};

/*
 * Decode the header of the batch at pos, without reading its records. A batch that would run
 * past end is DL_TRAILING (an interrupted append), one whose header is wrong is DL_INVALID;
 * why says what was found in both cases and for DL_IOERR.
 */
static enum dl_step dl_next_header(struct dl_file *f, int64_t pos, int64_t end,
                                   struct sl_batch_hdr *h, struct sl_err *why)
{
    int64_t rem = end - pos;
    const uint8_t *p;
    sl_err_clear(why);
    if (rem <= 0) {
        return DL_END;
    }
    if (rem < SL_BATCH_LOG_OVERHEAD) {
        sl_err_set(why, SL_ETRUNCATED, "%" PRId64 " bytes cannot hold a batch length", rem);
        return DL_TRAILING;
    }
    size_t n = (size_t)SL_MIN(rem, (int64_t)SL_BATCH_HEADER_SIZE);
    int rc = dl_file_view(f, pos, n, &p);
    if (rc != 0) {
        sl_err_set(why, rc, "read at position %" PRId64 " failed: %s", pos, sl_strerror(rc));
        return DL_IOERR;
    }
    int32_t len = (int32_t)sl_load_be32(p + SL_BATCH_OFF_LENGTH);
    if (n == SL_BATCH_HEADER_SIZE) {
        rc = sl_batch_parse_header(p, n, h, why);
        if (rc != 0) {
            if (why->msg[0] == '\0') {
                sl_err_set(why, rc, "%s", sl_strerror(rc));
            }
            return DL_INVALID;
        }
        if ((int64_t)sl_batch_hdr_size(h) > rem) {
            sl_err_set(why, SL_ETRUNCATED, "batch of %zu bytes but only %" PRId64 " remain",
                       sl_batch_hdr_size(h), rem);
            return DL_TRAILING;
        }
        return DL_BATCH;
    }
    /* Less than a header is left: a torn write if the length points past the end. */
    if (len >= SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD && len <= SL_BATCH_SIZE_MAX &&
        (int64_t)len + SL_BATCH_LOG_OVERHEAD > rem) {
        if (n > SL_BATCH_OFF_MAGIC && p[SL_BATCH_OFF_MAGIC] != SL_BATCH_MAGIC) {
            sl_err_set(why, SL_EUNSUPPORTED, "magic %d (only magic 2 is supported)",
                       (int8_t)p[SL_BATCH_OFF_MAGIC]);
            return DL_INVALID;
        }
        sl_err_set(why, SL_ETRUNCATED, "batch of %" PRId64 " bytes but only %" PRId64 " remain",
                   (int64_t)len + SL_BATCH_LOG_OVERHEAD, rem);
        return DL_TRAILING;
    }
    sl_err_set(why, SL_ECORRUPT, "batch length %" PRId32 " is out of range", len);
    return DL_INVALID;
}

/* A walk over the batch headers of a .log, used to check index entries against it. */
struct dl_cursor {
    struct dl_file *log;
    int64_t end;
    int64_t pos;
    enum dl_step state;
    struct sl_batch_hdr h;
    struct sl_err why;
};

static void dl_cursor_reset(struct dl_cursor *c)
{
    c->pos = 0;
    c->state = dl_next_header(c->log, c->pos, c->end, &c->h, &c->why);
}

static void dl_cursor_advance(struct dl_cursor *c)
{
    c->pos += (int64_t)sl_batch_hdr_size(&c->h);
    c->state = dl_next_header(c->log, c->pos, c->end, &c->h, &c->why);
}

/* ---- file names ---- */

static const char *dl_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The base offset a segment file is named after: the digits before the first dot. */
static int dl_base_offset(const char *path, int64_t *base)
{
    const char *name = dl_basename(path);
    size_t n = strcspn(name, ".");
    if (n == 0 || n > 32) {
        return SL_ECORRUPT;
    }
    char digits[33];
    memcpy(digits, name, n);
    digits[n] = '\0';
    if (strspn(digits, "0123456789") != n) {
        return SL_ECORRUPT;
    }
    errno = 0;
    long long v = strtoll(digits, NULL, 10);
    if (errno != 0) {
        return SL_ECORRUPT;
    }
    *base = v;
    return 0;
}

/* The .log beside an index file: same directory, same name up to the first dot. */
static char *dl_sibling_log(const char *path)
{
    const char *name = dl_basename(path);
    size_t dir_len = (size_t)(name - path);
    size_t stem_len = strcspn(name, ".");
    char *out = malloc(dir_len + stem_len + sizeof(".log"));
    if (out) {
        memcpy(out, path, dir_len + stem_len);
        memcpy(out + dir_len + stem_len, ".log", sizeof(".log"));
    }
    return out;
}

static const char *dl_suffix(const char *path)
{
    return strrchr(dl_basename(path), '.');
}

/* ---- printing ---- */

/*
 * Print bytes as Kafka's StringDecoder would, except that control characters are escaped as
 * \xNN so one record stays one line.
 */
static void dl_print_bytes(const uint8_t *p, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            fwrite(p + run, 1, i - run, stdout);
            printf("\\x%02x", p[i]);
            run = i + 1;
        }
    }
    fwrite(p + run, 1, n - run, stdout);
}

/* Kafka's DefaultRecordBatch.incrementSequence: sequences wrap at INT32_MAX to 0. */
static int32_t dl_seq_add(int32_t base, int32_t delta)
{
    if (base > INT32_MAX - delta) {
        return delta - (INT32_MAX - base) - 1;
    }
    return base + delta;
}

static const char *dl_ts_type(const struct sl_batch_hdr *h)
{
    return (h->attributes & SL_BATCH_ATTR_LOG_APPEND_TIME) ? "LogAppendTime" : "CreateTime";
}

static void dl_print_batch(const struct sl_batch_hdr *h, int64_t pos, int crc_ok)
{
    int32_t last_seq =
        h->base_sequence < 0 ? -1 : dl_seq_add(h->base_sequence, h->last_offset_delta);
    char horizon[48];
    if (h->attributes & DL_ATTR_DELETE_HORIZON) {
        snprintf(horizon, sizeof(horizon), "OptionalLong[%" PRId64 "]", h->base_timestamp);
    } else {
        snprintf(horizon, sizeof(horizon), "OptionalLong.empty");
    }
    printf("baseOffset: %" PRId64 " lastOffset: %" PRId64 " count: %" PRId32
           " baseSequence: %" PRId32 " lastSequence: %" PRId32 " producerId: %" PRId64
           " producerEpoch: %d partitionLeaderEpoch: %" PRId32
           " isTransactional: %s isControl: %s deleteHorizonMs: %s",
           h->base_offset, sl_batch_hdr_last_offset(h), h->record_count, h->base_sequence, last_seq,
           h->producer_id, h->producer_epoch, h->leader_epoch,
           (h->attributes & SL_BATCH_ATTR_TRANSACTIONAL) ? "true" : "false",
           (h->attributes & SL_BATCH_ATTR_CONTROL) ? "true" : "false", horizon);
    printf(" position: %" PRId64 " %s: %" PRId64 " size: %zu magic: %d compresscodec: %s"
           " crc: %" PRIu32 " isvalid: %s\n",
           pos, dl_ts_type(h), h->max_timestamp, sl_batch_hdr_size(h), h->magic,
           sl_codec_name(sl_batch_hdr_codec(h)), h->crc, crc_ok ? "true" : "false");
}

/* What Kafka prints for a control record: its key is (version i16, type i16). */
static void dl_print_control(const struct sl_record *rec)
{
    static const char *const names[] = {"ABORT",           "COMMIT",          "LEADER_CHANGE",
                                        "SNAPSHOT_HEADER", "SNAPSHOT_FOOTER", "KRAFT_VERSION",
                                        "KRAFT_VOTERS"};
    int type = -1;
    if (rec->key && rec->key_len >= 4 && (int16_t)sl_load_be16(rec->key) >= 0) {
        type = (int16_t)sl_load_be16(rec->key + 2);
    }
    if ((type == 0 || type == 1) && rec->value && rec->value_len >= 6) {
        printf(" endTxnMarker: %s coordinatorEpoch: %" PRId32, names[type],
               (int32_t)sl_load_be32(rec->value + 2));
    } else if (type >= 0 && (size_t)type < SL_ARRAY_SIZE(names)) {
        printf(" controlType: %s(%d)", names[type], type);
    } else {
        printf(" controlType: UNKNOWN(%d)", type);
    }
}

/* One record line, as DumpLogSegments.dumpLog prints it (prefix quirks included). */
static int dl_print_record(const struct dl_opts *o, const struct sl_batch_hdr *h,
                           const struct sl_record *rec, struct sl_err *err)
{
    int rc = 0;
    int control = (h->attributes & SL_BATCH_ATTR_CONTROL) != 0;
    const char *prefix = "| ";
    if (!o->skip_meta) {
        int64_t ts = (h->attributes & SL_BATCH_ATTR_LOG_APPEND_TIME)
                         ? h->max_timestamp
                         : h->base_timestamp + rec->timestamp_delta;
        int32_t seq = h->base_sequence < 0 ? -1 : dl_seq_add(h->base_sequence, rec->offset_delta);
        printf("| offset: %" PRId64 " %s: %" PRId64 " keySize: %" PRId32 " valueSize: %" PRId32,
               h->base_offset + rec->offset_delta, dl_ts_type(h), ts, rec->key_len, rec->value_len);
        prefix = " ";
        printf(" sequence: %" PRId32 " headerKeys: [", seq);
        const uint8_t *hp = rec->headers;
        for (int32_t i = 0; i < rec->header_count; i++) {
            struct sl_rec_header hdr;
            rc = sl_rec_header_next(&hp, rec->headers + rec->headers_len, &hdr);
            if (rc != 0) {
                sl_err_set(err, rc, "record at offset %" PRId64 ": header %" PRId32 ": %s",
                           h->base_offset + rec->offset_delta, i, sl_strerror(rc));
                break;
            }
            if (i > 0) {
                putchar(',');
            }
            dl_print_bytes(hdr.key, (size_t)hdr.key_len);
        }
        putchar(']');
        if (control) {
            dl_print_control(rec);
        }
    }
    if (o->print_data && !control) {
        if (rec->key_len >= 0) {
            printf("%skey: ", prefix);
            dl_print_bytes(rec->key, (size_t)rec->key_len);
        }
        if (rec->value_len >= 0) {
            printf(" payload: ");
            dl_print_bytes(rec->value, (size_t)rec->value_len);
        }
    }
    putchar('\n');
    return rc;
}

/* ---- .log ---- */

/* Pairs of record offsets that do not follow each other, reported like Kafka at the end. */
struct dl_gaps {
    int64_t (*pair)[2];
    size_t n;
    size_t cap;
    int64_t last;
};

static void dl_gaps_add(struct dl_gaps *g, int64_t offset)
{
    if (g->last != -1 && offset != g->last + 1) {
        if (g->n == g->cap) {
            size_t ncap = g->cap ? g->cap * 2 : 16;
            void *np = realloc(g->pair, ncap * sizeof(*g->pair));
            if (!np) {
                g->last = offset;
                return; /* a report line lost is not worth failing the dump */
            }
            g->pair = np;
            g->cap = ncap;
        }
        g->pair[g->n][0] = g->last;
        g->pair[g->n][1] = offset;
        g->n++;
    }
    g->last = offset;
}

/*
 * Deep iteration: decompress if needed and print every record. Records before a malformed
 * one are printed; the first problem goes into err. Returns 0 or the first error.
 */
static int dl_dump_records(const struct dl_opts *o, const uint8_t *buf,
                           const struct sl_batch_hdr *h, struct dl_gaps *gaps, struct sl_err *err)
{
    const uint8_t *recs;
    size_t len;
    int owned = 0;
    size_t out_max = (size_t)SL_MAX((int64_t)DL_DECOMPRESS_MIN, 16 * o->max_message_size);
    struct sl_err e;
    sl_err_clear(&e);
    int rc = sl_batch_records(buf, h, out_max, &recs, &len, &owned, &e);
    if (rc != 0) {
        return sl_err_set(err, rc, "cannot read %s records: %s",
                          sl_codec_name(sl_batch_hdr_codec(h)), e.msg[0] ? e.msg : sl_strerror(rc));
    }
    struct sl_rec_iter it;
    struct sl_record rec;
    int32_t prev_delta = -1;
    int first = 0;
    sl_rec_iter_init(&it, recs, len, h->record_count);
    while ((rc = sl_rec_iter_next(&it, &rec, &e)) == 1) {
        if (first == 0 &&
            (rec.offset_delta <= prev_delta || rec.offset_delta > h->last_offset_delta)) {
            first = sl_err_set(err, SL_ECORRUPT,
                               "record offset delta %" PRId32 " after %" PRId32
                               " (lastOffsetDelta %" PRId32 ")",
                               rec.offset_delta, prev_delta, h->last_offset_delta);
        }
        prev_delta = rec.offset_delta;
        dl_gaps_add(gaps, h->base_offset + rec.offset_delta);
        int prc = dl_print_record(o, h, &rec, &e);
        if (prc != 0 && first == 0) {
            first = sl_err_set(err, prc, "%s", e.msg);
        }
    }
    if (rc < 0 && first == 0) {
        first = sl_err_set(err, rc, "record %" PRId32 " of %" PRId32 ": %s",
                           h->record_count - it.remaining, h->record_count,
                           e.msg[0] ? e.msg : sl_strerror(rc));
    }
    if (owned) {
        free((void *)recs);
    }
    return first;
}

/*
 * Check one whole batch beyond its header: the CRC, then (when it matches) the framing of
 * uncompressed records. Returns whether the CRC matched; a problem goes into problem.
 */
static int dl_check_batch(const uint8_t *buf, const struct sl_batch_hdr *h, struct sl_err *problem)
{
    size_t size = sl_batch_hdr_size(h);
    uint32_t crc = sl_crc32c(0, buf + SL_BATCH_OFF_ATTRIBUTES, size - SL_BATCH_OFF_ATTRIBUTES);
    if (crc != h->crc) {
        sl_err_set(problem, SL_ECRC, "CRC-32C mismatch: stored %" PRIu32 ", computed %" PRIu32,
                   h->crc, crc);
        return 0;
    }
    struct sl_batch_hdr h2;
    struct sl_err e;
    sl_err_clear(&e);
    int rc = sl_batch_validate(buf, size, &h2, &e);
    if (rc != 0) {
        sl_err_set(problem, rc, "%s", e.msg[0] ? e.msg : sl_strerror(rc));
    }
    return 1;
}

static int dl_dump_log(const struct dl_opts *o, const char *path)
{
    struct dl_file f;
    int64_t base;
    int bad = 0;
    if (dl_base_offset(path, &base) == 0) {
        printf("Log starting offset: %" PRId64 "\n", base);
    }
    int rc = dl_file_open(&f, path);
    if (rc != 0) {
        fflush(stdout);
        fprintf(stderr, "sluice dump-log: cannot open %s: %s\n", path, sl_strerror(rc));
        return 1;
    }
    int64_t end = o->max_bytes >= 0 ? SL_MIN(o->max_bytes, f.size) : f.size;
    int64_t pos = 0;
    struct dl_gaps gaps = {NULL, 0, 0, -1};
    for (;;) {
        struct sl_batch_hdr h;
        struct sl_err why;
        enum dl_step step = dl_next_header(&f, pos, end, &h, &why);
        if (step == DL_END) {
            break;
        }
        if (step == DL_TRAILING) {
            /* With --max-bytes the cut is ours, not the file's (Kafka stays quiet too). */
            if (end == f.size) {
                printf("Found %" PRId64 " trailing bytes at position %" PRId64
                       " that are not a complete batch (%s)\n",
                       end - pos, pos, why.msg);
                bad = 1;
            }
            break;
        }
        if (step != DL_BATCH) {
            printf("Found invalid batch at position %" PRId64 ": %s\n", pos, why.msg);
            bad = 1;
            break;
        }
        const uint8_t *buf;
        rc = dl_file_view(&f, pos, sl_batch_hdr_size(&h), &buf);
        if (rc != 0) {
            printf("Found invalid batch at position %" PRId64 ": read failed: %s\n", pos,
                   sl_strerror(rc));
            bad = 1;
            break;
        }
        struct sl_err problem;
        sl_err_clear(&problem);
        int crc_ok = dl_check_batch(buf, &h, &problem);
        dl_print_batch(&h, pos, crc_ok);
        if (o->deep) {
            /* Kafka iterates records of a batch whatever its CRC says; so do we. */
            struct sl_err rec_problem;
            sl_err_clear(&rec_problem);
            if (dl_dump_records(o, buf, &h, &gaps, &rec_problem) != 0 && !problem.msg[0]) {
                problem = rec_problem;
            }
        }
        if (problem.msg[0]) {
            printf("Found invalid batch at position %" PRId64 ": %s\n", pos, problem.msg);
            bad = 1;
        }
        pos += (int64_t)sl_batch_hdr_size(&h);
    }
    dl_file_close(&f);
    if (gaps.n > 0) {
        fflush(stdout);
        fprintf(stderr, "Non-consecutive offsets in %s\n", path);
        for (size_t i = 0; i < gaps.n; i++) {
            fprintf(stderr, "  %" PRId64 " is followed by %" PRId64 "\n", gaps.pair[i][0],
                    gaps.pair[i][1]);
        }
    }
    free(gaps.pair);
    return bad;
}

/* ---- .index and .timeindex ---- */

/* Print a problem found in an index on stderr, after what stdout holds so far. */
__attribute__((format(printf, 1, 2))) static void dl_index_problem(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/*
 * Open an index file and the .log beside it (log may be NULL: not wanted). Prints what went
 * wrong. Returns 0, 1 (an error, reported) or -1 (empty index, reported; nothing to do).
 */
static int dl_index_open(const char *path, int64_t *base, struct dl_file *idx, struct dl_file *log,
                         char **log_path)
{
    if (dl_base_offset(path, base) != 0) {
        fflush(stdout);
        fprintf(stderr, "sluice dump-log: %s: name does not start with a base offset\n", path);
        return 1;
    }
    int rc = dl_file_open(idx, path);
    if (rc != 0) {
        fflush(stdout);
        fprintf(stderr, "sluice dump-log: cannot open %s: %s\n", path, sl_strerror(rc));
        return 1;
    }
    if (idx->size == 0) {
        printf("%s is empty.\n", path);
        dl_file_close(idx);
        return -1;
    }
    if (!log) {
        return 0;
    }
    *log_path = dl_sibling_log(path);
    rc = *log_path ? dl_file_open(log, *log_path) : -ENOMEM;
    if (rc != 0) {
        fflush(stdout);
        fprintf(stderr, "sluice dump-log: cannot open %s to verify %s: %s\n",
                *log_path ? *log_path : "the log", path, sl_strerror(rc));
        dl_file_close(idx);
        free(*log_path);
        *log_path = NULL;
        return 1;
    }
    return 0;
}

/*
 * Kafka's index sanity check (what decides a rebuild at startup), slightly stricter: the size
 * is whole entries, and up to the zero-filled tail relative offsets are non-negative and
 * strictly increase, as do positions (.index) while timestamps never fall (.timeindex).
 */
static int dl_index_sanity(const char *path, struct dl_file *f, size_t entry)
{
    if (f->size % (int64_t)entry != 0) {
        dl_index_problem("Corrupt index found, index file (%s) has size %" PRId64
                         " which is not a multiple of %zu",
                         path, f->size, entry);
        return 1;
    }
    int64_t prev_key = INT64_MIN;
    int32_t prev_rel = -1;
    for (int64_t i = 0; i < f->size / (int64_t)entry; i++) {
        const uint8_t *p;
        int rc = dl_file_view(f, i * (int64_t)entry, entry, &p);
        if (rc != 0) {
            dl_index_problem("sluice dump-log: reading %s: %s", path, sl_strerror(rc));
            return 1;
        }
        int64_t key; /* position or timestamp */
        int32_t rel;
        if (entry == DL_INDEX_ENTRY) {
            rel = (int32_t)sl_load_be32(p);
            key = sl_load_be32(p + 4);
        } else {
            key = (int64_t)sl_load_be64(p);
            rel = (int32_t)sl_load_be32(p + 8);
        }
        if (i > 0 && rel == 0) {
            break; /* the preallocated, zero-filled tail */
        }
        int key_bad = entry == DL_INDEX_ENTRY ? key <= prev_key : key < prev_key;
        if (rel < 0 || rel <= prev_rel || key_bad) {
            dl_index_problem("Corrupt index found, index file (%s): entry %" PRId64
                             " (relative offset %" PRId32 ", %s %" PRId64
                             ") does not follow the one before it",
                             path, i, rel, entry == DL_INDEX_ENTRY ? "position" : "timestamp", key);
            return 1;
        }
        prev_rel = rel;
        prev_key = key;
    }
    printf("%s passed sanity check.\n", path);
    return 0;
}

/* Move c to the batch starting at pos and report (returning 1) when there is none. */
static int dl_check_position(struct dl_cursor *c, const char *path, const char *log_path,
                             int64_t offset, int64_t pos)
{
    if (pos < c->pos) {
        dl_cursor_reset(c);
    }
    while (c->state == DL_BATCH && c->pos < pos) {
        dl_cursor_advance(c);
    }
    if (c->state == DL_BATCH && c->pos == pos) {
        int64_t last = sl_batch_hdr_last_offset(&c->h);
        if (last != offset) {
            dl_index_problem("Index mismatch in %s: index offset %" PRId64 ", log offset %" PRId64,
                             path, offset, last);
            return 1;
        }
        return 0;
    }
    if (c->state == DL_BATCH) {
        dl_index_problem("Index mismatch in %s: index offset %" PRId64 ", position %" PRId64
                         " is not the start of a batch in %s (one starts at %" PRId64 ")",
                         path, offset, pos, log_path, c->pos);
    } else if (c->state == DL_END) {
        dl_index_problem("Index mismatch in %s: index offset %" PRId64 ", position %" PRId64
                         " is past the last batch of %s (%" PRId64 " bytes)",
                         path, offset, pos, log_path, c->end);
    } else {
        dl_index_problem("Index mismatch in %s: index offset %" PRId64 ", position %" PRId64
                         " lies beyond unreadable data at position %" PRId64 " of %s: %s",
                         path, offset, pos, c->pos, log_path, c->why.msg);
    }
    return 1;
}

static int dl_dump_index(const struct dl_opts *o, const char *path)
{
    struct dl_file idx, log;
    char *log_path = NULL;
    int64_t base;
    int rc = dl_index_open(path, &base, &idx, o->sanity_only ? NULL : &log, &log_path);
    if (rc != 0) {
        return rc > 0;
    }
    if (o->sanity_only) {
        rc = dl_index_sanity(path, &idx, DL_INDEX_ENTRY);
        dl_file_close(&idx);
        return rc;
    }
    struct dl_cursor c = {.log = &log, .end = log.size};
    dl_cursor_reset(&c);
    int bad = 0;
    int64_t prev_offset = 0, prev_pos = 0;
    int64_t n = idx.size / DL_INDEX_ENTRY;
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *p;
        rc = dl_file_view(&idx, i * DL_INDEX_ENTRY, DL_INDEX_ENTRY, &p);
        if (rc != 0) {
            dl_index_problem("sluice dump-log: reading %s: %s", path, sl_strerror(rc));
            bad = 1;
            break;
        }
        int32_t rel = (int32_t)sl_load_be32(p);
        int64_t pos = sl_load_be32(p + 4);
        if (i > 0 && rel == 0) {
            break; /* Kafka preallocates index files; a crash leaves zeros */
        }
        int64_t offset = base + rel;
        if (!o->verify_only) {
            printf("offset: %" PRId64 " position: %" PRId64 "\n", offset, pos);
        }
        if (rel < 0 || (i > 0 && (offset <= prev_offset || pos <= prev_pos))) {
            dl_index_problem("Index out of order in %s: entry %" PRId64 " (offset %" PRId64
                             " position %" PRId64 ") does not follow offset %" PRId64
                             " position %" PRId64,
                             path, i, offset, pos, prev_offset, prev_pos);
            bad = 1;
        }
        bad |= dl_check_position(&c, path, log_path, offset, pos);
        prev_offset = offset;
        prev_pos = pos;
    }
    if (idx.size % DL_INDEX_ENTRY != 0) {
        dl_index_problem("Found %" PRId64 " trailing bytes at the end of %s that are not a "
                         "whole entry",
                         idx.size % DL_INDEX_ENTRY, path);
        bad = 1;
    }
    dl_file_close(&idx);
    dl_file_close(&log);
    free(log_path);
    return bad;
}

/* Check a time index entry: the batch ending at offset must have max timestamp ts. */
static int dl_check_time(struct dl_cursor *c, const char *path, const char *log_path, int64_t ts,
                         int64_t offset)
{
    if (c->state != DL_BATCH || c->h.base_offset > offset) {
        dl_cursor_reset(c);
    }
    while (c->state == DL_BATCH && sl_batch_hdr_last_offset(&c->h) < offset) {
        dl_cursor_advance(c);
    }
    if (c->state != DL_BATCH) {
        dl_index_problem("Time index mismatch in %s: indexed offset %" PRId64
                         " is not found in %s%s%s",
                         path, offset, log_path, c->why.msg[0] ? ": " : "", c->why.msg);
        return 1;
    }
    int64_t last = sl_batch_hdr_last_offset(&c->h);
    if (last != offset) {
        dl_index_problem("Time index mismatch in %s: indexed offset %" PRId64
                         ", found log offset %" PRId64,
                         path, offset, last);
        return 1;
    }
    if (c->h.max_timestamp != ts) {
        dl_index_problem("Found timestamp mismatch in %s: index timestamp %" PRId64
                         ", log timestamp %" PRId64 " (offset %" PRId64 ")",
                         path, ts, c->h.max_timestamp, offset);
        return 1;
    }
    return 0;
}

static int dl_dump_timeindex(const struct dl_opts *o, const char *path)
{
    struct dl_file idx, log;
    char *log_path = NULL;
    int64_t base;
    int rc = dl_index_open(path, &base, &idx, o->sanity_only ? NULL : &log, &log_path);
    if (rc != 0) {
        return rc > 0;
    }
    if (o->sanity_only) {
        rc = dl_index_sanity(path, &idx, DL_TIMEINDEX_ENTRY);
        dl_file_close(&idx);
        return rc;
    }
    struct dl_cursor c = {.log = &log, .end = log.size};
    dl_cursor_reset(&c);
    int bad = 0;
    int64_t prev_ts = -1, prev_offset = 0;
    int64_t n = idx.size / DL_TIMEINDEX_ENTRY;
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *p;
        rc = dl_file_view(&idx, i * DL_TIMEINDEX_ENTRY, DL_TIMEINDEX_ENTRY, &p);
        if (rc != 0) {
            dl_index_problem("sluice dump-log: reading %s: %s", path, sl_strerror(rc));
            bad = 1;
            break;
        }
        int64_t ts = (int64_t)sl_load_be64(p);
        int32_t rel = (int32_t)sl_load_be32(p + 8);
        if (i > 0 && rel == 0) {
            break; /* the zero-filled tail of a preallocated file */
        }
        int64_t offset = base + rel;
        if (!o->verify_only) {
            printf("timestamp: %" PRId64 " offset: %" PRId64 "\n", ts, offset);
        }
        if (i > 0 && ts < prev_ts) {
            dl_index_problem("Found out of order timestamp in %s: index timestamp %" PRId64
                             ", previously indexed timestamp %" PRId64,
                             path, ts, prev_ts);
            bad = 1;
        }
        if (rel < 0 || (i > 0 && offset <= prev_offset)) {
            dl_index_problem("Index out of order in %s: entry %" PRId64 " (offset %" PRId64
                             ") does not follow offset %" PRId64,
                             path, i, offset, prev_offset);
            bad = 1;
        }
        bad |= dl_check_time(&c, path, log_path, ts, offset);
        prev_ts = ts;
        prev_offset = offset;
    }
    if (idx.size % DL_TIMEINDEX_ENTRY != 0) {
        dl_index_problem("Found %" PRId64 " trailing bytes at the end of %s that are not a "
                         "whole entry",
                         idx.size % DL_TIMEINDEX_ENTRY, path);
        bad = 1;
    }
    dl_file_close(&idx);
    dl_file_close(&log);
    free(log_path);
    return bad;
}

/* ---- options ---- */

static void dl_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice dump-log --files FILE[,FILE...] [options]\n"
            "\n"
            "Print the record batches of segment files (.log) and the entries of their\n"
            "indexes (.index, .timeindex), checking them, like Kafka's kafka-dump-log.sh.\n"
            "Exits 0 when every file is sound, 1 when any is not, 2 on a usage error.\n"
            "\n"
            "  --files LIST            comma-separated .log, .index and .timeindex files\n"
            "  --print-data-log        print each record's key and payload (implies\n"
            "                          --deep-iteration)\n"
            "  --deep-iteration        print each record, decompressing batches\n"
            "  --skip-record-metadata  leave offset, timestamp and sizes out of record lines\n"
            "  --verify-index[-only]   check index entries against the log, printing only\n"
            "                          mismatches\n"
            "  --index-sanity-check    only check that indexes are well formed\n"
            "  --max-message-size N    largest batch expected (default %d); a compressed\n"
            "                          batch may inflate to max(64 MiB, 16 * N)\n"
            "  --max-bytes N           read at most N bytes of each .log\n"
            "  --help                  show this help\n",
            DL_MAX_MESSAGE_DEFAULT);
}

enum {
    OPT_FILES = 1,
    OPT_PRINT,
    OPT_DEEP,
    OPT_SKIP_META,
    OPT_VERIFY,
    OPT_SANITY,
    OPT_MAX_MSG,
    OPT_MAX_BYTES,
    OPT_HELP,
};

/* A positive int, as Kafka's Integer options take. */
static int dl_parse_int(const char *opt, const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v <= 0 || v > INT32_MAX) {
        fprintf(stderr, "sluice dump-log: %s wants a positive integer, not '%s'\n", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

/*
 * Append the comma-separated names of one --files value to o->files, skipping empty ones.
 * The value is split in place: C lets a program write to its argv strings, and the names
 * must live as long as the dump anyway. Returns 0 or -ENOMEM.
 */
static int dl_add_files(struct dl_opts *o, char *s)
{
    size_t add = 1;
    for (const char *q = s; *q; q++) {
        add += *q == ',';
    }
    char **nf = realloc(o->files, (o->nfiles + add) * sizeof(*nf));
    if (!nf) {
        return -ENOMEM;
    }
    o->files = nf;
    char *save = NULL;
    for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        o->files[o->nfiles++] = t;
    }
    return 0;
}

static void dl_opts_fini(struct dl_opts *o)
{
    free(o->files);
}

/* Returns 0 to run, 2 for a usage error, 3 for --help (exit 0). */
static int dl_parse_opts(int argc, char **argv, struct dl_opts *o)
{
    static const struct option longopts[] = {
        {"files", required_argument, NULL, OPT_FILES},
        {"print-data-log", no_argument, NULL, OPT_PRINT},
        {"deep-iteration", no_argument, NULL, OPT_DEEP},
        {"skip-record-metadata", no_argument, NULL, OPT_SKIP_META},
        {"verify-index-only", no_argument, NULL, OPT_VERIFY},
        {"verify-index", no_argument, NULL, OPT_VERIFY},
        {"index-sanity-check", no_argument, NULL, OPT_SANITY},
        {"max-message-size", required_argument, NULL, OPT_MAX_MSG},
        {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->max_message_size = DL_MAX_MESSAGE_DEFAULT;
    o->max_bytes = -1;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FILES:
            if (dl_add_files(o, optarg) != 0) {
                fprintf(stderr, "sluice dump-log: out of memory\n");
                return 2;
            }
            break;
        case OPT_PRINT:
            o->print_data = 1;
            o->deep = 1;
            break;
        case OPT_DEEP:
            o->deep = 1;
            break;
        case OPT_SKIP_META:
            o->skip_meta = 1;
            break;
        case OPT_VERIFY:
            o->verify_only = 1;
            break;
        case OPT_SANITY:
            o->sanity_only = 1;
            break;
        case OPT_MAX_MSG:
            if (dl_parse_int("--max-message-size", optarg, &o->max_message_size) != 0) {
                return 2;
            }
            break;
        case OPT_MAX_BYTES:
            if (dl_parse_int("--max-bytes", optarg, &o->max_bytes) != 0) {
                return 2;
            }
            break;
        case OPT_HELP:
        case 'h':
            return 3;
        case ':':
            fprintf(stderr, "sluice dump-log: %s needs a value\n\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "sluice dump-log: unknown option '%s'\n\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sluice dump-log: unexpected argument '%s'\n\n", argv[optind]);
        return 2;
    }
    if (o->nfiles == 0) {
        fprintf(stderr, "sluice dump-log: --files is required\n\n");
        return 2;
    }
    return 0;
}

/*
 * `sluice dump-log`; argv[0] is "dump-log". Returns the exit status: 0 when every file was
 * read and found sound, 1 when any file could not be read or holds a problem (each is
 * reported, and the other files are still dumped), 2 on a usage error. Blocks on file reads.
 */
int sl_tool_dump_log_main(int argc, char **argv)
{
    struct dl_opts o;
    int rc = dl_parse_opts(argc, argv, &o);
    if (rc != 0) {
        dl_usage(rc == 3 ? stdout : stderr);
        dl_opts_fini(&o);
        return rc == 3 ? 0 : 2;
    }
    int bad = 0;
    for (size_t i = 0; i < o.nfiles; i++) {
        const char *path = o.files[i];
        const char *suffix = dl_suffix(path);
        printf("Dumping %s\n", path);
        if (suffix && strcmp(suffix, ".log") == 0) {
            bad |= dl_dump_log(&o, path);
        } else if (suffix && strcmp(suffix, ".index") == 0) {
            bad |= dl_dump_index(&o, path);
        } else if (suffix && strcmp(suffix, ".timeindex") == 0) {
            bad |= dl_dump_timeindex(&o, path);
        } else {
            fflush(stdout);
            fprintf(stderr, "Ignoring unknown file %s\n", path);
        }
    }
    dl_opts_fini(&o);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "sluice dump-log: writing output: %s\n", strerror(errno));
        return 1;
    }
    return bad ? 1 : 0;
}
