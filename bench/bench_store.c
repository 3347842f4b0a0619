/*
 * bench_store.c - throughput of the partition log (store/log.h) against the targets:
 * append of 1 KiB and 100 B records in 16 KiB batches into the page cache, batch-aligned
 * reads back out of the page cache (zero-copy sendfile and copies into user memory), and
 * recovery of an unclean log of several sizes. Prints one table per part; run_store.sh adds
 * a dd baseline taken on the same disk in the same run and passes it in with --dd-mbps.
 *
 * Single-threaded except the pipe drainer of the sendfile-to-pipe read, which owns only its
 * file descriptors. Nothing here is timed that is not the operation named in its row: batches
 * are built before the clock starts, files are created and deleted outside it, and every
 * timed phase starts after sync(2), so earlier phases' dirty pages do not throttle it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "store/batch.h"
#include "store/config.h"
#include "store/crc32c.h"
#include "store/log.h"

#define MIB          (1024.0 * 1024.0)
#define MAX_REPS     16
#define MAX_RECOVER  8
#define BATCH_TARGET 16384 /* Kafka's producer batch.size default */

struct opts {
    const char *dir;
    int64_t append_bytes; /* per append run */
    int64_t pool_bytes;   /* pre-built batches, cycled */
    int64_t fetch_bytes;  /* max_bytes of one sl_log_read */
    int64_t recover_bytes[MAX_RECOVER];
    int nrecover;
    int reps;
    int no_dd;      /* skip the dd baseline */
    int keep_index; /* recovery: leave .index/.timeindex in place */
    int no_cold;    /* recovery: skip the cold-cache runs */
    int do_append, do_read, do_recover;
};

struct pool {
    uint8_t **batch;
    size_t *len;
    size_t n;
    size_t bytes;    /* sum of len */
    int32_t records; /* per batch */
    size_t value_bytes;
};

/* ---- small helpers ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, detail);
    exit(1);
}

/* snprintf into a path buffer; a path that does not fit is a usage error, not a truncation. */
__attribute__((format(printf, 3, 4))) static void path_fmt(char *out, size_t len, const char *fmt,
                                                           ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len) {
        die("path too long", out);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median, min and max of n samples (sorts v). */
struct stat3 {
    double med, min, max;
};

static struct stat3 stat3(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    struct stat3 s = {n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[0], v[n - 1]};
    return s;
}

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: varied, incompressible record content at memory speed. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void rmtree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    char child[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        path_fmt(child, sizeof(child), "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
            rmtree(child);
        } else {
            unlink(child);
        }
    }
    closedir(d);
    rmdir(path);
}

static const char *fmt_count(double v, char *buf, size_t len)
{
    if (v >= 1e9) {
        snprintf(buf, len, "%.2fG", v / 1e9);
    } else if (v >= 1e6) {
        snprintf(buf, len, "%.2fM", v / 1e6);
    } else if (v >= 1e3) {
        snprintf(buf, len, "%.1fk", v / 1e3);
    } else {
        snprintf(buf, len, "%.0f", v);
    }
    return buf;
}

/* ---- batches ---- */

static size_t build_batch(uint8_t **out, int32_t n, size_t value_bytes, int64_t ts, uint64_t *rng)
{
    struct sl_batch_builder b;
    uint8_t *val = malloc(value_bytes + 8);
    if (!val || sl_batch_builder_init(&b, 0, ts) != 0) {
        die("batch", "out of memory");
    }
    for (int32_t i = 0; i < n; i++) {
        for (size_t j = 0; j < value_bytes; j += 8) {
            uint64_t w = rng_next(rng);
            memcpy(val + j, &w, 8);
        }
        /* Null keys, as kafka-producer-perf-test sends. */
        if (sl_batch_builder_add(&b, ts + i, NULL, -1, val, (int32_t)value_bytes, NULL, 0) != 0) {
            die("batch", "builder_add failed");
        }
    }
    size_t len;
    if (sl_batch_builder_finish(&b, out, &len) != 0) {
        die("batch", "builder_finish failed");
    }
    sl_batch_builder_fini(&b);
    free(val);
    return len;
}

/*
 * Fill a pool of about pool_bytes of batches, each holding as many value_bytes records as fit
 * in BATCH_TARGET bytes (the producer closes a batch when the next record would not fit).
 */
