"""Interceptors and channel selectors end to end: lines sent with `nc` to a real agent,
routed by a header that regex_extractor sets into two Kafka topics of the embedded broker,
read back with confluent-kafka (bodies and record headers); regex_filter drops, the metrics
count them and the loss ledger still balances; util-linux logger's messages routed by the
syslog source's Severity header; a full optional channel drops its copies
without holding back the required one; broken configurations are rejected with line:col;
--check prints the chain and the selector, also for a Flume .properties file."""
import ipaddress
import json
import pathlib
import re
import subprocess
import time
import urllib.request

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from agentutil import Agent, nc_send
from brokerutil import free_port, wait_port

REPO = pathlib.Path(__file__).resolve().parents[2]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def consume(bootstrap, topic, expected, timeout=30.0):
    """Records of partition 0 from the beginning: [(value, {header: value})]."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "routing-test",
                  "enable.auto.commit": False, "topic.metadata.refresh.interval.ms": 500})
    out = []
    deadline = time.monotonic() + timeout
    try:
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        while len(out) < expected and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            out.append((m.value().decode(), {k: v.decode() for k, v in m.headers() or []}))
    finally:
        c.close()
    return out


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics.json", timeout=10) as r:
        return json.loads(r.read().decode())


def wait_metric(port, pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        m = metrics(port)
        if pred(m) or time.monotonic() > deadline:
            return m
        time.sleep(0.2)


ROUTING = """\
agent: {{name: a1, drainTimeoutMs: 2000}}
broker:
  listeners: PLAINTEXT://127.0.0.1:{bport}
  log.dirs: {logs}
metrics: {{port: {mport}, bind: 127.0.0.1}}
sources:
  r1:
    type: netcat
    bind: 127.0.0.1
    port: {port}
    channels: [c_err, c_rest]
    interceptors:
      - {{type: regex_filter, regex: 'level=DEBUG', excludeEvents: true}}
      - type: search_replace
        searchPattern: 'password=(\\w)\\w*'
        replaceString: 'password=$1***'
      - type: regex_extractor
        regex: 'level=(?<level>[A-Z]+)'
      - type: timestamp
      - type: host
      - {{type: static, key: dc, value: eu-west-1}}
      - type: uuid
    selector:
      type: multiplexing
      header: level
      mapping:
        ERROR: [c_err]
      default: [c_rest]
channels:
  c_err: {{type: memory, capacity: 1000, transactionCapacity: 100}}
  c_rest: {{type: memory, capacity: 1000, transactionCapacity: 100}}
sinks:
  k_err: {{type: kafka, channel: c_err, topic: errors, acks: 1, linger.ms: 1}}
  k_rest: {{type: kafka, channel: c_rest, topic: rest, acks: 1, linger.ms: 1}}
