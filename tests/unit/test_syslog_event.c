/*
 * test_syslog_event.c - a corpus of real-world syslog lines (Cisco IOS, NX-OS and ASA,
 * systemd/journald and rsyslog forwarders, BSD and macOS syslogd, Juniper, Windows forwarders,
 * network appliances, containers, RFC 5424 with structured data, BOM and NILVALUE, malformed
 * and truncated lines), each with the exact event it must become: every header in order, and
 * the body. Runs the same path as the source (sl_syslog_parse, sl_syslog_body,
 * sl_syslog_set_headers) in TZ=UTC at a fixed "now" (2024-06-15T12:00:00Z); a 3164 date
 * without a year is the latest one not more than a day after that.
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

#include "agent/event.h"
#include "sources/syslog/syslog_event.h"
#include "sources/syslog/syslog_parse.h"

#define NOW 1718452800000LL /* 2024-06-15T12:00:00Z */

struct row {
    const char *line;
    /* "key=value|key=value": every header, in order; a timestamp is written as UTC
     * "YYYY-MM-DDThh:mm:ss.mmm" and compared as epoch ms. */
    const char *headers;
    const char *body;
};

/* clang-format off */
static const struct row corpus[] = {
    /* ---- Cisco IOS / IOS-XE --------------------------------------------------------- */
    {"<189>52: *Mar  1 00:03:45.123: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed "
     "state to up",
     "Facility=23|Severity=5|timestamp=2024-03-01T00:03:45.123|app=%LINK-3-UPDOWN",
     "Interface GigabitEthernet0/1, changed state to up"},
    {"<190>1234: .Jun 15 10:22:33.456 UTC: %SEC-6-IPACCESSLOGP: list 101 denied tcp "
     "10.1.1.1(1234) -> 10.2.2.2(80), 1 packet",
     "Facility=23|Severity=6|timestamp=2024-06-15T10:22:33.456|app=%SEC-6-IPACCESSLOGP",
     "list 101 denied tcp 10.1.1.1(1234) -> 10.2.2.2(80), 1 packet"},
    {"<189>87: router1: *Jun 15 11:00:01.000: %SYS-5-CONFIG_I: Configured from console by "
     "vty0 (10.0.0.5)",
     "Facility=23|Severity=5|timestamp=2024-06-15T11:00:01.000|host=router1|app=%SYS-5-CONFIG_I",
     "Configured from console by vty0 (10.0.0.5)"},
    {"<187>123: Jun 15 2024 11:22:33.456 UTC: %SYS-5-CONFIG_I: Configured from console",
     "Facility=23|Severity=3|timestamp=2024-06-15T11:22:33.456|app=%SYS-5-CONFIG_I",
     "Configured from console"},
    {"<188>000043: Jun 14 23:59:59: %DUAL-4-NBRCHANGE: EIGRP-IPv4 100: Neighbor 10.0.0.2 "
     "(Gi0/0) is down: holding time expired",
     "Facility=23|Severity=4|timestamp=2024-06-14T23:59:59.000|app=%DUAL-4-NBRCHANGE",
     "EIGRP-IPv4 100: Neighbor 10.0.0.2 (Gi0/0) is down: holding time expired"},
    /* ---- Cisco NX-OS ------------------------------------------------------------------ */
    {"<189>: 2024 Jun 15 11:00:00 UTC: %ETHPORT-5-IF_UP: Interface Ethernet1/1 is up in mode "
     "access",
     "Facility=23|Severity=5|timestamp=2024-06-15T11:00:00.000|app=%ETHPORT-5-IF_UP",
     "Interface Ethernet1/1 is up in mode access"},
    /* ---- Cisco ASA -------------------------------------------------------------------- */
    {"<166>Jun 15 2024 11:00:00: %ASA-6-302013: Built outbound TCP connection 1234 for "
     "outside:93.184.216.34/443 (93.184.216.34/443) to inside:192.168.1.10/51234 "
     "(203.0.113.5/51234)",
     "Facility=20|Severity=6|timestamp=2024-06-15T11:00:00.000|app=%ASA-6-302013",
     "Built outbound TCP connection 1234 for outside:93.184.216.34/443 (93.184.216.34/443) to "
     "inside:192.168.1.10/51234 (203.0.113.5/51234)"},
    {"<166>Jun 15 2024 11:00:00 asa01 : %ASA-6-106015: Deny TCP (no connection) from "
     "10.1.1.1/1234 to 10.2.2.2/80 flags RST on interface inside",
     "Facility=20|Severity=6|timestamp=2024-06-15T11:00:00.000|host=asa01|app=%ASA-6-106015",
     "Deny TCP (no connection) from 10.1.1.1/1234 to 10.2.2.2/80 flags RST on interface "
     "inside"},
    {"<164>%ASA-4-106023: Deny tcp src outside:198.51.100.7/4444 dst inside:10.0.0.8/22 by "
     "access-group \"outside_in\" [0x0, 0x0]",
     "Facility=20|Severity=4|app=%ASA-4-106023",
     "Deny tcp src outside:198.51.100.7/4444 dst inside:10.0.0.8/22 by access-group "
     "\"outside_in\" [0x0, 0x0]"},
    /* ---- systemd / journald and rsyslog forwarding ------------------------------------- */
    {"<30>Jun 15 11:00:00 systemd[1]: Started Session 42 of User alice.",
     "Facility=3|Severity=6|timestamp=2024-06-15T11:00:00.000|app=systemd|procid=1",
     "Started Session 42 of User alice."},
    {"<38>Jun 15 11:00:01 web01 systemd-logind[612]: New session 42 of user alice.",
     "Facility=4|Severity=6|timestamp=2024-06-15T11:00:01.000|host=web01|app=systemd-logind|"
     "procid=612",
     "New session 42 of user alice."},
    {"<30>1 2024-06-15T11:00:02.123456+00:00 web01 systemd 1 - -  Starting Daily apt upgrade "
     "and clean activities...",
     "Facility=3|Severity=6|timestamp=2024-06-15T11:00:02.123|host=web01|app=systemd|procid=1",
     " Starting Daily apt upgrade and clean activities..."},
    {"<86>2024-06-15T11:00:03.250+02:00 web01 sshd[4242]: Accepted publickey for alice from "
     "198.51.100.23 port 50522 ssh2: ED25519 SHA256:abc",
     "Facility=10|Severity=6|timestamp=2024-06-15T09:00:03.250|host=web01|app=sshd|procid=4242",
     "Accepted publickey for alice from 198.51.100.23 port 50522 ssh2: ED25519 SHA256:abc"},
    {"<6>Jun 15 11:00:00 web01 kernel: [123456.789012] EXT4-fs (sda1): mounted filesystem",
     "Facility=0|Severity=6|timestamp=2024-06-15T11:00:00.000|host=web01|app=kernel",
     "[123456.789012] EXT4-fs (sda1): mounted filesystem"},
    {"<78>Jun 15 11:00:00 web01 CRON[9876]: (root) CMD (run-parts /etc/cron.hourly)",
     "Facility=9|Severity=6|timestamp=2024-06-15T11:00:00.000|host=web01|app=CRON|procid=9876",
     "(root) CMD (run-parts /etc/cron.hourly)"},
    {"<85>Jun 15 11:00:00 web01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; "
     "COMMAND=/bin/ls",
     "Facility=10|Severity=5|timestamp=2024-06-15T11:00:00.000|host=web01|app=sudo",
     "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls"},
    {"<13>1 2024-06-15T11:59:58.123456+00:00 web01 alice 4242 - [timeQuality tzKnown=\"1\" "
     "isSynced=\"1\" syncAccuracy=\"146000\"] hello world",
     "Facility=1|Severity=5|timestamp=2024-06-15T11:59:58.123|host=web01|app=alice|procid=4242|"
     "sd.timeQuality.tzKnown=1|sd.timeQuality.isSynced=1|sd.timeQuality.syncAccuracy=146000",
     "hello world"},
    /* ---- BSD, macOS, busybox ----------------------------------------------------------- */
    {"<13>Jun 15 11:00:00 freebsd01 root: test message from FreeBSD",
     "Facility=1|Severity=5|timestamp=2024-06-15T11:00:00.000|host=freebsd01|app=root",
     "test message from FreeBSD"},
    {"<13>1 2024-06-15T11:00:00.123456+00:00 freebsd01 root - - - test message",
     "Facility=1|Severity=5|timestamp=2024-06-15T11:00:00.123|host=freebsd01|app=root",
     "test message"},
    {"<38>Jun 15 11:00:00 obsd sshd[123]: Server listening on 0.0.0.0 port 22.",
     "Facility=4|Severity=6|timestamp=2024-06-15T11:00:00.000|host=obsd|app=sshd|procid=123",
     "Server listening on 0.0.0.0 port 22."},
    {"<5>Jun 15 11:00:00 mac-mini com.apple.xpc.launchd[1] (com.apple.example): Service "
     "exited with abnormal code: 1",
     "Facility=0|Severity=5|timestamp=2024-06-15T11:00:00.000|host=mac-mini|"
     "app=com.apple.xpc.launchd|procid=1",
     "(com.apple.example): Service exited with abnormal code: 1"},
    {"<30>Jun 15 11:00:00 udhcpc[123]: sending discover",
     "Facility=3|Severity=6|timestamp=2024-06-15T11:00:00.000|app=udhcpc|procid=123",
     "sending discover"},
    {"<13>Jun 5 11:00:00 h t: unpadded day",
     "Facility=1|Severity=5|timestamp=2024-06-05T11:00:00.000|host=h|app=t", "unpadded day"},
    {"<13>Dec 31 23:59:59 h t: a date later this year is last year's",
     "Facility=1|Severity=5|timestamp=2023-12-31T23:59:59.000|host=h|app=t",
     "a date later this year is last year's"},
    /* ---- Juniper ----------------------------------------------------------------------- */
    {"<165>1 2024-06-15T11:00:00.540Z router1 mgd 3046 UI_DBASE_LOGOUT_EVENT "
     "[junos@2636.1.1.1.2.18 username=\"regress\"] User 'regress' exiting configuration mode",
     "Facility=20|Severity=5|timestamp=2024-06-15T11:00:00.540|host=router1|app=mgd|procid=3046|"
     "msgid=UI_DBASE_LOGOUT_EVENT|sd.junos@2636.1.1.1.2.18.username=regress",
     "User 'regress' exiting configuration mode"},
    {"<28>Jun 15 11:00:00 mx01 mib2d[1393]: SNMP_TRAP_LINK_DOWN: ifIndex 584, ifAdminStatus "
     "up(1), ifOperStatus down(2), ifName ge-0/0/1",
     "Facility=3|Severity=4|timestamp=2024-06-15T11:00:00.000|host=mx01|app=mib2d|procid=1393",
     "SNMP_TRAP_LINK_DOWN: ifIndex 584, ifAdminStatus up(1), ifOperStatus down(2), ifName "
     "ge-0/0/1"},
    {"<14>1 2024-06-15T11:00:00.000+02:00 srx01 RT_FLOW - RT_FLOW_SESSION_CREATE "
     "[junos@2636.1.1.1.2.40 source-address=\"10.0.0.1\" source-port=\"51234\" "
     "destination-address=\"93.184.216.34\" destination-port=\"443\"] session created "
     "10.0.0.1/51234->93.184.216.34/443",
     "Facility=1|Severity=6|timestamp=2024-06-15T09:00:00.000|host=srx01|app=RT_FLOW|"
     "msgid=RT_FLOW_SESSION_CREATE|sd.junos@2636.1.1.1.2.40.source-address=10.0.0.1|"
     "sd.junos@2636.1.1.1.2.40.source-port=51234|"
     "sd.junos@2636.1.1.1.2.40.destination-address=93.184.216.34|"
     "sd.junos@2636.1.1.1.2.40.destination-port=443",
     "session created 10.0.0.1/51234->93.184.216.34/443"},
    /* ---- Windows forwarders ------------------------------------------------------------ */
    {"<14>1 2024-06-15T11:00:00.000000+02:00 WIN-SRV01 Microsoft-Windows-Security-Auditing 668 "
     "- [NXLOG@14506 EventReceivedTime=\"2024-06-15 11:00:00\" SourceModuleName=\"eventlog\" "
     "SourceModuleType=\"im_msvistalog\"] An account was successfully logged on.",
     "Facility=1|Severity=6|timestamp=2024-06-15T09:00:00.000|host=WIN-SRV01|"
     "app=Microsoft-Windows-Security-Auditing|procid=668|"
     "sd.NXLOG@14506.EventReceivedTime=2024-06-15 11:00:00|"
     "sd.NXLOG@14506.SourceModuleName=eventlog|sd.NXLOG@14506.SourceModuleType=im_msvistalog",
     "An account was successfully logged on."},
    {"<13>Jun 15 11:00:00 WIN-SRV01 MSWinEventLog\t1\tSecurity\t123\tSat Jun 15 11:00:00 "
     "2024\t4624\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tSuccess Audit\tWIN-SRV01\t"
     "Logon\t\tAn account was successfully logged on.",
     "Facility=1|Severity=5|timestamp=2024-06-15T11:00:00.000|host=WIN-SRV01",
     "MSWinEventLog\t1\tSecurity\t123\tSat Jun 15 11:00:00 2024\t4624\t"
     "Microsoft-Windows-Security-Auditing\tN/A\tN/A\tSuccess Audit\tWIN-SRV01\tLogon\t\t"
     "An account was successfully logged on."},
    {"<14>Jun 15 11:00:00 WIN-SRV01 Security-Auditing: 4624: AUDIT_SUCCESS An account was "
     "successfully logged on.",
     "Facility=1|Severity=6|timestamp=2024-06-15T11:00:00.000|host=WIN-SRV01|"
     "app=Security-Auditing",
     "4624: AUDIT_SUCCESS An account was successfully logged on."},
    /* ---- appliances, servers, containers ----------------------------------------------- */
    {"<134>Jun 15 11:00:00 lb01 haproxy[1234]: 10.0.0.1:51234 [15/Jun/2024:11:00:00.123] fe "
     "be/srv1 0/0/1/2/3 200 512 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"",
     "Facility=16|Severity=6|timestamp=2024-06-15T11:00:00.000|host=lb01|app=haproxy|"
     "procid=1234",
     "10.0.0.1:51234 [15/Jun/2024:11:00:00.123] fe be/srv1 0/0/1/2/3 200 512 - - ---- "
     "1/1/0/0/0 0/0 \"GET / HTTP/1.1\""},
    {"<190>Jun 15 11:00:00 web01 nginx: 10.0.0.1 - - [15/Jun/2024:11:00:00 +0000] \"GET / "
     "HTTP/1.1\" 200 612",
     "Facility=23|Severity=6|timestamp=2024-06-15T11:00:00.000|host=web01|app=nginx",
     "10.0.0.1 - - [15/Jun/2024:11:00:00 +0000] \"GET / HTTP/1.1\" 200 612"},
    {"<22>Jun 15 11:00:00 mx postfix/smtpd[9]: connect from unknown[198.51.100.1]",
     "Facility=2|Severity=6|timestamp=2024-06-15T11:00:00.000|host=mx|app=postfix/smtpd|"
     "procid=9",
     "connect from unknown[198.51.100.1]"},
    {"<30>1 2024-06-15T11:00:00.123456Z docker01 myapp 4321 myapp - hello from container",
     "Facility=3|Severity=6|timestamp=2024-06-15T11:00:00.123|host=docker01|app=myapp|"
     "procid=4321|msgid=myapp",
     "hello from container"},
    {"<30>Jun 15 11:00:00 docker/abc123def456[4321]: hello",
     "Facility=3|Severity=6|timestamp=2024-06-15T11:00:00.000|app=docker/abc123def456|"
     "procid=4321",
     "hello"},
    {"<189>date=2024-06-15 time=11:00:00 devname=\"FGT60F\" logid=\"0000000013\" "
     "type=\"traffic\" srcip=10.0.0.1",
     "Facility=23|Severity=5",
     "date=2024-06-15 time=11:00:00 devname=\"FGT60F\" logid=\"0000000013\" type=\"traffic\" "
     "srcip=10.0.0.1"},
    {"<14>Jun 15 11:00:00 PA-220 1,2024/06/15 11:00:00,012345678901,TRAFFIC,end,2560",
     "Facility=1|Severity=6|timestamp=2024-06-15T11:00:00.000|host=PA-220",
     "1,2024/06/15 11:00:00,012345678901,TRAFFIC,end,2560"},
    {"<166>2024-06-15T11:00:00.123Z esxi01.lab Hostd: info hostd[2099916] "
     "[Originator@6876 sub=Vimsvc.TaskManager] Task Created",
     "Facility=20|Severity=6|timestamp=2024-06-15T11:00:00.123|host=esxi01.lab|app=Hostd",
     "info hostd[2099916] [Originator@6876 sub=Vimsvc.TaskManager] Task Created"},
    {"<13>Jun 15 11:00:00 h app: h\xC3\xA9llo w\xC3\xB6rld",
     "Facility=1|Severity=5|timestamp=2024-06-15T11:00:00.000|host=h|app=app",
     "h\xC3\xA9llo w\xC3\xB6rld"},
    {"<13>Jun 15 11:00:00 fe80::1 app: from an IPv6 host",
     "Facility=1|Severity=5|timestamp=2024-06-15T11:00:00.000|host=fe80::1|app=app",
     "from an IPv6 host"},
    /* ---- RFC 5424: the RFC's examples, BOM, NILVALUE, SD escapes ------------------------ */
    {"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' "
     "failed for lonvick on /dev/pts/8",
     "Facility=4|Severity=2|timestamp=2003-10-11T22:14:15.003|host=mymachine.example.com|app=su|"
     "msgid=ID47",
     "'su root' failed for lonvick on /dev/pts/8"},
    {"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make "
     "the do-nuts.",
     "Facility=20|Severity=5|timestamp=2003-08-24T12:14:15.000|host=192.0.2.1|app=myproc|"
     "procid=8710",
     "%% It's time to make the do-nuts."},
    {"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
     "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
     "[examplePriority@32473 class=\"high\"]",
     "Facility=20|Severity=5|timestamp=2003-10-11T22:14:15.003|host=mymachine.example.com|"
     "app=evntslog|msgid=ID47|sd.exampleSDID@32473.iut=3|"
     "sd.exampleSDID@32473.eventSource=Application|sd.exampleSDID@32473.eventID=1011|"
     "sd.examplePriority@32473.class=high",
     ""},
    {"<13>1 - - - - - -", "Facility=1|Severity=5", ""},
    {"<13>1 - h a - - - \xEF\xBB\xBF", "Facility=1|Severity=5|host=h|app=a", ""},
    {"<14>1 2024-06-15T11:00:00Z h app - - [x@1 q=\"say \\\"hi\\\" \\\\ and \\]\"] m",
     "Facility=1|Severity=6|timestamp=2024-06-15T11:00:00.000|host=h|app=app|"
     "sd.x@1.q=say \"hi\" \\ and ]",
     "m"},
    {"<14>1 2024-06-15T11:00:00Z h app - - [x@1 a=\"1\" a=\"2\"] a repeated param: the last "
     "wins",
     "Facility=1|Severity=6|timestamp=2024-06-15T11:00:00.000|host=h|app=app|sd.x@1.a=2",
     "a repeated param: the last wins"},
    /* ---- malformed and truncated: still an event, nothing lost -------------------------- */
    {"Jun 15 11:00:00 host app: no PRI", "syslog.status=Invalid",
     "Jun 15 11:00:00 host app: no PRI"},
    {"<192>Jun 15 11:00:00 host app: PRI out of range", "syslog.status=Invalid",
     "<192>Jun 15 11:00:00 host app: PRI out of range"},
    {"<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 [exampleSDID@32473 iut=\"3\" "
     "eventSource=\"Applic",
     "Facility=20|Severity=5|syslog.status=Invalid",
     "<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 [exampleSDID@32473 iut=\"3\" "
     "eventSource=\"Applic"},
    {"<165>1 2003-10-11T22:14:15.003 host app - - - no UTC offset",
     "Facility=20|Severity=5|syslog.status=Invalid",
     "<165>1 2003-10-11T22:14:15.003 host app - - - no UTC offset"},
    {"<13>Jun 15 11:0", "Facility=1|Severity=5", "Jun 15 11:0"},
    {"<13>", "Facility=1|Severity=5", ""},
    {"<13", "syslog.status=Invalid", "<13"},
    {" <13>leading space", "syslog.status=Invalid", " <13>leading space"},
    {"\x01\x02\xff binary", "syslog.status=Invalid", "\x01\x02\xff binary"},
};
/* clang-format on */

