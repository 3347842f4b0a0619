/*
 * handlers.h - one handler per Kafka API (broker/handlers/<api>.c), listed in api_table.c.
 * Each decodes its request with broker/proto, acts on the broker, and writes the response
 * body. Kafka error codes are produced here and nowhere else.
 * Threads: the broker loop thread.
 */
#ifndef SL_HANDLERS_H
#define SL_HANDLERS_H

#include "../api.h"

int sl_handle_api_versions(struct sl_request *req);

#endif
