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

/* Data path (produce.c, fetch.c, list_offsets.c, producer.c, offset_for_leader_epoch.c). */
int sl_handle_produce(struct sl_request *req);
int sl_handle_fetch(struct sl_request *req);
void sl_fetch_cancel(struct sl_request *req);
int sl_handle_list_offsets(struct sl_request *req);
int sl_handle_init_producer_id(struct sl_request *req);
int sl_handle_offset_for_leader_epoch(struct sl_request *req);

/* Admin (metadata.c, create_topics.c, delete_topics.c, create_partitions.c,
 * describe_configs.c, alter_configs.c, incremental_alter_configs.c). */
int sl_handle_metadata(struct sl_request *req);
int sl_handle_create_topics(struct sl_request *req);
int sl_handle_delete_topics(struct sl_request *req);
int sl_handle_create_partitions(struct sl_request *req);
int sl_handle_describe_configs(struct sl_request *req);
int sl_handle_alter_configs(struct sl_request *req);
int sl_handle_incremental_alter_configs(struct sl_request *req);

/* Groups (find_coordinator.c, join_group.c, offset_commit.c, group_admin.c). */
int sl_handle_find_coordinator(struct sl_request *req);
int sl_handle_join_group(struct sl_request *req);
int sl_handle_sync_group(struct sl_request *req);
int sl_handle_heartbeat(struct sl_request *req);
int sl_handle_leave_group(struct sl_request *req);
void sl_group_request_cancel(struct sl_request *req);
int sl_handle_offset_commit(struct sl_request *req);
int sl_handle_offset_fetch(struct sl_request *req);
int sl_handle_list_groups(struct sl_request *req);
int sl_handle_describe_groups(struct sl_request *req);
int sl_handle_delete_groups(struct sl_request *req);

#endif
