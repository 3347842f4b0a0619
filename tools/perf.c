/*
 * perf.c - `sluice perf produce` and `sluice perf consume`: load generators with the output
 * of Kafka's kafka-producer-perf-test.sh and kafka-consumer-perf-test.sh, so numbers can be
 * compared line for line. produce measures each record's latency from send to delivery
 * report and prints a window line every 5 s plus Kafka's final summary; consume reads from
 * the beginning of every partition (assigned, no group) and prints Kafka's one-line table.
 * produce runs on the main thread only: librdkafka's delivery reports are served by
 * rd_kafka_poll there. consume --threads N runs N consumers, one per thread, each owning its
 * rd_kafka_t; they share only the atomic counters of struct pc_shared.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/rdk_util.h"
#include "tools/tools.h"

#define PERF_REPORT_US   5000000 /* Kafka's reporting interval */
#define PERF_SAMPLES_MAX 500000  /* Kafka keeps at most this many latency samples */
#define PERF_MB          (1024.0 * 1024.0)
#define PERF_METADATA_MS 10000
#define PERF_POLL_MS     100

/* ---- produce ---- */

struct pp_stats {
    int64_t start_us;
    int64_t count, bytes, failed;
    int64_t total_lat_us, max_lat_us;
    int64_t win_start_us, win_count, win_bytes, win_total_lat_us, win_max_lat_us;
    int32_t *samples; /* latencies in ms of every sampling-th record */
    size_t nsamples, samples_cap;
};

static void pp_usage(FILE *out)
{
    fprintf(out, "usage: sluice perf produce --topic T --num-records N --record-size S\n"
                 "                           --throughput R [options]\n"
                 "\n"
                 "Options:\n"
                 "  --topic T                      topic to produce to (required)\n"
                 "  --num-records N                records to send (required)\n"
                 "  --record-size S                bytes per record value (required)\n"
                 "  --throughput R                 records/s at most; -1 for no limit (required)\n"
                 "  --producer-props k=v [k=v...]  librdkafka producer properties\n"
                 "  --producer.config FILE         producer properties file (k=v lines)\n"
                 "  --bootstrap-server H:P         broker(s); or bootstrap.servers in the props\n"
                 "  --help                         print this help\n"
                 "\n"
                 "acks defaults to 1. Prints a line every 5 s and a summary like Kafka's\n"
                 "kafka-producer-perf-test. Exit status: 0 when every record was delivered,\n"
                 "1 otherwise, 2 on a usage error.\n");
}

static void pp_record(struct pp_stats *s, int64_t lat_us, size_t bytes, int sampled)
{
    int64_t now = sl_mono_us();
    s->count++;
    s->bytes += (int64_t)bytes;
    s->total_lat_us += lat_us;
    s->max_lat_us = lat_us > s->max_lat_us ? lat_us : s->max_lat_us;
    s->win_count++;
    s->win_bytes += (int64_t)bytes;
    s->win_total_lat_us += lat_us;
    s->win_max_lat_us = lat_us > s->win_max_lat_us ? lat_us : s->win_max_lat_us;
    if (sampled && s->nsamples < s->samples_cap) {
        s->samples[s->nsamples++] = (int32_t)(lat_us / 1000);
    }
    if (now - s->win_start_us >= PERF_REPORT_US) {
        double secs = (double)(now - s->win_start_us) / 1e6;
        printf("%" PRId64 " records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, "
               "%.1f ms max latency.\n",
               s->win_count, (double)s->win_count / secs, (double)s->win_bytes / PERF_MB / secs,
               (double)s->win_total_lat_us / 1000.0 / (double)s->win_count,
               (double)s->win_max_lat_us / 1000.0);
        fflush(stdout);
        s->win_start_us = now;
        s->win_count = s->win_bytes = s->win_total_lat_us = s->win_max_lat_us = 0;
    }
}

/*
 * The opaque of each record carries its send time (us since start) shifted left by one,
 * and in bit 0 whether its latency is sampled: no per-record allocation.
 */
