"""The broker's data path: Produce, Fetch (with long polling), ListOffsets, InitProducerId and
idempotent produce, OffsetForLeaderEpoch, across restarts and kill -9.

Three independent client stacks drive it (kcat and confluent-kafka on librdkafka, and the
pure-Python kafka-python), and raw sockets check what a client would paper over: duplicate
and out-of-order sequences, long-poll timing, error codes. Batches built by kafka-python's
DefaultRecordBatchBuilder are someone else's encoding. Every broker runs on 127.0.0.1 and a
free port and is stopped by PID; every loop is bounded in count and time.
"""
import glob
import os
import socket
import struct
import subprocess
import threading
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KTP
from kafka.record.default_records import DefaultRecordBatchBuilder

from brokerutil import Broker

TIMEOUT = 30.0
MIB = 1 << 20

# Kafka error codes
NONE = 0
OFFSET_OUT_OF_RANGE = 1
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
INVALID_REQUIRED_ACKS = 21
OUT_OF_ORDER_SEQUENCE_NUMBER = 45
INVALID_PRODUCER_EPOCH = 47
TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53
FENCED_LEADER_EPOCH = 74
UNKNOWN_LEADER_EPOCH = 75
INVALID_RECORD = 87
UNSUPPORTED_FOR_MESSAGE_FORMAT = 43


@pytest.fixture
def broker(sluice_bin, tmp_path):
    # 1 MiB values need more than Kafka's default message.max.bytes (1 MiB + 12)
    b = Broker(sluice_bin, tmp_path / "logs",
               overrides={"message.max.bytes": str(4 * MIB)}).start()
    yield b
    rc = b.stop()
    assert rc in (0, None), f"broker exited with {rc}:\n{b.log_text()[-4000:]}"
    assert "Sanitizer" not in b.log_text()


# ---- raw protocol ----

class Conn:
    """One Kafka connection speaking request header v1 (non-flexible versions only)."""

    def __init__(self, broker):
        self.sock = socket.create_connection(("127.0.0.1", broker.port), timeout=TIMEOUT)
        self.corr = 0

    def close(self):
        self.sock.close()

    def send(self, key, version, body):
        self.corr += 1
        cid = b"data-test"
        hdr = struct.pack(">hhih", key, version, self.corr, len(cid)) + cid
        payload = hdr + body
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)
        return self.corr

    def recv(self, corr):
        size = struct.unpack(">i", self._exact(4))[0]
        data = self._exact(size)
        assert struct.unpack(">i", data[:4])[0] == corr
        return Reader(data[4:])

    def call(self, key, version, body):
        return self.recv(self.send(key, version, body))

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            assert chunk, "connection closed"
            buf += chunk
        return buf


class Reader:
    def __init__(self, data):
        self.d = data
        self.p = 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.p)
        self.p += struct.calcsize(fmt)
        return v[0]

    def i8(self):
        return self.take(">b")

    def i16(self):
        return self.take(">h")

    def i32(self):
        return self.take(">i")

    def i64(self):
        return self.take(">q")

    def string(self):
        n = self.i16()
        if n < 0:
            return None
        s = self.d[self.p:self.p + n].decode()
        self.p += n
        return s

    def bytes_(self):
        n = self.i32()
        if n < 0:
            return None
        b = self.d[self.p:self.p + n]
        self.p += n
        return b


def s16(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def batch(values, producer_id=-1, epoch=-1, seq=-1, codec=0, ts=None):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=codec, is_transactional=False,
                                  producer_id=producer_id, producer_epoch=epoch,
                                  base_sequence=seq, batch_size=16 * MIB)
    ts = ts or int(time.time() * 1000)
    for i, v in enumerate(values):
        b.append(i, timestamp=ts + i, key=None, value=v, headers=[])
    return bytes(b.build())


def produce(conn, topic, partition, records, acks=-1, version=7, txn=None, append_time=None):
    """Produce one partition; returns (error, base_offset, log_start_offset) or None (acks 0).
    append_time: a list that receives the response's log_append_time_ms."""
    body = s16(txn) if version >= 3 else b""
    body += struct.pack(">hi", acks, 10000) + struct.pack(">i", 1) + s16(topic)
    body += struct.pack(">ii", 1, partition)
    body += struct.pack(">i", -1) if records is None else struct.pack(">i", len(records)) + records
    corr = conn.send(0, version, body)
    if acks == 0:
        return None
    r = conn.recv(corr)
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1
    assert r.i32() == partition
    err, base = r.i16(), r.i64()
    log_append_time = r.i64() if version >= 2 else None
    if append_time is not None:
        append_time.append(log_append_time)
    start = r.i64() if version >= 5 else None
    if version >= 8:
        for _ in range(r.i32()):
            r.i32()
            r.string()
        r.string()
    if version >= 1:
        assert r.i32() == 0  # throttle
    assert r.p == len(r.d)
    return err, base, start


