"""`sluice dump-log` against segment files written by an independent implementation.

The record batches come from kafka-python's DefaultRecordBatchBuilder (its own varints,
CRC-32C and codecs), so these tests check sluice's reader against someone else's writer,
not against itself. Expected output lines are built here in Kafka's DumpLogSegments format.
"""
import struct
import subprocess

import pytest
from kafka.record.default_records import DefaultRecordBatchBuilder

TIMEOUT_S = 120
CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
BASE_TS = 1700000000000


def run(sluice_bin, *args):
    """Run sluice, returning (exit code, stdout, stderr) as text (bytes kept as-is)."""
    proc = subprocess.run(
        [sluice_bin, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=TIMEOUT_S,
    )
    out = proc.stdout.decode("utf-8", "surrogateescape")
    err = proc.stderr.decode("utf-8", "surrogateescape")
    # A sanitizer report exits 1 too, which an expected failure would otherwise hide.
    for marker in ("Sanitizer", "runtime error:"):
        assert marker not in err, err
    return proc.returncode, out, err


class Batch:
    """One batch as built, with what dump-log should say about it."""

    def __init__(self, data, base_offset, records, codec, producer_id, producer_epoch,
                 base_sequence, transactional):
        self.data = data
        self.base_offset = base_offset
        self.records = records  # [(timestamp, key, value, headers)]
        self.codec = codec
        self.producer_id = producer_id
        self.producer_epoch = producer_epoch
        self.base_sequence = base_sequence
        self.transactional = transactional
        self.position = None  # set when placed in a segment

    @property
    def last_offset(self):
        return self.base_offset + len(self.records) - 1

    @property
    def max_timestamp(self):
        return max(r[0] for r in self.records)

    @property
    def crc(self):
        return struct.unpack_from(">I", self.data, 17)[0]

    def batch_line(self):
        seq = self.base_sequence
        last_seq = -1 if seq < 0 else seq + len(self.records) - 1
        return (
            f"baseOffset: {self.base_offset} lastOffset: {self.last_offset} "
            f"count: {len(self.records)} baseSequence: {seq} lastSequence: {last_seq} "
            f"producerId: {self.producer_id} producerEpoch: {self.producer_epoch} "
            f"partitionLeaderEpoch: 0 "
            f"isTransactional: {'true' if self.transactional else 'false'} "
            f"isControl: false deleteHorizonMs: OptionalLong.empty "
            f"position: {self.position} CreateTime: {self.max_timestamp} "
            f"size: {len(self.data)} magic: 2 compresscodec: {CODECS[self.codec]} "
            f"crc: {self.crc} isvalid: true"
        )

    def record_lines(self, print_data=True):
        lines = []
        for i, (ts, key, value, headers) in enumerate(self.records):
            seq = -1 if self.base_sequence < 0 else self.base_sequence + i
            line = (
                f"| offset: {self.base_offset + i} CreateTime: {ts} "
                f"keySize: {-1 if key is None else len(key)} "
                f"valueSize: {-1 if value is None else len(value)} "
                f"sequence: {seq} headerKeys: [{','.join(k for k, _ in headers)}]"
            )
            if print_data:
                if key is not None:
                    line += " key: " + key.decode()
                if value is not None:
                    line += " payload: " + value.decode()
            lines.append(line)
        return lines


def build_batch(base_offset, records, codec=0, producer_id=-1, producer_epoch=-1,
                base_sequence=-1, transactional=False):
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=codec, is_transactional=transactional,
        producer_id=producer_id, producer_epoch=producer_epoch,
        base_sequence=base_sequence, batch_size=64 << 20)
    for i, (ts, key, value, headers) in enumerate(records):
        assert builder.append(i, timestamp=ts, key=key, value=value, headers=headers)
    data = bytearray(builder.build())
    # The builder writes base offset 0, as a producer does; the broker assigns it. The field
    # lies outside the CRC, so patching it keeps the batch valid.
    struct.pack_into(">q", data, 0, base_offset)
    # kafka-python falls back to no compression when it does not pay: make sure it did.
    assert struct.unpack_from(">h", data, 21)[0] & 7 == codec
    return Batch(bytes(data), base_offset, records, codec, producer_id, producer_epoch,
                 base_sequence, transactional)


