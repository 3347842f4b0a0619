/*
 * io.c - file I/O shim for store/ with fault injection (see io.h). The fault table is
 * process-wide; only tests arm it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

struct fault {
    int armed;
    int skip;
    int err;
    size_t short_bytes;
    int times;
};

static struct fault faults[SL_IO_OP_COUNT];
static int any_armed;

void sl_io_fault_set(enum sl_io_op op, int skip, int err, size_t short_bytes, int times)
{
    faults[op] = (struct fault){1, skip, err, short_bytes, times};
    __atomic_store_n(&any_armed, 1, __ATOMIC_RELAXED);
}

void sl_io_fault_clear(void)
{
    memset(faults, 0, sizeof(faults));
    __atomic_store_n(&any_armed, 0, __ATOMIC_RELAXED);
}

/* Returns the fault to apply to this call of op, or NULL. */
static struct fault *fault_hit(enum sl_io_op op)
{
    if (!__atomic_load_n(&any_armed, __ATOMIC_RELAXED)) {
        return NULL;
    }
    struct fault *f = &faults[op];
    if (!f->armed) {
        return NULL;
    }
    if (f->skip > 0) {
        f->skip--;
        return NULL;
    }
    if (f->times > 0 && --f->times == 0) {
        f->armed = 0;
    }
    return f;
}

int sl_io_open(const char *path, int flags, mode_t mode)
{
    struct fault *f = fault_hit(SL_IO_OPEN);
    if (f) {
        return -f->err;
    }
    int fd;
    do {
        fd = open(path, flags | O_CLOEXEC, mode);
    } while (fd == -1 && errno == EINTR);
    return fd == -1 ? -errno : fd;
}

int sl_io_close(int fd)
{
    /* Linux closes the descriptor even when close reports EINTR: never retry. */
    return close(fd) == -1 && errno != EINTR ? -errno : 0;
}

ssize_t sl_io_pread(int fd, void *buf, size_t len, off_t off)
{
    struct fault *f = fault_hit(SL_IO_READ);
    if (f) {
        return -f->err;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);
        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            break;
        }
        done += (size_t)n;
    }
    return (ssize_t)done;
}

int sl_io_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
    struct fault *f = fault_hit(SL_IO_WRITE);
    if (f) {
        if (f->short_bytes > 0 && f->short_bytes < len) {
            /* A real short write: some bytes reach the file, then the caller sees failure. */
            ssize_t n = pwrite(fd, buf, f->short_bytes, off);
            (void)n;
            return -EIO;
        }
        return -f->err;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);
        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            return -EIO;
        }
        done += (size_t)n;
    }
    return 0;
}

int sl_io_fsync(int fd)
{
    struct fault *f = fault_hit(SL_IO_FSYNC);
    if (f) {
        return -f->err;
    }
    return fsync(fd) == -1 ? -errno : 0;
}

int sl_io_fdatasync(int fd)
{
    struct fault *f = fault_hit(SL_IO_FSYNC);
    if (f) {
        return -f->err;
    }
    return fdatasync(fd) == -1 ? -errno : 0;
}

int sl_io_ftruncate(int fd, off_t len)
{
    struct fault *f = fault_hit(SL_IO_TRUNCATE);
    if (f) {
        return -f->err;
    }
    int rc;
    do {
        rc = ftruncate(fd, len);
    } while (rc == -1 && errno == EINTR);
    return rc == -1 ? -errno : 0;
}

int sl_io_rename(const char *from, const char *to)
{
    struct fault *f = fault_hit(SL_IO_RENAME);
    if (f) {
        return -f->err;
    }
    return rename(from, to) == -1 ? -errno : 0;
}

int sl_io_unlink(const char *path)
{
    struct fault *f = fault_hit(SL_IO_UNLINK);
    if (f) {
        return -f->err;
    }
    return unlink(path) == -1 ? -errno : 0;
}

int sl_io_fsync_dir(const char *path)
{
    int fd = sl_io_open(path, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) {
        return fd;
    }
    int rc = sl_io_fsync(fd);
    sl_io_close(fd);
    return rc;
}

int sl_io_write_file_atomic(const char *dir, const char *name, const void *data, size_t len)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
        snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name) >= (int)sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    int fd = sl_io_open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return fd;
    }
    int rc = sl_io_pwrite_all(fd, data, len, 0);
    /* Crash after rename but before the data reached disk would leave an empty file under
     * the real name: sync the data first. */
    if (rc == 0) {
        rc = sl_io_fsync(fd);
    }
    sl_io_close(fd);
    if (rc == 0) {
        rc = sl_io_rename(tmp, path);
    }
    /* Crash after rename: without the directory sync the rename itself may be lost. */
    if (rc == 0) {
        rc = sl_io_fsync_dir(dir);
    } else {
        unlink(tmp);
    }
    return rc;
}

int64_t sl_io_fsize(int fd)
{
    struct stat st;
    return fstat(fd, &st) == -1 ? -errno : (int64_t)st.st_size;
}