def fetch(conn, topic, partition, offset, max_wait_ms=0, min_bytes=1, version=11,
          max_bytes=50 * MIB, part_max=MIB, leader_epoch=-1, no_wait=False):
    """Fetch one partition; returns (error, high_watermark, log_start, records bytes)."""
    body = struct.pack(">iiii", -1, max_wait_ms, min_bytes, max_bytes) + struct.pack(">b", 0)
    if version >= 7:
        body += struct.pack(">ii", 0, -1)
    body += struct.pack(">i", 1) + s16(topic) + struct.pack(">ii", 1, partition)
    if version >= 9:
        body += struct.pack(">i", leader_epoch)
    body += struct.pack(">q", offset)
    if version >= 5:
        body += struct.pack(">q", -1)
    body += struct.pack(">i", part_max)
    if version >= 7:
        body += struct.pack(">i", 0)
    if version >= 11:
        body += s16("")
    if no_wait:
        conn.send(1, version, body)
        return None
    r = conn.call(1, version, body)
    assert r.i32() == 0  # throttle
    if version >= 7:
        assert r.i16() == 0 and r.i32() == 0  # error, session id (no sessions)
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1
    assert r.i32() == partition
    err, hw, lso = r.i16(), r.i64(), r.i64()
    start = r.i64() if version >= 5 else None
    naborted = r.i32()
    for _ in range(max(naborted, 0)):
        r.i64()
        r.i64()
    if version >= 11:
        assert r.i32() == -1  # preferred read replica
    records = r.bytes_()
    assert r.p == len(r.d)
    assert lso == hw
    return err, hw, start, records


def batch_offsets(records):
    """(base offset, last offset) of each whole batch in a record set."""
    out = []
    p = 0
    while p + 12 <= len(records):
        base, length = struct.unpack_from(">qi", records, p)
        if p + 12 + length > len(records):
            break
        last_delta = struct.unpack_from(">i", records, p + 23)[0]
        out.append((base, base + last_delta))
        p += 12 + length
    return out


def list_offsets(conn, topic, partition, ts, version=5, leader_epoch=-1):
    body = struct.pack(">i", -1)
    if version >= 2:
        body += struct.pack(">b", 0)
    body += struct.pack(">i", 1) + s16(topic) + struct.pack(">ii", 1, partition)
    if version >= 4:
        body += struct.pack(">i", leader_epoch)
    body += struct.pack(">q", ts)
    r = conn.call(2, version, body)
    if version >= 2:
        r.i32()
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1 and r.i32() == partition
    err, found_ts, offset = r.i16(), r.i64(), r.i64()
    epoch = r.i32() if version >= 4 else None
    assert r.p == len(r.d)
    return err, found_ts, offset, epoch


def init_producer_id(conn, version=1, txn=None):
    r = conn.call(22, version, s16(txn) + struct.pack(">i", 60000))
    r.i32()
    return r.i16(), r.i64(), r.i16()


def ensure_topic(broker, topic, timeout=TIMEOUT):
    """Auto-create topic through a Metadata request from a client and wait for it."""
    p = new_producer(broker)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        md = p.list_topics(topic, timeout=5)
        t = md.topics.get(topic)
        if t is not None and t.error is None and t.partitions:
            return len(t.partitions)
        time.sleep(0.1)
    raise TimeoutError(f"topic {topic} was not created")


def consume_all(broker, topic, expected, partitions=(0,), timeout=TIMEOUT, extra=None):
    """Read `expected` messages from the start of the given partitions with confluent-kafka."""
    conf = {"bootstrap.servers": broker.bootstrap, "group.id": "data-test",
            "enable.auto.commit": False, "fetch.message.max.bytes": 2 * MIB,
            "receive.message.max.bytes": 64 * MIB, "fetch.wait.max.ms": 100}
    conf.update(extra or {})
    c = Consumer(conf)
    c.assign([TopicPartition(topic, p, 0) for p in partitions])
    out = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < expected and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            assert m.error() is None, m.error()
            out.append(m)
    finally:
        c.close()
    assert len(out) == expected, f"got {len(out)} of {expected}"
    return out


DELIVERY_ERRORS = []


def on_delivery(err, msg):
    if err is not None:
        DELIVERY_ERRORS.append(err)