def sample_records(tag, n=5, first_ts=BASE_TS):
    """n compressible records with keys, headers, one null key and one null value."""
    records = []
    for i in range(n):
        key = None if i == 1 else f"{tag}-k{i}".encode()
        value = None if i == 3 else (f"{tag}-value-{i}-" + "abcdefgh" * 40).encode()
        headers = [("a", b"1"), ("b", None)] if i % 2 == 0 else []
        records.append((first_ts + 7 * i, key, value, headers))
    return records


def write_segment(directory, batches, base=0):
    """Lay batches back to back in <base>.log; returns its path."""
    pos = 0
    for b in batches:
        b.position = pos
        pos += len(b.data)
    path = directory / f"{base:020d}.log"
    path.write_bytes(b"".join(b.data for b in batches))
    return path


def consecutive_batches(n, codec=0, base=0, records_per_batch=5):
    batches, offset = [], base
    for i in range(n):
        b = build_batch(offset, sample_records(f"b{i}", records_per_batch,
                                               BASE_TS + 1000 * i), codec)
        batches.append(b)
        offset = b.last_offset + 1
    return batches


def batch_lines(out):
    return [line for line in out.splitlines() if line.startswith("baseOffset:")]


def record_lines(out):
    return [line for line in out.splitlines() if line.startswith("|")]


# ---- .log ----


def test_every_codec_prints_batches_and_records(sluice_bin, tmp_path):
    batches, offset = [], 0
    for codec in CODECS:
        b = build_batch(offset, sample_records(CODECS[codec], 6, BASE_TS + 100 * codec), codec)
        batches.append(b)
        offset = b.last_offset + 1
    log = write_segment(tmp_path, batches)

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log), "--print-data-log")

    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == f"Dumping {log}"
    assert lines[1] == "Log starting offset: 0"
    expected = []
    for b in batches:
        expected.append(b.batch_line())
        expected.extend(b.record_lines())
    assert lines[2:] == expected
    assert "Found" not in out


def test_shallow_dump_prints_no_records(sluice_bin, tmp_path):
    batches = consecutive_batches(3, codec=4)
    log = write_segment(tmp_path, batches)

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log))

    assert rc == 0, err
    assert batch_lines(out) == [b.batch_line() for b in batches]
    assert record_lines(out) == []


def test_deep_iteration_prints_metadata_without_data(sluice_bin, tmp_path):
    batches = consecutive_batches(2, codec=1)
    log = write_segment(tmp_path, batches)

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log), "--deep-iteration")

    assert rc == 0, err
    expected = [line for b in batches for line in b.record_lines(print_data=False)]
    assert record_lines(out) == expected


def test_base_offset_comes_from_file_name(sluice_bin, tmp_path):
    batches = consecutive_batches(2, codec=3, base=1234)
    log = write_segment(tmp_path, batches, base=1234)

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log), "--print-data-log")

    assert rc == 0, err
    assert "Log starting offset: 1234" in out.splitlines()
    assert "| offset: 1234 " in out
    assert batch_lines(out) == [b.batch_line() for b in batches]


def test_idempotent_transactional_batch(sluice_bin, tmp_path):
    records = sample_records("txn", 4)
    b = build_batch(0, records, codec=2, producer_id=4242, producer_epoch=3,
                    base_sequence=17, transactional=True)
    log = write_segment(tmp_path, [b])

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log), "--print-data-log")

    assert rc == 0, err
    assert batch_lines(out) == [b.batch_line()]
    assert "lastSequence: 20 producerId: 4242 producerEpoch: 3" in out
    assert record_lines(out) == b.record_lines()
    assert "sequence: 19 headerKeys" in out


def test_control_bytes_in_payload_are_escaped(sluice_bin, tmp_path):
    b = build_batch(0, [(BASE_TS, b"line\nkey", b"tab\there\x00end", [])])
    log = write_segment(tmp_path, [b])

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log), "--print-data-log")

    assert rc == 0, err
    assert record_lines(out) == [
        f"| offset: 0 CreateTime: {BASE_TS} keySize: 8 valueSize: 12 sequence: -1 "
        "headerKeys: [] key: line\\x0akey payload: tab\\x09here\\x00end"
    ]


