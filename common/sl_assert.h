/*
 * sl_assert.h - assertions that stay on in release builds, for programmer errors only.
 * Header-only; no shared state.
 */
#ifndef SL_ASSERT_H
#define SL_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define SL_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
