"""The durable file channel end to end: netcat (ack-every-event) -> file channel -> kafka sink
-> a sluice broker, read back with kafka-python.

- Crash torture: the agent is killed with SIGKILL at a random moment under load, 50 times
  (SLUICE_FC_TRIALS=N for more), and restarted on the same directories; every line that was acknowledged with OK before a
  kill reaches the topic (at least once). Duplicates per trial are printed (pytest -s).
- Disk full: a small tmpfs as dataDir, the broker down so the channel fills it; puts are
  refused below minimumRequiredSpace (the netcat sender is pushed back), and once the broker
  is up the sink drains, segments are deleted, space returns and every acknowledged line
  arrives. Skipped when tmpfs cannot be mounted (needs root).
- Two sinks on one channel, one failing (a dead bootstrap) and rolling back: nothing lost.
- Broken configuration values: clear errors with file:line:col; `--check` touches no file.
"""
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import pytest
from kafka import KafkaConsumer, TopicPartition
from agentutil import Agent
from brokerutil import Broker, free_port


def file_yaml(nc_port, bootstrap, data, ckpt, capacity=100000, tx=1000, batch=500,
              extra_channel="", sinks=None, metrics_port=None):
    sinks = sinks or [("k1", bootstrap)]
    text = (f"agent: {{name: a1}}\n"
            f"sources:\n  r1:\n    type: netcat\n    bind: 127.0.0.1\n    port: {nc_port}\n"
            f"    ack-every-event: true\n    channels: [c1]\n"
            f"channels:\n  c1:\n    type: file\n    dataDir: {data}\n"
            f"    checkpointDir: {ckpt}\n    capacity: {capacity}\n"
            f"    transactionCapacity: {tx}\n    minimumRequiredSpace: 0\n{extra_channel}"
            f"sinks:\n")
    for name, boot in sinks:
        text += (f"  {name}:\n    type: kafka\n    channel: c1\n    topic: fc\n    acks: all\n"
                 f"    linger.ms: 1\n    batchSize: {batch}\n    bootstrap.servers: {boot}\n"
                 f"    kafka.producer.message.timeout.ms: 2000\n")
    if metrics_port:
        text += f"metrics: {{port: {metrics_port}, bind: 127.0.0.1}}\n"
    return text


class Sender:
    """Sends numbered lines on one connection as fast as the agent takes them and counts the
    OK replies; line i is acknowledged when reply i is OK (replies come in order)."""

    def __init__(self, port, prefix, body=40, pace=0.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.prefix = prefix
        self.pad = "p" * body
        self.pace = pace  # seconds between chunks of 200 lines
        self.sent = 0
        self.oks = 0
        self.other = []
        self.stop = threading.Event()
        self.ts = threading.Thread(target=self._send)
        self.tr = threading.Thread(target=self._read)
        self.ts.start()
        self.tr.start()

    def line(self, i):
        return f"{self.prefix}-{i:07d}-{self.pad}"

    def _send(self):
        try:
            while not self.stop.is_set():
                chunk = "".join(self.line(self.sent + j) + "\n" for j in range(200))
                self.sock.sendall(chunk.encode())
                self.sent += 200
                if self.pace:
                    time.sleep(self.pace)
        except OSError:
            pass

    def _read(self):
        buf = b""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                buf += data
                *lines, buf = buf.split(b"\n")
                for ln in lines:
                    if ln == b"OK" and not self.other:
                        self.oks += 1
                    else:
                        self.other.append(ln)
        except OSError:
            pass

    def finish(self, timeout=10):
        self.stop.set()
        self.ts.join(timeout)
        self.tr.join(timeout)
        self.sock.close()
        return [self.line(i) for i in range(self.oks)]


def consume_until(bootstrap, topic, want, timeout=90):
    """Every record value of partition 0 from the beginning, polled with one kafka-python
    consumer until every line of `want` is among them (or timeout)."""
    cons = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         fetch_max_wait_ms=100, max_partition_fetch_bytes=4 << 20)
    tp = TopicPartition(topic, 0)
    got, seen = [], set()
    deadline = time.monotonic() + timeout
    try:
        while not cons.partitions_for_topic(topic) and time.monotonic() < deadline:
            time.sleep(0.2)
        cons.assign([tp])
        cons.seek_to_beginning(tp)
        while not want <= seen and time.monotonic() < deadline:
            for recs in cons.poll(timeout_ms=500, max_records=100000).values():
                for r in recs:
                    v = r.value.decode()
                    got.append(v)
                    seen.add(v)
    finally:
        cons.close()
    return got


