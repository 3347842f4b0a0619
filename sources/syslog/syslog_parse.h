/*
 * syslog_parse.h - a pure parser for one syslog message (no I/O, no allocation): RFC 5424,
 * RFC 3164 and the real-world variants of 3164 (no hostname, an ISO timestamp, a year, a
 * Cisco sequence number and milliseconds). The result points into the caller's bytes.
 *
 * Threads: none of its own; a result belongs to whoever passed it in.
 */
#ifndef SL_SOURCES_SYSLOG_PARSE_H
#define SL_SOURCES_SYSLOG_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define SL_SYSLOG_SD_MAX 64 /* SD params kept per message; more are counted, not kept */

enum sl_syslog_status {
    SL_SYSLOG_OK = 0,
    SL_SYSLOG_INVALID = 1, /* no usable PRI, or a 5424 header that does not parse */
};

enum sl_syslog_format {
    SL_SYSLOG_NONE = 0,
    SL_SYSLOG_3164 = 3164,
    SL_SYSLOG_5424 = 5424,
};

/* A field of the input: ptr == NULL means absent (NILVALUE or not present). */
struct sl_syslog_str {
    const char *ptr;
    size_t len;
};

/* One SD-PARAM; value is still escaped (see sl_syslog_unescape). */
struct sl_syslog_sd_param {
    struct sl_syslog_str id, name, value;
};

struct sl_syslog_msg {
    enum sl_syslog_status status;
    enum sl_syslog_format format;
    int pri; /* 0..191, or -1 when absent */
    int has_ts;
    int64_t ts_ms; /* epoch milliseconds, when has_ts */
    struct sl_syslog_str host, app, procid, msgid;
    struct sl_syslog_sd_param sd[SL_SYSLOG_SD_MAX];
    size_t nsd;
    size_t sd_dropped;        /* params beyond SL_SYSLOG_SD_MAX */
    struct sl_syslog_str msg; /* the MSG part (5424: after a BOM); the whole line if invalid */
};

/*
 * Parse line[0..len) (without its frame delimiter) into out. now_ms (wall clock) resolves an
 * RFC 3164 timestamp without a year: this year in local time, or last year if that is more
 * than a day ahead of now. Never fails: an unparsable line gives status SL_SYSLOG_INVALID,
 * format NONE and msg = the whole line. Pure; out points into line.
 */
void sl_syslog_parse(const char *line, size_t len, int64_t now_ms, struct sl_syslog_msg *out);

/*
 * Undo the 5424 PARAM-VALUE escapes (\" \\ \]; a backslash before anything else stays) of
 * src into dst, which must hold len + 1 bytes; dst is NUL-terminated. Returns the length.
 */
size_t sl_syslog_unescape(char *dst, const char *src, size_t len);

#endif
