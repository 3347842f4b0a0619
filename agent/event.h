/*
 * event.h - the unit that flows through a pipeline: a body (bytes) and ordered string
 * headers. One owner at a time: the source that made it, then the channel, then the sink's
 * take transaction, which frees it on commit.
 *
 * Events may be carved out of a slab (one allocation for all the lines of one read) instead
 * of one malloc each; they are still destroyed one by one, on any thread, and the slab goes
 * when its last event and its creator's reference are gone. The slab's reference count is
 * the only state shared between threads (atomic).
 *
 * An event's headers live in one block of its own (malloc'd, or carved from its slab): the
 * header array, then every key and value string (NUL-terminated) packed after it. headers[i].key /
 * .value point into it, so they are read as before, but they are written only through the functions
 * below (never freed or assigned by hand). A replaced value that does not fit where the old one
 * was, or a removed header, leaves dead bytes in the block until it next grows (then it is
 * compacted).
 */
#ifndef SL_AGENT_EVENT_H
#define SL_AGENT_EVENT_H

#include <stddef.h>
#include <stdint.h>

struct sl_header {
    char *key; /* in the event's header block: read-only for callers */
    char *value;
};

/* A header to copy in (sl_event_set_headers): key[0..klen) and value[0..vlen), neither need be
 * NUL-terminated (a NUL inside ends the string there, as with strndup). */
struct sl_header_in {
    const char *key;
    size_t klen;
    const char *value;
    size_t vlen;
};

/* sl_event.flags, used by the source side only (sl_source_put): the interceptor chain ran
 * over the event (it runs once per event, also when a put is retried), and the chain
 * filtered it out (it goes to no channel). A copy (sl_event_dup) starts with no flags. */
#define SL_EVENT_INTERCEPTED 0x01
#define SL_EVENT_DROPPED     0x02

struct sl_event {
    struct sl_header *headers; /* in insertion order, in the event's header block; or NULL */
    uint32_t nheaders;
    uint8_t flags;              /* SL_EVENT_*; fits in the padding: the struct stays 32 bytes */
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

/* sl_event_set_header with a value of vlen bytes (need not be NUL-terminated). */
int sl_event_set_header_len(struct sl_event *ev, const char *key, const char *value, size_t vlen);

/*
 * sl_event_set_header for hs[0..n) in order (a key already there, or repeated in hs, is
 * replaced in place: the last value wins), with at most one allocation for all of them.
 * All or nothing: 0, or -ENOMEM and ev is as it was.
 */
int sl_event_set_headers(struct sl_event *ev, const struct sl_header_in *hs, size_t n);

/*
 * sl_event_set_headers for ev just made by sl_event_slab_add, on the thread that carves its
 * slab (the slab's creator, whether or not it has released it yet): the header block is
 * carved from the slab too when it has room, so it costs no allocation and no free. An event
 * not from a slab, or with headers already, gets sl_event_set_headers.
 */
int sl_event_slab_set_headers(struct sl_event *ev, const struct sl_header_in *hs, size_t n);

/* Remove headers[i] (i < nheaders); the ones after it move down one, keeping their order. */
void sl_event_remove_header(struct sl_event *ev, uint32_t i);

/*
 * A new event (its own allocation) with body and ev's headers, which move over; ev is
 * destroyed. Returns NULL when out of memory, and then ev is left as it was.
 */
struct sl_event *sl_event_with_body(struct sl_event *ev, const void *body, size_t len);

/* The value of key (borrowed), or NULL. */
const char *sl_event_header(const struct sl_event *ev, const char *key);

/* Bytes the event accounts for in a channel: body plus header keys and values. */
size_t sl_event_size(const struct sl_event *ev);

#endif
