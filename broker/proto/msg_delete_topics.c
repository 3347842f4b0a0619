/*
 * msg_delete_topics.c - DeleteTopics (20) v0-3, checked against DeleteTopicsRequest.json and
 * DeleteTopicsResponse.json: topic names and a timeout; throttle_time_ms from v1 (v2 and v3
 * change only semantics). Pure functions; the caller's thread owns everything.
 */
#include "../../common/sl_err.h"
#include "msg_admin.h"
#include "msg_admin_int.h"

int sl_msg_delete_topics_req_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                    struct sl_dt_req *out)
{
    *out = (struct sl_dt_req){0};
    out->topic_names = sl__msg_str_array(r, a, &out->ntopic_names, 0);
    out->timeout_ms = sl_kp_read_i32(r);
    return sl__msg_finish(r);
}

void sl_msg_delete_topics_req_encode(struct sl_kp_writer *w, int16_t v, const struct sl_dt_req *m)
{
    sl_kp_write_i32(w, m->ntopic_names);
    for (int32_t i = 0; i < m->ntopic_names; i++) {
        sl_kp_write_str(w, m->topic_names[i]);
    }
    sl_kp_write_i32(w, m->timeout_ms);
}

int sl_msg_delete_topics_resp_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                     struct sl_dt_resp *out)
{
    *out = (struct sl_dt_resp){0};
    out->throttle_time_ms = v >= 1 ? sl_kp_read_i32(r) : 0;
    out->nresponses = sl_kp_read_array(r, 4, 0);
    out->responses = sl__msg_alloc(r, a, out->nresponses, sizeof(*out->responses));
    for (int32_t i = 0; out->responses && i < out->nresponses && !r->err; i++) {
        out->responses[i].name = sl__msg_str(r, a, 0);
        out->responses[i].error_code = sl_kp_read_i16(r);
    }
    return sl__msg_finish(r);
}

void sl_msg_delete_topics_resp_encode(struct sl_kp_writer *w, int16_t v, const struct sl_dt_resp *m)
{
    if (v >= 1) {
        sl_kp_write_i32(w, m->throttle_time_ms);
    }
    sl_kp_write_i32(w, m->nresponses);
    for (int32_t i = 0; i < m->nresponses; i++) {
        sl_kp_write_str(w, m->responses[i].name);
        sl_kp_write_i16(w, m->responses[i].error_code);
    }
}
