/*
 * bench_file_channel.c - durable throughput of the file channel, driven directly through the
 * channel transaction API (what a source and a sink do in the agent), next to the raw
 * fdatasync rate of the same disk measured in the same run with the same write sizes.
 *
 * For each event size: P putter threads commit put transactions of B events each (every
 * commit returns only once its batch is fdatasync'ed), while one taker thread takes and
 * commits in transactions of B events (each commit persists the take cursor), so the channel
 * never fills. Figures: events/s and MiB/s of event bodies put, fsyncs, and the raw
 * baseline: pwrite of B * size bytes + fdatasync in a loop on a file in the same directory.
 * `--raw BYTES [SECONDS]` measures only that baseline for one write size (the script uses it
 * for the bytes per fsync the whole agent reached).
 *
 * Built and run by bench/run_file_channel.sh (it links the agent library, which bench/*.c
 * programs do not). Threads: main, the putters and the taker; the channel is thread-safe.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/plugin.h"
#include "channels/file/file.h"
#include "conf/confmap.h"
#include "conf/yaml.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct run {
    struct sl_channel *c;
    size_t ev_size, batch;
    long puts_per_thread;
    long taken;
    long total;
};

static void *putter(void *arg)
{
    struct run *r = arg;
    char *body = malloc(r->ev_size);
    memset(body, 'x', r->ev_size);
    struct sl_event **evs = malloc(r->batch * sizeof(*evs));
    for (long p = 0; p < r->puts_per_thread; p++) {
        for (size_t i = 0; i < r->batch; i++) {
            evs[i] = sl_event_create(body, r->ev_size);
        }
        for (;;) {
            struct sl_chan_tx tx;
            sl_chan_begin(r->c, 0, &tx);
            for (size_t i = 0; i < r->batch; i++) {
                sl_chan_put(&tx, evs[i]);
            }
            int rc = sl_chan_commit_wait(&tx, 1000);
            if (rc == 0) {
                break;
            }
            if (rc != SL_ERETRY) {
                fprintf(stderr, "put failed: %s\n", sl_strerror(rc));
                exit(1);
            }
        }
    }
    free(evs);
    free(body);
    return NULL;
}

static void *taker(void *arg)
{
    struct run *r = arg;
    while (r->taken < r->total) {
        struct sl_chan_tx tx;
        sl_chan_begin(r->c, 1, &tx);
        sl_chan_take(&tx, r->batch, 100);
        r->taken += (long)tx.n;
        sl_chan_commit(&tx);
    }
    return NULL;
}

static struct sl_channel *chan_open(const char *dir, size_t batch)
{
    struct sl_channel *c = calloc(1, sizeof(*c));
    c->ops = &sl_file_channel_ops;
    c->ctx = calloc(1, c->ops->ctx_size);
    snprintf(c->comp, sizeof(c->comp), "channel:file:bench");
    char yaml[4096];
    snprintf(yaml, sizeof(yaml),
             "dataDir: %s/data\ncheckpointDir: %s/ckpt\ncapacity: 1000000\n"
             "transactionCapacity: %zu\nminimumRequiredSpace: 0\n",
             dir, dir, batch);
    struct sl_yaml_doc doc;
    struct sl_err err = {0};
    if (sl_yaml_load_string(yaml, strlen(yaml), &doc, &err) != 0 ||
        sl_conf_bind(c->ops->conf, c->ctx, &doc, doc.root, NULL, "bench", &err) != 0 ||
        c->ops->init(c, &err) != 0 || c->ops->start(c, &err) != 0) {
        fprintf(stderr, "channel: %s\n", err.msg);
        exit(1);
    }
    sl_yaml_free(&doc);
    return c;
}

static void chan_close(struct sl_channel *c)
{
    c->ops->stop(c);
    c->ops->fini(c);
    sl_conf_free(c->ops->conf, c->ctx);
    free(c->ctx);
    free(c);
}

/* Raw baseline: pwrite `bytes` at the end of a file + fdatasync, for `secs` seconds. */
static void raw_fsync(const char *dir, size_t bytes, double secs)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/raw-fsync", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    char *buf = malloc(bytes);
    memset(buf, 'r', bytes);
    long n = 0;
    off_t off = 0;
    double t0 = now_s(), t;
    do {
        if (pwrite(fd, buf, bytes, off) != (ssize_t)bytes || fdatasync(fd) != 0) {
            perror("raw write");
            exit(1);
        }
        off += (off_t)bytes;
        n++;
        t = now_s() - t0;
    } while (t < secs);
    printf("  raw pwrite+fdatasync of %7zu B: %8.0f fsyncs/s  %8.1f MiB/s\n", bytes, (double)n / t,
           (double)n * (double)bytes / t / 1048576.0);
    close(fd);
    unlink(path);
    free(buf);
}

