"""`sluice agent` with the tail source end to end: real files written by this test (and
rotated the ways logrotate does: rename, copytruncate, delete-and-create, a reused inode)
-> tail source -> memory channel -> kafka sink -> a sluice broker, read back with
kafka-python. Every line carries a sequence number and the test compares line by line: none
lost, none duplicated (after kill -9, duplicates are exactly the lines past the offset the
position file had recorded). Also multiline Java stack traces, oversized lines, bad
configurations, an idle-closed file renamed and then written, and two channels (file_roll
sinks) where one is full or too small for a whole chunk: each channel gets each line once.
127.0.0.1 and free ports, bounded waits, processes stopped by PID."""
import collections
import json
import os
import signal
import threading
import time
import urllib.request

import pytest
from agentutil import Agent
from brokerutil import Broker, free_port
from kafka import KafkaConsumer, TopicPartition


def line(tag, seq):
    head = f"{tag}-{seq:07d} "
    return head + "x" * (99 - len(head)) + "\n"


def append(path, tag, first, count):
    with open(path, "a") as f:
        f.write("".join(line(tag, i) for i in range(first, first + count)))


def pipeline(d, bootstrap, topic, groups, mport, extra=(), pos_ms=100, channel=None,
             sink_batch=1000):
    src = (f"    type: tail\n    channels: [c1]\n    positionFile: {d}/pos.json\n"
           f"    writePosInterval: {pos_ms}\n    pollInterval: 200\n    rotateWait: 1000\n"
           "    filegroups:\n" + "".join(f"      {g}: \"{p}\"\n" for g, p in groups.items()) +
           "".join(f"    {e}\n" for e in extra))
    return ("agent: {name: a1, drainTimeoutMs: 10000}\n"
            f"sources:\n  r1:\n{src}"
            "channels:\n  c1: " +
            (channel or "{type: memory, capacity: 20000, transactionCapacity: 1000}") + "\n"
            f"sinks:\n  k1:\n    type: kafka\n    channel: c1\n    topic: {topic}\n"
            f"    bootstrap.servers: {bootstrap}\n    acks: 1\n    linger.ms: 1\n"
            f"    batchSize: {sink_batch}\n"
            f"metrics: {{port: {mport}, bind: 127.0.0.1}}\n")


class Consumer:
    """Reads partition 0 of topic from the beginning, across agent restarts."""

    def __init__(self, bootstrap, topic):
        self.c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                               enable_auto_commit=False, fetch_max_wait_ms=100)
        self.topic = topic
        self.assigned = False
        self.values = []

    def poll(self, timeout_ms=300):
        if not self.assigned:
            if not self.c.partitions_for_topic(self.topic):
                time.sleep(0.2)
                return
            tp = TopicPartition(self.topic, 0)
            self.c.assign([tp])
            self.c.seek_to_beginning(tp)
            self.assigned = True
        for recs in self.c.poll(timeout_ms=timeout_ms).values():
            self.values.extend(r.value.decode() for r in recs)

    def wait_for(self, n, timeout=30.0, settle=0.8):
        """Until n values arrived, then settle more seconds in which duplicates would show."""
        deadline = time.monotonic() + timeout
        while len(self.values) < n and time.monotonic() < deadline:
            self.poll()
        end = time.monotonic() + settle
        while time.monotonic() < end:
            self.poll(100)
        return self.values

    def close(self):
        self.c.close()


def expect_exactly(values, expected):
    got = collections.Counter(values)
    missing = [v for v in expected if v not in got]
    dups = {v: c for v, c in got.items() if c > 1}
    want = set(expected)
    extra = [v for v in got if v not in want]
    assert not missing, f"{len(missing)} lines lost, first {missing[:3]}"
    assert not dups, f"{len(dups)} lines duplicated, first {list(dups.items())[:3]}"
    assert not extra, f"unexpected lines {extra[:3]}"


def metrics(mport):
    with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics.json", timeout=10) as r:
        return json.loads(r.read().decode())["SOURCE.r1"]


def wait_log(agent, text, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in agent.log_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"'{text}' not logged:\n{agent.log_text()[-3000:]}")


