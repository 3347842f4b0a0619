/*
 * test_file_channel.c - the durable file channel through the transaction API: events and
 * headers survive a clean stop and a crash (a child process that _exits without closing);
 * take commits out of order advance the cursor only over a contiguous prefix; a rollback
 * re-delivers in order before newer events; two sink threads (one rolling back) and a putter
 * lose nothing; concurrent put commits share fsyncs (group commit); a torn tail is cut; a
 * corrupt batch after the cursor is skipped and counted, at read time (clean stop) and by the
 * repair at open (crash), without losing the batches after it; disk full (ENOSPC injected
 * through store/io.c) refuses the put, keeps earlier events and recovers; a failed fsync
 * stops puts; minimumRequiredSpace refuses puts; segments behind the cursor are deleted; two
 * channels on one directory are refused; config errors. Also: more corrupt batches in one
 * read than the decoder's skip list holds; the new cursor file's directory fsync; rollback
 * without memory; a refill waking a second waiting sink.
 */
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

// clang-format off
#include <cmocka.h> /* after setjmp.h, stdarg.h and stddef.h */
// clang-format on

#include "agent/plugin.h"
#include "agent/registry.h"
#include "channels/file/file.h"
#include "channels/file/file_int.h"
#include "common/sl_macros.h"
#include "store/io.h"
#include "testutil.h"

static char *g_dir;

static int setup(void **state)
{
    g_dir = tu_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    sl_io_fault_clear();
    sl_fc_test_nomem = 0;
    sl_fc_test_refill_hook = NULL;
    tu_rmtree(g_dir);
    free(g_dir);
    return 0;
}

static struct sl_channel *chan_try(const char *extra, struct sl_err *err)
{
    struct sl_channel *c = calloc(1, sizeof(*c));
    c->ops = &sl_file_channel_ops;
    c->ctx = calloc(1, c->ops->ctx_size);
    snprintf(c->comp, sizeof(c->comp), "channel:file:test");
    char yaml[2048];
    snprintf(yaml, sizeof(yaml), "dataDir: %s/data\ncheckpointDir: %s/ckpt\n%s%s", g_dir, g_dir,
             strstr(extra, "minimumRequiredSpace") ? "" : "minimumRequiredSpace: 0\n", extra);
    struct sl_yaml_doc doc;
    assert_int_equal(sl_yaml_load_string(yaml, strlen(yaml), &doc, err), 0);
    int rc = sl_conf_bind(c->ops->conf, c->ctx, &doc, doc.root, NULL, "test", err);
    sl_yaml_free(&doc);
    if (rc == 0) {
        rc = c->ops->init(c, err);
    }
    if (rc != 0) {
        sl_conf_free(c->ops->conf, c->ctx);
        free(c->ctx);
        free(c);
        return NULL;
    }
    return c;
}

static struct sl_channel *chan_new(const char *extra)
{
    struct sl_err err = {0};
    struct sl_channel *c = chan_try(extra, &err);
    if (!c) {
        fail_msg("init: %s", err.msg);
    }
    return c;
}

static void chan_free(struct sl_channel *c)
{
    c->ops->fini(c);
    sl_conf_free(c->ops->conf, c->ctx);
    free(c->ctx);
    free(c);
}

static struct sl_event *ev_num(int i, size_t len)
{
    char body[4096];
    memset(body, 'x', sizeof(body));
    int n = snprintf(body, sizeof(body), "%d", i);
    body[n] = '.';
    struct sl_event *ev = sl_event_create(body, len > (size_t)n ? len : (size_t)n);
    char v[32];
    snprintf(v, sizeof(v), "h%d", i);
    sl_event_set_header(ev, "n", v);
    return ev;
}

static int ev_int(const struct sl_event *ev)
{
    char buf[32];
    size_t n = SL_MIN(ev->len, sizeof(buf) - 1);
    memcpy(buf, ev->body, n);
    buf[n] = '\0';
    return atoi(buf);
}

