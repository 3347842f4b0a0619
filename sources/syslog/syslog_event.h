/*
 * syslog_event.h - a parsed syslog message (syslog_parse.h) into an event's body and headers:
 * Flume's names where Flume has them (Facility, Severity, timestamp, host), then app, procid,
 * msgid, sd.<SD-ID>.<PARAM-NAME> (unescaped), syslog.status (Invalid | Incomplete), then the
 * caller's extra headers (the client's address). Kept apart from the sockets so that the
 * headers an input line produces can be tested without them.
 *
 * Threads: none of its own; an event belongs to whoever passed it in.
 */
#ifndef SL_SOURCES_SYSLOG_EVENT_H
#define SL_SOURCES_SYSLOG_EVENT_H

#include <stddef.h>

#include "agent/event.h"
#include "sources/syslog/syslog_parse.h"

/* A header the caller adds to every event of a message (e.g. the sender's address). */
struct sl_syslog_extra {
    const char *key;
    const char *value;
};

/*
 * The body of a message parsed from line[0..len): its MSG, or the whole line when keep_all or
 * when the message is Invalid (Flume's convention: nothing is lost).
 */
struct sl_syslog_str sl_syslog_body(const struct sl_syslog_msg *m, const char *line, size_t len,
                                    int keep_all);

/*
 * Append m's headers to ev, then extra[0..nextra) (an extra whose key is already there
 * replaces that value; so does a repeated SD param, the last one wins). truncated: the message
 * was cut to max-message-size (syslog.status: Incomplete, unless it is Invalid). All the
 * headers go in one block (sl_event_slab_set_headers: carved from ev's slab when it has room,
 * so call this on the thread that made ev). Returns 0 or -ENOMEM (ev is then as it was).
 */
int sl_syslog_set_headers(struct sl_event *ev, const struct sl_syslog_msg *m, int truncated,
                          const struct sl_syslog_extra *extra, size_t nextra);

#endif
