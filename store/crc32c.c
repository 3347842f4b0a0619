/*
 * crc32c.c - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
 *
 * Two implementations: the SSE4.2 crc32 instruction (8 bytes per step) on x86-64 CPUs that
 * have it, and slicing-by-8 tables elsewhere. The choice is made once, on first use, under
 * pthread_once; the tables are built at the same time and are read-only afterwards, so any
 * thread may call these functions.
 */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc_table[8][256];
static int crc_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__)
#define CRC_LONG  4096
#define CRC_SHORT 256
static uint32_t crc_shift_long[4][256];
static uint32_t crc_shift_short[4][256];
static void crc_shift_init(uint32_t t[4][256], size_t nbytes);
#endif

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        }
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = crc_table[0][i];
        for (int t = 1; t < 8; t++) {
            c = crc_table[0][c & 0xff] ^ (c >> 8);
            crc_table[t][i] = c;
        }
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    crc_hw = __builtin_cpu_supports("sse4.2");
    if (crc_hw) {
        crc_shift_init(crc_shift_long, CRC_LONG);
        crc_shift_init(crc_shift_short, CRC_SHORT);
    }
#endif
}

static uint32_t crc_sw_raw(uint32_t c, const uint8_t *p, size_t len)
{
    while (len && ((uintptr_t)p & 7)) {
        c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
        len--;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= c; /* little-endian hosts only reach the word loop; see below */
        c = crc_table[7][w & 0xff] ^ crc_table[6][(w >> 8) & 0xff] ^
            crc_table[5][(w >> 16) & 0xff] ^ crc_table[4][(w >> 24) & 0xff] ^
            crc_table[3][(w >> 32) & 0xff] ^ crc_table[2][(w >> 40) & 0xff] ^
            crc_table[1][(w >> 48) & 0xff] ^ crc_table[0][w >> 56];
        p += 8;
        len -= 8;
    }
    while (len--) {
        c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    }
    return c;
}

#if defined(__x86_64__)
/*
 * The crc32 instruction has a latency of 3 cycles but a throughput of 1 per cycle, so one
 * dependent chain runs at a third of the possible speed. Blocks of 3 x CRC_LONG (then
 * 3 x CRC_SHORT) bytes are therefore checksummed as three independent streams and joined:
 * crc(A||B) = crc(A) * x^(8|B|) mod P  xor  crc(B), where the multiplication by a fixed
 * power of x is done with the tables crc_shift_long / crc_shift_short built at init.
 */
/* a * b modulo the (reflected) polynomial. */
static uint32_t crc_mulmod(uint32_t a, uint32_t b)
{
    uint32_t m = 1u << 31, prod = 0;
    for (;;) {
        if (a & m) {
            prod ^= b;
            if ((a & (m - 1)) == 0) {
                break;
            }
        }
        m >>= 1;
        b = b & 1 ? (b >> 1) ^ CRC32C_POLY : b >> 1;
    }
    return prod;
}

/* x^(8 * nbytes) modulo the polynomial. */
static uint32_t crc_x8n(size_t nbytes)
{
    uint32_t result = 1u << 31; /* x^0 */
    uint32_t sq = 1u << 30;     /* x^1, squared on the way: x^(2^k) */
    size_t n = nbytes * 8;
    while (n) {
        if (n & 1) {
            result = crc_mulmod(sq, result);
        }
        sq = crc_mulmod(sq, sq);
        n >>= 1;
    }
    return result;
}

static void crc_shift_init(uint32_t t[4][256], size_t nbytes)
{
    uint32_t op = crc_x8n(nbytes);
    for (int i = 0; i < 4; i++) {
        for (uint32_t b = 0; b < 256; b++) {
            t[i][b] = crc_mulmod(op, b << (8 * i));
        }
    }
}

static inline uint32_t crc_shift(const uint32_t t[4][256], uint32_t c)
{
    return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

__attribute__((target("sse4.2"))) static const uint8_t *
crc_hw_3way(uint64_t *crc, const uint8_t *p, size_t *len, size_t block,
            const uint32_t shift[4][256])
{
    uint64_t c0 = *crc;
    while (*len >= 3 * block) {
        uint64_t c1 = 0, c2 = 0;
        const uint8_t *end = p + block;
        do {
            uint64_t a, b, d;
            memcpy(&a, p, 8);
            memcpy(&b, p + block, 8);
            memcpy(&d, p + 2 * block, 8);
            c0 = __builtin_ia32_crc32di(c0, a);
            c1 = __builtin_ia32_crc32di(c1, b);
            c2 = __builtin_ia32_crc32di(c2, d);
            p += 8;
        } while (p < end);
        c0 = crc_shift(shift, (uint32_t)c0) ^ (uint32_t)c1;
        c0 = crc_shift(shift, (uint32_t)c0) ^ (uint32_t)c2;
        p += 2 * block;
        *len -= 3 * block;
    }
    *crc = c0;
    return p;
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw_raw(uint32_t c, const uint8_t *p,
                                                             size_t len)
{
    uint64_t c64 = c;
    while (len && ((uintptr_t)p & 7)) {
        c64 = __builtin_ia32_crc32qi((uint32_t)c64, *p++);
        len--;
    }
    p = crc_hw_3way(&c64, p, &len, CRC_LONG, crc_shift_long);
    p = crc_hw_3way(&c64, p, &len, CRC_SHORT, crc_shift_short);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c64 = __builtin_ia32_crc32di(c64, w);
        p += 8;
        len -= 8;
    }
    while (len--) {
        c64 = __builtin_ia32_crc32qi((uint32_t)c64, *p++);
    }
    return (uint32_t)c64;
}
#endif

uint32_t sl_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc_once, crc_init);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    /* The word loop assumes little-endian loads; big-endian hosts go byte by byte. */
    const uint8_t *p = buf;
    uint32_t c = ~crc;
    while (len--) {
        c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    }
    return ~c;
#else
    return ~crc_sw_raw(~crc, buf, len);
#endif
}

uint32_t sl_crc32c(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc_once, crc_init);
#if defined(__x86_64__)
    if (crc_hw) {
        return ~crc_hw_raw(~crc, buf, len);
    }
#endif
    return sl_crc32c_sw(crc, buf, len);
}

int sl_crc32c_hw_available(void)
{
    pthread_once(&crc_once, crc_init);
    return crc_hw;
}
