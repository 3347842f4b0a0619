/*
 * sl_log.h - process logging for everything above store/ (store/ and broker/proto/ return
 * errors instead of logging). Lines go to stderr with a UTC timestamp and level; sl_clog
 * prefixes a component such as "[source:netcat:r1]". Thread-safe: each line is one write(2).
 */
#ifndef SL_COMMON_LOG_H
#define SL_COMMON_LOG_H

enum sl_log_level {
    SL_LOG_ERROR = 0,
    SL_LOG_WARN = 1,
    SL_LOG_INFO = 2,
    SL_LOG_DEBUG = 3,
    SL_LOG_TRACE = 4,
};

/* Lines above this level are dropped. Default SL_LOG_INFO. */
void sl_log_set_level(enum sl_log_level level);

/* Parse "error|warn|info|debug|trace"; returns -1 if unknown. */
int sl_log_level_from_name(const char *name);

__attribute__((format(printf, 2, 3))) void sl_log(enum sl_log_level level, const char *fmt,
                                                  ...);

__attribute__((format(printf, 3, 4))) void sl_clog(const char *component,
                                                   enum sl_log_level level, const char *fmt,
                                                   ...);

#endif
