/*
 * syslog_parse.c - one syslog message into its fields, without I/O or allocation.
 *
 * Decisions (an experienced rsyslog/Flume user's expectations, written down):
 * - "<PRI>1 " followed by '-' or a date commits to RFC 5424; if the rest of that header does
 *   not parse (e.g. truncated inside the structured data) the message is Invalid, with its
 *   PRI kept. Anything else with a valid PRI is read as RFC 3164, leniently: a 3164 message
 *   has no mandatory part after the PRI (RFC 3164 4.3.3), so it is never Invalid.
 * - No PRI, a PRI above 191 or an unterminated "<..." is Invalid.
 * - 3164 timestamps: "Mmm dd hh:mm:ss" (day padded by a space or a zero), with an optional
 *   year before the time ("Mmm dd yyyy hh:mm:ss", Cisco IOS/ASA) or before the month
 *   ("yyyy Mmm dd hh:mm:ss", Cisco NX-OS), milliseconds, a Cisco '*' or '.' prefix, a Cisco
 *   sequence number ("52: ", or an empty ": "), an IOS origin-id host ("router1: " before the
 *   time), an ASA device-id (" : " after the host) and a trailing ':' with an optional zone name
 *   (only UTC/GMT change the interpretation); or an RFC 3339 timestamp (rsyslog's
 *   RSYSLOG_ForwardFormat). Times without an offset are the agent's local time.
 * - A 3164 hostname is only looked for after a timestamp (RFC 3164 4.3.2); a token that
 *   ends in ':' or holds '[' is the tag, not a host (logger to /dev/log sends no hostname).
 *
 * Threads: pure functions, any thread (two small caches of time conversions are per thread).
 */
#include "sources/syslog/syslog_parse.h"

#include <string.h>
#include <time.h>

#define DAY_MS (86400LL * 1000)

struct cur {
    const char *p, *end;
};

static int at_end(const struct cur *c)
{
    return c->p >= c->end;
}

static int peek(const struct cur *c)
{
    return c->p < c->end ? (unsigned char)*c->p : -1;
}

static int is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

static int is_print(int ch) /* PRINTUSASCII: 33..126 */
{
    return ch >= 33 && ch <= 126;
}

/* Exactly n digits into *v. */
static int digits(struct cur *c, int n, int *v)
{
    if (c->end - c->p < n) {
        return -1;
    }
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit((unsigned char)c->p[i])) {
            return -1;
        }
        x = x * 10 + (c->p[i] - '0');
    }
    c->p += n;
    *v = x;
    return 0;
}

static int expect(struct cur *c, char ch)
{
    if (peek(c) != (unsigned char)ch) {
        return -1;
    }
    c->p++;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t utc_ms(int y, int mo, int d, int h, int mi, int s, int ms)
{
    return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + s * 1000LL + ms;
}

/*
 * Local time to epoch ms through the C library's zone rules (TZ). mktime costs a stat() of
 * /etc/localtime per call (glibc re-checks the zone file), which at a few hundred thousand
 * messages a second was a fifth of the source's time; so the UTC offset is computed once per
 * local half hour and kept per thread. Zone offsets change on the hour or the half hour in
 * every zone in use today (Lord Howe moves by 30 minutes at 02:00); a change of the zone files
 * takes effect with the next half hour.
 */
static _Thread_local struct {
    int y, mo, d, h, half;
    int64_t off_ms; /* local minus UTC */
    int valid;
} tz_slot;

static int64_t local_ms(int y, int mo, int d, int h, int mi, int s, int ms)
{
    int half = mi >= 30;
    if (!tz_slot.valid || tz_slot.half != half || tz_slot.h != h || tz_slot.d != d ||
        tz_slot.mo != mo || tz_slot.y != y) {
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = half * 30;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        if (t == (time_t)-1) {
            return utc_ms(y, mo, d, h, mi, s, ms);
        }
        tz_slot.y = y;
        tz_slot.mo = mo;
        tz_slot.d = d;
        tz_slot.h = h;
        tz_slot.half = half;
        tz_slot.off_ms = utc_ms(y, mo, d, h, half * 30, 0, 0) - (int64_t)t * 1000;
        tz_slot.valid = 1;
    }
    return utc_ms(y, mo, d, h, mi, s, ms) - tz_slot.off_ms;
}

/* This year in local time (or UTC) at now_ms; the answer is kept per thread for a minute. */
static int year_at(int64_t now_ms, int utc)
{
    static _Thread_local int64_t minute[2] = {-1, -1};
    static _Thread_local int year[2];
    int64_t m = now_ms / 60000;
    if (minute[utc] != m) {
        time_t now = (time_t)(now_ms / 1000);
        struct tm tm;
        if (utc) {
            gmtime_r(&now, &tm);
        } else {
            localtime_r(&now, &tm);
        }
        year[utc] = tm.tm_year + 1900;
        minute[utc] = m;
    }
    return year[utc];
}

static int valid_date(int y, int mo, int d)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]) {
        return 0;
    }
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(mo == 2 && d == 29 && !leap);
}