static void pool_build(struct pool *p, size_t value_bytes, int64_t pool_bytes, uint64_t seed)
{
    uint64_t rng = seed | 1;
    memset(p, 0, sizeof(*p));
    p->value_bytes = value_bytes;
    uint8_t *trial;
    size_t one = build_batch(&trial, 1, value_bytes, 0, &rng);
    free(trial);
    int32_t n = (int32_t)((BATCH_TARGET - SL_BATCH_HEADER_SIZE) / (one - SL_BATCH_HEADER_SIZE));
    for (;;) {
        size_t len = build_batch(&trial, n, value_bytes, 0, &rng);
        free(trial);
        if (len <= BATCH_TARGET || n == 1) {
            break;
        }
        n--;
    }
    p->records = n;
    size_t cap = (size_t)(pool_bytes / (BATCH_TARGET / 2)) + 1;
    p->batch = calloc(cap, sizeof(*p->batch));
    p->len = calloc(cap, sizeof(*p->len));
    if (!p->batch || !p->len) {
        die("pool", "out of memory");
    }
    int64_t ts = 1700000000000LL;
    while ((int64_t)p->bytes < pool_bytes && p->n < cap) {
        p->len[p->n] = build_batch(&p->batch[p->n], n, value_bytes, ts, &rng);
        p->bytes += p->len[p->n];
        p->n++;
        ts += n;
    }
}

static void pool_free(struct pool *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->batch[i]);
    }
    free(p->batch);
    free(p->len);
    memset(p, 0, sizeof(*p));
}

/* ---- log helpers ---- */

static struct sl_log *log_open(const char *dir, int clean, struct sl_log_recovery_info *info,
                               double *secs)
{
    struct sl_log_config cfg;
    sl_log_config_default(&cfg);
    struct sl_log_open_opts o = {.clean = clean,
                                 .recovery_point = 0,
                                 .log_start_offset = -1,
                                 .high_watermark = -1,
                                 .create = 1};
    struct sl_log *log;
    struct sl_err err = {0};
    double t0 = now_s();
    int rc = sl_log_open(dir, &cfg, &o, &log, info, &err);
    if (secs) {
        *secs = now_s() - t0;
    }
    if (rc != 0) {
        die("sl_log_open", err.msg);
    }
    return log;
}

/* Append batches from the pool until at least `bytes` went in. Returns bytes appended and the
 * record count in *records. */
static int64_t append_pool(struct sl_log *log, struct pool *p, int64_t bytes, int64_t *records)
{
    struct sl_log_append_opts ao = {.leader_epoch = 0, .assign_offsets = 1, .now_ms = 0};
    int64_t done = 0;
    *records = 0;
    for (size_t i = 0; done < bytes; i++) {
        size_t k = i % p->n;
        struct sl_log_append_info info;
        struct sl_err err = {0};
        /* sl_log_append rewrites only baseOffset and partitionLeaderEpoch (outside the CRC)
         * with CreateTime, so the same buffer stays valid for the next lap. */
        int rc = sl_log_append(log, p->batch[k], p->len[k], &ao, &info, &err);
        if (rc != 0) {
            die("sl_log_append", err.msg);
        }
        done += (int64_t)p->len[k];
        *records += info.records;
    }
    return done;
}

/* ---- part 1: append ---- */

/*
 * The baseline: buffered sequential dd of the same size into the same directory,
 * 16 KiB blocks, no oflag=direct, no conv=fsync. Returns dd's own MB/s (bytes / the seconds
 * it reports), or 0 when dd cannot be run.
 */
static double dd_baseline(const struct opts *o)
{
    char cmd[PATH_MAX + 128], path[PATH_MAX], line[512], last[512] = "";
    path_fmt(path, sizeof(path), "%s/ddfile", o->dir);
    path_fmt(cmd, sizeof(cmd), "LC_ALL=C dd if=/dev/zero of='%s' bs=16k count=%" PRId64 " 2>&1",
             path, o->append_bytes / 16384);
    FILE *f = popen(cmd, "r");
    if (!f) {
        return 0;
    }
    while (fgets(line, sizeof(line), f)) {
        snprintf(last, sizeof(last), "%s", line);
    }
    int st = pclose(f);
    unlink(path);
    /* "1073741824 bytes (1.1 GB, 1.0 GiB) copied, 0.55 s, 1.9 GB/s" */
    double bytes = strtod(last, NULL), secs = 0;
    const char *c = strstr(last, "copied, ");
    if (c) {
        secs = strtod(c + 8, NULL);
    }
    if (st != 0 || bytes <= 0 || secs <= 0) {
        fprintf(stderr, "bench_store: dd failed: %s", last);
        return 0;
    }
    return bytes / secs / 1e6;
}

