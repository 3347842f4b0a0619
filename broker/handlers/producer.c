/*
 * producer.c - idempotent producers: InitProducerId (22) v0-1 for non-transactional
 * producers, the producer-id allocator, and per (producer id, topic, partition) sequence
 * state that lets Produce drop retried batches (Kafka's ProducerStateManager, reduced).
 *
 * Invariants:
 *  - A producer id is never handed out twice, also across restarts and crashes: ids are
 *    reserved in blocks of ID_BLOCK by writing the end of the block to
 *    <first log dir>/producer-id-block (atomically: tmp, fsync, rename, fsync dir) BEFORE any
 *    id of the block is returned. A crash wastes the rest of a block, never reuses it.
 *  - Per partition we keep the producer's epoch and its last SEQ_CACHE batches' sequence
 *    ranges and base offsets, like Kafka. State lives in memory only; after a restart it is
 *    rebuilt lazily from the tail of the partition log (batch headers carry producer id,
 *    epoch, base sequence and record count), so a retry of a batch written before the
 *    restart is still recognised.
 *
 * Threads: the broker loop thread owns struct sl_producers and everything in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/sl_log.h"
#include "../../common/sl_macros.h"
#include "../../store/io.h"
#include "../api.h"
#include "../proto/msg_data.h"
#include "data_int.h"
#include "handlers.h"

#define ID_BLOCK     1000
#define ID_FILE      "producer-id-block"
#define SEQ_CACHE    5      /* Kafka's ProducerStateEntry.NumBatchesToRetain */
#define SCAN_OFFSETS 50000  /* how far back from the log end a rebuild looks */
#define SCAN_BATCHES 200000 /* and at most this many batch headers */
#define NO_EPOCH     (-1)
/* Kafka's producer.id.expiration.ms default: state of a producer idle this long is dropped
 * (its next batch is then accepted as from a new producer), so memory does not grow with
 * every short-lived idempotent client. Swept at most once a minute. */
#define PRODUCER_EXPIRY_MS (24LL * 3600 * 1000)
#define SWEEP_EVERY_MS     60000

struct seq_batch {
    int32_t first_seq;
    int32_t last_seq;
    int64_t base_offset;
};

struct pstate {
    struct pstate *next; /* hash chain */
    int64_t pid;
    int32_t partition;
    int16_t epoch; /* NO_EPOCH: unknown producer, any sequence is accepted */
    int nbatches;  /* valid entries in batches, oldest first */
    int64_t last_ms; /* monotonic time of the last batch seen from this producer here */
    struct seq_batch batches[SEQ_CACHE];
    char topic[]; /* NUL-terminated */
};

/* A partition already scanned: its older producers are all in the table. */
struct scanned {
    struct scanned *next;
    int32_t partition;
    char topic[]; /* NUL-terminated */
};

struct sl_producers {
    int loaded;        /* the block file was read */
    int64_t next_id;   /* next id to hand out */
    int64_t block_end; /* ids below this are reserved on disk */
    int64_t first_id;  /* first id handed out by this process: older ids need a rebuild */
    struct pstate **table;
    size_t nbuckets;
    size_t count;
    struct scanned *scanned; /* partitions whose log tail was read for older producers */
    int64_t next_sweep_ms;   /* monotonic: when idle producers are next expired */
};

int sl_producers_create(struct sl_producers **out)
{
    struct sl_producers *p = calloc(1, sizeof(*p));
    if (!p) {
        return -ENOMEM;
    }
    p->nbuckets = 256;
    p->table = calloc(p->nbuckets, sizeof(*p->table));
    if (!p->table) {
        free(p);
        return -ENOMEM;
    }
    p->first_id = INT64_MAX;
    *out = p;
    return 0;
}

void sl_producers_destroy(struct sl_producers *p)
{
    if (!p) {
        return;
    }
    for (size_t i = 0; i < p->nbuckets; i++) {
        struct pstate *s = p->table[i];
        while (s) {
            struct pstate *next = s->next;
            free(s);
            s = next;
        }
    }
    free(p->table);
    while (p->scanned) {
        struct scanned *next = p->scanned->next;
        free(p->scanned);
        p->scanned = next;
    }
    free(p);
}

/* ---- producer ids ---- */

