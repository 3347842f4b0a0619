/*
 * test_sinkgroup.c - sink groups: the failover and load_balance processors on a fake clock
 * (order, penalties doubling to the cap, winning back, rotation, backoff, random spread),
 * one group turn at a time over a real memory channel with fake sinks (a failed batch is
 * rolled back and goes out through the next sink in order, nothing lost; a pipelined sink
 * works inside a group), the group's thread at stop (drain deadline checked after every
 * batch, a durable channel's backlog left in place), and the `sinkgroups:` section's errors
 * with line and column.
 */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h> /* after the headers it needs */
/* clang-format on */

#include "agent/agent.h"
#include "agent/sinkgroup.h"
#include "common/sl_macros.h"

/* ---- the processor, by hand ----------------------------------------------------------- */

static struct sl_sink fake_sinks[4];

static void group_init(struct sl_sinkgroup *g, enum sl_sgp_kind kind, size_t n, int64_t cap)
{
    memset(g, 0, sizeof(*g));
    g->kind = kind;
    g->cap_ms = cap;
    g->active = -1;
    g->members = calloc(n, sizeof(*g->members));
    g->nmembers = n;
    for (size_t i = 0; i < n; i++) {
        g->members[i].sink = &fake_sinks[i];
        g->members[i].priority = 100 - (int64_t)i * 10;
    }
}

static int pick(struct sl_sinkgroup *g, int64_t now, int64_t *wait)
{
    int64_t w = -7;
    int i = sl_sinkgroup_pick(g, now, &w);
    if (wait) {
        *wait = w;
    }
    return i;
}

static void test_failover_order_penalty_and_win_back(void **state)
{
    struct sl_sinkgroup g;
    group_init(&g, SL_SGP_FAILOVER, 3, 5000);
    g.members[0].priority = 5; /* priorities, not list order, decide */
    g.members[1].priority = 10;
    g.members[2].priority = 1;
    int64_t wait;
    assert_int_equal(pick(&g, 0, NULL), 1);
    assert_int_equal(sl_sinkgroup_report(&g, 1, 0, 0), 0);
    assert_int_equal(g.members[1].until_ms, 1000); /* first penalty: 1 s */
    assert_int_equal(pick(&g, 0, NULL), 0);        /* the next best, at once */
    assert_int_equal(sl_sinkgroup_report(&g, 0, 1, 0), 0);
    assert_int_equal(g.active, 0);
    assert_int_equal(pick(&g, 999, NULL), 0);
    /* The penalty is over: the higher priority is tried again; failing, it sits out 2 s. */
    assert_int_equal(pick(&g, 1000, NULL), 1);
    sl_sinkgroup_report(&g, 1, 0, 1000);
    assert_int_equal(g.members[1].until_ms, 3000);
    assert_int_equal(pick(&g, 1000, NULL), 0);
    /* Then 4 s, then the cap (5 s) for ever. */
    sl_sinkgroup_report(&g, 1, 0, 3000);
    assert_int_equal(g.members[1].until_ms, 7000);
    sl_sinkgroup_report(&g, 1, 0, 7000);
    assert_int_equal(g.members[1].until_ms, 12000);
    sl_sinkgroup_report(&g, 1, 0, 12000);
    assert_int_equal(g.members[1].until_ms, 17000);
    assert_int_equal(g.members[1].fails, 5);
    assert_int_equal(g.members[1].failures_total, 5);
    /* Everyone fails: nothing to pick until the first penalty ends. */
    assert_int_equal(sl_sinkgroup_report(&g, 0, 0, 12000), 0); /* member 2 is still live */
    assert_int_equal(pick(&g, 12000, NULL), 2);
    assert_int_equal(sl_sinkgroup_report(&g, 2, 0, 12000), 1);
    assert_int_equal(g.all_failed, 1);
    assert_int_equal(pick(&g, 12500, &wait), -1);
    assert_int_equal(wait, 500); /* member 0 and 2 are free again at 13000 */
    assert_int_equal(pick(&g, 13000, NULL), 0);
    /* It wins back: success clears its penalty; the highest priority is active again. */
    assert_int_equal(pick(&g, 17000, NULL), 1);
    sl_sinkgroup_report(&g, 1, 1, 17000);
    assert_int_equal(g.active, 1);
    assert_int_equal(g.members[1].fails, 0);
    assert_int_equal(g.members[1].until_ms, 0);
    assert_int_equal(g.members[1].batches, 1);
    free(g.members);
}