/* The same writes dd does (16 KiB write(2)s into a fresh file, no fsync), from the pool. */
static double write_baseline(const struct opts *o, struct pool *p)
{
    char path[PATH_MAX];
    path_fmt(path, sizeof(path), "%s/writefile", o->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        die(path, strerror(errno));
    }
    int64_t done = 0;
    double t0 = now_s();
    for (size_t i = 0; done < o->append_bytes; i++) {
        const uint8_t *b = p->batch[i % p->n];
        size_t len = p->len[i % p->n];
        if (write(fd, b, len) != (ssize_t)len) {
            die("write", strerror(errno));
        }
        done += (int64_t)len;
    }
    double secs = now_s() - t0;
    close(fd);
    unlink(path);
    return (double)done / secs / 1e6;
}

struct append_result {
    const char *name;
    size_t batch_bytes; /* average */
    int32_t records_per_batch;
    int64_t bytes;
    struct stat3 mbps;
    struct stat3 recs;
    struct stat3 write_mbps; /* in-process write(2) baseline from the same pool */
    struct stat3 dd_mbps;
    struct stat3 dd_ratio;   /* append / dd of the same run */
    struct stat3 crc_gbps;   /* CPU only: sl_crc32c over the batches' CRC ranges */
    struct stat3 valid_gbps; /* CPU only: sl_batch_validate (CRC + record walk) */
};

/* CPU cost of what sl_log_append does to every batch before writing it: over the same bytes
 * as one append run, `full` = sl_batch_validate, else the CRC alone. Returns GB/s. */
static double validate_gbps(const struct opts *o, struct pool *p, int full)
{
    int64_t done = 0;
    uint32_t sink = 0;
    double t0 = now_s();
    for (size_t i = 0; done < o->append_bytes; i++) {
        const uint8_t *b = p->batch[i % p->n];
        size_t len = p->len[i % p->n];
        if (full) {
            struct sl_batch_hdr h;
            if (sl_batch_validate(b, len, &h, NULL) != 0) {
                die("sl_batch_validate", "a pre-built batch is invalid");
            }
            sink += (uint32_t)h.record_count;
        } else {
            sink += sl_crc32c(0, b + SL_BATCH_OFF_ATTRIBUTES, len - SL_BATCH_OFF_ATTRIBUTES);
        }
        done += (int64_t)len;
    }
    double secs = now_s() - t0;
    __asm__ volatile("" : : "r"(sink)); /* keep the loop */
    return (double)done / secs / 1e9;
}

/* With keep != NULL the last run's log stays open in *keep (for the read part, whose pages are
 * then still cached) and its directory is keep_dir. */
static struct append_result run_append(const struct opts *o, const char *name, size_t value_bytes,
                                       const char *keep_dir, struct sl_log **keep)
{
    struct append_result r = {.name = name};
    struct pool p;
    pool_build(&p, value_bytes, o->pool_bytes, 0x5eed0000u + value_bytes);
    r.batch_bytes = p.bytes / p.n;
    r.records_per_batch = p.records;
    double mbps[MAX_REPS], recs[MAX_REPS], wmbps[MAX_REPS], dd[MAX_REPS], ratio[MAX_REPS];
    char dir[PATH_MAX];
    for (int rep = 0; rep < o->reps; rep++) {
        /* dd, write(2) and the append run back to back, each after sync, so each ratio
         * compares runs made under the same conditions. */
        sync();
        dd[rep] = o->no_dd ? 0 : dd_baseline(o);
        sync();
        wmbps[rep] = write_baseline(o, &p);
        int last = rep == o->reps - 1 && keep;
        if (last) {
            path_fmt(dir, sizeof(dir), "%s", keep_dir);
        } else {
            path_fmt(dir, sizeof(dir), "%s/append%zu-%d", o->dir, value_bytes, rep);
        }
        rmtree(dir);
        struct sl_log *log = log_open(dir, 1, NULL, NULL);
        sync();
        int64_t records;
        double t0 = now_s();
        int64_t bytes = append_pool(log, &p, o->append_bytes, &records);
        double secs = now_s() - t0;
        r.bytes = bytes;
        mbps[rep] = (double)bytes / secs / 1e6;
        recs[rep] = (double)records / secs;
        ratio[rep] = dd[rep] > 0 ? mbps[rep] / dd[rep] : 0;
        if (last) {
            *keep = log;
        } else {
            sl_log_close(log, 0); /* no fsync: the files are deleted anyway */
            rmtree(dir);
        }
    }
    r.mbps = stat3(mbps, o->reps);
    r.recs = stat3(recs, o->reps);
    r.write_mbps = stat3(wmbps, o->reps);
    double crc[MAX_REPS], valid[MAX_REPS];
    for (int rep = 0; rep < o->reps; rep++) {
        crc[rep] = validate_gbps(o, &p, 0);
        valid[rep] = validate_gbps(o, &p, 1);
    }
    r.crc_gbps = stat3(crc, o->reps);
    r.valid_gbps = stat3(valid, o->reps);
    r.dd_mbps = stat3(dd, o->reps);
    r.dd_ratio = stat3(ratio, o->reps);
    pool_free(&p);
    return r;
}

