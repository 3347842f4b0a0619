/*
 * epoch.c - the leader-epoch cache: which leader epoch started at which offset, so a new
 * leader's followers can truncate to the exact point where they diverged (OffsetsForLeader-
 * Epoch) instead of to the high watermark. Persisted as Kafka's leader-epoch-checkpoint:
 * "0\n<count>\n<epoch> <start offset>\n...". Guarded by the owning log's mutex.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "log_int.h"

#define EPOCH_FILE "leader-epoch-checkpoint"

static int write_checkpoint(struct sl_log *log)
{
    size_t cap = 32 + log->nepochs * 34;
    char *buf = malloc(cap);
    if (!buf) {
        return -ENOMEM;
    }
    size_t len = (size_t)snprintf(buf, cap, "0\n%zu\n", log->nepochs);
    for (size_t i = 0; i < log->nepochs; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "%" PRId32 " %" PRId64 "\n",
                                log->epochs[i].epoch, log->epochs[i].start_offset);
    }
    /* Atomic replace: a crash leaves the old or the new cache, never a torn one. */
    int rc = sl_io_write_file_atomic(log->dir, EPOCH_FILE, buf, len);
    free(buf);
    return rc;
}

static int push(struct sl_log *log, int32_t epoch, int64_t start)
{
    if (log->nepochs == log->epochcap) {
        size_t ncap = log->epochcap ? log->epochcap * 2 : 8;
        struct sl_epoch_entry *n = realloc(log->epochs, ncap * sizeof(*n));
        if (!n) {
            return -ENOMEM;
        }
        log->epochs = n;
        log->epochcap = ncap;
    }
    log->epochs[log->nepochs++] = (struct sl_epoch_entry){epoch, start};
    return 0;
}

int sl__epoch_load(struct sl_log *log, struct sl_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", log->dir, EPOCH_FILE);
    FILE *f = fopen(path, "r");
    if (!f) {
        return errno == ENOENT ? 0 : sl_err_set(err, -errno, "%s: %s", path, strerror(errno));
    }
    int version;
    size_t count;
    int rc = 0;
    if (fscanf(f, "%d %zu", &version, &count) != 2 || version != 0) {
        rc = SL_ECORRUPT;
    }
    for (size_t i = 0; rc == 0 && i < count; i++) {
        int32_t epoch;
        int64_t start;
        if (fscanf(f, "%" SCNd32 " %" SCNd64, &epoch, &start) != 2 || epoch < 0 || start < 0 ||
            (log->nepochs && (epoch <= log->epochs[log->nepochs - 1].epoch ||
                              start < log->epochs[log->nepochs - 1].start_offset))) {
            rc = SL_ECORRUPT;
        } else {
            rc = push(log, epoch, start);
        }
    }
    fclose(f);
    if (rc == SL_ECORRUPT) {
        /* The cache is an optimisation for follower truncation; a damaged one is dropped
         * (followers then fall back to the high watermark), not a reason to refuse the log. */
        log->nepochs = 0;
        return write_checkpoint(log);
    }
    return rc == 0 ? 0 : sl_err_set(err, rc, "%s: %s", path, sl_strerror(rc));
}

int sl__epoch_assign_locked(struct sl_log *log, int32_t epoch, int64_t start,
                            struct sl_err *err)
{
    if (epoch < 0) {
        return 0;
    }
    if (log->nepochs) {
        struct sl_epoch_entry *last = &log->epochs[log->nepochs - 1];
        if (epoch < last->epoch || (epoch == last->epoch)) {
            return 0;
        }
        if (start < last->start_offset) {
            return 0;
        }
    }
    int rc = push(log, epoch, start);
    if (rc == 0) {
        rc = write_checkpoint(log);
    }
    return rc == 0 ? 0 : sl_err_set(err, rc, "leader-epoch-checkpoint: %s", sl_strerror(rc));
}

int sl__epoch_truncate_end_locked(struct sl_log *log, int64_t end_offset)
{
    size_t n = log->nepochs;
    while (log->nepochs && log->epochs[log->nepochs - 1].start_offset >= end_offset) {
        log->nepochs--;
    }
    return n == log->nepochs ? 0 : write_checkpoint(log);
}

int sl__epoch_truncate_start_locked(struct sl_log *log, int64_t start_offset)
{
    /* Entries wholly before the new start go; the last of them moves up to start_offset. */
    size_t drop = 0;
    while (drop + 1 < log->nepochs && log->epochs[drop + 1].start_offset <= start_offset) {
        drop++;
    }
    int changed = drop > 0;
    if (drop) {
        memmove(log->epochs, log->epochs + drop, (log->nepochs - drop) * sizeof(*log->epochs));
        log->nepochs -= drop;
    }
    if (log->nepochs && log->epochs[0].start_offset < start_offset) {
        log->epochs[0].start_offset = start_offset;
        changed = 1;
    }
    return changed ? write_checkpoint(log) : 0;
}

int sl_log_epoch_assign(struct sl_log *log, int32_t epoch, int64_t start_offset,
                        struct sl_err *err)
{
    pthread_mutex_lock(&log->mu);
    int rc = sl__epoch_assign_locked(log, epoch, start_offset, err);
    pthread_mutex_unlock(&log->mu);
    return rc;
}

int32_t sl_log_epoch_latest(struct sl_log *log)
{
    pthread_mutex_lock(&log->mu);
    int32_t e = log->nepochs ? log->epochs[log->nepochs - 1].epoch : -1;
    pthread_mutex_unlock(&log->mu);
    return e;
}

void sl_log_epoch_end_offset(struct sl_log *log, int32_t epoch, int32_t *end_epoch,
                             int64_t *end_offset)
{
    pthread_mutex_lock(&log->mu);
    *end_epoch = -1;
    *end_offset = -1;
    if (log->nepochs && epoch == log->epochs[log->nepochs - 1].epoch) {
        /* The current epoch ends at our log end; a newer one than we know is undefined. */
        *end_epoch = log->epochs[log->nepochs - 1].epoch;
        *end_offset = log->leo;
    } else {
        for (size_t i = 0; i + 1 < log->nepochs; i++) {
            if (log->epochs[i].epoch <= epoch && log->epochs[i + 1].epoch > epoch) {
                *end_epoch = log->epochs[i].epoch;
                *end_offset = log->epochs[i + 1].start_offset;
                break;
            }
        }
    }
    pthread_mutex_unlock(&log->mu);
}