static void pp_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct pp_stats *s = opaque;
    uintptr_t tag = (uintptr_t)m->_private;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (s->failed++ == 0) {
            fprintf(stderr, "perf produce: delivery failed: %s\n", rd_kafka_err2str(m->err));
        }
        return;
    }
    int64_t lat_us = sl_mono_us() - s->start_us - (int64_t)(tag >> 1);
    pp_record(s, lat_us, m->len, (int)(tag & 1));
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void pp_summary(struct pp_stats *s)
{
    double ms = (double)(sl_mono_us() - s->start_us) / 1000.0;
    double rps = ms > 0 ? 1000.0 * (double)s->count / ms : 0;
    double mbps = ms > 0 ? 1000.0 * (double)s->bytes / PERF_MB / ms : 0;
    int32_t p[4] = {0, 0, 0, 0};
    static const double q[4] = {0.5, 0.95, 0.99, 0.999};
    qsort(s->samples, s->nsamples, sizeof(*s->samples), cmp_i32);
    for (int i = 0; i < 4 && s->nsamples > 0; i++) {
        p[i] = s->samples[(size_t)(q[i] * (double)s->nsamples)];
    }
    printf("%" PRId64 " records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, "
           "%.2f ms max latency, %" PRId32 " ms 50th, %" PRId32 " ms 95th, %" PRId32
           " ms 99th, %" PRId32 " ms 99.9th.\n",
           s->count, rps, mbps,
           s->count ? (double)s->total_lat_us / 1000.0 / (double)s->count : 0.0,
           (double)s->max_lat_us / 1000.0, p[0], p[1], p[2], p[3]);
}

struct pp_opts {
    const char *topic;
    const char *bootstrap;
    int64_t num_records, record_size, throughput;
    struct sl_props props;
};