static int load_block(struct sl_producers *p, const char *log_dir, struct sl_err *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", log_dir, ID_FILE);
    int64_t end = 0;
    int fd = sl_io_open(path, O_RDONLY, 0);
    if (fd >= 0) {
        char buf[64] = {0};
        ssize_t n = sl_io_pread(fd, buf, sizeof(buf) - 1, 0);
        sl_io_close(fd);
        if (n < 0) {
            return sl_err_set(err, (int)n, "read %s: %s", path, sl_strerror((int)n));
        }
        char *e = NULL;
        long long v = strtoll(buf, &e, 10);
        if (e == buf || v < 0) {
            return sl_err_set(err, SL_ECORRUPT, "%s: not a producer id", path);
        }
        end = v;
    } else if (fd != -ENOENT) {
        return sl_err_set(err, fd, "open %s: %s", path, sl_strerror(fd));
    }
    p->next_id = end;
    p->block_end = end;
    p->loaded = 1;
    return 0;
}

int sl__producers_next_id(struct sl_producers *p, const char *log_dir, int64_t *id,
                          struct sl_err *err)
{
    if (!p->loaded) {
        int rc = load_block(p, log_dir, err);
        if (rc) {
            return rc;
        }
    }
    if (p->next_id >= p->block_end) {
        char buf[32];
        int64_t end = p->next_id + ID_BLOCK;
        int n = snprintf(buf, sizeof(buf), "%" PRId64 "\n", end);
        /* Crash before this completes: the old end stays, no id of the new block was used. */
        int rc = sl_io_write_file_atomic(log_dir, ID_FILE, buf, (size_t)n);
        if (rc) {
            return sl_err_set(err, rc, "write %s/%s: %s", log_dir, ID_FILE, sl_strerror(rc));
        }
        p->block_end = end;
    }
    *id = p->next_id++;
    if (p->first_id == INT64_MAX) {
        p->first_id = *id;
    }
    return 0;
}

/* ---- sequence state ---- */

static size_t hash_key(int64_t pid, const char *topic, int32_t partition)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = topic; *c; c++) {
        h = (h ^ (uint8_t)*c) * 1099511628211ULL;
    }
    h ^= (uint64_t)pid * 0x9e3779b97f4a7c15ULL;
    h ^= (uint64_t)(uint32_t)partition * 0xc2b2ae3d27d4eb4fULL;
    return (size_t)(h ^ (h >> 29));
}

static struct pstate *lookup(struct sl_producers *p, int64_t pid, const char *topic,
                             int32_t partition)
{
    struct pstate *s = p->table[hash_key(pid, topic, partition) % p->nbuckets];
    for (; s; s = s->next) {
        if (s->pid == pid && s->partition == partition && strcmp(s->topic, topic) == 0) {
            return s;
        }
    }
    return NULL;
}

static void grow(struct sl_producers *p)
{
    size_t n = p->nbuckets * 2;
    struct pstate **t = calloc(n, sizeof(*t));
    if (!t) {
        return; /* longer chains, still correct */
    }
    for (size_t i = 0; i < p->nbuckets; i++) {
        struct pstate *s = p->table[i];
        while (s) {
            struct pstate *next = s->next;
            size_t b = hash_key(s->pid, s->topic, s->partition) % n;
            s->next = t[b];
            t[b] = s;
            s = next;
        }
    }
    free(p->table);
    p->table = t;
    p->nbuckets = n;
}

static struct pstate *insert(struct sl_producers *p, int64_t pid, const char *topic,
                             int32_t partition)
{
    size_t tlen = strlen(topic);
    struct pstate *s = calloc(1, sizeof(*s) + tlen + 1);
    if (!s) {
        return NULL;
    }
    s->pid = pid;
    s->partition = partition;
    s->epoch = NO_EPOCH;
    s->last_ms = sl_mono_ms();
    memcpy(s->topic, topic, tlen + 1);
    if (p->count >= p->nbuckets * 2) {
        grow(p);
    }
    size_t b = hash_key(pid, topic, partition) % p->nbuckets;
    s->next = p->table[b];
    p->table[b] = s;
    p->count++;
    return s;
}

/* Kafka's sequence arithmetic: sequences wrap from INT32_MAX to 0. */
static int32_t seq_add(int32_t seq, int32_t n)
{
    int64_t v = (int64_t)seq + n;
    return (int32_t)(v > INT32_MAX ? v - INT32_MAX - 1 : v);
}

