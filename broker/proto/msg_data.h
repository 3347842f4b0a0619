/*
 * msg_data.h - the data-path messages of the Kafka protocol: Produce (0) v3-8, Fetch (1)
 * v4-11, ListOffsets (2) v1-5, InitProducerId (22) v0-1 and OffsetForLeaderEpoch (23) v0-3,
 * all non-flexible in these ranges. Each has a request struct decoded from a reader and a
 * response struct encoded to a writer; the opposite directions exist too (for tests, tools
 * and a future follower), so every message round-trips.
 *
 * Fields follow apache/kafka clients/src/main/resources/common/message/<Api>{Request,
 * Response}.json; a field absent in a version is neither read nor written and keeps the
 * schema's default in decoded structs. Arrays are allocated from the caller's arena; strings
 * and bytes are slices into the decoded buffer, which must outlive the struct.
 *
 * Decoders return 0, SL_EUNSUPPORTED (version outside the range above), -ENOMEM (arena), or
 * the reader's sticky error (SL_ETRUNCATED / SL_ECORRUPT). Encoders report through the
 * writer's sticky error. Pure code: no I/O, no logging; one thread per reader/writer/arena.
 */
#ifndef SL_MSG_DATA_H
#define SL_MSG_DATA_H

#include <stdint.h>

#include "kp.h"

#define SL_MSG_PRODUCE_MIN      0
#define SL_MSG_PRODUCE_MAX      8
#define SL_MSG_FETCH_MIN        4
#define SL_MSG_FETCH_MAX        11
#define SL_MSG_LIST_OFFSETS_MIN 1
#define SL_MSG_LIST_OFFSETS_MAX 5
#define SL_MSG_INIT_PID_MIN     0
#define SL_MSG_INIT_PID_MAX     1
#define SL_MSG_OFLE_MIN         0
#define SL_MSG_OFLE_MAX         3

/* ---- Produce ---- */

struct sl_produce_req_part {
    int32_t index;
    struct sl_kp_bytes records; /* len -1 = null */
};

struct sl_produce_req_topic {
    struct sl_kp_str name;
    int32_t npartitions;
    struct sl_produce_req_part *partitions;
};

struct sl_produce_req {
    struct sl_kp_str transactional_id; /* len -1 = null */
    int16_t acks;
    int32_t timeout_ms;
    int32_t ntopics;
    struct sl_produce_req_topic *topics;
};

struct sl_produce_record_error {
    int32_t batch_index;
    struct sl_kp_str message; /* nullable */
};

struct sl_produce_resp_part {
    int32_t index;
    int16_t error_code;
    int64_t base_offset;
    int64_t log_append_time_ms; /* -1 unless LogAppendTime */
    int64_t log_start_offset;   /* v5+ */
    int32_t nrecord_errors;     /* v8+ */
    struct sl_produce_record_error *record_errors;
    struct sl_kp_str error_message; /* v8+, nullable */
};

struct sl_produce_resp_topic {
    struct sl_kp_str name;
    int32_t npartitions;
    struct sl_produce_resp_part *partitions;
};

struct sl_produce_resp {
    int32_t ntopics;
    struct sl_produce_resp_topic *topics;
    int32_t throttle_time_ms;
};

int sl_msg_produce_req_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                              struct sl_produce_req *out);
void sl_msg_produce_req_encode(struct sl_kp_writer *w, int16_t version,
                               const struct sl_produce_req *m);
int sl_msg_produce_resp_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                               struct sl_produce_resp *out);
void sl_msg_produce_resp_encode(struct sl_kp_writer *w, int16_t version,
                                const struct sl_produce_resp *m);

/* ---- Fetch ---- */

struct sl_fetch_req_part {
    int32_t partition;
    int32_t current_leader_epoch; /* v9+, default -1 */
    int64_t fetch_offset;
    int64_t log_start_offset; /* v5+, default -1 */
    int32_t partition_max_bytes;
};

struct sl_fetch_req_topic {
    struct sl_kp_str name;
    int32_t npartitions;
    struct sl_fetch_req_part *partitions;
};

struct sl_fetch_forgotten {
    struct sl_kp_str name;
    int32_t npartitions;
    int32_t *partitions;
};

struct sl_fetch_req {
    int32_t replica_id;
    int32_t max_wait_ms;
    int32_t min_bytes;
    int32_t max_bytes;      /* v3+ */
    int8_t isolation_level; /* v4+ */
    int32_t session_id;     /* v7+, default 0 */
    int32_t session_epoch;  /* v7+, default -1 */
    int32_t ntopics;
    struct sl_fetch_req_topic *topics;
    int32_t nforgotten; /* v7+ */
    struct sl_fetch_forgotten *forgotten;
    struct sl_kp_str rack_id; /* v11+, default "" */
};

struct sl_fetch_aborted {
    int64_t producer_id;
    int64_t first_offset;
};

struct sl_fetch_resp_part {
    int32_t partition;
    int16_t error_code;
    int64_t high_watermark;
    int64_t last_stable_offset; /* v4+ */
    int64_t log_start_offset;   /* v5+ */
    int32_t naborted;           /* v4+; -1 = null */
    struct sl_fetch_aborted *aborted;
    int32_t preferred_read_replica; /* v11+ */
    /*
     * The record set: either in memory (records, len -1 = null) or, when nfiles > 0, the
     * concatenation of file ranges spliced into the writer (encode hands every range's
     * release to the writer, so each range is released exactly once by the writer).
     * Decoding always fills records.
     */
    struct sl_kp_bytes records;
    int32_t nfiles;
    struct sl_kp_file_part *files;
};

