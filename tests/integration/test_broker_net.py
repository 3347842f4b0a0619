"""The broker's network server and the `sluice broker` command: framing, request headers,
ApiVersions at every version, malformed input closing only the offending connection, many
connections, pipelining, shutdown, and configuration errors.

Raw sockets speak the wire format directly (so the bytes are checked, not a client's
interpretation of them); kafka-python's codec and kcat are used as independent readers.
Every broker runs on 127.0.0.1 and a free port and is stopped by PID.
"""
import os
import random
import signal
import socket
import struct
import subprocess
import time

import pytest

from brokerutil import Broker, free_port

API_VERSIONS = 18
UNSUPPORTED_VERSION = 35
TIMEOUT = 10.0


# ---- wire helpers ----

def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def request(key, version, corr, body=b"", client_id=b"sluice-test", flexible=False):
    """A request frame: header v1 (v2 with an empty tagged section when flexible)."""
    if client_id is None:
        hdr = struct.pack(">hhih", key, version, corr, -1)
    else:
        hdr = struct.pack(">hhih", key, version, corr, len(client_id)) + client_id
    if flexible:
        hdr += b"\x00"
    return frame(hdr + body)


def api_versions_request(version, corr):
    if version >= 3:
        # client_software_name, client_software_version (compact strings), tagged fields.
        body = b"\x07sluice\x040.1" + b"\x00"
        return request(API_VERSIONS, version, corr, body, flexible=True)
    return request(API_VERSIONS, version, corr)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def read_response(sock):
    (size,) = struct.unpack(">i", recv_exact(sock, 4))
    assert 4 <= size < 1 << 20, size
    return recv_exact(sock, size)


def uvarint(buf, pos):
    shift = value = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def parse_api_versions(resp, version):
    """(correlation_id, error_code, [(key, min, max)], throttle_ms). Header is always v0."""
    corr, error = struct.unpack_from(">ih", resp, 0)
    pos = 6
    if version >= 3:
        n, pos = uvarint(resp, pos)
        n -= 1
    else:
        (n,) = struct.unpack_from(">i", resp, pos)
        pos += 4
    apis = []
    for _ in range(n):
        apis.append(struct.unpack_from(">hhh", resp, pos))
        pos += 6
        if version >= 3:
            ntags, pos = uvarint(resp, pos)
            assert ntags == 0
    throttle = None
    if version >= 1:
        (throttle,) = struct.unpack_from(">i", resp, pos)
        pos += 4
    if version >= 3:
        ntags, pos = uvarint(resp, pos)
        assert ntags == 0
    assert pos == len(resp), f"{len(resp) - pos} trailing bytes in the v{version} response"
    return corr, error, apis, throttle


