"""Consumer groups and committed offsets with real clients (confluent-kafka / librdkafka and
kafka-python): partition ownership across 1-4 members, independent groups, commit and resume
(also across clean and kill -9 broker restarts), a SIGKILLed member's partitions moving after
its session timeout, mixed clients in one group, and `sluice consumer-groups`.

Every wait is bounded; consumers are closed, subprocesses stopped by PID.
"""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer

from brokerutil import Broker

TIMEOUT = 60.0
SESSION_MS = 6000


def create_topic(broker, name, partitions=3):
    a = AdminClient({"bootstrap.servers": broker.bootstrap})
    a.create_topics([NewTopic(name, partitions, 1)])[name].result(15)


def produce(broker, topic, values, partitions=3):
    p = Producer({"bootstrap.servers": broker.bootstrap})
    for i, v in enumerate(values):
        p.produce(topic, v.encode(), partition=i % partitions)
    assert p.flush(15) == 0


def ck_consumer(broker, group, **extra):
    conf = {"bootstrap.servers": broker.bootstrap, "group.id": group,
            "auto.offset.reset": "earliest", "session.timeout.ms": SESSION_MS,
            "heartbeat.interval.ms": 500, "enable.auto.commit": False,
            "fetch.wait.max.ms": 100}
    conf.update(extra)
    return Consumer(conf)


def kp_consumer(broker, group, topic):
    return KafkaConsumer(topic, bootstrap_servers=broker.bootstrap, group_id=group,
                         auto_offset_reset="earliest", enable_auto_commit=False,
                         session_timeout_ms=SESSION_MS, heartbeat_interval_ms=500,
                         fetch_max_wait_ms=100, api_version_auto_timeout_ms=10000,
                         max_poll_interval_ms=15000)


class Member:
    """One group member of either client library, polled by its own thread (kafka-python
    blocks inside poll() while its group rebalances, so members cannot share a thread)."""

    def __init__(self, kind, broker, group, topic):
        self.kind = kind
        self.got = []
        self.assigned = []
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.commit_req = threading.Event()
        self.commit_done = threading.Event()
        self.error = None
        if kind in ("ck", "ck-coop", "ck-rr"):
            strategy = {"ck": "range", "ck-coop": "cooperative-sticky",
                        "ck-rr": "roundrobin"}[kind]
            self.c = ck_consumer(broker, group, **{"max.poll.interval.ms": 15000,
                                                   "partition.assignment.strategy": strategy})
            self.c.subscribe([topic])
        else:
            self.c = kp_consumer(broker, group, topic)
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _poll(self):
        out = []
        if self.kind.startswith("ck"):
            m = self.c.poll(0.05)
            if m is not None and m.error() is None:
                out.append((m.partition(), m.offset(), m.value().decode()))
        else:
            for recs in self.c.poll(timeout_ms=50).values():
                out.extend((r.partition, r.offset, r.value.decode()) for r in recs)
        parts = sorted(tp.partition for tp in self.c.assignment())
        with self.lock:
            self.got.extend(out)
            self.assigned = parts

    def _run(self):
        try:
            while not self.stop_ev.is_set():
                self._poll()
                if self.commit_req.is_set():
                    self.commit_req.clear()
                    if self.kind.startswith("ck"):
                        self.c.commit(asynchronous=False)
                    else:
                        self.c.commit()
                    self.commit_done.set()
        except Exception as e:  # reported by close()
            self.error = e
        finally:
            self.c.close()

    def values(self):
        with self.lock:
            return [v for _, _, v in self.got]

    def assignment(self):
        with self.lock:
            return list(self.assigned)

    def commit(self):
        self.commit_req.set()
        assert self.commit_done.wait(TIMEOUT), "commit timed out"
        self.commit_done.clear()

    def close(self):
        self.stop_ev.set()
        self.t.join(TIMEOUT)
        assert not self.t.is_alive(), "consumer thread did not stop"
        assert self.error is None, self.error