static int put_range(struct sl_channel *c, int from, int n, size_t len, int64_t wait_ms)
{
    struct sl_chan_tx tx;
    sl_chan_begin(c, 0, &tx);
    struct sl_event **evs = calloc((size_t)n, sizeof(*evs));
    for (int i = 0; i < n; i++) {
        evs[i] = ev_num(from + i, len);
        int rc = sl_chan_put(&tx, evs[i]);
        assert_int_equal(rc, 0);
    }
    int rc = sl_chan_commit_wait(&tx, wait_ms);
    if (rc != 0) {
        for (int i = 0; i < n; i++) {
            sl_event_destroy(evs[i]);
        }
    }
    free(evs);
    return rc;
}

/* Take up to max events (several transactions when committing) and check the bodies are
 * from, from+1, ... with their header; returns how many. With commit == 0 takes one
 * transaction and leaves it open in *keep. */
static size_t take_expect(struct sl_channel *c, int from, size_t max, int commit,
                          struct sl_chan_tx *keep)
{
    size_t total = 0;
    for (;;) {
        struct sl_chan_tx tx;
        sl_chan_begin(c, 1, &tx);
        size_t n = 0;
        while (total + n < max) {
            size_t got = sl_chan_take(&tx, max - total - n, 200);
            if (got == 0) {
                break;
            }
            n += got;
        }
        for (size_t i = 0; i < n; i++) {
            int want = from + (int)(total + i);
            assert_int_equal(ev_int(tx.evs[i]), want);
            char v[32];
            snprintf(v, sizeof(v), "h%d", want);
            assert_non_null(sl_event_header(tx.evs[i], "n"));
            assert_string_equal(sl_event_header(tx.evs[i], "n"), v);
        }
        total += n;
        if (!commit) {
            *keep = tx;
            return total;
        }
        sl_chan_commit(&tx);
        if (n == 0 || total >= max) {
            return total;
        }
    }
}

static struct sl_file_chan_stats fstats(struct sl_channel *c)
{
    struct sl_file_chan_stats st;
    sl_file_channel_stats(c, &st);
    return st;
}

static void test_put_take_restart_clean(void **state)
{
    struct sl_channel *c = chan_new("capacity: 1000\ntransactionCapacity: 100\n");
    assert_int_equal(put_range(c, 0, 50, 0, 0), 0);
    assert_int_equal(put_range(c, 50, 50, 300, 0), 0);
    assert_int_equal(fstats(c).size, 100);
    assert_true(fstats(c).fsyncs >= 2);
    assert_int_equal(take_expect(c, 0, 30, 1, NULL), 30);
    struct sl_chan_tx open_tx;
    assert_int_equal(take_expect(c, 30, 10, 0, &open_tx), 10);
    sl_chan_rollback(&open_tx); /* back to the head */
    assert_int_equal(fstats(c).size, 70);
    chan_free(c);

    c = chan_new("capacity: 1000\ntransactionCapacity: 100\n");
    assert_int_equal(take_expect(c, 30, 100, 1, NULL), 70);
    assert_int_equal(fstats(c).size, 0);
    assert_int_equal(put_range(c, 100, 5, 0, 0), 0);
    assert_int_equal(take_expect(c, 100, 5, 1, NULL), 5);
    chan_free(c);
}

static void test_rollback_order_and_out_of_order_commit(void **state)
{
    struct sl_channel *c = chan_new("capacity: 1000\ntransactionCapacity: 10\n");
    for (int i = 0; i < 4; i++) {
        assert_int_equal(put_range(c, i * 10, 10, 0, 0), 0);
    }
    struct sl_chan_tx a, b, d;
    assert_int_equal(take_expect(c, 0, 10, 0, &a), 10);
    assert_int_equal(take_expect(c, 10, 10, 0, &b), 10);
    assert_int_equal(take_expect(c, 20, 10, 0, &d), 10);
    /* Commit the newest first: the cursor cannot move past 0..9. */
    sl_chan_commit(&d);
    assert_int_equal(fstats(c).size, 30);
    /* Roll back 10..19 and 0..9 (newest first, as the runtime does): they come back in order,
     * before 30..39. */
    sl_chan_rollback(&b);
    sl_chan_rollback(&a);
    assert_int_equal(take_expect(c, 0, 20, 1, NULL), 20);
    assert_int_equal(take_expect(c, 30, 10, 1, NULL), 10);
    assert_int_equal(fstats(c).size, 0);
    chan_free(c);
}

