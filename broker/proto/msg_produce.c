/*
 * msg_produce.c - Produce (api key 0) v0-8, request and response, both directions.
 * Checked against apache/kafka ProduceRequest.json / ProduceResponse.json: v1 adds
 * ThrottleTimeMs, v2 LogAppendTimeMs, v3 TransactionalId, v5 LogStartOffset, v8 RecordErrors
 * and ErrorMessage; flexible from v9. (v0-2 carry the same records field; the handler accepts
 * only magic-2 batches in it.)
 * Pure code (see msg_data.h); one thread per reader/writer/arena.
 */
#include "msg_data.h"
#include "msg_data_int.h"

static int version_ok(int16_t v)
{
    return v >= SL_MSG_PRODUCE_MIN && v <= SL_MSG_PRODUCE_MAX;
}

int sl_msg_produce_req_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                              struct sl_produce_req *out)
{
    memset(out, 0, sizeof(*out));
    if (!version_ok(version)) {
        return SL_EUNSUPPORTED;
    }
    out->transactional_id.p = NULL;
    out->transactional_id.len = -1;
    if (version >= 3) {
        out->transactional_id = sl_kp_read_str(r, 1);
    }
    out->acks = sl_kp_read_i16(r);
    out->timeout_ms = sl_kp_read_i32(r);
    /* a topic is at least a name length and a partition count; a partition 8 bytes */
    out->ntopics = sl_kp_read_array(r, 6, 0);
    out->topics = sl__data_array(r, a, out->ntopics, sizeof(*out->topics));
    for (int32_t i = 0; i < out->ntopics && !r->err; i++) {
        struct sl_produce_req_topic *t = &out->topics[i];
        t->name = sl_kp_read_str(r, 0);
        t->npartitions = sl_kp_read_array(r, 8, 0);
        t->partitions = sl__data_array(r, a, t->npartitions, sizeof(*t->partitions));
        for (int32_t j = 0; j < t->npartitions && !r->err; j++) {
            t->partitions[j].index = sl_kp_read_i32(r);
            t->partitions[j].records = sl_kp_read_bytes(r);
        }
    }
    return sl__data_result(r);
}

void sl_msg_produce_req_encode(struct sl_kp_writer *w, int16_t version,
                               const struct sl_produce_req *m)
{
    if (version >= 3) {
        sl__data_write_str(w, m->transactional_id);
    }
    sl_kp_write_i16(w, m->acks);
    sl_kp_write_i32(w, m->timeout_ms);
    sl_kp_write_i32(w, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const struct sl_produce_req_topic *t = &m->topics[i];
        sl__data_write_str(w, t->name);
        sl_kp_write_i32(w, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++) {
            sl_kp_write_i32(w, t->partitions[j].index);
            sl__data_write_bytes(w, t->partitions[j].records);
        }
    }
}

int sl_msg_produce_resp_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                               struct sl_produce_resp *out)
{
    memset(out, 0, sizeof(*out));
    if (!version_ok(version)) {
        return SL_EUNSUPPORTED;
    }
    out->ntopics = sl_kp_read_array(r, 6, 0);
    out->topics = sl__data_array(r, a, out->ntopics, sizeof(*out->topics));
    for (int32_t i = 0; i < out->ntopics && !r->err; i++) {
        struct sl_produce_resp_topic *t = &out->topics[i];
        t->name = sl_kp_read_str(r, 0);
        t->npartitions = sl_kp_read_array(r, 14, 0);
        t->partitions = sl__data_array(r, a, t->npartitions, sizeof(*t->partitions));
        for (int32_t j = 0; j < t->npartitions && !r->err; j++) {
            struct sl_produce_resp_part *p = &t->partitions[j];
            p->index = sl_kp_read_i32(r);
            p->error_code = sl_kp_read_i16(r);
            p->base_offset = sl_kp_read_i64(r);
            p->log_append_time_ms = version >= 2 ? sl_kp_read_i64(r) : -1;
            p->log_start_offset = version >= 5 ? sl_kp_read_i64(r) : -1;
            p->error_message.len = -1;
            if (version >= 8) {
                p->nrecord_errors = sl_kp_read_array(r, 6, 0);
                p->record_errors =
                    sl__data_array(r, a, p->nrecord_errors, sizeof(*p->record_errors));
                for (int32_t k = 0; k < p->nrecord_errors && !r->err; k++) {
                    p->record_errors[k].batch_index = sl_kp_read_i32(r);
                    p->record_errors[k].message = sl_kp_read_str(r, 1);
                }
                p->error_message = sl_kp_read_str(r, 1);
            }
        }
    }
    out->throttle_time_ms = version >= 1 ? sl_kp_read_i32(r) : 0;
    return sl__data_result(r);
}

void sl_msg_produce_resp_encode(struct sl_kp_writer *w, int16_t version,
                                const struct sl_produce_resp *m)
{
    sl_kp_write_i32(w, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const struct sl_produce_resp_topic *t = &m->topics[i];
        sl__data_write_str(w, t->name);
        sl_kp_write_i32(w, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++) {
            const struct sl_produce_resp_part *p = &t->partitions[j];
            sl_kp_write_i32(w, p->index);
            sl_kp_write_i16(w, p->error_code);
            sl_kp_write_i64(w, p->base_offset);
            if (version >= 2) {
                sl_kp_write_i64(w, p->log_append_time_ms);
            }
            if (version >= 5) {
                sl_kp_write_i64(w, p->log_start_offset);
            }
            if (version >= 8) {
                sl_kp_write_i32(w, p->nrecord_errors);
                for (int32_t k = 0; k < p->nrecord_errors; k++) {
                    sl_kp_write_i32(w, p->record_errors[k].batch_index);
                    sl__data_write_str(w, p->record_errors[k].message);
                }
                sl__data_write_str(w, p->error_message);
            }
        }
    }
    if (version >= 1) {
        sl_kp_write_i32(w, m->throttle_time_ms);
    }
}
