/*
 * local.h - in-process produce: a client in the broker's own process (the agent's kafka sink
 * with an embedded broker) hands finished record batches to the broker loop without a
 * socket, a protocol frame or a second copy, and gets each batch's result back: the same
 * append, checks, high watermark and fetch wake-ups as a Produce request's partition, and the
 * same topic auto-creation rules as Metadata.
 *
 * Threads: sl_local_open, sl_local_close run on the broker loop thread; sl_local_free after
 * that loop is gone. A struct sl_local_client belongs to one client thread, which alone calls
 * sl_local_submit and sl_local_wait on it; the requests it submits belong to the broker loop
 * until sl_local_wait hands them back. The queues between the two are under one mutex.
 */
#ifndef SL_BROKER_LOCAL_H
#define SL_BROKER_LOCAL_H

#include <stddef.h>
#include <stdint.h>

struct sl_broker;
struct sl_local;
struct sl_local_client;

enum sl_local_op {
    SL_LOCAL_TOPIC,   /* look the topic up, auto-creating it as Metadata would */
    SL_LOCAL_PRODUCE, /* append batch to topic/partition */
};

struct sl_local_req {
    /* in (the client's, untouched by the broker unless said) */
    enum sl_local_op op;
    const char *topic; /* borrowed until the request is handed back */
    int32_t partition; /* PRODUCE */
    uint8_t *batch;    /* PRODUCE: one record batch v2, rewritten in place (base offset,
                          leader epoch, CRC); borrowed */
    size_t len;
    void *opaque; /* the client's */
    /* out */
    int16_t error;       /* Kafka error code; 0 = done */
    int32_t partitions;  /* TOPIC: the topic's partition count */
    int64_t max_batch;   /* TOPIC: the largest batch it takes (max.message.bytes) */
    int64_t base_offset; /* PRODUCE: offset of the batch's first record */
    char message[160];   /* a detail for a failure, or "" */
    /* queue link (the broker's while queued, the client's after) */
    struct sl_local_req *next;
    struct sl_local_client *client;
};

/* Create the endpoint of broker b on b's loop (a uv_async handle). Returns 0 or -ENOMEM /
 * a libuv error. */
int sl_local_open(struct sl_broker *b, struct sl_local **out);

/*
 * On the loop thread, before the broker stops: requests still queued are answered with
 * BROKER_NOT_AVAILABLE (8) and later submits are refused; the async handle is closed.
 */
void sl_local_close(struct sl_local *l);

/* Free l once its loop has finished (after sl_local_close). NULL is a no-op. */
void sl_local_free(struct sl_local *l);

/* A client with its own completion queue. Returns NULL when out of memory. */
struct sl_local_client *sl_local_client_new(struct sl_local *l);

/* Free c; every request it submitted must have been handed back. NULL is a no-op. */
void sl_local_client_free(struct sl_local_client *c);

/*
 * Queue r for the broker loop. Returns 0, or -ESHUTDOWN when the endpoint is closed (r is
 * not queued; nothing will hand it back).
 */
int sl_local_submit(struct sl_local_client *c, struct sl_local_req *r);

/*
 * Hand back up to max answered requests of c (oldest first) into done, waiting up to
 * wait_ms (0 = not at all, < 0 = without limit) for the first. Returns how many.
 */
size_t sl_local_wait(struct sl_local_client *c, struct sl_local_req **done, size_t max,
                     int wait_ms);

/* Requests of c submitted and not yet handed back. */
size_t sl_local_outstanding(const struct sl_local_client *c);

#endif