/* Returns 0 to run, 2 for a usage error (already reported), 3 for --help. */
static int pp_parse(struct pp_opts *o, int argc, char **argv)
{
    enum { O_TOPIC = 256, O_NUM, O_SIZE, O_TPUT, O_PROPS, O_PCONF, O_BOOT };
    static const struct option longopts[] = {
        {"topic", required_argument, NULL, O_TOPIC},
        {"num-records", required_argument, NULL, O_NUM},
        {"record-size", required_argument, NULL, O_SIZE},
        {"throughput", required_argument, NULL, O_TPUT},
        {"producer-props", required_argument, NULL, O_PROPS},
        {"producer.config", required_argument, NULL, O_PCONF},
        {"bootstrap-server", required_argument, NULL, O_BOOT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char errbuf[512];
    int c, have_tput = 0;
    o->num_records = o->record_size = -1;
    /* '+': no permuting, so the values after --producer-props can be taken from argv. */
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        const char *bad = NULL;
        switch (c) {
        case O_TOPIC:
            o->topic = optarg;
            break;
        case O_NUM:
            if (sl_parse_i64(optarg, 0, INT64_MAX, &o->num_records) != 0) {
                bad = "--num-records must be a non-negative number";
            }
            break;
        case O_SIZE:
            if (sl_parse_i64(optarg, 0, 100 << 20, &o->record_size) != 0) {
                bad = "--record-size must be a number of bytes up to 100 MiB";
            }
            break;
        case O_TPUT:
            have_tput = 1;
            if (sl_parse_i64(optarg, -1, INT64_MAX, &o->throughput) != 0 || o->throughput == 0) {
                bad = "--throughput must be a positive rate or -1";
            }
            break;
        case O_PROPS:
            /* Kafka's --producer-props takes one or more k=v words. */
            if (sl_props_add_kv(&o->props, optarg) != 0) {
                bad = "--producer-props expects key=value words";
            }
            while (bad == NULL && optind < argc && argv[optind][0] != '-') {
                if (sl_props_add_kv(&o->props, argv[optind++]) != 0) {
                    bad = "--producer-props expects key=value words";
                }
            }
            break;
        case O_PCONF:
            if (sl_props_load_file(&o->props, optarg, errbuf, sizeof(errbuf)) != 0) {
                fprintf(stderr, "perf produce: %s\n", errbuf);
                return 2;
            }
            break;
        case O_BOOT:
            o->bootstrap = optarg;
            break;
        case 'h':
            return 3;
        case ':':
            fprintf(stderr, "perf produce: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "perf produce: unknown option '%s'\n", argv[optind - 1]);
            return 2;
        }
        if (bad != NULL) {
            fprintf(stderr, "perf produce: %s\n", bad);
            return 2;
        }
    }
    const char *bad = NULL;
    if (optind < argc) {
        fprintf(stderr, "perf produce: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o->topic == NULL) {
        bad = "Missing required argument \"--topic\"";
    } else if (o->num_records < 0) {
        bad = "Missing required argument \"--num-records\"";
    } else if (o->record_size < 0) {
        bad = "Missing required argument \"--record-size\"";
    } else if (!have_tput) {
        bad = "Missing required argument \"--throughput\"";
    } else if (o->bootstrap == NULL && sl_props_get(&o->props, "bootstrap.servers") == NULL) {
        bad = "no broker: give --bootstrap-server or --producer-props bootstrap.servers=H:P";
    }
    if (bad != NULL) {
        fprintf(stderr, "perf produce: %s\n", bad);
        return 2;
    }
    return 0;
}

/* Sleeps as long as sending is ahead of --throughput (Kafka's ThroughputThrottler). */
static void pp_throttle(rd_kafka_t *rk, const struct pp_opts *o, int64_t sent, int64_t start)
{
    if (o->throughput < 0) {
        return;
    }
    int64_t due_us = (int64_t)((double)sent * 1e6 / (double)o->throughput);
    int64_t ahead_us = due_us - (sl_mono_us() - start);
    if (ahead_us > 1000) {
        rd_kafka_poll(rk, (int)(ahead_us / 1000));
    }
}

static int pp_run(rd_kafka_t *rk, const struct pp_opts *o, struct pp_stats *s)
{
    char *payload = malloc((size_t)o->record_size + 1);
    if (payload == NULL) {
        fprintf(stderr, "perf produce: out of memory\n");
        return 1;
    }
    /* Like Kafka: one random payload of upper-case letters, sent every time. */
    srand((unsigned)time(NULL));
    for (int64_t i = 0; i < o->record_size; i++) {
        payload[i] = (char)('A' + rand() % 26);
    }
    int64_t sampling =
        o->num_records / (o->num_records < PERF_SAMPLES_MAX ? (o->num_records ? o->num_records : 1)
                                                            : PERF_SAMPLES_MAX);
    if (sampling < 1) {
        sampling = 1;
    }
    int rc = 0;
    int64_t i;
    for (i = 0; i < o->num_records && !sl_rdk_stop && rc == 0; i++) {
        uintptr_t tag = (uintptr_t)(sl_mono_us() - s->start_us) << 1 | (i % sampling == 0);
        for (;;) {
            rd_kafka_resp_err_t err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(o->topic), RD_KAFKA_V_VALUE(payload, (size_t)o->record_size),
                RD_KAFKA_V_OPAQUE((void *)tag), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                break;
            }
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "perf produce: %s\n", rd_kafka_err2str(err));
                rc = 1;
                break;
            }
            rd_kafka_poll(rk, 10);
        }
        rd_kafka_poll(rk, 0);
        pp_throttle(rk, o, i + 1, s->start_us);
    }
    /* Records stay alive until delivered or failed (message.timeout.ms), so this ends. */
    while (rd_kafka_outq_len(rk) > 0) {
        rd_kafka_flush(rk, 1000);
    }
    free(payload);
    pp_summary(s);
    if (s->failed > 0) {
        fprintf(stderr, "perf produce: %" PRId64 " of %" PRId64 " records failed\n", s->failed, i);
        rc = 1;
    }
    return rc;
}