def test_file_channel_crash_torture(sluice_bin, tmp_path):
    # SLUICE_FC_TRIALS raises the count for a longer run (the suite keeps 50).
    trials = int(os.environ.get("SLUICE_FC_TRIALS", "50"))
    rnd = random.Random(7)
    broker = Broker(sluice_bin, tmp_path / "blogs").start()
    nc_port = free_port()
    data, ckpt = tmp_path / "data", tmp_path / "ckpt"
    cfg = file_yaml(nc_port, broker.bootstrap, data, ckpt,
                    extra_channel="    maxFileSize: 1048576\n")
    acked = {}
    try:
        for t in range(trials):
            a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
            # Paced below what the sink drains, so most kills hit a flowing pipeline rather
            # than a full channel (the pace varies per trial).
            s = Sender(nc_port, f"t{t:02d}", pace=rnd.choice([0.004, 0.008, 0.016]))
            time.sleep(rnd.uniform(0.3, 0.8))
            a.proc.send_signal(signal.SIGKILL)
            a.proc.wait(10)
            a.stop()
            acked[t] = s.finish()
            assert not s.other, f"trial {t}: unexpected replies {s.other[:3]}"
        total = sum(len(v) for v in acked.values())
        assert sum(1 for v in acked.values() if v) >= trials // 2, \
            "most trials must have acknowledged lines before the kill"
        # A last start delivers what the channel still holds.
        a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
        want = set().union(*[set(v) for v in acked.values()])
        got = consume_until(broker.bootstrap, "fc", want)
        rc = a.stop()
        missing = want - set(got)
        per_trial = {t: sorted(set(v) & missing) for t, v in acked.items()}
        summary = {t: (len(m), m[0][:11], m[-1][:11], len(acked[t]))
                   for t, m in per_trial.items() if m}
        assert not missing, (f"{len(missing)} acknowledged lines lost "
                             f"(trial: lost, first, last, acked): {summary}")
        assert rc == 0, a.log_text()[-3000:]
        counts = {}
        for line in got:
            counts[line] = counts.get(line, 0) + 1
        dups = {t: sum(counts.get(ln, 0) - 1 for ln in v if counts.get(ln, 0) > 1)
                for t, v in acked.items()}
        print(f"\ncrash torture: {trials} trials, {total} acknowledged lines, all delivered; "
              f"{len(got)} records, duplicates per trial: "
              + " ".join(f"{t}:{acked_n}/{dups[t]}" for t, acked_n in
                         ((t, len(v)) for t, v in acked.items())))
        assert "unclean stop" in a.log_text()
    finally:
        broker.stop()


def _can_mount_tmpfs(path):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(path)],
                       capture_output=True)
    return r.returncode == 0


def test_file_channel_disk_full_pushes_back_then_recovers(sluice_bin, tmp_path):
    mnt = tmp_path / "small"
    if os.geteuid() != 0 or shutil.which("mount") is None or not _can_mount_tmpfs(mnt):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        nc_port, bport, mport = free_port(), free_port(), free_port()
        cfg = file_yaml(nc_port, f"127.0.0.1:{bport}", mnt / "data", mnt / "ckpt",
                        extra_channel="    maxFileSize: 262144\n",
                        metrics_port=mport).replace(
            "minimumRequiredSpace: 0", "minimumRequiredSpace: 3145728")
        a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
        s = Sender(nc_port, "full", body=200)
        # The broker is down: the channel fills the 6 MiB tmpfs to the 3 MiB floor.
        deadline = time.monotonic() + 30
        while "puts refused" not in a.log_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "puts refused" in a.log_text(), a.log_text()[-2000:]
        oks_at_full = s.oks
        time.sleep(1.0)
        assert s.oks == oks_at_full, "puts must stop while space is low"
        assert s.sent - s.oks > 0  # the sender is held back, its lines wait unacknowledged
        with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics.json", timeout=10) as r:
            body = r.read().decode()
        assert '"PutRefusedLowSpaceCount"' in body
        # Space returns when the sink drains: start the broker on the port the sink uses.
        broker = Broker(sluice_bin, tmp_path / "blogs", port=bport).start()
        try:
            deadline = time.monotonic() + 60
            while s.oks <= oks_at_full + 1000 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert s.oks > oks_at_full + 1000, "puts must resume once space returns"
            acked = set(s.finish())
            got = consume_until(broker.bootstrap, "fc", acked)
            missing = acked - set(got)
            assert not missing, f"{len(missing)} acknowledged lines lost"
            rc = a.stop()
            assert rc == 0, a.log_text()[-3000:]
        finally:
            broker.stop()
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_file_channel_two_sinks_one_failing(sluice_bin, tmp_path):
    broker = Broker(sluice_bin, tmp_path / "blogs").start()
    nc_port, dead = free_port(), free_port()
    cfg = file_yaml(nc_port, broker.bootstrap, tmp_path / "data", tmp_path / "ckpt", batch=50,
                    sinks=[("good", broker.bootstrap), ("bad", f"127.0.0.1:{dead}")])
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
    try:
        n = 3000
        sock = socket.create_connection(("127.0.0.1", nc_port), timeout=10)
        lines = [f"two-{i:05d}" for i in range(n)]
        sock.sendall("".join(ln + "\n" for ln in lines).encode())
        buf = b""
        deadline = time.monotonic() + 60
        while buf.count(b"\n") < n and time.monotonic() < deadline:
            buf += sock.recv(65536)
        sock.close()
        assert buf.decode().splitlines() == ["OK"] * n
        got = consume_until(broker.bootstrap, "fc", set(lines))
        assert set(lines) <= set(got)
        # The failing sink took batches and rolled them back; the good one delivered them.
        deadline = time.monotonic() + 20
        while "rolled back" not in a.log_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "rolled back" in a.log_text()
    finally:
        rc = a.stop(timeout=60)
        broker.stop()
    assert rc in (0, 1), a.log_text()[-3000:]


