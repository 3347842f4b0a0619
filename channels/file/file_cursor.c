/*
 * file_cursor.c - the file channel's durable take cursor: every offset below it was taken
 * and committed by a sink. Owned by file.c, which serializes every call.
 *
 * Format: two 64-byte slots in one file (well inside one sector-aligned page), written in
 * turn with pwrite + fdatasync, never renamed. A slot is
 *   0 magic "SLFC" | 4 version u32 (1) | 8 seq u64 | 16 cursor i64 | 24 clean u32
 *   | 28..59 zero | 60 CRC-32C of bytes 0..59 (all big-endian).
 * Reading takes the valid slot with the larger seq. A crash in the middle of a write can tear
 * only the slot being written; the other slot still holds the previous cursor, which is
 * behind the new one, so at worst a few events are delivered twice (at least once holds).
 * This costs one fdatasync per write, where temp file + rename + directory sync costs two
 * fsyncs and a directory update. The directory is fsync'ed once, when the file is new (or
 * still empty), so its name survives a power loss.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/file/file_int.h"
#include "common/sl_macros.h"
#include "store/crc32c.h"
#include "store/io.h"

#define SLOT    64
#define MAGIC   "SLFC"
#define VERSION 1
#define CRC_AT  60

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, (uint32_t)(v >> 32));
    put_u32(p + 4, (uint32_t)v);
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

/* 1 and the fields when the slot is valid. */
static int slot_parse(const uint8_t *s, uint64_t *seq, int64_t *off, int *clean)
{
    if (memcmp(s, MAGIC, 4) != 0 || get_u32(s + 4) != VERSION ||
        sl_crc32c(0, s, CRC_AT) != get_u32(s + CRC_AT)) {
        return 0;
    }
    *seq = get_u64(s + 8);
    *off = (int64_t)get_u64(s + 16);
    *clean = get_u32(s + 24) != 0;
    return *off >= 0;
}

int sl_fc_cursor_open(struct sl_fc_cursor *c, const char *dir, int sync, int64_t *offset,
                      int *clean, struct sl_err *err)
{
    char path[4096];
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->sync = sync;
    *offset = 0;
    *clean = 0;
    snprintf(path, sizeof(path), "%s/%s", dir, SL_FC_CURSOR_NAME);
    int fd = sl_io_open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) {
        return sl_err_set(err, fd, "%s: %s", path, sl_strerror(fd));
    }
    uint8_t buf[2 * SLOT];
    ssize_t n = sl_io_pread(fd, buf, sizeof(buf), 0);
    if (n < 0) {
        sl_io_close(fd);
        return sl_err_set(err, (int)n, "%s: %s", path, sl_strerror((int)n));
    }
    if (n == 0 && sync) {
        /* New (or never written): make its name durable, else a power loss could take the
         * file, and with it every cursor written to it, back out of the directory. */
        int drc = sl_io_fsync_dir(dir);
        if (drc != 0) {
            sl_io_close(fd);
            return sl_err_set(err, drc, "%s: fsync of the directory: %s", path, sl_strerror(drc));
        }
    }
    int found = 0;
    for (int i = 0; i < 2 && n >= (i + 1) * SLOT; i++) {
        uint64_t seq;
        int64_t off;
        int cl;
        if (slot_parse(buf + i * SLOT, &seq, &off, &cl) && (!found || seq > c->seq)) {
            found = 1;
            c->seq = seq;
            *offset = off;
            *clean = cl;
        }
    }
    if (!found && n > 0) {
        /* Both slots bad: not a crash artefact (only one slot is ever in flight). Refuse
         * rather than start from 0 and deliver the whole log again silently. */
        sl_io_close(fd);
        return sl_err_set(err, SL_ECORRUPT,
                          "%s: no valid cursor slot in %zd bytes (damaged file; delete it to "
                          "deliver everything still in the data directory again)",
                          path, n);
    }
    c->fd = fd;
    c->dir = strdup(dir);
    if (!c->dir) {
        sl_io_close(fd);
        c->fd = -1;
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    return 0;
}

int sl_fc_cursor_write(struct sl_fc_cursor *c, int64_t offset, int clean)
{
    uint8_t s[SLOT];
    memset(s, 0, sizeof(s));
    uint64_t seq = c->seq + 1;
    memcpy(s, MAGIC, 4);
    put_u32(s + 4, VERSION);
    put_u64(s + 8, seq);
    put_u64(s + 16, (uint64_t)offset);
    put_u32(s + 24, clean ? 1 : 0);
    put_u32(s + CRC_AT, sl_crc32c(0, s, CRC_AT));
    int rc = sl_io_pwrite_all(c->fd, s, SLOT, (off_t)((seq & 1) * SLOT));
    /* Without this, a power loss could bring back an older cursor: harmless duplicates, but
     * segments already deleted behind the newer one would then be missing. */
    if (rc == 0 && c->sync) {
        rc = sl_io_fdatasync(c->fd);
    }
    if (rc == 0) {
        c->seq = seq;
    }
    return rc;
}

void sl_fc_cursor_close(struct sl_fc_cursor *c)
{
    if (c->fd >= 0) {
        sl_io_close(c->fd);
    }
    c->fd = -1;
    free(c->dir);
    c->dir = NULL;
}
