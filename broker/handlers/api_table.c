/*
 * api_table.c - the table of implemented APIs: the server dispatches through it and
 * ApiVersions answers from it, so what we advertise is exactly what we handle.
 * Also the ApiVersions handler itself, which is the table's own reflection.
 * Threads: read-only data; the handler runs on the broker loop thread.
 */
#include <limits.h>

#include "../api.h"
#include "handlers.h"

#define NOFLEX INT16_MAX

/* Sorted by key. Versions checked against apache/kafka's message schemas. */
const struct sl_api sl_api_table[] = {
    /* Produce from v0, though only magic-2 batches are accepted: librdkafka up to 2.11
     * compresses gzip/snappy/lz4 only for a broker whose Produce range reaches v0. */
    {0, 0, 8, 9, "Produce", sl_handle_produce, NULL},
    {1, 4, 11, 12, "Fetch", sl_handle_fetch, sl_fetch_cancel},
    {2, 1, 5, 6, "ListOffsets", sl_handle_list_offsets, NULL},
    {3, 0, 8, 9, "Metadata", sl_handle_metadata, NULL},
    {8, 2, 7, 8, "OffsetCommit", sl_handle_offset_commit, NULL},
    {9, 1, 5, 6, "OffsetFetch", sl_handle_offset_fetch, NULL},
    {10, 0, 2, 3, "FindCoordinator", sl_handle_find_coordinator, NULL},
    {11, 0, 5, 6, "JoinGroup", sl_handle_join_group, sl_group_request_cancel},
    {12, 0, 3, 4, "Heartbeat", sl_handle_heartbeat, NULL},
    {13, 0, 3, 4, "LeaveGroup", sl_handle_leave_group, NULL},
    {14, 0, 3, 4, "SyncGroup", sl_handle_sync_group, sl_group_request_cancel},
    {15, 0, 4, 5, "DescribeGroups", sl_handle_describe_groups, NULL},
    {16, 0, 2, 3, "ListGroups", sl_handle_list_groups, NULL},
    {18, 0, 3, 3, "ApiVersions", sl_handle_api_versions, NULL},
    {19, 0, 4, 5, "CreateTopics", sl_handle_create_topics, NULL},
    {20, 0, 3, 4, "DeleteTopics", sl_handle_delete_topics, NULL},
    {22, 0, 1, 2, "InitProducerId", sl_handle_init_producer_id, NULL},
    {23, 0, 3, 4, "OffsetForLeaderEpoch", sl_handle_offset_for_leader_epoch, NULL},
    {32, 0, 2, 4, "DescribeConfigs", sl_handle_describe_configs, NULL},
    {33, 0, 1, 2, "AlterConfigs", sl_handle_alter_configs, NULL},
    {37, 0, 1, 2, "CreatePartitions", sl_handle_create_partitions, NULL},
    {42, 0, 1, 2, "DeleteGroups", sl_handle_delete_groups, NULL},
    {44, 0, 0, 1, "IncrementalAlterConfigs", sl_handle_incremental_alter_configs, NULL},
};
const int sl_api_table_len = (int)(sizeof(sl_api_table) / sizeof(sl_api_table[0]));

const struct sl_api *sl_api_find(int16_t key)
{
    for (int i = 0; i < sl_api_table_len; i++) {
        if (sl_api_table[i].key == key) {
            return &sl_api_table[i];
        }
    }
    return NULL;
}

int16_t sl_api_error_from_rc(int rc)
{
    switch (rc) {
    case 0:
        return KERR_NONE;
    case SL_ECORRUPT:
    case SL_ECRC:
    case SL_ETRUNCATED:
        return KERR_CORRUPT_MESSAGE;
    case SL_ETOOLARGE:
        return KERR_MESSAGE_TOO_LARGE;
    case SL_ERANGE:
        return KERR_OFFSET_OUT_OF_RANGE;
    case SL_ECONFIG:
        return KERR_INVALID_CONFIG;
    case SL_EUNSUPPORTED:
        return KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
    case SL_EEXIST:
        return KERR_TOPIC_ALREADY_EXISTS;
    case SL_ENOENT:
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    case SL_EFAILED:
        return KERR_KAFKA_STORAGE_ERROR;
    default:
        return rc < 0 && rc > -4096 ? KERR_KAFKA_STORAGE_ERROR : KERR_UNKNOWN_SERVER_ERROR;
    }
}

/*
 * ApiVersions v0-3. A version we do not support is answered in the v0 format with
 * UNSUPPORTED_VERSION and our ranges, so the client can pick one (librdkafka sends v3 first).
 * The response header is always v0, even for v3 (the server knows this exception).
 */
int sl_handle_api_versions(struct sl_request *req)
{
    const struct sl_api *self = sl_api_find(18);
    int16_t v = req->api_version;
    int16_t error = KERR_NONE;
    if (v < self->min_version || v > self->max_version) {
        error = KERR_UNSUPPORTED_VERSION;
        v = 0;
    } else if (v >= 3) {
        struct sl_kp_reader *r = &req->body;
        (void)sl_kp_read_cstr(r, 0); /* client_software_name */
        (void)sl_kp_read_cstr(r, 0); /* client_software_version */
        sl_kp_skip_tags(r);
        if (r->err) {
            return r->err;
        }
    }
    struct sl_kp_writer *w = &req->resp;
    sl_kp_write_i16(w, error);
    if (v >= 3) {
        sl_kp_write_carray_len(w, sl_api_table_len);
    } else {
        sl_kp_write_i32(w, sl_api_table_len);
    }
    for (int i = 0; i < sl_api_table_len; i++) {
        sl_kp_write_i16(w, sl_api_table[i].key);
        sl_kp_write_i16(w, sl_api_table[i].min_version);
        sl_kp_write_i16(w, sl_api_table[i].max_version);
        if (v >= 3) {
            sl_kp_write_tags_empty(w);
        }
    }
    if (v >= 1) {
        sl_kp_write_i32(w, 0); /* throttle_time_ms */
    }
    if (v >= 3) {
        sl_kp_write_tags_empty(w);
    }
    return SL_API_DONE;
}
