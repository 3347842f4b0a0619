/*
 * topics.c - `sluice topics`: create, list, describe, alter (add partitions) and delete
 * topics through librdkafka's admin API, with kafka-topics.sh's flags and messages. The
 * --describe layout is the one Kafka's older tutorials show:
 *
 *   Topic:T<TAB>PartitionCount:N<TAB>ReplicationFactor:R<TAB>Configs:k=v,...
 *   <TAB>Topic: T<TAB>Partition: 0<TAB>Leader: 0<TAB>Replicas: 0<TAB>Isr: 0
 *
 * As in Kafka, --topic names a regular expression (commas mean "or") for everything but
 * --create. Runs on the main thread; every handle lives in one call of sl_tool_topics_main.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/rdk_util.h"
#include "tools/tools.h"

#define TOPICS_TIMEOUT_MS_DEFAULT 30000

/* How long one request may take: socket.timeout.ms from --command-config, else 30 s. */
static int topics_timeout_ms = TOPICS_TIMEOUT_MS_DEFAULT;

enum topics_action { ACT_NONE, ACT_CREATE, ACT_LIST, ACT_DESCRIBE, ACT_ALTER, ACT_DELETE };

struct topics_opts {
    enum topics_action action;
    int nactions;
    const char *bootstrap;
    const char *topic;
    int64_t partitions;      /* -1: not given */
    int64_t replication;     /* -1: not given */
    struct sl_props configs; /* --config k=v, for the new topic */
    struct sl_props client;  /* --command-config */
    int if_not_exists;
    int if_exists;
    int exclude_internal;
};

static void topics_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice topics --bootstrap-server HOST:PORT ACTION [options]\n"
            "\n"
            "Exactly one action:\n"
            "  --create                 create --topic (needs --partitions and\n"
            "                           --replication-factor unless the broker has defaults)\n"
            "  --list                   list topic names (those matching --topic, if given)\n"
            "  --describe               partitions, leaders, replicas and non-default configs\n"
            "  --alter                  raise the partition count of --topic to --partitions\n"
            "  --delete                 delete --topic\n"
            "\n"
            "Options:\n"
            "  --bootstrap-server H:P   broker(s) to connect to (required)\n"
            "  --topic T                topic name; a regular expression except for --create\n"
            "  --partitions N           partition count for --create and --alter\n"
            "  --replication-factor R   replicas per partition for --create\n"
            "  --config k=v             topic config for --create (repeatable)\n"
            "  --if-not-exists          --create: no error when the topic exists\n"
            "  --if-exists              --alter/--delete/--describe: no error when missing\n"
            "  --exclude-internal       --list/--describe: leave out topics named __*\n"
            "  --command-config FILE    client properties (k=v lines) for librdkafka\n"
            "  --help                   print this help\n"
            "\n"
            "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