static void test_load_balance_round_robin_without_backoff(void **state)
{
    struct sl_sinkgroup g;
    group_init(&g, SL_SGP_LOAD_BALANCE, 3, 30000);
    int seq[9];
    for (int b = 0; b < 9; b++) {
        seq[b] = pick(&g, 0, NULL);
        sl_sinkgroup_report(&g, (size_t)seq[b], 1, 0);
    }
    for (int b = 0; b < 9; b++) {
        assert_int_equal(seq[b], b % 3);
    }
    /* A failure moves the batch to the next sink at once, with no backoff. */
    assert_int_equal(pick(&g, 0, NULL), 0);
    assert_int_equal(sl_sinkgroup_report(&g, 0, 0, 0), 0);
    assert_int_equal(g.members[0].until_ms, 0);
    assert_int_equal(pick(&g, 0, NULL), 1);
    assert_int_equal(sl_sinkgroup_report(&g, 1, 0, 0), 0);
    assert_int_equal(pick(&g, 0, NULL), 2);
    /* The last one fails too: the group as a whole failed, the round starts over. */
    assert_int_equal(sl_sinkgroup_report(&g, 2, 0, 0), 1);
    assert_int_equal(g.all_failed, 1);
    assert_int_equal(pick(&g, 0, NULL), 0);
    sl_sinkgroup_report(&g, 0, 1, 0);
    assert_int_equal(pick(&g, 0, NULL), 1);
    free(g.members);
}

static void test_load_balance_backoff(void **state)
{
    struct sl_sinkgroup g;
    group_init(&g, SL_SGP_LOAD_BALANCE, 2, 3000);
    g.backoff = 1;
    int64_t wait;
    assert_int_equal(pick(&g, 0, NULL), 0);
    sl_sinkgroup_report(&g, 0, 0, 0);
    assert_int_equal(g.members[0].until_ms, 1000);
    /* While 0 is backed off, every batch goes to 1. */
    for (int b = 0; b < 4; b++) {
        assert_int_equal(pick(&g, 500, NULL), 1);
        sl_sinkgroup_report(&g, 1, 1, 500);
    }
    assert_int_equal(pick(&g, 1000, NULL), 0); /* back in the rotation */
    sl_sinkgroup_report(&g, 0, 0, 1000);
    assert_int_equal(g.members[0].until_ms, 3000); /* 2 s */
    assert_int_equal(pick(&g, 1000, NULL), 1);
    assert_int_equal(sl_sinkgroup_report(&g, 1, 0, 1000), 1); /* both failed */
    assert_int_equal(g.members[1].until_ms, 2000);
    assert_int_equal(pick(&g, 1500, &wait), -1);
    assert_int_equal(wait, 500);
    sl_sinkgroup_report(&g, 0, 0, 3000);
    assert_int_equal(g.members[0].until_ms, 6000); /* 4 s would pass maxTimeOut: 3 s */
    free(g.members);
}

static void test_load_balance_random(void **state)
{
    struct sl_sinkgroup g;
    group_init(&g, SL_SGP_LOAD_BALANCE, 3, 30000);
    g.random = 1;
    g.rng = 12345;
    int count[3] = {0};
    for (int b = 0; b < 600; b++) {
        int i = pick(&g, 0, NULL);
        assert_true(i >= 0 && i < 3);
        count[i]++;
        sl_sinkgroup_report(&g, (size_t)i, 1, 0);
    }
    for (int i = 0; i < 3; i++) {
        assert_true(count[i] > 120); /* about 200 each */
    }
    /* A sink that failed a batch is not drawn again for it. */
    for (int r = 0; r < 50; r++) {
        int a = pick(&g, 0, NULL);
        sl_sinkgroup_report(&g, (size_t)a, 0, 0);
        int b = pick(&g, 0, NULL);
        assert_int_not_equal(a, b);
        sl_sinkgroup_report(&g, (size_t)b, 0, 0);
        int c = pick(&g, 0, NULL);
        assert_true(c != a && c != b);
        assert_int_equal(sl_sinkgroup_report(&g, (size_t)c, 0, 0), 1);
    }
    free(g.members);
}

/* ---- group turns over a real channel ----------------------------------------------------- */

static int64_t fake_now;
static int64_t fake_clock(void)
{
    return fake_now;
}

#define MAXREC 4096
struct rec {
    char lines[MAXREC][16];
    size_t n;
    int fail; /* deliver fails while set */
    size_t calls;
};
static struct rec recs[3];

