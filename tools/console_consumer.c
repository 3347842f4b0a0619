/*
 * console_consumer.c - `sluice console-consumer`: prints the records of --topic to stdout
 * one per line, with kafka-console-consumer.sh's flags and its DefaultMessageFormatter
 * layout for the print.* properties, e.g. with all of them:
 *
 *   CreateTime:1700000000000<TAB>Partition:0<TAB>Offset:5<TAB>h1:v1,h2:v2<TAB>key<TAB>value
 *
 * Without a group (--group or group.id) it assigns partitions itself (all of them from the
 * topic's metadata, or --partition) and never commits; with one it subscribes. It stops
 * after --max-messages, after --timeout-ms without a record, or on SIGINT/SIGTERM, and says
 * "Processed a total of N messages" on stderr. Main thread only.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tools/rdk_util.h"
#include "tools/tools.h"

#define CC_POLL_MS          100
#define CC_METADATA_WAIT_MS 5000

struct cc_opts {
    const char *bootstrap;
    const char *topic;
    const char *group;
    int from_beginning;
    int64_t partition; /* -1: all partitions */
    int64_t offset;    /* RD_KAFKA_OFFSET_BEGINNING/END or an absolute offset */
    int offset_given;
    int64_t max_messages;   /* -1: no limit */
    int64_t timeout_ms;     /* -1: wait forever */
    struct sl_props fmt;    /* --property */
    struct sl_props client; /* --consumer.config, --consumer-property */
};

/* DefaultMessageFormatter's settings, resolved once. */
struct cc_format {
    int timestamp, partition, offset, headers, key, value;
    const char *key_sep, *line_sep, *headers_sep, *null_literal;
};

static void cc_usage(FILE *out)
{
    fprintf(out, "usage: sluice console-consumer --bootstrap-server HOST:PORT --topic T [options]\n"
                 "\n"
                 "Prints the records of a topic to stdout, one per line.\n"
                 "\n"
                 "Options:\n"
                 "  --bootstrap-server H:P     broker(s) to connect to (required)\n"
                 "  --topic T                  topic to read (required)\n"
                 "  --from-beginning           start at the earliest offset, not the latest\n"
                 "  --partition P              read only partition P\n"
                 "  --offset O                 with --partition: earliest, latest or an offset\n"
                 "  --group G                  consume as member of group G (subscribe, commit)\n"
                 "  --max-messages N           exit after N records\n"
                 "  --timeout-ms MS            exit when no record arrived for MS milliseconds\n"
                 "  --property k=v             formatter setting (repeatable): print.key,\n"
                 "                             print.value, print.partition, print.offset,\n"
                 "                             print.timestamp, print.headers (true/false),\n"
                 "                             key.separator, line.separator, headers.separator,\n"
                 "                             null.literal\n"
                 "  --consumer-property k=v    librdkafka consumer property (repeatable)\n"
                 "  --consumer.config FILE     consumer properties file (k=v lines)\n"
                 "  --help                     print this help\n"
                 "\n"
                 "Exit status: 0 after a normal stop, 1 on failure, 2 on a usage error.\n");
}

static int cc_parse_offset(struct cc_opts *o, const char *s)
{
    if (strcasecmp(s, "earliest") == 0) {
        o->offset = RD_KAFKA_OFFSET_BEGINNING;
    } else if (strcasecmp(s, "latest") == 0) {
        o->offset = RD_KAFKA_OFFSET_END;
    } else if (sl_parse_i64(s, -2, INT64_MAX, &o->offset) == 0) {
        /* Kafka's -2 and -1 mean earliest and latest, as librdkafka's logical offsets do. */
        o->offset = o->offset == -2   ? RD_KAFKA_OFFSET_BEGINNING
                    : o->offset == -1 ? RD_KAFKA_OFFSET_END
                                      : o->offset;
    } else {
        return -EINVAL;
    }
    o->offset_given = 1;
    return 0;
}

