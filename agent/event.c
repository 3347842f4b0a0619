/*
 * event.c - see event.h. No shared state but a slab's reference count.
 *
 * The header block (struct hblock) is one malloc: its bookkeeping, cap header slots (the
 * event's headers array), then size bytes of strings of which used are taken. Adding headers
 * one at a time grows it geometrically; sl_event_set_headers sizes it once for the lot; a
 * copy (sl_event_dup) gets an exact, compacted one. So an event costs one allocation and one
 * free for all its headers, whatever their count.
 */
#include "agent/event.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/sl_macros.h"

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
    ev->flags = 0;
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
    ev->flags = 0;
    ev->len = len;
    ev->slab = NULL;
    if (len) {
        memcpy(ev->body, body, len);
    }
    return ev;
}

struct hblock {
    uint32_t cap;         /* header slots */
    uint32_t in_slab;     /* carved from the event's slab: not freed on its own */
    size_t size;          /* string bytes after the slots */
    size_t used;          /* string bytes taken (live and dead) */
    size_t live;          /* key and value lengths of the current headers, NULs excluded */
    struct sl_header h[]; /* cap slots, then the strings */
};

static struct hblock *block_of(const struct sl_event *ev)
{
    return ev->headers ? (struct hblock *)(void *)((char *)ev->headers - offsetof(struct hblock, h))
                       : NULL;
}

static char *strings_of(struct hblock *b)
{
    return (char *)(b->h + b->cap);
}

static void free_block(struct hblock *b)
{
    if (b && !b->in_slab) {
        free(b);
    }
}

static void free_headers(struct sl_event *ev)
{
    free_block(block_of(ev));
}

/*
 * A new block for ev with room for its current headers (compacted) plus slots more headers
 * and bytes more string bytes; ev points to it. The old block is returned, not freed, as the
 * strings being added may still be in it (NULL if there was none); *oom on failure, with ev
 * unchanged.
 */
static struct hblock *regrow(struct sl_event *ev, size_t slots, size_t bytes, int *oom)
{
    struct hblock *old = block_of(ev);
    size_t live = old ? old->live + 2 * (size_t)ev->nheaders : 0;
    size_t cap = (size_t)ev->nheaders + slots;
    size_t size = live + bytes;
    if (cap > UINT32_MAX || size < live) {
        *oom = 1;
        return NULL;
    }
    struct hblock *b = malloc(sizeof(*b) + cap * sizeof(struct sl_header) + size);
    if (!b) {
        *oom = 1;
        return NULL;
    }
    b->cap = (uint32_t)cap;
    b->in_slab = 0;
    b->size = size;
    b->used = 0;
    b->live = old ? old->live : 0;
    char *str = strings_of(b);
    for (uint32_t i = 0; i < ev->nheaders; i++) {
        size_t kl = strlen(ev->headers[i].key) + 1, vl = strlen(ev->headers[i].value) + 1;
        b->h[i].key = memcpy(str + b->used, ev->headers[i].key, kl);
        b->used += kl;
        b->h[i].value = memcpy(str + b->used, ev->headers[i].value, vl);
        b->used += vl;
    }
    ev->headers = b->h;
    return old;
}

/* Room in ev's block for slots more headers and bytes more string bytes; exact: no slack. */
static int has_room(const struct sl_event *ev, size_t slots, size_t bytes)
{
    const struct hblock *b = block_of(ev);
    return b && b->cap - ev->nheaders >= slots && b->size - b->used >= bytes;
}

/* Copy s[0..n) and a NUL into b's free string space (the caller made room). */
static char *put_str(struct hblock *b, const char *s, size_t n)
{
    char *d = strings_of(b) + b->used;
    memmove(d, s, n); /* s may be a string of this very block */
    d[n] = '\0';
    b->used += n + 1;
    return d;
}

static int find_key(const struct sl_event *ev, const char *key, size_t klen)
{
    for (uint32_t i = 0; i < ev->nheaders; i++) {
        const char *k = ev->headers[i].key;
        if ((klen == 0 || k[0] == key[0]) && strncmp(k, key, klen) == 0 && k[klen] == '\0') {
            return (int)i;
        }
    }
    return -1;
}

/*
 * Set key = value in ev, whose block has room for one more header and klen + vlen + 2 bytes
 * (what a new header takes; a replaced value takes at most vlen + 1).
 */
static void set_in_place(struct sl_event *ev, const char *key, size_t klen, const char *value,
                         size_t vlen)
{
    struct hblock *b = block_of(ev);
    klen = strnlen(key, klen); /* a NUL ends either, as with strndup */
    vlen = strnlen(value, vlen);
    int i = find_key(ev, key, klen);
    if (i >= 0) {
        struct sl_header *h = &ev->headers[i];
        size_t old = strlen(h->value);
        if (vlen <= old) {
            memmove(h->value, value, vlen); /* fits where the old value was */
            h->value[vlen] = '\0';
        } else {
            h->value = put_str(b, value, vlen);
        }
        b->live = b->live - old + vlen;
        return;
    }
    struct sl_header *h = &ev->headers[ev->nheaders];
    h->key = put_str(b, key, klen);
    h->value = put_str(b, value, vlen);
    b->live += klen + vlen;
    ev->nheaders++;
}

