/*
 * test_server.c - the server's request header parser (sl_server_parse_request): header v1
 * and v2, null client ids, truncation, unknown keys, versions out of range, and the
 * ApiVersions exception. The socket side is covered by tests/integration/test_broker_net.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "broker/server.h"

/* Build a header: key, version, correlation id, client id (NULL = null), tags (-1 = none). */
static size_t header(uint8_t *buf, int16_t key, int16_t version, int32_t corr,
                     const char *client_id, int tags)
{
    size_t n = 0;
    buf[n++] = (uint8_t)((uint16_t)key >> 8);
    buf[n++] = (uint8_t)key;
    buf[n++] = (uint8_t)((uint16_t)version >> 8);
    buf[n++] = (uint8_t)version;
    for (int i = 3; i >= 0; i--) {
        buf[n++] = (uint8_t)((uint32_t)corr >> (8 * i));
    }
    int16_t len = client_id ? (int16_t)strlen(client_id) : -1;
    buf[n++] = (uint8_t)((uint16_t)len >> 8);
    buf[n++] = (uint8_t)len;
    if (client_id) {
        memcpy(buf + n, client_id, (size_t)len);
        n += (size_t)len;
    }
    if (tags >= 0) {
        buf[n++] = (uint8_t)tags;
    }
    return n;
}

static void test_header_v1(void **state)
{
    uint8_t buf[64];
    size_t n = header(buf, 18, 2, 12345, "client-1", -1);
    buf[n++] = 0xAB; /* body */
    struct sl_request req;
    memset(&req, 0, sizeof(req));
    const struct sl_api *api;
    assert_int_equal(sl_server_parse_request(buf, n, &req, &api), 0);
    assert_non_null(api);
    assert_int_equal(api->key, 18);
    assert_int_equal(req.api_key, 18);
    assert_int_equal(req.api_version, 2);
    assert_int_equal(req.correlation_id, 12345);
    assert_int_equal(req.client_id.len, 8);
    assert_memory_equal(req.client_id.p, "client-1", 8);
    assert_int_equal(req.flexible, 0);
    assert_int_equal(sl_kp_remaining(&req.body), 1);
    assert_int_equal(req.body.p[0], 0xAB);
}

static void test_header_v2_and_null_client(void **state)
{
    uint8_t buf[64];
    size_t n = header(buf, 18, 3, -7, NULL, 0);
    buf[n++] = 0x01;
    struct sl_request req;
    memset(&req, 0, sizeof(req));
    const struct sl_api *api;
    assert_int_equal(sl_server_parse_request(buf, n, &req, &api), 0);
    assert_int_equal(req.correlation_id, -7);
    assert_int_equal(req.client_id.len, -1);
    assert_int_equal(req.flexible, 1);
    assert_int_equal(sl_kp_remaining(&req.body), 1); /* the tagged section was consumed */

    /* A tagged field in the header is skipped, not misread as body. */
    n = header(buf, 18, 3, 1, "c", 1);
    buf[n++] = 5; /* tag */
    buf[n++] = 2; /* size */
    buf[n++] = 'x';
    buf[n++] = 'y';
    buf[n++] = 0x42;
    assert_int_equal(sl_server_parse_request(buf, n, &req, &api), 0);
    assert_int_equal(sl_kp_remaining(&req.body), 1);
    assert_int_equal(req.body.p[0], 0x42);
}

static void test_truncated(void **state)
{
    uint8_t buf[64];
    size_t n = header(buf, 18, 1, 1, "abcdef", -1);
    struct sl_request req;
    const struct sl_api *api;
    for (size_t cut = 0; cut < n; cut++) {
        memset(&req, 0, sizeof(req));
        assert_int_equal(sl_server_parse_request(buf, cut, &req, &api), SL_ETRUNCATED);
    }
    /* v3 needs its tagged section. */
    n = header(buf, 18, 3, 1, "c", -1);
    memset(&req, 0, sizeof(req));
    assert_int_equal(sl_server_parse_request(buf, n, &req, &api), SL_ETRUNCATED);
}

static void test_unknown_and_out_of_range(void **state)
{
    uint8_t buf[64];
    struct sl_request req;
    const struct sl_api *api;
    size_t n = header(buf, 9999, 0, 1, "c", -1);
    memset(&req, 0, sizeof(req));
    assert_int_equal(sl_server_parse_request(buf, n, &req, &api), SL_ENOENT);
    assert_null(api);
    n = header(buf, -1, 0, 1, "c", -1);
    assert_int_equal(sl_server_parse_request(buf, n, &req, &api), SL_ENOENT);

    /* Every other API in the table: one above its range is rejected, its range accepted. */
    for (int i = 0; i < sl_api_table_len; i++) {
        const struct sl_api *a = &sl_api_table[i];
        if (a->key == 18) {
            continue;
        }
        n = header(buf, a->key, (int16_t)(a->max_version + 1), 1, "c", -1);
        assert_int_equal(sl_server_parse_request(buf, n, &req, &api), SL_EUNSUPPORTED);
        n = header(buf, a->key, a->max_version, 1, "c",
                   a->max_version >= a->flexible_from ? 0 : -1);
        assert_int_equal(sl_server_parse_request(buf, n, &req, &api), 0);
        assert_ptr_equal(api, a);
    }

    /* ApiVersions of any version goes to its handler, even with a header we cannot read. */
    n = header(buf, 18, 99, 1, "c", -1);
    assert_int_equal(sl_server_parse_request(buf, n, &req, &api), 0);
    assert_int_equal(req.api_version, 99);
    n = header(buf, 18, -5, 1, "c", -1);
    assert_int_equal(sl_server_parse_request(buf, n, &req, &api), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_v1),
        cmocka_unit_test(test_header_v2_and_null_client),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_unknown_and_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
