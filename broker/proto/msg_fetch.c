/*
 * msg_fetch.c - Fetch (api key 1) v4-11, request and response, both directions.
 * Checked against apache/kafka FetchRequest.json / FetchResponse.json: v4 IsolationLevel,
 * LastStableOffset and AbortedTransactions; v5 LogStartOffset; v7 sessions (SessionId,
 * Epoch, Forgotten; top-level ErrorCode before SessionId in the response); v9
 * CurrentLeaderEpoch; v11 RackId and PreferredReadReplica; flexible from v12.
 * The response's record sets may be file ranges spliced into the writer (sendfile).
 * Pure code (see msg_data.h); one thread per reader/writer/arena.
 */
#include "msg_data.h"
#include "msg_data_int.h"

static int version_ok(int16_t v)
{
    return v >= SL_MSG_FETCH_MIN && v <= SL_MSG_FETCH_MAX;
}

static void decode_topics(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                          struct sl_fetch_req *out)
{
    size_t part_min = 16 + (version >= 9 ? 4 : 0) + (version >= 5 ? 8 : 0);
    out->ntopics = sl_kp_read_array(r, 6, 0);
    out->topics = sl__data_array(r, a, out->ntopics, sizeof(*out->topics));
    for (int32_t i = 0; i < out->ntopics && !r->err; i++) {
        struct sl_fetch_req_topic *t = &out->topics[i];
        t->name = sl_kp_read_str(r, 0);
        t->npartitions = sl_kp_read_array(r, part_min, 0);
        t->partitions = sl__data_array(r, a, t->npartitions, sizeof(*t->partitions));
        for (int32_t j = 0; j < t->npartitions && !r->err; j++) {
            struct sl_fetch_req_part *p = &t->partitions[j];
            p->partition = sl_kp_read_i32(r);
            p->current_leader_epoch = version >= 9 ? sl_kp_read_i32(r) : -1;
            p->fetch_offset = sl_kp_read_i64(r);
            p->log_start_offset = version >= 5 ? sl_kp_read_i64(r) : -1;
            p->partition_max_bytes = sl_kp_read_i32(r);
        }
    }
}

int sl_msg_fetch_req_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                            struct sl_fetch_req *out)
{
    memset(out, 0, sizeof(*out));
    out->session_epoch = -1;
    out->rack_id.p = "";
    if (!version_ok(version)) {
        return SL_EUNSUPPORTED;
    }
    out->replica_id = sl_kp_read_i32(r);
    out->max_wait_ms = sl_kp_read_i32(r);
    out->min_bytes = sl_kp_read_i32(r);
    out->max_bytes = sl_kp_read_i32(r);      /* v3+ */
    out->isolation_level = sl_kp_read_i8(r); /* v4+ */
    if (version >= 7) {
        out->session_id = sl_kp_read_i32(r);
        out->session_epoch = sl_kp_read_i32(r);
    }
    decode_topics(r, version, a, out);
    if (version >= 7) {
        out->nforgotten = sl_kp_read_array(r, 6, 0);
        out->forgotten = sl__data_array(r, a, out->nforgotten, sizeof(*out->forgotten));
        for (int32_t i = 0; i < out->nforgotten && !r->err; i++) {
            struct sl_fetch_forgotten *f = &out->forgotten[i];
            f->name = sl_kp_read_str(r, 0);
            f->npartitions = sl_kp_read_array(r, 4, 0);
            f->partitions = sl__data_array(r, a, f->npartitions, sizeof(*f->partitions));
            for (int32_t j = 0; j < f->npartitions && !r->err; j++) {
                f->partitions[j] = sl_kp_read_i32(r);
            }
        }
    }
    if (version >= 11) {
        out->rack_id = sl_kp_read_str(r, 0);
    }
    return sl__data_result(r);
}

void sl_msg_fetch_req_encode(struct sl_kp_writer *w, int16_t version, const struct sl_fetch_req *m)
{
    sl_kp_write_i32(w, m->replica_id);
    sl_kp_write_i32(w, m->max_wait_ms);
    sl_kp_write_i32(w, m->min_bytes);
    sl_kp_write_i32(w, m->max_bytes);
    sl_kp_write_i8(w, m->isolation_level);
    if (version >= 7) {
        sl_kp_write_i32(w, m->session_id);
        sl_kp_write_i32(w, m->session_epoch);
    }
    sl_kp_write_i32(w, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const struct sl_fetch_req_topic *t = &m->topics[i];
        sl__data_write_str(w, t->name);
        sl_kp_write_i32(w, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++) {
            const struct sl_fetch_req_part *p = &t->partitions[j];
            sl_kp_write_i32(w, p->partition);
            if (version >= 9) {
                sl_kp_write_i32(w, p->current_leader_epoch);
            }
            sl_kp_write_i64(w, p->fetch_offset);
            if (version >= 5) {
                sl_kp_write_i64(w, p->log_start_offset);
            }
            sl_kp_write_i32(w, p->partition_max_bytes);
        }
    }
    if (version >= 7) {
        sl_kp_write_i32(w, m->nforgotten);
        for (int32_t i = 0; i < m->nforgotten; i++) {
            sl__data_write_str(w, m->forgotten[i].name);
            sl_kp_write_i32(w, m->forgotten[i].npartitions);
            for (int32_t j = 0; j < m->forgotten[i].npartitions; j++) {
                sl_kp_write_i32(w, m->forgotten[i].partitions[j]);
            }
        }
    }
    if (version >= 11) {
        struct sl_kp_str rack = m->rack_id;
        if (rack.len < 0 || !rack.p) {
            rack.p = "";
            rack.len = 0;
        }
        sl__data_write_str(w, rack);
    }
}