"""


def test_multiplexing_by_extracted_header_into_two_topics(sluice_bin, tmp_path):
    port, bport, mport = free_port(), free_port(), free_port()
    cfg = ROUTING.format(port=port, bport=bport, mport=mport, logs=tmp_path / "logs")
    a = Agent(sluice_bin, tmp_path, cfg).start(port)
    levels = ["ERROR", "INFO", "DEBUG", "WARN", None]
    lines = []
    for i in range(60):
        lv = levels[i % len(levels)]
        lines.append(f"{i:03d} " + (f"level={lv} " if lv else "") + f"user{i} password=s{i}x")
    try:
        wait_port(bport)
        t0 = int(time.time() * 1000)
        # One connection, all lines; a filtered line is acknowledged too (as in Flume).
        assert nc_send(port, lines) == ["OK"] * len(lines)
        t1 = int(time.time() * 1000)

        def masked(l):
            return re.sub(r"password=(\w)\w*", r"password=\1***", l)

        want_err = [masked(l) for l in lines if "level=ERROR" in l]
        want_rest = [masked(l) for l in lines if "level=ERROR" not in l and "DEBUG" not in l]
        errs = consume(f"127.0.0.1:{bport}", "errors", len(want_err))
        rest = consume(f"127.0.0.1:{bport}", "rest", len(want_rest))
        assert [v for v, _ in errs] == want_err
        assert [v for v, _ in rest] == want_rest
        ids = set()
        for v, h in errs + rest:
            assert "password=s***" in v and "password=s***x" not in v
            m = re.search(r"level=([A-Z]+)", v)
            assert h.get("level") == (m.group(1) if m else None), (v, h)
            assert t0 <= int(h["timestamp"]) <= t1, h
            ipaddress.ip_address(h["host"])
            assert h["dc"] == "eu-west-1"
            assert UUID.match(h["id"]), h
            ids.add(h["id"])
        assert len(ids) == len(errs) + len(rest)

        delivered = len(want_err) + len(want_rest)
        m = wait_metric(mport, lambda m: m["LEDGER.a1"]["delivered"] == str(delivered))
        src, led = m["SOURCE.r1"], m["LEDGER.a1"]
        ndebug = sum("DEBUG" in l for l in lines)
        assert src["EventReceivedCount"] == str(len(lines))
        assert src["EventFilteredCount"] == str(ndebug)
        assert src["EventUnroutedCount"] == "0"
        assert m["CHANNEL.c_err"]["EventPutSuccessCount"] == str(len(want_err))
        assert m["CHANNEL.c_rest"]["EventPutSuccessCount"] == str(len(want_rest))
        # In event copies: each routed event went to one of the two channels, each filtered
        # one counts for both; nothing is unaccounted for.
        assert led["delivered"] == str(delivered)
        assert led["dropped"]["filtered"] == str(2 * ndebug)
        assert led["received"] == str(delivered + 2 * ndebug)
        assert led["buffered"] == "0" and led["unaccounted"] == "0"
    finally:
        rc = a.stop()
    assert rc == 0, a.log_text()[-3000:]


SYSLOG = """\
agent: {{name: a1}}
broker:
  listeners: PLAINTEXT://127.0.0.1:{bport}
  log.dirs: {logs}
sources:
  r1:
    type: syslog
    protocol: tcp
    bind: 127.0.0.1
    port: {port}
    channels: [c_err, c_rest]
    interceptors:
      - {{type: remove_header, fromList: 'procid, msgid'}}
      - {{type: static, key: pipeline, value: syslog-routing}}
    selector:
      type: multiplexing
      header: Severity
      mapping: {{'0': [c_err], '1': [c_err], '2': [c_err], '3': [c_err]}}
      default: [c_rest]
channels:
  c_err: {{type: memory}}
  c_rest: {{type: memory}}
sinks:
  k_err: {{type: kafka, channel: c_err, topic: alerts, acks: 1, linger.ms: 1}}
  k_rest: {{type: kafka, channel: c_rest, topic: other, acks: 1, linger.ms: 1}}