/* Runs fn in a child that exits without closing anything: what kill -9 leaves. */
static void in_crashing_child(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fn();
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void crash_child_puts(void)
{
    struct sl_channel *c =
        chan_new("capacity: 1000\ntransactionCapacity: 100\nmaxFileSize: 4096\n");
    for (int i = 0; i < 20; i++) {
        if (put_range(c, i * 10, 10, 100, 0) != 0) {
            _exit(2);
        }
    }
    /* Take and commit 0..24; take 25..34 and never finish (the sink died with it). */
    struct sl_chan_tx tx;
    sl_chan_begin(c, 1, &tx);
    if (sl_chan_take(&tx, 25, 0) != 25) {
        _exit(3);
    }
    sl_chan_commit(&tx);
    sl_chan_begin(c, 1, &tx);
    sl_chan_take(&tx, 10, 0);
    _exit(0);
}

static void test_crash_replays_after_cursor(void **state)
{
    in_crashing_child(crash_child_puts);
    struct sl_channel *c =
        chan_new("capacity: 1000\ntransactionCapacity: 100\nmaxFileSize: 4096\n");
    assert_int_equal(take_expect(c, 25, 200, 1, NULL), 175);
    struct sl_file_chan_stats st = fstats(c);
    assert_int_equal(st.size, 0);
    assert_int_equal(st.corrupt_events, 0);
    chan_free(c);
}

/* The newest .log file under data/channel-0. */
static void last_segment(char *path, size_t len, int which_from_end)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/data/channel-0", g_dir);
    DIR *d = opendir(dir);
    assert_non_null(d);
    char names[64][32];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64) {
        size_t l = strlen(e->d_name);
        if (l == 24 && strcmp(e->d_name + 20, ".log") == 0) {
            memcpy(names[n++], e->d_name, 25);
        }
    }
    closedir(d);
    qsort(names, (size_t)n, 32, (int (*)(const void *, const void *))strcmp);
    assert_true(n > which_from_end);
    snprintf(path, len, "%s/%s", dir, names[n - 1 - which_from_end]);
}

static void test_torn_tail_cut(void **state)
{
    in_crashing_child(crash_child_puts);
    char seg[PATH_MAX];
    last_segment(seg, sizeof(seg), 0);
    FILE *fp = fopen(seg, "ab");
    assert_non_null(fp);
    fwrite("\0\0\0\0\0\0\0\0\0\0\0\x40garbage-of-an-unfinished-write", 1, 40, fp);
    fclose(fp);
    struct sl_channel *c =
        chan_new("capacity: 1000\ntransactionCapacity: 100\nmaxFileSize: 4096\n");
    assert_int_equal(take_expect(c, 25, 200, 1, NULL), 175);
    assert_int_equal(fstats(c).corrupt_events, 0);
    assert_int_equal(put_range(c, 200, 3, 0, 0), 0);
    assert_int_equal(take_expect(c, 200, 3, 1, NULL), 3);
    chan_free(c);
}

/* Flip a byte in the middle of the file's second batch (records of one put, 10 events). */
static void corrupt_second_batch(const char *seg, int header)
{
    FILE *fp = fopen(seg, "r+b");
    assert_non_null(fp);
    uint8_t hdr[12];
    assert_int_equal(fread(hdr, 1, 12, fp), 12);
    long first = 12 + (long)sl_load_be32(hdr + 8);
    long at = header ? first + 9 /* inside batchLength */ : first + 100;
    fseek(fp, at, SEEK_SET);
    int ch = fgetc(fp);
    fseek(fp, at, SEEK_SET);
    fputc(header ? 0x7f : ch ^ 0x55, fp);
    fclose(fp);
}

static void puts_40_in_4_batches(void)
{
    struct sl_channel *c = chan_new("capacity: 1000\ntransactionCapacity: 100\n");
    for (int i = 0; i < 4; i++) {
        if (put_range(c, i * 10, 10, 50, 0) != 0) {
            _exit(2);
        }
    }
}

