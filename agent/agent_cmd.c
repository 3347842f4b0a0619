/*
 * agent_cmd.c - `sluice agent`: load a YAML pipeline (-f) or a Flume .properties file
 * (--conf-file with --name), validate it, and either print it (--check) or run it until
 * SIGTERM/SIGINT. Main thread; all state lives in one call of sl_agent_main.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/registry.h"
#include "common/sl_log.h"
#include "conf/flume_props.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sluice agent -f PIPELINE.yaml [--check]\n"
            "       sluice agent --conf-file FLUME.conf --name AGENT [--check]\n"
            "\n"
            "Run a pipeline (sources -> channels -> sinks, optionally with an embedded broker)\n"
            "until SIGTERM or SIGINT.\n"
            "\n"
            "options:\n"
            "  -f, --file FILE         the pipeline in YAML (sections agent, broker, sources,\n"
            "                          channels, sinks)\n"
            "      --conf-file FILE    a Flume agent .properties file instead (with --name)\n"
            "  -n, --name NAME         the Flume agent whose keys to read (e.g. a1)\n"
            "      --check             validate and print the resolved pipeline, do not start\n"
            "      --log-level LEVEL   error, warn, info (default), debug, trace\n"
            "      --plugins           list every plugin and its keys\n"
            "  -h, --help              show this help\n");
}

/*
 * glibc's heap, set for a pipeline that allocates a slab per socket read on the source thread
 * and frees it on a sink thread moments later. With the defaults the heap's top is handed
 * back to the kernel (brk) as soon as 128 KiB of it are free, and the next read's slab
 * page-faults its memory in again: a sixth of the agent's CPU time in a syslog benchmark. Keep
 * up to 32 MiB free at the top (4 MiB extra per growth). RSS after a burst stays up to that
 * much higher; idle RSS does not change. (A fixed M_MMAP_THRESHOLD as well measured slower
 * for the librdkafka path: it turns off glibc's adaptive threshold.)
 */
static void tune_malloc(void)
{
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    mallopt(M_TOP_PAD, 4 << 20);
}

int sl_agent_main(int argc, char **argv)
{
    enum { O_CONF_FILE = 256, O_CHECK, O_LOG_LEVEL, O_PLUGINS };
    static const struct option longopts[] = {
        {"file", required_argument, NULL, 'f'},
        {"conf-file", required_argument, NULL, O_CONF_FILE},
        {"name", required_argument, NULL, 'n'},
        {"check", no_argument, NULL, O_CHECK},
        {"log-level", required_argument, NULL, O_LOG_LEVEL},
        {"plugins", no_argument, NULL, O_PLUGINS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *file = NULL, *flume = NULL, *name = NULL;
    int check = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "f:n:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            file = optarg;
            break;
        case O_CONF_FILE:
            flume = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case O_CHECK:
            check = 1;
            break;
        case O_LOG_LEVEL: {
            int lvl = sl_log_level_from_name(optarg);
            if (lvl < 0) {
                fprintf(stderr, "sluice agent: unknown log level '%s'\n", optarg);
                return 2;
            }
            sl_log_set_level((enum sl_log_level)lvl);
            break;
        }
        case O_PLUGINS:
            sl_registry_print_help(stdout);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sluice agent: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if ((file != NULL) == (flume != NULL)) {
        fprintf(stderr, "sluice agent: give exactly one of -f PIPELINE.yaml or --conf-file "
                        "FLUME.conf\n");
        usage(stderr);
        return 2;
    }
    if (flume && !name) {
        fprintf(stderr, "sluice agent: --conf-file needs --name (the Flume agent name, e.g. a1)\n");
        return 2;
    }

    struct sl_yaml_doc doc;
    struct sl_err err;
    sl_err_clear(&err);
    int rc =
        file ? sl_yaml_load_file(file, &doc, &err) : sl_flume_props_load(flume, name, &doc, &err);
    struct sl_agent *a = NULL;
    if (rc == 0) {
        rc = sl_agent_build(&doc, &a, &err);
    }
    sl_yaml_free(&doc);
    if (rc != 0) {
        fprintf(stderr, "sluice agent: %s\n", err.msg);
        return 1;
    }
    if (check) {
        sl_agent_print(a, stdout);
        sl_agent_destroy(a);
        return 0;
    }
    tune_malloc();
    rc = sl_agent_run(a);
    sl_agent_destroy(a);
    return rc;
}
