/*
 * msg_incremental_alter_configs.c - IncrementalAlterConfigs (44) v0, checked against
 * IncrementalAlterConfigsRequest.json and IncrementalAlterConfigsResponse.json: AlterConfigs'
 * layout plus a config_operation byte after each name; the response is AlterConfigs' own
 * (sl_msg_alter_configs_resp_*). Pure functions; the caller's thread owns everything.
 */
#include "msg_admin.h"
#include "msg_admin_int.h"

int sl_msg_incremental_alter_configs_req_decode(struct sl_kp_reader *r, int16_t v,
                                                struct sl_kp_arena *a, struct sl_ac_req *out)
{
    return sl__msg_alter_configs_req_decode(r, a, out, 1);
}

void sl_msg_incremental_alter_configs_req_encode(struct sl_kp_writer *w, int16_t v,
                                                 const struct sl_ac_req *m)
{
    sl__msg_alter_configs_req_encode(w, m, 1);
}
