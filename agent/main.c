/*
 * main.c - the sluice binary: sub-command dispatch only. Each sub-command owns the process
 * from here on; this file holds no state.
 */
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "tools/tools.h"

struct subcommand {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
};

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct subcommand subcommands[] = {
    {"help", cmd_help, "show this help"},
    {"version", cmd_version, "print the version"},
    {"agent", sl_agent_main, "run a pipeline: sources -> channels -> sinks (agent -f FILE)"},
    {"broker", sl_tool_broker_main, "run a Kafka-compatible broker"},
    {"dump-log", sl_tool_dump_log_main,
     "print the record batches of segment files (like Kafka's DumpLogSegments)"},
    {"topics", sl_tool_topics_main, "create, list, describe, alter and delete topics"},
    {"console-producer", sl_tool_console_producer_main, "send lines of stdin as records"},
    {"console-consumer", sl_tool_console_consumer_main, "print the records of a topic"},
    {"perf", sl_tool_perf_main, "producer and consumer load tests (perf produce|consume)"},
    {"consumer-groups", sl_tool_consumer_groups_main,
     "list, describe, delete consumer groups and reset their offsets"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sluice <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        fprintf(out, "  %-17s %s\n", subcommands[i].name, subcommands[i].summary);
    }
    fprintf(out, "\nRun 'sluice <command> --help' for a command's options.\n");
}

static int cmd_help(int argc, char **argv)
{
    usage(stdout);
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    printf("sluice %s\n", SLUICE_VERSION);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        return cmd_help(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "--version") == 0) {
        return cmd_version(argc - 1, argv + 1);
    }
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        if (strcmp(argv[1], subcommands[i].name) == 0) {
            return subcommands[i].main(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "sluice: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