static int valid_time(int h, int mi, int s)
{
    return h < 24 && mi < 60 && s <= 60; /* 60: a leap second */
}

/* ".123456" → milliseconds (truncated, as Flume does); no fraction → 0. */
static int fraction_ms(struct cur *c, int *ms)
{
    *ms = 0;
    if (peek(c) != '.') {
        return 0;
    }
    c->p++;
    int n = 0, v = 0;
    while (is_digit(peek(c))) {
        if (n < 3) {
            v = v * 10 + (*c->p - '0');
        }
        n++;
        c->p++;
    }
    if (n == 0 || n > 9) {
        return -1;
    }
    for (int i = n; i < 3; i++) {
        v *= 10;
    }
    *ms = v;
    return 0;
}

/*
 * RFC 3339: YYYY-MM-DD(T| )hh:mm:ss[.frac](Z|+hh:mm|-hh:mm). strict (5424): 'T' and the
 * offset are required. Otherwise a missing offset means local time.
 */
static int parse_iso(struct cur *c, int strict, int64_t *out)
{
    struct cur s = *c;
    int y, mo, d, h, mi, sec, ms;
    if (digits(&s, 4, &y) || expect(&s, '-') || digits(&s, 2, &mo) || expect(&s, '-') ||
        digits(&s, 2, &d)) {
        return -1;
    }
    int t = peek(&s);
    if (!(t == 'T' || t == 't' || (!strict && t == ' '))) {
        return -1;
    }
    s.p++;
    if (digits(&s, 2, &h) || expect(&s, ':') || digits(&s, 2, &mi) || expect(&s, ':') ||
        digits(&s, 2, &sec) || fraction_ms(&s, &ms)) {
        return -1;
    }
    if (!valid_date(y, mo, d) || !valid_time(h, mi, sec)) {
        return -1;
    }
    int z = peek(&s);
    if (z == 'Z' || z == 'z') {
        s.p++;
        *out = utc_ms(y, mo, d, h, mi, sec, ms);
    } else if (z == '+' || z == '-') {
        int oh, om;
        s.p++;
        if (digits(&s, 2, &oh)) {
            return -1;
        }
        if (peek(&s) == ':') {
            s.p++;
        }
        if (digits(&s, 2, &om) || oh > 23 || om > 59) {
            return -1;
        }
        int64_t off = (oh * 60LL + om) * 60000LL;
        *out = utc_ms(y, mo, d, h, mi, sec, ms) - (z == '+' ? off : -off);
    } else if (strict) {
        return -1;
    } else {
        *out = local_ms(y, mo, d, h, mi, sec, ms);
    }
    *c = s;
    return 0;
}

/* "<PRI>": 1..3 digits, 0..191. Returns 0 and moves past '>', or -1. */
static int parse_pri(struct cur *c, int *pri)
{
    struct cur s = *c;
    if (expect(&s, '<')) {
        return -1;
    }
    int n = 0, v = 0;
    while (is_digit(peek(&s)) && n < 4) {
        v = v * 10 + (*s.p - '0');
        s.p++;
        n++;
    }
    if (n == 0 || n > 3 || v > 191 || expect(&s, '>')) {
        return -1;
    }
    *pri = v;
    *c = s;
    return 0;
}

/* ---- RFC 5424 ---------------------------------------------------------------------------- */

/* A header field: NILVALUE ('-') or 1..max PRINTUSASCII, then SP (or the end if last_ok). */
static int field(struct cur *c, size_t max, struct sl_syslog_str *out)
{
    const char *start = c->p;
    while (!at_end(c) && is_print(peek(c))) {
        c->p++;
    }
    size_t len = (size_t)(c->p - start);
    if (len == 0 || len > max || expect(c, ' ')) {
        return -1;
    }
    if (len == 1 && *start == '-') {
        out->ptr = NULL;
        out->len = 0;
    } else {
        out->ptr = start;
        out->len = len;
    }
    return 0;
}