@pytest.fixture
def env(sluice_bin, tmp_path, broker):
    d = tmp_path / "files"
    d.mkdir()
    state = {"agents": [], "consumers": []}

    def start(topic, groups, extra=(), pos_ms=100, name="agent", channel=None, sink_batch=1000):
        mport = free_port()
        cfg = pipeline(tmp_path, broker.bootstrap, topic, groups, mport, extra, pos_ms, channel,
                       sink_batch)
        a = Agent(sluice_bin, tmp_path, cfg, name=name).start(wait_for_port=mport)
        a.mport = mport
        state["agents"].append(a)
        wait_log(a, "tailing ")
        return a

    def consumer(topic):
        c = Consumer(broker.bootstrap, topic)
        state["consumers"].append(c)
        return c

    yield d, start, consumer
    for c in state["consumers"]:
        c.close()
    for a in state["agents"]:
        a.stop(signal.SIGKILL)


def test_rename_rotation_never_reads_twice(env):
    """app.log -> app.log.1 -> app.log.2 with a pattern matching all of them, lines still
    written to the renamed file before the writer reopens: each line exactly once."""
    d, start, consumer = env
    log = d / "app.log"
    append(log, "r", 0, 500)
    a = start("rename", {"f1": f"{d}/app.log*"})
    c = consumer("rename")
    seq = 500
    for _ in range(3):
        append(log, "r", seq, 700)
        seq += 700
        if (d / "app.log.1").exists():
            os.rename(d / "app.log.1", d / "app.log.2")
        os.rename(log, d / "app.log.1")
        append(d / "app.log.1", "r", seq, 100)  # the writer has not reopened yet
        seq += 100
        append(log, "r", seq, 200)  # a new app.log
        seq += 200
        time.sleep(0.3)
    expect_exactly(c.wait_for(seq), [line("r", i)[:-1] for i in range(seq)])
    m = metrics(a.mport)
    assert m["FileResetCount"] == "0"
    assert a.stop() == 0


def test_copytruncate_and_regrow(env):
    """copytruncate twice: once plainly, once with the file regrown past the old offset at
    once; both are detected and counted, and every line is read exactly once."""
    d, start, consumer = env
    log = d / "app.log"
    append(log, "c", 0, 1000)
    a = start("copytrunc", {"f1": f"{d}/app.log"})
    c = consumer("copytrunc")
    c.wait_for(1000, settle=0)
    with open(d / "app.log.1", "w") as cp:
        cp.write(log.read_text())
    os.truncate(log, 0)
    append(log, "c", 1000, 300)
    c.wait_for(1300, settle=0)
    # Truncate and refill beyond the old size before the source looks again.
    with open(log, "r+") as f:
        f.truncate(0)
        f.write("".join(line("c", i) for i in range(1300, 1800)))
    expect_exactly(c.wait_for(1800), [line("c", i)[:-1] for i in range(1800)])
    m = metrics(a.mport)
    assert m["FileResetCount"] == "2", m
    assert a.stop() == 0


def test_create_after_delete(env):
    """The file is deleted with lines not read yet and a new one created under the name:
    the old one is read to its end through the open descriptor, the new one from 0."""
    d, start, consumer = env
    log = d / "app.log"
    append(log, "d", 0, 10)
    a = start("delete", {"f1": f"{d}/app.log"}, extra=["inotify: false"])
    c = consumer("delete")
    c.wait_for(10, settle=0)
    total = 10
    for _ in range(3):
        append(log, "d", total, 400)  # polling every 200 ms: likely unread at the delete
        os.unlink(log)
        append(log, "d", total + 400, 300)
        total += 700
        time.sleep(0.25)
    expect_exactly(c.wait_for(total), [line("d", i)[:-1] for i in range(total)])
    assert a.stop() == 0


