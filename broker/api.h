/*
 * api.h - the contract between the network server and the request handlers, and the one
 * table that both dispatches requests and answers ApiVersions, so the two never disagree.
 *
 * Threads: everything here runs on the broker loop thread.
 */
#ifndef SL_API_H
#define SL_API_H

#include <stdint.h>

#include "broker.h"
#include "proto/kp.h"

/* What a handler returns. */
enum {
    SL_API_DONE = 0,        /* req->resp holds the response body: send it now */
    SL_API_NO_RESPONSE = 1, /* send nothing (Produce with acks=0) */
    SL_API_PARKED = 2,      /* the handler keeps req and calls sl_request_complete later */
};

struct sl_conn;

struct sl_request {
    struct sl_broker *broker;
    struct sl_conn *conn;       /* opaque: the connection the request came on */
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    struct sl_kp_str client_id; /* points into the frame */
    int flexible;               /* request header v2 (tagged fields), response header v1 */
    struct sl_kp_reader body;   /* the request body, after the header */
    struct sl_kp_arena arena;   /* freed with the request */
    struct sl_kp_writer resp;   /* the handler writes the response body here */
    void *handler_state;        /* for parked requests */
    char peer[64];              /* "host:port" of the client, for logs and tools */
    uint64_t start_ns;          /* uv_hrtime() when the frame was parsed (server.c's metrics) */
};

/*
 * A handler decodes req->body, does the work and writes the response body (no header) into
 * req->resp. Returns SL_API_DONE, SL_API_NO_RESPONSE, SL_API_PARKED, or a negative error when
 * the request is malformed: the server then closes the connection (Kafka does the same) and
 * logs it with a rate limit.
 */
typedef int (*sl_api_handler_fn)(struct sl_request *req);

/*
 * Called by the server when a parked request's connection closes or the broker stops: the
 * handler must forget req (it is freed right after) and never complete it.
 */
typedef void (*sl_api_cancel_fn)(struct sl_request *req);

struct sl_api {
    int16_t key;
    int16_t min_version;
    int16_t max_version;
    int16_t flexible_from; /* first flexible version; INT16_MAX if none */
    const char *name;
    sl_api_handler_fn handler;
    sl_api_cancel_fn cancel; /* only for handlers that park */
};

/* The table (broker/handlers/api_table.c), sorted by key. */
extern const struct sl_api sl_api_table[];
extern const int sl_api_table_len;

/* The entry for key, or NULL. */
const struct sl_api *sl_api_find(int16_t key);

/*
 * Finish a parked request: the server sends req->resp as its response (in order with the
 * connection's other responses) and frees req. Server-side (broker/server.c).
 */
void sl_request_complete(struct sl_request *req);

/* Kafka error codes (clients/src/main/java/org/apache/kafka/common/protocol/Errors.java). */
enum {
    KERR_UNKNOWN_SERVER_ERROR = -1,
    KERR_NONE = 0,
    KERR_OFFSET_OUT_OF_RANGE = 1,
    KERR_CORRUPT_MESSAGE = 2,
    KERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    KERR_INVALID_FETCH_SIZE = 4,
    KERR_LEADER_NOT_AVAILABLE = 5,
    KERR_NOT_LEADER_OR_FOLLOWER = 6,
    KERR_REQUEST_TIMED_OUT = 7,
    KERR_MESSAGE_TOO_LARGE = 10,
    KERR_OFFSET_METADATA_TOO_LARGE = 12,
    KERR_NETWORK_EXCEPTION = 13,
    KERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
    KERR_COORDINATOR_NOT_AVAILABLE = 15,
    KERR_NOT_COORDINATOR = 16,
    KERR_INVALID_TOPIC_EXCEPTION = 17,
    KERR_RECORD_LIST_TOO_LARGE = 18,
    KERR_NOT_ENOUGH_REPLICAS = 19,
    KERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
    KERR_INVALID_REQUIRED_ACKS = 21,
    KERR_ILLEGAL_GENERATION = 22,
    KERR_INCONSISTENT_GROUP_PROTOCOL = 23,
    KERR_INVALID_GROUP_ID = 24,
    KERR_UNKNOWN_MEMBER_ID = 25,
    KERR_INVALID_SESSION_TIMEOUT = 26,
    KERR_REBALANCE_IN_PROGRESS = 27,
    KERR_INVALID_COMMIT_OFFSET_SIZE = 28,
    KERR_TOPIC_AUTHORIZATION_FAILED = 29,
    KERR_GROUP_AUTHORIZATION_FAILED = 30,
    KERR_CLUSTER_AUTHORIZATION_FAILED = 31,
    KERR_INVALID_TIMESTAMP = 32,
    KERR_UNSUPPORTED_SASL_MECHANISM = 33,
    KERR_ILLEGAL_SASL_STATE = 34,
    KERR_UNSUPPORTED_VERSION = 35,
    KERR_TOPIC_ALREADY_EXISTS = 36,
    KERR_INVALID_PARTITIONS = 37,
    KERR_INVALID_REPLICATION_FACTOR = 38,
    KERR_INVALID_REPLICA_ASSIGNMENT = 39,
    KERR_INVALID_CONFIG = 40,
    KERR_NOT_CONTROLLER = 41,
    KERR_INVALID_REQUEST = 42,
    KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
    KERR_POLICY_VIOLATION = 44,
    KERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    KERR_DUPLICATE_SEQUENCE_NUMBER = 46,
    KERR_INVALID_PRODUCER_EPOCH = 47,
    KERR_INVALID_TXN_STATE = 48,
    KERR_INVALID_PRODUCER_ID_MAPPING = 49,
    KERR_INVALID_TRANSACTION_TIMEOUT = 50,
    KERR_CONCURRENT_TRANSACTIONS = 51,
    KERR_UNKNOWN_TOPIC_ID = 100,
    KERR_KAFKA_STORAGE_ERROR = 56,
    KERR_LOG_DIR_NOT_FOUND = 57,
    KERR_UNKNOWN_PRODUCER_ID = 59,
    KERR_REASSIGNMENT_IN_PROGRESS = 60,
    KERR_GROUP_ID_NOT_FOUND = 69,
    KERR_FETCH_SESSION_ID_NOT_FOUND = 70,
    KERR_INVALID_FETCH_SESSION_EPOCH = 71,
    KERR_FENCED_LEADER_EPOCH = 74,
    KERR_UNKNOWN_LEADER_EPOCH = 75,
    KERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
    KERR_STALE_BROKER_EPOCH = 77,
    KERR_OFFSET_NOT_AVAILABLE = 78,
    KERR_MEMBER_ID_REQUIRED = 79,
    KERR_PREFERRED_LEADER_NOT_AVAILABLE = 80,
    KERR_GROUP_MAX_SIZE_REACHED = 81,
    KERR_FENCED_INSTANCE_ID = 82,
    KERR_NON_EMPTY_GROUP = 68,
    KERR_INVALID_RECORD = 87,
};

/* The Kafka error code for a store / internal error (SL_E*, -errno). */
int16_t sl_api_error_from_rc(int rc);

#endif
