/*
 * fuzz_request.c - libFuzzer target for what the broker does with a request frame before
 * any handler touches a live broker: the server's header parser (sl_server_parse_request),
 * the ApiVersions handler (which needs only the request), and the pure request decoders of
 * broker/proto for the frame's API key and version. The input is one frame without its
 * 4-byte size, as the server hands it over. Whatever the bytes, every step must return an
 * error or succeed, never read out of bounds, never leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/api.h"
#include "broker/handlers/handlers.h"
#include "broker/proto/msg_admin.h"
#include "broker/proto/msg_data.h"
#include "broker/server.h"
#include "common/sl_assert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARENA_LIMIT ((size_t)64 << 20)

/* Run the request decoder of api_key on body; the result only has to be 0 or an error. */
static void decode(int16_t key, int16_t v, struct sl_kp_reader body)
{
    struct sl_kp_arena a;
    sl_kp_arena_init(&a, ARENA_LIMIT);
    struct sl_kp_reader *r = &body;
    union {
        struct sl_produce_req produce;
        struct sl_fetch_req fetch;
        struct sl_list_offsets_req list_offsets;
        struct sl_init_pid_req init_pid;
        struct sl_ofle_req ofle;
        struct sl_md_req md;
        struct sl_ct_req ct;
        struct sl_dt_req dt;
        struct sl_cp_req cp;
        struct sl_dc_req dc;
        struct sl_ac_req ac;
    } u;
    memset(&u, 0, sizeof(u));
    switch (key) {
    case 0:
        (void)sl_msg_produce_req_decode(r, v, &a, &u.produce);
        break;
    case 1:
        (void)sl_msg_fetch_req_decode(r, v, &a, &u.fetch);
        break;
    case 2:
        (void)sl_msg_list_offsets_req_decode(r, v, &a, &u.list_offsets);
        break;
    case 3:
        (void)sl_msg_metadata_req_decode(r, v, &a, &u.md);
        break;
    case 19:
        (void)sl_msg_create_topics_req_decode(r, v, &a, &u.ct);
        break;
    case 20:
        (void)sl_msg_delete_topics_req_decode(r, v, &a, &u.dt);
        break;
    case 22:
        (void)sl_msg_init_pid_req_decode(r, v, &u.init_pid);
        break;
    case 23:
        (void)sl_msg_ofle_req_decode(r, v, &a, &u.ofle);
        break;
    case 32:
        (void)sl_msg_describe_configs_req_decode(r, v, &a, &u.dc);
        break;
    case 33:
        (void)sl_msg_alter_configs_req_decode(r, v, &a, &u.ac);
        break;
    case 37:
        (void)sl_msg_create_partitions_req_decode(r, v, &a, &u.cp);
        break;
    case 44:
        (void)sl_msg_incremental_alter_configs_req_decode(r, v, &a, &u.ac);
        break;
    default:
        break;
    }
    sl_kp_arena_fini(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_request req;
    memset(&req, 0, sizeof(req));
    const struct sl_api *api;
    int rc = sl_server_parse_request(data, size, &req, &api);
    if (rc == SL_ETRUNCATED) {
        return 0;
    }
    if (rc == 0) {
        SL_ASSERT(api && api->key == req.api_key);
        SL_ASSERT(req.body.p >= data && req.body.end == data + size);
    }
    if (rc == 0 && req.api_key == 18) {
        sl_kp_arena_init(&req.arena, ARENA_LIMIT);
        sl_kp_writer_init(&req.resp);
        int hrc = sl_handle_api_versions(&req);
        SL_ASSERT(hrc == SL_API_DONE || hrc < 0);
        SL_ASSERT(hrc < 0 || (req.resp.err == 0 && req.resp.len >= 6));
        sl_kp_writer_fini(&req.resp);
        sl_kp_arena_fini(&req.arena);
        return 0;
    }
    /* The decoders are fuzzed whether or not the table serves the API yet: the body is what
     * follows a v1 header (the data and admin ranges in use are not flexible). */
    struct sl_kp_reader body;
    if (rc == 0) {
        body = req.body;
    } else {
        sl_kp_reader_init(&body, data, size);
        (void)sl_kp_read_i16(&body);
        (void)sl_kp_read_i16(&body);
        (void)sl_kp_read_i32(&body);
        (void)sl_kp_read_str(&body, 1);
    }
    decode(req.api_key, req.api_version, body);
    return 0;
}