static int rec_index(struct sl_sink *s)
{
    return s->name[1] - '1'; /* sinks k1, k2, k3 */
}

static int fake_deliver(struct sl_sink *s, struct sl_event **evs, size_t n)
{
    struct rec *r = &recs[rec_index(s)];
    r->calls++;
    if (r->fail) {
        return SL_ERETRY;
    }
    for (size_t i = 0; i < n && r->n < MAXREC; i++) {
        snprintf(r->lines[r->n++], 16, "%.*s", (int)evs[i]->len, (const char *)evs[i]->body);
    }
    return SL_OK;
}

/* A pipelined sink: reports arrive on the next poll. */
static struct sl_sink_batch *pending_batch;
static void fake_submit(struct sl_sink *s, struct sl_sink_batch *b)
{
    b->pending = b->tx.n;
    pending_batch = b;
}

static void fake_poll(struct sl_sink *s, int wait_ms)
{
    struct sl_sink_batch *b = pending_batch;
    if (!b) {
        return;
    }
    struct rec *r = &recs[rec_index(s)];
    r->calls++;
    if (r->fail) {
        b->failed = b->pending;
        b->err = SL_ERETRY;
    } else {
        for (size_t i = 0; i < b->tx.n && r->n < MAXREC; i++) {
            snprintf(r->lines[r->n++], 16, "%.*s", (int)b->tx.evs[i]->len,
                     (const char *)b->tx.evs[i]->body);
        }
    }
    b->pending = 0;
    pending_batch = NULL;
}

static struct sl_sink_ops fake_ops = {.name = "fake", .deliver = fake_deliver};
static struct sl_sink_ops fake_pipelined_ops = {
    .name = "fakep", .submit = fake_submit, .poll = fake_poll};

static struct sl_agent *build(const char *yaml, struct sl_yaml_doc *doc, struct sl_err *err,
                              int *rc)
{
    struct sl_agent *a = NULL;
    sl_err_clear(err);
    *rc = sl_yaml_load_string(yaml, strlen(yaml), doc, err);
    if (*rc == 0) {
        *rc = sl_agent_build(doc, &a, err);
    }
    return a;
}

static const char *base = "sources:\n"
                          "  r1: {type: netcat, bind: 127.0.0.1, port: 1, channels: [c1]}\n"
                          "channels:\n"
                          "  c1: {type: memory, capacity: 10000, transactionCapacity: 100}\n"
                          "  c2: {type: memory}\n"
                          "sinks:\n"
                          "  k1: {type: null, channel: c1, batchSize: 10}\n"
                          "  k2: {type: null, channel: c1, batchSize: 10}\n"
                          "  k3: {type: null, channel: c1, batchSize: 10}\n"
                          "  k4: {type: null, channel: c2}\n";

static void put_lines(struct sl_channel *c, int from, int to)
{
    for (int i = from; i < to;) {
        struct sl_chan_tx tx;
        assert_int_equal(sl_chan_begin(c, 0, &tx), 0);
        for (int j = 0; j < 50 && i < to; j++, i++) {
            char b[16];
            int n = snprintf(b, sizeof(b), "e%05d", i);
            assert_int_equal(sl_chan_put(&tx, sl_event_create(b, (size_t)n)), 0);
        }
        assert_int_equal(sl_chan_commit(&tx), 0);
    }
}

static size_t chan_size(struct sl_channel *c)
{
    struct sl_chan_stats st;
    c->ops->stats(c, &st);
    return st.size;
}

static const struct sl_sink_ops *orig_ops[3];

static struct sl_agent *group_agent(const char *groups, struct sl_yaml_doc *doc)
{
    char yaml[4096];
    snprintf(yaml, sizeof(yaml), "%s%s", base, groups);
    struct sl_err err;
    int rc;
    struct sl_agent *a = build(yaml, doc, &err, &rc);
    if (rc != 0) {
        fail_msg("build: %s at %d:%d", err.msg, err.line, err.col);
    }
    memset(recs, 0, sizeof(recs));
    for (size_t i = 0; i < 3; i++) {
        orig_ops[i] = a->sinks[i].ops;
        a->sinks[i].ops = &fake_ops; /* fake_ops never reads the null sinks' ctx */
    }
    a->groups[0].clock_ms = fake_clock;
    fake_now = 1000000;
    return a;
}