static void print_append(const struct opts *o, const struct append_result *r, int n)
{
    char a[32];
    printf("\n== 1. append: 16 KiB batches into the page cache, one batch per sl_log_append, "
           "no fsync ==\n");
    printf("   MB = 10^6 bytes of record batches as stored; median of %d runs (min..max)\n",
           o->reps);
    printf("%-5s %7s %9s %6s %20s %8s %20s %14s %9s %8s\n", "recs", "batch_B", "rec/batch", "MiB",
           "append MB/s", "rec/s", "dd MB/s", "vs_dd", "write(2)", "vs_write");
    for (int i = 0; i < n; i++) {
        char ap[64], dd[64] = "-", ratio[64] = "-";
        snprintf(ap, sizeof(ap), "%.0f (%.0f..%.0f)", r[i].mbps.med, r[i].mbps.min, r[i].mbps.max);
        if (!o->no_dd) {
            snprintf(dd, sizeof(dd), "%.0f (%.0f..%.0f)", r[i].dd_mbps.med, r[i].dd_mbps.min,
                     r[i].dd_mbps.max);
            snprintf(ratio, sizeof(ratio), "%.2f (%.2f..%.2f)", r[i].dd_ratio.med,
                     r[i].dd_ratio.min, r[i].dd_ratio.max);
        }
        printf("%-5s %7zu %9d %6.0f %20s %8s %20s %14s %9.0f %8.2f\n", r[i].name, r[i].batch_bytes,
               r[i].records_per_batch, (double)r[i].bytes / MIB, ap,
               fmt_count(r[i].recs.med, a, sizeof(a)), dd, ratio, r[i].write_mbps.med,
               r[i].mbps.med / r[i].write_mbps.med);
    }
    printf("   dd: `dd if=/dev/zero of=DIR/ddfile bs=16k count=N` (buffered, same size), "
           "run just before\n   each append run; vs_dd = append / dd of the same run (target "
           ">= 0.80). write(2): the same\n   16 KiB writes from the same pre-built batches "
           "without the store, in this process, each run.\n");
    printf("   where the store's CPU goes (no I/O), per 16 KiB batch, median:\n");
    printf("%-5s %14s %14s %22s %22s\n", "recs", "CRC-32C GB/s", "validate GB/s",
           "validate us/batch", "share of append time");
    for (int i = 0; i < n; i++) {
        double v_us = (double)r[i].batch_bytes / (r[i].valid_gbps.med * 1e3);
        double a_us = (double)r[i].batch_bytes / r[i].mbps.med;
        printf("%-5s %14.2f %14.2f %22.2f %21.0f%%\n", r[i].name, r[i].crc_gbps.med,
               r[i].valid_gbps.med, v_us, 100.0 * v_us / a_us);
    }
    printf("   validate = sl_batch_validate, which sl_log_append runs on every batch (CRC, then "
           "every record's\n   framing); share = its time / the append's time per batch.\n");
}

/* ---- part 2: read ---- */

enum read_mode { RM_SENDFILE_PIPE, RM_SENDFILE_NULL, RM_READ_COPY, RM_SLICE_PREAD };

static const char *const read_mode_name[] = {
    "sl_log_read + sendfile -> pipe, splice -> /dev/null",
    "sl_log_read + sendfile -> /dev/null",
    "sl_log_read_copy (malloc + pread, free)",
    "sl_log_read + pread into one reused buffer",
};

struct drainer {
    int fd;
    int null_fd;
    int64_t bytes;
};