struct sl_fetch_resp_topic {
    struct sl_kp_str name;
    int32_t npartitions;
    struct sl_fetch_resp_part *partitions;
};

struct sl_fetch_resp {
    int32_t throttle_time_ms;
    int16_t error_code; /* v7+ */
    int32_t session_id; /* v7+ */
    int32_t ntopics;
    struct sl_fetch_resp_topic *topics;
};

int sl_msg_fetch_req_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                            struct sl_fetch_req *out);
void sl_msg_fetch_req_encode(struct sl_kp_writer *w, int16_t version, const struct sl_fetch_req *m);
int sl_msg_fetch_resp_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                             struct sl_fetch_resp *out);
/* Takes every file range of m (see struct sl_fetch_resp_part), also on error. */
void sl_msg_fetch_resp_encode(struct sl_kp_writer *w, int16_t version,
                              const struct sl_fetch_resp *m);

/* ---- ListOffsets ---- */

struct sl_list_offsets_req_part {
    int32_t index;
    int32_t current_leader_epoch; /* v4+, default -1 */
    int64_t timestamp;            /* -1 latest, -2 earliest, else a time in ms */
};

struct sl_list_offsets_req_topic {
    struct sl_kp_str name;
    int32_t npartitions;
    struct sl_list_offsets_req_part *partitions;
};

struct sl_list_offsets_req {
    int32_t replica_id;
    int8_t isolation_level; /* v2+ */
    int32_t ntopics;
    struct sl_list_offsets_req_topic *topics;
};

struct sl_list_offsets_resp_part {
    int32_t index;
    int16_t error_code;
    int64_t timestamp;
    int64_t offset;
    int32_t leader_epoch; /* v4+ */
};

struct sl_list_offsets_resp_topic {
    struct sl_kp_str name;
    int32_t npartitions;
    struct sl_list_offsets_resp_part *partitions;
};

struct sl_list_offsets_resp {
    int32_t throttle_time_ms; /* v2+ */
    int32_t ntopics;
    struct sl_list_offsets_resp_topic *topics;
};

int sl_msg_list_offsets_req_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                                   struct sl_list_offsets_req *out);
void sl_msg_list_offsets_req_encode(struct sl_kp_writer *w, int16_t version,
                                    const struct sl_list_offsets_req *m);
int sl_msg_list_offsets_resp_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                                    struct sl_list_offsets_resp *out);
void sl_msg_list_offsets_resp_encode(struct sl_kp_writer *w, int16_t version,
                                     const struct sl_list_offsets_resp *m);

/* ---- InitProducerId ---- */

struct sl_init_pid_req {
    struct sl_kp_str transactional_id; /* nullable */
    int32_t transaction_timeout_ms;
};

struct sl_init_pid_resp {
    int32_t throttle_time_ms;
    int16_t error_code;
    int64_t producer_id;
    int16_t producer_epoch;
};

int sl_msg_init_pid_req_decode(struct sl_kp_reader *r, int16_t version,
                               struct sl_init_pid_req *out);
void sl_msg_init_pid_req_encode(struct sl_kp_writer *w, int16_t version,
                                const struct sl_init_pid_req *m);
int sl_msg_init_pid_resp_decode(struct sl_kp_reader *r, int16_t version,
                                struct sl_init_pid_resp *out);
void sl_msg_init_pid_resp_encode(struct sl_kp_writer *w, int16_t version,
                                 const struct sl_init_pid_resp *m);

/* ---- OffsetForLeaderEpoch ---- */

struct sl_ofle_req_part {
    int32_t partition;
    int32_t current_leader_epoch; /* v2+, default -1 */
    int32_t leader_epoch;
};

struct sl_ofle_req_topic {
    struct sl_kp_str name;
    int32_t npartitions;
    struct sl_ofle_req_part *partitions;
};

struct sl_ofle_req {
    int32_t replica_id; /* v3+, default -2 */
    int32_t ntopics;
    struct sl_ofle_req_topic *topics;
};

struct sl_ofle_resp_part {
    int16_t error_code;
    int32_t partition;
    int32_t leader_epoch; /* v1+ */
    int64_t end_offset;
};

struct sl_ofle_resp_topic {
    struct sl_kp_str name;
    int32_t npartitions;
    struct sl_ofle_resp_part *partitions;
};

struct sl_ofle_resp {
    int32_t throttle_time_ms; /* v2+ */
    int32_t ntopics;
    struct sl_ofle_resp_topic *topics;
};

int sl_msg_ofle_req_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                           struct sl_ofle_req *out);
void sl_msg_ofle_req_encode(struct sl_kp_writer *w, int16_t version, const struct sl_ofle_req *m);
int sl_msg_ofle_resp_decode(struct sl_kp_reader *r, int16_t version, struct sl_kp_arena *a,
                            struct sl_ofle_resp *out);
void sl_msg_ofle_resp_encode(struct sl_kp_writer *w, int16_t version, const struct sl_ofle_resp *m);

#endif