static void free_agent(struct sl_agent *a, struct sl_yaml_doc *doc)
{
    for (size_t i = 0; i < 3; i++) {
        a->sinks[i].ops = orig_ops[i];
    }
    sl_agent_destroy(a);
    sl_yaml_free(doc);
}

static int step(struct sl_sinkgroup *g)
{
    int64_t wait = 0;
    return sl_sinkgroup_step(g, 0, &wait);
}

/* Every line from..to-1 exactly once over the given records, and each record in order. */
static void assert_all_once(int from, int to)
{
    int total = 0;
    for (int r = 0; r < 3; r++) {
        int last = -1;
        for (size_t i = 0; i < recs[r].n; i++) {
            int v = atoi(recs[r].lines[i] + 1);
            assert_true(v > last);
            last = v;
        }
        total += (int)recs[r].n;
    }
    assert_int_equal(total, to - from);
    for (int v = from; v < to; v++) {
        char want[16];
        snprintf(want, sizeof(want), "e%05d", v);
        int hits = 0;
        for (int r = 0; r < 3; r++) {
            for (size_t i = 0; i < recs[r].n; i++) {
                hits += strcmp(recs[r].lines[i], want) == 0;
            }
        }
        assert_int_equal(hits, 1);
    }
}

static void test_failover_turns_keep_every_event(void **state)
{
    struct sl_yaml_doc doc;
    struct sl_agent *a = group_agent("sinkgroups:\n"
                                     "  g1:\n"
                                     "    sinks: [k1, k2]\n"
                                     "    processor:\n"
                                     "      type: failover\n"
                                     "      priority: {k1: 10, k2: 5}\n"
                                     "      maxpenalty: 4000\n",
                                     &doc);
    struct sl_sinkgroup *g = &a->groups[0];
    struct sl_channel *c = a->sinks[0].channel;
    assert_ptr_equal(a->sinks[0].group, g);
    assert_ptr_equal(a->sinks[1].group, g);
    assert_null(a->sinks[2].group);
    put_lines(c, 0, 30);
    assert_int_equal(step(g), 1);
    assert_int_equal(recs[0].n, 10);
    recs[0].fail = 1;
    assert_int_equal(step(g), -1); /* k1 failed: rolled back */
    assert_int_equal(chan_size(c), 20);
    assert_int_equal(a->sinks[0].rollbacks, 1);
    assert_int_equal(step(g), 1); /* the same batch through k2 at once */
    assert_int_equal(recs[1].n, 10);
    assert_string_equal(recs[1].lines[0], "e00010");
    assert_int_equal(g->active, 1);
    fake_now += 999;
    assert_int_equal(step(g), 1); /* k1 still sits out */
    assert_int_equal(recs[1].n, 20);
    put_lines(c, 30, 60);
    fake_now += 1;
    assert_int_equal(step(g), -1); /* tried again after 1 s, still failing: 2 s now */
    assert_int_equal(g->members[0].until_ms, fake_now + 2000);
    recs[1].fail = 1;
    assert_int_equal(step(g), -3); /* both failed: the events stay */
    assert_int_equal(chan_size(c), 30);
    int64_t wait = 0;
    assert_int_equal(sl_sinkgroup_step(g, 0, &wait), -2);
    assert_int_equal(wait, 1000); /* k2's first penalty ends first */
    recs[0].fail = recs[1].fail = 0;
    fake_now += 2000;
    assert_int_equal(step(g), 1); /* k1 is back and active again */
    assert_int_equal(g->active, 0);
    assert_int_equal(step(g), 1);
    assert_int_equal(step(g), 1);
    assert_int_equal(step(g), 0); /* empty */
    assert_int_equal(chan_size(c), 0);
    assert_all_once(0, 60);
    assert_int_equal(a->sinks[0].drain_successes + a->sinks[1].drain_successes, 60);
    free_agent(a, &doc);
}