def run_until(members, cond, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def owned_once(members, partitions=3):
    """Every partition owned by exactly one member."""
    owners = [p for m in members for p in m.assignment()]
    return sorted(owners) == list(range(partitions))


def split_scenario(broker, kinds, group, topic, n_msgs=30):
    members = [Member(k, broker, group, topic) for k in kinds]
    try:
        def done():
            total = sum(len(m.values()) for m in members)
            busy = sum(1 for m in members if m.assignment())
            return total >= n_msgs and owned_once(members) and busy == min(len(members), 3)
        assert run_until(members, done), (
            [m.assignment() for m in members], sum(len(m.values()) for m in members))
        # stays settled for a moment: no double ownership after the dust settles
        run_until(members, lambda: False, timeout=1.0)
        assert owned_once(members)
        values = sorted(v for m in members for v in m.values())
        assert sorted(set(values)) == sorted(str(i) for i in range(n_msgs))
        busy = [m for m in members if m.assignment()]
        assert len(busy) == min(len(members), 3)
    finally:
        for m in members:
            m.close()


@pytest.mark.parametrize("kind", ["ck", "kp"])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_group_split_partitions(broker, kind, n):
    create_topic(broker, "split")
    produce(broker, "split", [str(i) for i in range(30)])
    split_scenario(broker, [kind] * n, f"g-{kind}-{n}", "split")


@pytest.mark.parametrize("kind", ["ck-coop", "ck-rr"])
def test_group_other_assignors(broker, kind):
    """The broker only relays what the leader computes: roundrobin and the incremental
    cooperative-sticky protocol split the partitions as range does."""
    create_topic(broker, "assignors")
    produce(broker, "assignors", [str(i) for i in range(30)])
    split_scenario(broker, [kind] * 2, f"g-{kind}", "assignors")
    split_scenario(broker, [kind] * 3, f"g3-{kind}", "assignors")


def test_group_mixed_clients(broker):
    create_topic(broker, "mixed")
    produce(broker, "mixed", [str(i) for i in range(30)])
    split_scenario(broker, ["ck", "kp", "ck"], "g-mixed", "mixed")


def test_group_two_groups_each_get_everything(broker):
    create_topic(broker, "two")
    produce(broker, "two", [str(i) for i in range(30)])
    for group in ("ga", "gb"):
        members = [Member("ck", broker, group, "two"), Member("kp", broker, group, "two")]
        try:
            assert run_until(members, lambda: sum(len(m.values()) for m in members) >= 30)
            vals = sorted(v for m in members for v in m.values())
            assert sorted(set(vals)) == sorted(str(i) for i in range(30))
        finally:
            for m in members:
                m.close()


def consume_n(broker, kind, group, topic, n, commit=True):
    m = Member(kind, broker, group, topic)
    try:
        assert run_until([m], lambda: len(m.values()) >= n), len(m.values())
        run_until([m], lambda: False, timeout=0.5)
        if commit:
            m.commit()
        return [(0, 0, v) for v in m.values()]
    finally:
        m.close()


@pytest.mark.parametrize("kind", ["ck", "kp"])
def test_group_commit_and_resume(broker, kind):
    create_topic(broker, "resume")
    produce(broker, "resume", [f"a{i}" for i in range(30)])
    first = consume_n(broker, kind, "gr", "resume", 30)
    assert len(first) == 30
    produce(broker, "resume", [f"b{i}" for i in range(15)])
    second = consume_n(broker, kind, "gr", "resume", 15)
    assert sorted(v for _, _, v in second) == sorted(f"b{i}" for i in range(15))


@pytest.mark.parametrize("how", ["clean", "kill9"])
def test_group_resume_after_broker_restart(sluice_bin, tmp_path, how):
    b = Broker(sluice_bin, tmp_path / "logs").start()
    try:
        create_topic(b, "rs")
        produce(b, "rs", [f"a{i}" for i in range(30)])
        assert len(consume_n(b, "ck", "grs", "rs", 30)) == 30
        if how == "clean":
            assert b.stop() == 0
        else:
            b.kill()
        b.start()
        produce(b, "rs", [f"b{i}" for i in range(12)])
        second = consume_n(b, "ck", "grs", "rs", 12)
        assert sorted(v for _, _, v in second) == sorted(f"b{i}" for i in range(12))
        # the other client library reads the same committed offsets
        produce(b, "rs", [f"c{i}" for i in range(6)])
        third = consume_n(b, "kp", "grs", "rs", 6)
        assert sorted(v for _, _, v in third) == sorted(f"c{i}" for i in range(6))
    finally:
        b.stop()


CHILD = textwrap.dedent("""
    import sys, time
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2],
                  "auto.offset.reset": "earliest", "session.timeout.ms": 6000,
                  "heartbeat.interval.ms": 500, "enable.auto.commit": False})
    c.subscribe([sys.argv[3]])
    while True:
        m = c.poll(0.1)
        if c.assignment():
            print("ASSIGNED", ",".join(str(tp.partition) for tp in c.assignment()), flush=True)
""")


def test_group_member_sigkill_partitions_move(broker, tmp_path):
    create_topic(broker, "kill")
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen([sys.executable, str(script), broker.bootstrap, "gk", "kill"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    survivor = Member("ck", broker, "gk", "kill")
    try:
        # wait until the child owns something and the survivor the rest
        deadline = time.monotonic() + TIMEOUT
        child_parts = None
        os.set_blocking(child.stdout.fileno(), False)
        while time.monotonic() < deadline:
            time.sleep(0.05)
            line = child.stdout.readline()
            if line.startswith("ASSIGNED"):
                child_parts = line.split()[1]
            if child_parts and len(survivor.assignment()) + len(child_parts.split(",")) == 3:
                break
        assert child_parts, "the child never got partitions"
        produce(broker, "kill", [f"a{i}" for i in range(30)])
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        killed_at = time.monotonic()
        assert run_until([survivor], lambda: survivor.assignment() == [0, 1, 2])
        moved_after = time.monotonic() - killed_at
        assert moved_after < SESSION_MS / 1000 + 10
        # the child never committed: the survivor reads every record, nothing skipped
        assert run_until([survivor], lambda: len(set(survivor.values())) >= 30)
        assert set(survivor.values()) == {f"a{i}" for i in range(30)}
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        survivor.close()


def test_group_coordinator_protocol_details(broker):
    """Heartbeat errors and the member-id-required round, through kafka-python's protocol."""
    from kafka.client_async import KafkaClient
    from kafka.protocol.group import HeartbeatRequest, JoinGroupRequest

    cl = KafkaClient(bootstrap_servers=broker.bootstrap, api_version=(2, 3))
    try:
        deadline = time.monotonic() + 20
        while not cl.ready(0) and time.monotonic() < deadline:
            cl.poll(timeout_ms=100)

        def call(req):
            f = cl.send(0, req)
            cl.poll(future=f, timeout_ms=10000)
            assert f.succeeded(), f.exception
            return f.value

        hb = call(HeartbeatRequest[1]("nogroup", 1, "nobody"))
        assert hb.error_code == 25  # UNKNOWN_MEMBER_ID
        meta = b"\x00\x00\x00\x00\x00\x01\x00\x01t\x00\x00\x00\x00"
        join = call(JoinGroupRequest[2]("gp", 6000, 6000, "", "consumer", [("range", meta)]))
        assert join.error_code == 0 and join.generation_id == 1 and join.leader_id == join.member_id
        hb = call(HeartbeatRequest[1]("gp", 7, join.member_id))
        assert hb.error_code == 22  # ILLEGAL_GENERATION
    finally:
        cl.close()


def test_group_consumer_groups_tool(broker, sluice_bin):
    create_topic(broker, "tool")
    produce(broker, "tool", [str(i) for i in range(30)])
    consume_n(broker, "ck", "gt", "tool", 30)
    produce(broker, "tool", [str(i) for i in range(9)])  # lag 3 per partition

    def tool(*args):
        out = subprocess.run([sluice_bin, "consumer-groups", "--bootstrap-server",
                              broker.bootstrap, *args], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout

    assert "gt" in tool("--list").split()
    rows = [l.split() for l in tool("--describe", "--group", "gt").splitlines()[1:] if l.strip()]
    lag = {int(r[2]): (int(r[3]), int(r[4]), int(r[5])) for r in rows if r[1] == "tool"}
    assert lag == {0: (10, 13, 3), 1: (10, 13, 3), 2: (10, 13, 3)}
    plan = tool("--reset-offsets", "--group", "gt", "--topic", "tool", "--to-earliest")
    assert "0" in plan
    rows = [l.split() for l in tool("--describe", "--group", "gt").splitlines()[1:] if l.strip()]
    assert {int(r[3]) for r in rows if r[1] == "tool"} == {10}  # dry run changed nothing
    tool("--reset-offsets", "--group", "gt", "--topic", "tool", "--to-offset", "5", "--execute")
    rows = [l.split() for l in tool("--describe", "--group", "gt").splitlines()[1:] if l.strip()]
    assert {int(r[3]) for r in rows if r[1] == "tool"} == {5}
    tool("--delete", "--group", "gt")
    assert "gt" not in tool("--list").split()


def test_group_console_consumer_commits_and_resumes(broker, sluice_bin):
    """`sluice console-consumer --group G` commits what it printed; a second run with the
    same group prints only what came after, even with --from-beginning (as Kafka's does)."""
    def run(*args, stdin=None):
        return subprocess.run([sluice_bin, *args, "--bootstrap-server", broker.bootstrap],
                              input=stdin, capture_output=True, text=True, timeout=60)

    create_topic(broker, "cc", partitions=1)
    assert run("console-producer", "--topic", "cc", stdin="1\n2\n3\n4\n5\n").returncode == 0
    first = run("console-consumer", "--topic", "cc", "--group", "ccg", "--from-beginning",
                "--max-messages", "5", "--timeout-ms", "20000")
    assert first.returncode == 0 and first.stdout.split() == ["1", "2", "3", "4", "5"]
    assert run("console-producer", "--topic", "cc", stdin="6\n7\n8\n").returncode == 0
    second = run("console-consumer", "--topic", "cc", "--group", "ccg", "--from-beginning",
                 "--max-messages", "3", "--timeout-ms", "20000")
    assert second.returncode == 0 and second.stdout.split() == ["6", "7", "8"]
    desc = run("consumer-groups", "--describe", "--group", "ccg")
    row = [l.split() for l in desc.stdout.splitlines() if l.startswith("ccg")]
    assert row and row[0][1:6] == ["cc", "0", "8", "8", "0"], desc.stdout


def test_group_describe_lag_while_producing(broker, sluice_bin):
    """consumer-groups --describe reports LAG = LOG-END-OFFSET - CURRENT-OFFSET while a
    producer keeps writing, with the end offset between the ones seen before and after."""
    create_topic(broker, "lagt", partitions=1)
    produce(broker, "lagt", ["v%d" % i for i in range(20)], partitions=1)
    c = ck_consumer(broker, "lagg")
    c.commit(offsets=[TopicPartition("lagt", 0, 10)], asynchronous=False)
    c.close()
    stop = threading.Event()

    def keep_producing():
        p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 1})
        n = 0
        while not stop.is_set() and n < 200000:
            p.produce("lagt", b"x", partition=0)
            p.poll(0)
            n += 1
            if n % 100 == 0:
                time.sleep(0.005)
        p.flush(15)

    t = threading.Thread(target=keep_producing)
    t.start()
    try:
        w = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "lag-watch"})
        seen = 0
        for _ in range(3):
            before = w.get_watermark_offsets(TopicPartition("lagt", 0), timeout=10)[1]
            out = subprocess.run([sluice_bin, "consumer-groups", "--bootstrap-server",
                                  broker.bootstrap, "--describe", "--group", "lagg"],
                                 capture_output=True, text=True, timeout=60)
            after = w.get_watermark_offsets(TopicPartition("lagt", 0), timeout=10)[1]
            row = [l.split() for l in out.stdout.splitlines() if l.startswith("lagg")][0]
            cur, leo, lag = int(row[3]), int(row[4]), int(row[5])
            assert cur == 10 and before <= leo <= after and lag == leo - cur, out.stdout
            seen = max(seen, leo)
            time.sleep(0.3)
        w.close()
        assert seen > 20  # the producer was really running
    finally:
        stop.set()
        t.join(30)


