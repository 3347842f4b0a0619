"""The Kafka-style tools (`sluice topics`, `console-producer`, `console-consumer`, `perf`)
against a real sluice broker, cross-checked with independent clients (kcat, librdkafka through
confluent-kafka) so the tools are not only tested against themselves.

Every process runs on 127.0.0.1 with a subprocess timeout; the broker comes from the `broker`
fixture (free port, stopped by PID).
"""
import os
import re
import select
import shutil
import subprocess
import time

import pytest

from brokerutil import free_port

TIMEOUT_S = 120


def run(sluice_bin, *args, stdin=None, timeout=TIMEOUT_S):
    """Runs sluice; returns (exit code, stdout, stderr) as text."""
    proc = subprocess.run(
        [sluice_bin, *args],
        input=stdin.encode() if stdin is not None else None,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
    )
    out = proc.stdout.decode("utf-8", "surrogateescape")
    err = proc.stderr.decode("utf-8", "surrogateescape")
    for marker in ("Sanitizer", "runtime error:"):
        assert marker not in err, err
    return proc.returncode, out, err


def topics(sluice_bin, broker, *args):
    return run(sluice_bin, "topics", "--bootstrap-server", broker.bootstrap, *args)


def create(sluice_bin, broker, topic, partitions=1, *extra):
    rc, out, err = topics(sluice_bin, broker, "--create", "--topic", topic, "--partitions",
                          str(partitions), "--replication-factor", "1", *extra)
    assert rc == 0, err
    assert out == f"Created topic {topic}.\n"


def consume(sluice_bin, broker, topic, *args):
    return run(sluice_bin, "console-consumer", "--bootstrap-server", broker.bootstrap,
               "--topic", topic, *args)


def produce(sluice_bin, broker, topic, lines, *args):
    return run(sluice_bin, "console-producer", "--bootstrap-server", broker.bootstrap,
               "--topic", topic, *args, stdin="".join(line + "\n" for line in lines))


