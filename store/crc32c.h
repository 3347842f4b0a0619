/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of Kafka record batch v2.
 * Uses the SSE4.2 crc32 instruction when the CPU has it, a slicing table otherwise.
 * Thread-safe: the only shared state is a table built once, before main (constructor-free:
 * built on first use under pthread_once).
 */
#ifndef SL_CRC32C_H
#define SL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Extend crc (0 to start) over len bytes of buf and return the new CRC-32C.
 * sl_crc32c(sl_crc32c(0, a, n), b, m) == sl_crc32c(0, a||b, n+m). Never blocks.
 */
uint32_t sl_crc32c(uint32_t crc, const void *buf, size_t len);

/* The portable table implementation, exposed so tests can compare it with the hardware one. */
uint32_t sl_crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* 1 when sl_crc32c uses the SSE4.2 instruction on this CPU. */
int sl_crc32c_hw_available(void);

#endif