def new_producer(broker, **conf):
    """A confluent-kafka producer whose delivery errors fail the next flush()."""
    conf = {k.replace("_", "."): v for k, v in conf.items()}
    conf.update({"bootstrap.servers": broker.bootstrap, "on_delivery": on_delivery})
    return Producer(conf)


def flush(p, timeout=TIMEOUT):
    assert p.flush(timeout) == 0, "messages left unsent"
    errors = list(DELIVERY_ERRORS)
    DELIVERY_ERRORS.clear()
    assert not errors, errors


def segments(broker, topic, partition):
    return sorted(glob.glob(os.path.join(broker.log_dir, f"{topic}-{partition}", "*.log")))


def dump_log(sluice_bin, path):
    proc = subprocess.run([sluice_bin, "dump-log", "--files", path], capture_output=True,
                          timeout=60, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# ---- tests ----

def test_data_kcat_keys_nulls_headers(broker):
    lines = "k1:v1\nk2:v2\n:nokey\n"
    subprocess.run(["kcat", "-b", broker.bootstrap, "-P", "-t", "kc", "-K:", "-H", "h1=x"],
                   input=lines, text=True, check=True, timeout=TIMEOUT)
    out = subprocess.run(["kcat", "-b", broker.bootstrap, "-C", "-t", "kc", "-e", "-f",
                          "%o|%k|%s|%h\n"], capture_output=True, text=True, check=True,
                         timeout=TIMEOUT).stdout
    assert out.splitlines() == ["0|k1|v1|h1=x", "1|k2|v2|h1=x", "2||nokey|h1=x"]


def test_data_confluent_values_keys_headers(broker):
    ensure_topic(broker, "cv")
    p = new_producer(broker, message_max_bytes=2 * MIB, linger_ms=5)
    big = os.urandom(MIB)
    msgs = [(b"k", b"v", [("h", b"1"), ("h2", None)]), (None, b"no key", None),
            (b"empty", b"", None), (b"null", None, None), (b"big", big, [("n", b"x")])]
    for k, v, h in msgs:
        p.produce("cv", key=k, value=v, headers=h, partition=0)
    flush(p)
    got = consume_all(broker, "cv", len(msgs))
    for (k, v, h), m in zip(msgs, got):
        assert m.key() == k and m.value() == v
        assert (m.headers() or None) == h
    assert [m.offset() for m in got] == list(range(len(msgs)))


def test_data_kafka_python_roundtrip_and_offsets(broker):
    ensure_topic(broker, "kp")
    prod = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all",
                         max_request_size=2 * MIB)
    t0 = int(time.time() * 1000) - 100000
    futs = [prod.send("kp", key=b"k%d" % i, value=b"v%d" % i, partition=0,
                      timestamp_ms=t0 + i * 1000, headers=[("i", b"%d" % i)]) for i in range(20)]
    prod.send("kp", value=os.urandom(MIB), partition=0, timestamp_ms=t0 + 30000)
    prod.flush(TIMEOUT)
    assert [f.get(TIMEOUT).offset for f in futs] == list(range(20))
    prod.close(TIMEOUT)

    cons = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None,
                         enable_auto_commit=False, consumer_timeout_ms=10000,
                         max_partition_fetch_bytes=2 * MIB, fetch_max_bytes=64 * MIB)
    tp = KTP("kp", 0)
    cons.assign([tp])
    assert cons.beginning_offsets([tp])[tp] == 0
    assert cons.end_offsets([tp])[tp] == 21
    found = cons.offsets_for_times({tp: t0 + 5500})[tp]
    assert found.offset == 6 and found.timestamp == t0 + 6000
    assert cons.offsets_for_times({tp: t0 + 10 ** 9})[tp] is None
    cons.seek_to_beginning(tp)
    got = []
    for m in cons:
        got.append(m)
        if len(got) == 21:
            break
    cons.close()
    assert [m.value for m in got[:20]] == [b"v%d" % i for i in range(20)]
    assert got[3].key == b"k3" and got[3].headers == [("i", b"3")] and got[3].timestamp == t0 + 3000
    assert len(got[20].value) == MIB


def advertised_apis(broker):
    """API keys in the broker's ApiVersions v0 answer."""
    c = Conn(broker)
    r = c.call(18, 0, b"")
    c.close()
    assert r.i16() == 0
    keys = set()
    for _ in range(r.i32()):
        keys.add(r.i16())
        r.i16()  # min version
        r.i16()  # max version
    return keys