def kcat(*args, stdin=None):
    if shutil.which("kcat") is None:
        pytest.fail("kcat is not installed")
    proc = subprocess.run(["kcat", *args], input=stdin, capture_output=True,
                          timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout.decode()


# ---- usage ----

@pytest.mark.parametrize("tool", [["topics"], ["console-producer"], ["console-consumer"],
                                  ["perf", "produce"], ["perf", "consume"], ["perf"]])
def test_tools_help_and_bad_usage(sluice_bin, tool):
    rc, out, err = run(sluice_bin, *tool, "--help")
    assert rc == 0 and out.startswith("usage: sluice " + tool[0]) and err == ""
    rc, out, err = run(sluice_bin, *tool, "--no-such-flag")
    assert rc == 2 and out == "" and "usage: sluice" in err


def test_tools_usage_rules(sluice_bin):
    b = ["--bootstrap-server", "127.0.0.1:1"]
    cases = [
        ["topics", *b],                                    # no action
        ["topics", *b, "--list", "--describe"],            # two actions
        ["topics", *b, "--create"],                        # no topic
        ["topics", *b, "--create", "--topic", "t", "--partitions", "0"],
        ["topics", *b, "--alter", "--topic", "t"],         # nothing to alter
        ["topics", *b, "--list", "--config", "a=b"],
        ["topics", "--list"],                              # no bootstrap
        ["console-consumer", *b, "--topic", "t", "--offset", "5"],  # offset needs partition
        ["console-consumer", *b, "--topic", "t", "--partition", "0", "--offset", "x"],
        ["console-consumer", *b, "--topic", "t", "--property", "novalue"],
        ["console-producer", *b],                          # no topic
        ["perf", "produce", "--topic", "t", "--num-records", "1", "--record-size", "1"],
        ["perf", "produce", "--topic", "t", "--num-records", "1", "--record-size", "1",
         "--throughput", "-1"],                            # no broker anywhere
        ["perf", "consume", *b, "--topic", "t"],           # no --messages
    ]
    for argv in cases:
        rc, out, err = run(sluice_bin, *argv)
        assert rc == 2, (argv, rc, err)
        assert out == "" and "usage: sluice" in err, argv


# ---- topics ----

def test_topics_create_list_describe_delete(sluice_bin, broker):
    create(sluice_bin, broker, "alpha", 3, "--config", "retention.ms=3600000")
    create(sluice_bin, broker, "beta", 1)

    # The group coordinator's internal topic exists from the start, as Kafka lists it too.
    rc, out, err = topics(sluice_bin, broker, "--list")
    assert rc == 0 and out == "__consumer_offsets\nalpha\nbeta\n", err
    rc, out, err = topics(sluice_bin, broker, "--list", "--exclude-internal")
    assert rc == 0 and out == "alpha\nbeta\n", err

    rc, out, err = topics(sluice_bin, broker, "--describe", "--topic", "alpha")
    assert rc == 0, err
    assert out == (
        "Topic:alpha\tPartitionCount:3\tReplicationFactor:1\tConfigs:retention.ms=3600000\n"
        "\tTopic: alpha\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\n"
        "\tTopic: alpha\tPartition: 1\tLeader: 0\tReplicas: 0\tIsr: 0\n"
        "\tTopic: alpha\tPartition: 2\tLeader: 0\tReplicas: 0\tIsr: 0\n")

    rc, out, err = topics(sluice_bin, broker, "--describe", "--exclude-internal")
    assert rc == 0, err
    assert out.splitlines()[4] == (
        "Topic:beta\tPartitionCount:1\tReplicationFactor:1\tConfigs:")

    rc, out, err = topics(sluice_bin, broker, "--delete", "--topic", "beta")
    assert rc == 0, err
    rc, out, err = topics(sluice_bin, broker, "--list", "--exclude-internal")
    assert rc == 0 and out == "alpha\n"

    rc, out, err = topics(sluice_bin, broker, "--delete", "--topic", "beta")
    assert rc == 1
    assert "Topic 'beta' does not exist as expected" in err
    rc, out, err = topics(sluice_bin, broker, "--delete", "--topic", "beta", "--if-exists")
    assert rc == 0, err
    rc, out, err = topics(sluice_bin, broker, "--describe", "--topic", "beta")
    assert rc == 1 and "does not exist" in err


def test_topics_create_errors(sluice_bin, broker):
    create(sluice_bin, broker, "dup")
    rc, out, err = topics(sluice_bin, broker, "--create", "--topic", "dup", "--partitions", "1",
                          "--replication-factor", "1")
    assert rc == 1 and out == ""
    assert err.startswith("Error while executing topic command : ")
    rc, out, err = topics(sluice_bin, broker, "--create", "--topic", "dup", "--partitions", "1",
                          "--replication-factor", "1", "--if-not-exists")
    assert rc == 0 and out == "" and err == ""

    rc, out, err = topics(sluice_bin, broker, "--create", "--topic", "rf3", "--partitions", "1",
                          "--replication-factor", "3")
    assert rc == 1 and out == ""
    assert err.startswith("Error while executing topic command : ")
    assert "larger than available brokers" in err
    rc, out, _ = topics(sluice_bin, broker, "--list", "--exclude-internal")
    assert out == "dup\n"


def test_topics_alter_partitions(sluice_bin, broker):
    create(sluice_bin, broker, "grow", 1)
    rc, out, err = topics(sluice_bin, broker, "--alter", "--topic", "grow", "--partitions", "4")
    assert rc == 0, err
    rc, out, err = topics(sluice_bin, broker, "--describe", "--topic", "grow")
    assert out.startswith("Topic:grow\tPartitionCount:4\t")
    assert len(out.splitlines()) == 5

    rc, out, err = topics(sluice_bin, broker, "--alter", "--topic", "grow", "--partitions", "2")
    assert rc == 1
    assert err.startswith("Error while executing topic command : ")
    assert "4" in err  # the broker says how many partitions the topic has
    rc, out, err = topics(sluice_bin, broker, "--describe", "--topic", "grow")
    assert out.startswith("Topic:grow\tPartitionCount:4\t")


def test_topics_unreachable_broker_fails(sluice_bin, tmp_path):
    conf = tmp_path / "client.properties"
    conf.write_text("socket.timeout.ms=2000\n")
    t0 = time.monotonic()
    rc, out, err = run(sluice_bin, "topics", "--bootstrap-server",
                       f"127.0.0.1:{free_port()}", "--list", "--command-config", str(conf),
                       timeout=90)
    assert rc == 1 and "Error while executing topic command" in err
    assert time.monotonic() - t0 < 20  # socket.timeout.ms bounds the wait


# ---- console producer and consumer ----

PRINT_ALL = ["--property", "print.timestamp=true", "--property", "print.partition=true",
             "--property", "print.offset=true", "--property", "print.key=true"]


def test_console_round_trip_keys_and_print_properties(sluice_bin, broker):
    create(sluice_bin, broker, "rt")
    before = int(time.time() * 1000)
    rc, out, err = produce(sluice_bin, broker, "rt", ["k1:hello", "k2:wor:ld", "k3:"],
                           "--property", "parse.key=true", "--property", "key.separator=:")
    assert rc == 0, err
    after = int(time.time() * 1000)

    rc, out, err = consume(sluice_bin, broker, "rt", "--from-beginning", "--max-messages", "3",
                           *PRINT_ALL, "--timeout-ms", "30000")
    assert rc == 0, err
    assert "Processed a total of 3 messages" in err
    lines = out.splitlines()
    assert len(lines) == 3
    expect = [("k1", "hello"), ("k2", "wor:ld"), ("k3", "")]
    for i, (line, (k, v)) in enumerate(zip(lines, expect)):
        m = re.fullmatch(r"CreateTime:(\d+)\tPartition:0\tOffset:(\d+)\t([^\t]*)\t(.*)", line)
        assert m, line
        assert before - 1000 <= int(m.group(1)) <= after + 1000
        assert (int(m.group(2)), m.group(3), m.group(4)) == (i, k, v)

    # Default layout: values only; custom separator and headers column.
    rc, out, err = consume(sluice_bin, broker, "rt", "--from-beginning", "--max-messages", "2",
                           "--timeout-ms", "30000")
    assert rc == 0 and out == "hello\nwor:ld\n", err
    rc, out, err = consume(sluice_bin, broker, "rt", "--from-beginning", "--max-messages", "1",
                           "--property", "print.key=true", "--property", "key.separator= => ",
                           "--property", "print.headers=true", "--timeout-ms", "30000")
    assert rc == 0 and out == "NO_HEADERS => k1 => hello\n", err


def test_console_producer_without_keys_and_missing_separator(sluice_bin, broker):
    create(sluice_bin, broker, "nokey")
    rc, _, err = produce(sluice_bin, broker, "nokey", ["a\tb", "plain"])
    assert rc == 0, err
    rc, out, err = consume(sluice_bin, broker, "nokey", "--from-beginning", "--max-messages",
                           "2", "--property", "print.key=true", "--timeout-ms", "30000")
    assert rc == 0 and out == "null\ta\tb\nnull\tplain\n", err

    rc, _, err = produce(sluice_bin, broker, "nokey", ["x\ty", "nosep"], "--property",
                         "parse.key=true")
    assert rc == 1 and "No key separator found on line number 2" in err


def test_console_consumer_partition_offset_and_limits(sluice_bin, broker):
    create(sluice_bin, broker, "offs")
    values = [f"v{i}" for i in range(10)]
    rc, _, err = produce(sluice_bin, broker, "offs", values)
    assert rc == 0, err

    rc, out, err = consume(sluice_bin, broker, "offs", "--partition", "0", "--offset", "7",
                           "--timeout-ms", "3000", "--property", "print.offset=true")
    assert rc == 0, err
    assert out == "Offset:7\tv7\nOffset:8\tv8\nOffset:9\tv9\n"
    assert "Processed a total of 3 messages" in err

    rc, out, err = consume(sluice_bin, broker, "offs", "--partition", "0", "--offset",
                           "earliest", "--max-messages", "4")
    assert rc == 0 and out == "v0\nv1\nv2\nv3\n", err

    # latest: nothing old is shown; --timeout-ms ends the wait with status 0.
    t0 = time.monotonic()
    rc, out, err = consume(sluice_bin, broker, "offs", "--partition", "0", "--offset",
                           "latest", "--timeout-ms", "1500")
    assert rc == 0 and out == "", err
    assert "Processed a total of 0 messages" in err
    assert time.monotonic() - t0 < 30

    # Without --from-beginning the consumer starts at the end as well.
    rc, out, err = consume(sluice_bin, broker, "offs", "--timeout-ms", "1500")
    assert rc == 0 and out == "" and "Processed a total of 0 messages" in err

    # --max-messages stops early although more records exist.
    rc, out, err = consume(sluice_bin, broker, "offs", "--from-beginning", "--max-messages",
                           "5")
    assert rc == 0 and out.splitlines() == values[:5]
    assert "Processed a total of 5 messages" in err


def test_console_consumer_reads_all_partitions(sluice_bin, broker):
    create(sluice_bin, broker, "multi", 3)
    lines = [f"k{i}:v{i}" for i in range(30)]
    rc, _, err = produce(sluice_bin, broker, "multi", lines, "--property", "parse.key=true",
                         "--property", "key.separator=:")
    assert rc == 0, err
    rc, out, err = consume(sluice_bin, broker, "multi", "--from-beginning", "--max-messages",
                           "30", "--property", "print.partition=true",
                           "--timeout-ms", "30000")
    assert rc == 0, err
    got = out.splitlines()
    assert sorted(line.split("\t")[1] for line in got) == sorted(f"v{i}" for i in range(30))
    assert len({line.split("\t")[0] for line in got}) > 1  # keys spread over partitions


def test_console_producer_reports_failed_deliveries(sluice_bin):
    rc, out, err = run(sluice_bin, "console-producer", "--bootstrap-server",
                       f"127.0.0.1:{free_port()}", "--topic", "t",
                       "--producer-property", "message.timeout.ms=1500",
                       stdin="a\nb\nc\n", timeout=60)
    assert rc == 1
    assert "3 of 3 records failed to be delivered" in err


def test_console_tools_reject_bad_client_properties(sluice_bin, broker):
    rc, _, err = produce(sluice_bin, broker, "t", ["x"], "--producer-property", "no.such=1")
    assert rc == 1 and "no.such" in err
    rc, _, err = consume(sluice_bin, broker, "t", "--consumer-property", "no.such=1")
    assert rc == 1 and "no.such" in err


def test_console_tools_stop_cleanly_on_signal(sluice_bin, broker, tmp_path):
    """SIGTERM flushes what was read and exits 0, as Kafka's shutdown hooks do."""
    import signal

    create(sluice_bin, broker, "sig")
    conf = tmp_path / "producer.properties"
    conf.write_text(f"# from a file\nbootstrap.servers = {broker.bootstrap}\nacks=all\n")
    prod = subprocess.Popen([sluice_bin, "console-producer", "--producer.config", str(conf),
                             "--topic", "sig"], stdin=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        prod.stdin.write(b"one\ntwo\n")
        prod.stdin.flush()  # stdin stays open: only the signal ends the producer
        time.sleep(1.0)
        prod.send_signal(signal.SIGTERM)
        _, err = prod.communicate(timeout=60)
    finally:
        if prod.poll() is None:
            prod.kill()
            prod.wait(10)
    assert prod.returncode == 0, err

    cons = subprocess.Popen([sluice_bin, "console-consumer", "--bootstrap-server",
                             broker.bootstrap, "--topic", "sig", "--from-beginning"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = b""
        deadline = time.monotonic() + 30
        while seen.count(b"\n") < 2 and time.monotonic() < deadline:
            ready, _, _ = select.select([cons.stdout], [], [], 0.5)
            if ready:
                seen += os.read(cons.stdout.fileno(), 4096)
        assert seen == b"one\ntwo\n"
        cons.send_signal(signal.SIGTERM)
        out, err = cons.communicate(timeout=60)
    finally:
        if cons.poll() is None:
            cons.kill()
            cons.wait(10)
    assert cons.returncode == 0, err
    assert out == b""
    assert b"Processed a total of 2 messages" in err


def test_kcat_reads_console_producer_and_vice_versa(sluice_bin, broker):
    create(sluice_bin, broker, "interop")
    rc, _, err = produce(sluice_bin, broker, "interop", ["a:1", "b:2"], "--property",
                         "parse.key=true", "--property", "key.separator=:")
    assert rc == 0, err
    out = kcat("-C", "-b", broker.bootstrap, "-t", "interop", "-e", "-q",
               "-f", "%k=%s@%o\n")
    assert out == "a=1@0\nb=2@1\n"

    kcat("-P", "-b", broker.bootstrap, "-t", "interop", "-K", ":", "-H", "h1=x",
         stdin=b"c:3\nd:4\n")
    rc, out, err = consume(sluice_bin, broker, "interop", "--partition", "0", "--offset", "2",
                           "--max-messages", "2", "--property", "print.key=true",
                           "--property", "print.headers=true", "--timeout-ms", "30000")
    assert rc == 0, err
    assert out == "h1:x\tc\t3\nh1:x\td\t4\n"


# ---- perf ----

PRODUCE_SUMMARY = re.compile(
    r"^(\d+) records sent, \d+\.\d{6} records/sec \(\d+\.\d{2} MB/sec\), "
    r"\d+\.\d{2} ms avg latency, \d+\.\d{2} ms max latency, \d+ ms 50th, \d+ ms 95th, "
    r"\d+ ms 99th, \d+ ms 99\.9th\.$")

PRODUCE_WINDOW = re.compile(
    r"^\d+ records sent, (\d+\.\d) records/sec \(\d+\.\d{2} MB/sec\), \d+\.\d ms avg latency, "
    r"\d+\.\d ms max latency\.$")

CONSUME_HEADER = ("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, "
                  "nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")
DATE = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}"
CONSUME_LINE = re.compile(
    rf"^{DATE}, {DATE}, (\d+\.\d{{4}}), \d+\.\d{{4}}, (\d+), \d+\.\d{{4}}, 0, \d+, "
    r"\d+\.\d{4}, \d+\.\d{4}$")


def test_perf_produce_then_consume(sluice_bin, broker):
    create(sluice_bin, broker, "perf", 2)
    rc, out, err = run(sluice_bin, "perf", "produce", "--topic", "perf", "--num-records",
                       "20000", "--record-size", "100", "--throughput", "-1",
                       "--producer-props", f"bootstrap.servers={broker.bootstrap}",
                       "linger.ms=5")
    assert rc == 0, err
    last = out.splitlines()[-1]
    m = PRODUCE_SUMMARY.match(last)
    assert m, out
    assert m.group(1) == "20000"

    # An independent reader counts what the topic holds.
    offsets = kcat("-C", "-b", broker.bootstrap, "-t", "perf", "-e", "-q", "-f", "%o\n")
    assert len(offsets.splitlines()) == 20000

    rc, out, err = run(sluice_bin, "perf", "consume", "--bootstrap-server", broker.bootstrap,
                       "--topic", "perf", "--messages", "20000", "--timeout", "30000")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == CONSUME_HEADER
    m = CONSUME_LINE.match(lines[1])
    assert m, out
    assert m.group(2) == "20000"
    assert abs(float(m.group(1)) - 20000 * 100 / 1048576) < 0.001


def test_perf_produce_throttles_and_consume_times_out(sluice_bin, broker):
    create(sluice_bin, broker, "slow")
    t0 = time.monotonic()
    rc, out, err = run(sluice_bin, "perf", "produce", "--bootstrap-server", broker.bootstrap,
                       "--topic", "slow", "--num-records", "1200", "--record-size", "10",
                       "--throughput", "200")
    elapsed = time.monotonic() - t0
    assert rc == 0, err
    lines = out.splitlines()
    assert PRODUCE_SUMMARY.match(lines[-1]).group(1) == "1200"
    assert elapsed >= 5.5  # 1200 records at 200/s take at least ~6 s
    # Kafka's window line every 5 s: at about 200 records/sec.
    assert 1 <= len(lines) - 1 <= 2, out
    for line in lines[:-1]:
        m = PRODUCE_WINDOW.match(line)
        assert m, line
        assert 150 <= float(m.group(1)) <= 250, line

    rc, out, err = run(sluice_bin, "perf", "consume", "--bootstrap-server", broker.bootstrap,
                       "--topic", "slow", "--messages", "1500", "--timeout", "1500")
    assert rc == 1
    assert "Exiting before consuming the expected number of messages" in err
    assert CONSUME_LINE.match(out.splitlines()[1]).group(2) == "1200"


def test_perf_consume_threads(sluice_bin, broker):
    # 3 partitions over 2 threads: thread 0 reads partitions 0 and 2, thread 1 partition 1.
    # Each partition holds 1000 records of its own size, so the byte total shows that every
    # partition was read exactly once.
    create(sluice_bin, broker, "perfthreads", 3)
    sizes = {0: 100, 1: 200, 2: 300}
    for p, size in sizes.items():
        kcat("-P", "-b", broker.bootstrap, "-t", "perfthreads", "-p", str(p),
             stdin=("x" * size + "\n").encode() * 1000)
    rc, out, err = run(sluice_bin, "perf", "consume", "--bootstrap-server", broker.bootstrap,
                       "--topic", "perfthreads", "--messages", "3000", "--threads", "2",
                       "--timeout", "30000")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == CONSUME_HEADER
    m = CONSUME_LINE.match(lines[1])
    assert m, out
    assert m.group(2) == "3000"
    assert abs(float(m.group(1)) - 1000 * sum(sizes.values()) / 1048576) < 0.001
