/*
 * msg_admin.h - the codec of the admin APIs: Metadata (3) v0-8, CreateTopics (19) v0-4,
 * DeleteTopics (20) v0-3, CreatePartitions (37) v0-1, DescribeConfigs (32) v0-2,
 * AlterConfigs (33) v0-1 and IncrementalAlterConfigs (44) v0. All of these versions are
 * non-flexible. Field order and versions follow apache/kafka's
 * clients/src/main/resources/common/message/<Api>{Request,Response}.json.
 *
 * Decoders read a body (after the request header) and allocate what they return in the
 * caller's arena; they return 0 or the reader's sticky error (SL_ETRUNCATED, SL_ECORRUPT,
 * -ENOMEM); trailing bytes are ignored, as Kafka does. Encoders append to a writer (check
 * w->err once).
 * Both directions exist for every message, so tests (and tools) can round-trip them.
 * Strings are NUL-terminated copies in the arena; NULL stands for a null string or array.
 *
 * Pure functions: no I/O, no logging. Everything belongs to the calling thread.
 */
#ifndef SL_MSG_ADMIN_H
#define SL_MSG_ADMIN_H

#include <stdint.h>

#include "kp.h"

/* ---- Metadata (3) ---- */

struct sl_md_req {
    char **topics; /* NULL = all topics (null array v1+, empty array v0) */
    int32_t ntopics;
    int allow_auto_topic_creation;             /* v4+; true below v4 */
    int include_cluster_authorized_operations; /* v8+ */
    int include_topic_authorized_operations;   /* v8+ */
};

struct sl_md_broker {
    int32_t node_id;
    const char *host;
    int32_t port;
    const char *rack; /* v1+, nullable */
};

struct sl_md_partition {
    int16_t error_code;
    int32_t partition_index;
    int32_t leader_id;
    int32_t leader_epoch; /* v7+ */
    const int32_t *replicas;
    int32_t nreplicas;
    const int32_t *isr;
    int32_t nisr;
    const int32_t *offline; /* v5+ */
    int32_t noffline;
};

struct sl_md_topic {
    int16_t error_code;
    const char *name;
    int is_internal; /* v1+ */
    struct sl_md_partition *partitions;
    int32_t npartitions;
    int32_t authorized_operations; /* v8+ */
};

struct sl_md_resp {
    int32_t throttle_time_ms; /* v3+ */
    struct sl_md_broker *brokers;
    int32_t nbrokers;
    const char *cluster_id; /* v2+, nullable */
    int32_t controller_id;  /* v1+ */
    struct sl_md_topic *topics;
    int32_t ntopics;
    int32_t cluster_authorized_operations; /* v8+ */
};

int sl_msg_metadata_req_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                               struct sl_md_req *out);
void sl_msg_metadata_req_encode(struct sl_kp_writer *w, int16_t v, const struct sl_md_req *m);
int sl_msg_metadata_resp_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                struct sl_md_resp *out);
void sl_msg_metadata_resp_encode(struct sl_kp_writer *w, int16_t v, const struct sl_md_resp *m);

/* ---- shared: a config name and nullable value ---- */

struct sl_cfg_kv {
    const char *name;
    const char *value; /* nullable */
};

/* ---- CreateTopics (19) ---- */

struct sl_ct_assignment {
    int32_t partition_index;
    int32_t *broker_ids;
    int32_t nbroker_ids;
};

struct sl_ct_topic {
    const char *name;
    int32_t num_partitions;     /* -1: default, or from the assignments */
    int16_t replication_factor; /* -1: default, or from the assignments */
    struct sl_ct_assignment *assignments;
    int32_t nassignments;
    struct sl_cfg_kv *configs;
    int32_t nconfigs;
};

struct sl_ct_req {
    struct sl_ct_topic *topics;
    int32_t ntopics;
    int32_t timeout_ms;
    int validate_only; /* v1+ */
};

struct sl_ct_result {
    const char *name;
    int16_t error_code;
    const char *error_message; /* v1+, nullable */
};

struct sl_ct_resp {
    int32_t throttle_time_ms; /* v2+ */
    struct sl_ct_result *topics;
    int32_t ntopics;
};

int sl_msg_create_topics_req_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                    struct sl_ct_req *out);
void sl_msg_create_topics_req_encode(struct sl_kp_writer *w, int16_t v, const struct sl_ct_req *m);
int sl_msg_create_topics_resp_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                     struct sl_ct_resp *out);
void sl_msg_create_topics_resp_encode(struct sl_kp_writer *w, int16_t v,
                                      const struct sl_ct_resp *m);

/* ---- DeleteTopics (20) ---- */

struct sl_dt_req {
    char **topic_names;
    int32_t ntopic_names;
    int32_t timeout_ms;
};

struct sl_dt_result {
    const char *name;
    int16_t error_code;
};

struct sl_dt_resp {
    int32_t throttle_time_ms; /* v1+ */
    struct sl_dt_result *responses;
    int32_t nresponses;
};

int sl_msg_delete_topics_req_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                    struct sl_dt_req *out);
void sl_msg_delete_topics_req_encode(struct sl_kp_writer *w, int16_t v, const struct sl_dt_req *m);
int sl_msg_delete_topics_resp_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                     struct sl_dt_resp *out);
void sl_msg_delete_topics_resp_encode(struct sl_kp_writer *w, int16_t v,
                                      const struct sl_dt_resp *m);

/* ---- CreatePartitions (37) ---- */

struct sl_cp_assignment {
    int32_t *broker_ids;
    int32_t nbroker_ids;
};

