/*
 * msg_metadata.c - Metadata (3) v0-8, checked against MetadataRequest.json and
 * MetadataResponse.json. In v0 an empty topic array means "all topics"; from v1 a null array
 * does and an empty one means none. Pure functions; the caller's thread owns everything.
 */
#include "../../common/sl_err.h"
#include "msg_admin.h"
#include "msg_admin_int.h"

int sl_msg_metadata_req_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                               struct sl_md_req *out)
{
    *out = (struct sl_md_req){0};
    out->topics = sl__msg_str_array(r, a, &out->ntopics, v >= 1);
    if (v == 0 && out->ntopics == 0) {
        out->topics = NULL;
    }
    if (!out->topics) {
        out->ntopics = 0;
    }
    out->allow_auto_topic_creation = v >= 4 ? sl_kp_read_bool(r) : 1;
    if (v >= 8) {
        out->include_cluster_authorized_operations = sl_kp_read_bool(r);
        out->include_topic_authorized_operations = sl_kp_read_bool(r);
    }
    return sl__msg_finish(r);
}

void sl_msg_metadata_req_encode(struct sl_kp_writer *w, int16_t v, const struct sl_md_req *m)
{
    if (!m->topics && v == 0) {
        sl_kp_write_i32(w, 0);
    } else {
        sl__msg_write_str_array(w, m->topics, m->ntopics);
    }
    if (v >= 4) {
        sl_kp_write_bool(w, m->allow_auto_topic_creation);
    }
    if (v >= 8) {
        sl_kp_write_bool(w, m->include_cluster_authorized_operations);
        sl_kp_write_bool(w, m->include_topic_authorized_operations);
    }
}

static void read_partition(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                           struct sl_md_partition *p)
{
    p->error_code = sl_kp_read_i16(r);
    p->partition_index = sl_kp_read_i32(r);
    p->leader_id = sl_kp_read_i32(r);
    p->leader_epoch = v >= 7 ? sl_kp_read_i32(r) : -1;
    p->replicas = sl__msg_i32_array(r, a, &p->nreplicas, 0);
    p->isr = sl__msg_i32_array(r, a, &p->nisr, 0);
    if (v >= 5) {
        p->offline = sl__msg_i32_array(r, a, &p->noffline, 0);
    }
}

static void read_topic(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                       struct sl_md_topic *t)
{
    t->error_code = sl_kp_read_i16(r);
    t->name = sl__msg_str(r, a, 0);
    t->is_internal = v >= 1 ? sl_kp_read_bool(r) : 0;
    /* error_code + partition_index + leader + two empty arrays */
    t->npartitions = sl_kp_read_array(r, 18, 0);
    t->partitions = sl__msg_alloc(r, a, t->npartitions, sizeof(*t->partitions));
    for (int32_t i = 0; t->partitions && i < t->npartitions && !r->err; i++) {
        read_partition(r, v, a, &t->partitions[i]);
    }
    t->authorized_operations = v >= 8 ? sl_kp_read_i32(r) : INT32_MIN;
}

int sl_msg_metadata_resp_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                struct sl_md_resp *out)
{
    *out = (struct sl_md_resp){0};
    out->throttle_time_ms = v >= 3 ? sl_kp_read_i32(r) : 0;
    out->nbrokers = sl_kp_read_array(r, 10, 0);
    out->brokers = sl__msg_alloc(r, a, out->nbrokers, sizeof(*out->brokers));
    for (int32_t i = 0; out->brokers && i < out->nbrokers && !r->err; i++) {
        struct sl_md_broker *b = &out->brokers[i];
        b->node_id = sl_kp_read_i32(r);
        b->host = sl__msg_str(r, a, 0);
        b->port = sl_kp_read_i32(r);
        b->rack = v >= 1 ? sl__msg_str(r, a, 1) : NULL;
    }
    out->cluster_id = v >= 2 ? sl__msg_str(r, a, 1) : NULL;
    out->controller_id = v >= 1 ? sl_kp_read_i32(r) : -1;
    out->ntopics = sl_kp_read_array(r, 8, 0);
    out->topics = sl__msg_alloc(r, a, out->ntopics, sizeof(*out->topics));
    for (int32_t i = 0; out->topics && i < out->ntopics && !r->err; i++) {
        read_topic(r, v, a, &out->topics[i]);
    }
    out->cluster_authorized_operations = v >= 8 ? sl_kp_read_i32(r) : INT32_MIN;
    return sl__msg_finish(r);
}

void sl_msg_metadata_resp_encode(struct sl_kp_writer *w, int16_t v, const struct sl_md_resp *m)
{
    if (v >= 3) {
        sl_kp_write_i32(w, m->throttle_time_ms);
    }
    sl_kp_write_i32(w, m->nbrokers);
    for (int32_t i = 0; i < m->nbrokers; i++) {
        const struct sl_md_broker *b = &m->brokers[i];
        sl_kp_write_i32(w, b->node_id);
        sl_kp_write_str(w, b->host);
        sl_kp_write_i32(w, b->port);
        if (v >= 1) {
            sl_kp_write_str(w, b->rack);
        }
    }
    if (v >= 2) {
        sl_kp_write_str(w, m->cluster_id);
    }
    if (v >= 1) {
        sl_kp_write_i32(w, m->controller_id);
    }
    sl_kp_write_i32(w, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const struct sl_md_topic *t = &m->topics[i];
        sl_kp_write_i16(w, t->error_code);
        sl_kp_write_str(w, t->name);
        if (v >= 1) {
            sl_kp_write_bool(w, t->is_internal);
        }
        sl_kp_write_i32(w, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++) {
            const struct sl_md_partition *p = &t->partitions[j];
            sl_kp_write_i16(w, p->error_code);
            sl_kp_write_i32(w, p->partition_index);
            sl_kp_write_i32(w, p->leader_id);
            if (v >= 7) {
                sl_kp_write_i32(w, p->leader_epoch);
            }
            sl__msg_write_i32_array(w, p->replicas, p->nreplicas);
            sl__msg_write_i32_array(w, p->isr, p->nisr);
            if (v >= 5) {
                sl__msg_write_i32_array(w, p->offline, p->noffline);
            }
        }
        if (v >= 8) {
            sl_kp_write_i32(w, t->authorized_operations);
        }
    }
    if (v >= 8) {
        sl_kp_write_i32(w, m->cluster_authorized_operations);
    }
}