def test_many_batches_and_one_larger_than_a_read_chunk(sluice_bin, tmp_path):
    batches, offset = [], 0
    for i in range(400):  # ~1.6 MB of small batches: several read windows
        value = bytes((i + j) % 251 for j in range(4000))
        b = build_batch(offset, [(BASE_TS + i, b"k%d" % i, value, [])])
        batches.append(b)
        offset += 1
    big = build_batch(offset, [(BASE_TS + 1000, b"big", b"B" * (3 << 20), [])])
    batches.append(big)
    batches.append(build_batch(offset + 1, [(BASE_TS + 1001, b"after", b"tail", [])]))
    log = write_segment(tmp_path, batches)

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log))

    assert rc == 0, err
    assert batch_lines(out) == [b.batch_line() for b in batches]

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log), "--print-data-log")
    assert rc == 0, err
    assert f"key: big payload: {'B' * (3 << 20)}" in out
    assert record_lines(out)[-1].endswith("key: after payload: tail")


def test_empty_log_is_fine(sluice_bin, tmp_path):
    log = tmp_path / "00000000000000000000.log"
    log.write_bytes(b"")

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log))

    assert rc == 0, err
    assert out.splitlines() == [f"Dumping {log}", "Log starting offset: 0"]


@pytest.mark.parametrize("cut_into", [5, 30, 70, -1])
def test_truncated_tail_is_reported(sluice_bin, tmp_path, cut_into):
    batches = consecutive_batches(3, codec=1)
    log = write_segment(tmp_path, batches)
    last = batches[-1]
    keep = len(last.data) - 1 if cut_into < 0 else cut_into
    log.write_bytes(log.read_bytes()[: last.position + keep])

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log), "--print-data-log")

    assert rc == 1
    assert batch_lines(out) == [b.batch_line() for b in batches[:2]]
    assert record_lines(out) == batches[0].record_lines() + batches[1].record_lines()
    assert (f"Found {keep} trailing bytes at position {last.position} "
            "that are not a complete batch") in out


@pytest.mark.parametrize("codec", [0, 4])
def test_corrupt_record_bytes_fail_the_crc(sluice_bin, tmp_path, codec):
    batches = consecutive_batches(3, codec=codec)
    log = write_segment(tmp_path, batches)
    data = bytearray(log.read_bytes())
    bad = batches[1]
    data[bad.position + len(bad.data) - 3] ^= 0x40  # inside the records, under the CRC
    log.write_bytes(bytes(data))

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log))

    assert rc == 1
    lines = batch_lines(out)
    assert lines[0] == batches[0].batch_line()
    assert lines[1].endswith("isvalid: false")
    assert lines[1].startswith(f"baseOffset: {bad.base_offset} ")
    # The length field is outside the CRC and intact, so the next batch is still found.
    assert lines[2] == batches[2].batch_line()
    assert f"Found invalid batch at position {bad.position}: " in out


def test_flipped_stored_crc(sluice_bin, tmp_path):
    batches = consecutive_batches(2)
    log = write_segment(tmp_path, batches)
    data = bytearray(log.read_bytes())
    data[batches[1].position + 18] ^= 0x01
    log.write_bytes(bytes(data))

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log), "--print-data-log")

    assert rc == 1
    assert batch_lines(out)[1].endswith("isvalid: false")
    assert f"Found invalid batch at position {batches[1].position}: " in out


def test_bad_magic_stops_the_dump(sluice_bin, tmp_path):
    batches = consecutive_batches(3)
    log = write_segment(tmp_path, batches)
    data = bytearray(log.read_bytes())
    data[batches[1].position + 16] = 7
    log.write_bytes(bytes(data))

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log))

    assert rc == 1
    assert batch_lines(out) == [batches[0].batch_line()]
    assert f"Found invalid batch at position {batches[1].position}: " in out


def test_garbage_length_is_invalid_not_truncated(sluice_bin, tmp_path):
    batches = consecutive_batches(2)
    log = write_segment(tmp_path, batches)
    data = bytearray(log.read_bytes())
    struct.pack_into(">i", data, batches[1].position + 8, -5)
    log.write_bytes(bytes(data))

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log))

    assert rc == 1
    assert batch_lines(out) == [batches[0].batch_line()]
    assert f"Found invalid batch at position {batches[1].position}: " in out


