/*
 * event.h - the unit that flows through a pipeline: a body (bytes) and ordered string
 * headers. One owner at a time: the source that made it, then the channel, then the sink's
 * take transaction, which frees it on commit.
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
    size_t len;     /* body length */
    uint8_t body[]; /* allocated with the event */
};

/* A new event with a copy of body. Returns NULL when out of memory. */
struct sl_event *sl_event_create(const void *body, size_t len);

/* Deep copy. NULL when out of memory. */
struct sl_event *sl_event_dup(const struct sl_event *ev);

/* NULL is a no-op. */
void sl_event_destroy(struct sl_event *ev);

/* Append a header (copies both strings; an existing key is replaced in place). 0 or -ENOMEM. */
int sl_event_set_header(struct sl_event *ev, const char *key, const char *value);

/* The value of key (borrowed), or NULL. */
const char *sl_event_header(const struct sl_event *ev, const char *key);

/* Bytes the event accounts for in a channel: body plus header keys and values. */
size_t sl_event_size(const struct sl_event *ev);

#endif
