/*
 * local.c - in-process produce (see local.h). A client queues requests under the endpoint's
 * mutex and wakes the broker loop with one uv_async_send; the loop takes the whole queue at
 * once, answers each request with the handlers' own functions (sl_produce_local,
 * sl_metadata_topic_partitions), and moves it to its client's done queue, waking a client
 * that waits. A batch of a thousand records thus costs two wake-ups, not a socket round trip.
 *
 * Threads: the endpoint's queues, closed flag and every client's done queue are under
 * l->mu; a client's cond is signalled under it. The async handle and the broker belong to
 * the loop thread.
 */
#include "broker/local.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "broker/api.h"
#include "broker/broker.h"
#include "broker/handlers/data.h"
#include "common/sl_err.h"
#include "common/sl_macros.h"

#define KERR_BROKER_NOT_AVAILABLE 8 /* Kafka's code; api.h has no use for it otherwise */

struct sl_local {
    struct sl_broker *b;
    uv_async_t wake;
    pthread_mutex_t mu;
    struct sl_local_req *head, *tail; /* queued for the loop, oldest first */
    int closed;
};

struct sl_local_client {
    struct sl_local *l;
    pthread_cond_t cond;
    struct sl_local_req *head, *tail; /* answered, oldest first */
    size_t outstanding;               /* submitted and not handed back; the client's */
    int waiting;
};

static void answer(struct sl_local *l, struct sl_local_req *r)
{
    struct sl_local_client *c = r->client;
    pthread_mutex_lock(&l->mu);
    r->next = NULL;
    if (c->tail) {
        c->tail->next = r;
    } else {
        c->head = r;
    }
    c->tail = r;
    if (c->waiting) {
        pthread_cond_signal(&c->cond);
    }
    pthread_mutex_unlock(&l->mu);
}

static void serve(struct sl_local *l, struct sl_local_req *r)
{
    struct sl_err err;
    sl_err_clear(&err);
    if (r->op == SL_LOCAL_TOPIC) {
        r->error = sl_metadata_topic_partitions(l->b, r->topic, "the agent's kafka sink",
                                                &r->partitions, &r->max_batch);
    } else {
        r->error =
            sl_produce_local(l->b, r->topic, r->partition, r->batch, r->len, &r->base_offset, &err);
    }
    snprintf(r->message, sizeof(r->message), "%.*s", (int)sizeof(r->message) - 1,
             r->error ? err.msg : "");
}

static void on_wake(uv_async_t *h)
{
    struct sl_local *l = h->data;
    pthread_mutex_lock(&l->mu);
    struct sl_local_req *r = l->head;
    l->head = l->tail = NULL;
    pthread_mutex_unlock(&l->mu);
    while (r) {
        struct sl_local_req *next = r->next;
        serve(l, r);
        answer(l, r);
        r = next;
    }
}

int sl_local_open(struct sl_broker *b, struct sl_local **out)
{
    struct sl_local *l = calloc(1, sizeof(*l));
    if (!l) {
        return -ENOMEM;
    }
    int rc = uv_async_init(b->loop, &l->wake, on_wake);
    if (rc != 0) {
        free(l);
        return rc;
    }
    l->b = b;
    l->wake.data = l;
    pthread_mutex_init(&l->mu, NULL);
    *out = l;
    return 0;
}

void sl_local_close(struct sl_local *l)
{
    pthread_mutex_lock(&l->mu);
    l->closed = 1;
    struct sl_local_req *r = l->head;
    l->head = l->tail = NULL;
    pthread_mutex_unlock(&l->mu);
    while (r) {
        struct sl_local_req *next = r->next;
        r->error = KERR_BROKER_NOT_AVAILABLE;
        snprintf(r->message, sizeof(r->message), "the broker is stopping");
        answer(l, r);
        r = next;
    }
    uv_close((uv_handle_t *)&l->wake, NULL);
}

void sl_local_free(struct sl_local *l)
{
    if (l) {
        pthread_mutex_destroy(&l->mu);
        free(l);
    }
}

struct sl_local_client *sl_local_client_new(struct sl_local *l)
{
    struct sl_local_client *c = calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    c->l = l;
    return c;
}

void sl_local_client_free(struct sl_local_client *c)
{
    if (c) {
        pthread_cond_destroy(&c->cond);
        free(c);
    }
}

int sl_local_submit(struct sl_local_client *c, struct sl_local_req *r)
{
    struct sl_local *l = c->l;
    r->client = c;
    r->next = NULL;
    r->error = 0;
    r->message[0] = '\0';
    pthread_mutex_lock(&l->mu);
    if (l->closed) {
        pthread_mutex_unlock(&l->mu);
        return -ESHUTDOWN;
    }
    int was_empty = l->head == NULL;
    if (l->tail) {
        l->tail->next = r;
    } else {
        l->head = r;
    }
    l->tail = r;
    if (was_empty) {
        /* The loop takes the whole queue per wake-up: only the first request wakes it. Under
         * the lock, so sl_local_close (which sets closed under it first) cannot have closed
         * the handle. */
        uv_async_send(&l->wake);
    }
    pthread_mutex_unlock(&l->mu);
    c->outstanding++;
    return 0;
}

size_t sl_local_wait(struct sl_local_client *c, struct sl_local_req **done, size_t max, int wait_ms)
{
    struct sl_local *l = c->l;
    size_t n = 0;
    pthread_mutex_lock(&l->mu);
    if (!c->head && wait_ms != 0 && c->outstanding) {
        struct timespec until;
        sl_mono_deadline(&until, wait_ms > 0 ? wait_ms : 0);
        c->waiting = 1;
        while (!c->head) {
            int rc = wait_ms > 0 ? pthread_cond_timedwait(&c->cond, &l->mu, &until)
                                 : pthread_cond_wait(&c->cond, &l->mu);
            if (rc == ETIMEDOUT) {
                break;
            }
        }
        c->waiting = 0;
    }
    while (n < max && c->head) {
        struct sl_local_req *r = c->head;
        c->head = r->next;
        if (!c->head) {
            c->tail = NULL;
        }
        r->next = NULL;
        done[n++] = r;
    }
    pthread_mutex_unlock(&l->mu);
    c->outstanding -= n;
    return n;
}

size_t sl_local_outstanding(const struct sl_local_client *c)
{
    return c->outstanding;
}