static void decode_resp_part(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                             struct sl_fetch_resp_part *p)
{
    p->partition = sl_kp_read_i32(r);
    p->error_code = sl_kp_read_i16(r);
    p->high_watermark = sl_kp_read_i64(r);
    p->last_stable_offset = sl_kp_read_i64(r); /* v4+ */
    p->log_start_offset = version >= 5 ? sl_kp_read_i64(r) : -1;
    p->naborted = sl_kp_read_array(r, 16, 1);
    p->aborted = sl__data_array(r, a, p->naborted, sizeof(*p->aborted));
    for (int32_t k = 0; k < p->naborted && !r->err; k++) {
        p->aborted[k].producer_id = sl_kp_read_i64(r);
        p->aborted[k].first_offset = sl_kp_read_i64(r);
    }
    p->preferred_read_replica = version >= 11 ? sl_kp_read_i32(r) : -1;
    p->records = sl_kp_read_bytes(r);
}

int sl_msg_fetch_resp_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                             struct sl_fetch_resp *out)
{
    memset(out, 0, sizeof(*out));
    if (!version_ok(version)) {
        return SL_EUNSUPPORTED;
    }
    out->throttle_time_ms = sl_kp_read_i32(r);
    if (version >= 7) {
        out->error_code = sl_kp_read_i16(r);
        out->session_id = sl_kp_read_i32(r);
    }
    out->ntopics = sl_kp_read_array(r, 6, 0);
    out->topics = sl__data_array(r, a, out->ntopics, sizeof(*out->topics));
    for (int32_t i = 0; i < out->ntopics && !r->err; i++) {
        struct sl_fetch_resp_topic *t = &out->topics[i];
        t->name = sl_kp_read_str(r, 0);
        t->npartitions = sl_kp_read_array(r, 30, 0);
        t->partitions = sl__data_array(r, a, t->npartitions, sizeof(*t->partitions));
        for (int32_t j = 0; j < t->npartitions && !r->err; j++) {
            decode_resp_part(r, version, a, &t->partitions[j]);
        }
    }
    return sl__data_result(r);
}

/* The record set: int32 length (computed before the parts are written), then the bytes. */
static void encode_records(struct sl_kp_writer *w, const struct sl_fetch_resp_part *p)
{
    if (p->nfiles <= 0) {
        sl__data_write_bytes(w, p->records);
        return;
    }
    int64_t total = 0;
    for (int32_t k = 0; k < p->nfiles; k++) {
        total += p->files[k].length;
    }
    if (total > INT32_MAX) {
        w->err = w->err ? w->err : SL_ETOOLARGE;
    }
    sl_kp_write_i32(w, (int32_t)total);
    for (int32_t k = 0; k < p->nfiles; k++) {
        const struct sl_kp_file_part *f = &p->files[k];
        sl_kp_write_file(w, f->fd, f->position, f->length, f->release, f->owner);
    }
}

void sl_msg_fetch_resp_encode(struct sl_kp_writer *w, int16_t version,
                              const struct sl_fetch_resp *m)
{
    sl_kp_write_i32(w, m->throttle_time_ms);
    if (version >= 7) {
        sl_kp_write_i16(w, m->error_code);
        sl_kp_write_i32(w, m->session_id);
    }
    sl_kp_write_i32(w, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const struct sl_fetch_resp_topic *t = &m->topics[i];
        sl__data_write_str(w, t->name);
        sl_kp_write_i32(w, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++) {
            const struct sl_fetch_resp_part *p = &t->partitions[j];
            sl_kp_write_i32(w, p->partition);
            sl_kp_write_i16(w, p->error_code);
            sl_kp_write_i64(w, p->high_watermark);
            sl_kp_write_i64(w, p->last_stable_offset);
            if (version >= 5) {
                sl_kp_write_i64(w, p->log_start_offset);
            }
            sl_kp_write_i32(w, p->naborted);
            for (int32_t k = 0; k < p->naborted; k++) {
                sl_kp_write_i64(w, p->aborted[k].producer_id);
                sl_kp_write_i64(w, p->aborted[k].first_offset);
            }
            if (version >= 11) {
                sl_kp_write_i32(w, p->preferred_read_replica);
            }
            encode_records(w, p);
        }
    }
}