static int perf_produce(int argc, char **argv)
{
    struct pp_opts o;
    struct pp_stats s;
    char errbuf[512];
    memset(&o, 0, sizeof(o));
    memset(&s, 0, sizeof(s));
    sl_props_init(&o.props);
    int rc = pp_parse(&o, argc, argv);
    if (rc != 0) {
        pp_usage(rc == 3 ? stdout : stderr);
        sl_props_fini(&o.props);
        return rc == 3 ? 0 : 2;
    }
    rd_kafka_t *rk = NULL;
    struct sl_props defaults;
    sl_props_init(&defaults);
    rc = sl_props_set(&defaults, "acks", "1");
    for (size_t i = 0; rc == 0 && i < o.props.n; i++) {
        rc = sl_props_set(&defaults, o.props.keys[i], o.props.values[i]);
    }
    rd_kafka_conf_t *conf =
        rc == 0 ? sl_rdk_conf_new(&defaults, o.bootstrap, errbuf, sizeof(errbuf)) : NULL;
    sl_props_fini(&defaults);
    if (conf != NULL) {
        rd_kafka_conf_set_opaque(conf, &s);
        rd_kafka_conf_set_dr_msg_cb(conf, pp_on_delivery);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errbuf, sizeof(errbuf));
        if (rk == NULL) {
            rd_kafka_conf_destroy(conf);
        }
    }
    s.samples_cap =
        (size_t)(o.num_records < PERF_SAMPLES_MAX ? o.num_records : PERF_SAMPLES_MAX) + 1;
    s.samples = malloc(s.samples_cap * sizeof(*s.samples));
    if (rk == NULL || s.samples == NULL) {
        fprintf(stderr, "perf produce: %s\n", rk == NULL ? errbuf : "out of memory");
        rc = 1;
    } else {
        sl_rdk_catch_signals();
        s.start_us = s.win_start_us = sl_mono_us();
        rc = pp_run(rk, &o, &s);
    }
    fflush(stdout);
    sl_rdk_destroy(rk);
    free(s.samples);
    sl_props_fini(&o.props);
    return rc;
}

/* ---- consume ---- */

#define PERF_CONSUME_BATCH 4096
#define PERF_THREADS_MAX   256

struct pc_opts {
    const char *bootstrap;
    const char *topic;
    int64_t messages, timeout_ms;
    int64_t threads; /* consumers, each on its own thread; partition i goes to i % threads */
    int hide_header;
    struct sl_props props;
};

static void pc_usage(FILE *out)
{
    fprintf(out, "usage: sluice perf consume --bootstrap-server H:P --topic T --messages N "
                 "[options]\n"
                 "\n"
                 "Options:\n"
                 "  --bootstrap-server H:P     broker(s) to connect to (required;\n"
                 "                             --broker-list is an alias)\n"
                 "  --topic T                  topic to read from the beginning (required)\n"
                 "  --messages N               records to read (required)\n"
                 "  --timeout MS               give up after MS without a record (default 10000)\n"
                 "  --consumer.config FILE     consumer properties file (k=v lines)\n"
                 "  --fetch-size BYTES         bytes per partition per fetch (default 1048576)\n"
                 "  --threads T                consumers, each on its own thread (default 1);\n"
                 "                             partition i is read by consumer i %% T, and a\n"
                 "                             consumer left without a partition is not started\n"
                 "  --hide-header              leave out the header line\n"
                 "  --help                     print this help\n"
                 "\n"
                 "Prints kafka-consumer-perf-test's table, totals over all threads, timed from\n"
                 "the start to the N-th record. Exit status: 0 when N records were read, 1\n"
                 "otherwise, 2 on a usage error.\n");
}

