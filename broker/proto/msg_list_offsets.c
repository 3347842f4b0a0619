/*
 * msg_list_offsets.c - ListOffsets (api key 2) v1-5, request and response, both directions.
 * Checked against apache/kafka ListOffsetsRequest.json / ListOffsetsResponse.json: v1 drops
 * MaxNumOffsets and the offsets array for one Timestamp+Offset; v2 IsolationLevel and
 * ThrottleTimeMs; v4 CurrentLeaderEpoch / LeaderEpoch; flexible from v6.
 * Pure code (see msg_data.h); one thread per reader/writer/arena.
 */
#include "msg_data.h"
#include "msg_data_int.h"

static int version_ok(int16_t v)
{
    return v >= SL_MSG_LIST_OFFSETS_MIN && v <= SL_MSG_LIST_OFFSETS_MAX;
}

int sl_msg_list_offsets_req_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                                   struct sl_list_offsets_req *out)
{
    memset(out, 0, sizeof(*out));
    if (!version_ok(version)) {
        return SL_EUNSUPPORTED;
    }
    out->replica_id = sl_kp_read_i32(r);
    out->isolation_level = version >= 2 ? sl_kp_read_i8(r) : 0;
    out->ntopics = sl_kp_read_array(r, 6, 0);
    out->topics = sl__data_array(r, a, out->ntopics, sizeof(*out->topics));
    for (int32_t i = 0; i < out->ntopics && !r->err; i++) {
        struct sl_list_offsets_req_topic *t = &out->topics[i];
        t->name = sl_kp_read_str(r, 0);
        t->npartitions = sl_kp_read_array(r, version >= 4 ? 16 : 12, 0);
        t->partitions = sl__data_array(r, a, t->npartitions, sizeof(*t->partitions));
        for (int32_t j = 0; j < t->npartitions && !r->err; j++) {
            struct sl_list_offsets_req_part *p = &t->partitions[j];
            p->index = sl_kp_read_i32(r);
            p->current_leader_epoch = version >= 4 ? sl_kp_read_i32(r) : -1;
            p->timestamp = sl_kp_read_i64(r);
        }
    }
    return sl__data_result(r);
}

void sl_msg_list_offsets_req_encode(struct sl_kp_writer *w, int16_t version,
                                    const struct sl_list_offsets_req *m)
{
    sl_kp_write_i32(w, m->replica_id);
    if (version >= 2) {
        sl_kp_write_i8(w, m->isolation_level);
    }
    sl_kp_write_i32(w, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const struct sl_list_offsets_req_topic *t = &m->topics[i];
        sl__data_write_str(w, t->name);
        sl_kp_write_i32(w, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++) {
            sl_kp_write_i32(w, t->partitions[j].index);
            if (version >= 4) {
                sl_kp_write_i32(w, t->partitions[j].current_leader_epoch);
            }
            sl_kp_write_i64(w, t->partitions[j].timestamp);
        }
    }
}

int sl_msg_list_offsets_resp_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                                    struct sl_list_offsets_resp *out)
{
    memset(out, 0, sizeof(*out));
    if (!version_ok(version)) {
        return SL_EUNSUPPORTED;
    }
    out->throttle_time_ms = version >= 2 ? sl_kp_read_i32(r) : 0;
    out->ntopics = sl_kp_read_array(r, 6, 0);
    out->topics = sl__data_array(r, a, out->ntopics, sizeof(*out->topics));
    for (int32_t i = 0; i < out->ntopics && !r->err; i++) {
        struct sl_list_offsets_resp_topic *t = &out->topics[i];
        t->name = sl_kp_read_str(r, 0);
        t->npartitions = sl_kp_read_array(r, 22, 0);
        t->partitions = sl__data_array(r, a, t->npartitions, sizeof(*t->partitions));
        for (int32_t j = 0; j < t->npartitions && !r->err; j++) {
            struct sl_list_offsets_resp_part *p = &t->partitions[j];
            p->index = sl_kp_read_i32(r);
            p->error_code = sl_kp_read_i16(r);
            p->timestamp = sl_kp_read_i64(r);
            p->offset = sl_kp_read_i64(r);
            p->leader_epoch = version >= 4 ? sl_kp_read_i32(r) : -1;
        }
    }
    return sl__data_result(r);
}

void sl_msg_list_offsets_resp_encode(struct sl_kp_writer *w, int16_t version,
                                     const struct sl_list_offsets_resp *m)
{
    if (version >= 2) {
        sl_kp_write_i32(w, m->throttle_time_ms);
    }
    sl_kp_write_i32(w, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const struct sl_list_offsets_resp_topic *t = &m->topics[i];
        sl__data_write_str(w, t->name);
        sl_kp_write_i32(w, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++) {
            const struct sl_list_offsets_resp_part *p = &t->partitions[j];
            sl_kp_write_i32(w, p->index);
            sl_kp_write_i16(w, p->error_code);
            sl_kp_write_i64(w, p->timestamp);
            sl_kp_write_i64(w, p->offset);
            if (version >= 4) {
                sl_kp_write_i32(w, p->leader_epoch);
            }
        }
    }
}