def disk_codecs(sluice_bin, broker, topic):
    """The codec and record count of every batch on disk, per `sluice dump-log`."""
    out = "".join(dump_log(sluice_bin, s) for s in segments(broker, topic, 0))
    batches = [l for l in out.splitlines() if l.startswith("baseOffset:")]
    return [(l.split("compresscodec: ")[1].split()[0].lower(), int(l.split("count: ")[1].split()[0]))
            for l in batches]


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_data_codecs_on_disk(broker, sluice_bin, codec):
    values = [b"value %d " % i * 10 for i in range(300)]
    # kafka-python compresses every batch it forms
    topic = f"codec-kp-{codec}"
    ensure_topic(broker, topic)
    kp = KafkaProducer(bootstrap_servers=broker.bootstrap, compression_type=codec,
                       linger_ms=50, batch_size=64 * 1024)
    for v in values:
        kp.send(topic, value=v, partition=0)
    kp.flush(TIMEOUT)
    kp.close(TIMEOUT)
    on_disk = disk_codecs(sluice_bin, broker, topic)
    assert on_disk and all(c == codec for c, _ in on_disk), on_disk
    assert any(n > 1 for _, n in on_disk), "no multi-record batch formed"
    got = consume_all(broker, topic, 300)
    assert [m.value() for m in got] == values

    # librdkafka compresses gzip/snappy/lz4 only for brokers that advertise FindCoordinator
    # (its marker for Kafka >= 0.8.2), which the group coordinator brings; zstd needs
    # Produce v7.
    topic = f"codec-rdk-{codec}"
    ensure_topic(broker, topic)
    p = new_producer(broker, compression_type=codec, linger_ms=50, batch_num_messages=100)
    for v in values:
        p.produce(topic, value=v, partition=0)
    flush(p)
    got = consume_all(broker, topic, 300)
    assert [m.value() for m in got] == values
    assert 10 in advertised_apis(broker)
    on_disk = disk_codecs(sluice_bin, broker, topic)
    assert on_disk and all(c == codec for c, _ in on_disk), on_disk
    assert any(n > 1 for _, n in on_disk), "no multi-record batch formed"


def test_data_many_partitions_and_explicit_partition(sluice_bin, tmp_path):
    b = Broker(sluice_bin, tmp_path / "logs", overrides={"num.partitions": "12"}).start()
    try:
        assert ensure_topic(b, "many") == 12
        p = new_producer(b, linger_ms=5)
        for part in range(12):
            for i in range(5):
                p.produce("many", value=b"%d-%d" % (part, i), partition=part)
        flush(p)
        got = consume_all(b, "many", 60, partitions=range(12))
        for m in got:
            assert m.value().startswith(b"%d-" % m.partition())
        # Unknown partition: raw Produce gets UNKNOWN_TOPIC_OR_PARTITION.
        c = Conn(b)
        assert produce(c, "many", 12, batch([b"x"]))[0] == UNKNOWN_TOPIC_OR_PARTITION
        assert fetch(c, "many", 99, 0)[0] == UNKNOWN_TOPIC_OR_PARTITION
        c.close()
    finally:
        assert b.stop() in (0, None)


def test_data_key_partitioning_stable_across_restart(sluice_bin, tmp_path):
    b = Broker(sluice_bin, tmp_path / "logs", overrides={"num.partitions": "6"}).start()
    keys = [b"key-%d" % i for i in range(40)]

    def placement(broker):
        seen = {}

        def cb(err, msg):
            assert err is None, err
            seen[msg.key()] = msg.partition()
        p = new_producer(broker, linger_ms=5)
        for k in keys:
            p.produce("keyed", key=k, value=b"v", on_delivery=cb)
        flush(p)
        return seen
    try:
        ensure_topic(b, "keyed")
        first = placement(b)
        assert len(set(first.values())) > 1
        assert b.stop() == 0
        b.start()
        assert placement(b) == first
    finally:
        assert b.stop() in (0, None)


@pytest.mark.parametrize("acks", ["0", "1", "all"])
def test_data_acks(broker, acks):
    topic = f"acks-{acks}"
    ensure_topic(broker, topic)
    p = new_producer(broker, acks=acks, linger_ms=5)
    for i in range(50):
        p.produce(topic, value=b"%d" % i, partition=0)
    flush(p)
    got = consume_all(broker, topic, 50)
    assert [m.value() for m in got] == [b"%d" % i for i in range(50)]


