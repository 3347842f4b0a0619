"""Sink groups end to end with the real agent, lines sent with netcat-openbsd (`nc`):
failover from a kafka sink whose external `sluice broker` is killed (SIGKILL) to a file_roll
sink and back once the broker restarts on the same port (read back with kcat; nothing lost);
load_balance round_robin over two file_roll sinks (both get batches, total = sent);
load_balance with backoff around a sink whose broker is down; a group on a file channel
stopping within drainTimeoutMs with its backlog left on disk (delivered after a restart);
and configuration errors with file:line:col."""
import json
import os
import pathlib
import re
import subprocess
import time
import urllib.request

import pytest

from agentutil import Agent
from brokerutil import Broker, free_port


def nc_send(port, lines, timeout=30):
    """Send lines with netcat-openbsd (-N: half-close at EOF) and return the replies."""
    data = "".join(l + "\n" for l in lines).encode()
    r = subprocess.run(["nc", "-N", "127.0.0.1", str(port)], input=data, capture_output=True,
                       timeout=timeout)
    return r.stdout.decode().splitlines()


def roll_lines(directory):
    """Every line of every file in directory, file by file in sequence order."""
    if not os.path.isdir(directory):
        return []
    names = sorted(os.listdir(directory), key=lambda n: int(n.rsplit("-", 1)[1].split(".")[0]))
    out = []
    for n in names:
        with open(os.path.join(directory, n), "rb") as f:
            out.extend(f.read().decode().splitlines())
    return out


def kcat_all(bootstrap, topic):
    r = subprocess.run(["kcat", "-b", bootstrap, "-t", topic, "-C", "-e", "-o", "beginning",
                        "-q", "-f", "%s\\n"], capture_output=True, timeout=30)
    if r.returncode != 0:
        return []
    return r.stdout.decode().splitlines()


