/*
 * sl_parse.h - strict parsing of configuration and command-line numbers.
 * Header-only; no shared state.
 */
#ifndef SL_PARSE_H
#define SL_PARSE_H

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * A decimal integer in [min, max] that is the whole string (no sign-less empties, no
 * leading space, no trailing text). Returns 0 and *out, -EINVAL (not such an integer) or
 * -ERANGE (an integer outside [min, max]).
 */
static inline int sl_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (s == NULL || *s == '\0' || isspace((unsigned char)*s)) {
        return -EINVAL;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0') {
        return -EINVAL;
    }
    if (errno == ERANGE || v < min || v > max) {
        return -ERANGE;
    }
    *out = v;
    return 0;
}

#endif