static void crash_child_40(void)
{
    puts_40_in_4_batches();
    _exit(0);
}

static void check_skipped_second_batch(struct sl_channel *c)
{
    assert_int_equal(take_expect(c, 0, 10, 1, NULL), 10);
    assert_int_equal(take_expect(c, 20, 20, 1, NULL), 20);
    struct sl_file_chan_stats st = fstats(c);
    assert_int_equal(st.corrupt_events, 10);
    assert_int_equal(st.size, 0);
}

static void test_corrupt_batch_skipped_after_crash(void **state)
{
    in_crashing_child(crash_child_40);
    char seg[PATH_MAX];
    last_segment(seg, sizeof(seg), 0);
    corrupt_second_batch(seg, 0);
    struct sl_channel *c = chan_new("capacity: 1000\ntransactionCapacity: 100\n");
    check_skipped_second_batch(c);
    chan_free(c);
    /* The filler stays behind the cursor; a new start has nothing to deliver. */
    c = chan_new("capacity: 1000\ntransactionCapacity: 100\n");
    assert_int_equal(fstats(c).size, 0);
    chan_free(c);
}

static void test_corrupt_header_skipped_after_crash(void **state)
{
    in_crashing_child(crash_child_40);
    char seg[PATH_MAX];
    last_segment(seg, sizeof(seg), 0);
    corrupt_second_batch(seg, 1);
    struct sl_channel *c = chan_new("capacity: 1000\ntransactionCapacity: 100\n");
    check_skipped_second_batch(c);
    chan_free(c);
}

static void test_corrupt_batch_skipped_after_clean_stop(void **state)
{
    struct sl_channel *c = chan_new("capacity: 1000\ntransactionCapacity: 100\n");
    for (int i = 0; i < 4; i++) {
        assert_int_equal(put_range(c, i * 10, 10, 50, 0), 0);
    }
    chan_free(c);
    char seg[PATH_MAX];
    last_segment(seg, sizeof(seg), 0);
    corrupt_second_batch(seg, 0);
    c = chan_new("capacity: 1000\ntransactionCapacity: 100\n");
    check_skipped_second_batch(c);
    chan_free(c);
}

/* After a clean stop only the active segment is checked at open; a damaged header in an
 * older segment is met by a read, quarantined by a reopen, and skipped. */
static void test_corrupt_header_in_old_segment_after_clean_stop(void **state)
{
    const char *cfg = "capacity: 1000\ntransactionCapacity: 100\nmaxFileSize: 4096\n";
    struct sl_channel *c = chan_new(cfg);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(put_range(c, i * 10, 10, 300, 0), 0); /* ~3.2 KB: one per segment */
    }
    chan_free(c);
    char seg[PATH_MAX];
    last_segment(seg, sizeof(seg), 3); /* the segment of events 20..29 */
    FILE *fp = fopen(seg, "r+b");
    assert_non_null(fp);
    fseek(fp, 9, SEEK_SET);
    fputc(0x7f, fp); /* batchLength of its only batch */
    fclose(fp);
    c = chan_new(cfg);
    assert_int_equal(take_expect(c, 0, 20, 1, NULL), 20);
    assert_int_equal(take_expect(c, 30, 30, 1, NULL), 30);
    struct sl_file_chan_stats st = fstats(c);
    assert_int_equal(st.corrupt_events, 10);
    assert_int_equal(st.size, 0);
    assert_int_equal(st.failed, 0);
    assert_int_equal(put_range(c, 60, 5, 0, 0), 0);
    assert_int_equal(take_expect(c, 60, 5, 1, NULL), 5);
    chan_free(c);
}

/* More separate skipped ranges in one read than the decoder keeps at a time (every other
 * batch corrupt): the read resumes after the last decoded batch, so every valid event is
 * delivered and only the corrupt ones are counted. */
