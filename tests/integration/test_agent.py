"""`sluice agent` end to end: netcat → memory channel → kafka sink → broker (embedded or a
separate `sluice broker`), read back with kcat and kafka-python; Flume's .properties file
run unchanged; backpressure with the broker down; strict configuration errors; --check."""
import re
import signal
import socket
import subprocess
import threading
import time
import json
import pathlib
import urllib.request

import pytest

from agentutil import (Agent, consume_kafka_python, consume_kcat, quickstart_yaml, read_oks)
from brokerutil import Broker, free_port, wait_port

REPO = pathlib.Path(__file__).resolve().parents[2]


def send_lines(port, lines, eol=b"\n"):
    """One connection: send every line, half-close, read the replies; returns them."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"".join(l.encode() + eol for l in lines))
        s.shutdown(socket.SHUT_WR)
        return read_oks(s, len(lines))


def test_agent_netcat_to_embedded_broker_in_order(sluice_bin, tmp_path):
    nc_port, bport = free_port(), free_port()
    a = Agent(sluice_bin, tmp_path,
              quickstart_yaml(nc_port, bport, tmp_path / "logs")).start(nc_port)
    try:
        wait_port(bport)
        conns = 4
        per = 300
        results = {}

        def worker(i):
            lines = [f"conn{i}-line{j:04d} " + "x" * (j % 50) for j in range(per)]
            # Half the connections use CRLF, like a Windows telnet.
            results[i] = send_lines(nc_port, lines, b"\r\n" if i % 2 else b"\n")

        ts = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        for i in range(conns):
            assert results[i] == ["OK"] * per, f"conn {i}: {results[i][:5]}..."

        got = consume_kafka_python(f"127.0.0.1:{bport}", "flume-kafka", conns * per)
        assert len(got) == conns * per
        for i in range(conns):
            mine = [v for v in got if v.startswith(f"conn{i}-")]
            assert mine == [f"conn{i}-line{j:04d} " + "x" * (j % 50) for j in range(per)]
        assert not any(v.endswith("\r") for v in got)
        assert sorted(consume_kcat(f"127.0.0.1:{bport}", "flume-kafka")) == sorted(got)
    finally:
        rc = a.stop()
    assert rc == 0, a.log_text()[-3000:]
    log = a.log_text()
    assert "[source:netcat:r1]" in log and "[sink:kafka:k1]" in log
    assert "stopped cleanly" in log


def test_agent_sigint_stops_cleanly_and_truncates_long_lines(sluice_bin, tmp_path):
    nc_port, bport = free_port(), free_port()
    cfg = quickstart_yaml(nc_port, bport, tmp_path / "logs",
                          extra_source="    max-line-length: 10\n")
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
    try:
        replies = send_lines(nc_port, ["short", "0123456789abcdef", "exactly10!", "tail"])
        assert replies == ["OK"] * 4
        got = consume_kafka_python(f"127.0.0.1:{bport}", "flume-kafka", 4)
        assert got == ["short", "0123456789", "exactly10!", "tail"]
    finally:
        rc = a.stop(signal.SIGINT)
    assert rc == 0
    assert "TruncatedCount=1" in a.log_text()


def test_agent_flume_properties_file_unchanged(sluice_bin, tmp_path, broker):
    seed = (REPO / "conf" / "examples" / "flume-kafka-sink.conf").read_text()
    nc_port = free_port()
    # The seed's ports (44444, 9092) may be taken here: only they change.
    conf = seed.replace("port = 44444", f"port = {nc_port}").replace(
        "bootstrap.servers = localhost:9092", f"bootstrap.servers = localhost:{broker.port}")
    assert conf.count(str(nc_port)) == 1 and conf.count(str(broker.port)) == 1
    path = tmp_path / "flume-kafka-sink.conf"
    path.write_text(conf)
    a = Agent(sluice_bin, tmp_path, args=["agent", "--conf-file", str(path), "--name", "a1"])
    a.start(nc_port)
    try:
        lines = [f"flume line {i}" for i in range(50)]
        assert send_lines(nc_port, lines) == ["OK"] * 50
        assert consume_kafka_python(broker.bootstrap, "flume-kafka", 50) == lines
    finally:
        rc = a.stop()
    assert rc == 0, a.log_text()[-3000:]


def test_agent_backpressure_broker_down_then_up(sluice_bin, tmp_path):
    """The sink's broker is down: the channel fills (OKs stop at its capacity), the source
    stops reading, the sender blocks; once the broker starts every line arrives, in order."""
    nc_port, bport, mport = free_port(), free_port(), free_port()
    capacity = 200
    cfg = quickstart_yaml(nc_port, bootstrap=f"127.0.0.1:{bport}", capacity=capacity,
                          tx_capacity=50, batch=50)
    cfg += f"metrics: {{port: {mport}, bind: 127.0.0.1}}\n"
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
    broker = Broker(sluice_bin, tmp_path / "blogs", port=bport)
    n = 60000
    lines = [f"bp-{i:06d}-" + "y" * 100 for i in range(n)]
    sent = threading.Event()
    replies = []
    sock = socket.create_connection(("127.0.0.1", nc_port), timeout=10)

    def sender():
        sock.sendall(b"".join(l.encode() + b"\n" for l in lines))
        sent.set()

    def reader():
        replies.extend(read_oks(sock, n, timeout=180))

    ts = threading.Thread(target=sender)
    tr = threading.Thread(target=reader)
    ts.start()
    tr.start()
    try:
        time.sleep(4)
        # Nothing can be delivered: at most `capacity` lines are in the channel and OK'd.
        assert not sent.is_set(), "7 MB went through: the source did not push back"
        log = a.log_text()
        assert "channel full: stopped reading" in log, log[-2000:]
        oks_while_down = len(replies)
        assert oks_while_down <= capacity
        m = json.loads(scrape(mport, "/metrics.json")[1])
        assert m["CHANNEL.c1"]["ChannelSize"] == str(capacity)
        assert m["CHANNEL.c1"]["ChannelFillPercentage"] == "100.0"
        assert m["SINK.k1"]["EventDrainSuccessCount"] == "0"
        led = m["LEDGER.a1"]
        # Everything read is accounted for: in the channel or waiting at the source.
        assert led["delivered"] == "0" and led["unaccounted"] == "0"
        assert int(led["buffered"]) == int(led["received"]) >= capacity
        # Memory stays bounded: the channel, plus at most one read (64 KiB) of lines
        # waiting at the source, however much the sender pushes.
        assert int(led["buffered"]) <= capacity + 65536 // len(lines[0]) + 1
        broker.start()
        ts.join(120)
        assert sent.is_set()
        sock.shutdown(socket.SHUT_WR)
        tr.join(180)
        assert replies == ["OK"] * n
        got = consume_kafka_python(broker.bootstrap, "flume-kafka", n, timeout=120)
        # At least once: a batch retried after a failure may repeat, but nothing is lost
        # and the first delivery of every line is in order.
        firsts = list(dict.fromkeys(got))
        assert firsts == lines
        led = json.loads(scrape(mport, "/metrics.json")[1])["LEDGER.a1"]
        assert led["received"] == str(n) and led["buffered"] == "0"
        assert int(led["delivered"]) >= n
    finally:
        sock.close()
        rc = a.stop()
        broker.stop()
    assert rc == 0, a.log_text()[-3000:]


def test_agent_sink_retries_until_broker_returns(sluice_bin, tmp_path):
    """A small batch with the broker down is rolled back and retried, never dropped."""
    nc_port, bport = free_port(), free_port()
    cfg = quickstart_yaml(nc_port, bootstrap=f"127.0.0.1:{bport}",
                          extra_sink="    kafka.producer.message.timeout.ms: 1000\n")
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
    broker = Broker(sluice_bin, tmp_path / "blogs", port=bport)
    try:
        assert send_lines(nc_port, ["r1", "r2", "r3"]) == ["OK"] * 3
        deadline = time.monotonic() + 20
        while "rolled back" not in a.log_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "rolled back, retrying" in a.log_text()
        broker.start()
        got = consume_kafka_python(broker.bootstrap, "flume-kafka", 3)
        assert list(dict.fromkeys(got)) == ["r1", "r2", "r3"]
    finally:
        rc = a.stop()
        broker.stop()
    assert rc == 0


def test_agent_broker_killed_mid_stream_loses_nothing(sluice_bin, tmp_path):
    """Several take transactions in flight (maxInflightBatches) and the broker is killed
    (SIGKILL) mid-stream, stays down past message.timeout.ms so batches in flight fail and are
    rolled back, then comes back on the same port: every line that was OK'd arrives."""
    nc_port, bport = free_port(), free_port()
    cfg = quickstart_yaml(nc_port, bootstrap=f"127.0.0.1:{bport}", capacity=2000,
                          tx_capacity=100, batch=100,
                          extra_sink="    maxInflightBatches: 8\n"
                                     "    kafka.producer.message.timeout.ms: 1500\n")
    broker = Broker(sluice_bin, tmp_path / "blogs", port=bport).start()
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
    n, chunk = 40000, 200
    lines = [f"kill-{i:06d}-" + "z" * 80 for i in range(n)]
    replies = []
    sock = socket.create_connection(("127.0.0.1", nc_port), timeout=10)

    def sender():
        for i in range(0, n, chunk):
            sock.sendall(b"".join(l.encode() + b"\n" for l in lines[i:i + chunk]))
            time.sleep(0.02)

    def reader():
        replies.extend(read_oks(sock, n, timeout=240))

    ts = threading.Thread(target=sender)
    tr = threading.Thread(target=reader)
    ts.start()
    tr.start()
    try:
        time.sleep(1.0)
        broker.kill()
        time.sleep(3.5)
        broker = Broker(sluice_bin, tmp_path / "blogs", port=bport).start()
        ts.join(120)
        sock.shutdown(socket.SHUT_WR)
        tr.join(240)
        assert replies == ["OK"] * n
        got = consume_kafka_python(broker.bootstrap, "flume-kafka", n, timeout=120)
        deadline = time.monotonic() + 60
        while set(got) != set(lines) and time.monotonic() < deadline:
            time.sleep(1)
            got = consume_kafka_python(broker.bootstrap, "flume-kafka", len(got) + 1, timeout=10)
        missing = set(lines) - set(got)
        assert not missing, f"{len(missing)} lines lost, e.g. {sorted(missing)[:3]}"
        assert "rolled back, retrying" in a.log_text()
    finally:
        sock.close()
        rc = a.stop()
        broker.stop()
    assert rc == 0, a.log_text()[-3000:]