def test_max_bytes_stops_quietly(sluice_bin, tmp_path):
    batches = consecutive_batches(3)
    log = write_segment(tmp_path, batches)

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(log), "--max-bytes",
                       str(batches[2].position + 10))

    assert rc == 0, err
    assert batch_lines(out) == [b.batch_line() for b in batches[:2]]


# ---- usage and file errors ----


def test_no_arguments_is_a_usage_error(sluice_bin):
    rc, out, err = run(sluice_bin, "dump-log")
    assert rc == 2
    assert "usage: sluice dump-log" in err
    assert out == ""


@pytest.mark.parametrize("args", [
    ["--files"],
    ["--bogus", "--files", "x.log"],
    ["--files", "x.log", "stray"],
    ["--files", ","],
    ["--files", "x.log", "--max-message-size", "lots"],
    ["--files", "x.log", "--max-message-size", "0"],
])
def test_bad_arguments_are_usage_errors(sluice_bin, args):
    rc, out, err = run(sluice_bin, "dump-log", *args)
    assert rc == 2
    assert "usage: sluice dump-log" in err


def test_help(sluice_bin):
    rc, out, err = run(sluice_bin, "dump-log", "--help")
    assert rc == 0
    assert "--print-data-log" in out


def test_missing_file_names_it(sluice_bin, tmp_path):
    missing = tmp_path / "00000000000000000000.log"
    rc, out, err = run(sluice_bin, "dump-log", "--files", str(missing))
    assert rc == 1
    assert str(missing) in err


def test_several_files_one_bad(sluice_bin, tmp_path):
    good_dir, bad_dir = tmp_path / "good", tmp_path / "bad"
    good_dir.mkdir()
    bad_dir.mkdir()
    good = write_segment(good_dir, consecutive_batches(2))
    bad_batches = consecutive_batches(2)
    bad = write_segment(bad_dir, bad_batches)
    bad.write_bytes(bad.read_bytes()[:-4])

    rc, out, err = run(sluice_bin, "dump-log", "--files", f"{good},{bad}")

    assert rc == 1
    assert f"Dumping {good}" in out and f"Dumping {bad}" in out
    assert len(batch_lines(out)) == 3


# ---- .index and .timeindex ----


def index_bytes(batches, base=0, pick=None):
    """Offset index entries (last offset - base, position) for the chosen batches."""
    chosen = batches if pick is None else [batches[i] for i in pick]
    return b"".join(struct.pack(">ii", b.last_offset - base, b.position) for b in chosen)


def timeindex_bytes(batches, base=0, pick=None):
    chosen = batches if pick is None else [batches[i] for i in pick]
    return b"".join(struct.pack(">qi", b.max_timestamp, b.last_offset - base) for b in chosen)


@pytest.fixture
def segment(tmp_path):
    batches = consecutive_batches(6, codec=3, base=500)
    log = write_segment(tmp_path, batches, base=500)
    return tmp_path, batches, log


def test_correct_index(sluice_bin, segment):
    directory, batches, _ = segment
    index = directory / f"{500:020d}.index"
    # Sparse, and with the zero-filled tail of a preallocated file.
    index.write_bytes(index_bytes(batches, 500, [0, 2, 5]) + bytes(8 * 100))

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(index))

    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == f"Dumping {index}"
    assert lines[1:] == [f"offset: {batches[i].last_offset} position: {batches[i].position}"
                         for i in (0, 2, 5)]


def test_index_with_wrong_offset(sluice_bin, segment):
    directory, batches, _ = segment
    index = directory / f"{500:020d}.index"
    entries = bytearray(index_bytes(batches, 500, [1, 3]))
    struct.pack_into(">i", entries, 8, batches[3].base_offset - 500)  # first, not last, offset
    index.write_bytes(bytes(entries))

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(index))

    assert rc == 1
    assert "mismatch" in err.lower()
    assert (f"index offset {batches[3].base_offset}, log offset {batches[3].last_offset}"
            in err)


def test_index_position_inside_a_batch(sluice_bin, segment):
    directory, batches, _ = segment
    index = directory / f"{500:020d}.index"
    index.write_bytes(struct.pack(">ii", batches[2].last_offset - 500, batches[2].position + 4))

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(index))

    assert rc == 1
    assert "mismatch" in err.lower()
    assert "not the start of a batch" in err