"""


def test_syslog_routed_by_severity_from_logger(sluice_bin, tmp_path):
    """util-linux logger over TCP (RFC 5424, octet-counted): the syslog source's Severity
    header routes err and worse to one topic, the rest to another; the interceptors run on
    the parsed headers (procid and msgid removed, a static one added)."""
    port, bport = free_port(), free_port()
    cfg = SYSLOG.format(port=port, bport=bport, logs=tmp_path / "logs")
    a = Agent(sluice_bin, tmp_path, cfg).start(port)
    sent = [("user.err", "disk failed"), ("user.info", "all good"), ("local0.crit", "on fire"),
            ("user.warning", "almost full"), ("daemon.debug", "chatter"), ("user.emerg", "down")]
    try:
        wait_port(bport)
        for prio, msg in sent:
            r = subprocess.run(["logger", "--server", "127.0.0.1", "--port", str(port), "--tcp",
                                "--octet-count", "--rfc5424", "-t", "app", "--id=4242",
                                "--msgid", "m1", "-p", prio, msg],
                               capture_output=True, timeout=20)
            assert r.returncode == 0, r.stderr.decode()
        bad = {"err", "crit", "emerg", "alert"}
        want_alerts = [m for p, m in sent if p.split(".")[1] in bad]
        want_other = [m for p, m in sent if p.split(".")[1] not in bad]
        alerts = consume(f"127.0.0.1:{bport}", "alerts", len(want_alerts))
        other = consume(f"127.0.0.1:{bport}", "other", len(want_other))
        assert [v for v, _ in alerts] == want_alerts
        assert [v for v, _ in other] == want_other
        for v, h in alerts + other:
            assert int(h["Severity"]) <= 3 if v in want_alerts else int(h["Severity"]) > 3
            assert h["app"] == "app" and h["pipeline"] == "syslog-routing"
            assert "procid" not in h and "msgid" not in h, h
    finally:
        rc = a.stop()
    assert rc == 0, a.log_text()[-3000:]


OPTIONAL = """\
agent: {{name: a1, drainTimeoutMs: 300}}
metrics: {{port: {mport}, bind: 127.0.0.1}}
sources:
  r1:
    type: netcat
    bind: 127.0.0.1
    port: {port}
    channels: [c1, c2]
    selector: {{type: replicating, optional: [c2]}}
channels:
  c1: {{type: memory, capacity: 1000, transactionCapacity: 50}}
  c2: {{type: memory, capacity: 20, transactionCapacity: 10}}
sinks:
  k1: {{type: null, channel: c1, batchSize: 50}}
  k2:
    type: kafka
    channel: c2
    topic: t
    batchSize: 10
    bootstrap.servers: 127.0.0.1:{dead}
    kafka.producer.message.timeout.ms: 600000
"""


def test_full_optional_channel_does_not_hold_back_the_required_one(sluice_bin, tmp_path):
    """c2's sink has no broker, so c2 fills up; as an optional channel, its copies are then
    dropped and counted, and c1 still gets and delivers every line."""
    port, mport = free_port(), free_port()
    cfg = OPTIONAL.format(port=port, mport=mport, dead=free_port())
    a = Agent(sluice_bin, tmp_path, cfg).start(port)
    n = 400
    try:
        for part in range(4):
            batch = [f"p{part}-{i:04d}" for i in range(n // 4)]
            assert nc_send(port, batch) == ["OK"] * len(batch)
        m = wait_metric(mport, lambda m: m["SINK.k1"]["EventDrainSuccessCount"] == str(n))
        assert m["SINK.k1"]["EventDrainSuccessCount"] == str(n)
        dropped = int(m["SOURCE.r1"]["EventDroppedOptionalChannelCount"])
        assert n - 20 <= dropped < n  # c2 holds at most its capacity
        led = m["LEDGER.a1"]
        assert led["dropped"]["optional_channel_full"] == str(dropped)
        assert led["received"] == str(2 * n) and led["unaccounted"] == "0"
        assert int(led["buffered"]) == n - dropped  # what c2 holds
        assert "optional channel c2: full" in a.log_text()
    finally:
        rc = a.stop()
    # What c2 still holds cannot be delivered: the stop says so and is not an error.
    assert rc == 0, a.log_text()[-3000:]
    assert "AddressSanitizer" not in a.log_text()


BAD_BASE = """\
sources:
  r1:
    type: netcat
    bind: 127.0.0.1
    port: 4444
    channels: [c1, c2]
{extra}
channels:
  c1: {{type: memory}}
  c2: {{type: memory}}
sinks:
  k1: {{type: logger, channel: c1}}
  k2: {{type: logger, channel: c2}}