static int pc_parse(struct pc_opts *o, int argc, char **argv)
{
    enum { O_BOOT = 256, O_TOPIC, O_MSGS, O_TMO, O_CCONF, O_HIDE, O_FETCH, O_THREADS };
    static const struct option longopts[] = {
        {"bootstrap-server", required_argument, NULL, O_BOOT},
        {"broker-list", required_argument, NULL, O_BOOT},
        {"topic", required_argument, NULL, O_TOPIC},
        {"messages", required_argument, NULL, O_MSGS},
        {"timeout", required_argument, NULL, O_TMO},
        {"consumer.config", required_argument, NULL, O_CCONF},
        {"hide-header", no_argument, NULL, O_HIDE},
        {"fetch-size", required_argument, NULL, O_FETCH},
        {"threads", required_argument, NULL, O_THREADS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char errbuf[512];
    int64_t fetch_size;
    int c;
    o->messages = -1;
    o->timeout_ms = 10000;
    o->threads = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case O_BOOT:
            o->bootstrap = optarg;
            break;
        case O_TOPIC:
            o->topic = optarg;
            break;
        case O_MSGS:
            if (sl_parse_i64(optarg, 1, INT64_MAX, &o->messages) != 0) {
                fprintf(stderr, "perf consume: --messages must be a positive number\n");
                return 2;
            }
            break;
        case O_TMO:
            if (sl_parse_i64(optarg, 0, INT32_MAX, &o->timeout_ms) != 0) {
                fprintf(stderr, "perf consume: --timeout must be milliseconds\n");
                return 2;
            }
            break;
        case O_CCONF:
            if (sl_props_load_file(&o->props, optarg, errbuf, sizeof(errbuf)) != 0) {
                fprintf(stderr, "perf consume: %s\n", errbuf);
                return 2;
            }
            break;
        case O_HIDE:
            o->hide_header = 1;
            break;
        case O_FETCH: /* Kafka's --fetch-size: bytes per partition per fetch request */
            if (sl_parse_i64(optarg, 1, INT32_MAX, &fetch_size) != 0 ||
                sl_props_set(&o->props, "fetch.message.max.bytes", optarg) != 0) {
                fprintf(stderr, "perf consume: --fetch-size must be a positive byte count\n");
                return 2;
            }
            break;
        case O_THREADS:
            if (sl_parse_i64(optarg, 1, PERF_THREADS_MAX, &o->threads) != 0) {
                fprintf(stderr, "perf consume: --threads must be a number from 1 to %d\n",
                        PERF_THREADS_MAX);
                return 2;
            }
            break;
        case 'h':
            return 3;
        case ':':
            fprintf(stderr, "perf consume: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "perf consume: unknown option '%s'\n", argv[optind - 1]);
            return 2;
        }
    }
    const char *bad = NULL;
    if (optind < argc) {
        fprintf(stderr, "perf consume: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o->bootstrap == NULL && sl_props_get(&o->props, "bootstrap.servers") == NULL) {
        bad = "Missing required argument \"--bootstrap-server\"";
    } else if (o->topic == NULL) {
        bad = "Missing required argument \"--topic\"";
    } else if (o->messages < 0) {
        bad = "Missing required argument \"--messages\"";
    }
    if (bad != NULL) {
        fprintf(stderr, "perf consume: %s\n", bad);
        return 2;
    }
    return 0;
}

/* Kafka's default --date-format, "yyyy-MM-dd HH:mm:ss:SSS", in local time. */
static void fmt_ms(char *buf, size_t len, int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf + n, len - n, ":%03d", (int)(ms % 1000));
}

/*
 * The partition ids of topic, from rk's metadata, into *ids (caller frees) and *n; ids may be
 * NULL. Also teaches rk the partitions' leaders: assigned before it knows them, librdkafka
 * waits 500 ms before it asks again for the start offsets. Returns 0 or 1 (reported).
 */
static int pc_partitions(rd_kafka_t *rk, const char *topic, int32_t **ids, int *n)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, PERF_METADATA_MS);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    }
    int32_t *got = NULL;
    int cnt = 0;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && ids != NULL) {
        cnt = md->topics[0].partition_cnt;
        got = malloc((size_t)(cnt > 0 ? cnt : 1) * sizeof(*got));
        for (int i = 0; got != NULL && i < cnt; i++) {
            got[i] = md->topics[0].partitions[i].id;
        }
    }
    int rc = 0;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "perf consume: topic %s: %s\n", topic, rd_kafka_err2str(err));
        rc = 1;
    } else if (ids != NULL && got == NULL) {
        fprintf(stderr, "perf consume: out of memory\n");
        rc = 1;
    } else if (ids != NULL) {
        *ids = got;
        *n = cnt;
    }
    if (md != NULL) {
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    return rc;
}

