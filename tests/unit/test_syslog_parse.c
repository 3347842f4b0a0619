/*
 * test_syslog_parse.c - the syslog parser against real-world lines: the RFC 5424 and RFC
 * 3164 examples, util-linux logger, rsyslog forward formats, busybox, systemd, Cisco IOS,
 * BOMs, NILVALUEs, SD escapes, edge PRI values and truncated or malformed messages. Each
 * case lists the fields it expects; the run is in TZ=UTC with a fixed "now".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* clang-format off: cmocka.h needs the headers above */
#include <cmocka.h>
/* clang-format on */

#include "sources/syslog/syslog_parse.h"

/* 2024-06-15T12:00:00Z */
#define NOW 1718452800000LL
#define NA  ((const char *)1) /* the field must be absent */

struct want {
    const char *line;
    int status;                              /* SL_SYSLOG_OK / SL_SYSLOG_INVALID */
    int format;                              /* 3164, 5424, 0 */
    int pri;                                 /* -1 = absent */
    int64_t ts;                              /* -1 = absent */
    const char *host, *app, *procid, *msgid; /* NULL = don't check, NA = absent */
    const char *msg;                         /* NULL = don't check */
};

static int64_t utc(int y, int mo, int d, int h, int mi, int s, int ms)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static void check_str(const char *what, const char *line, struct sl_syslog_str got,
                      const char *want)
{
    if (!want) {
        return;
    }
    if (want == NA) {
        if (got.ptr) {
            fail_msg("%s: %s should be absent, got '%.*s'", line, what, (int)got.len, got.ptr);
        }
        return;
    }
    if (!got.ptr || got.len != strlen(want) || memcmp(got.ptr, want, got.len) != 0) {
        fail_msg("%s: %s: want '%s', got '%.*s'", line, what, want, got.ptr ? (int)got.len : 6,
                 got.ptr ? got.ptr : "(none)");
    }
}

static void check(const struct want *w)
{
    struct sl_syslog_msg m;
    sl_syslog_parse(w->line, strlen(w->line), NOW, &m);
    if ((int)m.status != w->status) {
        fail_msg("%s: status %d, want %d", w->line, m.status, w->status);
    }
    if ((int)m.format != w->format) {
        fail_msg("%s: format %d, want %d", w->line, m.format, w->format);
    }
    if (m.pri != w->pri) {
        fail_msg("%s: pri %d, want %d", w->line, m.pri, w->pri);
    }
    if (w->ts == -1 ? m.has_ts : (!m.has_ts || m.ts_ms != w->ts)) {
        fail_msg("%s: ts %d/%lld, want %lld", w->line, m.has_ts, (long long)m.ts_ms,
                 (long long)w->ts);
    }
    check_str("host", w->line, m.host, w->host);
    check_str("app", w->line, m.app, w->app);
    check_str("procid", w->line, m.procid, w->procid);
    check_str("msgid", w->line, m.msgid, w->msgid);
    check_str("msg", w->line, m.msg, w->msg);
}

