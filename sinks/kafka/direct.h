/*
 * direct.h - the kafka sink's in-process path to the embedded broker (broker/local.h): the
 * records of a take transaction become record batches built here, one per topic-partition
 * (split at DIRECT_BATCH_BYTES), handed to the broker loop without librdkafka or a socket.
 * kafka.c decides topic, key, partition and timestamp per event exactly as for librdkafka,
 * and uses this path when the sink writes to the agent's embedded broker (see kafka.c).
 *
 * Threads: a struct kdirect belongs to its sink's thread.
 */
#ifndef SL_KAFKA_DIRECT_H
#define SL_KAFKA_DIRECT_H

#include <stddef.h>
#include <stdint.h>

#include "agent/plugin.h"

struct sl_local;
struct kdirect;

/* A client of endpoint l; codec is the batches' compression (SL_CODEC_*). NULL when out of
 * memory. */
struct kdirect *kdirect_new(struct sl_local *l, int codec, const char *comp);
void kdirect_free(struct kdirect *d);

/*
 * The partition count of topic (auto-created as Metadata would), cached for 30 s (and
 * without a lookup for consecutive records of one topic within a batch); 0 when
 * the broker refuses the topic (logged with a rate limit). Blocks until the broker loop
 * answers (reports of earlier batches that arrive meanwhile are counted).
 */
int32_t kdirect_partitions(struct kdirect *d, const char *topic);

/* Forget topic's partition count: the next kdirect_partitions asks the broker again. */
void kdirect_forget(struct kdirect *d, const char *topic);

/* The partition librdkafka's default partitioner (consistent_random) gives a non-empty key. */
int32_t kdirect_key_partition(const char *key, size_t len, int32_t partitions);

/* Start collecting the records of sink batch b (ends with kdirect_end). */
void kdirect_begin(struct kdirect *d, struct sl_sink_batch *b);

/*
 * Add ev's record for topic (borrowed until b is done) and partition, with the given key
 * (NULL = null) and timestamp, its headers renamed by rename (NULL = as they are). Returns 0,
 * or an error after which the batch is marked failed (b->failed, b->err).
 */
int kdirect_add(struct kdirect *d, const char *topic, int32_t partition, const char *key,
                int64_t ts, const struct sl_event *ev, const char *(*rename)(void *, const char *),
                void *rename_arg);

/* Hand every batch collected since kdirect_begin to the broker; b->pending counts them. */
void kdirect_end(struct kdirect *d);

/* Count answers into their sink batches, waiting up to wait_ms for the first. */
void kdirect_poll(struct kdirect *d, int wait_ms);

/* Batches handed over and not answered yet. */
size_t kdirect_outstanding(const struct kdirect *d);

#endif