static void test_many_corrupt_batches_in_one_read(void **state)
{
    const char *cfg = "capacity: 1000\ntransactionCapacity: 100\n";
    struct sl_channel *c = chan_new(cfg);
    for (int i = 0; i < 61; i++) {
        assert_int_equal(put_range(c, i, 1, 50, 0), 0);
    }
    chan_free(c);
    char seg[PATH_MAX];
    last_segment(seg, sizeof(seg), 0);
    FILE *fp = fopen(seg, "r+b");
    assert_non_null(fp);
    long at = 0;
    for (int i = 0; i < 61; i++) { /* the last one stays valid: not a torn tail */
        uint8_t hdr[12];
        fseek(fp, at, SEEK_SET);
        assert_int_equal(fread(hdr, 1, 12, fp), 12);
        long len = (long)sl_load_be32(hdr + 8);
        if (i % 2) {
            long flip = at + 12 + len - 3; /* inside the last record: the CRC fails */
            fseek(fp, flip, SEEK_SET);
            int ch = fgetc(fp);
            fseek(fp, flip, SEEK_SET);
            fputc(ch ^ 0x55, fp);
        }
        at += 12 + len;
    }
    fclose(fp);
    c = chan_new(cfg);
    for (int i = 0; i <= 60; i += 2) {
        assert_int_equal(take_expect(c, i, 1, 1, NULL), 1);
    }
    assert_int_equal(take_expect(c, 61, 10, 1, NULL), 0);
    struct sl_file_chan_stats st = fstats(c);
    assert_int_equal(st.corrupt_events, 30);
    assert_int_equal(st.size, 0);
    chan_free(c);
}

/* A new cursor file is made durable with its directory: the directory fsync is done (and
 * its failure reported) before the open returns. */
static void test_cursor_created_with_directory_fsync(void **state)
{
    struct sl_fc_cursor cur;
    int64_t off = -1;
    int clean = -1;
    struct sl_err err = {0};
    sl_io_fault_set(SL_IO_FSYNC, 0, EIO, 0, 1);
    assert_int_equal(sl_fc_cursor_open(&cur, g_dir, 1, &off, &clean, &err), -EIO);
    assert_non_null(strstr(err.msg, "take-cursor"));
    sl_io_fault_clear();
    assert_int_equal(sl_fc_cursor_open(&cur, g_dir, 1, &off, &clean, &err), 0);
    assert_int_equal(off, 0);
    assert_int_equal(sl_fc_cursor_write(&cur, 42, 1), 0);
    sl_fc_cursor_close(&cur);
    sl_io_fault_set(SL_IO_FSYNC, 0, EIO, 0, 1); /* an existing cursor: no directory fsync */
    assert_int_equal(sl_fc_cursor_open(&cur, g_dir, 1, &off, &clean, &err), 0);
    sl_io_fault_clear();
    assert_int_equal(off, 42);
    assert_int_equal(clean, 1);
    sl_fc_cursor_close(&cur);
}

/* A rollback needs no memory: the room to put taken events back is reserved when they are
 * taken, so a rollback under memory pressure still returns every event (none destroyed and
 * left behind the cursor until a restart), and a take hands out no more events than it could
 * reserve that room for. */
static void test_rollback_without_memory(void **state)
{
    struct sl_channel *c = chan_new("capacity: 1000\ntransactionCapacity: 300\n");
    assert_int_equal(put_range(c, 0, 300, 0, 0), 0);
    struct sl_chan_tx a;
    assert_int_equal(take_expect(c, 0, 80, 0, &a), 80);
    sl_fc_test_nomem = 1;
    sl_chan_rollback(&a);
    struct sl_chan_tx b;
    sl_chan_begin(c, 1, &b);
    /* Only as many as there is room to put back: fewer than all 300, in order. */
    size_t got = sl_chan_take(&b, 300, 0);
    assert_true(got >= 80 && got < 300);
    for (size_t i = 0; i < got; i++) {
        assert_int_equal(ev_int(b.evs[i]), (int)i);
    }
    sl_chan_rollback(&b);
    sl_fc_test_nomem = 0;
    assert_int_equal(take_expect(c, 0, 300, 1, NULL), 300);
    assert_int_equal(fstats(c).size, 0);
    chan_free(c);
}

/* Two sinks on one channel: one waits while the other refills the read-ahead; the refill
 * wakes it when done, it does not sleep out its whole wait. */
