/*
 * gmap.c - a small string-keyed chained hash map for groups and their offsets (FNV-1a,
 * doubling at load factor 1). Threads: the owner's (the broker loop thread).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "group_int.h"

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    }
    return h;
}

void sl__gmap_init(struct sl__gmap *m)
{
    memset(m, 0, sizeof(*m));
}

void sl__gmap_fini(struct sl__gmap *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct sl__gmap_ent *e = m->buckets[i];
        while (e) {
            struct sl__gmap_ent *next = e->next;
            if (free_val) {
                free_val(e->val);
            }
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    memset(m, 0, sizeof(*m));
}

static struct sl__gmap_ent **slot(const struct sl__gmap *m, const char *key)
{
    if (m->nbuckets == 0) {
        return NULL;
    }
    struct sl__gmap_ent **pp = &m->buckets[hash(key) & (m->nbuckets - 1)];
    while (*pp && strcmp((*pp)->key, key) != 0) {
        pp = &(*pp)->next;
    }
    return pp;
}

void *sl__gmap_get(const struct sl__gmap *m, const char *key)
{
    struct sl__gmap_ent **pp = slot(m, key);
    return pp && *pp ? (*pp)->val : NULL;
}

static int grow(struct sl__gmap *m)
{
    size_t n = m->nbuckets ? m->nbuckets * 2 : 16;
    struct sl__gmap_ent **b = calloc(n, sizeof(*b));
    if (!b) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct sl__gmap_ent *e = m->buckets[i];
        while (e) {
            struct sl__gmap_ent *next = e->next;
            size_t j = hash(e->key) & (n - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
    return 0;
}

int sl__gmap_put(struct sl__gmap *m, const char *key, void *val, void **old)
{
    if (old) {
        *old = NULL;
    }
    if (m->count >= m->nbuckets && grow(m) != 0) {
        return -ENOMEM;
    }
    struct sl__gmap_ent **pp = slot(m, key);
    if (*pp) {
        if (old) {
            *old = (*pp)->val;
        }
        (*pp)->val = val;
        return 0;
    }
    struct sl__gmap_ent *e = calloc(1, sizeof(*e));
    char *k = strdup(key);
    if (!e || !k) {
        free(e);
        free(k);
        return -ENOMEM;
    }
    e->key = k;
    e->val = val;
    *pp = e;
    m->count++;
    return 0;
}

void *sl__gmap_del(struct sl__gmap *m, const char *key)
{
    struct sl__gmap_ent **pp = slot(m, key);
    if (!pp || !*pp) {
        return NULL;
    }
    struct sl__gmap_ent *e = *pp;
    void *val = e->val;
    *pp = e->next;
    free(e->key);
    free(e);
    m->count--;
    return val;
}

void sl__gmap_each(struct sl__gmap *m, void (*cb)(void *arg, void *val), void *arg)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct sl__gmap_ent *e = m->buckets[i];
        while (e) {
            struct sl__gmap_ent *next = e->next;
            cb(arg, e->val);
            e = next;
        }
    }
}