def test_index_past_end_of_log(sluice_bin, segment):
    directory, batches, log = segment
    index = directory / f"{500:020d}.index"
    index.write_bytes(index_bytes(batches, 500, [0])
                      + struct.pack(">ii", 9999, log.stat().st_size + 100))

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(index))

    assert rc == 1
    assert "mismatch" in err.lower()


def test_verify_index_only_prints_no_entries(sluice_bin, segment):
    directory, batches, _ = segment
    index = directory / f"{500:020d}.index"
    index.write_bytes(index_bytes(batches, 500))

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(index), "--verify-index-only")

    assert rc == 0, err
    assert out.splitlines() == [f"Dumping {index}"]


def test_index_sanity_check(sluice_bin, segment):
    directory, batches, _ = segment
    index = directory / f"{500:020d}.index"
    index.write_bytes(index_bytes(batches, 500, [0, 4]))
    rc, out, err = run(sluice_bin, "dump-log", "--files", str(index), "--index-sanity-check")
    assert rc == 0, err
    assert f"{index} passed sanity check." in out

    index.write_bytes(index_bytes(batches, 500, [4, 0]))
    rc, out, err = run(sluice_bin, "dump-log", "--files", str(index), "--index-sanity-check")
    assert rc == 1
    assert "Corrupt index" in err

    index.write_bytes(index_bytes(batches, 500, [0]) + b"\x00\x00\x01")
    rc, out, err = run(sluice_bin, "dump-log", "--files", str(index), "--index-sanity-check")
    assert rc == 1


def test_empty_index(sluice_bin, segment):
    directory, _, _ = segment
    index = directory / f"{500:020d}.index"
    index.write_bytes(b"")
    rc, out, err = run(sluice_bin, "dump-log", "--files", str(index))
    assert rc == 0, err
    assert f"{index} is empty." in out


def test_index_without_its_log(sluice_bin, tmp_path):
    index = tmp_path / f"{0:020d}.index"
    index.write_bytes(struct.pack(">ii", 4, 0))
    rc, out, err = run(sluice_bin, "dump-log", "--files", str(index))
    assert rc == 1
    assert f"{0:020d}.log" in err


def test_correct_timeindex(sluice_bin, segment):
    directory, batches, _ = segment
    tindex = directory / f"{500:020d}.timeindex"
    tindex.write_bytes(timeindex_bytes(batches, 500, [0, 3, 5]) + bytes(12 * 10))

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(tindex))

    assert rc == 0, err
    assert out.splitlines()[1:] == [
        f"timestamp: {batches[i].max_timestamp} offset: {batches[i].last_offset}"
        for i in (0, 3, 5)
    ]


def test_timeindex_with_wrong_timestamp(sluice_bin, segment):
    directory, batches, _ = segment
    tindex = directory / f"{500:020d}.timeindex"
    entries = bytearray(timeindex_bytes(batches, 500, [1, 4]))
    struct.pack_into(">q", entries, 12, batches[4].max_timestamp + 1)
    tindex.write_bytes(bytes(entries))

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(tindex))

    assert rc == 1
    assert "mismatch" in err.lower()


def test_timeindex_out_of_order(sluice_bin, segment):
    directory, batches, _ = segment
    tindex = directory / f"{500:020d}.timeindex"
    entries = timeindex_bytes(batches, 500, [1]) + struct.pack(
        ">qi", batches[0].max_timestamp, batches[4].last_offset - 500)
    tindex.write_bytes(entries)

    rc, out, err = run(sluice_bin, "dump-log", "--files", str(tindex))

    assert rc == 1
    assert "out of order" in err


def test_log_and_indexes_together(sluice_bin, segment):
    directory, batches, log = segment
    index = directory / f"{500:020d}.index"
    tindex = directory / f"{500:020d}.timeindex"
    index.write_bytes(index_bytes(batches, 500, [1, 4]))
    tindex.write_bytes(timeindex_bytes(batches, 500, [1, 4]))

    rc, out, err = run(sluice_bin, "dump-log", "--files", f"{log},{index},{tindex}")

    assert rc == 0, err
    assert [line for line in out.splitlines() if line.startswith("Dumping")] == [
        f"Dumping {log}", f"Dumping {index}", f"Dumping {tindex}"]
    assert batch_lines(out) == [b.batch_line() for b in batches]