static void *drain_main(void *arg)
{
    struct drainer *d = arg;
    for (;;) {
        ssize_t n = splice(d->fd, NULL, d->null_fd, NULL, 1 << 20, SPLICE_F_MOVE);
        if (n > 0) {
            d->bytes += n;
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    return NULL;
}

static void send_all(int out, int in, int64_t pos, int64_t len)
{
    off_t off = (off_t)pos;
    while (len > 0) {
        ssize_t n = sendfile(out, in, &off, (size_t)len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            die("sendfile", n < 0 ? strerror(errno) : "short");
        }
        len -= n;
    }
}

/* Read the whole log once from offset 0 in fetch_bytes slices. Returns bytes delivered. */
static int64_t read_log(struct sl_log *log, enum read_mode mode, int64_t fetch_bytes, int out,
                        uint8_t *buf)
{
    int64_t off = 0, total = 0, leo = sl_log_end_offset(log);
    while (off < leo) {
        struct sl_err err = {0};
        if (mode == RM_READ_COPY) {
            uint8_t *b;
            size_t len;
            int64_t next;
            if (sl_log_read_copy(log, off, fetch_bytes, -1, 1, &b, &len, &next, &err) != 0) {
                die("sl_log_read_copy", err.msg);
            }
            free(b);
            total += (int64_t)len;
            off = next;
            continue;
        }
        struct sl_log_slice s;
        if (sl_log_read(log, off, fetch_bytes, -1, 1, &s, &err) != 0) {
            die("sl_log_read", err.msg);
        }
        if (s.length > 0) {
            if (mode == RM_SLICE_PREAD) {
                if (pread(s.fd, buf, (size_t)s.length, s.position) != s.length) {
                    die("pread", "short read");
                }
            } else {
                send_all(out, s.fd, s.position, s.length);
            }
        }
        total += s.length;
        off = s.next_offset;
        sl_log_slice_release(&s);
    }
    return total;
}

struct read_result {
    const char *log_name;
    int64_t bytes;
    struct stat3 gbps[4];
};

/* Reads the log the append part left open; read once untimed first to be sure every page is
 * cached (the target is reads from the page cache). */
static struct read_result run_read(const struct opts *o, const char *log_name, struct sl_log *log)
{
    struct read_result r = {.log_name = log_name};
    uint8_t *buf = malloc((size_t)o->fetch_bytes + (1 << 20));
    int null_fd = open("/dev/null", O_WRONLY);
    if (!buf || null_fd < 0) {
        die("read", "setup failed");
    }
    r.bytes = read_log(log, RM_SLICE_PREAD, o->fetch_bytes, -1, buf);
    if (r.bytes != sl_log_size_bytes(log)) {
        die("read", "did not read back every byte of the log");
    }
    for (int m = 0; m < 4; m++) {
        double gbps[MAX_REPS];
        for (int rep = 0; rep < o->reps; rep++) {
            int pfd[2] = {-1, -1};
            pthread_t th;
            struct drainer d = {.null_fd = null_fd};
            int out = null_fd;
            if (m == RM_SENDFILE_PIPE) {
                if (pipe(pfd) != 0) {
                    die("pipe", strerror(errno));
                }
                fcntl(pfd[1], F_SETPIPE_SZ, 1 << 20); /* best effort; room for one fetch */
                d.fd = pfd[0];
                out = pfd[1];
                if (pthread_create(&th, NULL, drain_main, &d) != 0) {
                    die("pthread_create", "failed");
                }
            }
            double t0 = now_s();
            int64_t got = read_log(log, (enum read_mode)m, o->fetch_bytes, out, buf);
            if (m == RM_SENDFILE_PIPE) {
                close(pfd[1]);
                pthread_join(th, NULL);
                close(pfd[0]);
                got = d.bytes; /* count what the reader actually received */
            }
            double secs = now_s() - t0;
            if (got != r.bytes) {
                die("read", "byte count mismatch");
            }
            gbps[rep] = (double)got / secs / 1e9;
        }
        r.gbps[m] = stat3(gbps, o->reps);
    }
    close(null_fd);
    free(buf);
    return r;
}

static void print_read(const struct opts *o, const struct read_result *r, int n)
{
    printf("\n== 2. read: whole log from offset 0, batch-aligned slices of max %" PRId64
           " KiB, page cache ==\n",
           o->fetch_bytes / 1024);
    printf("   GB = 10^9 bytes; median of %d runs (min..max); target >= 2 GB/s\n", o->reps);
    printf("%-12s %-52s %8s %22s\n", "log", "method", "MiB", "GB/s (min..max)");
    for (int i = 0; i < n; i++) {
        for (int m = 0; m < 4; m++) {
            char range[64];
            snprintf(range, sizeof(range), "%.2f (%.2f..%.2f)", r[i].gbps[m].med, r[i].gbps[m].min,
                     r[i].gbps[m].max);
            printf("%-12s %-52s %8.0f %22s\n", r[i].log_name, read_mode_name[m],
                   (double)r[i].bytes / MIB, range);
        }
    }
    printf("   sendfile -> pipe: the zero-copy path; a second thread empties the pipe with "
           "splice(2) and\n   counts the bytes it received. -> /dev/null: the kernel drops the "
           "pages unread (lower bound\n   on cost). read_copy / pread: a copy into user "
           "memory, as a non-sendfile consumer pays.\n");
}

/* ---- part 3: recovery ---- */

/* Segment files of dir: evict from the page cache (cold), or delete the index files. */
static void for_each_file(const char *dir, int evict, int drop_index)
{
    DIR *d = opendir(dir);
    if (!d) {
        die(dir, strerror(errno));
    }
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        const char *dot = strrchr(e->d_name, '.');
        if (e->d_name[0] == '.' || !dot) {
            continue;
        }
        path_fmt(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (drop_index && (strcmp(dot, ".index") == 0 || strcmp(dot, ".timeindex") == 0)) {
            unlink(path);
            continue;
        }
        if (evict) {
            int fd = open(path, O_RDONLY);
            if (fd >= 0) {
                fdatasync(fd); /* only clean pages can be dropped */
                posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
                close(fd);
            }
        }
    }
    closedir(d);
}

/* Path of the last (active) segment's .log in dir. */
static void last_segment(const char *dir, char *out, size_t len)
{
    DIR *d = opendir(dir);
    if (!d) {
        die(dir, strerror(errno));
    }
    struct dirent *e;
    char best[256] = "";
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n == 24 && strcmp(e->d_name + 20, ".log") == 0 && strcmp(e->d_name, best) > 0) {
            snprintf(best, sizeof(best), "%s", e->d_name);
        }
    }
    closedir(d);
    if (!best[0]) {
        die(dir, "no segment");
    }
    path_fmt(out, len, "%s/%s", dir, best);
}

