"""The kafka sink's in-process path to the embedded broker, read back with confluent-kafka
and kcat: the same records as librdkafka produces for the same events (key-hash partition,
record headers with header.<name> renaming, values, order per partition), topic, partition and
timestamp from headers into auto-created topics with each compression codec, a take
transaction of several MB split into several record batches, and a partition that does not
exist yet: the events wait in the channel (rolled back, retried) and arrive once
`sluice topics --alter` adds it."""
import subprocess
import time

import pytest
from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

from agentutil import Agent, nc_send
from brokerutil import free_port


def dump_log(sluice_bin, logs, partition_dir, data=False):
    """`sluice dump-log` of the partition's first segment: its stdout."""
    r = subprocess.run([sluice_bin, "dump-log"] + (["--print-data-log"] if data else []) +
                       ["--files", str(logs / partition_dir / "00000000000000000000.log")],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


def consume_all(bootstrap, topic, partitions, expected, timeout=30.0):
    """Every record of the topic's partitions: [(partition, value, key, headers, ts)]."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "inproc-test",
                  "enable.auto.commit": False, "topic.metadata.refresh.interval.ms": 500})
    out = []
    deadline = time.monotonic() + timeout
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        while len(out) < expected and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            out.append((m.partition(), m.value().decode(),
                        m.key().decode() if m.key() is not None else None,
                        {k: v.decode() for k, v in m.headers() or []}, m.timestamp()))
    finally:
        c.close()
    return out


def agent_yaml(port, bport, logs, sinks, channels=("c1",), interceptors="", partitions=4):
    ch = "".join(f"  {c}: {{type: memory, capacity: 5000, transactionCapacity: 500}}\n"
                 for c in channels)
    return (f"agent: {{name: a1}}\n"
            f"broker:\n  listeners: PLAINTEXT://127.0.0.1:{bport}\n  log.dirs: {logs}\n"
            f"  num.partitions: {partitions}\n"
            f"sources:\n  r1:\n    type: netcat\n    bind: 127.0.0.1\n    port: {port}\n"
            f"    max-line-length: 20000\n"
            f"    channels: [{', '.join(channels)}]\n{interceptors}"
            f"channels:\n{ch}sinks:\n{sinks}")


def test_inprocess_records_match_librdkafka(sluice_bin, tmp_path):
    """One agent, two channels, two kafka sinks to the embedded broker: one in-process, one
    through librdkafka. Every record must be the same in both topics."""
    port, bport = free_port(), free_port()
    sinks = ("  direct: {type: kafka, channel: c1, topic: viaproc, batchSize: 40,\n"
             "           header.origin: source}\n"
             "  rdk: {type: kafka, channel: c2, topic: viardk, batchSize: 40, linger.ms: 1,\n"
             "        embeddedInProcess: false, header.origin: source}\n")
    icp = ("    interceptors:\n"
           "      - {type: regex_extractor, regex: '^(?<key>k[0-9]+) '}\n"
           "      - {type: static, key: origin, value: netcat}\n")
    cfg = agent_yaml(port, bport, tmp_path / "logs", sinks, ("c1", "c2"), icp)
    a = Agent(sluice_bin, tmp_path, cfg).start(port)
    lines = [f"k{i % 13} line-{i:04d}" for i in range(400)] + [f"nokey-{i}" for i in range(30)]
    t0 = int(time.time() * 1000)
    try:
        assert nc_send(port, lines) == ["OK"] * len(lines)
        boot = f"127.0.0.1:{bport}"
        got = {t: consume_all(boot, t, 4, len(lines)) for t in ("viaproc", "viardk")}
    finally:
        rc = a.stop()
    t1 = int(time.time() * 1000)
    assert rc == 0, a.log_text()[-3000:]
    log = a.log_text()
    assert "producing in-process to the embedded broker, topic viaproc" in log
    assert "producing to 127.0.0.1" in log
    for t in got:
        assert sorted(r[1] for r in got[t]) == sorted(lines), t
    by_value = {t: {r[1]: r for r in got[t]} for t in got}
    keyed = [l for l in lines if l.startswith("k")]
    for v in keyed:
        d, r = by_value["viaproc"][v], by_value["viardk"][v]
        assert d[0] == r[0], f"{v}: partition {d[0]} in-process, {r[0]} through librdkafka"
        assert d[2] == r[2] == v.split()[0]
        assert d[3] == r[3] == {"key": v.split()[0], "source": "netcat"}
        ts_type, ts = d[4]
        assert ts_type == 1 and t0 <= ts <= t1  # CreateTime, stamped by the sink
    # Several partitions are used, and each keeps the order the lines were sent in.
    assert len({by_value["viaproc"][v][0] for v in keyed}) > 1
    for t in got:
        for p in range(4):
            vals = [r[1] for r in got[t] if r[0] == p]
            assert vals == [l for l in lines if l in set(vals)], (t, p)
    for v in lines[400:]:
        for t in got:
            assert by_value[t][v][2] is None and by_value[t][v][3] == {"source": "netcat"}


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_inprocess_topic_partition_timestamp_from_headers(sluice_bin, tmp_path, codec):
    port, bport = free_port(), free_port()
    sinks = (f"  k1: {{type: kafka, channel: c1, topic: fallback, batchSize: 100,\n"
             f"       compression.type: {codec}, partitionIdHeader: p, timestampHeader: ts}}\n")
    icp = ("    interceptors:\n"
           "      - {type: regex_extractor, regex: '^(?<topic>t[a-z]+) (?<p>[0-9]) "
           "(?<ts>[0-9]+) '}\n")
    cfg = agent_yaml(port, bport, tmp_path / "logs", sinks, interceptors=icp, partitions=2)
    a = Agent(sluice_bin, tmp_path, cfg).start(port)
    lines = []
    for i in range(120):
        topic = ("tone", "ttwo", "tthree")[i % 3]
        lines.append(f"{topic} {i % 2} {1700000000000 + i} payload-{i:03d} " + "x" * (i % 50))
    lines += ["no header here"]
    try:
        assert nc_send(port, lines) == ["OK"] * len(lines)
        boot = f"127.0.0.1:{bport}"
        got = {t: consume_all(boot, t, 2, 40) for t in ("tone", "ttwo", "tthree")}
        fallback = consume_all(boot, "fallback", 2, 1)
        out = dump_log(sluice_bin, tmp_path / "logs", "tone-0")
    finally:
        rc = a.stop()
    assert rc == 0, a.log_text()[-3000:]
    for t, recs in got.items():
        want = [l for l in lines if l.startswith(t + " ")]
        assert sorted(r[1] for r in recs) == sorted(want)
        for part, value, key, hdrs, (ts_type, ts) in recs:
            _, p, tsv, _ = value.split(" ", 3)
            assert part == int(p) and ts_type == 1 and ts == int(tsv)
            assert hdrs == {"topic": t, "p": p, "ts": tsv} and key is None
    assert [r[1] for r in fallback] == ["no header here"]
    assert f"compresscodec: {codec}" in out.lower(), out[:2000]


def test_inprocess_large_take_and_missing_partition(sluice_bin, tmp_path):
    """A take of ~4 MB becomes several record batches, in order; a record for a partition
    that does not exist waits in the channel until `sluice topics --alter` adds it."""
    port, bport = free_port(), free_port()
    sinks = ("  big: {type: kafka, channel: c1, topic: big, batchSize: 500, defaultPartitionId: 0}\n"
             "  later: {type: kafka, channel: c2, topic: later, batchSize: 10,\n"
             "          partitionIdHeader: p}\n")
    icp = ("    selector:\n      type: multiplexing\n      header: dest\n"
           "      mapping: {big: [c1], later: [c2]}\n"
           "    interceptors:\n"
           "      - {type: regex_extractor, regex: '^(?<dest>big|later) (?<p>[0-9]+)'}\n")
    cfg = agent_yaml(port, bport, tmp_path / "logs", sinks, ("c1", "c2"), icp, partitions=2)
    a = Agent(sluice_bin, tmp_path, cfg).start(port)
    big = [f"big 0 {i:04d} " + chr(97 + i % 26) * 8000 for i in range(500)]
    boot = f"127.0.0.1:{bport}"
    try:
        assert nc_send(port, ["later 5 waits for partition 5"]) == ["OK"]
        assert nc_send(port, big) == ["OK"] * len(big)
        recs = consume_all(boot, "big", 1, len(big))
        assert [r[1] for r in recs] == big
        # Several batches: the partition's log holds more than one batch for 500 records.
        out = dump_log(sluice_bin, tmp_path / "logs", "big-0")
        assert out.count("baseOffset:") >= 4, out[:2000]
        time.sleep(1.0)
        assert consume_all(boot, "later", 2, 1, timeout=3) == []
        assert "topic later has no partition 5 (it has 2)" in a.log_text()
        r = subprocess.run([sluice_bin, "topics", "--bootstrap-server", boot, "--alter",
                            "--topic", "later", "--partitions", "6"],
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr.decode()
        recs = consume_all(boot, "later", 6, 1, timeout=30)
        assert [(r[0], r[1]) for r in recs] == [(5, "later 5 waits for partition 5")]
    finally:
        rc = a.stop()
    assert rc == 0, a.log_text()[-3000:]


def test_inprocess_respects_max_message_bytes(sluice_bin, tmp_path):
    """Batches are split under the broker's message.max.bytes, each batch's max timestamp is
    its records' largest; a record the broker refuses (larger than that) is reported with the
    broker's error and rolled back again and again, never appended."""
    port, bport = free_port(), free_port()
    sinks = ("  small: {type: kafka, channel: c1, topic: small, batchSize: 200,\n"
             "          defaultPartitionId: 0, timestampHeader: ts}\n"
             "  toobig: {type: kafka, channel: c2, topic: toobig, batchSize: 10}\n")
    icp = ("    selector:\n      type: multiplexing\n      header: dest\n"
           "      mapping: {small: [c1], big: [c2]}\n"
           "    interceptors:\n"
           "      - {type: regex_extractor, regex: '^(?<dest>small|big) (?<ts>[0-9]+) '}\n")
    cfg = agent_yaml(port, bport, tmp_path / "logs", sinks, ("c1", "c2"), icp, partitions=1)
    cfg = cfg.replace("  num.partitions: 1\n", "  num.partitions: 1\n  message.max.bytes: 60000\n")
    cfg = cfg.replace("    max-line-length: 20000\n", "    max-line-length: 100000\n")
    cfg = cfg.replace("agent: {name: a1}", "agent: {name: a1, drainTimeoutMs: 1000}")
    a = Agent(sluice_bin, tmp_path, cfg).start(port)
    # Timestamps run backwards, so a batch's first record is not its latest.
    small = [f"small {1700000002000 - i * 10} {i:03d} " + "s" * 2000 for i in range(200)]
    boot = f"127.0.0.1:{bport}"
    try:
        assert nc_send(port, small + ["big 1700000000000 " + "b" * 70000]) == ["OK"] * 201
        recs = consume_all(boot, "small", 1, len(small))
        assert [r[1] for r in recs] == small
        assert [r[4][1] for r in recs] == [int(l.split()[1]) for l in small]
        deadline = time.monotonic() + 20
        while "Kafka error 10" not in a.log_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        log = a.log_text()
        assert "records not appended by the embedded broker to toobig-0" in log, log[-3000:]
        assert "Kafka error 10" in log  # MESSAGE_TOO_LARGE
        assert consume_all(boot, "toobig", 1, 1, timeout=2) == []
        out = dump_log(sluice_bin, tmp_path / "logs", "small-0", data=True)
    finally:
        a.stop()
    batches = []
    for line in out.splitlines():
        if line.startswith("baseOffset:"):
            f = line.split()
            batches.append({"size": int(f[f.index("size:") + 1]),
                            "max": int(f[f.index("CreateTime:") + 1]), "ts": []})
        elif line.startswith("| offset:"):
            f = line.split()
            batches[-1]["ts"].append(int(f[f.index("CreateTime:") + 1]))
    assert len(batches) >= 7  # 200 records of ~2 KB: at least 7 batches under 60000 bytes
    assert sum(len(b["ts"]) for b in batches) == 200
    for b in batches:
        assert b["size"] <= 60000 and b["max"] == max(b["ts"]), b