/* Returns 0 to run, 2 for a usage error (already reported), 3 for --help. */
static int cc_parse(struct cc_opts *o, int argc, char **argv)
{
    enum {
        O_BOOT = 256,
        O_TOPIC,
        O_GROUP,
        O_BEGIN,
        O_PART,
        O_OFF,
        O_MAX,
        O_TMO,
        O_PROP,
        O_CPROP,
        O_CCONF
    };
    static const struct option longopts[] = {
        {"bootstrap-server", required_argument, NULL, O_BOOT},
        {"topic", required_argument, NULL, O_TOPIC},
        {"group", required_argument, NULL, O_GROUP},
        {"from-beginning", no_argument, NULL, O_BEGIN},
        {"partition", required_argument, NULL, O_PART},
        {"offset", required_argument, NULL, O_OFF},
        {"max-messages", required_argument, NULL, O_MAX},
        {"timeout-ms", required_argument, NULL, O_TMO},
        {"property", required_argument, NULL, O_PROP},
        {"consumer-property", required_argument, NULL, O_CPROP},
        {"consumer.config", required_argument, NULL, O_CCONF},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sl_props cprops;
    char errbuf[512];
    int c, rc = 0;
    sl_props_init(&cprops);
    o->partition = -1;
    o->max_messages = -1;
    o->timeout_ms = -1;
    while (rc == 0 && (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        const char *bad = NULL;
        switch (c) {
        case O_BOOT:
            o->bootstrap = optarg;
            break;
        case O_TOPIC:
            o->topic = optarg;
            break;
        case O_GROUP:
            o->group = optarg;
            break;
        case O_BEGIN:
            o->from_beginning = 1;
            break;
        case O_PART:
            if (sl_parse_i64(optarg, 0, INT32_MAX, &o->partition) != 0) {
                bad = "--partition must be a partition number";
            }
            break;
        case O_OFF:
            if (cc_parse_offset(o, optarg) != 0) {
                bad = "--offset must be earliest, latest or a non-negative number";
            }
            break;
        case O_MAX:
            if (sl_parse_i64(optarg, 1, INT64_MAX, &o->max_messages) != 0) {
                bad = "--max-messages must be a positive number";
            }
            break;
        case O_TMO:
            if (sl_parse_i64(optarg, 0, INT32_MAX, &o->timeout_ms) != 0) {
                bad = "--timeout-ms must be a non-negative number";
            }
            break;
        case O_PROP:
        case O_CPROP:
            if (sl_props_add_kv(c == O_PROP ? &o->fmt : &cprops, optarg) != 0) {
                fprintf(stderr, "console-consumer: expected key=value, got '%s'\n", optarg);
                rc = 2;
            }
            break;
        case O_CCONF:
            if (sl_props_load_file(&o->client, optarg, errbuf, sizeof(errbuf)) != 0) {
                fprintf(stderr, "console-consumer: %s\n", errbuf);
                rc = 2;
            }
            break;
        case 'h':
            rc = 3;
            break;
        case ':':
            fprintf(stderr, "console-consumer: option '%s' needs a value\n", argv[optind - 1]);
            rc = 2;
            break;
        default:
            fprintf(stderr, "console-consumer: unknown option '%s'\n", argv[optind - 1]);
            rc = 2;
            break;
        }
        if (bad != NULL) {
            fprintf(stderr, "console-consumer: %s\n", bad);
            rc = 2;
        }
    }
    /* --consumer-property overrides --consumer.config, as in Kafka. */
    for (size_t i = 0; i < cprops.n; i++) {
        sl_props_set(&o->client, cprops.keys[i], cprops.values[i]);
    }
    sl_props_fini(&cprops);
    if (rc != 0) {
        return rc;
    }
    const char *bad = NULL;
    if (optind < argc) {
        fprintf(stderr, "console-consumer: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o->bootstrap == NULL && sl_props_get(&o->client, "bootstrap.servers") == NULL) {
        bad = "Missing required argument \"[bootstrap-server]\"";
    } else if (o->topic == NULL) {
        bad = "Missing required argument \"[topic]\"";
    } else if (o->offset_given && o->partition < 0) {
        bad = "The partition is required when offset is specified.";
    } else if (o->offset_given && o->from_beginning) {
        bad = "Options from-beginning and offset cannot be specified together.";
    }
    if (bad != NULL) {
        fprintf(stderr, "console-consumer: %s\n", bad);
        return 2;
    }
    if (o->group == NULL) {
        o->group = sl_props_get(&o->client, "group.id");
    }
    if (!o->offset_given) {
        o->offset = o->from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    }
    return 0;
}

static void cc_format_init(struct cc_format *f, const struct sl_props *p)
{
    const char *v;
    f->timestamp = sl_props_get_bool(p, "print.timestamp", 0);
    f->partition = sl_props_get_bool(p, "print.partition", 0);
    f->offset = sl_props_get_bool(p, "print.offset", 0);
    f->headers = sl_props_get_bool(p, "print.headers", 0);
    f->key = sl_props_get_bool(p, "print.key", 0);
    f->value = sl_props_get_bool(p, "print.value", 1);
    f->key_sep = (v = sl_props_get(p, "key.separator")) ? v : "\t";
    f->line_sep = (v = sl_props_get(p, "line.separator")) ? v : "\n";
    f->headers_sep = (v = sl_props_get(p, "headers.separator")) ? v : ",";
    f->null_literal = (v = sl_props_get(p, "null.literal")) ? v : "null";
}

static void put_bytes(const void *p, size_t len, const char *null_literal)
{
    if (p == NULL) {
        fputs(null_literal, stdout);
    } else {
        fwrite(p, 1, len, stdout);
    }
}

/* One record in DefaultMessageFormatter's layout. */
static void cc_print(const struct cc_format *f, const rd_kafka_message_t *m)
{
    if (f->timestamp) {
        rd_kafka_timestamp_type_t type;
        int64_t ts = rd_kafka_message_timestamp(m, &type);
        if (type == RD_KAFKA_TIMESTAMP_CREATE_TIME) {
            printf("CreateTime:%" PRId64, ts);
        } else if (type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME) {
            printf("LogAppendTime:%" PRId64, ts);
        } else {
            fputs("NO_TIMESTAMP", stdout);
        }
        fputs(f->partition || f->offset || f->headers || f->key || f->value ? f->key_sep
                                                                            : f->line_sep,
              stdout);
    }
    if (f->partition) {
        printf("Partition:%" PRId32, m->partition);
        fputs(f->offset || f->headers || f->key || f->value ? f->key_sep : f->line_sep, stdout);
    }
    if (f->offset) {
        printf("Offset:%" PRId64, m->offset);
        fputs(f->headers || f->key || f->value ? f->key_sep : f->line_sep, stdout);
    }
    if (f->headers) {
        rd_kafka_headers_t *hdrs = NULL;
        const char *name;
        const void *val;
        size_t vlen, i = 0;
        if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs != NULL) {
            for (;
                 rd_kafka_header_get_all(hdrs, i, &name, &val, &vlen) == RD_KAFKA_RESP_ERR_NO_ERROR;
                 i++) {
                printf("%s%s:", i ? f->headers_sep : "", name);
                put_bytes(val, vlen, f->null_literal);
            }
        }
        if (i == 0) {
            fputs("NO_HEADERS", stdout);
        }
        fputs(f->key || f->value ? f->key_sep : f->line_sep, stdout);
    }
    if (f->key) {
        put_bytes(m->key, m->key_len, f->null_literal);
        fputs(f->value ? f->key_sep : f->line_sep, stdout);
    }
    if (f->value) {
        put_bytes(m->payload, m->len, f->null_literal);
        fputs(f->line_sep, stdout);
    }
}

/*
 * Assigns the partitions to read when there is no group: --partition, or every partition
 * the topic has, retrying while the topic does not exist yet (bounded by --timeout-ms when
 * given). Returns 0, or 1 after reporting the failure.
 */
static int cc_assign(rd_kafka_t *rk, const struct cc_opts *o)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    int rc = 0;
    if (o->partition >= 0) {
        rd_kafka_topic_partition_list_add(parts, o->topic, (int32_t)o->partition)->offset =
            o->offset;
    } else {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, o->topic, NULL);
        int64_t start_us = sl_mono_us();
        int warned = 0;
        while (parts->cnt == 0 && rc == 0 && !sl_rdk_stop) {
            const struct rd_kafka_metadata *md = NULL;
            rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, CC_METADATA_WAIT_MS);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1) {
                err = md->topics[0].err;
                for (int i = 0; err == 0 && i < md->topics[0].partition_cnt; i++) {
                    rd_kafka_topic_partition_list_add(parts, o->topic,
                                                      md->topics[0].partitions[i].id)
                        ->offset = o->offset;
                }
            }
            if (md != NULL) {
                rd_kafka_metadata_destroy(md);
            }
            if (parts->cnt > 0) {
                break;
            }
            if (o->timeout_ms >= 0 && (sl_mono_us() - start_us) / 1000 >= o->timeout_ms) {
                fprintf(stderr, "console-consumer: topic %s not available: %s\n", o->topic,
                        rd_kafka_err2str(err));
                rc = 1;
            } else if (!warned++) {
                fprintf(stderr, "console-consumer: waiting for topic %s: %s\n", o->topic,
                        rd_kafka_err2str(err));
            }
            if (rc == 0) {
                rd_kafka_poll(rk, CC_POLL_MS * 5);
            }
        }
        rd_kafka_topic_destroy(rkt);
    }
    if (rc == 0 && parts->cnt > 0) {
        rd_kafka_resp_err_t err = rd_kafka_assign(rk, parts);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "console-consumer: assign failed: %s\n", rd_kafka_err2str(err));
            rc = 1;
        }
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return rc;
}