def connect(broker):
    s = socket.create_connection(("127.0.0.1", broker.port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


def api_versions(broker, version=0, sock=None, corr=1):
    own = sock is None
    s = sock or connect(broker)
    try:
        s.sendall(api_versions_request(version, corr))
        return parse_api_versions(read_response(s), version)
    finally:
        if own:
            s.close()


def assert_closed(sock, timeout=TIMEOUT):
    """The server closes sock: EOF or reset, with no response bytes first."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(4096)
    except ConnectionResetError:
        return
    assert data == b"", f"expected the connection to be closed, got {data[:64]!r}"


def advertised(broker):
    return api_versions(broker, 0)[2]


# ---- ApiVersions ----

def test_net_api_versions_every_version(broker):
    tables = {}
    for v in range(0, 4):
        corr, error, apis, throttle = api_versions(broker, v, corr=100 + v)
        assert corr == 100 + v
        assert error == 0
        assert (throttle == 0) if v >= 1 else throttle is None
        tables[v] = apis
    # Every version advertises the same table, sorted, with sane ranges, and ApiVersions 0-3.
    assert tables[0] == tables[1] == tables[2] == tables[3]
    keys = [k for k, _, _ in tables[0]]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(0 <= lo <= hi for _, lo, hi in tables[0])
    assert (API_VERSIONS, 0, 3) in tables[0]


@pytest.mark.parametrize("version", [4, 99, 32767, -1])
def test_net_api_versions_unsupported_version_answers_v0(broker, version):
    with connect(broker) as s:
        # Unknown versions may come with a flexible header; the answer is v0 either way.
        s.sendall(request(API_VERSIONS, version, 4242, flexible=version >= 3))
        corr, error, apis, throttle = parse_api_versions(read_response(s), 0)
        assert corr == 4242
        assert error == UNSUPPORTED_VERSION
        assert (API_VERSIONS, 0, 3) in apis
        # The connection stays usable: the client retries with a version we speak.
        assert api_versions(broker, 3, sock=s, corr=4243)[:2] == (4243, 0)


def test_net_api_versions_null_client_id(broker):
    with connect(broker) as s:
        s.sendall(request(API_VERSIONS, 1, 9, client_id=None))
        assert parse_api_versions(read_response(s), 1)[:2] == (9, 0)


def test_net_api_versions_kafka_python_codec(broker):
    """kafka-python's own encoder and decoder agree with what we send and answer."""
    from kafka.protocol.admin import ApiVersionRequest
    from kafka.protocol.parser import KafkaProtocol

    with connect(broker) as s:
        for v in range(0, 3):
            proto = KafkaProtocol(client_id="kafka-python-test")
            proto.send_request(ApiVersionRequest[v]())
            s.sendall(proto.send_bytes())
            (size,) = struct.unpack(">i", recv_exact(s, 4))
            responses = proto.receive_bytes(struct.pack(">i", size) + recv_exact(s, size))
            assert len(responses) == 1
            resp = responses[0][1]
            assert resp.error_code == 0
            assert (API_VERSIONS, 0, 3) in [tuple(a) for a in resp.api_versions]


def test_net_kcat_metadata(broker):
    """For the admin handlers: kcat -L needs Metadata; skipped until it is advertised."""
    if not any(k == 3 for k, _, _ in advertised(broker)):
        pytest.skip("Metadata (key 3) is not advertised yet (admin handlers)")
    out = subprocess.run(["kcat", "-b", broker.bootstrap, "-L", "-m", "10"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "1 brokers:" in out.stdout


# ---- malformed input closes that connection only ----

def bad_inputs(broker):
    """(name, bytes) pairs, each of which must get its connection closed."""
    cases = [
        ("zero length", struct.pack(">i", 0)),
        ("negative length", struct.pack(">i", -5)),
        ("2 GiB length", struct.pack(">I", 0x80000000) + b"x" * 100),
        ("2 GiB - 1 length", struct.pack(">i", 0x7FFFFFFF) + b"x" * 100),
        ("header shorter than its fields", frame(b"\x00\x12\x00")),
        ("client id past the end", frame(struct.pack(">hhih", 18, 0, 1, 200) + b"ab")),
        ("unknown api key", request(9999, 0, 1)),
        ("negative api key", request(-2, 0, 1)),
    ]
    rnd = random.Random(1234)
    for i in range(5):
        cases.append((f"garbage {i}", frame(bytes(rnd.randrange(256) for _ in range(40)))))
    others = [(k, lo, hi) for k, lo, hi in advertised(broker) if k != API_VERSIONS]
    if others:
        k, lo, hi = others[0]
        cases.append((f"api {k} above its range", request(k, hi + 1, 1)))
        if lo > 0:
            cases.append((f"api {k} below its range", request(k, lo - 1, 1)))
    return cases


def test_net_malformed_closes_only_that_connection(broker):
    bystander = connect(broker)
    try:
        for name, data in bad_inputs(broker):
            with connect(broker) as s:
                s.sendall(data)
                try:
                    assert_closed(s)
                except AssertionError as e:
                    raise AssertionError(f"{name}: {e}") from None
            # A concurrent client is untouched, and new clients are served.
            assert api_versions(broker, 3, sock=bystander, corr=7)[:2] == (7, 0), name
            assert api_versions(broker, 0)[1] == 0, name
    finally:
        bystander.close()
    # Logged with a rate limit: a line per second at most, the rest counted.
    assert broker.stop() == 0
    log = broker.log_text()
    lines = [ln for ln in log.splitlines() if "closing the connection" in ln]
    assert 1 <= len(lines) <= 5, lines
    assert "suppressed" in log


def test_net_malformed_after_good_request(broker):
    """A bad frame pipelined behind a good one: the connection ends (the good request may or
    may not have been answered first; Kafka promises neither) and the broker carries on."""
    with connect(broker) as s:
        s.sendall(api_versions_request(0, 1) + request(9999, 0, 2))
        try:
            data = s.recv(4096)
            while data:
                data = s.recv(4096)
        except ConnectionResetError:
            pass
    assert api_versions(broker, 2)[1] == 0


def test_net_truncated_frame_then_close(broker):
    for cut in (1, 3, 4, 10, 20):
        with connect(broker) as s:
            s.sendall(api_versions_request(3, 1)[:cut])
    with connect(broker) as s:
        # A large frame's length, a part of it, then the client goes away.
        s.sendall(struct.pack(">i", 50_000_000) + b"y" * 100_000)
    assert api_versions(broker, 3)[1] == 0


def test_net_request_max_bytes_and_nested_yaml(sluice_bin, tmp_path):
    """socket.request.max.bytes bounds a frame; set through a nested YAML map."""
    conf = tmp_path / "broker.yaml"
    conf.write_text("socket:\n  request.max.bytes: 1000\n")
    b = Broker(sluice_bin, tmp_path / "logs", config_file=conf).start()
    try:
        with connect(b) as s:
            # Exactly 1000 bytes: the header's client id pads it (v0 has no body).
            req = request(API_VERSIONS, 0, 5, client_id=b"c" * (1000 - 10))
            assert len(req) == 4 + 1000
            s.sendall(req)
            assert parse_api_versions(read_response(s), 0)[:2] == (5, 0)
        with connect(b) as s:
            s.sendall(struct.pack(">i", 1001) + b"z" * 1001)
            assert_closed(s)
        assert api_versions(b, 0)[1] == 0
    finally:
        assert b.stop() == 0


# ---- many connections, pipelining ----

def test_net_200_concurrent_connections(broker):
    socks = []
    try:
        for _ in range(200):
            socks.append(connect(broker))
        for i, s in enumerate(socks):
            s.sendall(api_versions_request(i % 4, i))
        for i, s in enumerate(socks):
            corr, error, apis, _ = parse_api_versions(read_response(s), i % 4)
            assert (corr, error) == (i, 0)
    finally:
        for s in socks:
            s.close()
    assert api_versions(broker, 3)[1] == 0


def test_net_pipelining_in_order(broker):
    with connect(broker) as s:
        reqs = b"".join(api_versions_request(i % 4, 1000 + i) for i in range(50))
        s.sendall(reqs)  # one write: 50 frames back to back
        for i in range(50):
            corr, error, _, _ = parse_api_versions(read_response(s), i % 4)
            assert (corr, error) == (1000 + i, 0)


def test_net_pipelining_byte_by_byte_and_large_batch(broker):
    with connect(broker) as s:
        data = b"".join(api_versions_request(3, i) for i in range(5))
        for i in range(len(data)):
            s.send(data[i:i + 1])
        for i in range(5):
            assert parse_api_versions(read_response(s), 3)[0] == i
        # Many more than fit in one read buffer, sent before reading anything back.
        n = 5000
        s.sendall(b"".join(api_versions_request(1, i) for i in range(n)))
        for i in range(n):
            assert parse_api_versions(read_response(s), 1)[0] == i


def test_net_half_close_still_answers(broker):
    with connect(broker) as s:
        s.sendall(b"".join(api_versions_request(2, i) for i in range(10)))
        s.shutdown(socket.SHUT_WR)
        for i in range(10):
            assert parse_api_versions(read_response(s), 2)[0] == i
        assert_closed(s)


def test_net_client_resets_with_responses_queued(broker):
    """A client that vanishes mid-response (EPIPE/ECONNRESET, SIGPIPE) harms nothing."""
    for _ in range(20):
        s = connect(broker)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"".join(api_versions_request(3, i) for i in range(3000)))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # RST
    assert broker.proc.poll() is None
    assert api_versions(broker, 3)[1] == 0


# ---- process lifecycle ----

def test_net_sigterm_exits_clean_with_marker(sluice_bin, tmp_path):
    b = Broker(sluice_bin, tmp_path / "logs").start()
    idle = connect(b)  # an open connection must not hold up shutdown
    try:
        assert api_versions(b, 3)[1] == 0
        assert b.stop() == 0
    finally:
        idle.close()
    assert os.path.exists(tmp_path / "logs" / ".kafka_cleanshutdown")
    meta = (tmp_path / "logs" / "meta.properties").read_text()
    assert "version=0" in meta and "broker.id=0" in meta and "cluster.id=" in meta
    log = b.log_text()
    assert "listening on PLAINTEXT://127.0.0.1:%d" % b.port in log
    # Restart: the same cluster id, and the start reads as clean.
    cid = [ln for ln in meta.splitlines() if ln.startswith("cluster.id=")][0]
    b2 = Broker(sluice_bin, tmp_path / "logs").start()
    assert b2.stop() == 0
    assert cid in (tmp_path / "logs" / "meta.properties").read_text()


def test_net_sigint_exits_clean(sluice_bin, tmp_path):
    b = Broker(sluice_bin, tmp_path / "logs").start()
    b.proc.send_signal(signal.SIGINT)
    assert b.proc.wait(20) == 0
    b.proc = None
    b.stderr.close()
    assert os.path.exists(tmp_path / "logs" / ".kafka_cleanshutdown")


def test_net_broker_id_must_match_meta_properties(sluice_bin, tmp_path):
    b = Broker(sluice_bin, tmp_path / "logs").start()
    assert b.stop() == 0
    rc, err = run_broker(sluice_bin, ["--override", "broker.id=3",
                                      "--override", f"log.dirs={tmp_path / 'logs'}",
                                      "--override", f"listeners=127.0.0.1:{free_port()}"])
    assert rc == 1
    assert "Configured broker.id 3 doesn't match stored broker.id 0" in err


def test_net_log_dir_locked_by_another_broker(sluice_bin, tmp_path):
    b = Broker(sluice_bin, tmp_path / "logs").start()
    try:
        rc, err = run_broker(sluice_bin, ["--override", f"log.dirs={tmp_path / 'logs'}",
                                          "--override", f"listeners=127.0.0.1:{free_port()}"])
        assert rc == 1 and "in use by another process" in err
    finally:
        assert b.stop() == 0


def test_net_port_in_use(sluice_bin, tmp_path):
    b = Broker(sluice_bin, tmp_path / "logs").start()
    try:
        rc, err = run_broker(sluice_bin, ["--override", f"log.dirs={tmp_path / 'other'}",
                                          "--override", f"listeners=127.0.0.1:{b.port}"])
        assert rc == 1 and "Address already in use" in err
    finally:
        assert b.stop() == 0


# ---- configuration ----

def run_broker(sluice_bin, args, timeout=20):
    p = subprocess.run([sluice_bin, "broker"] + args, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stderr


def test_net_config_unknown_key_names_key_and_position(sluice_bin, tmp_path):
    conf = tmp_path / "broker.yaml"
    conf.write_text("broker.id: 0\nlog.dirs: %s\n  \nno.such.key: 5\n" % (tmp_path / "l"))
    rc, err = run_broker(sluice_bin, ["-c", str(conf)])
    assert rc != 0
    assert "no.such.key" in err and f"{conf}:4:1" in err, err


def test_net_config_nested_unknown_key_position(sluice_bin, tmp_path):
    conf = tmp_path / "broker.yaml"
    conf.write_text("log:\n  retention.hours: 1\n  retention.bogus: 2\n")
    rc, err = run_broker(sluice_bin, ["-c", str(conf)])
    assert rc != 0
    assert "log.retention.bogus" in err and ":3:3" in err, err


def test_net_config_bad_value_names_key_and_value(sluice_bin, tmp_path):
    conf = tmp_path / "broker.yaml"
    conf.write_text("num.partitions: many\n")
    rc, err = run_broker(sluice_bin, ["-c", str(conf)])
    assert rc != 0
    assert "num.partitions" in err and "many" in err and ":1:1" in err, err
    rc, err = run_broker(sluice_bin, ["--override", "log.retention.hours=-7x"])
    assert rc != 0 and "log.retention.hours" in err and "-7x" in err, err


def test_net_config_bad_yaml_syntax(sluice_bin, tmp_path):
    conf = tmp_path / "broker.yaml"
    conf.write_text("broker.id: 0\nlisteners: [unclosed\n")
    rc, err = run_broker(sluice_bin, ["-c", str(conf)])
    assert rc != 0
    assert str(conf) in err, err


def test_net_config_missing_file(sluice_bin, tmp_path):
    rc, err = run_broker(sluice_bin, ["-c", str(tmp_path / "nope.yaml")])
    assert rc != 0 and "nope.yaml" in err


def test_net_config_override_wins_over_file(sluice_bin, tmp_path):
    port = free_port()
    conf = tmp_path / "broker.yaml"
    conf.write_text("broker.id: 7\nlisteners: PLAINTEXT://127.0.0.1:1\n"
                    "log.dirs: %s\n" % (tmp_path / "from-file"))
    # Broker() passes broker.id=0, listeners and log.dirs as --override after -c.
    b = Broker(sluice_bin, tmp_path / "logs", port=port, config_file=conf).start()
    try:
        assert api_versions(b, 3)[1] == 0
    finally:
        assert b.stop() == 0
    assert "broker.id=0" in (tmp_path / "logs" / "meta.properties").read_text()
    assert not os.path.exists(tmp_path / "from-file")


@pytest.mark.parametrize("args,needle", [
    (["--override", "zookeeper.connect=localhost:2181"], "ZooKeeper is not in this build"),
    (["--override", "listeners=SSL://127.0.0.1:9093"], "security protocol 'SSL'"),
    (["--override", "listeners=PLAINTEXT://a:1,PLAINTEXT://b:2"], "only one listener"),
    (["--override", "listeners=127.0.0.1:99999"], "0..65535"),
    (["--override", "auto.create.topics.enable=maybe"], "true or false"),
    (["--override", "nokey"], "KEY=VALUE"),
])
def test_net_config_rejected(sluice_bin, tmp_path, args, needle):
    rc, err = run_broker(sluice_bin, args + ["--override", f"log.dirs={tmp_path / 'l'}"])
    assert rc in (1, 2)
    assert needle in err, err
    assert not os.path.exists(tmp_path / "l" / "meta.properties")


def test_net_help(sluice_bin):
    p = subprocess.run([sluice_bin, "broker", "--help"], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 0 and "--override" in p.stdout
    p = subprocess.run([sluice_bin, "broker", "--bogus"], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 2


# ---- parked requests (long-poll Fetch) keep responses in order ----

def fetch_request(topic, offset, corr, max_wait_ms):
    """Fetch v4 for partition 0, encoded by kafka-python (an independent encoder)."""
    from kafka.protocol.fetch import FetchRequest
    from kafka.protocol.parser import KafkaProtocol

    proto = KafkaProtocol(client_id="net-test")
    proto.send_request(FetchRequest[4](-1, max_wait_ms, 1, 1 << 20, 0,
                                       [(topic, [(0, offset, 1 << 20)])]),
                       correlation_id=corr)
    return proto.send_bytes()


def make_topic_with_one_record(broker, topic):
    if not any(k == 1 for k, _, _ in advertised(broker)):
        pytest.skip("Fetch (key 1) is not advertised yet (data handlers)")
    p = subprocess.run(["kcat", "-b", broker.bootstrap, "-P", "-t", topic, "-p", "0"],
                       input=b"one\n", capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr


def test_net_parked_fetch_keeps_pipelined_responses_in_order(broker):
    make_topic_with_one_record(broker, "parked")
    with connect(broker) as s:
        t0 = time.monotonic()
        # The fetch at the log end parks for max_wait; ApiVersions behind it must wait.
        s.sendall(fetch_request("parked", 1, 1, 1000) + api_versions_request(3, 2))
        (corr,) = struct.unpack(">i", read_response(s)[:4])
        assert corr == 1
        assert time.monotonic() - t0 >= 0.9
        assert parse_api_versions(read_response(s), 3)[:2] == (2, 0)


def test_net_close_while_parked(broker):
    make_topic_with_one_record(broker, "gone")
    for _ in range(10):
        s = connect(broker)
        s.sendall(fetch_request("gone", 1, 1, 5000) + api_versions_request(0, 2))
        time.sleep(0.05)
        s.close()  # the parked fetch is cancelled, never completed
    time.sleep(0.2)
    assert api_versions(broker, 3)[1] == 0


def test_net_stop_while_parked(sluice_bin, tmp_path):
    b = Broker(sluice_bin, tmp_path / "logs").start()
    s = None
    try:
        make_topic_with_one_record(b, "stopping")
        s = connect(b)
        s.sendall(fetch_request("stopping", 1, 1, 20000))
        time.sleep(0.2)
        t0 = time.monotonic()
        assert b.stop() == 0
        assert time.monotonic() - t0 < 10
    finally:
        if s:
            s.close()
        if b.proc is not None:
            b.stop()
