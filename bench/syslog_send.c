/*
 * syslog_send.c - the load generator of bench/run_syslog.sh: CONNS TCP connections to
 * 127.0.0.1:PORT, each sending PER syslog messages of exactly SIZE bytes (newline included),
 * pre-built in memory before the clock starts and written in 256 KiB writes, so the sender
 * costs a few system calls per thousand messages and is never what the benchmark measures.
 * Prints the start time (epoch seconds, after the messages are built and before the first
 * connect) on stdout.
 *
 *   syslog_send PORT CONNS PER [SIZE [3164|5424]]
 *
 * A message is "<PRI>Mmm dd hh:mm:ss bench-host app[pid]: c<conn>-<seq> xxx...\n" (RFC 3164,
 * the default) or "<PRI>1 <RFC 3339 time> bench-host app <pid> m<conn> [seq@32473
 * n=\"<seq>\"] c<conn>-<seq> xxx...\n" (RFC 5424 with structured data). Every message is
 * different (its connection and sequence number), so a receiver can check that each
 * arrived once. Each connection half-closes when done and waits for the peer to close.
 *
 * Threads: one per connection; they share nothing but the read-only arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK   (256 * 1024)
#define MAX_CON 64

static pthread_barrier_t ready; /* every connection's messages are built: start the clock */

struct job {
    int port;
    int conn;
    long per;
    int size;
    int rfc5424;
    int rc;
};

/* One message of exactly size bytes into out; returns size, or -1 if it cannot fit. */
static int format_msg(const struct job *j, long seq, char *out)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char head[256];
    int n;
    if (j->rfc5424) {
        n = snprintf(head, sizeof(head),
                     "<134>1 %04d-%02d-%02dT%02d:%02d:%02d.%03ldZ bench-host app %d m%d "
                     "[seq@32473 n=\"%ld\"] c%d-%09ld ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     seq % 1000, 4000 + j->conn, j->conn, seq, j->conn, seq);
    } else {
        n = snprintf(head, sizeof(head),
                     "<134>%s %2d %02d:%02d:%02d bench-host app[%d]: c%d-%09ld ", mon[tm.tm_mon],
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, 4000 + j->conn, j->conn, seq);
    }
    if (n < 0 || n + 1 > j->size) {
        return -1;
    }
    memcpy(out, head, (size_t)n);
    memset(out + n, 'x', (size_t)(j->size - 1 - n));
    out[j->size - 1] = '\n';
    return j->size;
}

static void *run(void *arg)
{
    struct job *j = arg;
    size_t total = (size_t)j->per * (size_t)j->size;
    char *buf = malloc(total ? total : 1);
    if (!buf) {
        fprintf(stderr, "syslog_send: out of memory for %zu bytes\n", total);
        pthread_barrier_wait(&ready);
        return NULL;
    }
    for (long i = 0; i < j->per; i++) {
        if (format_msg(j, i, buf + (size_t)i * (size_t)j->size) < 0) {
            fprintf(stderr, "syslog_send: SIZE %d is too small for a message\n", j->size);
            free(buf);
            pthread_barrier_wait(&ready);
            return NULL;
        }
    }
    pthread_barrier_wait(&ready);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)j->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "syslog_send: connect to port %d: %s\n", j->port, strerror(errno));
        free(buf);
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    size_t off = 0;
    while (off < total) {
        size_t len = total - off < CHUNK ? total - off : CHUNK;
        ssize_t w = write(fd, buf + off, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            fprintf(stderr, "syslog_send: write: %s\n", strerror(errno));
            close(fd);
            free(buf);
            return NULL;
        }
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    char sink[4096];
    while (read(fd, sink, sizeof(sink)) > 0) {
    }
    close(fd);
    free(buf);
    j->rc = 0;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: syslog_send PORT CONNS PER [SIZE [3164|5424]]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    int conns = atoi(argv[2]);
    long per = atol(argv[3]);
    int size = argc > 4 ? atoi(argv[4]) : 200;
    int rfc5424 = argc > 5 && strcmp(argv[5], "5424") == 0;
    if (port <= 0 || port > 65535 || conns < 1 || conns > MAX_CON || per < 0 || size < 2) {
        fprintf(stderr, "syslog_send: bad arguments\n");
        return 2;
    }
    struct job jobs[MAX_CON];
    pthread_t th[MAX_CON];
    pthread_barrier_init(&ready, NULL, (unsigned)conns + 1);
    for (int i = 0; i < conns; i++) {
        jobs[i] = (struct job){port, i, per, size, rfc5424, 1};
        if (pthread_create(&th[i], NULL, run, &jobs[i]) != 0) {
            fprintf(stderr, "syslog_send: pthread_create failed\n");
            return 1;
        }
    }
    /* The start time (wall clock, like `date +%s.%N`), once every message is built. */
    pthread_barrier_wait(&ready);
    struct timespec t0;
    clock_gettime(CLOCK_REALTIME, &t0);
    printf("%lld.%09ld\n", (long long)t0.tv_sec, t0.tv_nsec);
    fflush(stdout);
    int rc = 0;
    for (int i = 0; i < conns; i++) {
        pthread_join(th[i], NULL);
        rc |= jobs[i].rc;
    }
    return rc;
}