/* Returns 0 to run, 2 for a usage error (already reported), 3 for --help. */
static int topics_parse(struct topics_opts *o, int argc, char **argv)
{
    enum { O_BOOT = 256, O_TOPIC, O_PART, O_RF, O_CONFIG, O_INE, O_IE, O_EXCL, O_CMDCONF };
    static const struct option longopts[] = {
        {"create", no_argument, NULL, ACT_CREATE},
        {"list", no_argument, NULL, ACT_LIST},
        {"describe", no_argument, NULL, ACT_DESCRIBE},
        {"alter", no_argument, NULL, ACT_ALTER},
        {"delete", no_argument, NULL, ACT_DELETE},
        {"bootstrap-server", required_argument, NULL, O_BOOT},
        {"topic", required_argument, NULL, O_TOPIC},
        {"partitions", required_argument, NULL, O_PART},
        {"replication-factor", required_argument, NULL, O_RF},
        {"config", required_argument, NULL, O_CONFIG},
        {"if-not-exists", no_argument, NULL, O_INE},
        {"if-exists", no_argument, NULL, O_IE},
        {"exclude-internal", no_argument, NULL, O_EXCL},
        {"command-config", required_argument, NULL, O_CMDCONF},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char errbuf[512];
    int c;
    o->partitions = -1;
    o->replication = -1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case ACT_CREATE:
        case ACT_LIST:
        case ACT_DESCRIBE:
        case ACT_ALTER:
        case ACT_DELETE:
            o->action = (enum topics_action)c;
            o->nactions++;
            break;
        case O_BOOT:
            o->bootstrap = optarg;
            break;
        case O_TOPIC:
            o->topic = optarg;
            break;
        case O_PART:
            if (sl_parse_i64(optarg, 1, INT32_MAX, &o->partitions) != 0) {
                fprintf(stderr, "topics: --partitions must be a positive integer\n");
                return 2;
            }
            break;
        case O_RF:
            if (sl_parse_i64(optarg, 1, INT16_MAX, &o->replication) != 0) {
                fprintf(stderr, "topics: --replication-factor must be a positive integer\n");
                return 2;
            }
            break;
        case O_CONFIG:
            if (sl_props_add_kv(&o->configs, optarg) != 0) {
                fprintf(stderr, "topics: --config expects key=value, got '%s'\n", optarg);
                return 2;
            }
            break;
        case O_INE:
            o->if_not_exists = 1;
            break;
        case O_IE:
            o->if_exists = 1;
            break;
        case O_EXCL:
            o->exclude_internal = 1;
            break;
        case O_CMDCONF:
            if (sl_props_load_file(&o->client, optarg, errbuf, sizeof(errbuf)) != 0) {
                fprintf(stderr, "topics: %s\n", errbuf);
                return 2;
            }
            break;
        case 'h':
            return 3;
        case ':':
            fprintf(stderr, "topics: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "topics: unknown option '%s'\n", argv[optind - 1]);
            return 2;
        }
    }
    const char *bad = NULL;
    if (optind < argc) {
        fprintf(stderr, "topics: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o->nactions != 1) {
        bad = "Command must include exactly one action: --list, --describe, --create, "
              "--alter or --delete";
    } else if (o->bootstrap == NULL) {
        bad = "Missing required argument \"[bootstrap-server]\"";
    } else if (o->topic == NULL &&
               (o->action == ACT_CREATE || o->action == ACT_ALTER || o->action == ACT_DELETE)) {
        bad = "Missing required argument \"[topic]\"";
    } else if (o->action == ACT_ALTER && o->partitions < 0) {
        bad = "--alter needs --partitions (only the partition count can be altered here)";
    } else if (o->partitions >= 0 && o->action != ACT_CREATE && o->action != ACT_ALTER) {
        bad = "Option \"[partitions]\" can't be used with this action";
    } else if (o->replication >= 0 && o->action != ACT_CREATE) {
        bad = "Option \"[replication-factor]\" can only be used with --create";
    } else if (o->configs.n > 0 && o->action != ACT_CREATE) {
        bad = "Option \"[config]\" can only be used with --create (use kafka-configs to "
              "change configs)";
    } else if (o->if_not_exists && o->action != ACT_CREATE) {
        bad = "Option \"[if-not-exists]\" can only be used with --create";
    } else if (o->if_exists && o->action != ACT_ALTER && o->action != ACT_DELETE &&
               o->action != ACT_DESCRIBE) {
        bad = "Option \"[if-exists]\" can only be used with --alter, --delete or --describe";
    }
    if (bad != NULL) {
        fprintf(stderr, "topics: %s\n\n", bad);
        return 2;
    }
    return 0;
}

/* ---- cluster access ---- */

static void topics_fail(const char *msg)
{
    fprintf(stderr, "Error while executing topic command : %s\n", msg);
}

static rd_kafka_t *topics_connect(const struct topics_opts *o)
{
    char errbuf[512];
    rd_kafka_conf_t *conf = sl_rdk_conf_new(&o->client, o->bootstrap, errbuf, sizeof(errbuf));
    if (conf == NULL) {
        topics_fail(errbuf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errbuf, sizeof(errbuf));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        topics_fail(errbuf);
    }
    return rk;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Fetches metadata for all topics and fills names (borrowed from *mdp, sorted) with those
 * matching o->topic. Returns 0 or 1 after reporting the failure.
 */
static int topics_match(rd_kafka_t *rk, const struct topics_opts *o,
                        const struct rd_kafka_metadata **mdp, const char ***names, size_t *n)
{
    regex_t re;
    int have_re = 0;
    *names = NULL;
    *n = 0;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, mdp, topics_timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        topics_fail(rd_kafka_err2str(err));
        return 1;
    }
    if (o->topic != NULL) {
        /* Kafka's IncludeList: commas separate alternatives; the whole name must match. */
        size_t len = strlen(o->topic);
        char *pat = malloc(len + 5);
        if (pat == NULL) {
            topics_fail("out of memory");
            return 1;
        }
        snprintf(pat, len + 5, "^(%s)$", o->topic);
        for (char *p = pat; *p; p++) {
            if (*p == ',') {
                *p = '|';
            }
        }
        have_re = regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) == 0;
        free(pat);
    }
    const struct rd_kafka_metadata *md = *mdp;
    *names = calloc((size_t)md->topic_cnt + 1, sizeof(**names));
    if (*names == NULL) {
        if (have_re) {
            regfree(&re);
        }
        topics_fail("out of memory");
        return 1;
    }
    for (int i = 0; i < md->topic_cnt; i++) {
        const char *name = md->topics[i].topic;
        if (md->topics[i].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            continue;
        }
        if (o->exclude_internal && strncmp(name, "__", 2) == 0) {
            continue;
        }
        if (o->topic != NULL &&
            (have_re ? regexec(&re, name, 0, NULL, 0) != 0 : strcmp(name, o->topic) != 0)) {
            continue;
        }
        (*names)[(*n)++] = name;
    }
    if (have_re) {
        regfree(&re);
    }
    qsort(*names, *n, sizeof(**names), cmp_str);
    return 0;
}

