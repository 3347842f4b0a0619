/*
 * test_crc32c.c - CRC-32C against published check values, hardware vs table, and chaining.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/crc32c.h"

static void test_check_values(void **state)
{
    (void)state;
    /* The standard check value for CRC-32C, and RFC 3720 (iSCSI) B.4 vectors. */
    assert_int_equal(sl_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(sl_crc32c_sw(0, "123456789", 9), 0xE3069283u);
    uint8_t zeros[32] = {0};
    uint8_t ones[32];
    uint8_t inc[32];
    memset(ones, 0xff, sizeof(ones));
    for (int i = 0; i < 32; i++) {
        inc[i] = (uint8_t)i;
    }
    assert_int_equal(sl_crc32c(0, zeros, 32), 0x8A9136AAu);
    assert_int_equal(sl_crc32c(0, ones, 32), 0x62A8AB43u);
    assert_int_equal(sl_crc32c(0, inc, 32), 0x46DD794Eu);
    assert_int_equal(sl_crc32c_sw(0, inc, 32), 0x46DD794Eu);
    assert_int_equal(sl_crc32c(0, "", 0), 0u);
}

static void test_hw_matches_table(void **state)
{
    (void)state;
    size_t n = 1 << 16;
    uint8_t *buf = malloc(n + 16);
    uint32_t x = 12345;
    for (size_t i = 0; i < n + 16; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    /* Every small length at every alignment, then a few large ones. */
    for (size_t off = 0; off < 16; off++) {
        for (size_t len = 0; len < 100; len++) {
            assert_int_equal(sl_crc32c(0, buf + off, len), sl_crc32c_sw(0, buf + off, len));
        }
    }
    /* Around the three-stream block sizes (3 x 256, 3 x 4096) of the hardware path. */
    size_t lens[] = {767, 768, 769, 1536, 12287, 12288, 12289, 16363, 24576 + 771, 40000};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (size_t off = 0; off < 8; off++) {
            assert_int_equal(sl_crc32c(0, buf + off, lens[i]),
                             sl_crc32c_sw(0, buf + off, lens[i]));
        }
    }
    assert_int_equal(sl_crc32c(7, buf + 3, n), sl_crc32c_sw(7, buf + 3, n));
    free(buf);
}

static void test_chaining(void **state)
{
    (void)state;
    const char *s = "The quick brown fox jumps over the lazy dog";
    size_t n = strlen(s);
    uint32_t whole = sl_crc32c(0, s, n);
    for (size_t cut = 0; cut <= n; cut++) {
        assert_int_equal(sl_crc32c(sl_crc32c(0, s, cut), s + cut, n - cut), whole);
        assert_int_equal(sl_crc32c_sw(sl_crc32c_sw(0, s, cut), s + cut, n - cut), whole);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_values),
        cmocka_unit_test(test_hw_matches_table),
        cmocka_unit_test(test_chaining),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