/* SD-NAME: 1..32 PRINTUSASCII except '=', SP, ']', '"'. */
static int sd_name(struct cur *c, struct sl_syslog_str *out)
{
    const char *start = c->p;
    for (;;) {
        int ch = peek(c);
        if (!is_print(ch) || ch == '=' || ch == ']' || ch == '"') {
            break;
        }
        c->p++;
    }
    size_t len = (size_t)(c->p - start);
    if (len == 0 || len > 32) {
        return -1;
    }
    out->ptr = start;
    out->len = len;
    return 0;
}

static int parse_sd(struct cur *c, struct sl_syslog_msg *m)
{
    if (peek(c) == '-') {
        c->p++;
        return 0;
    }
    if (peek(c) != '[') {
        return -1;
    }
    while (peek(c) == '[') {
        c->p++;
        struct sl_syslog_str id;
        if (sd_name(c, &id)) {
            return -1;
        }
        while (peek(c) == ' ') {
            c->p++;
            struct sl_syslog_sd_param prm;
            prm.id = id;
            if (sd_name(c, &prm.name) || expect(c, '=') || expect(c, '"')) {
                return -1;
            }
            const char *v = c->p;
            while (!at_end(c) && *c->p != '"') {
                c->p += (*c->p == '\\' && c->end - c->p >= 2) ? 2 : 1;
            }
            if (at_end(c)) {
                return -1; /* truncated inside a value */
            }
            prm.value.ptr = v;
            prm.value.len = (size_t)(c->p - v);
            c->p++; /* the closing quote */
            if (m->nsd < SL_SYSLOG_SD_MAX) {
                m->sd[m->nsd++] = prm;
            } else {
                m->sd_dropped++;
            }
        }
        if (expect(c, ']')) {
            return -1;
        }
    }
    return 0;
}

static int parse_5424(struct cur *c, struct sl_syslog_msg *m)
{
    if (peek(c) == '-') {
        c->p++;
    } else if (parse_iso(c, 1, &m->ts_ms) == 0) {
        m->has_ts = 1;
    } else {
        return -1;
    }
    if (expect(c, ' ') || field(c, 255, &m->host) || field(c, 48, &m->app) ||
        field(c, 128, &m->procid) || field(c, 32, &m->msgid) || parse_sd(c, m)) {
        return -1;
    }
    if (at_end(c)) {
        return 0; /* no MSG */
    }
    if (expect(c, ' ')) {
        return -1;
    }
    if (c->end - c->p >= 3 && memcmp(c->p, "\xEF\xBB\xBF", 3) == 0) {
        c->p += 3;
    }
    m->msg.ptr = c->p;
    m->msg.len = (size_t)(c->end - c->p);
    return 0;
}

/* ---- RFC 3164 ---------------------------------------------------------------------------- */

static int month(struct cur *c)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    if (c->end - c->p < 4) {
        return 0;
    }
    char lc[3];
    for (int i = 0; i < 3; i++) {
        lc[i] = (char)(c->p[i] | 0x20);
    }
    for (int i = 0; i < 12; i++) {
        if (memcmp(lc, names + 3 * i, 3) == 0) {
            c->p += 3;
            return i + 1;
        }
    }
    return 0;
}

/* The year that puts mo/d closest before now: this year, last year if this year's date is
 * more than a day ahead, next year if it is ~11 months behind (a sender at Dec 31 23:59 with
 * a clock a little ahead). */
static int64_t infer_year(int64_t now_ms, int mo, int d, int h, int mi, int s, int ms, int utc)
{
    int y = year_at(now_ms, utc);
    if (mo == 2 && d == 29) {
        while (!valid_date(y, 2, 29) && y > 1970) {
            y--; /* Feb 29: the last leap year */
        }
    }
    int64_t t = utc ? utc_ms(y, mo, d, h, mi, s, ms) : local_ms(y, mo, d, h, mi, s, ms);
    if (t > now_ms + DAY_MS) {
        t = utc ? utc_ms(y - 1, mo, d, h, mi, s, ms) : local_ms(y - 1, mo, d, h, mi, s, ms);
    } else if (t < now_ms - 330 * DAY_MS && valid_date(y + 1, mo, d)) {
        int64_t next =
            utc ? utc_ms(y + 1, mo, d, h, mi, s, ms) : local_ms(y + 1, mo, d, h, mi, s, ms);
        if (next <= now_ms + DAY_MS) {
            t = next;
        }
    }
    return t;
}

