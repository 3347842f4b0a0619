/*
 * event.h - the unit that flows through a pipeline: a body (bytes) and ordered string
 * headers. One owner at a time: the source that made it, then the channel, then the sink's
 * take transaction, which frees it on commit.
 *
 * Events may be carved out of a slab (one allocation for all the lines of one read) instead
 * of one malloc each; they are still destroyed one by one, on any thread, and the slab goes
 * when its last event and its creator's reference are gone. The slab's reference count is
 * the only state shared between threads (atomic).
 */
#ifndef SL_AGENT_EVENT_H
#define SL_AGENT_EVENT_H

#include <stddef.h>
#include <stdint.h>

struct sl_header {
    char *key; /* owned */
    char *value;
};

struct sl_event {
    struct sl_header *headers; /* owned array, in insertion order */
    size_t nheaders;
    size_t len;                 /* body length */
    struct sl_event_slab *slab; /* where the event lives; NULL = its own allocation */
    uint8_t body[];             /* allocated with the event */
};

struct sl_event_slab;

/*
 * A slab with room for bytes of events (each takes sizeof(struct sl_event) + its body, rounded
 * up to 16). The caller holds one reference. NULL when out of memory.
 */
struct sl_event_slab *sl_event_slab_create(size_t bytes);

/* A new event in sl with a copy of body, or NULL when sl has no room left for it. */
struct sl_event *sl_event_slab_add(struct sl_event_slab *sl, const void *body, size_t len);

/* Drop the creator's reference (NULL is a no-op); events already made stay valid. */
void sl_event_slab_release(struct sl_event_slab *sl);

/* Bytes sl_event_slab_add uses for a body of len. */
size_t sl_event_slab_cost(size_t len);

/* A new event with a copy of body. Returns NULL when out of memory. */
struct sl_event *sl_event_create(const void *body, size_t len);

/* Deep copy. NULL when out of memory. */
struct sl_event *sl_event_dup(const struct sl_event *ev);

/* NULL is a no-op. */
void sl_event_destroy(struct sl_event *ev);

/* sl_event_destroy of evs[0..n), with one reference-count update per run of one slab. */
void sl_event_destroy_many(struct sl_event **evs, size_t n);

/* Append a header (copies both strings; an existing key is replaced in place). 0 or -ENOMEM. */
int sl_event_set_header(struct sl_event *ev, const char *key, const char *value);

/* The value of key (borrowed), or NULL. */
const char *sl_event_header(const struct sl_event *ev, const char *key);

/* Bytes the event accounts for in a channel: body plus header keys and values. */
size_t sl_event_size(const struct sl_event *ev);

#endif