def test_data_acks_raw(broker):
    ensure_topic(broker, "rawacks")
    c = Conn(broker)
    assert produce(c, "rawacks", 0, batch([b"a"]), acks=0) is None
    assert produce(c, "rawacks", 0, batch([b"b"]), acks=2)[0] == INVALID_REQUIRED_ACKS
    stamps = []
    err, base, start = produce(c, "rawacks", 0, batch([b"c"]), acks=1, append_time=stamps)
    assert (err, base, start) == (NONE, 1, 0)  # the acks=0 record went in first
    assert stamps == [-1]  # CreateTime topics answer -1
    assert produce(c, "rawacks", 0, batch([b"t"]), txn="tx")[0] == \
        TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    # exactly one batch per partition (Kafka's v3+ rule), and a null record set
    assert produce(c, "rawacks", 0, batch([b"d"]) + batch([b"e"]))[0] == INVALID_RECORD
    assert produce(c, "rawacks", 0, None)[0] == INVALID_RECORD
    assert produce(c, "rawacks", 0, batch([os.urandom(5 * MIB)]))[0] == MESSAGE_TOO_LARGE
    for v in range(0, 9):
        err, base, start = produce(c, "rawacks", 0, batch([b"v%d" % v]), version=v)
        assert err == NONE and base == v + 2
        assert start == (0 if v >= 5 else None)
    # v0-2 framing is accepted with record batches v2 only; message sets v0/v1 are refused
    old = batch([b"old"])
    old = old[:16] + b"\x01" + old[17:]
    assert produce(c, "rawacks", 0, old, version=2)[0] == UNSUPPORTED_FOR_MESSAGE_FORMAT
    assert produce(c, "rawacks", 0, old, version=3)[0] == INVALID_RECORD
    c.close()


def test_data_idempotent_confluent_no_duplicates(broker):
    ensure_topic(broker, "idem")
    p = new_producer(broker, enable_idempotence=True, linger_ms=5, batch_num_messages=50)
    for i in range(2000):
        p.produce("idem", value=b"%d" % i, partition=0)
    flush(p)
    got = consume_all(broker, "idem", 2000)
    assert [m.value() for m in got] == [b"%d" % i for i in range(2000)]


def test_data_idempotent_sequences_raw_and_after_restart(sluice_bin, tmp_path):
    b = Broker(sluice_bin, tmp_path / "logs").start()
    try:
        ensure_topic(b, "seq")
        c = Conn(b)
        err, pid, epoch = init_producer_id(c)
        assert err == NONE and pid >= 0 and epoch == 0
        err2, pid2, _ = init_producer_id(c, version=0)
        assert err2 == NONE and pid2 != pid
        assert init_producer_id(c, txn="tx")[0] == TRANSACTIONAL_ID_AUTHORIZATION_FAILED

        b0 = batch([b"a", b"b"], pid, 0, 0)
        assert produce(c, "seq", 0, b0)[:2] == (NONE, 0)
        assert produce(c, "seq", 0, batch([b"a", b"b"], pid, 0, 0))[:2] == (NONE, 0)  # dup
        assert produce(c, "seq", 0, batch([b"c"], pid, 0, 2))[:2] == (NONE, 2)
        assert produce(c, "seq", 0, batch([b"x"], pid, 0, 7))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
        assert produce(c, "seq", 0, batch([b"d"], pid, 1, 0))[:2] == (NONE, 3)  # new epoch
        assert produce(c, "seq", 0, batch([b"e"], pid, 0, 3))[0] == INVALID_PRODUCER_EPOCH
        assert produce(c, "seq", 0, batch([b"f"], pid, 1, 1))[:2] == (NONE, 4)
        c.close()

        for how in ("stop", "kill"):
            if how == "stop":
                assert b.stop() == 0
            else:
                b.kill()
            b.start()
            c = Conn(b)
            # the retry of the last batch is still recognised, from the log's tail
            assert produce(c, "seq", 0, batch([b"f"], pid, 1, 1))[:2] == (NONE, 4)
            assert produce(c, "seq", 0, batch([b"d"], pid, 1, 0))[:2] == (NONE, 3)
            assert produce(c, "seq", 0, batch([b"e"], pid, 0, 3))[0] == INVALID_PRODUCER_EPOCH
            # a new id never repeats one handed out before the restart
            err3, pid3, _ = init_producer_id(c)
            assert err3 == NONE and pid3 not in (pid, pid2)
            pid2 = max(pid2, pid3)
            err, hw, _, recs = fetch(c, "seq", 0, 0)
            assert err == NONE and hw == 5
            assert batch_offsets(recs) == [(0, 1), (2, 2), (3, 3), (4, 4)]
            c.close()
    finally:
        if b.proc is not None:
            assert b.stop() in (0, None)