static void test_load_balance_turns_and_pipelined_member(void **state)
{
    struct sl_yaml_doc doc;
    struct sl_agent *a = group_agent("sinkgroups:\n"
                                     "  g1:\n"
                                     "    sinks: k1 k2 k3\n"
                                     "    processor: {type: load_balance, selector: round_robin}\n",
                                     &doc);
    struct sl_sinkgroup *g = &a->groups[0];
    struct sl_channel *c = a->sinks[0].channel;
    a->sinks[2].ops = &fake_pipelined_ops;
    put_lines(c, 0, 90);
    for (int b = 0; b < 6; b++) {
        assert_int_equal(step(g), 1);
    }
    assert_int_equal(recs[0].n, 20);
    assert_int_equal(recs[1].n, 20);
    assert_int_equal(recs[2].n, 20);
    recs[1].fail = 1;
    assert_int_equal(step(g), 1);  /* k1 */
    assert_int_equal(step(g), -1); /* k2 fails */
    assert_int_equal(step(g), 1);  /* k3 (pipelined) takes that batch */
    recs[0].fail = recs[2].fail = 1;
    assert_int_equal(step(g), -1);
    assert_int_equal(step(g), -1);
    assert_int_equal(step(g), -3); /* every sink failed the batch */
    assert_int_equal(chan_size(c), 10);
    recs[0].fail = recs[1].fail = recs[2].fail = 0;
    assert_int_equal(step(g), 1);
    assert_int_equal(step(g), 0);
    assert_all_once(0, 90);
    free_agent(a, &doc);
}

/* The group's thread at shutdown: a memory channel is drained, but only until the drain
 * deadline (checked after every batch, not only after failures); a durable channel keeps
 * its backlog, no new batch is taken once stopping. */
static void test_stop_deadline_and_durable_backlog(void **state)
{
    struct sl_yaml_doc doc;
    struct sl_agent *a = group_agent("sinkgroups:\n"
                                     "  g1: {sinks: [k1, k2], processor: {type: failover}}\n",
                                     &doc);
    struct sl_sinkgroup *g = &a->groups[0];
    struct sl_channel *c = a->sinks[0].channel;
    put_lines(c, 0, 90);
    g->stopping = 1;
    g->abort_at_ms = sl_mono_ms() + 60000;
    sl_sinkgroup_main(g); /* deadline far: a memory channel is drained */
    assert_int_equal(chan_size(c), 0);
    assert_all_once(0, 90);

    put_lines(c, 90, 180);
    g->abort_at_ms = sl_mono_ms() - 1; /* the deadline passed: no further batch */
    sl_sinkgroup_main(g);
    assert_int_equal(chan_size(c), 90);
    assert_int_equal(recs[0].n + recs[1].n, 90);

    struct sl_channel_ops durable_ops = *c->ops;
    durable_ops.durable = 1;
    const struct sl_channel_ops *mem_ops = c->ops;
    c->ops = &durable_ops;
    g->abort_at_ms = sl_mono_ms() + 60000;
    sl_sinkgroup_main(g); /* durable: the backlog stays for the next start */
    assert_int_equal(chan_size(c), 90);
    assert_int_equal(recs[0].n + recs[1].n, 90);
    c->ops = mem_ops;

    g->stopping = 0;
    assert_int_equal(step(g), 1); /* nothing was lost or left taken */
    assert_int_equal(chan_size(c), 80);
    free_agent(a, &doc);
}

/* ---- configuration errors ---------------------------------------------------------------- */

static void bad(const char *groups, int line, int col, const char *msg)
{
    char yaml[4096];
    snprintf(yaml, sizeof(yaml), "%s%s", base, groups);
    struct sl_yaml_doc doc;
    struct sl_err err;
    int rc;
    struct sl_agent *a = build(yaml, &doc, &err, &rc);
    sl_agent_destroy(a);
    sl_yaml_free(&doc);
    if (rc != SL_ECONFIG || err.line != line || err.col != col || !strstr(err.msg, msg)) {
        fail_msg("for %s: got %d '%s' at %d:%d, want '%s' at %d:%d", groups, rc, err.msg, err.line,
                 err.col, msg, line, col);
    }
}