static sem_t refill_started;
static void slow_refill(void)
{
    sem_post(&refill_started);
    usleep(300 * 1000); /* the other sink comes in and waits meanwhile */
}

struct taker {
    struct sl_channel *c;
    size_t max, got;
    int64_t wait_ms, took_ms;
    struct sl_chan_tx tx;
};

static void *taker_main(void *arg)
{
    struct taker *t = arg;
    int64_t t0 = sl_mono_ms();
    sl_chan_begin(t->c, 1, &t->tx);
    t->got = sl_chan_take(&t->tx, t->max, t->wait_ms);
    t->took_ms = sl_mono_ms() - t0;
    return NULL;
}

static void test_refill_wakes_other_taker(void **state)
{
    struct sl_channel *c = chan_new("capacity: 1000\ntransactionCapacity: 100\n");
    assert_int_equal(put_range(c, 0, 100, 0, 0), 0);
    assert_int_equal(put_range(c, 100, 100, 0, 0), 0);
    sem_init(&refill_started, 0, 0);
    sl_fc_test_refill_hook = slow_refill;
    struct taker a = {c, 1, 0, 0, 0, {0}}, b = {c, 10, 0, 4000, 0, {0}};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, taker_main, &a);
    sem_wait(&refill_started);
    sl_fc_test_refill_hook = NULL;
    pthread_create(&tb, NULL, taker_main, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.got, 1);
    assert_int_equal(b.got, 10);
    /* Woken by the refill (~0.3 s), not by the end of its 4 s wait. */
    assert_true(b.took_ms < 2000);
    sl_chan_commit(&a.tx);
    sl_chan_commit(&b.tx);
    assert_int_equal(fstats(c).size, 189);
    sem_destroy(&refill_started);
    chan_free(c);
}

static void test_segments_deleted_behind_cursor(void **state)
{
    struct sl_channel *c =
        chan_new("capacity: 10000\ntransactionCapacity: 100\nmaxFileSize: 4096\n");
    for (int i = 0; i < 30; i++) {
        assert_int_equal(put_range(c, i * 10, 10, 200, 0), 0);
    }
    uint64_t before = fstats(c).bytes_on_disk;
    assert_true(before > 60000);
    assert_int_equal(take_expect(c, 0, 300, 1, NULL), 300);
    uint64_t after = fstats(c).bytes_on_disk;
    assert_true(after <= 4096 + 2600);
    chan_free(c);
}

static void test_capacity_and_room(void **state)
{
    struct sl_channel *c = chan_new("capacity: 20\ntransactionCapacity: 10\n");
    assert_int_equal(put_range(c, 0, 10, 0, 0), 0);
    assert_int_equal(put_range(c, 10, 10, 0, 0), 0);
    assert_int_equal(put_range(c, 20, 1, 0, 0), SL_ERETRY);
    assert_int_equal(put_range(c, 20, 1, 0, 50), SL_ERETRY); /* waits, then gives up */
    assert_int_equal(take_expect(c, 0, 5, 1, NULL), 5);
    assert_int_equal(put_range(c, 20, 5, 0, 0), 0);
    assert_int_equal(put_range(c, 25, 1, 0, 0), SL_ERETRY);
    chan_free(c);
}

struct mt {
    struct sl_channel *c;
    int total;
    int fail_every; /* sink: roll back every n-th batch; 0 = never */
    int *seen;      /* per event: times committed */
    pthread_mutex_t *mu;
    int *committed;
    int id;
};

static void *putter(void *arg)
{
    struct mt *m = arg;
    for (int i = 0; i < m->total; i += 10) {
        while (put_range(m->c, i, 10, 100, 100) != 0) {
        }
    }
    return NULL;
}