def wait_for(pred, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics.json", timeout=10) as r:
        return json.loads(r.read().decode())


def base_yaml(nc_port, mport, sinks, groups):
    return (f"agent: {{name: a1, drainTimeoutMs: 3000}}\n"
            f"metrics: {{port: {mport}, bind: 127.0.0.1}}\n"
            f"sources:\n  r1: {{type: netcat, bind: 127.0.0.1, port: {nc_port}, "
            f"channels: [c1]}}\n"
            f"channels:\n  c1: {{type: memory, capacity: 5000, transactionCapacity: 100}}\n"
            f"sinks:\n{sinks}sinkgroups:\n{groups}")


def kafka_sink(name, bport, batch=50):
    return (f"  {name}:\n    type: kafka\n    channel: c1\n"
            f"    bootstrap.servers: 127.0.0.1:{bport}\n    topic: sg\n    acks: 1\n"
            f"    linger.ms: 1\n    batchSize: {batch}\n"
            f"    kafka.producer.message.timeout.ms: 1500\n"
            f"    kafka.producer.reconnect.backoff.max.ms: 300\n")


def roll_sink(name, directory, batch=50):
    return (f"  {name}:\n    type: file_roll\n    channel: c1\n"
            f"    sink: {{directory: {directory}, rollInterval: 0, batchSize: {batch}}}\n")


def test_failover_to_file_roll_when_broker_dies_and_back(sluice_bin, tmp_path):
    nc_port, mport, bport = free_port(), free_port(), free_port()
    roll = tmp_path / "roll"
    cfg = base_yaml(nc_port, mport, kafka_sink("k1", bport) + roll_sink("k2", roll),
                    "  g1:\n    sinks: [k1, k2]\n    processor:\n      type: failover\n"
                    "      priority: {k1: 10, k2: 5}\n      maxpenalty: 2000\n")
    broker = Broker(sluice_bin, tmp_path / "blogs", port=bport).start()
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
    boot = f"127.0.0.1:{bport}"
    sent = []
    try:
        # 1. The primary delivers; the standby writes nothing (no empty files either).
        p1 = [f"p1-{i:05d}" for i in range(300)]
        assert nc_send(nc_port, p1) == ["OK"] * len(p1)
        sent += p1
        got = wait_for(lambda: set(p1) <= set(kcat_all(boot, "sg")) and kcat_all(boot, "sg"), 20)
        assert set(p1) <= set(got)
        assert roll_lines(roll) == []

        # 2. The broker dies: batches fail over to the files, nothing is refused.
        broker.kill()
        p2 = [f"p2-{i:05d}" for i in range(300)]
        assert nc_send(nc_port, p2) == ["OK"] * len(p2)
        sent += p2
        assert wait_for(lambda: set(p2) <= set(roll_lines(roll)), 30), a.log_text()[-3000:]
        m = metrics(mport)["SINKGROUP.g1"]
        assert m["ActiveSink"] == "k2"
        assert int(m["Sinks"]["k1"]["FailureCount"]) >= 1
        log = a.log_text()
        assert "sink k1 failed a batch" in log and "active sink is now k2 (was k1)" in log

        # 3. The broker comes back on the same port: once k1's penalty is over, a batch
        # goes to it and it is the active sink again.
        broker = Broker(sluice_bin, tmp_path / "blogs", port=bport).start()
        p3 = []

        def trickle():
            batch = [f"p3-{len(p3) + i:05d}" for i in range(5)]
            assert nc_send(nc_port, batch) == ["OK"] * 5
            p3.extend(batch)
            return "active sink is now k1 (was k2)" in a.log_text()

        assert wait_for(trickle, 30, step=0.3), a.log_text()[-3000:]
        sent += p3
        # 4. New lines go to the primary again.
        p4 = [f"p4-{i:05d}" for i in range(300)]
        assert nc_send(nc_port, p4) == ["OK"] * len(p4)
        sent += p4
        got = wait_for(lambda: set(p4) <= set(kcat_all(boot, "sg")) and kcat_all(boot, "sg"), 30)
        assert set(p4) <= set(got)
        files = roll_lines(roll)
        assert not set(p4) & set(files)
        # No loss: every line is in the topic or in the files (at least once).
        missing = set(sent) - set(got) - set(files)
        assert not missing, f"{len(missing)} lines lost, e.g. {sorted(missing)[:5]}"
        m = metrics(mport)
        assert m["SINKGROUP.g1"]["ActiveSink"] == "k1"
        led = m["LEDGER.a1"]
        assert led["unaccounted"] == "0" and led["buffered"] == "0"
    finally:
        rc = a.stop()
        broker.stop()
    assert rc == 0, a.log_text()[-3000:]


def test_load_balance_round_robin_over_two_file_roll_sinks(sluice_bin, tmp_path):
    nc_port, mport = free_port(), free_port()
    d1, d2 = tmp_path / "d1", tmp_path / "d2"
    cfg = base_yaml(nc_port, mport, roll_sink("k1", d1, 10) + roll_sink("k2", d2, 10),
                    "  g1:\n    sinks: k1 k2\n    processor:\n      type: load_balance\n"
                    "      selector: round_robin\n")
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
    try:
        lines = [f"lb-{i:05d}" for i in range(2000)]
        for i in range(0, len(lines), 500):
            assert nc_send(nc_port, lines[i:i + 500]) == ["OK"] * 500
        assert wait_for(lambda: len(roll_lines(d1)) + len(roll_lines(d2)) >= len(lines), 20)
        l1, l2 = roll_lines(d1), roll_lines(d2)
        assert len(l1) + len(l2) == len(lines)  # no failure: exactly once
        assert sorted(l1 + l2) == lines
        assert l1 == sorted(l1) and l2 == sorted(l2)  # each sink writes in channel order
        assert len(l1) >= 200 and len(l2) >= 200, (len(l1), len(l2))
        m = metrics(mport)
        g = m["SINKGROUP.g1"]["Sinks"]
        b1, b2 = int(g["k1"]["BatchCount"]), int(g["k2"]["BatchCount"])
        assert abs(b1 - b2) <= 1, (b1, b2)  # batches alternate
        assert int(m["SINK.k1"]["EventDrainSuccessCount"]) == len(l1)
        assert int(m["SINK.k2"]["EventDrainSuccessCount"]) == len(l2)
        with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=10) as r:
            prom = r.read().decode()
        lbl = 'agent="a1",sinkgroup="g1",type="load_balance",sink="k1"'
        assert f"sluice_sinkgroup_sink_batches_total{{{lbl}}} {b1}\n" in prom
        assert f"sluice_sinkgroup_sink_failures_total{{{lbl}}} 0\n" in prom
    finally:
        rc = a.stop()
    assert rc == 0, a.log_text()[-3000:]


