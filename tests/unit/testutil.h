/*
 * testutil.h - helpers shared by the unit tests: temporary directories, batch building,
 * whole-file reads. Header-only (static functions) so each test stays one executable.
 */
#ifndef SL_TESTUTIL_H
#define SL_TESTUTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/batch.h"
#include "store/log.h"

/* A fresh directory under $TMPDIR (or /tmp); free the result with tu_rmtree + free. */
static inline char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *path = malloc(PATH_MAX);
    snprintf(path, PATH_MAX, "%s/sluice-test-XXXXXX", base);
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        abort();
    }
    return path;
}

static inline void tu_rmtree(const char *path)
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
        snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
            tu_rmtree(child);
        } else {
            unlink(child);
        }
    }
    closedir(d);
    rmdir(path);
}

/*
 * Build a batch of n records, each value `value_size` bytes of a pattern derived from seed,
 * keys "k<i>", timestamps ts, ts+1, ... The caller frees *out.
 */
static inline size_t tu_batch(uint8_t **out, int n, size_t value_size, int64_t ts,
                              uint32_t seed)
{
    struct sl_batch_builder b;
    if (sl_batch_builder_init(&b, 0, ts) != 0) {
        abort();
    }
    uint8_t *val = malloc(value_size ? value_size : 1);
    for (int i = 0; i < n; i++) {
        char key[32];
        int klen = snprintf(key, sizeof(key), "k%d", i);
        for (size_t j = 0; j < value_size; j++) {
            val[j] = (uint8_t)(seed * 31 + (uint32_t)i * 7 + (uint32_t)j);
        }
        if (sl_batch_builder_add(&b, ts + i, key, klen, val, (int32_t)value_size, NULL, 0) != 0) {
            abort();
        }
    }
    free(val);
    size_t len;
    if (sl_batch_builder_finish(&b, out, &len) != 0) {
        abort();
    }
    sl_batch_builder_fini(&b);
    return len;
}

static inline int64_t tu_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static inline int tu_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* A log test's fixture: a fresh directory holding one partition directory (not created
 * yet), a default configuration, and the log once a test opens it. */
struct tu_log_fx {
    char *root;
    char dir[PATH_MAX];
    struct sl_log_config cfg;
    struct sl_log *log;
};

/* partition: the partition directory's name, e.g. "events-0". */
static inline struct tu_log_fx *tu_log_fx_new(const char *partition)
{
    struct tu_log_fx *f = calloc(1, sizeof(*f));
    f->root = tu_mkdtemp();
    snprintf(f->dir, sizeof(f->dir), "%s/%s", f->root, partition);
    sl_log_config_default(&f->cfg);
    return f;
}

/* Close the log as a crash would (no flush, no marker) and remove everything. */
static inline void tu_log_fx_free(struct tu_log_fx *f)
{
    sl_log_close(f->log, 0);
    tu_rmtree(f->root);
    free(f->root);
    free(f);
}

#endif
