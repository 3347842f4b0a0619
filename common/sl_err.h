/*
 * sl_err.h - error codes and the human-readable error detail carried beside them.
 *
 * Functions return int: 0 on success, a negative errno, or a negative SL_E* code.
 * SL_E* codes sit below -4096 so they never collide with -errno values.
 * Header-only, so store/ can include it and still link against nothing of ours.
 * No shared state: a struct sl_err belongs to whoever declared it.
 */
#ifndef SL_ERR_H
#define SL_ERR_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum {
    SL_OK = 0,
    SL_EBASE = -5000,
    SL_ECORRUPT = SL_EBASE - 1,   /* bytes on disk or on the wire fail validation */
    SL_ETOOLARGE = SL_EBASE - 2,  /* a size limit was exceeded */
    SL_ETRUNCATED = SL_EBASE - 3, /* input ends in the middle of a structure */
    SL_EFAILED = SL_EBASE - 4,    /* the object was poisoned by an earlier I/O failure */
    SL_ERANGE = SL_EBASE - 5,     /* an offset outside what the log holds */
    SL_ECONFIG = SL_EBASE - 6,    /* a configuration key or value was rejected */
    SL_EUNSUPPORTED = SL_EBASE - 7, /* valid input we do not implement */
    SL_ECRC = SL_EBASE - 8,       /* checksum mismatch */
    SL_EEXIST = SL_EBASE - 9,     /* the thing already exists */
    SL_ENOENT = SL_EBASE - 10,    /* the thing does not exist */
    SL_EBUSY = SL_EBASE - 11,     /* held by another user (e.g. a locked log directory) */
    SL_ERETRY = SL_EBASE - 12,    /* transient: try again later */
};

/* Human detail for an error. file/line/col are for configuration errors (0 when unused). */
struct sl_err {
    char msg[512];
    const char *file;
    int line;
    int col;
};

static inline const char *sl_strerror(int rc)
{
    switch (rc) {
    case SL_OK:
        return "ok";
    case SL_ECORRUPT:
        return "corrupt data";
    case SL_ETOOLARGE:
        return "too large";
    case SL_ETRUNCATED:
        return "truncated input";
    case SL_EFAILED:
        return "log failed earlier";
    case SL_ERANGE:
        return "offset out of range";
    case SL_ECONFIG:
        return "invalid configuration";
    case SL_EUNSUPPORTED:
        return "unsupported";
    case SL_ECRC:
        return "checksum mismatch";
    case SL_EEXIST:
        return "already exists";
    case SL_ENOENT:
        return "does not exist";
    case SL_EBUSY:
        return "busy";
    case SL_ERETRY:
        return "try again";
    default:
        return rc < 0 && rc > -4096 ? strerror(-rc) : "unknown error";
    }
}

/* Record a formatted message in err (which may be NULL). Returns rc, for `return sl_err_set(...)`. */
__attribute__((format(printf, 3, 4))) static inline int sl_err_set(struct sl_err *err, int rc,
                                                                    const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        err->file = NULL;
        err->line = 0;
        err->col = 0;
    }
    return rc;
}

static inline void sl_err_clear(struct sl_err *err)
{
    if (err) {
        err->msg[0] = '\0';
        err->file = NULL;
        err->line = 0;
        err->col = 0;
    }
}

#endif
