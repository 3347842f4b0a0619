/*
 * agent.h - a pipeline built from a configuration tree (sources → channels → sinks, and an
 * optional embedded broker), its validation and printing (`--check`), and running it until
 * SIGTERM/SIGINT: start channels, broker, sinks, sources; stop in reverse, draining.
 *
 * Threads: the agent struct is built and run on the main thread, which is also the source
 * loop thread; each sink runs its own thread; the embedded broker runs its own loop thread.
 */
#ifndef SL_AGENT_AGENT_H
#define SL_AGENT_AGENT_H

#include <stdio.h>
#include <uv.h>

#include "agent/plugin.h"
#include "broker/broker.h"
#include "conf/yaml.h"

struct sl_ebroker;
struct MHD_Daemon;

struct sl_agent {
    /* config (agent: section) */
    char *name;
    int64_t drain_timeout_ms;
    char *file;

    struct sl_channel *channels;
    size_t nchannels;
    struct sl_source *sources;
    size_t nsources;
    struct sl_sink *sinks;
    size_t nsinks;
    struct sl_sinkgroup *groups; /* sinkgroups: section (agent/sinkgroup.h) */
    size_t ngroups;

    int has_metrics; /* metrics: section */
    int64_t metrics_port;
    char *metrics_bind;
    struct MHD_Daemon *metrics;

    int has_broker;
    struct sl_broker_config broker_cfg;
    char broker_bootstrap[300]; /* "127.0.0.1:port" once known */

    /* runtime */
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    uv_async_t room;         /* a full channel has room again: wake the paused sources */
    pthread_mutex_t room_mu; /* guards room_open against room_cb racing the handle's close */
    int room_open;
    size_t sources_running;
    struct sl_ebroker *ebroker;
    /* The embedded broker while it runs, for the metrics thread's sl_broker_metrics_read
     * only: set before sl_metrics_start, cleared after sl_metrics_stop (runtime.c). */
    const struct sl_broker *broker;
};

/*
 * Build and validate a pipeline from doc (strict: unknown keys and sections, wrong types,
 * dangling or missing channel references are errors with file:line:col). Nothing is started
 * and no I/O happens. Returns 0 with *out owned by the caller, or SL_ECONFIG/-ENOMEM.
 */
int sl_agent_build(const struct sl_yaml_doc *doc, struct sl_agent **out, struct sl_err *err);

/* Print the resolved pipeline, every key with its value (defaults included). */
void sl_agent_print(const struct sl_agent *a, FILE *out);

/* Run until SIGTERM or SIGINT. Returns 0 after a clean stop, else 1 (already logged). */
int sl_agent_run(struct sl_agent *a);

/* NULL is a no-op. */
void sl_agent_destroy(struct sl_agent *a);

/* The HTTP metrics endpoint (metrics.c), on its own thread. 0 or an error (logged). */
int sl_metrics_start(struct sl_agent *a);
void sl_metrics_stop(struct sl_agent *a);

/* `sluice agent`: the sub-command. */
int sl_agent_main(int argc, char **argv);

#endif
