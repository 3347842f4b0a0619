/*
 * net.c - socket helpers shared by the network sources (see net.h). No shared state.
 */
#include "net.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

int sl_net_resolve_bind(const char *host, int port, int socktype, struct sockaddr_storage *ss,
                        socklen_t *sslen, struct sl_err *err)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        return sl_err_set(err, SL_ECONFIG, "bind %s: %s", host, gai_strerror(rc));
    }
    const struct addrinfo *pick = res;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) { /* "localhost": prefer 127.0.0.1, as clients do */
            pick = ai;
            break;
        }
    }
    memset(ss, 0, sizeof(*ss));
    memcpy(ss, pick->ai_addr, pick->ai_addrlen);
    if (sslen) {
        *sslen = pick->ai_addrlen;
    }
    if (ss->ss_family == AF_INET) {
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    } else {
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    }
    freeaddrinfo(res);
    return 0;
}