/* What a crash mid-write leaves: the first half of a batch at the end of the active segment. */
static void add_torn_tail(const char *dir, const struct pool *p)
{
    char path[PATH_MAX];
    last_segment(dir, path, sizeof(path));
    int fd = open(path, O_WRONLY | O_APPEND);
    if (fd < 0 || write(fd, p->batch[0], p->len[0] / 2) != (ssize_t)(p->len[0] / 2)) {
        die(path, "cannot add a torn tail");
    }
    close(fd);
}

/* Sequential pread of every .log in dir with 1 MiB reads (the cold-cache disk baseline). */
static int64_t read_files(const char *dir, uint8_t *buf)
{
    DIR *d = opendir(dir);
    if (!d) {
        die(dir, strerror(errno));
    }
    struct dirent *e;
    char path[PATH_MAX];
    int64_t total = 0;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 4 || strcmp(e->d_name + n - 4, ".log") != 0) {
            continue;
        }
        path_fmt(path, sizeof(path), "%s/%s", dir, e->d_name);
        int fd = open(path, O_RDONLY);
        ssize_t got;
        while (fd >= 0 && (got = read(fd, buf, 1 << 20)) > 0) {
            total += got;
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    closedir(d);
    return total;
}

struct recover_result {
    int64_t bytes;
    int nsegs;
    struct stat3 warm_s, cold_s;
    double disk_mbps; /* cold sequential read of the same files */
    struct sl_log_recovery_info info;
};

static struct stat3 time_recovery(const struct opts *o, const char *dir, const struct pool *p,
                                  int cold, struct sl_log_recovery_info *info)
{
    double secs[MAX_REPS];
    for (int rep = 0; rep < o->reps; rep++) {
        add_torn_tail(dir, p);
        for_each_file(dir, cold, !o->keep_index);
        sync();
        if (!cold) {
            uint8_t *buf = malloc(1 << 20);
            read_files(dir, buf); /* make sure it is all cached */
            free(buf);
        }
        struct sl_log *log = log_open(dir, 0, info, &secs[rep]);
        if (info->bytes_truncated <= 0) {
            die("recovery", "the torn tail was not cut");
        }
        sl_log_close(log, 0);
    }
    return stat3(secs, o->reps);
}

static struct recover_result run_recover(const struct opts *o, int64_t bytes, struct pool *p)
{
    struct recover_result r;
    memset(&r, 0, sizeof(r));
    char dir[PATH_MAX];
    path_fmt(dir, sizeof(dir), "%s/recover%" PRId64 "-0", o->dir, bytes >> 20);
    rmtree(dir);
    struct sl_log *log = log_open(dir, 1, NULL, NULL);
    int64_t records;
    r.bytes = append_pool(log, p, bytes, &records);
    r.nsegs = sl_log_segment_count(log);
    /* The data reaches the disk before the "crash": recovery's own fdatasync then measures
     * what recovery adds, not the writeback of a gigabyte the appends left dirty. */
    struct sl_err err = {0};
    if (sl_log_flush(log, &err) != 0) {
        die("sl_log_flush", err.msg);
    }
    sl_log_close(log, 0);
    r.warm_s = time_recovery(o, dir, p, 0, &r.info);
    if (!o->no_cold) {
        r.cold_s = time_recovery(o, dir, p, 1, &r.info);
        uint8_t *buf = malloc(1 << 20);
        for_each_file(dir, 1, 0);
        double t0 = now_s();
        int64_t got = read_files(dir, buf);
        r.disk_mbps = (double)got / (now_s() - t0) / 1e6;
        free(buf);
    }
    rmtree(dir);
    return r;
}