/*
 * "Mmm dd [yyyy ]hh:mm:ss[.fff][ TZ][:]". *colon says a ':' ended it (Cisco: no hostname
 * follows).
 */
static int parse_bsd_ts(struct cur *c, int64_t now_ms, int64_t *out, int *colon)
{
    struct cur s = *c;
    int d, y = 0, h, mi, sec, ms;
    struct cur ys = s;
    if (digits(&ys, 4, &y) == 0 && expect(&ys, ' ') == 0) {
        s = ys; /* NX-OS: "2024 Jun 15 11:00:00" */
    } else {
        y = 0;
    }
    int mo = month(&s);
    if (!mo || peek(&s) != ' ') {
        return -1;
    }
    while (peek(&s) == ' ') {
        s.p++;
    }
    if (digits(&s, 2, &d) && digits(&s, 1, &d)) {
        return -1;
    }
    if (expect(&s, ' ')) {
        return -1;
    }
    if (!y) {
        ys = s;
        if (digits(&ys, 4, &y) == 0 && expect(&ys, ' ') == 0) {
            s = ys; /* IOS, ASA: "Jun 15 2024 11:00:00" */
        } else {
            y = 0;
        }
    }
    if (digits(&s, 2, &h) || expect(&s, ':') || digits(&s, 2, &mi) || expect(&s, ':') ||
        digits(&s, 2, &sec) || fraction_ms(&s, &ms)) {
        return -1;
    }
    if (!valid_time(h, mi, sec) || d < 1 || d > 31 || (y && !valid_date(y, mo, d)) ||
        (!y && !valid_date(2000, mo, d))) {
        return -1;
    }
    int utc = 0;
    *colon = 0;
    /* " UTC:" / " CEST:" (Cisco): a zone name is only taken when a ':' follows it. */
    if (peek(&s) == ' ') {
        struct cur z = s;
        z.p++;
        const char *zs = z.p;
        while (!at_end(&z) && *z.p >= 'A' && *z.p <= 'Z' && z.p - zs < 6) {
            z.p++;
        }
        size_t zl = (size_t)(z.p - zs);
        if (zl >= 3 && peek(&z) == ':') {
            utc = (zl == 3 && (memcmp(zs, "UTC", 3) == 0 || memcmp(zs, "GMT", 3) == 0));
            s = z;
        }
    }
    if (peek(&s) == ':') {
        s.p++;
        *colon = 1;
    }
    if (y) {
        *out = utc ? utc_ms(y, mo, d, h, mi, sec, ms) : local_ms(y, mo, d, h, mi, sec, ms);
    } else {
        *out = infer_year(now_ms, mo, d, h, mi, sec, ms, utc);
    }
    *c = s;
    return 0;
}

static int host_char(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '.' ||
           ch == '-' || ch == '_' || ch == ':';
}

/* The next token is a hostname if it is made of host characters, does not end in ':' (a
 * tag) and is followed by a space. */
static int parse_host(struct cur *c, struct sl_syslog_str *host)
{
    const char *start = c->p;
    const char *q = start;
    while (q < c->end && host_char((unsigned char)*q)) {
        q++;
    }
    size_t len = (size_t)(q - start);
    if (len == 0 || len > 255 || q >= c->end || *q != ' ' || start[len - 1] == ':') {
        return -1;
    }
    host->ptr = start;
    host->len = len;
    c->p = q + 1;
    return 0;
}

/* "tag[pid]: " or "tag: " (a tag is 1..64 printable characters other than '[' and ':'). */
static void parse_tag(struct cur *c, struct sl_syslog_msg *m)
{
    struct cur s = *c;
    const char *start = s.p;
    while (!at_end(&s) && is_print(peek(&s)) && *s.p != '[' && *s.p != ':') {
        s.p++;
    }
    size_t len = (size_t)(s.p - start);
    if (len == 0 || len > 64) {
        return;
    }
    struct sl_syslog_str pid = {NULL, 0};
    if (peek(&s) == '[') {
        s.p++;
        const char *ps = s.p;
        while (!at_end(&s) && is_print(peek(&s)) && *s.p != ']') {
            s.p++;
        }
        if (s.p == ps || s.p - ps > 128 || expect(&s, ']')) {
            return;
        }
        pid.ptr = ps;
        pid.len = (size_t)(s.p - ps - 1);
        if (peek(&s) == ':') {
            s.p++;
        } else if (!at_end(&s) && peek(&s) != ' ') {
            return;
        }
    } else if (expect(&s, ':')) {
        return;
    }
    if (!at_end(&s) && peek(&s) != ' ') {
        return; /* "a:b" is text, not a tag */
    }
    if (peek(&s) == ' ') {
        s.p++;
    }
    m->app.ptr = start;
    m->app.len = len;
    m->procid = pid;
    *c = s;
}

