/*
 * io.h - the one door through which store/ touches files, so tests can inject EIO, ENOSPC
 * and short writes at a chosen call (SQLite's SimulateIOError, made explicit).
 *
 * Every wrapper behaves like its syscall but returns 0 / a byte count, or -errno; EINTR is
 * retried inside. The fault table is process-wide and meant for single-threaded tests: it
 * is read with relaxed atomics on the I/O path and costs one load when disarmed.
 */
#ifndef SL_IO_H
#define SL_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum sl_io_op {
    SL_IO_OPEN,
    SL_IO_READ,  /* sl_io_pread */
    SL_IO_WRITE, /* sl_io_pwrite and sl_io_write_all */
    SL_IO_FSYNC, /* sl_io_fsync, sl_io_fdatasync, sl_io_fsync_dir */
    SL_IO_TRUNCATE,
    SL_IO_RENAME,
    SL_IO_UNLINK,
    SL_IO_OP_COUNT,
};

/*
 * Arm a fault: the (skip+1)-th call of op from now on fails with -err (err > 0), or, when
 * short_bytes > 0 and op is SL_IO_WRITE, writes only short_bytes bytes and reports them (a
 * short write; the caller must treat it as failure). The fault fires `times` times (-1:
 * forever). Tests only.
 */
void sl_io_fault_set(enum sl_io_op op, int skip, int err, size_t short_bytes, int times);

/* Disarm every fault. */
void sl_io_fault_clear(void);

/* Returns fd or -errno. */
int sl_io_open(const char *path, int flags, mode_t mode);
int sl_io_close(int fd);

/* Read up to len bytes at off; returns bytes read (short only at end of file) or -errno. */
ssize_t sl_io_pread(int fd, void *buf, size_t len, off_t off);

/* Write all len bytes at off. Returns 0, -errno, or -EIO after a short write it could not
 * complete (ENOSPC included). May block. */
int sl_io_pwrite_all(int fd, const void *buf, size_t len, off_t off);

int sl_io_fsync(int fd);
int sl_io_fdatasync(int fd);
int sl_io_ftruncate(int fd, off_t len);
int sl_io_rename(const char *from, const char *to);
int sl_io_unlink(const char *path);

/* fsync the directory at path, making renames, creates and unlinks in it durable. */
int sl_io_fsync_dir(const char *path);

/*
 * Write data to path atomically: write path.tmp, fsync it, rename over path, fsync the
 * directory. A crash leaves either the old or the new content, never a mix.
 */
int sl_io_write_file_atomic(const char *dir, const char *name, const void *data, size_t len);

/* Size of the open file, or -errno. */
int64_t sl_io_fsize(int fd);

#endif
