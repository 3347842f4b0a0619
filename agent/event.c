/*
 * event.c - see event.h. No shared state.
 */
#include "agent/event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * refs starts at SLAB_BIAS, stands for the creator's reference and every event still to be
 * made, and is the only field touched by other threads. Events are counted in made without
 * an atomic (the creator's thread only): a locked add per line, right after copying its
 * body, costs more than everything else the source does with it. Release settles the
 * account: refs -= SLAB_BIAS - made, leaving one reference per live event.
 */
#define SLAB_BIAS ((size_t)1 << 62)

struct sl_event_slab {
    size_t refs; /* atomic */
    size_t made; /* creator's thread */
    size_t used, size;
    _Alignas(16) uint8_t mem[];
};

#define SLAB_ALIGN 16

size_t sl_event_slab_cost(size_t len)
{
    return (sizeof(struct sl_event) + len + SLAB_ALIGN - 1) & ~(size_t)(SLAB_ALIGN - 1);
}

struct sl_event_slab *sl_event_slab_create(size_t bytes)
{
    struct sl_event_slab *sl = malloc(sizeof(*sl) + bytes);
    if (!sl) {
        return NULL;
    }
    sl->refs = SLAB_BIAS;
    sl->made = 0;
    sl->used = 0;
    sl->size = bytes;
    return sl;
}

static void slab_unref(struct sl_event_slab *sl, size_t n)
{
    if (__atomic_sub_fetch(&sl->refs, n, __ATOMIC_ACQ_REL) == 0) {
        free(sl);
    }
}

void sl_event_slab_release(struct sl_event_slab *sl)
{
    if (sl) {
        slab_unref(sl, SLAB_BIAS - sl->made);
    }
}

struct sl_event *sl_event_slab_add(struct sl_event_slab *sl, const void *body, size_t len)
{
    size_t cost = sl_event_slab_cost(len);
    if (cost > sl->size - sl->used) {
        return NULL;
    }
    struct sl_event *ev = (struct sl_event *)(void *)(sl->mem + sl->used);
    sl->used += cost;
    sl->made++;
    ev->headers = NULL;
    ev->nheaders = 0;
    ev->len = len;
    ev->slab = sl;
    if (len) {
        memcpy(ev->body, body, len);
    }
    return ev;
}

struct sl_event *sl_event_create(const void *body, size_t len)
{
    struct sl_event *ev = malloc(sizeof(*ev) + len);
    if (!ev) {
        return NULL;
    }
    ev->headers = NULL;
    ev->nheaders = 0;
    ev->len = len;
    ev->slab = NULL;
    if (len) {
        memcpy(ev->body, body, len);
    }
    return ev;
}

struct sl_event *sl_event_dup(const struct sl_event *ev)
{
    struct sl_event *d = sl_event_create(ev->body, ev->len);
    for (size_t i = 0; d && i < ev->nheaders; i++) {
        if (sl_event_set_header(d, ev->headers[i].key, ev->headers[i].value) != 0) {
            sl_event_destroy(d);
            return NULL;
        }
    }
    return d;
}

void sl_event_destroy(struct sl_event *ev)
{
    if (!ev) {
        return;
    }
    for (size_t i = 0; i < ev->nheaders; i++) {
        free(ev->headers[i].key);
        free(ev->headers[i].value);
    }
    free(ev->headers);
    if (ev->slab) {
        slab_unref(ev->slab, 1);
    } else {
        free(ev);
    }
}

void sl_event_destroy_many(struct sl_event **evs, size_t n)
{
    size_t i = 0;
    while (i < n) {
        struct sl_event_slab *sl = evs[i]->slab;
        if (!sl) {
            sl_event_destroy(evs[i++]);
            continue;
        }
        size_t run = 0;
        for (; i < n && evs[i]->slab == sl; i++, run++) {
            for (size_t h = 0; h < evs[i]->nheaders; h++) {
                free(evs[i]->headers[h].key);
                free(evs[i]->headers[h].value);
            }
            free(evs[i]->headers);
        }
        slab_unref(sl, run);
    }
}

int sl_event_set_header(struct sl_event *ev, const char *key, const char *value)
{
    char *v = strdup(value);
    if (!v) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < ev->nheaders; i++) {
        if (strcmp(ev->headers[i].key, key) == 0) {
            free(ev->headers[i].value);
            ev->headers[i].value = v;
            return 0;
        }
    }
    struct sl_header *h = realloc(ev->headers, (ev->nheaders + 1) * sizeof(*h));
    char *k = strdup(key);
    if (!h || !k) {
        if (h) {
            ev->headers = h;
        }
        free(k);
        free(v);
        return -ENOMEM;
    }
    ev->headers = h;
    h[ev->nheaders].key = k;
    h[ev->nheaders].value = v;
    ev->nheaders++;
    return 0;
}

const char *sl_event_header(const struct sl_event *ev, const char *key)
{
    for (size_t i = 0; i < ev->nheaders; i++) {
        if (strcmp(ev->headers[i].key, key) == 0) {
            return ev->headers[i].value;
        }
    }
    return NULL;
}

size_t sl_event_size(const struct sl_event *ev)
{
    size_t n = ev->len;
    for (size_t i = 0; i < ev->nheaders; i++) {
        n += strlen(ev->headers[i].key) + strlen(ev->headers[i].value);
    }
    return n;
}