/* A timestamp at t (after an optional Cisco '*' or '.'), followed by a space or the end. */
static int try_ts(struct cur *t, int64_t now_ms, struct sl_syslog_msg *m, int *colon)
{
    if (peek(t) == '*' || peek(t) == '.') {
        t->p++; /* Cisco: '*' = clock not synchronised, '.' = was synchronised */
    }
    *colon = 0;
    int got = parse_bsd_ts(t, now_ms, &m->ts_ms, colon) == 0;
    if (!got && is_digit(peek(t))) {
        got = parse_iso(t, 0, &m->ts_ms) == 0;
    }
    return got && (at_end(t) || peek(t) == ' ');
}

static void parse_3164(struct cur *c, int64_t now_ms, struct sl_syslog_msg *m)
{
    struct cur s = *c;
    /* Cisco "52: " sequence number; NX-OS sends an empty one (": ") before its date. */
    const char *q = s.p;
    while (q < s.end && is_digit((unsigned char)*q) && q - s.p < 10) {
        q++;
    }
    int seq = s.end - q >= 2 && q[0] == ':' && q[1] == ' ';
    if (seq && q > s.p) {
        s.p = q + 2;
    }
    struct cur t = s;
    int colon = 0, have_host = 0;
    int got = try_ts(&t, now_ms, m, &colon);
    if (!got && seq && q == s.p) {
        t.p = q + 2;
        got = try_ts(&t, now_ms, m, &colon);
    }
    if (!got) {
        /* Cisco IOS "logging origin-id hostname": "router1: *Mar  1 00:03:45.123: ...". */
        const char *h = s.p, *e = s.p;
        while (e < s.end && *e != ':' && host_char((unsigned char)*e) && e - h < 255) {
            e++;
        }
        if (e > h && s.end - e >= 2 && e[0] == ':' && e[1] == ' ') {
            t.p = e + 2;
            t.end = s.end;
            got = try_ts(&t, now_ms, m, &colon);
            if (got) {
                m->host.ptr = h;
                m->host.len = (size_t)(e - h);
                have_host = 1;
            }
        }
    }
    if (got) {
        m->has_ts = 1;
        s = t;
        while (peek(&s) == ' ') {
            s.p++;
        }
        if (!colon && !have_host && parse_host(&s, &m->host) == 0 && s.end - s.p >= 2 &&
            s.p[0] == ':' && s.p[1] == ' ') {
            s.p += 2; /* Cisco ASA "logging device-id": "asa01 : %ASA-6-302013: ..." */
        }
    }
    parse_tag(&s, m);
    m->msg.ptr = s.p;
    m->msg.len = (size_t)(s.end - s.p);
}

void sl_syslog_parse(const char *line, size_t len, int64_t now_ms, struct sl_syslog_msg *out)
{
    memset(out, 0, sizeof(*out));
    out->pri = -1;
    struct cur c = {line, line + len};
    int pri;
    if (parse_pri(&c, &pri) != 0) {
        goto invalid;
    }
    out->pri = pri;
    if (c.end - c.p >= 3 && c.p[0] == '1' && c.p[1] == ' ' &&
        (c.p[2] == '-' || (c.end - c.p >= 7 && is_digit((unsigned char)c.p[2]) &&
                           is_digit((unsigned char)c.p[3]) && c.p[6] == '-'))) {
        c.p += 2;
        if (parse_5424(&c, out) != 0) {
            goto invalid;
        }
        out->format = SL_SYSLOG_5424;
        out->status = SL_SYSLOG_OK;
        return;
    }
    parse_3164(&c, now_ms, out);
    out->format = SL_SYSLOG_3164;
    out->status = SL_SYSLOG_OK;
    return;
invalid:
    pri = out->pri;
    memset(out, 0, sizeof(*out));
    out->pri = pri;
    out->status = SL_SYSLOG_INVALID;
    out->format = SL_SYSLOG_NONE;
    out->msg.ptr = line;
    out->msg.len = len;
}

size_t sl_syslog_unescape(char *dst, const char *src, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\\' && i + 1 < len &&
            (src[i + 1] == '"' || src[i + 1] == '\\' || src[i + 1] == ']')) {
            i++;
        }
        dst[n++] = src[i];
    }
    dst[n] = '\0';
    return n;
}