static void test_rfc5424(void **state)
{
    const struct want cases[] = {
        /* RFC 5424 6.5 examples */
        {"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
         "\xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8",
         0, 5424, 34, utc(2003, 10, 11, 22, 14, 15, 3), "mymachine.example.com", "su", NA, "ID47",
         "'su root' failed for lonvick on /dev/pts/8"},
        {"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to "
         "make the do-nuts.",
         0, 5424, 165, utc(2003, 8, 24, 12, 14, 15, 0), "192.0.2.1", "myproc", "8710", NA,
         "%% It's time to make the do-nuts."},
        {"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
         "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
         "\xEF\xBB\xBF"
         "An application event log entry...",
         0, 5424, 165, utc(2003, 10, 11, 22, 14, 15, 3), "mymachine.example.com", "evntslog", NA,
         "ID47", "An application event log entry..."},
        {"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
         "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
         "[examplePriority@32473 class=\"high\"]",
         0, 5424, 165, utc(2003, 10, 11, 22, 14, 15, 3), NULL, NULL, NULL, NULL, NA},
        /* all NILVALUE */
        {"<13>1 - - - - - -", 0, 5424, 13, -1, NA, NA, NA, NA, NA},
        {"<13>1 - - - - - - hello", 0, 5424, 13, -1, NA, NA, NA, NA, "hello"},
        /* util-linux logger --rfc5424 */
        {"<13>1 2024-06-15T11:59:58.123456+00:00 web01 alice 4242 - "
         "[timeQuality tzKnown=\"1\" isSynced=\"1\" syncAccuracy=\"146000\"] hello world",
         0, 5424, 13, utc(2024, 6, 15, 11, 59, 58, 123), "web01", "alice", "4242", NA,
         "hello world"},
        /* offset with a positive sign */
        {"<14>1 2024-01-01T01:00:00+01:00 h a p m - x", 0, 5424, 14, utc(2024, 1, 1, 0, 0, 0, 0),
         "h", "a", "p", "m", "x"},
        /* nanosecond fraction (lenient), truncated to ms */
        {"<14>1 2024-01-01T00:00:00.987654321Z h a p m - x", 0, 5424, 14,
         utc(2024, 1, 1, 0, 0, 0, 987), "h", "a", "p", "m", "x"},
        /* systemd-journal-remote / rsyslog RSYSLOG_SyslogProtocol23Format */
        {"<30>1 2024-06-15T10:00:00.000000+02:00 host systemd 1 - - Started Session 42.", 0, 5424,
         30, utc(2024, 6, 15, 8, 0, 0, 0), "host", "systemd", "1", NA, "Started Session 42."},
        /* BOM only, empty message */
        {"<13>1 - h a - - - \xEF\xBB\xBF", 0, 5424, 13, -1, "h", "a", NA, NA, ""},
        /* no space and no MSG after SD */
        {"<13>1 - h a - - [x@1 a=\"b\"]", 0, 5424, 13, -1, "h", "a", NA, NA, NA},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check(&cases[i]);
    }
}

static void test_structured_data(void **state)
{
    const char *line = "<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 "
                       "[exampleSDID@32473 iut=\"3\" eventSource=\"App \\\"quoted\\\" \\\\ "
                       "\\] end\" empty=\"\"][meta sequenceId=\"7\" odd=\"a\\nb\" "
                       "raw=\"x]y\"] msg";
    struct sl_syslog_msg m;
    sl_syslog_parse(line, strlen(line), NOW, &m);
    assert_int_equal(m.status, SL_SYSLOG_OK);
    assert_int_equal(m.nsd, 6);
    const char *want[][3] = {
        {"exampleSDID@32473", "iut", "3"},
        {"exampleSDID@32473", "eventSource", "App \"quoted\" \\ ] end"},
        {"exampleSDID@32473", "empty", ""},
        {"meta", "sequenceId", "7"},
        {"meta", "odd", "a\\nb"}, /* an unknown escape stays as it is */
        {"meta", "raw", "x]y"},   /* an unescaped ']' inside quotes: accepted */
    };
    char buf[256];
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(m.sd[i].id.len, strlen(want[i][0]));
        assert_memory_equal(m.sd[i].id.ptr, want[i][0], m.sd[i].id.len);
        assert_int_equal(m.sd[i].name.len, strlen(want[i][1]));
        assert_memory_equal(m.sd[i].name.ptr, want[i][1], m.sd[i].name.len);
        sl_syslog_unescape(buf, m.sd[i].value.ptr, m.sd[i].value.len);
        assert_string_equal(buf, want[i][2]);
    }
    assert_int_equal(m.msg.len, 3);

    /* More params than kept: counted. */
    char big[8192];
    int n = snprintf(big, sizeof(big), "<13>1 - h a - - [x");
    for (int i = 0; i < SL_SYSLOG_SD_MAX + 5; i++) {
        n += snprintf(big + n, sizeof(big) - (size_t)n, " p%d=\"%d\"", i, i);
    }
    snprintf(big + n, sizeof(big) - (size_t)n, "] m");
    sl_syslog_parse(big, strlen(big), NOW, &m);
    assert_int_equal(m.status, SL_SYSLOG_OK);
    assert_int_equal(m.nsd, SL_SYSLOG_SD_MAX);
    assert_int_equal(m.sd_dropped, 5);
}

