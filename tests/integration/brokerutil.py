"""Start and stop a real `sluice broker` for integration tests.

Every broker listens on 127.0.0.1 on a free port, keeps its logs in a fresh directory, is
waited for with a bounded loop, and is stopped by its PID (SIGTERM, then SIGKILL after a
bounded wait). Use the `broker` fixture from conftest.py, or Broker directly when a test
needs to restart or kill the process.
"""
import os
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"broker exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


class Broker:
    """One sluice broker process. overrides: extra broker config keys (str -> str)."""

    def __init__(self, sluice_bin, log_dir, port=None, overrides=None, config_file=None):
        self.bin = sluice_bin
        self.log_dir = str(log_dir)
        self.port = port or free_port()
        self.overrides = dict(overrides or {})
        self.config_file = config_file
        self.proc = None
        parent = os.path.dirname(os.path.abspath(self.log_dir))
        os.makedirs(parent, exist_ok=True)
        self.stderr_path = os.path.join(parent, f"broker-{self.port}.stderr")

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def argv(self):
        args = [self.bin, "broker"]
        if self.config_file:
            args += ["-c", str(self.config_file)]
        conf = {
            "broker.id": "0",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "log.dirs": self.log_dir,
        }
        conf.update(self.overrides)
        for k, v in conf.items():
            args += ["--override", f"{k}={v}"]
        return args

    def start(self, timeout=30.0):
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=self.stderr, stderr=self.stderr)
        wait_port(self.port, timeout, self.proc)
        return self

    def stop(self, timeout=20.0):
        """SIGTERM and wait; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        rc = self.proc.returncode
        self.proc = None
        self.stderr.close()
        return rc

    def kill(self):
        """SIGKILL: what a crash leaves."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None
        self.stderr.close()

    def log_text(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")
