/*
 * data.h - the broker's data-path state, created and destroyed by broker.c: the parked
 * long-poll Fetch requests (handlers/fetch.c) and the idempotent-producer state
 * (handlers/producer.c). Produce calls sl_fetch_waiters_notify after every append.
 *
 * Threads: the broker loop thread, like the struct sl_broker that points to both.
 */
#ifndef SL_DATA_H
#define SL_DATA_H

#include <stdint.h>

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
 * Idempotent-producer state: the producer-id allocator (its block counter lives in the
 * first log dir, loaded on first use) and per (producer, partition) sequence tracking.
 * Returns 0 or -ENOMEM. destroy(NULL) is a no-op.
 */
int sl_producers_create(struct sl_producers **out);
void sl_producers_destroy(struct sl_producers *p);

#endif