static void test_rfc3164(void **state)
{
    const struct want cases[] = {
        /* RFC 3164 5.4 examples (no year: the one that puts them before NOW) */
        {"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", 0, 3164,
         34, utc(2023, 10, 11, 22, 14, 15, 0), "mymachine", "su", NA, NA,
         "'su root' failed for lonvick on /dev/pts/8"},
        {"<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", 0, 3164, 13, utc(2024, 2, 5, 17, 32, 18, 0),
         "10.0.0.99", NA, NA, NA, "Use the BFG!"},
        /* util-linux logger --rfc3164 to a server */
        {"<13>Jun 15 11:59:58 web01 alice[4242]: hello world", 0, 3164, 13,
         utc(2024, 6, 15, 11, 59, 58, 0), "web01", "alice", "4242", NA, "hello world"},
        /* logger to /dev/log: no hostname */
        {"<13>Jun 15 11:59:58 alice[4242]: hello", 0, 3164, 13, utc(2024, 6, 15, 11, 59, 58, 0), NA,
         "alice", "4242", NA, "hello"},
        {"<13>Jun 15 11:59:58 alice: hello", 0, 3164, 13, utc(2024, 6, 15, 11, 59, 58, 0), NA,
         "alice", NA, NA, "hello"},
        /* a day more than one day ahead of now: last year */
        {"<13>Jun 17 00:00:00 h t: x", 0, 3164, 13, utc(2023, 6, 17, 0, 0, 0, 0), "h", "t", NA, NA,
         "x"},
        /* less than a day ahead (clock skew): this year */
        {"<13>Jun 16 10:00:00 h t: x", 0, 3164, 13, utc(2024, 6, 16, 10, 0, 0, 0), "h", "t", NA, NA,
         "x"},
        /* single-digit day, zero-padded day */
        {"<13>Jun  1 01:02:03 h t: x", 0, 3164, 13, utc(2024, 6, 1, 1, 2, 3, 0), "h", NULL, NULL,
         NULL, "x"},
        {"<13>Jun 01 01:02:03 h t: x", 0, 3164, 13, utc(2024, 6, 1, 1, 2, 3, 0), "h", NULL, NULL,
         NULL, "x"},
        /* busybox syslogd forwarding */
        {"<30>Jun 15 11:00:00 udhcpc[123]: sending discover", 0, 3164, 30,
         utc(2024, 6, 15, 11, 0, 0, 0), NA, "udhcpc", "123", NA, "sending discover"},
        /* kernel via klogd */
        {"<6>Jun 15 11:00:00 box kernel: [ 1.234] usb 1-1: new device", 0, 3164, 6,
         utc(2024, 6, 15, 11, 0, 0, 0), "box", "kernel", NA, NA, "[ 1.234] usb 1-1: new device"},
        /* postfix style tag with a slash */
        {"<22>Jun 15 11:00:00 mx postfix/smtpd[9]: connect from x", 0, 3164, 22,
         utc(2024, 6, 15, 11, 0, 0, 0), "mx", "postfix/smtpd", "9", NA, "connect from x"},
        /* rsyslog RSYSLOG_ForwardFormat: ISO timestamp */
        {"<86>2024-06-15T11:00:00.250+02:00 host sshd[77]: Accepted publickey", 0, 3164, 86,
         utc(2024, 6, 15, 9, 0, 0, 250), "host", "sshd", "77", NA, "Accepted publickey"},
        {"<86>2024-06-15T11:00:00Z host sshd: x", 0, 3164, 86, utc(2024, 6, 15, 11, 0, 0, 0),
         "host", "sshd", NA, NA, "x"},
        /* a year before the time */
        {"<13>Jun 15 2021 11:00:00 h t: x", 0, 3164, 13, utc(2021, 6, 15, 11, 0, 0, 0), "h", "t",
         NA, NA, "x"},
        /* Cisco IOS: sequence number, '*', milliseconds, ':' and no host */
        {"<189>52: *Mar  1 00:03:45.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to up", 0,
         3164, 189, utc(2024, 3, 1, 0, 3, 45, 123), NA, "%LINK-3-UPDOWN", NA, NA,
         "Interface Gi0/1, changed state to up"},
        {"<187>123: Jun 15 2024 11:22:33.456 UTC: %SYS-5-CONFIG_I: Configured from console", 0,
         3164, 187, utc(2024, 6, 15, 11, 22, 33, 456), NA, "%SYS-5-CONFIG_I", NA, NA,
         "Configured from console"},
        /* IPv6 hostname */
        {"<13>Jun 15 11:00:00 fe80::1 app: x", 0, 3164, 13, utc(2024, 6, 15, 11, 0, 0, 0),
         "fe80::1", "app", NA, NA, "x"},
        /* no timestamp at all: everything is MSG (tag still found) */
        {"<13>app[1]: no time here", 0, 3164, 13, -1, NA, "app", "1", NA, "no time here"},
        {"<13>just text", 0, 3164, 13, -1, NA, NA, NA, NA, "just text"},
        {"<13>", 0, 3164, 13, -1, NA, NA, NA, NA, ""},
        /* timestamp alone / host alone */
        {"<13>Jun 15 11:00:00", 0, 3164, 13, utc(2024, 6, 15, 11, 0, 0, 0), NA, NA, NA, NA, ""},
        {"<13>Jun 15 11:00:00 lonely", 0, 3164, 13, utc(2024, 6, 15, 11, 0, 0, 0), NA, NA, NA, NA,
         "lonely"},
        /* a bad timestamp is MSG */
        {"<13>Jun 35 11:00:00 h t: x", 0, 3164, 13, -1, NA, NULL, NULL, NULL, NULL},
        {"<13>Foo 15 11:00:00 h t: x", 0, 3164, 13, -1, NA, NULL, NULL, NULL, NULL},
        {"<13>Jun 15 25:00:00 h t: x", 0, 3164, 13, -1, NA, NULL, NULL, NULL, NULL},
        /* "a:b" is text, not a tag */
        {"<13>Jun 15 11:00:00 h key:value rest", 0, 3164, 13, utc(2024, 6, 15, 11, 0, 0, 0), "h",
         NA, NA, NA, "key:value rest"},
        /* "<PRI>1 " but not a 5424 header: 3164 */
        {"<13>1 apple a day", 0, 3164, 13, -1, NA, NULL, NULL, NULL, "1 apple a day"},
        /* truncated mid-tag */
        {"<13>Jun 15 11:00:00 h sshd[12", 0, 3164, 13, utc(2024, 6, 15, 11, 0, 0, 0), "h", NA, NA,
         NA, "sshd[12"},
        /* version 2 is not 5424 */
        {"<13>2 2024-06-15T11:00:00Z h a - - - x", 0, 3164, 13, -1, NA, NULL, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check(&cases[i]);
    }
}

static void test_pri_edges(void **state)
{
    const struct want cases[] = {
        {"<0>Jun 15 11:00:00 h t: x", 0, 3164, 0, utc(2024, 6, 15, 11, 0, 0, 0), "h", "t", NA, NA,
         "x"},
        {"<191>Jun 15 11:00:00 h t: x", 0, 3164, 191, utc(2024, 6, 15, 11, 0, 0, 0), "h", "t", NA,
         NA, "x"},
        {"<007>x", 0, 3164, 7, -1, NA, NA, NA, NA, "x"},
        {"<192>Jun 15 11:00:00 h t: x", 1, 0, -1, -1, NA, NA, NA, NA,
         "<192>Jun 15 11:00:00 h t: x"},
        {"<1000>x", 1, 0, -1, -1, NA, NA, NA, NA, "<1000>x"},
        {"<>x", 1, 0, -1, -1, NA, NA, NA, NA, "<>x"},
        {"<-1>x", 1, 0, -1, -1, NA, NA, NA, NA, "<-1>x"},
        {"<13", 1, 0, -1, -1, NA, NA, NA, NA, "<13"},
        {"<", 1, 0, -1, -1, NA, NA, NA, NA, "<"},
        {"", 1, 0, -1, -1, NA, NA, NA, NA, ""},
        {"Jun 15 11:00:00 h t: no pri", 1, 0, -1, -1, NA, NA, NA, NA,
         "Jun 15 11:00:00 h t: no pri"},
        {"hello world", 1, 0, -1, -1, NA, NA, NA, NA, "hello world"},
        {" <13>x", 1, 0, -1, -1, NA, NA, NA, NA, " <13>x"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check(&cases[i]);
    }
}

static void test_invalid_5424(void **state)
{
    /* Committed to 5424 by "<PRI>1 <date|->", then broken: Invalid, PRI kept, whole line. */
    const char *bad[] = {
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
        "[exampleSDID@32473 iut=\"3\" eventSource=\"Applic", /* truncated in SD */
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [x",
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47",
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com su",
        "<165>1 2003-10-11T22:14:15.003Z",
        "<165>1 -",
        "<165>1 2003-10-11T22:14:15.003 host app - - - no offset",
        "<165>1 2003-13-11T22:14:15Z host app - - - bad month",
        "<165>1 2003-02-30T22:14:15Z host app - - - bad day",
        "<165>1 2003-10-11T22:14:15Z host app - - x not SD",
        "<165>1 2003-10-11T22:14:15Z host app - - [id a=b] unquoted",
        "<165>1 2003-10-11T22:14:15Z host app - - [] empty id",
        "<165>1 2003-10-11T22:14:15Z host app - - [id]x no space",
        "<165>1 - host app - "
        "0123456789012345678901234567890123 - msgid too long",
        "<165>1 - host  app - - - double space",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct want w = {bad[i], 1, 0, 165, -1, NA, NA, NA, NA, bad[i]};
        check(&w);
    }
}

static void test_year_rollover(void **state)
{
    struct sl_syslog_msg m;
    /* At 2025-01-01T00:00:30Z a sender still at Dec 31: last year. */
    int64_t now = utc(2025, 1, 1, 0, 0, 30, 0);
    const char *a = "<13>Dec 31 23:59:59 h t: x";
    sl_syslog_parse(a, strlen(a), now, &m);
    assert_int_equal(m.ts_ms, utc(2024, 12, 31, 23, 59, 59, 0));
    /* At 2024-12-31T23:59:30Z a sender already at Jan 1: next year. */
    now = utc(2024, 12, 31, 23, 59, 30, 0);
    const char *b = "<13>Jan  1 00:00:05 h t: x";
    sl_syslog_parse(b, strlen(b), now, &m);
    assert_int_equal(m.ts_ms, utc(2025, 1, 1, 0, 0, 5, 0));
    /* Feb 29 in a non-leap year: the last leap year. */
    now = utc(2025, 3, 1, 0, 0, 0, 0);
    const char *c = "<13>Feb 29 10:00:00 h t: x";
    sl_syslog_parse(c, strlen(c), now, &m);
    assert_int_equal(m.ts_ms, utc(2024, 2, 29, 10, 0, 0, 0));
}

static void test_unescape(void **state)
{
    char buf[64];
    assert_int_equal(sl_syslog_unescape(buf, "a\\\"b\\\\c\\]d", 10), 7);
    assert_string_equal(buf, "a\"b\\c]d");
    assert_int_equal(sl_syslog_unescape(buf, "x\\", 2), 2); /* a lone trailing backslash */
    assert_string_equal(buf, "x\\");
    assert_int_equal(sl_syslog_unescape(buf, "", 0), 0);
    assert_string_equal(buf, "");
}

static void test_not_nul_terminated(void **state)
{
    /* The parser reads only [0, len): a line cut anywhere parses without overreading. */
    const char *line = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                       "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] "
                       "\xEF\xBB\xBF"
                       "An application event";
    size_t len = strlen(line);
    for (size_t n = 0; n <= len; n++) {
        char *copy = malloc(n ? n : 1);
        memcpy(copy, line, n);
        struct sl_syslog_msg m;
        sl_syslog_parse(copy, n, NOW, &m);
        if (m.status == SL_SYSLOG_OK && m.msg.ptr) {
            assert_true(m.msg.ptr >= copy && m.msg.ptr + m.msg.len <= copy + n);
        }
        free(copy);
    }
    const char *b = "<34>Oct 11 22:14:15 mymachine su[12]: 'su root' failed";
    len = strlen(b);
    for (size_t n = 0; n <= len; n++) {
        char *copy = malloc(n ? n : 1);
        memcpy(copy, b, n);
        struct sl_syslog_msg m;
        sl_syslog_parse(copy, n, NOW, &m);
        assert_int_equal(m.status, n >= 4 ? SL_SYSLOG_OK : SL_SYSLOG_INVALID);
        free(copy);
    }
}

/*
 * Local times go through a UTC offset cached per local half hour (mktime costs a stat per
 * call): differential against mktime itself, every hour of 2024 at six minutes of it, in zones
 * with DST changes at 02:00 and 03:00 and a 30-minute one (Lord Howe). Hours are visited in
 * order, so a zone switch never meets a cached slot of the previous zone.
 */
static void test_local_time_cache(void **state)
{
    const char *zones[] = {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"};
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        setenv("TZ", zones[z], 1);
        tzset();
        for (int day = 0; day < 366; day++) {
            for (int h = 0; h < 24; h++) {
                static const int minutes[] = {0, 15, 29, 30, 45, 59};
                for (int k = 0; k < 6; k++) {
                    int mi = minutes[k];
                    struct tm tm = {0};
                    tm.tm_year = 2024 - 1900;
                    tm.tm_mday = 1 + day; /* mktime normalises: day of the year */
                    tm.tm_hour = h;
                    tm.tm_min = mi;
                    tm.tm_sec = 7;
                    tm.tm_isdst = -1;
                    time_t norm = timegm(&tm);
                    struct tm f;
                    gmtime_r(&norm, &f); /* the calendar fields of that day */
                    struct tm q = f;
                    q.tm_isdst = -1;
                    int64_t want = (int64_t)mktime(&q) * 1000;
                    char line[64];
                    snprintf(line, sizeof(line), "<13>%04d-%02d-%02d %02d:%02d:%02d h t: x",
                             f.tm_year + 1900, f.tm_mon + 1, f.tm_mday, f.tm_hour, f.tm_min,
                             f.tm_sec);
                    struct sl_syslog_msg m;
                    sl_syslog_parse(line, strlen(line), NOW, &m);
                    if (!m.has_ts || m.ts_ms != want) {
                        fail_msg("%s %s: %lld, mktime says %lld", zones[z], line,
                                 (long long)m.ts_ms, (long long)want);
                    }
                }
            }
        }
    }
    setenv("TZ", "UTC", 1);
    tzset();
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5424),          cmocka_unit_test(test_structured_data),
        cmocka_unit_test(test_rfc3164),          cmocka_unit_test(test_pri_edges),
        cmocka_unit_test(test_invalid_5424),     cmocka_unit_test(test_year_rollover),
        cmocka_unit_test(test_unescape),         cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_local_time_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