static void print_recover(const struct opts *o, const struct recover_result *r, int n)
{
    printf("\n== 3. recovery: sl_log_open(clean=0, recovery_point=0) of an unclean log "
           "(torn last batch%s) ==\n",
           o->keep_index ? "" : ", index files deleted");
    printf("   warm: segment files in the page cache (a process crash); cold: evicted with "
           "POSIX_FADV_DONTNEED\n   (a machine crash). Median of %d runs (min..max).\n",
           o->reps);
    printf("%8s %5s %24s %9s %24s %9s %9s\n", "MiB", "segs", "warm s (min..max)", "warm MB/s",
           "cold s (min..max)", "cold MB/s", "disk MB/s");
    for (int i = 0; i < n; i++) {
        char w[64], c[64] = "-", cm[32] = "-", dm[32] = "-";
        snprintf(w, sizeof(w), "%.3f (%.3f..%.3f)", r[i].warm_s.med, r[i].warm_s.min,
                 r[i].warm_s.max);
        if (!o->no_cold) {
            snprintf(c, sizeof(c), "%.3f (%.3f..%.3f)", r[i].cold_s.med, r[i].cold_s.min,
                     r[i].cold_s.max);
            snprintf(cm, sizeof(cm), "%.0f", (double)r[i].bytes / r[i].cold_s.med / 1e6);
            snprintf(dm, sizeof(dm), "%.0f", r[i].disk_mbps);
        }
        printf("%8.0f %5d %24s %9.0f %24s %9s %9s\n", (double)r[i].bytes / MIB, r[i].nsegs, w,
               (double)r[i].bytes / r[i].warm_s.med / 1e6, c, cm, dm);
    }
    printf("   disk MB/s: plain sequential read(2) of the same cold .log files (what the disk "
           "gives).\n   recovery info of the last run of each size:\n");
    printf("%8s %9s %14s %15s %9s %8s  %s\n", "MiB", "segs_chk", "bytes_checked", "bytes_truncated",
           "segs_del", "idx_rbt", "first_error");
    for (int i = 0; i < n; i++) {
        const struct sl_log_recovery_info *f = &r[i].info;
        printf("%8.0f %9" PRId64 " %14" PRId64 " %15" PRId64 " %9" PRId64 " %8" PRId64 "  %.90s\n",
               (double)r[i].bytes / MIB, f->segments_checked, f->bytes_checked, f->bytes_truncated,
               f->segments_deleted, f->indexes_rebuilt, f->first_error);
    }
}

/* ---- summary ---- */

static const char *verdict(double v, double target)
{
    return v >= target ? "met" : "MISSED";
}

static void print_summary(const struct opts *o, const struct append_result *ar,
                          const struct read_result *rr, int nread)
{
    printf("\n== targets ==\n");
    for (int i = 0; o->do_append && i < 2; i++) {
        if (!o->no_dd) {
            double ratio = ar[i].dd_ratio.med;
            printf("append %-5s %7.0f MB/s, %.2f x dd (dd %.0f MB/s); target >= 0.80: %s\n",
                   ar[i].name, ar[i].mbps.med, ratio, ar[i].dd_mbps.med, verdict(ratio, 0.8));
        } else {
            printf("append %-5s %7.0f MB/s; dd not run (--no-dd)\n", ar[i].name, ar[i].mbps.med);
        }
    }
    for (int i = 0; i < nread; i++) {
        static const enum read_mode shown[] = {RM_SENDFILE_PIPE, RM_READ_COPY};
        for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
            double g = rr[i].gbps[shown[k]].med;
            printf("read   %-5s %7.2f GB/s via %-24s target >= 2 GB/s: %s\n", rr[i].log_name, g,
                   k == 0 ? "sendfile -> pipe," : "sl_log_read_copy,", verdict(g, 2.0));
        }
    }
}

