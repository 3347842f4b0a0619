/*
 * file.h - what the rest of the agent may see of the file channel beyond its ops struct:
 * its extra metrics (bytes on disk, fsyncs, corrupt data skipped). Thread-safe.
 */
#ifndef SL_CHANNELS_FILE_H
#define SL_CHANNELS_FILE_H

#include <stdint.h>

struct sl_channel;

extern const struct sl_channel_ops sl_file_channel_ops;

struct sl_file_chan_stats {
    uint64_t size; /* events held: put, not yet taken and committed */
    uint64_t capacity;
    uint64_t bytes_on_disk;   /* every segment file of the channel's log */
    uint64_t fsyncs;          /* log flushes (each serves every put committed meanwhile) */
    uint64_t corrupt_batches; /* batches that failed validation while reading */
    uint64_t corrupt_events;  /* events skipped: in corrupt batches or quarantined at open */
    uint64_t space_refusals;  /* puts refused for minimumRequiredSpace */
    int failed;               /* 1 after a failed fsync or cursor write (restart needed) */
};

/* Fill st for c, which must be a file channel (c->ops == &sl_file_channel_ops). */
void sl_file_channel_stats(struct sl_channel *c, struct sl_file_chan_stats *st);

#endif
