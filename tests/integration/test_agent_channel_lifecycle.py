"""Channel start/stop in the agent, and how netcat commits the lines of many connections.

- A file channel that cannot open its log (directory locked by another agent, or a dataDir
  that cannot be created) fails the agent's startup with a clear error; its source never
  listens.
- Stopping an agent whose file channel holds a backlog (its sink down) does not wait for the
  drain: the events stay on disk, the log says so, and the next start delivers them.
- netcat with several connections sending at once: each connection gets exactly one reply
  per line, in its order, OK once committed, FAILED for the one line that can never fit the
  channel (on the connection that sent it); the source's ledger balances.
"""
import json
import socket
import subprocess
import threading
import time
import urllib.request

from agentutil import Agent, read_oks
from brokerutil import free_port


def file_agent(nc_port, data, sink, drain_ms=5000, metrics_port=None):
    text = (f"agent: {{name: a1, drainTimeoutMs: {drain_ms}}}\n"
            f"sources:\n  r1: {{type: netcat, bind: 127.0.0.1, port: {nc_port}, channels: [c1]}}\n"
            f"channels:\n  c1: {{type: file, dataDir: {data}, minimumRequiredSpace: 0,"
            f" capacity: 10000, transactionCapacity: 1000}}\n"
            f"sinks:\n  k1: {sink}\n")
    if metrics_port:
        text += f"metrics: {{port: {metrics_port}, bind: 127.0.0.1}}\n"
    return text


def send_and_read(port, lines, timeout=20):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"".join(ln.encode() + b"\n" for ln in lines))
        return read_oks(s, len(lines), timeout)


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_file_channel_locked_directory_fails_startup(sluice_bin, tmp_path):
    data = tmp_path / "data"
    p1, p2 = free_port(), free_port()
    a = Agent(sluice_bin, tmp_path, file_agent(p1, data, "{type: null, channel: c1}"),
              name="first").start(p1)
    try:
        b = subprocess.run([sluice_bin, "agent", "-f",
                            str(_write(tmp_path / "second.yaml",
                                       file_agent(p2, data, "{type: null, channel: c1}")))],
                           capture_output=True, text=True, timeout=30)
        assert b.returncode != 0, b.stderr
        assert "[channel:file:c1] cannot start:" in b.stderr, b.stderr
        assert f"{data} is in use by another file channel" in b.stderr, b.stderr
        assert "agent a1 started" not in b.stderr and not port_open(p2)
        # The first agent still works on its directory.
        assert send_and_read(p1, ["still-here"]) == ["OK"]
    finally:
        assert a.stop() == 0


def test_file_channel_uncreatable_data_dir_fails_startup(sluice_bin, tmp_path):
    (tmp_path / "plain").write_text("x")
    data = tmp_path / "plain" / "sub"
    port = free_port()
    path = _write(tmp_path / "a.yaml", file_agent(port, data, "{type: null, channel: c1}"))
    check = subprocess.run([sluice_bin, "agent", "--check", "-f", str(path)],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr  # --check opens nothing
    r = subprocess.run([sluice_bin, "agent", "-f", str(path)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0
    assert f"[channel:file:c1] cannot start: {data}: Not a directory" in r.stderr, r.stderr


def test_file_channel_stop_keeps_backlog_on_disk(sluice_bin, tmp_path):
    data = tmp_path / "data"
    port, dead = free_port(), free_port()
    kafka = ("{type: kafka, channel: c1, topic: t, bootstrap.servers: "
             f"'127.0.0.1:{dead}', kafka.producer.message.timeout.ms: 1000}}")
    # A long drain timeout: a memory channel would keep retrying the dead sink that long.
    a = Agent(sluice_bin, tmp_path, file_agent(port, data, kafka, drain_ms=60000),
              name="down").start(port)
    lines = [f"kept-{i:03d}" for i in range(50)]
    assert send_and_read(port, lines) == ["OK"] * 50
    t0 = time.monotonic()
    assert a.stop(timeout=40) == 0, a.log_text()[-3000:]
    assert time.monotonic() - t0 < 15
    log = a.log_text()
    assert "50 events were still held at stop: they stay on disk" in log, log[-3000:]
    assert "discarded" not in log
    assert "agent a1 stopped cleanly" in log

    b = Agent(sluice_bin, tmp_path, file_agent(port, data, "{type: logger, channel: c1}"),
              name="up").start(port)
    try:
        deadline = time.monotonic() + 20
        while b.log_text().count("[sink:logger:k1] Event:") < 50 and \
                time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        assert b.stop() == 0
    log = b.log_text()
    assert log.count("[sink:logger:k1] Event:") == 50, log[-3000:]
    assert "(clean stop): 50 events to deliver" in log, log[-3000:]


def test_netcat_many_connections_replies_per_connection(sluice_bin, tmp_path):
    port, mport = free_port(), free_port()
    # byteCapacity 100000 (no headroom): 2,000-line chunks do not fit at once and are split;
    # the one 150,000-byte line can never fit and is refused on its own connection.
    cfg = (f"agent: {{name: a1}}\n"
           f"sources:\n  r1: {{type: netcat, bind: 127.0.0.1, port: {port}, channels: [c1],"
           f" max-line-length: 200000}}\n"
           f"channels:\n  c1: {{type: memory, capacity: 100000, transactionCapacity: 2000,"
           f" byteCapacity: 100000, byteCapacityBufferPercentage: 0}}\n"
           f"sinks:\n  k1: {{type: null, channel: c1, batchSize: 500}}\n"
           f"metrics: {{port: {mport}, bind: 127.0.0.1}}\n")
    a = Agent(sluice_bin, tmp_path, cfg).start(port)
    nconn, nlines, big_at = 4, 3000, 1700
    replies = {}

    def one(k):
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            body = []
            for i in range(nlines):
                if k == 2 and i == big_at:
                    body.append(b"B" * 150000 + b"\n")
                else:
                    body.append(f"c{k}-{i:05d}-{'x' * 20}\n".encode())
            t = threading.Thread(target=s.sendall, args=(b"".join(body),))
            t.start()
            replies[k] = read_oks(s, nlines, timeout=60)
            t.join()
            s.shutdown(socket.SHUT_WR)
            s.settimeout(10)
            assert s.recv(100) == b""  # closed by the agent once everything is answered

    try:
        ts = [threading.Thread(target=one, args=(k,)) for k in range(nconn)]
        [t.start() for t in ts]
        [t.join(90) for t in ts]
        for k in range(nconn):
            want = ["OK"] * nlines
            if k == 2:
                want[big_at] = "FAILED: Event exceeds the channel's byteCapacity"
            assert replies.get(k) == want, k
        m = json.load(urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics.json",
                                             timeout=10))["SOURCE.r1"]
        assert int(m["EventReceivedCount"]) == nconn * nlines
        assert int(m["EventAcceptedCount"]) == nconn * nlines - 1
        assert int(m["EventPendingCount"]) == 0 and int(m["EventLostUnacknowledgedCount"]) == 0
    finally:
        assert a.stop() == 0


def _write(path, text):
    path.write_text(text)
    return path
