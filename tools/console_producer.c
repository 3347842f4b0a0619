/*
 * console_producer.c - `sluice console-producer`: each line of stdin becomes one record of
 * --topic, like kafka-console-producer.sh. With --property parse.key=true a line is split
 * at the first key.separator (default TAB) into key and value. At EOF (or SIGINT/SIGTERM)
 * every record is flushed; the exit status is 1 when any delivery failed, with the count on
 * stderr. Runs on the main thread; delivery reports are served by rd_kafka_poll there too.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/rdk_util.h"
#include "tools/tools.h"

#define CP_ERRORS_SHOWN 10 /* delivery errors printed one by one; the rest only counted */

struct cp_opts {
    const char *bootstrap;
    const char *topic;
    struct sl_props reader; /* --property: parse.key, key.separator, ignore.error */
    struct sl_props client; /* --producer.config, --producer-property, shorthand flags */
    int sync;
};

struct cp_state {
    const char *topic;
    int64_t sent;
    int64_t failed;
};

static void cp_usage(FILE *out)
{
    fprintf(out, "usage: sluice console-producer --bootstrap-server HOST:PORT --topic T [options]\n"
                 "\n"
                 "Reads stdin and sends each line as one record.\n"
                 "\n"
                 "Options:\n"
                 "  --bootstrap-server H:P        broker(s) to connect to (required;\n"
                 "                                --broker-list is an alias)\n"
                 "  --topic T                     topic to produce to (required)\n"
                 "  --property k=v                line reader settings (repeatable):\n"
                 "                                  parse.key=true     split key and value\n"
                 "                                  key.separator=S    default TAB\n"
                 "                                  ignore.error=true  no key separator: null key\n"
                 "  --producer-property k=v       librdkafka producer property (repeatable)\n"
                 "  --producer.config FILE        producer properties file (k=v lines)\n"
                 "  --request-required-acks A     acks: 0, 1 or -1/all\n"
                 "  --compression-codec C         none, gzip, snappy, lz4 or zstd\n"
                 "  --batch-size N                records per batch\n"
                 "  --timeout MS                  linger time before a batch is sent\n"
                 "  --sync                        wait for each record before reading the next\n"
                 "  --help                        print this help\n"
                 "\n"
                 "Exit status: 0 when every record was delivered, 1 when any failed, 2 usage "
                 "error.\n");
}

/* Returns 0 to run, 2 for a usage error (already reported), 3 for --help. */
static int cp_parse(struct cp_opts *o, int argc, char **argv)
{
    enum {
        O_BOOT = 256,
        O_TOPIC,
        O_PROP,
        O_PPROP,
        O_PCONF,
        O_ACKS,
        O_CODEC,
        O_BATCH,
        O_LINGER,
        O_SYNC
    };
    static const struct option longopts[] = {
        {"bootstrap-server", required_argument, NULL, O_BOOT},
        {"broker-list", required_argument, NULL, O_BOOT},
        {"topic", required_argument, NULL, O_TOPIC},
        {"property", required_argument, NULL, O_PROP},
        {"producer-property", required_argument, NULL, O_PPROP},
        {"producer.config", required_argument, NULL, O_PCONF},
        {"request-required-acks", required_argument, NULL, O_ACKS},
        {"compression-codec", required_argument, NULL, O_CODEC},
        {"batch-size", required_argument, NULL, O_BATCH},
        {"timeout", required_argument, NULL, O_LINGER},
        {"sync", no_argument, NULL, O_SYNC},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* Kafka's precedence: the file, then --producer-property, then the dedicated flags. */
    struct sl_props flags;
    char errbuf[512];
    int c, rc = 0;
    sl_props_init(&flags);
    while (rc == 0 && (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case O_BOOT:
            o->bootstrap = optarg;
            break;
        case O_TOPIC:
            o->topic = optarg;
            break;
        case O_PROP:
        case O_PPROP:
            if (sl_props_add_kv(c == O_PROP ? &o->reader : &flags, optarg) != 0) {
                fprintf(stderr, "console-producer: expected key=value, got '%s'\n", optarg);
                rc = 2;
            }
            break;
        case O_PCONF:
            if (sl_props_load_file(&o->client, optarg, errbuf, sizeof(errbuf)) != 0) {
                fprintf(stderr, "console-producer: %s\n", errbuf);
                rc = 2;
            }
            break;
        case O_ACKS:
            sl_props_set(&flags, "acks", optarg);
            break;
        case O_CODEC:
            sl_props_set(&flags, "compression.codec", optarg);
            break;
        case O_BATCH:
            sl_props_set(&flags, "batch.num.messages", optarg);
            break;
        case O_LINGER:
            sl_props_set(&flags, "linger.ms", optarg);
            break;
        case O_SYNC:
            o->sync = 1;
            break;
        case 'h':
            rc = 3;
            break;
        case ':':
            fprintf(stderr, "console-producer: option '%s' needs a value\n", argv[optind - 1]);
            rc = 2;
            break;
        default:
            fprintf(stderr, "console-producer: unknown option '%s'\n", argv[optind - 1]);
            rc = 2;
            break;
        }
    }
    for (size_t i = 0; i < flags.n; i++) {
        sl_props_set(&o->client, flags.keys[i], flags.values[i]);
    }
    sl_props_fini(&flags);
    if (rc != 0) {
        return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "console-producer: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o->bootstrap == NULL && sl_props_get(&o->client, "bootstrap.servers") == NULL) {
        fprintf(stderr, "console-producer: Missing required argument \"[bootstrap-server]\"\n");
        return 2;
    }
    if (o->topic == NULL) {
        fprintf(stderr, "console-producer: Missing required argument \"[topic]\"\n");
        return 2;
    }
    const char *sep = sl_props_get(&o->reader, "key.separator");
    if (sep != NULL && *sep == '\0') {
        fprintf(stderr, "console-producer: key.separator must not be empty\n");
        return 2;
    }
    return 0;
}

static void cp_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct cp_state *st = opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        return;
    }
    if (st->failed++ < CP_ERRORS_SHOWN) {
        fprintf(stderr, "Error when sending message to topic %s with key: ", st->topic);
        if (m->key != NULL) {
            fprintf(stderr, "%zu bytes", m->key_len);
        } else {
            fputs("null", stderr);
        }
        fprintf(stderr, ", value: %zu bytes with error: %s\n", m->len, rd_kafka_err2str(m->err));
    }
}

