/*
 * log.c - see sl_log.h. The level is a relaxed atomic; lines are formatted on the stack and
 * written with a single write(2) so concurrent threads never interleave within a line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_log.h"

static int g_level = SL_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

void sl_log_set_level(enum sl_log_level level)
{
    __atomic_store_n(&g_level, (int)level, __ATOMIC_RELAXED);
}

int sl_log_level_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

__attribute__((format(printf, 3, 0))) static void vlog(const char *component,
                                                    enum sl_log_level level, const char *fmt,
                                                    va_list ap)
{
    if ((int)level > __atomic_load_n(&g_level, __ATOMIC_RELAXED)) {
        return;
    }
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[level]);
    if (component && n < (int)sizeof(line)) {
        n += snprintf(line + n, sizeof(line) - (size_t)n, "[%s] ", component);
    }
    if (n < (int)sizeof(line)) {
        n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    }
    if (n >= (int)sizeof(line) - 1) {
        n = (int)sizeof(line) - 2;
    }
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

void sl_log(enum sl_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(NULL, level, fmt, ap);
    va_end(ap);
}

void sl_clog(const char *component, enum sl_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(component, level, fmt, ap);
    va_end(ap);
}
