/*
 * net.h - socket helpers shared by the network sources (netcat, syslog).
 * Pure functions; any thread.
 */
#ifndef SL_AGENT_NET_H
#define SL_AGENT_NET_H

#include <sys/socket.h>

#include "../common/sl_err.h"

/*
 * Resolve the address a source binds to: host (a name or literal; "localhost" prefers
 * 127.0.0.1, as clients do) and port, for socktype (SOCK_STREAM / SOCK_DGRAM). Fills ss and
 * *sslen (sslen may be NULL). Returns 0 or SL_ECONFIG with err naming the host. May block
 * (getaddrinfo), so call it before the loop starts serving.
 */
int sl_net_resolve_bind(const char *host, int port, int socktype, struct sockaddr_storage *ss,
                        socklen_t *sslen, struct sl_err *err);

#endif