static void *sink(void *arg)
{
    struct mt *m = arg;
    int batches = 0;
    for (;;) {
        pthread_mutex_lock(m->mu);
        int done = *m->committed >= m->total;
        pthread_mutex_unlock(m->mu);
        if (done) {
            break;
        }
        struct sl_chan_tx tx;
        sl_chan_begin(m->c, 1, &tx);
        sl_chan_take(&tx, 7, 20);
        if (tx.n == 0) {
            sl_chan_rollback(&tx);
            continue;
        }
        /* In order within the batch. */
        for (size_t i = 1; i < tx.n; i++) {
            assert_true(ev_int(tx.evs[i - 1]) < ev_int(tx.evs[i]));
        }
        if (m->fail_every && ++batches % m->fail_every == 0) {
            sl_chan_rollback(&tx);
            continue;
        }
        pthread_mutex_lock(m->mu);
        for (size_t i = 0; i < tx.n; i++) {
            m->seen[ev_int(tx.evs[i])]++;
        }
        *m->committed += (int)tx.n;
        pthread_mutex_unlock(m->mu);
        sl_chan_commit(&tx);
    }
    return NULL;
}

static void test_two_sinks_one_failing(void **state)
{
    struct sl_channel *c = chan_new("capacity: 500\ntransactionCapacity: 50\n");
    int total = 3000;
    int *seen = calloc((size_t)total, sizeof(int));
    int committed = 0;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    struct mt p = {c, total, 0, seen, &mu, &committed, 0};
    struct mt s1 = {c, total, 0, seen, &mu, &committed, 1};
    struct mt s2 = {c, total, 2, seen, &mu, &committed, 2};
    pthread_t tp, t1, t2;
    pthread_create(&tp, NULL, putter, &p);
    pthread_create(&t1, NULL, sink, &s1);
    pthread_create(&t2, NULL, sink, &s2);
    pthread_join(tp, NULL);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    for (int i = 0; i < total; i++) {
        assert_int_equal(seen[i], 1);
    }
    assert_int_equal(fstats(c).size, 0);
    free(seen);
    chan_free(c);
}

static void *group_putter(void *arg)
{
    struct mt *m = arg;
    for (int i = 0; i < 40; i++) {
        assert_int_equal(put_range(m->c, m->id * 1000 + i, 1, 100, -1), 0);
    }
    return NULL;
}