@pytest.mark.parametrize("body,tok,msg", [
    ("    capacity: -5\n", "capacity", "capacity"),
    ("    fsync: maybe\n", "fsync", "fsync"),
    ("    maxFileSize: 100\n", "maxFileSize", "maxFileSize"),
    ("    dataDirs: /tmp/x\n", "dataDirs", "dataDirs"),
    ("    transactionCapacity: 5000\n    capacity: 100\n", "type: file", "transactionCapacity"),
])
def test_file_channel_bad_config(sluice_bin, tmp_path, body, tok, msg):
    text = ("sources:\n  r1: {type: netcat, bind: 127.0.0.1, port: 1, channels: [c1]}\n"
            "channels:\n  c1:\n    type: file\n"
            f"    dataDir: {tmp_path}/d\n{body}"
            "sinks:\n  k1: {type: logger, channel: c1}\n")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    r = subprocess.run([sluice_bin, "agent", "--check", "-f", str(path)], capture_output=True,
                       timeout=30)
    err = r.stderr.decode()
    assert r.returncode != 0
    line = next(i + 1 for i, ln in enumerate(text.splitlines()) if tok in ln)
    assert f"bad.yaml:{line}:" in err, err
    assert msg in err, err


def test_file_channel_data_dir_is_a_file(sluice_bin, tmp_path):
    f = tmp_path / "plainfile"
    f.write_text("x")
    text = ("sources:\n  r1: {type: netcat, bind: 127.0.0.1, port: 1, channels: [c1]}\n"
            f"channels:\n  c1:\n    type: file\n    dataDir: {f}\n"
            "sinks:\n  k1: {type: logger, channel: c1}\n")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    r = subprocess.run([sluice_bin, "agent", "--check", "-f", str(path)], capture_output=True,
                       timeout=30)
    err = r.stderr.decode()
    assert r.returncode != 0 and "bad.yaml:5:" in err and "not a directory" in err, err


def test_file_channel_check_touches_nothing_and_flume_import(sluice_bin, tmp_path):
    conf = tmp_path / "flume.conf"
    conf.write_text("a1.sources = r1\na1.channels = c1\na1.sinks = k1\n"
                    "a1.sources.r1.type = netcat\na1.sources.r1.bind = 127.0.0.1\n"
                    "a1.sources.r1.port = 44444\na1.sources.r1.channels = c1\n"
                    "a1.channels.c1.type = file\n"
                    f"a1.channels.c1.checkpointDir = {tmp_path}/ck\n"
                    f"a1.channels.c1.dataDirs = {tmp_path}/dd\n"
                    "a1.sinks.k1.type = logger\na1.sinks.k1.channel = c1\n")
    r = subprocess.run([sluice_bin, "agent", "--check", "--conf-file", str(conf), "--name", "a1"],
                       capture_output=True, timeout=30)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()
    assert f"dataDir: {tmp_path}/dd" in out and f"checkpointDir: {tmp_path}/ck" in out
    assert not (tmp_path / "dd").exists() and not (tmp_path / "ck").exists()
    conf.write_text(conf.read_text().replace(f"{tmp_path}/dd", f"{tmp_path}/a,{tmp_path}/b"))
    r = subprocess.run([sluice_bin, "agent", "--check", "--conf-file", str(conf), "--name", "a1"],
                       capture_output=True, timeout=30)
    assert r.returncode != 0 and "flume.conf:10:" in r.stderr.decode(), r.stderr.decode()