/* A consumer with o's properties, its poll queue redirected to the consumer queue. */
static rd_kafka_t *pc_consumer_new(const struct pc_opts *o, char *errbuf, size_t errlen)
{
    rd_kafka_conf_t *conf = sl_rdk_conf_new(&o->props, o->bootstrap, errbuf, errlen);
    if (conf == NULL) {
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errbuf, errlen);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

/*
 * --threads: each consumer thread owns one rd_kafka_t and the partitions dealt to it; what
 * the threads share is in pc_shared, atomics only. The main thread creates the consumers,
 * runs worker 0 itself, joins the others and reads their byte counts after the join.
 */
struct pc_shared {
    const struct pc_opts *o;
    _Atomic int64_t count;       /* records consumed by all threads */
    _Atomic int64_t progress_us; /* sl_mono_us() of the last non-empty batch of any thread */
    _Atomic int64_t done_ms;     /* sl_wall_ms() when count reached --messages; 0 before */
    _Atomic int timed_out;       /* a thread saw --timeout pass without progress */
};

struct pc_worker {
    struct pc_shared *sh;
    rd_kafka_t *rk;                         /* owned */
    rd_kafka_topic_partition_list_t *parts; /* owned; partitions i with i % N == this one */
    pthread_t tid;
    int started;
    int64_t bytes; /* written by the worker's thread, read after the join */
};

static int pc_stopping(struct pc_shared *sh)
{
    return sl_rdk_stop || atomic_load(&sh->timed_out) ||
           atomic_load(&sh->count) >= sh->o->messages;
}

/* One consumer thread: batches from its consumer queue until pc_stopping(). */
static void *pc_work(void *arg)
{
    struct pc_worker *w = arg;
    struct pc_shared *sh = w->sh;
    /* Messages are taken from the consumer queue in batches: one call per message
     * (rd_kafka_consumer_poll) costs more than the rest of the client's work per record. */
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(w->rk);
    rd_kafka_message_t *batch[PERF_CONSUME_BATCH];
    while (!pc_stopping(sh)) {
        ssize_t n = rd_kafka_consume_batch_queue(q, PERF_POLL_MS, batch, PERF_CONSUME_BATCH);
        if (n <= 0) {
            if ((sl_mono_us() - atomic_load(&sh->progress_us)) / 1000 >= sh->o->timeout_ms) {
                atomic_store(&sh->timed_out, 1);
            }
            continue;
        }
        int64_t got = 0;
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = batch[i];
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                got++;
                w->bytes += (int64_t)(m->len + m->key_len);
            } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                fprintf(stderr, "perf consume: %s\n", rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
        }
        int64_t before = atomic_fetch_add(&sh->count, got);
        if (before < sh->o->messages && before + got >= sh->o->messages) {
            atomic_store(&sh->done_ms, sl_wall_ms());
        }
        atomic_store(&sh->progress_us, sl_mono_us());
    }
    rd_kafka_queue_destroy(q);
    return NULL;
}