static int cc_subscribe(rd_kafka_t *rk, const struct cc_opts *o)
{
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, o->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "console-consumer: subscribe failed: %s\n", rd_kafka_err2str(err));
        return 1;
    }
    return 0;
}

/* Prints records until a stop condition. Returns 0, or 1 on a fatal consumer error. */
static int cc_loop(rd_kafka_t *rk, const struct cc_opts *o, int64_t *count)
{
    struct cc_format f;
    cc_format_init(&f, &o->fmt);
    int64_t last_us = sl_mono_us();
    while (!sl_rdk_stop && (o->max_messages < 0 || *count < o->max_messages)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, CC_POLL_MS);
        if (m == NULL) {
            fflush(stdout);
            if (o->timeout_ms >= 0 && (sl_mono_us() - last_us) / 1000 >= o->timeout_ms) {
                fprintf(stderr,
                        "Error processing message, terminating consumer process: "
                        "TimeoutException (no record within %" PRId64 " ms)\n",
                        o->timeout_ms);
                break;
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            cc_print(&f, m);
            (*count)++;
            last_us = sl_mono_us();
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            char why[512];
            fprintf(stderr, "console-consumer: %s\n", rd_kafka_message_errstr(m));
            if (rd_kafka_fatal_error(rk, why, sizeof(why)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                fprintf(stderr, "console-consumer: fatal: %s\n", why);
                rd_kafka_message_destroy(m);
                return 1;
            }
        }
        rd_kafka_message_destroy(m);
    }
    fflush(stdout);
    return 0;
}

static rd_kafka_t *cc_connect(struct cc_opts *o)
{
    char errbuf[512];
    struct sl_props *p = &o->client;
    /* Without a group nothing may be committed; librdkafka needs no group.id for assign. */
    int rc = 0;
    if (sl_props_get(p, "enable.partition.eof") == NULL) {
        rc |= sl_props_set(p, "enable.partition.eof", "false");
    }
    if (o->group != NULL) {
        rc |= sl_props_set(p, "group.id", o->group);
        if (sl_props_get(p, "auto.offset.reset") == NULL) {
            rc |= sl_props_set(p, "auto.offset.reset", o->from_beginning ? "earliest" : "latest");
        }
    } else {
        /* librdkafka's assign() wants a group.id even when no group is ever joined. */
        char gid[64];
        snprintf(gid, sizeof(gid), "console-consumer-%d", (int)getpid());
        rc |= sl_props_set(p, "group.id", gid);
        rc |= sl_props_set(p, "enable.auto.commit", "false");
        rc |= sl_props_set(p, "enable.auto.offset.store", "false");
    }
    if (rc != 0) {
        fprintf(stderr, "console-consumer: out of memory\n");
        return NULL;
    }
    rd_kafka_conf_t *conf = sl_rdk_conf_new(p, o->bootstrap, errbuf, sizeof(errbuf));
    rd_kafka_t *rk = NULL;
    if (conf != NULL) {
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errbuf, sizeof(errbuf));
        if (rk == NULL) {
            rd_kafka_conf_destroy(conf);
        }
    }
    if (rk == NULL) {
        fprintf(stderr, "console-consumer: %s\n", errbuf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

/*
 * `sluice console-consumer ...`. Returns 0 after --max-messages, --timeout-ms or a stop
 * signal; 1 when the topic never appears (within --timeout-ms) or the consumer fails
 * fatally; 2 on a usage error. Blocks on the network and on stdout.
 */
int sl_tool_console_consumer_main(int argc, char **argv)
{
    struct cc_opts o;
    memset(&o, 0, sizeof(o));
    sl_props_init(&o.fmt);
    sl_props_init(&o.client);
    int rc = cc_parse(&o, argc, argv);
    if (rc != 0) {
        cc_usage(rc == 3 ? stdout : stderr);
        sl_props_fini(&o.fmt);
        sl_props_fini(&o.client);
        return rc == 3 ? 0 : 2;
    }
    int64_t count = 0;
    rd_kafka_t *rk = cc_connect(&o);
    if (rk == NULL) {
        rc = 1;
    } else {
        sl_rdk_catch_signals();
        if (o.group != NULL && o.partition < 0) {
            rc = cc_subscribe(rk, &o);
        } else {
            rc = cc_assign(rk, &o);
        }
        if (rc == 0) {
            rc = cc_loop(rk, &o, &count);
        }
        fprintf(stderr, "Processed a total of %" PRId64 " messages\n", count);
        rd_kafka_consumer_close(rk);
        sl_rdk_destroy(rk);
    }
    sl_props_fini(&o.fmt);
    sl_props_fini(&o.client);
    return rc;
}
