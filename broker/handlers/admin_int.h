/*
 * admin_int.h - helpers shared by the admin handlers (metadata.c, create_topics.c,
 * delete_topics.c, create_partitions.c, describe_configs.c, alter_configs.c,
 * incremental_alter_configs.c): registry results to Kafka error codes, messages into the
 * request's arena. Threads: the broker loop thread.
 */
#ifndef SL_ADMIN_INT_H
#define SL_ADMIN_INT_H

#include <stdarg.h>
#include <stdio.h>

#include "../api.h"

/* The Kafka error for a topic registry result (topics.h). */
static inline int16_t sl__admin_error(int rc)
{
    switch (rc) {
    case 0:
        return KERR_NONE;
    case SL_EEXIST:
        return KERR_TOPIC_ALREADY_EXISTS;
    case SL_EUNSUPPORTED:
        return KERR_INVALID_TOPIC_EXCEPTION;
    case SL_ERANGE:
        return KERR_INVALID_PARTITIONS;
    case SL_ECONFIG:
        return KERR_INVALID_CONFIG;
    case SL_ENOENT:
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    default:
        return sl_api_error_from_rc(rc);
    }
}

/* A formatted copy in the request's arena (NULL when out of memory: a null message). */
__attribute__((format(printf, 2, 3))) static inline const char *
sl__admin_msg(struct sl_request *req, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return NULL;
    }
    struct sl_kp_str s = {buf, n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1};
    return sl_kp_arena_strdup(&req->arena, s);
}

/* Allocate n zeroed elements for a response; NULL only when the arena is out of memory. */
static inline void *sl__admin_alloc(struct sl_request *req, int32_t n, size_t size)
{
    return sl_kp_arena_calloc(&req->arena, n > 0 ? (size_t)n : 1, size);
}

struct sl_ac_resource;
struct sl_ac_result;

/*
 * Apply one (Incremental)AlterConfigs resource (alter_configs.c): topics through
 * sl_topics_set_config; a broker resource is refused (no dynamic broker configuration).
 * Fills out's error code and message.
 */
void sl__admin_alter(struct sl_request *req, const struct sl_ac_resource *res, int incremental,
                     int validate_only, struct sl_ac_result *out);

#endif