static void test_config_errors(void **state)
{
    /* base is 10 lines: the groups start on line 11. */
    bad("sinkgroups:\n  g1:\n    sinks: [k1, k2]\n    processor: {type: failsafe}\n", 14, 23,
        "'failsafe' is not one of: default, failover, load_balance");
    bad("sinkgroups:\n  g1: {sinks: [k1, k9], processor: {type: failover}}\n", 12, 20,
        "sink 'k9' does not exist (sinks: k1, k2, k3, k4)");
    bad("sinkgroups:\n  g1: {sinks: k1 k2, processor: {type: failover}}\n"
        "  g2: {sinks: k3 k2, processor: {type: load_balance}}\n",
        13, 18, "sink 'k2' already belongs to sink group g1");
    bad("sinkgroups:\n  g1: {sinks: [k1, k4], processor: {type: failover}}\n", 12, 20,
        "sink 'k4' drains channel c2, but k1 drains c1");
    bad("sinkgroups:\n  g1: {sinks: [k1, k1], processor: {type: failover}}\n", 12, 20,
        "sink 'k1' is listed twice");
    bad("sinkgroups:\n  g1: {sinks: [], processor: {type: failover}}\n", 12, 15, "sinks is empty");
    bad("sinkgroups:\n  g1: {processor: {type: failover}}\n", 12, 7,
        "missing required key 'sinks'");
    bad("sinkgroups:\n  g1:\n    sinks: [k1, k2]\n    processor:\n      type: failover\n"
        "      priority: {k1: 5, k3: 1}\n",
        16, 25, "processor.priority.k3: sink 'k3' is not in the group");
    bad("sinkgroups:\n  g1:\n    sinks: [k1, k2]\n    processor:\n      type: failover\n"
        "      priority: {k1: 5, k2: 5}\n",
        16, 29, "sinks k1 and k2 both have priority 5");
    bad("sinkgroups:\n  g1:\n    sinks: [k1, k2]\n    processor:\n      type: failover\n"
        "      priority: {k1: high}\n",
        16, 22, "expected an integer, got 'high'");
    bad("sinkgroups:\n  g1:\n    sinks: [k1, k2]\n    processor:\n      type: failover\n"
        "      selector: random\n",
        16, 7, "processor.selector applies to processor.type load_balance, not failover");
    bad("sinkgroups:\n  g1:\n    sinks: [k1, k2]\n    processor: {type: load_balance, "
        "maxpenalty: 5}\n",
        14, 37, "processor.maxpenalty applies to processor.type failover");
    bad("sinkgroups:\n  g1: {sinks: [k1, k2]}\n", 12, 15,
        "processor.type default runs exactly one sink (2 listed)");
    bad("sinkgroups:\n  g1: {sinks: [k1, k2], processor: {type: load_balance, selector: "
        "weighted}}\n",
        12, 67, "'weighted' is not one of: round_robin, random");
    bad("sinkgroups:\n  g1: {sinks: [k1, k2], sink: x}\n", 12, 25, "unknown key 'sink'");
    bad("sinkgroups: [g1]\n", 11, 13, "sinkgroups: expected a map");
}

static void test_config_ok_and_default_group(void **state)
{
    struct sl_yaml_doc doc;
    struct sl_err err;
    int rc;
    char yaml[4096];
    snprintf(yaml, sizeof(yaml),
             "%ssinkgroups:\n  g0: {sinks: k4}\n  g1:\n    sinks: k3 k1\n"
             "    processor.type: load_balance\n    processor.backoff: true\n"
             "    processor.selector: random\n    processor.selector.maxTimeOut: 9000\n",
             base);
    struct sl_agent *a = build(yaml, &doc, &err, &rc);
    if (rc != 0) {
        fail_msg("%s at %d:%d", err.msg, err.line, err.col);
    }
    assert_int_equal(a->ngroups, 2);
    assert_int_equal(a->groups[0].kind, SL_SGP_DEFAULT);
    assert_null(a->sinks[3].group); /* a default group leaves its sink on its own thread */
    struct sl_sinkgroup *g = &a->groups[1];
    assert_int_equal(g->kind, SL_SGP_LOAD_BALANCE);
    assert_true(g->random && g->backoff);
    assert_int_equal(g->cap_ms, 9000);
    assert_int_equal(g->nmembers, 2);
    assert_ptr_equal(g->members[0].sink, &a->sinks[2]);
    assert_ptr_equal(a->sinks[0].group, g);
    assert_null(a->sinks[1].group);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    sl_agent_print(a, f);
    fclose(f);
    assert_non_null(strstr(out, "sinkgroup g1 (load_balance) <- c1: k3, k1\n"));
    assert_non_null(
        strstr(out, "  selector: random\n  backoff: true\n  selector.maxTimeOut: 9000"));
    free(out);
    sl_agent_destroy(a);
    sl_yaml_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failover_order_penalty_and_win_back),
        cmocka_unit_test(test_load_balance_round_robin_without_backoff),
        cmocka_unit_test(test_load_balance_backoff),
        cmocka_unit_test(test_load_balance_random),
        cmocka_unit_test(test_failover_turns_keep_every_event),
        cmocka_unit_test(test_load_balance_turns_and_pipelined_member),
        cmocka_unit_test(test_stop_deadline_and_durable_backlog),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_ok_and_default_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