/* Hands one record to librdkafka, waiting while its queue is full. Returns 0 or -1. */
static int cp_send(rd_kafka_t *rk, struct cp_state *st, const char *key, size_t klen,
                   const char *value, size_t vlen)
{
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(st->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)value, vlen), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            st->sent++;
            rd_kafka_poll(rk, 0);
            return 0;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            st->sent++;
            if (st->failed++ < CP_ERRORS_SHOWN) {
                fprintf(stderr, "Error when sending message to topic %s: %s\n", st->topic,
                        rd_kafka_err2str(err));
            }
            return -1;
        }
        rd_kafka_poll(rk, 100);
    }
}

/* Reads stdin to EOF (or a stop signal), sending each line. Returns 0, or 1 on a bad line. */
static int cp_read_lines(rd_kafka_t *rk, struct cp_state *st, const struct cp_opts *o)
{
    int parse_key = sl_props_get_bool(&o->reader, "parse.key", 0);
    int ignore_error = sl_props_get_bool(&o->reader, "ignore.error", 0);
    const char *sep = sl_props_get(&o->reader, "key.separator");
    if (sep == NULL) {
        sep = "\t";
    }
    size_t seplen = strlen(sep);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t lineno = 0;
    int rc = 0;
    while (!sl_rdk_stop && (len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n') {
            line[--len] = '\0';
            if (len > 0 && line[len - 1] == '\r') {
                line[--len] = '\0';
            }
        }
        const char *key = NULL, *value = line;
        size_t klen = 0, vlen = (size_t)len;
        if (parse_key) {
            char *at = memmem(line, (size_t)len, sep, seplen);
            if (at != NULL) {
                key = line;
                klen = (size_t)(at - line);
                value = at + seplen;
                vlen = (size_t)len - klen - seplen;
            } else if (!ignore_error) {
                fprintf(stderr, "No key separator found on line number %" PRId64 ": '%s'\n", lineno,
                        line);
                rc = 1;
                break;
            }
        }
        cp_send(rk, st, key, klen, value, vlen);
        if (o->sync) {
            rd_kafka_flush(rk, -1);
        }
    }
    if (rc == 0 && ferror(stdin) && !sl_rdk_stop) {
        fprintf(stderr, "console-producer: error reading stdin: %s\n", strerror(errno));
        rc = 1;
    }
    free(line);
    return rc;
}

/*
 * `sluice console-producer ...`. Returns 0 when every line was delivered, 1 on a delivery,
 * connection or input failure, 2 on a usage error. Blocks on stdin and on the network.
 */
int sl_tool_console_producer_main(int argc, char **argv)
{
    struct cp_opts o;
    struct cp_state st;
    char errbuf[512];
    memset(&o, 0, sizeof(o));
    memset(&st, 0, sizeof(st));
    sl_props_init(&o.reader);
    sl_props_init(&o.client);
    int rc = cp_parse(&o, argc, argv);
    if (rc != 0) {
        cp_usage(rc == 3 ? stdout : stderr);
        sl_props_fini(&o.reader);
        sl_props_fini(&o.client);
        return rc == 3 ? 0 : 2;
    }
    st.topic = o.topic;
    rd_kafka_t *rk = NULL;
    rd_kafka_conf_t *conf = sl_rdk_conf_new(&o.client, o.bootstrap, errbuf, sizeof(errbuf));
    if (conf != NULL) {
        rd_kafka_conf_set_opaque(conf, &st);
        rd_kafka_conf_set_dr_msg_cb(conf, cp_on_delivery);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errbuf, sizeof(errbuf));
        if (rk == NULL) {
            rd_kafka_conf_destroy(conf);
        }
    }
    if (rk == NULL) {
        fprintf(stderr, "console-producer: %s\n", errbuf);
        sl_props_fini(&o.reader);
        sl_props_fini(&o.client);
        return 1;
    }
    sl_rdk_catch_signals();
    rc = cp_read_lines(rk, &st, &o);
    /* Undelivered records fail once message.timeout.ms passes, so this flush ends. */
    while (rd_kafka_outq_len(rk) > 0) {
        rd_kafka_flush(rk, 1000);
    }
    if (st.failed > 0) {
        fprintf(stderr, "%" PRId64 " of %" PRId64 " records failed to be delivered\n", st.failed,
                st.sent);
        rc = 1;
    }
    sl_rdk_destroy(rk);
    sl_props_fini(&o.reader);
    sl_props_fini(&o.client);
    return rc;
}