def test_inode_reuse_across_restart(env):
    """While the agent is down the file is deleted and a new one gets the same inode and is
    longer than the saved offset: the source must not resume at the stale offset."""
    d, start, consumer = env
    log = d / "app.log"
    append(log, "o", 0, 300)
    a = start("reuse", {"f1": f"{d}/app.log"})
    c = consumer("reuse")
    c.wait_for(300, settle=0)
    assert a.stop() == 0
    old_ino = os.stat(log).st_ino
    os.unlink(log)
    for attempt in range(50):
        fd = os.open(d / f"cand{attempt}", os.O_CREAT | os.O_WRONLY)
        os.close(fd)
        if os.stat(d / f"cand{attempt}").st_ino == old_ino:
            os.rename(d / f"cand{attempt}", log)
            break
    else:
        pytest.skip("the filesystem did not reuse the inode")
    for f in d.glob("cand*"):
        f.unlink()
    append(log, "n", 0, 500)  # 50,000 bytes > the saved 30,000
    a2 = start("reuse", {"f1": f"{d}/app.log"}, name="agent2")
    expect_exactly(c.wait_for(800), [line("o", i)[:-1] for i in range(300)] +
                   [line("n", i)[:-1] for i in range(500)])
    assert "its first bytes changed" in a2.log_text()
    assert metrics(a2.mport)["FileResetCount"] == "1"
    assert a2.stop() == 0


def test_rotation_while_stopped(env):
    """Rotated while the agent is down (app.log -> app.log.1, new app.log), with a pattern
    matching both: the renamed file resumes at its saved offset (recognised by inode and
    fingerprints, not by name) and the new one is read from 0: each line exactly once."""
    d, start, consumer = env
    log = d / "app.log"
    append(log, "w", 0, 300)
    a = start("downrot", {"f1": f"{d}/app.log*"})
    c = consumer("downrot")
    c.wait_for(300, settle=0)
    assert a.stop() == 0
    append(log, "w", 300, 200)  # unread when the agent stopped
    os.rename(log, d / "app.log.1")
    append(log, "w", 500, 200)
    a2 = start("downrot", {"f1": f"{d}/app.log*"}, name="agent2")
    expect_exactly(c.wait_for(700), [line("w", i)[:-1] for i in range(700)])
    assert "app.log.1: tailing from offset 30000 (saved position)" in a2.log_text()
    assert metrics(a2.mport)["FileResetCount"] == "0"
    assert a2.stop() == 0


class Writer(threading.Thread):
    """Appends numbered lines at a steady pace until stopped."""

    def __init__(self, path, tag, per_tick=50, tick=0.01):
        super().__init__(daemon=True)
        self.path, self.tag, self.per_tick, self.tick = path, tag, per_tick, tick
        self.n = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            append(self.path, self.tag, self.n, self.per_tick)
            self.n += self.per_tick
            time.sleep(self.tick)

    def stop(self):
        self.halt.set()
        self.join(10)
        return self.n


def test_restart_sigterm_while_growing(env):
    """SIGTERM and restart twice while the file keeps growing: exactly once."""
    d, start, consumer = env
    log = d / "app.log"
    log.write_text("")
    w = Writer(log, "t")
    w.start()
    c = consumer("sigterm")
    for i in range(3):
        a = start("sigterm", {"f1": f"{d}/app.log"}, name=f"agent{i}")
        time.sleep(0.8)
        assert a.stop() == 0
        time.sleep(0.3)  # the file grows while nobody reads it
    a = start("sigterm", {"f1": f"{d}/app.log"}, name="agent-last")
    n = w.stop()
    assert n > 1000
    expect_exactly(c.wait_for(n), [line("t", i)[:-1] for i in range(n)])
    assert a.stop() == 0