struct sl_event *sl_event_dup(const struct sl_event *ev)
{
    struct sl_event *d = sl_event_create(ev->body, ev->len);
    if (!d || !ev->nheaders) {
        return d;
    }
    /* regrow copies the headers over, compacted, into an exact block of d's own. */
    struct sl_event tmp = *ev;
    int oom = 0;
    regrow(&tmp, 0, 0, &oom);
    if (oom) {
        sl_event_destroy(d);
        return NULL;
    }
    d->headers = tmp.headers;
    d->nheaders = ev->nheaders;
    return d;
}

void sl_event_destroy(struct sl_event *ev)
{
    if (!ev) {
        return;
    }
    free_headers(ev);
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
            free_headers(evs[i]);
        }
        slab_unref(sl, run);
    }
}

_Static_assert(sizeof(void *) != 8 || sizeof(struct sl_event) == 32,
               "struct sl_event grew: every slab event pays for it");

int sl_event_set_header(struct sl_event *ev, const char *key, const char *value)
{
    return sl_event_set_header_len(ev, key, value, strlen(value));
}

struct sl_event *sl_event_with_body(struct sl_event *ev, const void *body, size_t len)
{
    struct sl_event *d = sl_event_create(body, len);
    if (!d) {
        return NULL;
    }
    const struct hblock *b = block_of(ev);
    if (b && b->in_slab) {
        /* The headers must outlive ev's slab reference: copy them to a block of d's own. */
        struct sl_event tmp = *ev;
        int oom = 0;
        regrow(&tmp, 0, 0, &oom);
        if (oom) {
            free(d);
            return NULL;
        }
        d->headers = tmp.headers;
    } else {
        d->headers = ev->headers;
        ev->headers = NULL;
    }
    d->nheaders = ev->nheaders;
    d->flags = ev->flags;
    sl_event_destroy(ev);
    return d;
}

int sl_event_set_header_len(struct sl_event *ev, const char *key, const char *value, size_t vlen)
{
    size_t klen = strlen(key);
    size_t need = klen + vlen + 2;
    struct hblock *old = NULL;
    if (!has_room(ev, 1, need)) {
        /* Geometric growth, so that headers added one by one cost amortized O(1) copies. */
        const struct hblock *b = block_of(ev);
        size_t slots = b ? SL_MAX((size_t)1, b->cap / 2) : 4;
        size_t bytes = need + (b ? b->size / 2 : 64);
        int oom = 0;
        old = regrow(ev, slots, bytes, &oom);
        if (oom) {
            return -ENOMEM;
        }
    }
    set_in_place(ev, key, klen, value, vlen);
    free_block(old);
    return 0;
}

int sl_event_set_headers(struct sl_event *ev, const struct sl_header_in *hs, size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += hs[i].klen + hs[i].vlen + 2;
    }
    struct hblock *old = NULL;
    if (n && !has_room(ev, n, bytes)) {
        int oom = 0;
        old = regrow(ev, n, bytes, &oom);
        if (oom) {
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        set_in_place(ev, hs[i].key, hs[i].klen, hs[i].value, hs[i].vlen);
    }
    free_block(old);
    return 0;
}

int sl_event_slab_set_headers(struct sl_event *ev, const struct sl_header_in *hs, size_t n)
{
    struct sl_event_slab *sl = ev->slab;
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += hs[i].klen + hs[i].vlen + 2;
    }
    if (!sl || ev->headers || !n) {
        return sl_event_set_headers(ev, hs, n);
    }
    size_t cost = (sizeof(struct hblock) + n * sizeof(struct sl_header) + bytes + SLAB_ALIGN - 1) &
                  ~(size_t)(SLAB_ALIGN - 1);
    if (cost > sl->size - sl->used) {
        return sl_event_set_headers(ev, hs, n);
    }
    /* The slab's carving state is this thread's; the event's reference keeps the slab. */
    struct hblock *b = (struct hblock *)(void *)(sl->mem + sl->used);
    sl->used += cost;
    b->cap = (uint32_t)n;
    b->in_slab = 1;
    b->size = bytes;
    b->used = 0;
    b->live = 0;
    ev->headers = b->h;
    for (size_t i = 0; i < n; i++) {
        set_in_place(ev, hs[i].key, hs[i].klen, hs[i].value, hs[i].vlen);
    }
    return 0;
}

void sl_event_remove_header(struct sl_event *ev, uint32_t i)
{
    struct hblock *b = block_of(ev);
    b->live -= strlen(ev->headers[i].key) + strlen(ev->headers[i].value);
    memmove(&ev->headers[i], &ev->headers[i + 1],
            (ev->nheaders - i - 1) * sizeof(struct sl_header));
    ev->nheaders--;
}

const char *sl_event_header(const struct sl_event *ev, const char *key)
{
    for (uint32_t i = 0; i < ev->nheaders; i++) {
        const char *k = ev->headers[i].key;
        if (k[0] == key[0] && strcmp(k, key) == 0) {
            return ev->headers[i].value;
        }
    }
    return NULL;
}

size_t sl_event_size(const struct sl_event *ev)
{
    const struct hblock *b = block_of(ev);
    return ev->len + (b ? b->live : 0);
}