def test_data_long_poll_raw(broker):
    ensure_topic(broker, "lp")
    c = Conn(broker)
    # nothing arrives: answered after max_wait_ms, empty
    t = time.monotonic()
    err, hw, _, recs = fetch(c, "lp", 0, 0, max_wait_ms=600)
    waited = time.monotonic() - t
    assert err == NONE and hw == 0 and recs == b"" and 0.5 <= waited < 5
    # a produce 1 s later completes a fetch that would wait 20 s
    producer = Conn(broker)
    timer = threading.Timer(1.0, lambda: produce(producer, "lp", 0, batch([b"late"])))
    timer.start()
    t = time.monotonic()
    err, hw, _, recs = fetch(c, "lp", 0, 0, max_wait_ms=20000)
    waited = time.monotonic() - t
    timer.join()
    assert err == NONE and hw == 1 and batch_offsets(recs) == [(0, 0)]
    assert 0.8 <= waited < 5, waited
    # min_bytes larger than one batch: the fetch waits for a second produce
    one = len(batch([b"x" * 100]))
    timer = threading.Timer(0.3, lambda: [produce(producer, "lp", 0, batch([b"x" * 100]))
                                          for _ in range(2)])
    timer.start()
    err, hw, _, recs = fetch(c, "lp", 0, 1, max_wait_ms=20000, min_bytes=2 * one)
    timer.join()
    assert err == NONE and len(batch_offsets(recs)) == 2
    # a connection closed while its fetch is parked leaves the broker healthy
    c2 = Conn(broker)
    c2.send(1, 11, b"")  # malformed: closes that connection only
    c3 = Conn(broker)
    body = struct.pack(">iiii", -1, 30000, 1, MIB) + b"\x00" + struct.pack(">ii", 0, -1)
    body += struct.pack(">i", 1) + s16("lp") + struct.pack(">iiiqqi", 1, 0, -1, 100, -1, MIB)
    body += struct.pack(">i", 0) + s16("")
    c3.send(1, 11, body)
    time.sleep(0.2)
    c3.close()
    c2.close()
    producer.close()
    c.close()
    # and one still parked when the broker stops (the fixture checks a clean exit)
    c4 = Conn(broker)
    c4.send(1, 11, body)
    time.sleep(0.2)


def test_data_long_poll_consumer(broker):
    ensure_topic(broker, "lpc")
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "lp",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 10000})
    c.assign([TopicPartition("lpc", 0, 0)])
    c.poll(0.5)  # let the first (parked) fetch go out
    p = new_producer(broker)
    threading.Timer(1.0, lambda: (p.produce("lpc", value=b"now", partition=0), p.flush(10))).start()
    t = time.monotonic()
    m = None
    while m is None and time.monotonic() - t < 15:
        m = c.poll(0.5)
    waited = time.monotonic() - t
    c.close()
    assert m is not None and m.error() is None and m.value() == b"now"
    assert waited < 6, f"record arrived after {waited:.1f}s: the long poll was not woken"


def test_data_list_offsets(broker):
    ensure_topic(broker, "lo")
    c = Conn(broker)
    base_ts = int(time.time() * 1000) - 3600 * 1000
    for i in range(5):
        produce(c, "lo", 0, batch([b"a", b"b"], ts=base_ts + i * 1000))
    for v in range(1, 6):
        assert list_offsets(c, "lo", 0, -2, version=v)[:3] == (NONE, -1, 0)
        assert list_offsets(c, "lo", 0, -1, version=v)[:3] == (NONE, -1, 10)
        err, ts, off, epoch = list_offsets(c, "lo", 0, base_ts + 1500, version=v)
        assert (err, ts, off) == (NONE, base_ts + 2000, 4)
        assert epoch == (0 if v >= 4 else None)
        assert list_offsets(c, "lo", 0, base_ts + 10 ** 7, version=v)[:3] == (NONE, -1, -1)
    assert list_offsets(c, "lo", 0, -1, leader_epoch=5)[0] == UNKNOWN_LEADER_EPOCH
    assert list_offsets(c, "lo", 3, -1)[0] == UNKNOWN_TOPIC_OR_PARTITION
    assert list_offsets(c, "nope", 0, -1)[0] == UNKNOWN_TOPIC_OR_PARTITION
    assert fetch(c, "lo", 0, 0, leader_epoch=1)[0] == UNKNOWN_LEADER_EPOCH
    assert fetch(c, "lo", 0, 0, leader_epoch=0)[0] == NONE
    # OffsetForLeaderEpoch v3: epoch 0 ends at the log end
    body = struct.pack(">i", -1) + struct.pack(">i", 1) + s16("lo") + struct.pack(">iiii", 1, 0, -1, 0)
    r = c.call(23, 3, body)
    r.i32()
    assert r.i32() == 1 and r.string() == "lo" and r.i32() == 1
    assert (r.i16(), r.i32(), r.i32(), r.i64()) == (NONE, 0, 0, 10)
    c.close()

    p = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "lo"})
    lo, hi = p.get_watermark_offsets(TopicPartition("lo", 0), timeout=10)
    assert (lo, hi) == (0, 10)
    res = p.offsets_for_times([TopicPartition("lo", 0, base_ts + 2500)], timeout=10)
    assert res[0].offset == 6
    p.close()