/* "YYYY-MM-DDThh:mm:ss.mmm" (UTC) as epoch ms. */
static long long parse_utc(const char *s)
{
    struct tm tm = {0};
    int ms = 0;
    if (sscanf(s, "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &ms) != 7) {
        fail_msg("bad timestamp in the table: %s", s);
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm) * 1000 + ms;
}

/* The event's headers as "k=v|k=v", timestamps converted back to the table's form. */
static void render(const struct sl_event *ev, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ev->nheaders; i++) {
        n += (size_t)snprintf(out + n, cap - n, "%s%s=%s", i ? "|" : "", ev->headers[i].key,
                              ev->headers[i].value);
        assert_true(n < cap);
    }
}

static void expected(const char *spec, char *out, size_t cap)
{
    char buf[2048];
    snprintf(buf, sizeof(buf), "%s", spec);
    size_t n = 0;
    out[0] = '\0';
    char *save = NULL;
    int first = 1;
    for (char *f = strtok_r(buf, "|", &save); f; f = strtok_r(NULL, "|", &save)) {
        if (strncmp(f, "timestamp=", 10) == 0) {
            n += (size_t)snprintf(out + n, cap - n, "%stimestamp=%lld", first ? "" : "|",
                                  parse_utc(f + 10));
        } else {
            n += (size_t)snprintf(out + n, cap - n, "%s%s", first ? "" : "|", f);
        }
        first = 0;
        assert_true(n < cap);
    }
}