/*
 * Waits for the admin result on q. Returns the event (caller destroys it) or NULL after
 * reporting a request-level failure.
 */
static rd_kafka_event_t *topics_wait(rd_kafka_queue_t *q)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, topics_timeout_ms + 5000);
    if (ev == NULL) {
        topics_fail("timed out waiting for the broker");
        return NULL;
    }
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        topics_fail(rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static rd_kafka_AdminOptions_t *topics_admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op)
{
    char errbuf[256];
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, op);
    rd_kafka_AdminOptions_set_request_timeout(ao, topics_timeout_ms, errbuf, sizeof(errbuf));
    if (op != RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS) {
        rd_kafka_AdminOptions_set_operation_timeout(ao, topics_timeout_ms, errbuf, sizeof(errbuf));
    }
    return ao;
}

/* Reports each failed topic result; returns 0 when none failed (besides ignored ones). */
static int topics_results(const rd_kafka_topic_result_t **res, size_t n, int ignore_exists)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR ||
            (ignore_exists && err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)) {
            continue;
        }
        const char *msg = rd_kafka_topic_result_error_string(res[i]);
        topics_fail(msg != NULL && *msg != '\0' ? msg : rd_kafka_err2str(err));
        rc = 1;
    }
    return rc;
}

/* ---- actions ---- */

