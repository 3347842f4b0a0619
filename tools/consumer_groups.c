/*
 * consumer_groups.c - `sluice consumer-groups`, like kafka-consumer-groups.sh: --list,
 * --describe --group G (per partition CURRENT-OFFSET, LOG-END-OFFSET, LAG and the owning
 * member), --delete --group G, --reset-offsets --group G --topic T (--to-earliest |
 * --to-latest | --to-offset N) [--dry-run (default) | --execute]. Built on librdkafka's admin
 * API (ListConsumerGroups, DescribeConsumerGroups, ListConsumerGroupOffsets,
 * AlterConsumerGroupOffsets, DeleteGroups) and watermark queries.
 * Threads: the main thread (librdkafka runs its own).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdk_util.h"
#include "tools.h"

#define WAIT_MS 15000

enum { O_BOOT = 256, O_LIST, O_DESCRIBE, O_DELETE, O_RESET, O_GROUP, O_TOPIC, O_EARLIEST,
       O_LATEST, O_TO_OFFSET, O_EXECUTE, O_DRY_RUN, O_CONFIG, O_HELP };

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice consumer-groups --bootstrap-server HOST:PORT\n"
               "         (--list | --describe --group G | --delete --group G |\n"
               "          --reset-offsets --group G --topic T (--to-earliest | --to-latest |\n"
               "                          --to-offset N) [--dry-run | --execute])\n"
               "         [--command-config FILE]\n");
}

/* Wait for the admin result event of one request; NULL (and a message) on timeout/error. */
static rd_kafka_event_t *wait_event(rd_kafka_queue_t *q, const char *what)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, WAIT_MS);
    if (!ev) {
        fprintf(stderr, "consumer-groups: %s: timed out\n", what);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        fprintf(stderr, "consumer-groups: %s: %s\n", what, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static int do_list(rd_kafka_t *rk, rd_kafka_queue_t *q)
{
    rd_kafka_ListConsumerGroups(rk, NULL, q);
    rd_kafka_event_t *ev = wait_event(q, "list groups");
    if (!ev) {
        return 1;
    }
    size_t n;
    const rd_kafka_ConsumerGroupListing_t **gl =
        rd_kafka_ListConsumerGroups_result_valid(rd_kafka_event_ListConsumerGroups_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        printf("%s\n", rd_kafka_ConsumerGroupListing_group_id(gl[i]));
    }
    rd_kafka_event_destroy(ev);
    return 0;
}

/* The group's committed offsets (caller destroys), or NULL. */
static rd_kafka_topic_partition_list_t *committed(rd_kafka_t *rk, rd_kafka_queue_t *q,
                                                  const char *group)
{
    rd_kafka_ListConsumerGroupOffsets_t *lo = rd_kafka_ListConsumerGroupOffsets_new(group, NULL);
    rd_kafka_ListConsumerGroupOffsets(rk, &lo, 1, NULL, q);
    rd_kafka_ListConsumerGroupOffsets_destroy(lo);
    rd_kafka_event_t *ev = wait_event(q, "list offsets");
    if (!ev) {
        return NULL;
    }
    size_t n;
    const rd_kafka_group_result_t **gr = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
    rd_kafka_topic_partition_list_t *out = NULL;
    if (n == 1 && !rd_kafka_group_result_error(gr[0])) {
        const rd_kafka_topic_partition_list_t *p = rd_kafka_group_result_partitions(gr[0]);
        out = p ? rd_kafka_topic_partition_list_copy(p) : rd_kafka_topic_partition_list_new(0);
    } else if (n == 1) {
        fprintf(stderr, "consumer-groups: %s: %s\n", group,
                rd_kafka_error_string(rd_kafka_group_result_error(gr[0])));
    }
    rd_kafka_event_destroy(ev);
    return out;
}

static int do_describe(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *group)
{
    const char *groups[1] = {group};
    rd_kafka_DescribeConsumerGroups(rk, groups, 1, NULL, q);
    rd_kafka_event_t *ev = wait_event(q, "describe group");
    if (!ev) {
        return 1;
    }
    size_t n;
    const rd_kafka_ConsumerGroupDescription_t **d = rd_kafka_DescribeConsumerGroups_result_groups(
        rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    if (n != 1 || rd_kafka_ConsumerGroupDescription_error(d[0])) {
        fprintf(stderr, "consumer-groups: cannot describe %s\n", group);
        rd_kafka_event_destroy(ev);
        return 1;
    }
    rd_kafka_topic_partition_list_t *offs = committed(rk, q, group);
    if (!offs) {
        rd_kafka_event_destroy(ev);
        return 1;
    }
    printf("%-24s %-24s %-9s %-15s %-15s %-8s %-48s %-16s %s\n", "GROUP", "TOPIC", "PARTITION",
           "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID");
    size_t nm = rd_kafka_ConsumerGroupDescription_member_count(d[0]);
    for (int i = 0; i < offs->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &offs->elems[i];
        int64_t lo = 0, hi = -1;
        rd_kafka_query_watermark_offsets(rk, tp->topic, tp->partition, &lo, &hi, WAIT_MS);
        const char *cid = "-", *host = "-", *client = "-";
        for (size_t m = 0; m < nm; m++) {
            const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(d[0], m);
            const rd_kafka_topic_partition_list_t *as =
                rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md));
            if (as && rd_kafka_topic_partition_list_find(as, tp->topic, tp->partition)) {
                cid = rd_kafka_MemberDescription_consumer_id(md);
                host = rd_kafka_MemberDescription_host(md);
                client = rd_kafka_MemberDescription_client_id(md);
            }
        }
        char cur[32], lag[32];
        if (tp->offset >= 0) {
            snprintf(cur, sizeof(cur), "%" PRId64, tp->offset);
            snprintf(lag, sizeof(lag), "%" PRId64, hi >= 0 ? hi - tp->offset : 0);
        } else {
            snprintf(cur, sizeof(cur), "-");
            snprintf(lag, sizeof(lag), "-");
        }
        printf("%-24s %-24s %-9" PRId32 " %-15s %-15" PRId64 " %-8s %-48s %-16s %s\n", group,
               tp->topic, tp->partition, cur, hi, lag, cid, host, client);
    }
    rd_kafka_topic_partition_list_destroy(offs);
    rd_kafka_event_destroy(ev);
    return 0;
}

static int do_delete(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *group)
{
    rd_kafka_DeleteGroup_t *dg = rd_kafka_DeleteGroup_new(group);
    rd_kafka_DeleteGroups(rk, &dg, 1, NULL, q);
    rd_kafka_DeleteGroup_destroy(dg);
    rd_kafka_event_t *ev = wait_event(q, "delete group");
    if (!ev) {
        return 1;
    }
    size_t n;
    const rd_kafka_group_result_t **gr =
        rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &n);
    int rc = 0;
    if (n == 1 && rd_kafka_group_result_error(gr[0])) {
        fprintf(stderr, "consumer-groups: delete %s: %s\n", group,
                rd_kafka_error_string(rd_kafka_group_result_error(gr[0])));
        rc = 1;
    } else {
        printf("Deletion of requested consumer groups ('%s') was successful.\n", group);
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

/* to: -2 earliest, -1 latest, else the offset. */
static int do_reset(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *group, const char *topic,
                    int64_t to, int execute)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, WAIT_MS);
    rd_kafka_topic_destroy(rkt);
    if (err || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "consumer-groups: topic %s: %s\n", topic,
                rd_kafka_err2str(err ? err : md->topics[0].err));
        if (md) {
            rd_kafka_metadata_destroy(md);
        }
        return 1;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; i++) {
        int32_t p = md->topics[0].partitions[i].id;
        int64_t lo = 0, hi = 0;
        rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, WAIT_MS);
        int64_t off = to == -2 ? lo : to == -1 ? hi : to;
        off = off < lo ? lo : off > hi ? hi : off;
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = off;
    }
    rd_kafka_metadata_destroy(md);
    printf("%-24s %-24s %-9s %s\n", "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET");
    for (int i = 0; i < l->cnt; i++) {
        printf("%-24s %-24s %-9" PRId32 " %" PRId64 "\n", group, topic, l->elems[i].partition,
               l->elems[i].offset);
    }
    int rc = 0;
    if (execute) {
        rd_kafka_AlterConsumerGroupOffsets_t *ao = rd_kafka_AlterConsumerGroupOffsets_new(group, l);
        rd_kafka_AlterConsumerGroupOffsets(rk, &ao, 1, NULL, q);
        rd_kafka_AlterConsumerGroupOffsets_destroy(ao);
        rd_kafka_event_t *ev = wait_event(q, "alter offsets");
        rc = 1;
        if (ev) {
            size_t n;
            const rd_kafka_group_result_t **gr = rd_kafka_AlterConsumerGroupOffsets_result_groups(
                rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
            rc = 0;
            const rd_kafka_topic_partition_list_t *pl =
                n == 1 ? rd_kafka_group_result_partitions(gr[0]) : NULL;
            if (n != 1 || rd_kafka_group_result_error(gr[0])) {
                fprintf(stderr, "consumer-groups: reset %s failed%s%s\n", group,
                        n == 1 ? ": " : "",
                        n == 1 ? rd_kafka_error_string(rd_kafka_group_result_error(gr[0])) : "");
                rc = 1;
            }
            for (int i = 0; pl && i < pl->cnt; i++) {
                if (pl->elems[i].err) {
                    fprintf(stderr, "consumer-groups: %s-%" PRId32 ": %s\n", topic,
                            pl->elems[i].partition, rd_kafka_err2str(pl->elems[i].err));
                    rc = 1;
                }
            }
            rd_kafka_event_destroy(ev);
        }
    } else {
        printf("(dry run: add --execute to apply; the group must have no active members)\n");
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

int sl_tool_consumer_groups_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bootstrap-server", required_argument, NULL, O_BOOT},
        {"list", no_argument, NULL, O_LIST},
        {"describe", no_argument, NULL, O_DESCRIBE},
        {"delete", no_argument, NULL, O_DELETE},
        {"reset-offsets", no_argument, NULL, O_RESET},
        {"group", required_argument, NULL, O_GROUP},
        {"topic", required_argument, NULL, O_TOPIC},
        {"to-earliest", no_argument, NULL, O_EARLIEST},
        {"to-latest", no_argument, NULL, O_LATEST},
        {"to-offset", required_argument, NULL, O_TO_OFFSET},
        {"execute", no_argument, NULL, O_EXECUTE},
        {"dry-run", no_argument, NULL, O_DRY_RUN},
        {"command-config", required_argument, NULL, O_CONFIG},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *boot = NULL, *group = NULL, *topic = NULL, *config = NULL;
    int action = 0, execute = 0, nto = 0;
    int64_t to = -2;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_BOOT: boot = optarg; break;
        case O_LIST: case O_DESCRIBE: case O_DELETE: case O_RESET:
            if (action) {
                fprintf(stderr, "consumer-groups: give exactly one action\n");
                return 2;
            }
            action = c;
            break;
        case O_GROUP: group = optarg; break;
        case O_TOPIC: topic = optarg; break;
        case O_EARLIEST: to = -2; nto++; break;
        case O_LATEST: to = -1; nto++; break;
        case O_TO_OFFSET:
            if (sl_parse_i64(optarg, 0, INT64_MAX, &to) != 0) {
                fprintf(stderr, "consumer-groups: --to-offset: not an offset: %s\n", optarg);
                return 2;
            }
            nto++;
            break;
        case O_EXECUTE: execute = 1; break;
        case O_DRY_RUN: execute = 0; break;
        case O_CONFIG: config = optarg; break;
        case O_HELP: usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!boot || !action || (action != O_LIST && !group) ||
        (action == O_RESET && (!topic || nto != 1))) {
        usage(stderr);
        return 2;
    }
    struct sl_props props;
    sl_props_init(&props);
    char errbuf[512];
    if (config && sl_props_load_file(&props, config, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "consumer-groups: %s\n", errbuf);
        sl_props_fini(&props);
        return 1;
    }
    rd_kafka_conf_t *conf = sl_rdk_conf_new(&props, boot, errbuf, sizeof(errbuf));
    sl_props_fini(&props);
    if (!conf) {
        fprintf(stderr, "consumer-groups: %s\n", errbuf);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errbuf, sizeof(errbuf));
    if (!rk) {
        fprintf(stderr, "consumer-groups: %s\n", errbuf);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    int rc;
    switch (action) {
    case O_LIST: rc = do_list(rk, q); break;
    case O_DESCRIBE: rc = do_describe(rk, q, group); break;
    case O_DELETE: rc = do_delete(rk, q, group); break;
    default: rc = do_reset(rk, q, group, topic, to, execute); break;
    }
    rd_kafka_queue_destroy(q);
    sl_rdk_destroy(rk);
    return rc;
}
