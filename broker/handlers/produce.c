/*
 * produce.c - Produce (0) v3-8: validate, deduplicate idempotent retries, append to the
 * partition log, move the high watermark (single node: the ISR is this broker, so HW = LEO
 * right after the append) and wake parked fetches.
 *
 * The record bytes are appended from the request frame itself: sl_log_append rewrites base
 * offsets and the leader epoch in place. This is sound because the frame lies in the
 * connection's own writable read buffer (broker/server.c, conn_process), already consumed,
 * and nothing else reads it while this synchronous handler runs; it saves a copy of every
 * produced byte. If the server ever shares or maps frames read-only, copy here instead.
 *
 * Threads: the broker loop thread. Appends block on write(2) (and fsync with flush.messages).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/sl_log.h"
#include "../../store/batch.h"
#include "../../store/log.h"
#include "../api.h"
#include "../proto/msg_data.h"
#include "data_int.h"
#include "handlers.h"

static void set_error(struct sl_produce_resp_part *rp, int16_t code)
{
    rp->error_code = code;
    rp->base_offset = -1;
    rp->log_append_time_ms = -1;
    rp->log_start_offset = -1;
}

static void set_message(struct sl_request *req, struct sl_produce_resp_part *rp, const char *msg)
{
    if (req->api_version >= 8 && msg && *msg) {
        struct sl_kp_str s = {msg, (int32_t)strlen(msg)};
        char *copy = sl_kp_arena_strdup(&req->arena, s);
        if (copy) {
            rp->error_message.p = copy;
            rp->error_message.len = s.len;
        }
    }
}

/* The Kafka error for a failed append (Kafka's InvalidRecordException is INVALID_RECORD). */
static int16_t append_error(int rc)
{
    switch (rc) {
    case SL_EUNSUPPORTED:
        return KERR_INVALID_RECORD;
    default:
        return sl_api_error_from_rc(rc);
    }
}

/*
 * Kafka's ProduceRequest.validateRecords for v3+: exactly one record batch of magic 2 per
 * partition (applied to v0-2 too, which we accept only with magic-2 batches). Fills h from
 * the header. Returns a Kafka error code.
 */
static int16_t check_one_batch(int16_t version, struct sl_kp_bytes rec, struct sl_batch_hdr *h,
                               struct sl_err *err)
{
    if (rec.len <= 0) {
        sl_err_set(err, SL_ECORRUPT, "a produce request needs exactly one record batch");
        return KERR_INVALID_RECORD;
    }
    int rc = sl_batch_parse_header(rec.p, (size_t)rec.len, h, err);
    if (rc == SL_EUNSUPPORTED) {
        /* Magic 0/1: invalid in a v3+ request (Kafka's rule); in v0-2 a format we do not
         * store (we keep only record batches v2, so that data is served as written). */
        return version >= 3 ? KERR_INVALID_RECORD : KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
    }
    if (rc) {
        return KERR_CORRUPT_MESSAGE;
    }
    size_t size = sl_batch_hdr_size(h);
    if (size < (size_t)rec.len) {
        sl_err_set(err, SL_ECORRUPT, "only one record batch per partition is allowed");
        return KERR_INVALID_RECORD;
    }
    if (size > (size_t)rec.len) {
        sl_err_set(err, SL_ETRUNCATED, "record batch truncated");
        return KERR_CORRUPT_MESSAGE;
    }
    return KERR_NONE;
}

/*
 * Append the batch(es) in buf to log with broker-assigned offsets, then move the high
 * watermark, count them and wake parked fetches. Returns a Kafka error code (err says more).
 */
static int16_t append_batch(struct sl_broker *b, struct sl_log *log, const char *topic,
                            int32_t partition, uint8_t *buf, size_t len, int built_here,
                            struct sl_log_append_info *info, struct sl_err *err)
{
    struct sl_log_append_opts opts = {0};
    opts.leader_epoch = sl__data_leader_epoch(log);
    opts.assign_offsets = 1;
    opts.deep_validate = !built_here;
    opts.built_here = built_here;
    int rc = sl_log_append(log, buf, len, &opts, info, err);
    if (rc) {
        if (rc == SL_EFAILED || (rc < 0 && rc > -4096)) {
            sl_clog("broker:produce", SL_LOG_ERROR, "append to %s-%d failed: %s", topic, partition,
                    err->msg);
        }
        return append_error(rc);
    }
    sl_log_set_high_watermark(log, sl_log_end_offset(log));
    SL_BROKER_METRIC_ADD(b->metrics.bytes_in, len);
    SL_BROKER_METRIC_ADD(b->metrics.messages_in, info->records);
    sl_fetch_waiters_notify(b, topic, partition);
    return KERR_NONE;
}

