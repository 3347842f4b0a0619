/*
 * tail_ml.c - multiline events: lines joined with "\n" into one event, where a PCRE2
 * pattern marks either the first line of an event (a timestamp, "^\d{4}-") or the lines that
 * continue one (a stack frame, "^\s+at |^Caused by:"). An event ends when the next one starts
 * or when the caller flushes it (its flush timeout, or end of file); one longer than
 * max_bytes is cut there and its further lines are dropped (the caller counts it).
 *
 * Threads: an assembler belongs to its file's owner (the source loop thread); compiled
 * patterns are read-only, match data is the caller's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sources/tail/tail_int.h"

pcre2_code *sl__tail_ml_compile(const char *pattern, const char *key, struct sl_err *err)
{
    int ecode;
    PCRE2_SIZE eoff;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &ecode, &eoff, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ecode, msg, sizeof(msg));
        sl_err_set(err, SL_ECONFIG, "%s: bad regular expression '%s' at offset %zu: %s", key,
                   pattern, (size_t)eoff, (const char *)msg);
        return NULL;
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    return re;
}

static int matches(const struct sl_tail_ml_conf *conf, pcre2_match_data *md, const char *line,
                   size_t len)
{
    return pcre2_match(conf->re, (PCRE2_SPTR)line, len, 0, 0, md, NULL) >= 0;
}

static int append(const struct sl_tail_ml_conf *conf, struct sl_tail_ml *ml, const char *line,
                  size_t len)
{
    size_t sep = ml->lines ? 1 : 0;
    ml->lines++;
    if (ml->cut) {
        return 0; /* already full: the rest of this event's lines are dropped */
    }
    if (ml->len + sep + len > conf->max_bytes) {
        ml->cut = 1;
        if (ml->len + sep >= conf->max_bytes) {
            return 0;
        }
        len = conf->max_bytes - ml->len - sep; /* keep what fits of this line */
    }
    if (ml->len + sep + len > ml->cap) {
        size_t cap = ml->cap ? ml->cap : 256;
        while (cap < ml->len + sep + len) {
            cap *= 2;
        }
        char *b = realloc(ml->buf, cap);
        if (!b) {
            return -ENOMEM;
        }
        ml->buf = b;
        ml->cap = cap;
    }
    if (sep) {
        ml->buf[ml->len++] = '\n';
    }
    memcpy(ml->buf + ml->len, line, len);
    ml->len += len;
    return 0;
}

void sl__tail_ml_flush(struct sl_tail_ml *ml, sl_tail_ml_emit_cb emit, void *arg)
{
    if (!ml->open) {
        return;
    }
    emit(arg, ml->buf ? ml->buf : "", ml->len, ml->start_off, ml->end_off, ml->cut);
    ml->len = 0;
    ml->lines = 0;
    ml->open = 0;
    ml->cut = 0;
    /* Do not keep a huge buffer for ever after one huge event. */
    if (ml->cap > 65536) {
        free(ml->buf);
        ml->buf = NULL;
        ml->cap = 0;
    }
}

int sl__tail_ml_line(const struct sl_tail_ml_conf *conf, struct sl_tail_ml *ml,
                     pcre2_match_data *md, const char *line, size_t len, uint64_t start_off,
                     uint64_t end_off, int64_t now_ms, sl_tail_ml_emit_cb emit, void *arg)
{
    int hit = matches(conf, md, line, len);
    int starts = conf->match_continue ? !hit : hit;
    if (starts || !ml->open) {
        sl__tail_ml_flush(ml, emit, arg);
        ml->open = 1;
        ml->start_off = start_off;
    }
    int rc = append(conf, ml, line, len);
    ml->end_off = end_off;
    ml->last_ms = now_ms;
    return rc;
}

void sl__tail_ml_fini(struct sl_tail_ml *ml)
{
    free(ml->buf);
    memset(ml, 0, sizeof(*ml));
}
