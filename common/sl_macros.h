/*
 * sl_macros.h - small helpers: array size, min/max, big-endian loads and stores, time.
 * Header-only; no shared state.
 */
#ifndef SL_MACROS_H
#define SL_MACROS_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#define SL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SL_MIN(a, b)     ((a) < (b) ? (a) : (b))
#define SL_MAX(a, b)     ((a) > (b) ? (a) : (b))
#define SL_UNUSED(x)     ((void)(x))

static inline uint16_t sl_load_be16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t sl_load_be32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return __builtin_bswap32(v);
}

static inline uint64_t sl_load_be64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

static inline void sl_store_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void sl_store_be32(uint8_t *p, uint32_t v)
{
    v = __builtin_bswap32(v);
    memcpy(p, &v, 4);
}

static inline void sl_store_be64(uint8_t *p, uint64_t v)
{
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
}

/* Wall-clock milliseconds since the epoch (record timestamps, retention). */
static inline int64_t sl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Monotonic milliseconds (timers, flush intervals). */
static inline int64_t sl_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A rate limit for log lines: 1, and *last_ms set to now, when *last_ms is 0 (never) or
 * every_ms monotonic milliseconds have passed since it; else 0. *last_ms belongs to the
 * caller's thread.
 */
static inline int sl_every_ms(int64_t *last_ms, int64_t every_ms)
{
    int64_t now = sl_mono_ms();
    if (*last_ms && now - *last_ms < every_ms) {
        return 0;
    }
    *last_ms = now;
    return 1;
}

/* *ts = ms from now on CLOCK_MONOTONIC, for pthread_cond_timedwait on a condition variable
 * created with pthread_condattr_setclock(CLOCK_MONOTONIC). */
static inline void sl_mono_deadline(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

#endif