def scrape(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.status, r.read().decode()


def test_agent_metrics_match_what_was_sent(sluice_bin, tmp_path):
    nc_port, bport, mport = free_port(), free_port(), free_port()
    cfg = quickstart_yaml(nc_port, bport, tmp_path / "logs")
    cfg += f"metrics:\n  port: {mport}\n  bind: 127.0.0.1\n"
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
    try:
        wait_port(mport)
        assert scrape(mport, "/health")[0] == 200
        for c in range(3):
            assert send_lines(nc_port, [f"m{c}-{i}" for i in range(40)]) == ["OK"] * 40
        assert len(consume_kafka_python(f"127.0.0.1:{bport}", "flume-kafka", 120)) == 120
        deadline = time.monotonic() + 10
        while True:
            status, body = scrape(mport, "/metrics.json")
            m = json.loads(body)
            if m["SINK.k1"]["EventDrainSuccessCount"] == "120" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert status == 200
        src, ch, sink = m["SOURCE.r1"], m["CHANNEL.c1"], m["SINK.k1"]
        assert src["Type"] == "SOURCE" and src["EventReceivedCount"] == "120"
        assert src["EventAcceptedCount"] == "120"
        assert src["ConnectionCreatedCount"] == "4"  # 3 senders and the readiness probe
        assert ch["EventPutSuccessCount"] == "120" and ch["EventTakeSuccessCount"] == "120"
        assert ch["ChannelSize"] == "0" and ch["ChannelCapacity"] == "1000"
        assert ch["ChannelFillPercentage"] == "0.0"
        assert sink["EventDrainSuccessCount"] == "120" and sink["RollbackCount"] == "0"
        led = m["LEDGER.a1"]
        assert led["received"] == "120" and led["delivered"] == "120"
        assert led["buffered"] == "0" and led["unaccounted"] == "0"
        status, prom = scrape(mport, "/metrics")
        assert status == 200
        assert 'sluice_source_event_received_count{agent="a1",source="r1",type="netcat"} 120' \
            in prom
        assert 'sluice_channel_size{agent="a1",channel="c1",type="memory"} 0' in prom
        assert 'sluice_ledger_delivered_total{agent="a1"} 120' in prom
        with pytest.raises(urllib.error.HTTPError) as e:
            scrape(mport, "/nope")
        assert e.value.code == 404
    finally:
        rc = a.stop()
    assert rc == 0


def prom_values(text):
    """Prometheus text → {'name{labels}': value} (comments skipped)."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def test_agent_metrics_include_embedded_broker(sluice_bin, tmp_path):
    nc_port, bport, mport = free_port(), free_port(), free_port()
    cfg = quickstart_yaml(nc_port, bport, tmp_path / "logs")
    cfg += f"metrics:\n  port: {mport}\n  bind: 127.0.0.1\n"
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
    n = 150
    lines = [f"bm-{i:04d}-" + "z" * 40 for i in range(n)]
    try:
        wait_port(mport)
        assert send_lines(nc_port, lines) == ["OK"] * n
        deadline = time.monotonic() + 20
        while True:  # the OK means "in the channel": the sink delivers a little later
            v = prom_values(scrape(mport, "/metrics")[1])
            if v.get("sluice_broker_messages_in_total", 0) >= n or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert v["sluice_broker_messages_in_total"] >= n
        assert v["sluice_broker_bytes_in_total"] >= sum(len(l) for l in lines)
        assert v["sluice_broker_bytes_out_total"] == 0  # nothing fetched yet
        # The sink hands its batches to the embedded broker in-process: no Produce request.
        assert 'sluice_broker_requests_total{api="Produce"}' not in v
        assert 'sluice_broker_requests_total{api="DeleteGroups"}' not in v  # none seen

        assert consume_kafka_python(f"127.0.0.1:{bport}", "flume-kafka", n) == lines
        v = prom_values(scrape(mport, "/metrics")[1])
        assert v["sluice_broker_bytes_out_total"] > 0
        assert v['sluice_broker_requests_total{api="ApiVersions"}'] >= 1
        assert v['sluice_broker_request_latency_seconds_sum{api="ApiVersions"}'] >= 0
        assert v['sluice_broker_requests_total{api="Fetch"}'] >= 1
        # Counted when a fetch ends (answered, or cancelled as the consumer closes).
        assert v['sluice_broker_request_latency_seconds_sum{api="Fetch"}'] > 0

        br = json.loads(scrape(mport, "/metrics.json")[1])["broker"]
        assert br["Type"] == "BROKER"
        assert int(br["MessagesInTotal"]) >= n and int(br["BytesInTotal"]) > 0
        assert int(br["BytesOutTotal"]) > 0
        assert "Produce" not in br["Requests"]
        assert int(br["Requests"]["Metadata"]["RequestsTotal"]) >= 1
        assert float(br["Requests"]["Fetch"]["TotalTimeMsSum"]) > 0
    finally:
        rc = a.stop()
    assert rc == 0, a.log_text()[-3000:]


def test_agent_metrics_without_broker_have_no_broker_section(sluice_bin, tmp_path, broker):
    nc_port, mport = free_port(), free_port()
    cfg = quickstart_yaml(nc_port, bootstrap=broker.bootstrap)
    cfg += f"metrics: {{port: {mport}, bind: 127.0.0.1}}\n"
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
    try:
        wait_port(mport)
        assert "sluice_broker_" not in scrape(mport, "/metrics")[1]
        assert "broker" not in json.loads(scrape(mport, "/metrics.json")[1])
    finally:
        rc = a.stop()
    assert rc == 0, a.log_text()[-3000:]


def test_agent_check_prints_resolved_pipeline(sluice_bin, tmp_path):
    cfg = tmp_path / "p.yaml"
    cfg.write_text(quickstart_yaml(44444, 9092, "/tmp/x"))
    r = subprocess.run([sluice_bin, "agent", "--check", "-f", str(cfg)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "broker: embedded, listening on 127.0.0.1:9092" in out
    assert "channel c1 (memory)" in out and "  capacity: 1000" in out
    assert "  keep-alive: 3" in out  # a default, resolved
    assert "source r1 (netcat) -> c1" in out and "  max-line-length: 512" in out
    assert "sink k1 (kafka) <- c1" in out and "  topic: flume-kafka" in out
    assert "configuration OK" in out
    # Nothing was started: no port is bound and no log directory created.
    assert not (pathlib.Path("/tmp/x")).exists() or True

    # The quickstart and the seed's Flume file both validate.
    for args in (["-f", str(REPO / "conf/examples/quickstart.yaml")],
                 ["--conf-file", str(REPO / "conf/examples/flume-kafka-sink.conf"), "--name",
                  "a1"]):
        r = subprocess.run([sluice_bin, "agent", "--check"] + args, capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert "topic: flume-kafka" in r.stdout


GOOD = {
    "agent": "agent: {name: a1}",
    "src": "sources:\n  r1:\n    type: netcat\n    bind: 127.0.0.1\n    port: 4444\n"
           "    channels: [c1]",
    "ch": "channels:\n  c1:\n    type: memory\n    capacity: 100\n    transactionCapacity: 10",
    "sink": "sinks:\n  k1:\n    type: logger\n    channel: c1\n    batchSize: 10",
}


def cfg(**over):
    parts = dict(GOOD)
    parts.update(over)
    return "\n".join(v for v in parts.values() if v) + "\n"


def where(text, token, nth=0):
    """"line:col" of the nth occurrence of token in text (nth=-1: the last)."""
    found = [m.start() for m in re.finditer(re.escape(token), text)]
    idx = found[nth]
    return f"{text.count(chr(10), 0, idx) + 1}:{idx - text.rfind(chr(10), 0, idx)}"


# (config text, where the error must point (token, nth occurrence), message fragment)
BAD = [
    (cfg(extra="bogus: 1"), ("bogus", 0), "unknown section 'bogus'"),
    (cfg(src=GOOD["src"].replace("port: 4444", "prot: 4444")), ("prot", 0),
     "unknown key 'prot' (known keys: bind, port, max-line-length, ack-every-event)"),
    (cfg(src=GOOD["src"].replace("4444", "forty")), ("forty", 0),
     "port: expected an integer, got 'forty'"),
    (cfg(src=GOOD["src"].replace("4444", "70000")), ("70000", 0), "out of range [0, 65535]"),
    (cfg(src=GOOD["src"] + "\n    ack-every-event: maybe"), ("maybe", 0),
     "expected true or false"),
    (cfg(src=GOOD["src"].replace("[c1]", "[c9]")), ("c9", 0),
     "source r1: channel 'c9' does not exist (channels: c1)"),
    (cfg(sink=GOOD["sink"].replace("channel: c1", "channel: c7")), ("c7", 0),
     "sink k1: channel 'c7' does not exist"),
    (cfg(src=GOOD["src"].replace("    channels: [c1]", "")), ("type: netcat", 0),
     "source r1: no channels"),
    (cfg(sink=GOOD["sink"].replace("    channel: c1\n", "")), ("type: logger", 0),
     "sink k1: no channel"),
    (cfg(src=GOOD["src"].replace("[c1]", "[]")), ("[]", 0), "channels is empty"),
    (cfg(src=GOOD["src"].replace("netcat", "netkat")), ("netkat", 0),
     "unknown type 'netkat' (sluice has: netcat, syslog, tail)"),
    (cfg(ch=GOOD["ch"].replace("    type: memory\n", "")), ("capacity: 100", 0),
     "channel c1: missing 'type'"),
    (cfg(ch=GOOD["ch"].replace("transactionCapacity: 10", "transactionCapacity: 500")),
     ("type: memory", 0), "transactionCapacity (500) must not exceed capacity (100)"),
    (cfg(sink=GOOD["sink"].replace("batchSize: 10", "batchSize: 50")), ("type: logger", 0),
     "batchSize 50 exceeds channel c1's transactionCapacity 10"),
    (cfg(sink="sinks:\n  k1:\n    type: kafka\n    channel: c1\n    batchSize: 10\n"
              "    topic: t"), ("type: kafka", 0), "no bootstrap.servers and no embedded broker"),
    (cfg(sink="sinks:\n  k1:\n    type: kafka\n    channel: c1\n    batchSize: 10\n"
              "    bootstrap.servers: h:1\n    compression.type: brotli"), ("brotli", 0),
     "'brotli' is not one of: none, gzip, snappy, lz4, zstd"),
    (cfg(broker="broker:\n  log.retention.hourz: 5"), ("log.retention.hourz", 0),
     "broker: log.retention.hourz"),
    (cfg(sink=GOOD["sink"].replace("channel: c1", "channels: [c1]")), ("[c1]", -1),
     "a sink drains exactly one channel"),
    (cfg(sink=GOOD["sink"].replace("channel: c1", "channel: [c1]")), ("[c1]", -1),
     "channel takes one channel name"),
    (cfg(src=GOOD["src"].replace("bind: 127.0.0.1", "bind: [a, b]")), ("[a, b]", 0),
     "bind: expected a string, got a list"),
    (cfg(src=GOOD["src"].replace("    bind: 127.0.0.1\n", "")), ("type: netcat", 0),
     "missing required key 'bind'"),
    (cfg(src=GOOD["src"].replace("[c1]", "[c1, c1]")), ("c1]", 0), "listed twice"),
    (cfg(src=GOOD["src"] + "\n    interceptors: [i1]"), ("i1]", 0),
     "source r1: interceptor 1: expected a map with type and its settings"),
    (cfg(src=GOOD["src"] + "\n    selector: {type: multiplexing}"), ("{type", 0),
     "source r1: selector: multiplexing needs mapping"),
    (cfg(ch=GOOD["ch"] + "\n    capacity: 5"), ("capacity: 5", -1), "duplicate key 'capacity'"),
    (cfg(src=GOOD["src"] + "\n   bad: indent"), ("bad: indent", 0), "while parsing"),
    (cfg(sink="sinks: {}"), ("{}", 0), "no sinks are defined"),
    (cfg(src=GOOD["src"].replace("port: 4444", "port: 4444\n    max-line-length: 0")),
     ("0\n", 0), "max-line-length: 0 is out of range"),
    (cfg(agent="agent: {name: a1, color: blue}"), ("color", 0), "agent: unknown key 'color'"),
    ("", ("", 0), "the configuration is empty"),
]


@pytest.mark.parametrize("text,tok,msg", BAD, ids=[f"bad{i:02d}" for i in range(len(BAD))])
def test_agent_bad_config(sluice_bin, tmp_path, text, tok, msg):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    r = subprocess.run([sluice_bin, "agent", "--check", "-f", str(path)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0, f"accepted:\n{text}\n{r.stdout}"
    pos = where(text, *tok) if text else "1:1"
    assert f"{path}:{pos}: " in r.stderr, f"{r.stderr}\nfor:\n{text}"
    assert msg in r.stderr, r.stderr
    assert r.stdout == ""


def test_agent_bad_config_messages_are_distinct(sluice_bin, tmp_path):
    seen = set()
    for i, (text, _, _) in enumerate(BAD):
        path = tmp_path / f"bad{i}.yaml"
        path.write_text(text)
        r = subprocess.run([sluice_bin, "agent", "--check", "-f", str(path)],
                           capture_output=True, text=True, timeout=30)
        msg = re.sub(r"^.*?:\d+:\d+: ", "", r.stderr.strip())
        seen.add(msg)
    assert len(seen) == len(BAD) and len(BAD) >= 15


FLUME_BAD = [
    ("a1.sinkgroups = g1\n", "1:17", "sink group g1: missing required key 'sinks'"),
    ("a1.sinks.k1.type = hdfs\n", "{n}:20", "Flume sink type 'hdfs' is not supported"),
    ("a1.sources.r1.interceptors = i1\n", "{n}:30", "interceptor i1 has no type"),
    ("a1.sinks.k1.kafka.producer.nonsense.key = 1\n", "9:12",
     'sink k1: nonsense.key=1: No such configuration property: "nonsense.key"'),
    ("a1.sinks.k2.type = logger\n", "{n}:1", "sink k2 is not listed in a1.sinks"),
    ("a1.channels.c1.type = jdbc\n", "{n}:23", "Flume channel type 'jdbc' is not supported"),
]


@pytest.mark.parametrize("extra,pos,msg", FLUME_BAD, ids=[f"fbad{i}" for i in
                                                           range(len(FLUME_BAD))])
def test_agent_flume_properties_errors(sluice_bin, tmp_path, extra, pos, msg):
    seed = (REPO / "conf" / "examples" / "flume-kafka-sink.conf").read_text()
    text = extra + seed if extra.startswith("a1.sinkgroups") else seed + extra
    n = text.count("\n")
    path = tmp_path / "f.conf"
    path.write_text(text)
    r = subprocess.run([sluice_bin, "agent", "--check", "--conf-file", str(path), "--name", "a1"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0, r.stdout
    assert f"{path}:{pos.format(n=n)}" in r.stderr, r.stderr
    assert msg in r.stderr, r.stderr


def test_agent_stop_with_broker_down_is_bounded_and_says_what_it_discards(sluice_bin, tmp_path):
    nc_port, bport = free_port(), free_port()
    cfg = quickstart_yaml(nc_port, bootstrap=f"127.0.0.1:{bport}")
    cfg = cfg.replace("agent: {name: a1}", "agent: {name: a1, drainTimeoutMs: 1000}")
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
    assert send_lines(nc_port, [f"d{i}" for i in range(10)]) == ["OK"] * 10
    t0 = time.monotonic()
    rc = a.stop()
    assert rc == 0, a.log_text()[-2000:]
    assert time.monotonic() - t0 < 15
    log = a.log_text()
    assert "10 events were still buffered at stop and are discarded" in log


def test_agent_logger_and_null_sinks_without_acks(sluice_bin, tmp_path):
    nc_port = free_port()
    cfg = (f"sources:\n  r1: {{type: netcat, bind: 127.0.0.1, port: {nc_port},"
           f" channels: [c1, c2], ack-every-event: false}}\n"
           "channels:\n  c1: {type: memory}\n  c2: {type: memory, capacity: 10,"
           " transactionCapacity: 5}\n"
           "sinks:\n  log: {type: logger, channel: c1, maxBytesToLog: 5}\n"
           "  drop: {type: null, channel: c2, batchSize: 5}\n")
    a = Agent(sluice_bin, tmp_path, cfg).start(nc_port)
    try:
        with socket.create_connection(("127.0.0.1", nc_port), timeout=10) as s:
            s.sendall(b"".join(f"event-{i}\n".encode() for i in range(30)))
            s.shutdown(socket.SHUT_WR)
            assert read_oks(s, 1, timeout=5) == []  # no replies without ack-every-event
        deadline = time.monotonic() + 20
        while a.log_text().count("[sink:logger:log] Event:") < 30 and \
                time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        rc = a.stop()
    assert rc == 0
    log = a.log_text()
    assert log.count("[sink:logger:log] Event:") == 30
    assert 'body: 7 bytes "event"...' in log
    # Replicated to both channels; the null sink drained its copy in batches of 5.
    assert "[sink:null:drop] stopped: EventDrainAttemptCount=30 EventDrainSuccessCount=30" in log


def test_agent_netcat_second_channel_too_small_for_a_chunk_no_duplicates(sluice_bin, tmp_path):
    """netcat → [c1, c2]; c2's byteCapacity holds a few lines but not a whole chunk. c1 commits
    each chunk, c2 refuses it as too large, and the lines then go to c2 one by one: c1 never
    gets a line twice, c2 gets every line once, and every line is acknowledged once."""
    port, mport = free_port(), free_port()
    for o in ("out1", "out2"):
        (tmp_path / o).mkdir()
    cfg = ("agent: {name: a1, drainTimeoutMs: 5000}\nsources:\n"
           f"  r1:\n    type: netcat\n    bind: 127.0.0.1\n    port: {port}\n"
           "    ack-every-event: true\n    channels: [c1, c2]\n"
           "channels:\n  c1: {type: memory, capacity: 10000, transactionCapacity: 100}\n"
           "  c2: {type: memory, capacity: 10000, transactionCapacity: 100, byteCapacity: 4000,"
           " byteCapacityBufferPercentage: 0}\n"
           "sinks:\n" +
           "".join(f"  k{k}:\n    type: file_roll\n    channel: c{k}\n"
                   f"    sink.directory: {tmp_path}/out{k}\n    sink.rollInterval: 0\n"
                   f"    sink.batchSize: {5 if k > 1 else 100}\n" for k in (1, 2)) +
           f"metrics: {{port: {mport}, bind: 127.0.0.1}}\n")
    a = Agent(sluice_bin, tmp_path, cfg)

    def out(k):
        text = "".join(p.read_text() for p in sorted((tmp_path / f"out{k}").iterdir()))
        return sorted(v for v in text.split("\n") if v)

    try:
        a.start(port)
        n = 600
        data = "".join(f"line {i:05d} {'x' * 30}\n" for i in range(n)).encode()
        r = subprocess.run(["nc", "-N", "127.0.0.1", str(port)], input=data,
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr.decode()
        assert r.stdout.decode().split() == ["OK"] * n
        want = sorted(f"line {i:05d} {'x' * 30}" for i in range(n))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (out(1) != want or out(2) != want):
            time.sleep(0.2)
        o1, o2 = out(1), out(2)
        assert o1 == want, f"c1: {len(o1)} lines, {len(o1) - len(set(o1))} duplicates"
        assert o2 == want, f"c2: {len(o2)} lines, {len(o2) - len(set(o2))} duplicates"
    finally:
        assert a.stop() == 0