static void remember(struct pstate *s, int16_t epoch, int32_t first_seq, int32_t last_seq,
                     int64_t base_offset)
{
    if (epoch != s->epoch) {
        s->epoch = epoch;
        s->nbatches = 0;
    }
    if (s->nbatches == SEQ_CACHE) {
        memmove(&s->batches[0], &s->batches[1], sizeof(s->batches[0]) * (SEQ_CACHE - 1));
        s->nbatches--;
    }
    s->batches[s->nbatches].first_seq = first_seq;
    s->batches[s->nbatches].last_seq = last_seq;
    s->batches[s->nbatches].base_offset = base_offset;
    s->nbatches++;
}

static struct pstate *insert(struct sl_producers *p, int64_t pid, const char *topic,
                             int32_t partition);

/* Marks topic/partition scanned; returns 1 if it already was (or on no memory: no rescan). */
static int mark_scanned(struct sl_producers *p, const char *topic, int32_t partition)
{
    for (struct scanned *sc = p->scanned; sc; sc = sc->next) {
        if (sc->partition == partition && strcmp(sc->topic, topic) == 0) {
            return 1;
        }
    }
    size_t tlen = strlen(topic);
    struct scanned *sc = malloc(sizeof(*sc) + tlen + 1);
    if (!sc) {
        return 1;
    }
    sc->partition = partition;
    memcpy(sc->topic, topic, tlen + 1);
    sc->next = p->scanned;
    p->scanned = sc;
    return 0;
}

/*
 * Rebuild the state of every producer older than this process from the batch headers of the
 * partition's log tail, once per partition (a scan per producer would let one request of
 * many producer ids stall the loop). Only headers are read (61 bytes per batch through the
 * slice's fd), never the records.
 */
static void rebuild(struct sl_producers *p, struct sl_log *log, const char *topic,
                    int32_t partition)
{
    if (mark_scanned(p, topic, partition)) {
        return;
    }
    int64_t end = sl_log_end_offset(log);
    int64_t off = SL_MAX(sl_log_start_offset(log), end - SCAN_OFFSETS);
    int64_t batches = 0;
    while (off < end && batches < SCAN_BATCHES) {
        struct sl_log_slice sl;
        struct sl_err err;
        memset(&sl, 0, sizeof(sl));
        if (sl_log_read(log, off, 64 << 20, -1, 1, &sl, &err) != 0 || sl.length == 0) {
            sl_log_slice_release(&sl);
            break;
        }
        int64_t pos = 0;
        while (pos + SL_BATCH_HEADER_SIZE <= sl.length && batches < SCAN_BATCHES) {
            uint8_t hb[SL_BATCH_HEADER_SIZE];
            struct sl_batch_hdr h;
            if (sl_io_pread(sl.fd, hb, sizeof(hb), (off_t)(sl.position + pos)) !=
                    (ssize_t)sizeof(hb) ||
                sl_batch_parse_header(hb, sizeof(hb), &h, &err) != 0) {
                break;
            }
            batches++;
            if (h.producer_id >= 0 && h.producer_id < p->first_id && h.base_sequence >= 0) {
                struct pstate *s = lookup(p, h.producer_id, topic, partition);
                if (!s) {
                    s = insert(p, h.producer_id, topic, partition);
                }
                if (s && (s->epoch == NO_EPOCH || h.producer_epoch >= s->epoch)) {
                    remember(s, h.producer_epoch, h.base_sequence,
                             seq_add(h.base_sequence, h.last_offset_delta), h.base_offset);
                }
            }
            pos += (int64_t)sl_batch_hdr_size(&h);
        }
        int64_t next = sl.next_offset;
        sl_log_slice_release(&sl);
        if (next <= off) {
            break;
        }
        off = next;
    }
}

int16_t sl__producers_check(struct sl_producers *p, struct sl_log *log, const char *topic,
                            int32_t partition, const struct sl_batch_hdr *h, int64_t *dup_offset)
{
    *dup_offset = -1;
    struct pstate *s = lookup(p, h->producer_id, topic, partition);
    /* Ids handed out by this process cannot be in the log without being in memory. */
    if (!s && log && h->producer_id < p->first_id) {
        rebuild(p, log, topic, partition);
        s = lookup(p, h->producer_id, topic, partition);
    }
    if (!s) {
        s = insert(p, h->producer_id, topic, partition);
        if (!s) {
            return KERR_UNKNOWN_SERVER_ERROR;
        }
    }
    if (s->epoch == NO_EPOCH) {
        return KERR_NONE; /* a new producer here (or its history is gone): any sequence */
    }
    if (h->producer_epoch < s->epoch) {
        return KERR_INVALID_PRODUCER_EPOCH;
    }
    int32_t last = seq_add(h->base_sequence, h->last_offset_delta);
    if (h->producer_epoch == s->epoch) {
        for (int i = 0; i < s->nbatches; i++) {
            if (s->batches[i].first_seq == h->base_sequence && s->batches[i].last_seq == last) {
                *dup_offset = s->batches[i].base_offset;
                return KERR_NONE;
            }
        }
        int32_t cur = s->nbatches ? s->batches[s->nbatches - 1].last_seq : -1;
        int in_seq = h->base_sequence == seq_add(cur, 1) || (cur == -1 && h->base_sequence == 0);
        return in_seq || s->nbatches == 0 ? KERR_NONE : KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    }
    /* A bumped epoch must start again at sequence 0. */
    return h->base_sequence == 0 ? KERR_NONE : KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
}