struct sl_cp_topic {
    const char *name;
    int32_t count;
    struct sl_cp_assignment *assignments; /* NULL = null array */
    int32_t nassignments;
};

struct sl_cp_req {
    struct sl_cp_topic *topics;
    int32_t ntopics;
    int32_t timeout_ms;
    int validate_only;
};

struct sl_cp_result {
    const char *name;
    int16_t error_code;
    const char *error_message; /* nullable */
};

struct sl_cp_resp {
    int32_t throttle_time_ms;
    struct sl_cp_result *results;
    int32_t nresults;
};

int sl_msg_create_partitions_req_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                        struct sl_cp_req *out);
void sl_msg_create_partitions_req_encode(struct sl_kp_writer *w, int16_t v,
                                         const struct sl_cp_req *m);
int sl_msg_create_partitions_resp_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                         struct sl_cp_resp *out);
void sl_msg_create_partitions_resp_encode(struct sl_kp_writer *w, int16_t v,
                                          const struct sl_cp_resp *m);

/* ---- DescribeConfigs (32) ---- */

/* ConfigResource.Type and DescribeConfigsResponse.ConfigSource ids. */
enum {
    SL_RESOURCE_TOPIC = 2,
    SL_RESOURCE_BROKER = 4,
    SL_RESOURCE_BROKER_LOGGER = 8,
};
enum {
    SL_CONFIG_SOURCE_UNKNOWN = 0,
    SL_CONFIG_SOURCE_TOPIC = 1, /* DYNAMIC_TOPIC_CONFIG */
    SL_CONFIG_SOURCE_DYNAMIC_BROKER = 2,
    SL_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER = 3,
    SL_CONFIG_SOURCE_STATIC_BROKER = 4,
    SL_CONFIG_SOURCE_DEFAULT = 5,
};

struct sl_dc_resource {
    int8_t resource_type;
    const char *resource_name;
    char **keys; /* NULL = every key */
    int32_t nkeys;
};

struct sl_dc_req {
    struct sl_dc_resource *resources;
    int32_t nresources;
    int include_synonyms; /* v1+ */
};

struct sl_dc_synonym {
    const char *name;
    const char *value; /* nullable */
    int8_t source;
};

struct sl_dc_config {
    const char *name;
    const char *value; /* nullable */
    int read_only;
    int is_default;       /* v0 only */
    int8_t config_source; /* v1+ */
    int is_sensitive;
    struct sl_dc_synonym *synonyms; /* v1+ */
    int32_t nsynonyms;
};

struct sl_dc_result {
    int16_t error_code;
    const char *error_message; /* nullable */
    int8_t resource_type;
    const char *resource_name;
    struct sl_dc_config *configs;
    int32_t nconfigs;
};

struct sl_dc_resp {
    int32_t throttle_time_ms;
    struct sl_dc_result *results;
    int32_t nresults;
};

int sl_msg_describe_configs_req_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                       struct sl_dc_req *out);
void sl_msg_describe_configs_req_encode(struct sl_kp_writer *w, int16_t v,
                                        const struct sl_dc_req *m);
int sl_msg_describe_configs_resp_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                        struct sl_dc_resp *out);
void sl_msg_describe_configs_resp_encode(struct sl_kp_writer *w, int16_t v,
                                         const struct sl_dc_resp *m);

/* ---- AlterConfigs (33) and IncrementalAlterConfigs (44) ---- */

/* IncrementalAlterConfigs ConfigOperation ids. */
enum {
    SL_CONFIG_OP_SET = 0,
    SL_CONFIG_OP_DELETE = 1,
    SL_CONFIG_OP_APPEND = 2,
    SL_CONFIG_OP_SUBTRACT = 3,
};

struct sl_ac_config {
    const char *name;
    int8_t op;         /* IncrementalAlterConfigs only (AlterConfigs: SET) */
    const char *value; /* nullable */
};

struct sl_ac_resource {
    int8_t resource_type;
    const char *resource_name;
    struct sl_ac_config *configs;
    int32_t nconfigs;
};

struct sl_ac_req {
    struct sl_ac_resource *resources;
    int32_t nresources;
    int validate_only;
};

struct sl_ac_result {
    int16_t error_code;
    const char *error_message; /* nullable */
    int8_t resource_type;
    const char *resource_name;
};

/* The two APIs share the response layout. */
struct sl_ac_resp {
    int32_t throttle_time_ms;
    struct sl_ac_result *responses;
    int32_t nresponses;
};

/* AlterConfigs v0-1 (every config is a SET; op is left 0). */
int sl_msg_alter_configs_req_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                    struct sl_ac_req *out);
void sl_msg_alter_configs_req_encode(struct sl_kp_writer *w, int16_t v, const struct sl_ac_req *m);
/* IncrementalAlterConfigs v0: an operation per config. */
int sl_msg_incremental_alter_configs_req_decode(struct sl_kp_reader *r, int16_t v,
                                                struct sl_kp_arena *a, struct sl_ac_req *out);
void sl_msg_incremental_alter_configs_req_encode(struct sl_kp_writer *w, int16_t v,
                                                 const struct sl_ac_req *m);
/* The response of both (their layouts are identical in every version we speak). */
int sl_msg_alter_configs_resp_decode(struct sl_kp_reader *r, int16_t v, struct sl_kp_arena *a,
                                     struct sl_ac_resp *out);
void sl_msg_alter_configs_resp_encode(struct sl_kp_writer *w, int16_t v,
                                      const struct sl_ac_resp *m);

#endif
