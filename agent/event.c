/*
 * event.c - see event.h. No shared state.
 */
#include "agent/event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct sl_event *sl_event_create(const void *body, size_t len)
{
    struct sl_event *ev = malloc(sizeof(*ev) + len);
    if (!ev) {
        return NULL;
    }
    ev->headers = NULL;
    ev->nheaders = 0;
    ev->len = len;
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
    free(ev);
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
