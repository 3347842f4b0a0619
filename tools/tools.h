/*
 * tools.h - entry points of the `sluice <tool>` sub-commands. Each returns the process exit
 * status: 0 success, 1 failure, 2 usage error. They run on the main thread.
 */
#ifndef SL_TOOLS_H
#define SL_TOOLS_H

int sl_tool_dump_log_main(int argc, char **argv);
int sl_tool_broker_main(int argc, char **argv);
int sl_tool_topics_main(int argc, char **argv);
int sl_tool_console_producer_main(int argc, char **argv);
int sl_tool_console_consumer_main(int argc, char **argv);
int sl_tool_perf_main(int argc, char **argv);
int sl_tool_consumer_groups_main(int argc, char **argv);

#endif