def test_group_offsets_topic_stays_bounded(sluice_bin, tmp_path):
    """Without log compaction, __consumer_offsets is kept bounded by snapshots: thousands of
    commits leave a small log, and the last commit survives a crash and restart."""
    b = Broker(sluice_bin, tmp_path / "logs",
               overrides={"offsets.topic.num.partitions": "1",
                          "offsets.snapshot.min.bytes": "4096"}).start()
    try:
        create_topic(b, "bt", partitions=2)
        c = ck_consumer(b, "bounded")
        for i in range(1, 1501):
            c.commit(offsets=[TopicPartition("bt", 0, i), TopicPartition("bt", 1, 2 * i)],
                     asynchronous=False)
        c.close()
        part = tmp_path / "logs" / "__consumer_offsets-0"
        written = 1500 * 2 * 60  # at least ~60 bytes of record per committed offset

        def log_bytes():
            return sum(f.stat().st_size for f in part.glob("*.log"))

        deadline = time.monotonic() + 10
        while log_bytes() > 32 * 1024 and time.monotonic() < deadline:
            time.sleep(0.1)  # snapshots run on the coordinator's tick
        assert log_bytes() <= 32 * 1024 < written, log_bytes()
        b.kill()
        b.start()
        c = ck_consumer(b, "bounded")
        got = c.committed([TopicPartition("bt", 0), TopicPartition("bt", 1)], timeout=15)
        assert [tp.offset for tp in got] == [1500, 3000]
        c.close()
    finally:
        b.stop()