int16_t sl_produce_local(struct sl_broker *b, const char *topic, int32_t partition, uint8_t *buf,
                         size_t len, int64_t *base_offset, struct sl_err *err)
{
    struct sl_log *log = sl_broker_log(b, topic, partition);
    if (!log) {
        sl_err_set(err, SL_ENOENT, "no partition %s-%d", topic, partition);
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (len > INT32_MAX) {
        sl_err_set(err, SL_ETOOLARGE, "batch of %zu bytes", len);
        return KERR_MESSAGE_TOO_LARGE;
    }
    struct sl_batch_hdr h;
    struct sl_kp_bytes rec = {buf, (int32_t)len};
    int16_t code = check_one_batch(8, rec, &h, err); /* the rules of a current Produce */
    if (code != KERR_NONE) {
        return code;
    }
    if (h.producer_id >= 0) {
        sl_err_set(err, SL_EUNSUPPORTED, "in-process batches carry no producer id");
        return KERR_INVALID_RECORD;
    }
    /* Built in this process (sl_batch_builder, sl_batch_compress): the append still checks
     * the header, lengths and CRC, not every record again. */
    struct sl_log_append_info info;
    code = append_batch(b, log, topic, partition, buf, len, 1, &info, err);
    if (code == KERR_NONE) {
        *base_offset = info.first_offset;
    }
    return code;
}

static void produce_partition(struct sl_request *req, const char *topic,
                              const struct sl_produce_req_part *pp, struct sl_produce_resp_part *rp)
{
    struct sl_broker *b = req->broker;
    struct sl_err err;
    err.msg[0] = '\0';
    rp->index = pp->index;
    rp->log_append_time_ms = -1;
    rp->error_message.len = -1;

    struct sl_log *log = topic ? sl_broker_log(b, topic, pp->index) : NULL;
    if (!log) {
        set_error(rp, KERR_UNKNOWN_TOPIC_OR_PARTITION);
        return;
    }
    struct sl_batch_hdr h;
    int16_t code = check_one_batch(req->api_version, pp->records, &h, &err);
    if (code != KERR_NONE) {
        set_error(rp, code);
        set_message(req, rp, err.msg);
        return;
    }
    int idempotent = h.producer_id >= 0 && b->producers;
    if (idempotent) {
        int64_t dup = -1;
        code = sl__producers_check(b->producers, log, topic, pp->index, &h, &dup);
        if (code != KERR_NONE) {
            set_error(rp, code);
            return;
        }
        if (dup >= 0) { /* a retry of a batch we already hold: answer as the first time */
            rp->base_offset = dup;
            rp->log_start_offset = sl_log_start_offset(log);
            return;
        }
    }
    struct sl_log_append_info info;
    /* The frame is in the connection's writable read buffer (see the file header). Decompress
     * compressed batches and check their records, as Kafka's validator does: a batch whose
     * CRC is right but whose records are not would stop every consumer. */
    code = append_batch(b, log, topic, pp->index, (uint8_t *)(uintptr_t)pp->records.p,
                        (size_t)pp->records.len, 0, &info, &err);
    if (code != KERR_NONE) {
        set_error(rp, code);
        set_message(req, rp, err.msg);
        return;
    }
    if (idempotent) {
        sl__producers_record(b->producers, topic, pp->index, &h, info.first_offset);
    }
    rp->base_offset = info.first_offset;
    rp->log_append_time_ms = info.log_append_time;
    rp->log_start_offset = info.log_start_offset;
}

/*
 * Produce v3-8. acks 0 gets no response (but the data is appended), 1 and -1 are answered
 * after the append (single node: the ISR is just us), anything else is INVALID_REQUIRED_ACKS
 * for every partition. A malformed request closes the connection (negative return).
 */
int sl_handle_produce(struct sl_request *req)
{
    struct sl_produce_req m;
    int rc = sl_msg_produce_req_decode(&req->body, req->api_version, &req->arena, &m);
    if (rc) {
        return rc;
    }
    int16_t all_error = KERR_NONE;
    if (m.acks != 0 && m.acks != 1 && m.acks != -1) {
        all_error = KERR_INVALID_REQUIRED_ACKS;
    } else if (m.transactional_id.len >= 0) {
        /* no transactions here; librdkafka treats this as fatal instead of retrying */
        all_error = SL__KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    }

    struct sl_produce_resp resp = {0};
    resp.ntopics = m.ntopics;
    resp.topics = sl__data_calloc(req, m.ntopics, sizeof(*resp.topics));
    if (!resp.topics) {
        return -ENOMEM;
    }
    for (int32_t i = 0; i < m.ntopics; i++) {
        const struct sl_produce_req_topic *t = &m.topics[i];
        struct sl_produce_resp_topic *rt = &resp.topics[i];
        rt->name = t->name;
        rt->npartitions = t->npartitions;
        rt->partitions = sl__data_calloc(req, t->npartitions, sizeof(*rt->partitions));
        if (!rt->partitions) {
            return -ENOMEM;
        }
        char *topic = sl__data_topic(req, t->name);
        for (int32_t j = 0; j < t->npartitions; j++) {
            struct sl_produce_resp_part *rp = &rt->partitions[j];
            if (all_error != KERR_NONE) {
                rp->index = t->partitions[j].index;
                rp->error_message.len = -1;
                set_error(rp, all_error);
                continue;
            }
            produce_partition(req, topic, &t->partitions[j], rp);
        }
    }
    if (m.acks == 0) {
        /* Kafka closes the connection when an acks=0 produce fails, the only signal such a
         * client gets (it then refreshes its metadata). */
        for (int32_t i = 0; i < resp.ntopics; i++) {
            for (int32_t j = 0; j < resp.topics[i].npartitions; j++) {
                if (resp.topics[i].partitions[j].error_code != KERR_NONE) {
                    return SL_ECORRUPT;
                }
            }
        }
        return SL_API_NO_RESPONSE;
    }
    sl_msg_produce_resp_encode(&req->resp, req->api_version, &resp);
    return SL_API_DONE;
}