def test_load_balance_backoff_around_a_dead_sink(sluice_bin, tmp_path):
    nc_port, mport, dead = free_port(), free_port(), free_port()
    roll = tmp_path / "roll"
    cfg = base_yaml(nc_port, mport, kafka_sink("k1", dead, 20) + roll_sink("k2", roll, 20),
                    "  g1:\n    sinks: [k1, k2]\n    processor:\n      type: load_balance\n"
                    "      backoff: true\n      selector.maxTimeOut: 4000\n")
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
    try:
        lines = [f"bo-{i:05d}" for i in range(400)]
        assert nc_send(nc_port, lines) == ["OK"] * len(lines)
        assert wait_for(lambda: len(roll_lines(roll)) >= len(lines), 30), a.log_text()[-2000:]
        got = roll_lines(roll)
        assert sorted(got) == lines and got == lines  # nothing lost, in order, once
        m = metrics(mport)["SINKGROUP.g1"]
        k1 = m["Sinks"]["k1"]
        # k1 was tried, failed, and sat out (1 s, 2 s, ... capped at 4 s) while k2 took the
        # batches; it was not tried for every batch (20 batches, a few probes).
        assert 1 <= int(k1["FailureCount"]) <= 8, k1
        assert k1["BatchCount"] == "0"
        assert int(m["Sinks"]["k2"]["BatchCount"]) >= len(lines) // 20
    finally:
        rc = a.stop()
    assert rc == 0, a.log_text()[-3000:]


BAD = [
    ("  g1: {sinks: [k1, k2], processor: {type: failsafe}}\n", "failsafe",
     "'failsafe' is not one of: default, failover, load_balance"),
    ("  g1: {sinks: [k1, k2], processor: {type: failover}}\n"
     "  g2: {sinks: [k2], processor: {type: load_balance}}\n", "k2], processor: {type: load",
     "sink 'k2' already belongs to sink group g1"),
    ("  g1: {sinks: [k1, k3], processor: {type: failover}}\n", "k3",
     "sink 'k3' does not exist (sinks: k1, k2)"),
    ("  g1: {sinks: [k1, k2], processor: {type: failover, priority: {k1: 1, k2: 1}}}\n", "1}}}",
     "sinks k1 and k2 both have priority 1"),
]


@pytest.mark.parametrize("groups,tok,msg", BAD)
def test_bad_sinkgroup_config(sluice_bin, tmp_path, groups, tok, msg):
    sinks = roll_sink("k1", tmp_path / "d1") + roll_sink("k2", tmp_path / "d2")
    text = base_yaml(1, 2, sinks, groups)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    lines = text.splitlines()
    line = max(i for i, l in enumerate(lines) if tok in l)
    col = lines[line].rindex(tok) + 1
    r = subprocess.run([sluice_bin, "agent", "--check", "-f", str(path)], capture_output=True,
                       timeout=30)
    err = r.stderr.decode()
    assert r.returncode != 0
    assert f"{path}:{line + 1}:{col}: " in err and msg in err, err
    assert not (tmp_path / "d1").exists()  # nothing started