def test_data_fetch_versions_and_out_of_range(broker):
    ensure_topic(broker, "fv")
    c = Conn(broker)
    for i in range(10):
        produce(c, "fv", 0, batch([b"%d" % i]))
    for v in range(4, 12):
        err, hw, start, recs = fetch(c, "fv", 0, 3, version=v)
        assert err == NONE and hw == 10 and start == (0 if v >= 5 else None)
        assert batch_offsets(recs)[0] == (3, 3) and len(batch_offsets(recs)) == 7
    assert fetch(c, "fv", 0, 11)[0] == OFFSET_OUT_OF_RANGE
    assert fetch(c, "fv", 0, -5)[0] == OFFSET_OUT_OF_RANGE
    assert fetch(c, "fv", 0, 10)[:2] == (NONE, 10)
    # partition_max_bytes bounds the data, but the first batch always comes whole
    one = len(batch([b"0"]))
    err, _, _, recs = fetch(c, "fv", 0, 0, part_max=1)
    assert err == NONE and len(batch_offsets(recs)) == 1
    err, _, _, recs = fetch(c, "fv", 0, 0, part_max=3 * one)
    assert len(recs) <= 3 * one and len(batch_offsets(recs)) == 3
    c.close()


@pytest.mark.parametrize("reset,expected", [("earliest", [b"old", b"new"]), ("latest", [b"new"])])
def test_data_auto_offset_reset(broker, reset, expected):
    topic = f"reset-{reset}"
    ensure_topic(broker, topic)
    p = new_producer(broker)
    p.produce(topic, value=b"old", partition=0)
    flush(p)
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "r",
                  "enable.auto.commit": False, "auto.offset.reset": reset,
                  "fetch.wait.max.ms": 100})
    c.assign([TopicPartition(topic, 0, 1000)])  # out of range
    got = []
    deadline = time.monotonic() + 20
    produced = False
    while len(got) < len(expected) and time.monotonic() < deadline:
        m = c.poll(0.3)
        if m is not None and m.error() is None:
            got.append(m.value())
        if not produced and (got or time.monotonic() > deadline - 17):
            p.produce(topic, value=b"new", partition=0)
            flush(p)
            produced = True
    c.close()
    assert got == expected


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_data_restart_offsets_continue(sluice_bin, tmp_path, how):
    b = Broker(sluice_bin, tmp_path / "logs").start()
    try:
        ensure_topic(b, "rs")
        p = new_producer(b, linger_ms=5, acks="all")
        for i in range(1000):
            p.produce("rs", value=b"%d" % i, partition=0)
        flush(p)
        if how == "stop":
            assert b.stop() == 0
        else:
            b.kill()
        b.start()
        got = consume_all(b, "rs", 1000)
        assert [m.value() for m in got] == [b"%d" % i for i in range(1000)]
        c = Conn(b)
        assert produce(c, "rs", 0, batch([b"after"]))[:2] == (NONE, 1000)
        c.close()
    finally:
        if b.proc is not None:
            assert b.stop() in (0, None)


def test_data_fetch_across_segments(sluice_bin, tmp_path):
    b = Broker(sluice_bin, tmp_path / "logs",
               overrides={"log.segment.bytes": "4096"}).start()
    try:
        ensure_topic(b, "segs")
        c = Conn(b)
        for i in range(200):
            assert produce(c, "segs", 0, batch([b"%03d" % i + b"." * 100]))[:2] == (NONE, i)
        assert len(segments(b, "segs", 0)) > 5
        # one fetch returns batches from several segments, in order, whole
        err, hw, _, recs = fetch(c, "segs", 0, 7, part_max=10 * MIB)
        assert err == NONE and hw == 200
        assert batch_offsets(recs) == [(i, i) for i in range(7, 200)]
        # the response's max_bytes caps the total (beyond the first batch)
        err, _, _, recs = fetch(c, "segs", 0, 0, max_bytes=2000, part_max=10 * MIB)
        assert 0 < len(recs) <= 2000
        c.close()
        got = consume_all(b, "segs", 200)
        assert [m.offset() for m in got] == list(range(200))
    finally:
        assert b.stop() in (0, None)


