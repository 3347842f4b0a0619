/*
 * msg_init_producer_id.c - InitProducerId (api key 22) v0-1, request and response.
 * Checked against apache/kafka InitProducerIdRequest.json / InitProducerIdResponse.json:
 * v1 is v0 (throttling behaviour only); flexible from v2; ProducerId/Epoch in the request
 * only from v3. Pure code (see msg_data.h).
 */
#include "msg_data.h"
#include "msg_data_int.h"

static int version_ok(int16_t v)
{
    return v >= SL_MSG_INIT_PID_MIN && v <= SL_MSG_INIT_PID_MAX;
}

int sl_msg_init_pid_req_decode(struct sl_kp_reader *r, int16_t version, struct sl_init_pid_req *out)
{
    memset(out, 0, sizeof(*out));
    if (!version_ok(version)) {
        return SL_EUNSUPPORTED;
    }
    out->transactional_id = sl_kp_read_str(r, 1);
    out->transaction_timeout_ms = sl_kp_read_i32(r);
    return sl__data_result(r);
}

void sl_msg_init_pid_req_encode(struct sl_kp_writer *w, int16_t version,
                                const struct sl_init_pid_req *m)
{
    sl__data_write_str(w, m->transactional_id);
    sl_kp_write_i32(w, m->transaction_timeout_ms);
}

int sl_msg_init_pid_resp_decode(struct sl_kp_reader *r, int16_t version,
                                struct sl_init_pid_resp *out)
{
    memset(out, 0, sizeof(*out));
    if (!version_ok(version)) {
        return SL_EUNSUPPORTED;
    }
    out->throttle_time_ms = sl_kp_read_i32(r);
    out->error_code = sl_kp_read_i16(r);
    out->producer_id = sl_kp_read_i64(r);
    out->producer_epoch = sl_kp_read_i16(r);
    return sl__data_result(r);
}

void sl_msg_init_pid_resp_encode(struct sl_kp_writer *w, int16_t version,
                                 const struct sl_init_pid_resp *m)
{
    sl_kp_write_i32(w, m->throttle_time_ms);
    sl_kp_write_i16(w, m->error_code);
    sl_kp_write_i64(w, m->producer_id);
    sl_kp_write_i16(w, m->producer_epoch);
}