def test_flume_properties_sinkgroup_runs(sluice_bin, tmp_path):
    """A Flume file with a failover group over two file_roll sinks (Flume's class names)."""
    nc_port = free_port()
    d1, d2 = tmp_path / "d1", tmp_path / "d2"
    props = (f"a1.sources = r1\na1.channels = c1\na1.sinks = k1 k2\na1.sinkgroups = g1\n"
             f"a1.sources.r1.type = netcat\na1.sources.r1.bind = 127.0.0.1\n"
             f"a1.sources.r1.port = {nc_port}\na1.sources.r1.channels = c1\n"
             f"a1.channels.c1.type = memory\n"
             f"a1.sinks.k1.type = org.apache.flume.sink.RollingFileSink\n"
             f"a1.sinks.k1.sink.directory = {d1}\na1.sinks.k1.channel = c1\n"
             f"a1.sinks.k2.type = file_roll\na1.sinks.k2.sink.directory = {d2}\n"
             f"a1.sinks.k2.channel = c1\n"
             f"a1.sinkgroups.g1.sinks = k1 k2\n"
             f"a1.sinkgroups.g1.processor.type = org.apache.flume.sink.FailoverSinkProcessor\n"
             f"a1.sinkgroups.g1.processor.priority.k1 = 5\n"
             f"a1.sinkgroups.g1.processor.priority.k2 = 10\n")
    path = tmp_path / "flume.conf"
    path.write_text(props)
    a = Agent(sluice_bin, tmp_path, args=["agent", "--conf-file", str(path), "--name", "a1"])
    a.start(nc_port)
    try:
        lines = [f"fl-{i}" for i in range(50)]
        assert nc_send(nc_port, lines) == ["OK"] * 50
        assert wait_for(lambda: roll_lines(d2) == lines, 10)  # k2 has the higher priority
        assert roll_lines(d1) == []
    finally:
        rc = a.stop()
    assert rc == 0, a.log_text()[-3000:]


def test_stop_with_every_sink_down_is_bounded(sluice_bin, tmp_path):
    """Both sinks of a failover group have no broker: the lines stay in the channel, and
    SIGTERM still ends the agent within drainTimeoutMs (plus the kafka sinks' own close),
    saying what it discards."""
    nc_port, mport = free_port(), free_port()
    sinks = kafka_sink("k1", free_port()) + kafka_sink("k2", free_port())
    sinks = sinks.replace("message.timeout.ms: 1500", "message.timeout.ms: 60000")
    cfg = base_yaml(nc_port, mport, sinks,
                    "  g1: {sinks: [k1, k2], processor: {type: failover}}\n")
    cfg = cfg.replace("drainTimeoutMs: 3000", "drainTimeoutMs: 1000")
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
    assert nc_send(nc_port, [f"d{i}" for i in range(10)]) == ["OK"] * 10
    time.sleep(0.5)
    t0 = time.monotonic()
    rc = a.stop()
    assert rc == 0, a.log_text()[-2000:]
    assert time.monotonic() - t0 < 10
    assert "10 events were still buffered at stop and are discarded" in a.log_text()


def test_file_roll_alone_rolls_by_interval_while_idle(sluice_bin, tmp_path):
    """A file_roll sink on its own thread: the file is closed once sink.rollInterval has
    passed even with nothing to write, and the next line starts the next file."""
    nc_port, mport = free_port(), free_port()
    roll = tmp_path / "roll"
    cfg = (f"sources:\n  r1: {{type: netcat, bind: 127.0.0.1, port: {nc_port}, "
           f"channels: [c1]}}\n"
           f"channels:\n  c1: {{type: memory}}\n"
           f"sinks:\n  k1:\n    type: file_roll\n    channel: c1\n"
           f"    sink.directory: {roll}\n    sink.rollInterval: 1\n"
           f"    sink.pathManager.prefix: app-\n    sink.pathManager.extension: txt\n")
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)

    def open_files():
        fds = f"/proc/{a.proc.pid}/fd"
        return [p for p in (os.path.realpath(os.path.join(fds, f)) for f in os.listdir(fds))
                if p.startswith(str(roll) + "/")]

    try:
        assert nc_send(nc_port, ["a1", "a2"]) == ["OK"] * 2
        assert wait_for(lambda: roll_lines(roll) == ["a1", "a2"], 10)
        assert len(open_files()) == 1
        assert wait_for(lambda: not open_files(), 5), "not closed after rollInterval"
        assert len(os.listdir(roll)) == 1  # and no empty file was begun
        assert nc_send(nc_port, ["b1"]) == ["OK"]
        assert wait_for(lambda: roll_lines(roll) == ["a1", "a2", "b1"], 10)
        names = sorted(os.listdir(roll))
        assert len(names) == 2
        assert all(n.startswith("app-") and n.endswith(".txt") for n in names)
        assert {n.rsplit("-", 1)[1] for n in names} == {"1.txt", "2.txt"}
    finally:
        rc = a.stop()
    assert rc == 0, a.log_text()[-3000:]