static struct sl_event *event_of(const char *line, size_t len, int keep_all, int truncated,
                                 const struct sl_syslog_extra *extra, size_t nextra)
{
    struct sl_syslog_msg m;
    sl_syslog_parse(line, len, NOW, &m);
    struct sl_syslog_str body = sl_syslog_body(&m, line, len, keep_all);
    struct sl_event *ev = sl_event_create(body.ptr, body.len);
    assert_non_null(ev);
    assert_int_equal(sl_syslog_set_headers(ev, &m, truncated, extra, nextra), 0);
    return ev;
}

static void test_corpus(void **state)
{
    size_t n = sizeof(corpus) / sizeof(corpus[0]);
    assert_true(n >= 40);
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &corpus[i];
        struct sl_event *ev = event_of(r->line, strlen(r->line), 0, 0, NULL, 0);
        char got[2048], want[2048];
        render(ev, got, sizeof(got));
        expected(r->headers, want, sizeof(want));
        if (strcmp(got, want) != 0) {
            fail_msg("row %zu: %s\n  headers: %s\n  want:    %s", i, r->line, got, want);
        }
        if (ev->len != strlen(r->body) || memcmp(ev->body, r->body, ev->len) != 0) {
            fail_msg("row %zu: %s\n  body: '%.*s'\n  want: '%s'", i, r->line, (int)ev->len,
                     (const char *)ev->body, r->body);
        }
        sl_event_destroy(ev);
    }
}