static void run_one(const char *dir, size_t ev_size, size_t batch, int threads, long mib)
{
    char sub[4096];
    snprintf(sub, sizeof(sub), "%s/fc-%zu-%zu-%d", dir, ev_size, batch, threads);
    mkdir(sub, 0755);
    struct sl_channel *c = chan_open(sub, batch);
    struct run r = {.c = c, .ev_size = ev_size, .batch = batch};
    long events = mib * 1048576L / (long)ev_size;
    r.puts_per_thread = events / (long)batch / threads;
    if (r.puts_per_thread < 1) {
        r.puts_per_thread = 1;
    }
    r.total = r.puts_per_thread * threads * (long)batch;
    pthread_t tk, tp[16];
    double t0 = now_s();
    pthread_create(&tk, NULL, taker, &r);
    for (int i = 0; i < threads; i++) {
        pthread_create(&tp[i], NULL, putter, &r);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(tp[i], NULL);
    }
    double put_s = now_s() - t0;
    pthread_join(tk, NULL);
    double all_s = now_s() - t0;
    struct sl_file_chan_stats st;
    sl_file_channel_stats(c, &st);
    long commits = r.puts_per_thread * threads;
    printf("  file channel %5zu B events, %5zu/put, %d putter%s: %9.0f events/s  %7.1f MiB/s  "
           "(%ld puts, %llu fsyncs = %.2f puts/fsync; drained in %.2fs)\n",
           ev_size, batch, threads, threads > 1 ? "s" : " ", (double)r.total / put_s,
           (double)r.total * (double)ev_size / put_s / 1048576.0, commits,
           (unsigned long long)st.fsyncs, st.fsyncs ? (double)commits / (double)st.fsyncs : 0.0,
           all_s);
    chan_close(c);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_file_channel DIR [MIB_PER_RUN] [BATCH]\n"
                        "       bench_file_channel DIR --raw BYTES [SECONDS]\n");
        return 2;
    }
    const char *dir = argv[1];
    if (argc > 3 && strcmp(argv[2], "--raw") == 0) {
        /* Only the disk's rate for one write size (the script's whole-agent comparison). */
        long bytes = atol(argv[3]);
        raw_fsync(dir, bytes > 0 ? (size_t)bytes : 4096, argc > 4 ? atof(argv[4]) : 3.0);
        return 0;
    }
    long mib = argc > 2 ? atol(argv[2]) : 256;
    size_t batch = argc > 3 ? (size_t)atol(argv[3]) : 1000;
    size_t sizes[2] = {200, 1024};
    for (int i = 0; i < 2; i++) {
        size_t ev = sizes[i];
        printf("%zu-byte events (%ld MiB per run, %zu events per put transaction)\n", ev, mib,
               batch);
        raw_fsync(dir, batch * ev, 3.0);
        run_one(dir, ev, batch, 1, mib);
        run_one(dir, ev, batch, 4, mib);
        run_one(dir, ev, 100, 1, mib / 4 > 0 ? mib / 4 : 1);
    }
    raw_fsync(dir, 4096, 3.0);
    return 0;
}
