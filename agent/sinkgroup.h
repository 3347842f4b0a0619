/*
 * sinkgroup.h - sink groups and their processors (Flume's sinkgroups): several sinks that
 * drain one channel through one thread, which hands each batch to the sink the processor
 * picks. `failover` sends everything to the highest-priority healthy sink and sets a failed
 * sink aside for a penalty that doubles per consecutive failure (1 s, 2 s, ... up to
 * maxpenalty); `load_balance` rotates batches over the sinks (round_robin or random) and,
 * with backoff, sets a failing sink aside the same way (up to selector.maxTimeOut);
 * `default` is one sink on its own thread, as if there were no group.
 *
 * Threads: a group is built on the main thread; once started, its processor state and its
 * member sinks belong to the group's thread. stopping/abort_at_ms are atomics written by the
 * main thread; active and the members' counters are relaxed atomics the metrics thread reads.
 */
#ifndef SL_AGENT_SINKGROUP_H
#define SL_AGENT_SINKGROUP_H

#include <stdio.h>

#include "agent/plugin.h"
#include "conf/yaml.h"

struct sl_agent;

enum sl_sgp_kind { SL_SGP_DEFAULT, SL_SGP_FAILOVER, SL_SGP_LOAD_BALANCE };

/* Penalty / backoff of the n-th consecutive failure: 1 s doubling, capped at cap_ms. */
#define SL_SGP_PENALTY_BASE_MS 1000

struct sl_sg_member {
    struct sl_sink *sink;
    int64_t priority; /* failover: the higher, the sooner chosen */
    /* Processor state: written by the group's thread (relaxed atomics for the metrics). */
    uint64_t fails;          /* consecutive failed batches; 0 = healthy */
    uint64_t failures_total; /* failed batches in all */
    uint64_t batches;        /* batches delivered through the group */
    int64_t until_ms;        /* monotonic: not chosen before this (penalty, backoff); 0 = now */
    int tried;               /* load_balance: failed in the current round */
};

struct sl_sinkgroup {
    char name[SL_COMP_NAME_MAX];
    char comp[SL_COMP_NAME_MAX * 2]; /* "sinkgroup:failover:g1", the log prefix */
    /* Configuration (the group's map; Flume's keys: sinks, processor.*). */
    struct sl_conf_list sink_names;
    char *type_name;
    struct sl_conf_kv priority; /* processor.priority.<sink> */
    int64_t maxpenalty_ms;
    char *selector;
    int backoff;
    int64_t max_timeout_ms; /* processor.selector.maxTimeOut */
    /* Resolved. */
    enum sl_sgp_kind kind;
    int random;     /* load_balance: the random selector */
    int64_t cap_ms; /* failover: maxpenalty; load_balance: maxTimeOut */
    struct sl_sg_member *members;
    size_t nmembers;
    struct sl_channel *channel; /* every member drains it */
    /* Processor state (group thread). */
    size_t rr_next;
    uint64_t rng;
    int active;                /* atomic: member that delivered the last batch; -1 = none */
    int64_t (*clock_ms)(void); /* sl_mono_ms; a test may set its own */
    /* Runtime. */
    struct sl_agent *agent;
    pthread_t thread;
    int started;
    int stopping;        /* atomic: drain, then exit */
    int64_t abort_at_ms; /* atomic: the drain deadline */
    pthread_mutex_t mu;  /* for the sleeps */
    pthread_cond_t cond;
    int sync_inited;
    uint64_t all_failed;  /* atomic: times no member could deliver a batch */
    int64_t last_warn_ms; /* group thread: rate limit of the all-failed warning */
};

/*
 * Build the `sinkgroups:` section (sec may be NULL) into a->groups, after the sinks: binds
 * each group's keys, resolves its sinks and checks that they exist, drain one channel, belong
 * to no other group, and that the processor's keys fit its type. Members of a failover or
 * load_balance group get sink->group set; a default group leaves its one sink alone. Returns
 * 0, SL_ECONFIG with file:line:col in err, or -ENOMEM. Main thread.
 */
int sl_sinkgroups_build(struct sl_agent *a, const struct sl_yaml_doc *doc,
                        const struct sl_yaml_node *sec, struct sl_err *err);

/* Print the groups (for --check). */
void sl_sinkgroups_print(const struct sl_agent *a, FILE *out);

/* Free a->groups (the sinks stay). */
void sl_sinkgroups_destroy(struct sl_agent *a);

/*
 * The processor, for the group's thread (pure: time comes in as now_ms).
 * pick: the member to hand the next batch to, or -1 when none is available now, with
 * *wait_ms until one may be (a penalty or backoff ends).
 * report: the outcome of a batch delivered through member i. Returns 1 when no member is
 * left to try for this batch (the group as a whole failed: back off), else 0.
 */
int sl_sinkgroup_pick(struct sl_sinkgroup *g, int64_t now_ms, int64_t *wait_ms);
int sl_sinkgroup_report(struct sl_sinkgroup *g, size_t i, int ok, int64_t now_ms);

/*
 * One turn of the group's loop: pick a member, take up to its batchSize from the channel
 * (waiting up to take_wait_ms for the first event), deliver through it, commit only on its
 * acknowledgement, else roll back and report the failure. One batch in flight at a time:
 * pipelined sinks get one batch submitted and polled until every report is in. Returns 1 when
 * a batch was delivered, 0 when the channel was empty, -1 when the batch failed (rolled back;
 * another member may take it at once), -2 when no member was available (*wait_ms says for
 * how long), -3 when the batch failed and no member is left to try (back off). Group thread.
 */
int sl_sinkgroup_step(struct sl_sinkgroup *g, int64_t take_wait_ms, int64_t *wait_ms);

/* The group's thread (pthread start routine, arg = the group): steps until stopped, then
 * stops every member sink. Once stopping, the batch in flight finishes; a durable channel
 * keeps its backlog (no new batch is taken), another is drained until empty, and never past
 * the drain deadline (checked before every batch, delivered or not). */
void *sl_sinkgroup_main(void *arg);

#endif
