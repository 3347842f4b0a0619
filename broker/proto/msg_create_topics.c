/*
 * msg_create_topics.c - CreateTopics (19) v0-4, checked against CreateTopicsRequest.json and
 * CreateTopicsResponse.json: validate_only from v1, error_message from v1, throttle_time_ms
 * from v2; v3 and v4 change only semantics. Pure functions; the caller's thread owns all.
 */
#include "../../common/sl_err.h"
#include "msg_admin.h"
#include "msg_admin_int.h"

static void read_topic(struct sl_kp_reader *r, struct sl_kp_arena *a, struct sl_ct_topic *t)
{
    t->name = sl__msg_str(r, a, 0);
    t->num_partitions = sl_kp_read_i32(r);
    t->replication_factor = sl_kp_read_i16(r);
    t->nassignments = sl_kp_read_array(r, 8, 0);
    t->assignments = sl__msg_alloc(r, a, t->nassignments, sizeof(*t->assignments));
    for (int32_t i = 0; t->assignments && i < t->nassignments && !r->err; i++) {
        struct sl_ct_assignment *as = &t->assignments[i];
        as->partition_index = sl_kp_read_i32(r);
        as->broker_ids = sl__msg_i32_array(r, a, &as->nbroker_ids, 0);
    }
    t->nconfigs = sl_kp_read_array(r, 4, 0);
    t->configs = sl__msg_alloc(r, a, t->nconfigs, sizeof(*t->configs));
    for (int32_t i = 0; t->configs && i < t->nconfigs && !r->err; i++) {
        t->configs[i].name = sl__msg_str(r, a, 0);
        t->configs[i].value = sl__msg_str(r, a, 1);
    }
}

int sl_msg_create_topics_req_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                    struct sl_ct_req *out)
{
    *out = (struct sl_ct_req){0};
    /* name + partitions + replication factor + two empty arrays */
    out->ntopics = sl_kp_read_array(r, 16, 0);
    out->topics = sl__msg_alloc(r, a, out->ntopics, sizeof(*out->topics));
    for (int32_t i = 0; out->topics && i < out->ntopics && !r->err; i++) {
        read_topic(r, a, &out->topics[i]);
    }
    out->timeout_ms = sl_kp_read_i32(r);
    out->validate_only = v >= 1 ? sl_kp_read_bool(r) : 0;
    return sl__msg_finish(r);
}

void sl_msg_create_topics_req_encode(struct sl_kp_writer *w, int16_t v, const struct sl_ct_req *m)
{
    sl_kp_write_i32(w, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const struct sl_ct_topic *t = &m->topics[i];
        sl_kp_write_str(w, t->name);
        sl_kp_write_i32(w, t->num_partitions);
        sl_kp_write_i16(w, t->replication_factor);
        sl_kp_write_i32(w, t->nassignments);
        for (int32_t j = 0; j < t->nassignments; j++) {
            sl_kp_write_i32(w, t->assignments[j].partition_index);
            sl__msg_write_i32_array(w, t->assignments[j].broker_ids, t->assignments[j].nbroker_ids);
        }
        sl_kp_write_i32(w, t->nconfigs);
        for (int32_t j = 0; j < t->nconfigs; j++) {
            sl_kp_write_str(w, t->configs[j].name);
            sl_kp_write_str(w, t->configs[j].value);
        }
    }
    sl_kp_write_i32(w, m->timeout_ms);
    if (v >= 1) {
        sl_kp_write_bool(w, m->validate_only);
    }
}

int sl_msg_create_topics_resp_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                     struct sl_ct_resp *out)
{
    *out = (struct sl_ct_resp){0};
    out->throttle_time_ms = v >= 2 ? sl_kp_read_i32(r) : 0;
    out->ntopics = sl_kp_read_array(r, 4, 0);
    out->topics = sl__msg_alloc(r, a, out->ntopics, sizeof(*out->topics));
    for (int32_t i = 0; out->topics && i < out->ntopics && !r->err; i++) {
        out->topics[i].name = sl__msg_str(r, a, 0);
        out->topics[i].error_code = sl_kp_read_i16(r);
        out->topics[i].error_message = v >= 1 ? sl__msg_str(r, a, 1) : NULL;
    }
    return sl__msg_finish(r);
}

void sl_msg_create_topics_resp_encode(struct sl_kp_writer *w, int16_t v, const struct sl_ct_resp *m)
{
    if (v >= 2) {
        sl_kp_write_i32(w, m->throttle_time_ms);
    }
    sl_kp_write_i32(w, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        sl_kp_write_str(w, m->topics[i].name);
        sl_kp_write_i16(w, m->topics[i].error_code);
        if (v >= 1) {
            sl_kp_write_str(w, m->topics[i].error_message);
        }
    }
}
