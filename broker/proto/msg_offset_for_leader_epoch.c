/*
 * msg_offset_for_leader_epoch.c - OffsetForLeaderEpoch (api key 23) v0-3, request and
 * response. Checked against apache/kafka OffsetForLeaderEpochRequest.json / ...Response.json:
 * v1 adds LeaderEpoch to the response; v2 CurrentLeaderEpoch (request, before LeaderEpoch)
 * and ThrottleTimeMs; v3 ReplicaId (request, first field, default -2); flexible from v4.
 * Note the response partition starts with ErrorCode, then Partition.
 * Pure code (see msg_data.h); one thread per reader/writer/arena.
 */
#include "msg_data.h"
#include "msg_data_int.h"

static int version_ok(int16_t v)
{
    return v >= SL_MSG_OFLE_MIN && v <= SL_MSG_OFLE_MAX;
}

int sl_msg_ofle_req_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                           struct sl_ofle_req *out)
{
    memset(out, 0, sizeof(*out));
    out->replica_id = -2;
    if (!version_ok(version)) {
        return SL_EUNSUPPORTED;
    }
    if (version >= 3) {
        out->replica_id = sl_kp_read_i32(r);
    }
    out->ntopics = sl_kp_read_array(r, 6, 0);
    out->topics = sl__data_array(r, a, out->ntopics, sizeof(*out->topics));
    for (int32_t i = 0; i < out->ntopics && !r->err; i++) {
        struct sl_ofle_req_topic *t = &out->topics[i];
        t->name = sl_kp_read_str(r, 0);
        t->npartitions = sl_kp_read_array(r, version >= 2 ? 12 : 8, 0);
        t->partitions = sl__data_array(r, a, t->npartitions, sizeof(*t->partitions));
        for (int32_t j = 0; j < t->npartitions && !r->err; j++) {
            struct sl_ofle_req_part *p = &t->partitions[j];
            p->partition = sl_kp_read_i32(r);
            p->current_leader_epoch = version >= 2 ? sl_kp_read_i32(r) : -1;
            p->leader_epoch = sl_kp_read_i32(r);
        }
    }
    return sl__data_result(r);
}

void sl_msg_ofle_req_encode(struct sl_kp_writer *w, int16_t version, const struct sl_ofle_req *m)
{
    if (version >= 3) {
        sl_kp_write_i32(w, m->replica_id);
    }
    sl_kp_write_i32(w, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const struct sl_ofle_req_topic *t = &m->topics[i];
        sl__data_write_str(w, t->name);
        sl_kp_write_i32(w, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++) {
            sl_kp_write_i32(w, t->partitions[j].partition);
            if (version >= 2) {
                sl_kp_write_i32(w, t->partitions[j].current_leader_epoch);
            }
            sl_kp_write_i32(w, t->partitions[j].leader_epoch);
        }
    }
}

int sl_msg_ofle_resp_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                            struct sl_ofle_resp *out)
{
    memset(out, 0, sizeof(*out));
    if (!version_ok(version)) {
        return SL_EUNSUPPORTED;
    }
    out->throttle_time_ms = version >= 2 ? sl_kp_read_i32(r) : 0;
    out->ntopics = sl_kp_read_array(r, 6, 0);
    out->topics = sl__data_array(r, a, out->ntopics, sizeof(*out->topics));
    for (int32_t i = 0; i < out->ntopics && !r->err; i++) {
        struct sl_ofle_resp_topic *t = &out->topics[i];
        t->name = sl_kp_read_str(r, 0);
        t->npartitions = sl_kp_read_array(r, version >= 1 ? 18 : 14, 0);
        t->partitions = sl__data_array(r, a, t->npartitions, sizeof(*t->partitions));
        for (int32_t j = 0; j < t->npartitions && !r->err; j++) {
            struct sl_ofle_resp_part *p = &t->partitions[j];
            p->error_code = sl_kp_read_i16(r);
            p->partition = sl_kp_read_i32(r);
            p->leader_epoch = version >= 1 ? sl_kp_read_i32(r) : -1;
            p->end_offset = sl_kp_read_i64(r);
        }
    }
    return sl__data_result(r);
}

void sl_msg_ofle_resp_encode(struct sl_kp_writer *w, int16_t version, const struct sl_ofle_resp *m)
{
    if (version >= 2) {
        sl_kp_write_i32(w, m->throttle_time_ms);
    }
    sl_kp_write_i32(w, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const struct sl_ofle_resp_topic *t = &m->topics[i];
        sl__data_write_str(w, t->name);
        sl_kp_write_i32(w, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++) {
            const struct sl_ofle_resp_part *p = &t->partitions[j];
            sl_kp_write_i16(w, p->error_code);
            sl_kp_write_i32(w, p->partition);
            if (version >= 1) {
                sl_kp_write_i32(w, p->leader_epoch);
            }
            sl_kp_write_i64(w, p->end_offset);
        }
    }
}