static void test_group_commit_shares_fsyncs(void **state)
{
    struct sl_channel *c = chan_new("capacity: 10000\ntransactionCapacity: 10\n");
    pthread_t t[8];
    struct mt m[8];
    for (int i = 0; i < 8; i++) {
        m[i] = (struct mt){.c = c, .id = i};
        pthread_create(&t[i], NULL, group_putter, &m[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
    }
    struct sl_file_chan_stats st = fstats(c);
    assert_int_equal(st.size, 320);
    /* 320 commits from 8 threads at once: a flush started by one covers the batches the
     * others appended meanwhile, so there are fewer flushes than commits. */
    assert_true(st.fsyncs < 320);
    print_message("group commit: 320 put commits, %llu fsyncs\n", (unsigned long long)st.fsyncs);
    chan_free(c);
}

static void test_disk_full_then_recovers(void **state)
{
    struct sl_channel *c = chan_new("capacity: 1000\ntransactionCapacity: 100\n");
    assert_int_equal(put_range(c, 0, 10, 0, 0), 0);
    /* Open the log before arming the fault, so the fault hits the append. */
    sl_io_fault_set(SL_IO_WRITE, 0, ENOSPC, 0, 1);
    assert_int_equal(put_range(c, 10, 10, 0, 0), SL_ERETRY);
    /* A short write (part of the batch lands) is cut as well. */
    sl_io_fault_set(SL_IO_WRITE, 0, ENOSPC, 30, 1);
    assert_int_equal(put_range(c, 10, 10, 0, 0), SL_ERETRY);
    sl_io_fault_clear();
    /* Space is back: the source's retry goes through; nothing earlier was lost. */
    assert_int_equal(put_range(c, 10, 10, 0, 0), 0);
    assert_int_equal(take_expect(c, 0, 20, 1, NULL), 20);
    assert_int_equal(fstats(c).failed, 0);
    chan_free(c);
    c = chan_new("capacity: 1000\ntransactionCapacity: 100\n");
    assert_int_equal(fstats(c).size, 0);
    assert_int_equal(put_range(c, 20, 1, 0, 0), 0);
    assert_int_equal(take_expect(c, 20, 5, 1, NULL), 1);
    chan_free(c);
}

static void test_fsync_failure_stops_puts(void **state)
{
    struct sl_channel *c = chan_new("capacity: 1000\ntransactionCapacity: 100\n");
    assert_int_equal(put_range(c, 0, 10, 0, 0), 0);
    sl_io_fault_set(SL_IO_FSYNC, 0, EIO, 0, 1);
    assert_int_equal(put_range(c, 10, 10, 0, 0), SL_ERETRY);
    sl_io_fault_clear();
    assert_int_equal(put_range(c, 10, 10, 0, 0), SL_ERETRY); /* poisoned until restart */
    assert_int_equal(fstats(c).failed, 1);
    chan_free(c);
    c = chan_new("capacity: 1000\ntransactionCapacity: 100\n");
    /* 0..9 are durable; 10..19 were never acknowledged (may or may not be there). */
    size_t n = take_expect(c, 0, 100, 1, NULL);
    assert_true(n == 10 || n == 20);
    assert_int_equal(put_range(c, 100, 1, 0, 0), 0);
    chan_free(c);
}

static void test_minimum_required_space(void **state)
{
    struct sl_channel *c = chan_new("minimumRequiredSpace: 1000000000000000\n");
    assert_int_equal(put_range(c, 0, 1, 0, 0), SL_ERETRY);
    assert_int_equal(put_range(c, 0, 1, 0, 0), SL_ERETRY);
    assert_int_equal(fstats(c).space_refusals, 2);
    assert_int_equal(fstats(c).size, 0);
    chan_free(c);
}

static void test_directory_locked(void **state)
{
    struct sl_channel *a = chan_new("");
    struct sl_channel *b = chan_new("");
    assert_int_equal(put_range(a, 0, 1, 0, 0), 0);
    assert_int_equal(put_range(b, 5, 1, 0, 0), SL_ERETRY);
    struct sl_chan_tx tx;
    assert_int_equal(take_expect(a, 0, 5, 1, &tx), 1);
    chan_free(b);
    chan_free(a);
}

static void test_config_errors(void **state)
{
    struct sl_err err = {0};
    assert_null(chan_try("capacity: 10\ntransactionCapacity: 11\n", &err));
    assert_non_null(strstr(err.msg, "transactionCapacity"));
    assert_null(chan_try("maxFileSize: 10\n", &err));
    assert_non_null(strstr(err.msg, "maxFileSize"));
    assert_null(chan_try("fsync: maybe\n", &err));
    assert_non_null(strstr(err.msg, "fsync"));
    assert_null(chan_try("dataDirs: /x\n", &err));
    assert_non_null(strstr(err.msg, "dataDirs"));
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/afile", g_dir);
    FILE *fp = fopen(path, "w");
    fclose(fp);
    struct sl_channel *c = calloc(1, sizeof(*c));
    c->ops = &sl_file_channel_ops;
    c->ctx = calloc(1, c->ops->ctx_size);
    char yaml[PATH_MAX + 64];
    snprintf(yaml, sizeof(yaml), "dataDir: %s\n", path);
    struct sl_yaml_doc doc;
    assert_int_equal(sl_yaml_load_string(yaml, strlen(yaml), &doc, &err), 0);
    assert_int_equal(sl_conf_bind(c->ops->conf, c->ctx, &doc, doc.root, NULL, "test", &err), 0);
    sl_yaml_free(&doc);
    assert_int_equal(c->ops->init(c, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "not a directory"));
    sl_conf_free(c->ops->conf, c->ctx);
    free(c->ctx);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_take_restart_clean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_order_and_out_of_order_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_crash_replays_after_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_batch_skipped_after_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_header_skipped_after_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_batch_skipped_after_clean_stop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_header_in_old_segment_after_clean_stop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_many_corrupt_batches_in_one_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_created_with_directory_fsync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_without_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refill_wakes_other_taker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segments_deleted_behind_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capacity_and_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_sinks_one_failing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit_shares_fsyncs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_full_then_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_failure_stops_puts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_minimum_required_space, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_locked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
