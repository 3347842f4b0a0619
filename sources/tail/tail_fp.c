/*
 * tail_fp.c - recognising a file again: a hash of its first bytes (which a new file on a
 * reused inode almost never shares) and a hash of the bytes just before the saved offset
 * (which a file truncated and regrown past that offset almost never keeps). Device and inode
 * are compared by the caller. No state; any thread.
 */
#include <errno.h>
#include <unistd.h>

#include "sources/tail/tail_int.h"

uint64_t sl__tail_hash(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

int sl__tail_fp_read(int fd, uint64_t off, size_t len, uint64_t *hash)
{
    unsigned char buf[SL_TAIL_HEAD_MAX > SL_TAIL_MARK_MAX ? SL_TAIL_HEAD_MAX : SL_TAIL_MARK_MAX];
    if (len > sizeof(buf)) {
        return -EINVAL;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (r == 0) {
            return SL_ETRUNCATED;
        }
        got += (size_t)r;
    }
    *hash = sl__tail_hash(buf, len);
    return 0;
}

enum sl_tail_verdict sl__tail_fp_check(int fd, uint64_t size, const struct sl_tail_ident *id)
{
    if (size < id->pos) {
        return SL_TAIL_SHRUNK;
    }
    uint64_t h;
    if (id->head_len) {
        int rc = sl__tail_fp_read(fd, 0, id->head_len, &h);
        if (rc == SL_ETRUNCATED) {
            return SL_TAIL_HEAD_CHANGED; /* shorter than its own head was */
        }
        if (rc != 0) {
            return SL_TAIL_IO_ERROR;
        }
        if (h != id->head) {
            return SL_TAIL_HEAD_CHANGED;
        }
    }
    if (id->mark_len && id->mark_len <= id->pos) {
        int rc = sl__tail_fp_read(fd, id->pos - id->mark_len, id->mark_len, &h);
        if (rc == SL_ETRUNCATED) {
            return SL_TAIL_SHRUNK;
        }
        if (rc != 0) {
            return SL_TAIL_IO_ERROR;
        }
        if (h != id->mark) {
            return SL_TAIL_MARK_CHANGED;
        }
    }
    return SL_TAIL_SAME;
}

const char *sl__tail_verdict_str(enum sl_tail_verdict v)
{
    switch (v) {
    case SL_TAIL_SAME:
        return "unchanged";
    case SL_TAIL_SHRUNK:
        return "it shrank below the saved offset (truncated)";
    case SL_TAIL_HEAD_CHANGED:
        return "its first bytes changed (a new file on a reused inode, or rewritten)";
    case SL_TAIL_MARK_CHANGED:
        return "the bytes before the saved offset changed (truncated, then regrown)";
    case SL_TAIL_IO_ERROR:
        return "it could not be read";
    }
    return "?";
}