static void test_keep_fields_truncated_and_extras(void **state)
{
    const char *line = "<34>1 2003-10-11T22:14:15.003Z host su - ID47 [a@1 x=\"1\"] msg";
    const struct sl_syslog_extra extra[] = {{"clientIP", "192.0.2.7"}, {"host", "replaced"}};
    struct sl_event *ev = event_of(line, strlen(line), 1, 1, extra, 2);
    /* keepFields: the whole line; truncated: Incomplete; an extra replaces an equal key. */
    assert_int_equal(ev->len, strlen(line));
    assert_memory_equal(ev->body, line, ev->len);
    char got[1024];
    render(ev, got, sizeof(got));
    assert_string_equal(got, "Facility=4|Severity=2|timestamp=1065910455003|host=replaced|app=su|"
                             "msgid=ID47|sd.a@1.x=1|syslog.status=Incomplete|clientIP=192.0.2.7");
    sl_event_destroy(ev);

    /* Invalid wins over Incomplete; headers already on the event stay in front. */
    ev = sl_event_create("x", 1);
    assert_int_equal(sl_event_set_header(ev, "pre", "1"), 0);
    struct sl_syslog_msg m;
    sl_syslog_parse("no pri", 6, NOW, &m);
    assert_int_equal(sl_syslog_set_headers(ev, &m, 1, extra, 1), 0);
    render(ev, got, sizeof(got));
    assert_string_equal(got, "pre=1|syslog.status=Invalid|clientIP=192.0.2.7");
    sl_event_destroy(ev);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_keep_fields_truncated_and_extras),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