def test_failover_example_checks(sluice_bin):
    path = pathlib.Path(__file__).resolve().parents[2] / "conf" / "examples" / "failover.yaml"
    r = subprocess.run([sluice_bin, "agent", "--check", "-f", str(path)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "sinkgroup g1 (failover) <- c1: k1, k2\n  priority k1: 10\n  priority k2: 5\n" in r.stdout
    assert "sink.pathManager.prefix: failover-" in r.stdout


@pytest.mark.parametrize("processor", ["failover", "load_balance"])
def test_group_on_file_channel_keeps_backlog_at_stop(sluice_bin, tmp_path, processor):
    """A group draining a file channel stops like a lone sink does: SIGTERM finishes the
    batch in flight and leaves the backlog on disk (within drainTimeoutMs, however much is
    queued); the next start delivers the rest, nothing lost."""
    logf = tmp_path / "app.log"
    n = 20000
    lines = [f"L{i:06d}" for i in range(n)]
    logf.write_text("".join(l + "\n" for l in lines))
    d1, d2 = tmp_path / "d1", tmp_path / "d2"

    def cfg(batch):
        return (f"agent: {{name: a1, drainTimeoutMs: 1000}}\n"
                f"sources:\n  r1:\n    type: tail\n    channels: [c1]\n"
                f"    positionFile: {tmp_path}/pos.json\n    batchSize: 1000\n"
                f"    filegroups: {{f1: \"{logf}\"}}\n"
                f"channels:\n  c1: {{type: file, dataDir: {tmp_path}/data, capacity: 100000, "
                f"transactionCapacity: 1000}}\n"
                f"sinks:\n" + roll_sink("k1", d1, batch) + roll_sink("k2", d2, batch) +
                f"sinkgroups:\n  g1: {{sinks: [k1, k2], processor: {{type: {processor}}}}}\n")

    # One event per batch, each fdatasync'ed: the sinks fall far behind the tail source.
    a = Agent(sluice_bin, tmp_path, cfg(1)).start()
    try:
        assert wait_for(lambda: roll_lines(d1) or roll_lines(d2), 20)
        assert wait_for(lambda: "EventAcceptedCount" in a.log_text() or
                        (tmp_path / "pos.json").exists(), 20)
    finally:
        t0 = time.monotonic()
        rc = a.stop()
        took = time.monotonic() - t0
    assert rc == 0, a.log_text()[-3000:]
    at_stop = roll_lines(d1) + roll_lines(d2)
    assert took < 8, (took, len(at_stop))
    assert len(at_stop) < n, "the backlog was drained at stop"
    left = re.search(r"closed \S+: (\d+) events stay on disk for the next start", a.log_text())
    assert left and int(left.group(1)) > 0, a.log_text()[-3000:]

    b = Agent(sluice_bin, tmp_path, cfg(1000), name="agent2").start()
    try:
        assert wait_for(lambda: len(set(roll_lines(d1) + roll_lines(d2))) >= n, 30)
    finally:
        rc = b.stop()
    assert rc == 0, b.log_text()[-3000:]
    got = roll_lines(d1) + roll_lines(d2)
    assert sorted(set(got)) == lines  # nothing lost
    assert len(got) - n <= 1  # at most the batch in flight at the stop again
