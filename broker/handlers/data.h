/*
 * data.h - the broker's data-path state, created and destroyed by broker.c: the parked
 * long-poll Fetch requests (handlers/fetch.c) and the idempotent-producer state
 * (handlers/producer.c). Produce calls sl_fetch_waiters_notify after every append.
 *
 * Threads: the broker loop thread, like the struct sl_broker that points to both.
 */
#ifndef SL_DATA_H
#define SL_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/sl_err.h"

struct sl_broker;
struct sl_fetch_waiters;
struct sl_producers;

/*
 * The set of parked fetches of broker b (which must have b->loop set). Returns 0 or -ENOMEM.
 * The server's stop cancels every parked request through the Fetch cancel hook, so the set
 * is normally empty by destroy; destroy closes any timer left (freed in the close callback,
 * so the loop must run afterwards) and never completes a request. NULL is a no-op.
 */
int sl_fetch_waiters_create(struct sl_broker *b, struct sl_fetch_waiters **out);
void sl_fetch_waiters_destroy(struct sl_fetch_waiters *w);

/*
 * New data in topic/partition (or its high watermark moved): re-evaluate the parked fetches
 * that read it and complete those that now have min_bytes. Cheap when nothing is parked.
 */
void sl_fetch_waiters_notify(struct sl_broker *b, const char *topic, int32_t partition);

/*
 * Append one record batch v2 built in this process (broker/local.c) to topic/partition, as a
 * Produce request's partition would be (batch header checks, offsets assigned in place,
 * high watermark, metrics, parked fetches woken), but without re-validating its records.
 * Returns a Kafka error code (err says more) and, on success, *base_offset.
 */
int16_t sl_produce_local(struct sl_broker *b, const char *topic, int32_t partition, uint8_t *buf,
                         size_t len, int64_t *base_offset, struct sl_err *err);

/*
 * The topic's partition count in *partitions and its largest batch (max.message.bytes) in
 * *max_batch, creating the topic first when it does not exist and Metadata would auto-create
 * it (auto.create.topics.enable, a legal name not starting with "__",
 * default.replication.factor 1); who names the client in the log. Returns a Kafka error code.
 */
int16_t sl_metadata_topic_partitions(struct sl_broker *b, const char *name, const char *who,
                                     int32_t *partitions, int64_t *max_batch);

/*
 * Idempotent-producer state: the producer-id allocator (its block counter lives in the
 * first log dir, loaded on first use) and per (producer, partition) sequence tracking.
 * Returns 0 or -ENOMEM. destroy(NULL) is a no-op.
 */
int sl_producers_create(struct sl_producers **out);
void sl_producers_destroy(struct sl_producers *p);

#endif