/* Prints Kafka's table. Returns 0 when --messages records were read, else 1. */
static int pc_report(const struct pc_opts *o, int64_t start_ms, int64_t end_ms, int64_t count,
                     int64_t bytes)
{
    if (count < o->messages) {
        fprintf(stderr,
                "WARNING: Exiting before consuming the expected number of messages: timeout "
                "(%" PRId64 " ms) exceeded. You can use the --timeout option to increase the "
                "timeout.\n",
                o->timeout_ms);
    }
    char start_s[64], end_s[64];
    fmt_ms(start_s, sizeof(start_s), start_ms);
    fmt_ms(end_s, sizeof(end_s), end_ms);
    double secs = (double)(end_ms - start_ms) / 1000.0;
    double mb = (double)bytes / PERF_MB;
    int64_t fetch_ms = end_ms - start_ms; /* rebalance time is 0: no group */
    if (!o->hide_header) {
        printf("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, "
               "nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n");
    }
    printf("%s, %s, %.4f, %.4f, %" PRId64 ", %.4f, %d, %" PRId64 ", %.4f, %.4f\n", start_s, end_s,
           mb, secs > 0 ? mb / secs : 0.0, count, secs > 0 ? (double)count / secs : 0.0, 0,
           fetch_ms, fetch_ms > 0 ? mb / ((double)fetch_ms / 1000.0) : 0.0,
           fetch_ms > 0 ? (double)count / ((double)fetch_ms / 1000.0) : 0.0);
    fflush(stdout);
    return count < o->messages ? 1 : 0;
}

/*
 * Creates the consumers (the first also reads the metadata), deals partition i to worker
 * i % --threads at its beginning, runs the workers and reports. Workers without a partition
 * get no consumer and no thread. The end time is when the total reached --messages, or when
 * the last thread stopped (timeout, signal). Returns 0 or 1 (reported).
 */
static int pc_run(const struct pc_opts *o)
{
    struct pc_shared sh = {.o = o};
    char errbuf[512];
    int64_t start_ms = sl_wall_ms();
    int32_t *ids = NULL;
    int nparts = 0, nw = 0, rc = 0;
    struct pc_worker *w = calloc((size_t)o->threads, sizeof(*w));
    rd_kafka_t *rk0 = w != NULL ? pc_consumer_new(o, errbuf, sizeof(errbuf)) : NULL;
    if (rk0 == NULL) {
        fprintf(stderr, "perf consume: %s\n", w == NULL ? "out of memory" : errbuf);
        free(w);
        return 1;
    }
    rc = pc_partitions(rk0, o->topic, &ids, &nparts);
    nw = rc == 0 ? (nparts < o->threads ? nparts : (int)o->threads) : 0;
    for (int i = 0; i < nw && rc == 0; i++) {
        w[i].sh = &sh;
        w[i].parts = rd_kafka_topic_partition_list_new(nparts / nw + 1);
        for (int p = i; p < nparts; p += nw) {
            rd_kafka_topic_partition_list_add(w[i].parts, o->topic, ids[p])->offset =
                RD_KAFKA_OFFSET_BEGINNING;
        }
        w[i].rk = i == 0 ? rk0 : pc_consumer_new(o, errbuf, sizeof(errbuf));
        if (w[i].rk == NULL) {
            fprintf(stderr, "perf consume: %s\n", errbuf);
            rc = 1;
            break;
        }
        if (i > 0 && pc_partitions(w[i].rk, o->topic, NULL, NULL) != 0) {
            rc = 1;
            break;
        }
        rd_kafka_resp_err_t err = rd_kafka_assign(w[i].rk, w[i].parts);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "perf consume: topic %s: %s\n", o->topic, rd_kafka_err2str(err));
            rc = 1;
        }
    }
    if (rc == 0) {
        atomic_store(&sh.progress_us, sl_mono_us());
        for (int i = 1; i < nw; i++) {
            w[i].started = pthread_create(&w[i].tid, NULL, pc_work, &w[i]) == 0;
            if (!w[i].started) {
                fprintf(stderr, "perf consume: cannot start consumer thread %d\n", i);
                atomic_store(&sh.timed_out, 1); /* stops the others; reported as short */
                break;
            }
        }
        if (nw > 0) {
            pc_work(&w[0]);
        }
        int64_t bytes = nw > 0 ? w[0].bytes : 0;
        for (int i = 1; i < nw; i++) {
            if (w[i].started) {
                pthread_join(w[i].tid, NULL);
                bytes += w[i].bytes;
            }
        }
        int64_t end_ms = atomic_load(&sh.done_ms);
        rc = pc_report(o, start_ms, end_ms != 0 ? end_ms : sl_wall_ms(),
                       atomic_load(&sh.count), bytes);
    }
    /* sl_rdk_destroy waits for every rd_kafka_t of the process to be gone, so rk0 goes last. */
    for (int i = nw - 1; i >= 0; i--) {
        if (w[i].rk != NULL) {
            rd_kafka_consumer_close(w[i].rk);
            if (i > 0) {
                rd_kafka_destroy(w[i].rk);
            }
        }
        if (w[i].parts != NULL) {
            rd_kafka_topic_partition_list_destroy(w[i].parts);
        }
    }
    if (nw == 0) {
        rd_kafka_consumer_close(rk0);
    }
    sl_rdk_destroy(rk0);
    free(ids);
    free(w);
    return rc;
}

