/*
 * metadata.c - Metadata (3) v0-8: this broker, the cluster id, and the requested topics (all
 * of them for a null list, or an empty one in v0), each partition led by this broker with
 * replicas = ISR = {broker.id}.
 *
 * Auto-creation: an unknown, legal topic is created with num.partitions when
 * auto.create.topics.enable is on and the request allows it (always below v4). Kafka answers
 * LEADER_NOT_AVAILABLE on the creating request and the client retries; a single node has its
 * leader at once, so we answer with the partitions straight away: librdkafka, kafka-python
 * and the Java client accept either, and this spares them a retry backoff. Names starting
 * with "__" are internal and never auto-created (their owners create them).
 *
 * Threads: the broker loop thread. Auto-creation blocks on creating partition directories.
 */
#include <string.h>
#include <unistd.h>

#include "../../store/log.h"
#include "../api.h"
#include "../proto/msg_admin.h"
#include "../topics.h"
#include "admin_int.h"
#include "data.h"
#include "handlers.h"
#include "../../common/sl_log.h"

static void partition(struct sl_request *req, const struct sl_topic *tp, int32_t p,
                      const int32_t *self, struct sl_md_partition *out)
{
    struct sl_broker *b = req->broker;
    out->partition_index = p;
    out->replicas = self;
    out->nreplicas = 1;
    struct sl_log *log = sl_broker_log(b, tp->name, p);
    if (!log) {
        /* A partition missing on disk (a corrupt registry, logged at load). */
        out->error_code = KERR_LEADER_NOT_AVAILABLE;
        out->leader_id = -1;
        out->leader_epoch = -1;
        out->offline = self;
        out->noffline = 1;
        return;
    }
    int32_t epoch = sl_log_epoch_latest(log);
    out->leader_id = b->cfg.broker_id;
    out->leader_epoch = epoch < 0 ? 0 : epoch; /* as Fetch and ListOffsets see it */
    out->isr = self;
    out->nisr = 1;
}

static int describe_topic(struct sl_request *req, const struct sl_topic *tp, const int32_t *self,
                          struct sl_md_topic *out)
{
    out->name = tp->name;
    out->is_internal = tp->internal;
    out->npartitions = tp->partitions;
    out->partitions = sl__admin_alloc(req, tp->partitions, sizeof(*out->partitions));
    if (!out->partitions) {
        return -ENOMEM;
    }
    for (int32_t p = 0; p < tp->partitions; p++) {
        partition(req, tp, p, self, &out->partitions[p]);
    }
    return 0;
}

/* Create topic name as an unknown topic's Metadata may: a Kafka error code. */
static int16_t auto_create(struct sl_broker *b, const char *name, int allowed, const char *who)
{
    struct sl_err err = {0};
    if (!sl_store_topic_name_ok(name) || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        return KERR_INVALID_TOPIC_EXCEPTION;
    }
    if (!b->cfg.auto_create_topics || !allowed || strncmp(name, "__", 2) == 0) {
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (b->cfg.default_replication_factor > 1) {
        return KERR_INVALID_REPLICATION_FACTOR;
    }
    int rc = sl_topics_add(b, name, b->cfg.num_partitions, NULL, 0, 0, &err);
    if (rc != 0 && rc != SL_EEXIST) {
        sl_clog("broker:metadata", SL_LOG_WARN, "auto-creating %s: %s", name, err.msg);
        return sl__admin_error(rc);
    }
    sl_clog("broker:metadata", SL_LOG_INFO, "auto-created topic %s for %s", name, who);
    return KERR_NONE;
}

int16_t sl_metadata_topic_partitions(struct sl_broker *b, const char *name, const char *who,
                                     int32_t *partitions, int64_t *max_batch)
{
    const struct sl_topic *tp = sl_topics_get(b->topics, name);
    if (!tp) {
        int16_t code = auto_create(b, name, 1, who);
        if (code != KERR_NONE) {
            return code;
        }
        tp = sl_topics_get(b->topics, name);
        if (!tp) {
            return KERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
    }
    *partitions = tp->partitions;
    *max_batch = tp->cfg.max_message_bytes;
    return KERR_NONE;
}

/* An unknown topic: create it if allowed, else say why not. */
static int unknown_topic(struct sl_request *req, const struct sl_md_req *m, const char *name,
                         const int32_t *self, struct sl_md_topic *out)
{
    out->name = name;
    out->error_code = auto_create(req->broker, name, m->allow_auto_topic_creation, req->peer);
    if (out->error_code != KERR_NONE) {
        return 0;
    }
    return describe_topic(req, sl_topics_get(req->broker->topics, name), self, out);
}

/* What clients connect to: advertised.listeners, else the listener (host name if wildcard). */
static void advertised(struct sl_broker *b, char *host, size_t size, int32_t *port)
{
    const struct sl_broker_config *c = &b->cfg;
    const char *h = c->advertised_host[0] ? c->advertised_host : c->listen_host;
    if (h[0] && strcmp(h, "0.0.0.0") != 0 && strcmp(h, "::") != 0) {
        snprintf(host, size, "%s", h);
    } else if (gethostname(host, size) != 0 || host[0] == '\0') {
        snprintf(host, size, "127.0.0.1");
    }
    host[size - 1] = '\0';
    *port = c->advertised_port ? c->advertised_port : sl_broker_port(b);
}

int sl_handle_metadata(struct sl_request *req)
{
    struct sl_broker *b = req->broker;
    struct sl_md_req m;
    int rc = sl_msg_metadata_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc != 0) {
        return rc;
    }
    int32_t *self = sl__admin_alloc(req, 1, sizeof(*self));
    struct sl_md_broker *me = sl__admin_alloc(req, 1, sizeof(*me));
    char *host = sl__admin_alloc(req, 256, 1);
    int32_t n = m.topics ? m.ntopics : sl_topics_count(b->topics);
    struct sl_md_topic *topics = sl__admin_alloc(req, n, sizeof(*topics));
    if (!self || !me || !host || !topics) {
        return -ENOMEM;
    }
    *self = b->cfg.broker_id;
    me->node_id = b->cfg.broker_id;
    advertised(b, host, 256, &me->port);
    me->host = host;
    struct sl_md_resp resp = {
        .brokers = me,
        .nbrokers = 1,
        .cluster_id = b->cluster_id[0] ? b->cluster_id : NULL,
        .controller_id = b->cfg.broker_id,
        .topics = topics,
        .ntopics = n,
        .cluster_authorized_operations = INT32_MIN,
    };
    for (int32_t i = 0; i < n && rc == 0; i++) {
        topics[i].authorized_operations = INT32_MIN;
        const struct sl_topic *tp =
            m.topics ? sl_topics_get(b->topics, m.topics[i]) : sl_topics_at(b->topics, i);
        rc = tp ? describe_topic(req, tp, self, &topics[i])
                : unknown_topic(req, &m, m.topics[i], self, &topics[i]);
    }
    if (rc != 0) {
        return rc;
    }
    sl_msg_metadata_resp_encode(&req->resp, req->api_version, &resp);
    return req->resp.err ? req->resp.err : SL_API_DONE;
}