static int topics_create(rd_kafka_t *rk, const struct topics_opts *o)
{
    char errbuf[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(o->topic, (int)o->partitions,
                                                    (int)o->replication, errbuf, sizeof(errbuf));
    if (nt == NULL) {
        topics_fail(errbuf);
        return 1;
    }
    for (size_t i = 0; i < o->configs.n; i++) {
        rd_kafka_NewTopic_set_config(nt, o->configs.keys[i], o->configs.values[i]);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = topics_admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    rd_kafka_event_t *ev = topics_wait(q);
    int rc = 1;
    if (ev != NULL) {
        size_t n;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        int exists =
            n == 1 && rd_kafka_topic_result_error(res[0]) == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS;
        rc = topics_results(res, n, o->if_not_exists);
        if (rc == 0 && !exists) {
            printf("Created topic %s.\n", o->topic);
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

/* Prints "k=v,k=v" of topic's non-default configs into out (a zero-length string if none). */
static int topics_configs(rd_kafka_t *rk, const char *topic, char *out, size_t outlen)
{
    out[0] = '\0';
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = topics_admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(rk, &cr, 1, ao, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, topics_timeout_ms + 5000);
    int rc = 0;
    if (ev == NULL) {
        topics_fail("timed out waiting for DescribeConfigs");
        rc = 1;
    } else if (rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
        /* A broker without DescribeConfigs has no per-topic configs to show. */
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        topics_fail(rd_kafka_event_error_string(ev));
        rc = 1;
    } else {
        size_t nres, nent, used = 0;
        const rd_kafka_ConfigResource_t **res = rd_kafka_DescribeConfigs_result_resources(
            rd_kafka_event_DescribeConfigs_result(ev), &nres);
        for (size_t i = 0; i < nres && rc == 0; i++) {
            if (rd_kafka_ConfigResource_error(res[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                topics_fail(rd_kafka_ConfigResource_error_string(res[i]));
                rc = 1;
                break;
            }
            const rd_kafka_ConfigEntry_t **ents = rd_kafka_ConfigResource_configs(res[i], &nent);
            for (size_t j = 0; j < nent; j++) {
                rd_kafka_ConfigSource_t src = rd_kafka_ConfigEntry_source(ents[j]);
                if (src != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG &&
                    (src != RD_KAFKA_CONFIG_SOURCE_UNKNOWN_CONFIG ||
                     rd_kafka_ConfigEntry_is_default(ents[j]))) {
                    continue;
                }
                const char *v = rd_kafka_ConfigEntry_value(ents[j]);
                int w = snprintf(out + used, outlen - used, "%s%s=%s", used ? "," : "",
                                 rd_kafka_ConfigEntry_name(ents[j]), v ? v : "null");
                if (w > 0 && (size_t)w < outlen - used) {
                    used += (size_t)w;
                }
            }
        }
    }
    if (ev != NULL) {
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(cr);
    return rc;
}

static void print_ids(const char *label, const int32_t *ids, int n)
{
    printf("\t%s: ", label);
    for (int i = 0; i < n; i++) {
        printf("%s%" PRId32, i ? "," : "", ids[i]);
    }
}

static int cmp_part(const void *a, const void *b)
{
    const struct rd_kafka_metadata_partition *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static int topics_describe_one(rd_kafka_t *rk, const struct rd_kafka_metadata_topic *t)
{
    static char configs[65536];
    if (topics_configs(rk, t->topic, configs, sizeof(configs)) != 0) {
        return 1;
    }
    struct rd_kafka_metadata_partition *parts = NULL;
    if (t->partition_cnt > 0) {
        parts = malloc((size_t)t->partition_cnt * sizeof(*parts));
        if (parts == NULL) {
            topics_fail("out of memory");
            return 1;
        }
        memcpy(parts, t->partitions, (size_t)t->partition_cnt * sizeof(*parts));
        qsort(parts, (size_t)t->partition_cnt, sizeof(*parts), cmp_part);
    }
    printf("Topic:%s\tPartitionCount:%d\tReplicationFactor:%d\tConfigs:%s\n", t->topic,
           t->partition_cnt, t->partition_cnt > 0 ? parts[0].replica_cnt : 0, configs);
    for (int i = 0; i < t->partition_cnt; i++) {
        printf("\tTopic: %s\tPartition: %" PRId32, t->topic, parts[i].id);
        if (parts[i].leader < 0) {
            printf("\tLeader: none");
        } else {
            printf("\tLeader: %" PRId32, parts[i].leader);
        }
        print_ids("Replicas", parts[i].replicas, parts[i].replica_cnt);
        print_ids("Isr", parts[i].isrs, parts[i].isr_cnt);
        printf("\n");
    }
    free(parts);
    return 0;
}

static const struct rd_kafka_metadata_topic *md_topic(const struct rd_kafka_metadata *md,
                                                      const char *name)
{
    for (int i = 0; i < md->topic_cnt; i++) {
        if (strcmp(md->topics[i].topic, name) == 0) {
            return &md->topics[i];
        }
    }
    return NULL;
}

static int topics_alter(rd_kafka_t *rk, const struct topics_opts *o, const char **names, size_t n)
{
    char errbuf[512];
    rd_kafka_NewPartitions_t **nps = calloc(n, sizeof(*nps));
    if (nps == NULL) {
        topics_fail("out of memory");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        nps[i] =
            rd_kafka_NewPartitions_new(names[i], (size_t)o->partitions, errbuf, sizeof(errbuf));
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = topics_admin_options(rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
    rd_kafka_CreatePartitions(rk, nps, n, ao, q);
    rd_kafka_event_t *ev = topics_wait(q);
    int rc = 1;
    if (ev != NULL) {
        size_t nres;
        const rd_kafka_topic_result_t **res = rd_kafka_CreatePartitions_result_topics(
            rd_kafka_event_CreatePartitions_result(ev), &nres);
        rc = topics_results(res, nres, 0);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewPartitions_destroy_array(nps, n);
    free(nps);
    return rc;
}

static int topics_delete(rd_kafka_t *rk, const char **names, size_t n)
{
    rd_kafka_DeleteTopic_t **dts = calloc(n, sizeof(*dts));
    if (dts == NULL) {
        topics_fail("out of memory");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        dts[i] = rd_kafka_DeleteTopic_new(names[i]);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = topics_admin_options(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_DeleteTopics(rk, dts, n, ao, q);
    rd_kafka_event_t *ev = topics_wait(q);
    int rc = 1;
    if (ev != NULL) {
        size_t nres;
        const rd_kafka_topic_result_t **res =
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &nres);
        rc = topics_results(res, nres, 0);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy_array(dts, n);
    free(dts);
    return rc;
}

/* Every action but --create: resolve --topic against the cluster's topics first. */
static int topics_run_matched(rd_kafka_t *rk, const struct topics_opts *o)
{
    const struct rd_kafka_metadata *md = NULL;
    const char **names = NULL;
    size_t n = 0;
    int rc = topics_match(rk, o, &md, &names, &n);
    if (rc == 0 && n == 0 && o->topic != NULL && !o->if_exists && o->action != ACT_LIST) {
        char msg[512];
        snprintf(msg, sizeof(msg), "Topic '%s' does not exist as expected", o->topic);
        topics_fail(msg);
        rc = 1;
    }
    if (rc == 0 && n > 0) {
        switch (o->action) {
        case ACT_LIST:
            for (size_t i = 0; i < n; i++) {
                printf("%s\n", names[i]);
            }
            break;
        case ACT_DESCRIBE:
            for (size_t i = 0; i < n && rc == 0; i++) {
                rc = topics_describe_one(rk, md_topic(md, names[i]));
            }
            break;
        case ACT_ALTER:
            rc = topics_alter(rk, o, names, n);
            break;
        case ACT_DELETE:
            rc = topics_delete(rk, names, n);
            break;
        default:
            break;
        }
    }
    free(names);
    if (md != NULL) {
        rd_kafka_metadata_destroy(md);
    }
    return rc;
}

/*
 * `sluice topics ...`. Returns 0 on success, 1 when the broker refuses or cannot be
 * reached (the broker's error message on stderr), 2 on a usage error. Blocks on the network.
 */
int sl_tool_topics_main(int argc, char **argv)
{
    struct topics_opts o;
    memset(&o, 0, sizeof(o));
    sl_props_init(&o.configs);
    sl_props_init(&o.client);
    int rc = topics_parse(&o, argc, argv);
    if (rc != 0) {
        topics_usage(rc == 3 ? stdout : stderr);
        sl_props_fini(&o.configs);
        sl_props_fini(&o.client);
        return rc == 3 ? 0 : 2;
    }
    int64_t tmo;
    if (sl_parse_i64(sl_props_get(&o.client, "socket.timeout.ms"), 10, INT32_MAX, &tmo) == 0) {
        topics_timeout_ms = (int)tmo;
    }
    rd_kafka_t *rk = topics_connect(&o);
    if (rk == NULL) {
        rc = 1;
    } else if (o.action == ACT_CREATE) {
        rc = topics_create(rk, &o);
    } else {
        rc = topics_run_matched(rk, &o);
    }
    fflush(stdout);
    sl_rdk_destroy(rk);
    sl_props_fini(&o.configs);
    sl_props_fini(&o.client);
    return rc;
}