def test_restart_kill9_while_growing(env):
    """kill -9 while the file grows: after the restart nothing is lost, and the duplicates are
    exactly the lines past the offset the position file held (written after commit)."""
    d, start, consumer = env
    log = d / "app.log"
    log.write_text("")
    w = Writer(log, "k")
    w.start()
    c = consumer("kill9")
    a = start("kill9", {"f1": f"{d}/app.log"}, pos_ms=700)
    time.sleep(1.2)
    # The memory channel is not durable: kill only once what was read has been delivered,
    # so that the only loss a kill could cause is the source's own.
    w.halt.set()
    w.join(10)
    c.wait_for(w.n, settle=0.3)
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(10)
    saved = json.loads((d.parent / "pos.json").read_text())
    pos = next(r["pos"] for r in saved if r["file"].endswith("app.log"))
    assert pos % 100 == 0, "positions stop only at line ends"
    w2 = Writer(log, "k")
    w2.n = w.n
    w2.start()
    time.sleep(0.5)  # grows while the agent is down
    a2 = start("kill9", {"f1": f"{d}/app.log"}, name="agent2")
    time.sleep(0.5)
    n = w2.stop()
    values = c.wait_for(n + (w.n - pos // 100))
    got = collections.Counter(values)
    missing = [i for i in range(n) if got[line("k", i)[:-1]] == 0]
    assert not missing, f"{len(missing)} lines lost after kill -9, first {missing[:3]}"
    dups = sorted(int(v.split("-")[1].split()[0]) for v, k in got.items() if k > 1)
    assert all(k <= 2 for k in got.values())
    assert dups == list(range(pos // 100, w.n)), (
        f"duplicates must be exactly the lines after the saved offset {pos}: "
        f"{len(dups)} lines, first {dups[:3]}")
    print(f"kill -9: {len(dups)} duplicated lines (past saved offset {pos}), none lost")
    assert a2.stop() == 0


def test_kill9_at_random_moments_with_file_channel(env, tmp_path):
    """With a durable channel, a committed put survives kill -9, so the position file (written
    only after commit) may run ahead of delivery: kill -9 at random moments while the file
    grows, three times; nothing is lost, duplicates are counted and bounded."""
    import random
    d, start, consumer = env
    log = d / "app.log"
    log.write_text("")
    chan = (f"{{type: file, dataDir: {tmp_path}/fc-data, checkpointDir: {tmp_path}/fc-ckpt, "
            "capacity: 100000, transactionCapacity: 1000, minimumRequiredSpace: 0}")
    w = Writer(log, "f")
    w.start()
    c = consumer("kill9file")
    rnd = random.Random(7)
    for i in range(3):
        a = start("kill9file", {"f1": f"{d}/app.log"}, pos_ms=50, name=f"agent{i}",
                  channel=chan)
        time.sleep(rnd.uniform(0.3, 1.0))
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(10)
    a = start("kill9file", {"f1": f"{d}/app.log"}, name="agent-last", channel=chan)
    time.sleep(0.3)
    n = w.stop()
    values = c.wait_for(n, timeout=40, settle=1.5)
    got = collections.Counter(values)
    missing = [i for i in range(n) if got[line("f", i)[:-1]] == 0]
    assert not missing, f"{len(missing)} of {n} lines lost, first {missing[:3]}"
    assert set(got) == {line("f", i)[:-1] for i in range(n)}
    dups = sum(k - 1 for k in got.values())
    print(f"kill -9 x3 with a file channel: {n} lines, none lost, {dups} duplicates")
    # Each kill repeats at most what was read since the last position write and what the
    # sink had sent but not committed: far less than the whole file each time.
    assert dups < n, dups
    assert a.stop() == 0


def test_idle_close_and_reopen(env):
    """idleTimeout closes a quiet file's descriptor; when it grows it is reopened, checked
    against its fingerprints, and read on from where it was."""
    d, start, consumer = env
    log = d / "app.log"
    append(log, "i", 0, 100)
    a = start("idle", {"f1": f"{d}/app.log"}, extra=["idleTimeout: 300"])
    c = consumer("idle")
    c.wait_for(100, settle=0)
    deadline = time.monotonic() + 10
    while metrics(a.mport)["FileOpenCount"] != "0" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert metrics(a.mport)["FileOpenCount"] == "0"
    assert metrics(a.mport)["FileTrackedCount"] == "1"
    append(log, "i", 100, 100)
    expect_exactly(c.wait_for(200), [line("i", i)[:-1] for i in range(200)])
    assert metrics(a.mport)["FileResetCount"] == "0"
    assert a.stop() == 0


def test_skip_to_end(env):
    """skipToEnd: a file without a saved position is read from its end at start; a file
    created later is read from its start."""
    d, start, consumer = env
    append(d / "a.log", "old", 0, 100)
    a = start("skip", {"f1": f"{d}/*.log"}, extra=["skipToEnd: true"])
    c = consumer("skip")
    append(d / "a.log", "s", 0, 50)
    append(d / "b.log", "s", 50, 50)
    expect_exactly(c.wait_for(100), [line("s", i)[:-1] for i in range(100)])
    assert a.stop() == 0


def test_backpressure_tiny_channel(env):
    """A channel of 50 events fills at once: the source stops reading and resumes on room,
    again and again; every line exactly once, nothing dropped."""
    d, start, consumer = env
    log = d / "app.log"
    append(log, "b", 0, 20000)
    a = start("backpressure", {"f1": f"{d}/app.log"}, extra=["batchSize: 10"],
              channel="{type: memory, capacity: 50, transactionCapacity: 10}", sink_batch=10)
    c = consumer("backpressure")
    expect_exactly(c.wait_for(20000), [line("b", i)[:-1] for i in range(20000)])
    m = metrics(a.mport)
    assert m["EventAcceptedCount"] == "20000" and m["EventReadFailCount"] == "0", m
    assert "channel full: stopped reading files" in a.log_text()
    assert a.stop() == 0


def test_flume_taildir_properties(sluice_bin, tmp_path, broker):
    """A Flume TAILDIR configuration runs as it is: filegroups.<g> are regular expressions
    on the file name, headers.<g>.<k> per group, the group list is accepted."""
    d = tmp_path / "files"
    d.mkdir()
    append(d / "example.log", "e", 0, 3)
    append(d / "other-1.log", "o", 0, 2)
    (d / "skip.txt").write_text("not matched\n")
    mport = free_port()
    conf = tmp_path / "flume.conf"
    conf.write_text(f"""a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = TAILDIR
a1.sources.r1.channels = c1
a1.sources.r1.positionFile = {tmp_path}/taildir_position.json
a1.sources.r1.filegroups = f1 f2
a1.sources.r1.filegroups.f1 = {d}/example.log
a1.sources.r1.headers.f1.headerKey1 = value1
a1.sources.r1.filegroups.f2 = {d}/.*-[0-9]+\\.log
a1.sources.r1.headers.f2.headerKey1 = value2
a1.sources.r1.fileHeader = true
a1.channels.c1.type = memory
a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink
a1.sinks.k1.channel = c1
a1.sinks.k1.kafka.topic = flume-tail
a1.sinks.k1.kafka.bootstrap.servers = {broker.bootstrap}
""")
    a = Agent(sluice_bin, tmp_path, args=["agent", "--conf-file", str(conf), "--name", "a1"])
    a.start()
    try:
        wait_log(a, "tailing ")
        cons = Consumer(broker.bootstrap, "flume-tail")
        values = cons.wait_for(5)
        cons.close()
        expect_exactly(values, [line("e", i)[:-1] for i in range(3)] +
                       [line("o", i)[:-1] for i in range(2)])
        assert "skip.txt" not in a.log_text()
    finally:
        assert a.stop() == 0
    saved = json.loads((tmp_path / "taildir_position.json").read_text())
    assert sorted(r["file"] for r in saved) == [f"{d}/example.log", f"{d}/other-1.log"]
    assert all(r["pos"] == os.path.getsize(r["file"]) for r in saved)


JAVA = ["2024-05-01 10:00:0{i} ERROR request {i} failed",
        "java.lang.IllegalStateException: boom {i}",
        "\tat com.example.Foo.bar(Foo.java:{i})",
        "\tat com.example.Main.main(Main.java:7)",
        "Caused by: java.io.IOException: disk {i}",
        "\t... 2 more"]


def test_multiline_java_stack_trace(env):
    """Stack traces grouped by a start pattern; the last one flushed by the timeout; a CRLF
    file; each event exactly once with its lines joined by newlines."""
    d, start, consumer = env
    log = d / "java.log"
    events = []
    text = ""
    for i in range(6):
        ev = [s.format(i=i) for s in JAVA[: 2 + i % 5]]
        events.append("\n".join(ev))
        text += "".join(s + ("\r\n" if i == 3 else "\n") for s in ev)
    log.write_text(text[: len(text) // 2])
    start("multiline", {"f1": f"{d}/*.log"},
          extra=["multiline: {pattern: '^\\d{4}-\\d{2}-\\d{2} ', flushTimeout: 1000}"])
    c = consumer("multiline")
    time.sleep(0.3)
    with open(log, "a") as f:
        f.write(text[len(text) // 2:])  # an event split across two writes
    expect_exactly(c.wait_for(len(events), settle=1.0), events)


def test_oversized_lines_split_and_truncate(env, tmp_path):
    d, start, consumer = env
    (d / "split").mkdir()
    (d / "trunc").mkdir()
    long = "L" * 250
    for sub in ("split", "trunc"):
        (d / sub / "a.log").write_text(f"short\n{long}\nafter\n")
    a = start("split", {"f1": f"{d}/split/a.log"},
              extra=["maxLineLength: 100", "byteOffsetHeader: true"])
    c = consumer("split")
    assert sorted(c.wait_for(5)) == sorted(["short", "L" * 100, "L" * 100, "L" * 50, "after"])
    assert metrics(a.mport)["EventTruncatedCount"] == "1"
    assert a.stop() == 0
    os.unlink(tmp_path / "pos.json")
    a = start("trunc", {"f1": f"{d}/trunc/a.log"},
              extra=["maxLineLength: 100", "lineOverflow: truncate"], name="agent2")
    c = consumer("trunc")
    expect_exactly(c.wait_for(3), ["short", "L" * 100, "after"])
    assert metrics(a.mport)["EventTruncatedCount"] == "1"
    assert a.stop() == 0


def test_headers(env, broker):
    d, start, consumer = env
    (d / "h.log").write_text("one\ntwo\n")
    a = start("headers", {"f1": f"{d}/h.log"},
              extra=["fileHeader: true", "fileHeaderKey: path", "byteOffsetHeader: true",
                     "headers: {f1: {team: web, env: prod}}"])
    cons = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None,
                         enable_auto_commit=False, fetch_max_wait_ms=100)
    deadline = time.monotonic() + 20
    while not cons.partitions_for_topic("headers") and time.monotonic() < deadline:
        time.sleep(0.2)
    tp = TopicPartition("headers", 0)
    cons.assign([tp])
    cons.seek_to_beginning(tp)
    recs = []
    while len(recs) < 2 and time.monotonic() < deadline:
        for rs in cons.poll(timeout_ms=300).values():
            recs.extend((r.value.decode(), {k: v.decode() for k, v in r.headers}) for r in rs)
    cons.close()
    assert recs == [("one", {"team": "web", "env": "prod", "path": f"{d}/h.log",
                             "byteoffset": "0"}),
                    ("two", {"team": "web", "env": "prod", "path": f"{d}/h.log",
                             "byteoffset": "4"})]
    assert a.stop() == 0


def run_bad(sluice_bin, tmp_path, body, check=False):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("sources:\n  r1:\n    type: tail\n    channels: [c1]\n" + body +
                   "channels:\n  c1: {type: memory}\nsinks:\n  k1: {type: logger, channel: c1}\n")
    import subprocess
    r = subprocess.run([sluice_bin, "agent", "-f", str(cfg)] + (["--check"] if check else []),
                       capture_output=True, timeout=30)
    return r.returncode, r.stdout.decode() + r.stderr.decode()


def test_bad_configs(sluice_bin, tmp_path):
    pos = f"    positionFile: {tmp_path}/pos.json\n"
    rc, out = run_bad(sluice_bin, tmp_path,
                      f"    filegroups: {{f1: '{tmp_path}/*.log'}}\n    positionFile: "
                      f"{tmp_path}/p.json\n    multiline: {{pattern: '^(abc'}}\n", check=True)
    assert rc != 0 and "bad.yaml:3:5: source r1: " in out and \
        "multiline.pattern: bad regular expression '^(abc' at offset 5" in out, out
    rc, out = run_bad(sluice_bin, tmp_path, "    filegroups: {f1: 'logs/*.log'}\n" + pos,
                      check=True)
    assert rc != 0 and "must be an absolute path" in out and "bad.yaml:3:5:" in out, out
    rc, out = run_bad(sluice_bin, tmp_path, pos, check=True)
    assert rc != 0 and "filegroups: name at least one group" in out, out
    rc, out = run_bad(sluice_bin, tmp_path,
                      f"    filegroups: {{f1: '{tmp_path}/a.log'}}\n" + pos +
                      "    headers: {f2: {k: v}}\n", check=True)
    assert rc != 0 and "headers.f2.k" in out, out
    rc, out = run_bad(sluice_bin, tmp_path,
                      f"    filegroups: {{f1: '{tmp_path}/a.log'}}\n" + pos +
                      "    batchSize: lots\n", check=True)
    assert rc != 0 and "bad.yaml:7:16: source r1 (tail): batchSize" in out, out
    # Start-time checks: a directory that does not exist, a corrupt position file.
    rc, out = run_bad(sluice_bin, tmp_path, "    filegroups: {f1: '/nonexistent/dir/*.log'}\n" +
                      pos)
    assert rc != 0 and "filegroups.f1: directory /nonexistent/dir: No such file" in out, out
    (tmp_path / "pos.json").write_text('[{"inode": 5, "pos": ')
    rc, out = run_bad(sluice_bin, tmp_path, f"    filegroups: {{f1: '{tmp_path}/*.log'}}\n" +
                      pos)
    assert rc != 0 and f"position file {tmp_path}/pos.json: not valid JSON at line 1" in out
    assert "fix or delete it" in out, out


# ---- two channels, file_roll sinks: what each channel got, without a broker ----------------

@pytest.fixture
def two_channels(sluice_bin, tmp_path):
    """Starts agents with start_two_channels; kills what is still running after the test."""
    agents = []
    yield lambda *args, **kw: start_two_channels(sluice_bin, tmp_path, agents, *args, **kw)
    for a in agents:
        a.stop(signal.SIGKILL)


def start_two_channels(sluice_bin, tmp_path, agents, src_extra, c2, k2_batch=1,
                       rotate_wait=1000, k2=None):
    """tail -> [c1, c2] -> file_roll sinks writing out1 and out2 (k2 drains slowly: one
    event and one fsync per batch, so c2 fills while c1 does not), or k2 as given."""
    for o in ("out1", "out2"):
        (tmp_path / o).mkdir()
    mport = free_port()
    cfg = ("agent: {name: a1, drainTimeoutMs: 5000}\n"
           f"sources:\n  r1:\n    type: tail\n    channels: [c1, c2]\n"
           f"    positionFile: {tmp_path}/pos.json\n    writePosInterval: 100\n"
           f"    pollInterval: 200\n    rotateWait: {rotate_wait}\n" +
           "".join(f"    {e}\n" for e in src_extra) +
           "channels:\n  c1: {type: memory, capacity: 10000, transactionCapacity: 100}\n"
           f"  c2: {c2}\n"
           f"sinks:\n  k1:\n    type: file_roll\n    channel: c1\n"
           f"    sink.directory: {tmp_path}/out1\n    sink.rollInterval: 0\n"
           + (k2 or f"  k2:\n    type: file_roll\n    channel: c2\n"
              f"    sink.directory: {tmp_path}/out2\n    sink.rollInterval: 0\n"
              f"    sink.batchSize: {k2_batch}\n") +
           f"metrics: {{port: {mport}, bind: 127.0.0.1}}\n")
    a = Agent(sluice_bin, tmp_path, cfg)
    agents.append(a)
    a.start(wait_for_port=mport)
    a.mport = mport
    wait_log(a, "tailing ")
    return a


def out_lines(d):
    return "".join(p.read_text() for p in sorted(d.iterdir())).splitlines()


def wait_out(tmp_path, n, timeout=30.0, settle=0.8):
    """Until out1 and out2 hold n lines each, then settle seconds in which more would show."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len(out_lines(tmp_path / o)) >= n for o in ("out1", "out2")):
            break
        time.sleep(0.05)
    time.sleep(settle)
    return out_lines(tmp_path / "out1"), out_lines(tmp_path / "out2")


def test_two_channels_one_full_multiline_event_flushed_meanwhile(sluice_bin, tmp_path,
                                                                 two_channels):
    """c2 is full (its Kafka sink's broker is not up yet) after c1 took a chunk; while the
    source waits for room, the multiline timer emits the event it held back. Once the broker
    is up, the retry puts exactly the chunk c1 already has (to c2 only), and the new event
    goes to both channels after it: none lost in c1, none twice in either."""
    d = tmp_path / "files"
    d.mkdir()
    bport = free_port()
    a = two_channels(["batchSize: 100", "multiline.pattern: '^E'", "multiline.flushTimeout: 10",
                      f"filegroups: {{f1: '{d}/app.log'}}"],
                     "{type: memory, capacity: 120, transactionCapacity: 100}",
                     k2=f"  k2:\n    type: kafka\n    channel: c2\n    topic: ml2\n"
                     f"    bootstrap.servers: 127.0.0.1:{bport}\n    acks: 1\n"
                     "    linger.ms: 1\n")
    n = 150
    with open(d / "app.log", "a") as f:
        f.write("".join(f"E{i:04d}\n" for i in range(n)))
    wait_log(a, "channel full: stopped reading files")
    time.sleep(0.5)  # the multiline timer (every 10 ms) emits E0149 while the source waits
    want = [f"E{i:04d}" for i in range(n)]
    b = Broker(sluice_bin, tmp_path / "logs", port=bport)
    c = None
    try:
        b.start()
        c = Consumer(b.bootstrap, "ml2")
        expect_exactly(c.wait_for(n), want)
        deadline = time.monotonic() + 10
        while len(out_lines(tmp_path / "out1")) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        expect_exactly(out_lines(tmp_path / "out1"), want)
        assert a.stop() == 0
    finally:
        if c:
            c.close()
        b.stop()


def test_two_channels_second_too_small_for_a_chunk(sluice_bin, tmp_path, two_channels):
    """c2's byteCapacity is below a whole chunk but above one event: c2 refuses the chunk
    (too large) after c1 committed it; the events are then put one by one to c2 only, never
    again to c1. One line longer than c2's byteCapacity is dropped from c2 alone."""
    d = tmp_path / "files"
    d.mkdir()
    n = 300
    big = 150
    with open(d / "app.log", "w") as f:
        for i in range(n):
            f.write(line("z", i) if i != big else "z-big " + "y" * 3000 + "\n")
    a = two_channels(["batchSize: 100", f"filegroups: {{f1: '{d}/app.log'}}"],
                     "{type: memory, capacity: 1000, transactionCapacity: 100, "
                     "byteCapacity: 1500, byteCapacityBufferPercentage: 0}", k2_batch=5)
    want = [line("z", i)[:-1] for i in range(n) if i != big]
    out1, out2 = wait_out(tmp_path, n - 1)
    expect_exactly(out1, want + ["z-big " + "y" * 3000])
    expect_exactly(out2, want)
    m = metrics(a.mport)
    assert m["EventReadFailCount"] == "1", m
    assert "does not fit in channel c2: dropped there and in the channels after it" in \
        a.log_text()
    assert a.stop() == 0


def test_idle_closed_file_renamed_then_written(sluice_bin, tmp_path, two_channels):
    """A file closed by idleTimeout is renamed by a rotation while its writer still holds it
    open and appends a last line a moment later: the source finds it under its new name in
    the same directory, reopens it and reads it to its end; the new file is read too."""
    d = tmp_path / "files"
    d.mkdir()
    a = two_channels(["idleTimeout: 300", f"filegroups: {{f1: '{d}/app.log'}}"],
                     "{type: memory, capacity: 1000, transactionCapacity: 100}",
                     rotate_wait=3000)
    with open(d / "app.log", "a") as app:
        app.write("line1\n")
        app.flush()
        wait_out(tmp_path, 1, settle=0)  # read and committed
        deadline = time.monotonic() + 10
        while metrics(a.mport)["FileOpenCount"] != "0" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert metrics(a.mport)["FileOpenCount"] == "0"  # idle-closed
        os.rename(d / "app.log", d / "app.log.1")
        deadline = time.monotonic() + 10  # until the source has seen the rename
        while "renamed while closed" not in a.log_text() and \
                "done (rotated away" not in a.log_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        app.write("line2-after-rename\n")  # the writer has not reopened its log yet
        app.flush()
    with open(d / "app.log", "a") as app:
        app.write("line3-new-file\n")
    out1, out2 = wait_out(tmp_path, 3)
    want = ["line1", "line2-after-rename", "line3-new-file"]
    expect_exactly(out1, want)
    expect_exactly(out2, want)
    # Read to its end, then forgotten rotateWait after its last growth.
    deadline = time.monotonic() + 10
    while metrics(a.mport)["FileTrackedCount"] != "1" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert metrics(a.mport)["FileTrackedCount"] == "1"
    assert a.stop() == 0
