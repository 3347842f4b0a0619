"""Regenerate the seed corpus of fuzz_batch from kafka-python's independent batch builder.

Run: /usr/bin/python3 tests/fuzz/make_batch_corpus.py tests/fuzz/corpus/batch
"""
import os
import sys

from kafka.record.default_records import DefaultRecordBatchBuilder


def batch(codec, n, base_offset=0, headers=()):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=codec, is_transactional=False,
                                  producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                  batch_size=1 << 20)
    for i in range(n):
        b.append(i, timestamp=1700000000000 + i, key=b"k%d" % i if i % 3 else None,
                 value=(b"value-%d " % i) * (i % 5 + 1), headers=list(headers))
    out = bytearray(b.build())
    out[0:8] = base_offset.to_bytes(8, "big")
    return bytes(out)


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    seeds = {}
    for codec, name in enumerate(["none", "gzip", "snappy", "lz4", "zstd"]):
        seeds["one-" + name] = batch(codec, 1)
        seeds["many-" + name] = batch(codec, 20, headers=[("h", b"v"), ("empty", None)])
    seeds["log"] = batch(0, 3) + batch(1, 4, 3) + batch(0, 2, 7)
    seeds["truncated"] = batch(0, 5)[:-7]
    seeds["header-only"] = batch(0, 1)[:61]
    for name, data in seeds.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