"""

BAD = [
    ("    interceptors:\n      - type: regex_filter\n        regex: 'level=(?<l>[A-Z]+'",
     ("'level", 0), "source r1: interceptor 1 (regex_filter): regex: bad regex at offset 17: "
                    "missing closing parenthesis"),
    ("    interceptors:\n      - {type: timestamp}\n      - {type: geoip}", ("geoip", 0),
     "source r1: interceptor 2: unknown type 'geoip' (sluice has: timestamp, host, static, uuid, "
     "regex_filter, regex_extractor, search_replace, remove_header)"),
    ("    interceptors:\n      - {type: timestamp, header: ts}", ("header", 0),
     "source r1: interceptor 1 (timestamp): unknown key 'header' (known keys: headerName, "
     "preserveExisting)"),
    ("    interceptors:\n      - {type: search_replace, searchPattern: a(b), "
     "replaceString: $2}", ("$2", 0),
     "source r1: interceptor 1 (search_replace): replaceString: no group 2 in searchPattern "
     "(it has 1)"),
    ("    selector:\n      type: multiplexing\n      header: level\n"
     "      mapping: {ERROR: [c1, c9]}", ("c9", 0),
     "source r1: selector: mapping: ERROR: channel 'c9' is not one of this source's "
     "channels (c1, c2)"),
    ("    selector: {type: round_robin}", ("round_robin", 0),
     "source r1: selector: type: 'round_robin' is not one of: replicating, multiplexing"),
]


def where(text, token, nth=0):
    idx = [m.start() for m in re.finditer(re.escape(token), text)][nth]
    return f"{text.count(chr(10), 0, idx) + 1}:{idx - text.rfind(chr(10), 0, idx)}"


@pytest.mark.parametrize("extra,tok,msg", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_routing_config(sluice_bin, tmp_path, extra, tok, msg):
    text = BAD_BASE.format(extra=extra)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    r = subprocess.run([sluice_bin, "agent", "--check", "-f", str(path)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0 and r.stdout == ""
    assert f"{path}:{where(text, *tok)}: {msg}" in r.stderr, r.stderr


def test_check_prints_chain_and_selector_also_from_flume_properties(sluice_bin, tmp_path):
    r = subprocess.run([sluice_bin, "agent", "--check", "-f",
                        str(REPO / "conf" / "examples" / "routing.yaml")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "  interceptors:\n    - type: regex_filter\n      regex: level=DEBUG\n" in out
    assert "    - type: uuid\n      headerName: id\n" in out
    assert ("  selector: multiplexing by header level\n    ERROR -> [errors], optional []\n"
            "    FATAL -> [errors], optional []\n    default -> [rest]\n") in out
    props = (REPO / "conf" / "examples" / "flume-kafka-sink.conf").read_text() + (
        "a1.channels = c1 c2\n"
        "a1.channels.c2.type = memory\n"
        "a1.sinks = k1 k2\n"
        "a1.sinks.k2.type = logger\n"
        "a1.sinks.k2.channel = c2\n"
        "a1.sources.r1.channels = c1 c2\n"
        "a1.sources.r1.interceptors = i1 i2\n"
        "a1.sources.r1.interceptors.i1.type = "
        "org.apache.flume.interceptor.RegexExtractorInterceptor$Builder\n"
        "a1.sources.r1.interceptors.i1.regex = ^(\\\\w+)\n"
        "a1.sources.r1.interceptors.i1.serializers = s1\n"
        "a1.sources.r1.interceptors.i1.serializers.s1.name = kind\n"
        "a1.sources.r1.interceptors.i2.type = static\n"
        "a1.sources.r1.selector.type = multiplexing\n"
        "a1.sources.r1.selector.header = kind\n"
        "a1.sources.r1.selector.mapping.audit = c2\n"
        "a1.sources.r1.selector.default = c1\n")
    path = tmp_path / "f.conf"
    path.write_text(props)
    r = subprocess.run([sluice_bin, "agent", "--check", "--conf-file", str(path), "--name",
                        "a1"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert ("    - type: regex_extractor\n      regex: ^(\\w+)\n      serializers: [kind]\n"
            "    - type: static\n") in r.stdout
    assert "    audit -> [c2], optional []\n    default -> [c1]\n" in r.stdout
