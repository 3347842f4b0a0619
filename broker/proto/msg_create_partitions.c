/*
 * msg_create_partitions.c - CreatePartitions (37) v0-1, checked against
 * CreatePartitionsRequest.json and CreatePartitionsResponse.json (the two versions are the
 * same on the wire). Pure functions; the caller's thread owns everything.
 */
#include "../../common/sl_err.h"
#include "msg_admin.h"
#include "msg_admin_int.h"

int sl_msg_create_partitions_req_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                        struct sl_cp_req *out)
{
    *out = (struct sl_cp_req){0};
    out->ntopics = sl_kp_read_array(r, 10, 0); /* name + count + null assignments */
    out->topics = sl__msg_alloc(r, a, out->ntopics, sizeof(*out->topics));
    for (int32_t i = 0; out->topics && i < out->ntopics && !r->err; i++) {
        struct sl_cp_topic *t = &out->topics[i];
        t->name = sl__msg_str(r, a, 0);
        t->count = sl_kp_read_i32(r);
        t->nassignments = sl_kp_read_array(r, 4, 1);
        t->assignments = sl__msg_alloc(r, a, t->nassignments, sizeof(*t->assignments));
        for (int32_t j = 0; t->assignments && j < t->nassignments && !r->err; j++) {
            t->assignments[j].broker_ids =
                sl__msg_i32_array(r, a, &t->assignments[j].nbroker_ids, 0);
        }
        if (!t->assignments) {
            t->nassignments = 0;
        }
    }
    out->timeout_ms = sl_kp_read_i32(r);
    out->validate_only = sl_kp_read_bool(r);
    return sl__msg_finish(r);
}

void sl_msg_create_partitions_req_encode(struct sl_kp_writer *w, int16_t v,
                                         const struct sl_cp_req *m)
{
    sl_kp_write_i32(w, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const struct sl_cp_topic *t = &m->topics[i];
        sl_kp_write_str(w, t->name);
        sl_kp_write_i32(w, t->count);
        if (!t->assignments) {
            sl_kp_write_i32(w, -1);
            continue;
        }
        sl_kp_write_i32(w, t->nassignments);
        for (int32_t j = 0; j < t->nassignments; j++) {
            sl__msg_write_i32_array(w, t->assignments[j].broker_ids, t->assignments[j].nbroker_ids);
        }
    }
    sl_kp_write_i32(w, m->timeout_ms);
    sl_kp_write_bool(w, m->validate_only);
}

int sl_msg_create_partitions_resp_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                         struct sl_cp_resp *out)
{
    *out = (struct sl_cp_resp){0};
    out->throttle_time_ms = sl_kp_read_i32(r);
    out->nresults = sl_kp_read_array(r, 6, 0);
    out->results = sl__msg_alloc(r, a, out->nresults, sizeof(*out->results));
    for (int32_t i = 0; out->results && i < out->nresults && !r->err; i++) {
        out->results[i].name = sl__msg_str(r, a, 0);
        out->results[i].error_code = sl_kp_read_i16(r);
        out->results[i].error_message = sl__msg_str(r, a, 1);
    }
    return sl__msg_finish(r);
}

void sl_msg_create_partitions_resp_encode(struct sl_kp_writer *w, int16_t v,
                                          const struct sl_cp_resp *m)
{
    sl_kp_write_i32(w, m->throttle_time_ms);
    sl_kp_write_i32(w, m->nresults);
    for (int32_t i = 0; i < m->nresults; i++) {
        sl_kp_write_str(w, m->results[i].name);
        sl_kp_write_i16(w, m->results[i].error_code);
        sl_kp_write_str(w, m->results[i].error_message);
    }
}