/* Drop the state of producers idle for PRODUCER_EXPIRY_MS (at most once a minute). */
static void sweep(struct sl_producers *p, int64_t now_ms)
{
    if (now_ms < p->next_sweep_ms) {
        return;
    }
    p->next_sweep_ms = now_ms + SWEEP_EVERY_MS;
    for (size_t i = 0; i < p->nbuckets; i++) {
        struct pstate **link = &p->table[i];
        while (*link) {
            struct pstate *s = *link;
            if (now_ms - s->last_ms >= PRODUCER_EXPIRY_MS) {
                *link = s->next;
                free(s);
                p->count--;
            } else {
                link = &s->next;
            }
        }
    }
}

void sl__producers_record(struct sl_producers *p, const char *topic, int32_t partition,
                          const struct sl_batch_hdr *h, int64_t base_offset)
{
    int64_t now_ms = sl_mono_ms();
    sweep(p, now_ms);
    struct pstate *s = lookup(p, h->producer_id, topic, partition);
    if (!s) {
        s = insert(p, h->producer_id, topic, partition);
        if (!s) {
            return; /* a retry of this batch would then be appended twice: rare, logged */
        }
    }
    s->last_ms = now_ms;
    remember(s, h->producer_epoch, h->base_sequence,
             seq_add(h->base_sequence, h->last_offset_delta), base_offset);
}

/* ---- InitProducerId ---- */

/*
 * InitProducerId v0-1. Transactions are not implemented: a transactional id is refused with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which clients treat as fatal (rather than retrying
 * forever as they would on COORDINATOR_NOT_AVAILABLE). Idempotent producers get a fresh id and
 * epoch 0. May block (fsync once per ID_BLOCK ids).
 */
int sl_handle_init_producer_id(struct sl_request *req)
{
    struct sl_broker *b = req->broker;
    struct sl_init_pid_req m;
    int rc = sl_msg_init_pid_req_decode(&req->body, req->api_version, &m);
    if (rc) {
        return rc;
    }
    struct sl_init_pid_resp resp = {0, KERR_NONE, -1, -1};
    if (m.transactional_id.len >= 0) {
        resp.error_code = SL__KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else if (!b->producers || b->cfg.nlog_dirs < 1) {
        resp.error_code = KERR_UNKNOWN_SERVER_ERROR;
    } else {
        struct sl_err err;
        int64_t id;
        rc = sl__producers_next_id(b->producers, b->cfg.log_dirs[0], &id, &err);
        if (rc) {
            sl_clog("broker:producer", SL_LOG_ERROR, "cannot allocate a producer id: %s", err.msg);
            resp.error_code = KERR_UNKNOWN_SERVER_ERROR;
        } else {
            resp.producer_id = id;
            resp.producer_epoch = 0;
        }
    }
    sl_msg_init_pid_resp_encode(&req->resp, req->api_version, &resp);
    return SL_API_DONE;
}

void sl__producers_forget_topic(struct sl_producers *p, const char *topic)
{
    if (!p) {
        return;
    }
    for (size_t i = 0; i < p->nbuckets; i++) {
        struct pstate **link = &p->table[i];
        while (*link) {
            struct pstate *s = *link;
            if (strcmp(s->topic, topic) == 0) {
                *link = s->next;
                free(s);
                p->count--;
            } else {
                link = &s->next;
            }
        }
    }
    struct scanned **link = &p->scanned;
    while (*link) {
        struct scanned *sc = *link;
        if (strcmp(sc->topic, topic) == 0) {
            *link = sc->next;
            free(sc);
        } else {
            link = &sc->next;
        }
    }
}