/* ---- main ---- */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_store [options] DIR\n"
            "  DIR                 scratch directory on the disk to measure (must exist)\n"
            "  --size-mib N        bytes appended per append run (default 1024)\n"
            "  --recover-mib LIST  log sizes for recovery, comma separated (default 256,512,1024)\n"
            "  --reps N            runs per figure, the median is shown (default 5)\n"
            "  --pool-mib N        pre-built batches cycled through (default 64)\n"
            "  --fetch-kib N       max_bytes of one sl_log_read (default 1024)\n"
            "  --no-dd             do not run dd(1) as the append baseline\n"
            "  --only LIST         any of append,read,recover (default all)\n"
            "  --keep-index        do not delete index files before recovery\n"
            "  --no-cold           skip cold-cache recovery runs\n");
    exit(2);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"size-mib", required_argument, NULL, 's'},
        {"recover-mib", required_argument, NULL, 'r'},
        {"reps", required_argument, NULL, 'n'},
        {"pool-mib", required_argument, NULL, 'p'},
        {"fetch-kib", required_argument, NULL, 'f'},
        {"no-dd", no_argument, NULL, 'd'},
        {"only", required_argument, NULL, 'o'},
        {"keep-index", no_argument, NULL, 'k'},
        {"no-cold", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->append_bytes = 1024LL << 20;
    o->pool_bytes = 64LL << 20;
    o->fetch_bytes = 1 << 20;
    o->reps = 5;
    o->recover_bytes[0] = 256LL << 20;
    o->recover_bytes[1] = 512LL << 20;
    o->recover_bytes[2] = 1024LL << 20;
    o->nrecover = 3;
    o->do_append = o->do_read = o->do_recover = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 's':
            o->append_bytes = strtoll(optarg, NULL, 10) << 20;
            break;
        case 'r': {
            char *save, *tok, *s = optarg;
            o->nrecover = 0;
            while ((tok = strtok_r(s, ",", &save)) != NULL && o->nrecover < MAX_RECOVER) {
                o->recover_bytes[o->nrecover++] = strtoll(tok, NULL, 10) << 20;
                s = NULL;
            }
            break;
        }
        case 'n':
            o->reps = atoi(optarg);
            break;
        case 'p':
            o->pool_bytes = strtoll(optarg, NULL, 10) << 20;
            break;
        case 'f':
            o->fetch_bytes = strtoll(optarg, NULL, 10) << 10;
            break;
        case 'd':
            o->no_dd = 1;
            break;
        case 'o':
            o->do_append = strstr(optarg, "append") != NULL;
            o->do_read = strstr(optarg, "read") != NULL;
            o->do_recover = strstr(optarg, "recover") != NULL;
            break;
        case 'k':
            o->keep_index = 1;
            break;
        case 'c':
            o->no_cold = 1;
            break;
        default:
            usage();
        }
    }
    if (optind != argc - 1 || o->reps < 1 || o->reps > MAX_REPS || o->append_bytes <= 0 ||
        o->pool_bytes <= 0 || o->fetch_bytes < BATCH_TARGET) {
        usage();
    }
    o->dir = argv[optind];
}

int main(int argc, char **argv)
{
    struct opts o;
    parse_args(argc, argv, &o);
    struct statfs sfs;
    if (statfs(o.dir, &sfs) != 0) {
        die(o.dir, strerror(errno));
    }
    printf("sluice store benchmark: dir %s (statfs type 0x%lx), append %" PRId64
           " MiB/run, pool %" PRId64 " MiB, %d runs each\n",
           o.dir, (unsigned long)sfs.f_type, o.append_bytes >> 20, o.pool_bytes >> 20, o.reps);
    fflush(stdout);

    static const struct {
        const char *name;
        size_t value_bytes;
    } kinds[] = {{"1KiB", 1024}, {"100B", 100}};
    struct append_result ar[2];
    struct read_result rr[2];
    int nread = 0;
    for (int k = 0; k < 2; k++) {
        char keep[PATH_MAX];
        path_fmt(keep, sizeof(keep), "%s/read%zu-0", o.dir, kinds[k].value_bytes);
        struct sl_log *log = NULL;
        if (o.do_append || o.do_read) {
            struct opts once = o;
            if (!o.do_append) {
                once.reps = 1; /* only to make the log that is read */
            }
            ar[k] = run_append(&once, kinds[k].name, kinds[k].value_bytes, keep,
                               o.do_read ? &log : NULL);
        }
        if (log) {
            rr[nread++] = run_read(&o, kinds[k].name, log);
            sl_log_close(log, 0);
        }
        rmtree(keep);
        sync();
    }
    if (o.do_append) {
        print_append(&o, ar, 2);
    }
    if (o.do_read) {
        print_read(&o, rr, nread);
    }
    fflush(stdout);
    if (o.do_recover) {
        struct recover_result rec[MAX_RECOVER];
        struct pool p;
        pool_build(&p, 1024, o.pool_bytes, 0x7ec0);
        for (int i = 0; i < o.nrecover; i++) {
            rec[i] = run_recover(&o, o.recover_bytes[i], &p);
        }
        pool_free(&p);
        print_recover(&o, rec, o.nrecover);
    }
    print_summary(&o, ar, rr, nread);
    return 0;
}
