/*
 * server.h - the broker's TCP server: accepts connections on one listener, cuts the byte
 * stream into Kafka request frames, dispatches each through the sl_api table, and writes the
 * responses back in request order (memory with writev, file ranges with sendfile).
 *
 * What a handler may rely on: the request frame (req->body, req->client_id) is writable
 * memory that no other request shares, and stays in place until the request is freed (after
 * SL_API_DONE / SL_API_NO_RESPONSE returns, or at sl_request_complete / cancel when parked):
 * the connection reads nothing more while a request is in flight, so Produce may rewrite base
 * offsets in the frame and append it without a copy. The server handles one request per
 * connection at a time; a parked request holds back the connection's later requests, which
 * keeps responses in request order.
 *
 * Threads: a struct sl_server, its connections and their requests belong to the broker loop
 * thread. Nothing here may be called from another thread.
 */
#ifndef SL_SERVER_H
#define SL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../common/sl_err.h"
#include "api.h"

struct sl_server;

/*
 * Bind host:port (host "" or "0.0.0.0" = every IPv4 interface, "::" = every interface;
 * port 0 = a free port), listen, and start accepting on loop. Requests are dispatched with
 * req->broker = b. max_request_bytes bounds one request frame (socket.request.max.bytes).
 * Also sets SIGPIPE to ignored: sendfile(2) has no MSG_NOSIGNAL, and a client that goes
 * away must never kill the broker.
 * Returns 0 and *out, or -errno (e.g. -EADDRINUSE) with err saying what failed; on error
 * nothing is left open. Blocks only on name resolution of host.
 */
int sl_server_create(struct sl_broker *b, uv_loop_t *loop, const char *host, int port,
                     int64_t max_request_bytes, struct sl_server **out, struct sl_err *err);

/* The port actually bound. */
int sl_server_port(const struct sl_server *s);

/* Connections currently open (for tests and logs). */
size_t sl_server_connections(const struct sl_server *s);

/*
 * Stop accepting and close every connection, asynchronously: parked requests are cancelled
 * through their API's cancel hook, queued responses are dropped (their file parts released).
 * uv_run then returns once the handles are closed. Idempotent.
 */
void sl_server_stop(struct sl_server *s);

/*
 * Free the server. Stops it first if needed; the memory goes when the last handle's close
 * callback has run, so the loop must run (or have run) after this. NULL is a no-op.
 */
void sl_server_destroy(struct sl_server *s);

/*
 * Parse a request frame (without its 4-byte length): request header v1, plus the tagged
 * section (header v2) when the version is flexible for that API. Fills req's api_key,
 * api_version, correlation_id, client_id, flexible and body (pointing into frame, which must
 * outlive req's use of them); *api gets the table entry. Returns 0, SL_ETRUNCATED (header
 * cut short), SL_ENOENT (unknown API key) or SL_EUNSUPPORTED (version outside the table's
 * range; never for ApiVersions, whose handler answers any version). Pure: no I/O.
 */
int sl_server_parse_request(const uint8_t *frame, size_t len, struct sl_request *req,
                            const struct sl_api **api);

#endif