/*
 * librdkafka makes one buffer per fetch response (--fetch-size: 10 MiB in the benchmark) and
 * one message object per record on its broker thread; the consumer frees them. With glibc's
 * defaults the big buffers are fresh mmaps and the heap is trimmed after the frees, so each
 * fetch page-faults on memory that was in use a moment before (a quarter of the consumer's
 * time in perf profiles of 100 B records). Keep freed memory for reuse instead; the process
 * is a short-lived load generator, so holding on to it costs nothing.
 */
static void pc_tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
}

static int perf_consume(int argc, char **argv)
{
    struct pc_opts o;
    memset(&o, 0, sizeof(o));
    sl_props_init(&o.props);
    int rc = pc_parse(&o, argc, argv);
    if (rc != 0) {
        pc_usage(rc == 3 ? stdout : stderr);
        sl_props_fini(&o.props);
        return rc == 3 ? 0 : 2;
    }
    /* librdkafka's assign() wants a group.id, though no group is joined and nothing is
     * committed; Kafka's tool names its group the same way. All threads' consumers share it. */
    char gid[64];
    snprintf(gid, sizeof(gid), "perf-consumer-%d", (int)getpid());
    rc = sl_props_get(&o.props, "group.id") ? 0 : sl_props_set(&o.props, "group.id", gid);
    rc |= sl_props_set(&o.props, "enable.auto.commit", "false");
    rc |= sl_props_set(&o.props, "enable.auto.offset.store", "false");
    rc |= sl_props_set(&o.props, "enable.partition.eof", "false");
    if (rc != 0) {
        fprintf(stderr, "perf consume: out of memory\n");
        rc = 1;
    } else {
        sl_rdk_catch_signals();
        pc_tune_malloc();
        rc = pc_run(&o);
    }
    sl_props_fini(&o.props);
    return rc;
}

static void perf_usage(FILE *out)
{
    fprintf(out, "usage: sluice perf produce|consume [options]\n"
                 "\n"
                 "  produce   like kafka-producer-perf-test (sluice perf produce --help)\n"
                 "  consume   like kafka-consumer-perf-test (sluice perf consume --help)\n");
}

/*
 * `sluice perf produce|consume ...`. Returns 0 on success, 1 when records failed or were
 * missing, 2 on a usage error. Blocks on the network for as long as the test runs.
 */
int sl_tool_perf_main(int argc, char **argv)
{
    if (argc < 2) {
        perf_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        perf_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "produce") == 0) {
        return perf_produce(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "consume") == 0) {
        return perf_consume(argc - 1, argv + 1);
    }
    fprintf(stderr, "perf: unknown mode '%s'\n\n", argv[1]);
    perf_usage(stderr);
    return 2;
}