def test_data_log_append_time(sluice_bin, tmp_path):
    b = Broker(sluice_bin, tmp_path / "logs",
               overrides={"log.message.timestamp.type": "LogAppendTime"}).start()
    try:
        ensure_topic(b, "lat")
        c = Conn(b)
        stamps = []
        before = int(time.time() * 1000)
        assert produce(c, "lat", 0, batch([b"a"], ts=1000), append_time=stamps)[0] == NONE
        after = int(time.time() * 1000)
        assert before - 1000 <= stamps[0] <= after + 1000
        c.close()
        m = consume_all(b, "lat", 1)[0]
        assert m.timestamp()[1] == stamps[0]  # the broker's time, not the producer's 1000
    finally:
        assert b.stop() in (0, None)


def test_data_parked_fetch_of_departed_client_is_dropped(broker):
    """A client that sends a long-poll Fetch and hangs up does not keep its connection."""
    ensure_topic(broker, "parked")
    fds = f"/proc/{broker.proc.pid}/fd"

    def sockets():
        # Sockets only: segment and index files open and close on their own schedule.
        n = 0
        for fd in os.listdir(fds):
            try:
                n += os.readlink(f"{fds}/{fd}").startswith("socket:")
            except FileNotFoundError:
                pass
        return n

    base = sockets()
    conns = [Conn(broker) for _ in range(50)]
    for c in conns:
        fetch(c, "parked", 0, 0, max_wait_ms=2**31 - 1, min_bytes=2**31 - 1, no_wait=True)
    time.sleep(0.5)
    assert sockets() >= base + 50
    for c in conns:
        c.close()
    deadline = time.monotonic() + 10
    while sockets() > base and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sockets() <= base
    # and the broker still answers
    c = Conn(broker)
    assert produce(c, "parked", 0, batch([b"x"]))[0] == NONE
    c.close()


def test_data_kill_after_checkpoint_keeps_acknowledged_visible(sluice_bin, tmp_path):
    """Records acknowledged after the last high-watermark checkpoint are visible after a crash:
    a single node is the only replica, so its high watermark is its log end."""
    b = Broker(sluice_bin, tmp_path / "logs",
               overrides={"log.flush.offset.checkpoint.interval.ms": "2000"}).start()
    try:
        ensure_topic(b, "hwck")
        c = Conn(b)
        for i in range(5):
            assert produce(c, "hwck", 0, batch([b"a%d" % i]), acks=1)[0] == NONE
        # Wait for the checkpoint that records high watermark 5; the next one is ~2 s away,
        # long after the appends and the kill below.
        path = tmp_path / "logs" / "replication-offset-checkpoint"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if path.exists() and "hwck 0 5" in path.read_text():
                break
            time.sleep(0.01)
        assert "hwck 0 5" in path.read_text()
        for i in range(5):
            assert produce(c, "hwck", 0, batch([b"b%d" % i]), acks=1)[0] == NONE
        c.close()
        b.kill()
        assert "hwck 0 5" in path.read_text()  # the crash left the stale checkpoint
        b.start()
        c = Conn(b)
        err, hw, _start, records = fetch(c, "hwck", 0, 0)
        assert err == NONE and hw == 10
        assert batch_offsets(records)[-1][1] == 9
        c.close()
    finally:
        if b.proc is not None:
            assert b.stop() in (0, None)


def test_data_idempotent_state_forgotten_with_deleted_topic(broker):
    """A topic deleted and made again starts with no producer state: the same producer's
    sequence 0 is new data there, not a duplicate to drop."""
    from confluent_kafka.admin import AdminClient

    ensure_topic(broker, "again")
    c = Conn(broker)
    err, pid, epoch = init_producer_id(c)
    assert err == NONE
    assert produce(c, "again", 0, batch([b"first"], pid, epoch, 0))[:2] == (NONE, 0)
    a = AdminClient({"bootstrap.servers": broker.bootstrap})
    a.delete_topics(["again"])["again"].result(TIMEOUT)
    deadline = time.monotonic() + TIMEOUT
    while "again" in a.list_topics(timeout=5).topics and time.monotonic() < deadline:
        time.sleep(0.1)
    ensure_topic(broker, "again")
    assert produce(c, "again", 0, batch([b"second"], pid, epoch, 0))[:2] == (NONE, 0)
    _err, hw, _start, records = fetch(c, "again", 0, 0)
    assert hw == 1 and b"second" in records
    c.close()
