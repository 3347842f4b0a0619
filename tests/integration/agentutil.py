"""Start and stop a real `sluice agent` for integration tests, send lines to its netcat
source, and read topics back with independent clients (kcat, kafka-python).

Every agent runs from a config written into the test's temporary directory, listens on
127.0.0.1 and free ports, is waited for with bounded loops and is stopped by its PID.
"""
import select
import signal
import subprocess
import time

from brokerutil import wait_port
from kafka import KafkaConsumer, TopicPartition


class Agent:
    def __init__(self, sluice_bin, tmp_path, config_text=None, args=None, name="agent"):
        self.bin = sluice_bin
        self.tmp = tmp_path
        self.proc = None
        self.stderr_path = str(tmp_path / f"{name}.stderr")
        if config_text is not None:
            self.config = tmp_path / f"{name}.yaml"
            self.config.write_text(config_text)
            self.args = ["agent", "-f", str(self.config)]
        else:
            self.args = list(args)

    def start(self, wait_for_port=None, timeout=30.0):
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([self.bin] + self.args, stdout=self.stderr,
                                     stderr=self.stderr)
        if wait_for_port:
            wait_port(wait_for_port, timeout, self.proc)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        rc = self.proc.returncode
        self.proc = None
        self.stderr.close()
        return rc

    def log_text(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")


def quickstart_yaml(nc_port, broker_port=None, log_dir=None, bootstrap=None, capacity=1000,
                    tx_capacity=100, batch=100, extra_sink="", extra_source=""):
    broker = ""
    if broker_port is not None:
        broker = (f"broker:\n  listeners: PLAINTEXT://127.0.0.1:{broker_port}\n"
                  f"  log.dirs: {log_dir}\n")
    boot = f"    bootstrap.servers: {bootstrap}\n" if bootstrap else ""
    return (f"agent: {{name: a1}}\n{broker}"
            f"sources:\n  r1:\n    type: netcat\n    bind: 127.0.0.1\n    port: {nc_port}\n"
            f"    channels: [c1]\n{extra_source}"
            f"channels:\n  c1:\n    type: memory\n    capacity: {capacity}\n"
            f"    transactionCapacity: {tx_capacity}\n"
            f"sinks:\n  k1:\n    type: kafka\n    channel: c1\n    topic: flume-kafka\n"
            f"    acks: 1\n    linger.ms: 1\n    batchSize: {batch}\n{boot}{extra_sink}")


def nc_send(port, lines, timeout=30):
    """Send lines with OpenBSD netcat (-N: half-close after stdin); returns its replies."""
    r = subprocess.run(["nc", "-N", "127.0.0.1", str(port)],
                       input="".join(l + "\n" for l in lines).encode(), capture_output=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode().splitlines()


def read_oks(sock, n, timeout=30.0):
    """Read replies until n lines arrived (or EOF/timeout); returns the reply lines. Waits
    with select, so another thread may keep sending on the same (blocking) socket."""
    buf = b""
    deadline = time.monotonic() + timeout
    while buf.count(b"\n") < n and time.monotonic() < deadline:
        r, _, _ = select.select([sock], [], [], 0.5)
        if not r:
            continue
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf.decode().splitlines()


def consume_kafka_python(bootstrap, topic, expected, timeout=60.0):
    """Every record value of partition 0 from the beginning, with kafka-python."""
    cons = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         consumer_timeout_ms=2000, fetch_max_wait_ms=100)
    tp = TopicPartition(topic, 0)
    out = []
    deadline = time.monotonic() + timeout
    try:
        # The topic may not exist yet.
        while time.monotonic() < deadline:
            parts = cons.partitions_for_topic(topic)
            if parts:
                break
            time.sleep(0.2)
        cons.assign([tp])
        cons.seek_to_beginning(tp)
        while len(out) < expected and time.monotonic() < deadline:
            batch = cons.poll(timeout_ms=500)
            for recs in batch.values():
                out.extend(r.value.decode() for r in recs)
    finally:
        cons.close()
    return out


def consume_kcat(bootstrap, topic, timeout=60):
    r = subprocess.run(["kcat", "-b", bootstrap, "-t", topic, "-C", "-e", "-o", "beginning",
                        "-q", "-f", "%s\\n"], capture_output=True, timeout=timeout)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode().splitlines()
