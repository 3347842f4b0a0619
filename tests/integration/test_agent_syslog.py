"""`sluice agent` with the syslog source end to end: util-linux `logger` (UDP, TCP, octet
counting, RFC 3164 and 5424, structured data, a unix datagram socket) and raw sockets →
syslog source → memory channel → kafka sink → embedded broker, read back with kafka-python
(record headers carry the event headers). Also: octet-counted and newline frames mixed on one
connection, truncation counted, invalid lines kept, UDP drops counted when the channel is
full, UDP and TCP on one port with the client address headers, a private rsyslogd
forwarding to us (omfwd, TCP, octet-counted), the Flume syslogtcp/syslogudp import, and a
second channel too small for a whole batch (no duplicates in the first; file_roll sinks, nc).
Everything on 127.0.0.1 and free ports, bounded waits, processes stopped by PID."""
import json
import socket
import subprocess
import time
import urllib.request


from agentutil import Agent
from brokerutil import free_port, wait_port
from kafka import KafkaConsumer, TopicPartition


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pipeline(sources, bport=None, log_dir=None, bootstrap=None, capacity=10000, tx=100,
             mport=None):
    """A pipeline with the given syslog sources (name → extra YAML lines) into c1 → kafka."""
    out = "agent: {name: a1}\n"
    if bport is not None:
        out += (f"broker:\n  listeners: PLAINTEXT://127.0.0.1:{bport}\n"
                f"  log.dirs: {log_dir}\n")
    out += "sources:\n"
    for name, body in sources.items():
        out += f"  {name}:\n    type: syslog\n    channels: [c1]\n"
        out += "".join(f"    {line}\n" for line in body)
    out += (f"channels:\n  c1:\n    type: memory\n    capacity: {capacity}\n"
            f"    transactionCapacity: {tx}\n"
            f"sinks:\n  k1:\n    type: kafka\n    channel: c1\n    topic: syslog\n"
            f"    acks: 1\n    linger.ms: 1\n    batchSize: {tx}\n")
    if bootstrap:
        out += f"    bootstrap.servers: {bootstrap}\n"
    if mport:
        out += f"metrics: {{port: {mport}, bind: 127.0.0.1}}\n"
    return out


def consume(bootstrap, expected, topic="syslog", timeout=60.0):
    """(value, {header: value}) of every record of partition 0, with kafka-python."""
    cons = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         consumer_timeout_ms=2000, fetch_max_wait_ms=100)
    tp = TopicPartition(topic, 0)
    out = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not cons.partitions_for_topic(topic):
            time.sleep(0.2)
        cons.assign([tp])
        cons.seek_to_beginning(tp)
        while len(out) < expected and time.monotonic() < deadline:
            for recs in cons.poll(timeout_ms=500).values():
                out.extend((r.value.decode(errors="replace"),
                            {k: v.decode(errors="replace") for k, v in (r.headers or [])})
                           for r in recs)
    finally:
        cons.close()
    return out


def logger(*args, msg):
    r = subprocess.run(["logger", *args, msg], capture_output=True, timeout=20)
    assert r.returncode == 0, r.stderr.decode()


def scrape_json(mport):
    with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics.json", timeout=10) as r:
        return json.loads(r.read().decode())


def started(a, timeout=30.0):
    """Wait until every source listens (a UDP datagram sent before that is lost)."""
    deadline = time.monotonic() + timeout
    while "agent a1 started" not in a.log_text():
        assert a.proc.poll() is None, a.log_text()[-3000:]
        assert time.monotonic() < deadline, a.log_text()[-3000:]
        time.sleep(0.05)
    return a


def by_body(records):
    return {v: h for v, h in records}


def test_syslog_logger_udp_tcp_unix_to_kafka(sluice_bin, tmp_path):
    tport, uport, bport = free_port(), free_udp_port(), free_port()
    sock = tmp_path / "log.sock"
    cfg = pipeline({
        "tcp": ["protocol: tcp", "bind: 127.0.0.1", f"port: {tport}"],
        "udp": ["protocol: udp", "bind: 127.0.0.1", f"port: {uport}"],
        "unx": ["protocol: unix", f"path: {sock}"],
    }, bport, tmp_path / "logs")
    a = started(Agent(sluice_bin, tmp_path, cfg).start(tport))
    try:
        wait_port(bport)
        srv = ["--server", "127.0.0.1"]
        logger(*srv, "--port", str(tport), "--tcp", "--rfc5424", "--octet-count", "-t", "app1",
               "-i", "--msgid", "MID1", "--sd-id", "ex@32473", "--sd-param", 'k1="v1"',
               "--sd-param", 'k2="with \\"quotes\\" and \\]"', "-p", "local3.warning",
               msg="tcp 5424 octet-counted")
        logger(*srv, "--port", str(tport), "--tcp", "--rfc3164", "-t", "app2", "-p", "user.err",
               msg="tcp 3164 newline")
        logger(*srv, "--port", str(tport), "--tcp", "--rfc3164", "--octet-count", "-t", "app3",
               msg="tcp 3164 octet-counted")
        logger(*srv, "--port", str(uport), "--udp", "--rfc5424", "-t", "app4", "-p",
               "auth.info", msg="udp 5424")
        logger(*srv, "--port", str(uport), "--udp", "--rfc3164", "-t", "app5", "-p",
               "daemon.debug", msg="udp 3164")
        logger("-u", str(sock), "-t", "app6", "-p", "mail.notice", msg="unix local")
        got = by_body(consume(f"127.0.0.1:{bport}", 6))
        assert len(got) == 6, got
        now_ms = time.time() * 1000
        host = socket.gethostname()

        h = got["tcp 5424 octet-counted"]
        assert (h["Facility"], h["Severity"]) == ("19", "4")
        assert h["app"] == "app1" and h["msgid"] == "MID1" and h["procid"].isdigit()
        assert h["host"] == host
        assert h["sd.ex@32473.k1"] == "v1"
        assert h["sd.ex@32473.k2"] == 'with "quotes" and ]'
        assert abs(int(h["timestamp"]) - now_ms) < 120000
        assert "syslog.status" not in h

        h = got["tcp 3164 newline"]
        assert (h["Facility"], h["Severity"], h["app"], h["host"]) == ("1", "3", "app2", host)
        assert abs(int(h["timestamp"]) - now_ms) < 120000
        h = got["tcp 3164 octet-counted"]
        assert h["app"] == "app3" and h["host"] == host
        h = got["udp 5424"]
        assert (h["Facility"], h["Severity"], h["app"]) == ("4", "6", "app4")
        h = got["udp 3164"]
        assert (h["Facility"], h["Severity"], h["app"]) == ("3", "7", "app5")
        h = got["unix local"]
        assert (h["Facility"], h["Severity"], h["app"]) == ("2", "5", "app6")
        assert "host" not in h  # logger sends no hostname to a local socket
    finally:
        rc = a.stop()
    assert rc == 0, a.log_text()[-3000:]
    assert not sock.exists()
    assert "stopped cleanly" in a.log_text()


def test_syslog_tcp_mixed_framing_truncation_and_invalid(sluice_bin, tmp_path):
    tport, bport, mport = free_port(), free_port(), free_port()
    cfg = pipeline({"r1": ["protocol: tcp", "bind: 127.0.0.1", f"port: {tport}",
                           "max-message-size: 200"]},
                   bport, tmp_path / "logs", mport=mport)
    a = started(Agent(sluice_bin, tmp_path, cfg).start(tport))

    def octet(s):
        b = s.encode()
        return str(len(b)).encode() + b" " + b

    try:
        wait_port(bport)
        long_body = "L" * 500
        frames = [
            octet("<13>1 2024-06-15T11:00:00Z h1 a1 1 m1 - first octet"),
            b"<14>Jun 15 11:00:01 h2 a2[2]: second newline\n",
            octet("<15>Jun 15 11:00:02 h3 a3: third octet\nwith a newline inside"),
            b"<16>Jun 15 11:00:03 h4 a4: fourth crlf\r\n",
            b"<17>Jun 15 11:00:04 h5 a5: fifth nul\x00",
            octet("<18>Jun 15 11:00:05 h6 a6: " + long_body),  # octet-counted, too long
            b"<19>Jun 15 11:00:06 h7 a7: " + long_body.encode() + b"\n",  # newline, too long
            b"this line has no PRI\n",
            b"<999>bad PRI\n",
            b"<20>Jun 15 11:00:07 h8 a8: last, no newline before EOF",
        ]
        data = b"".join(frames)
        with socket.create_connection(("127.0.0.1", tport), timeout=10) as s:
            # Dribble the bytes in small pieces, so frames straddle reads.
            for i in range(0, len(data), 7):
                s.sendall(data[i:i + 7])
            s.shutdown(socket.SHUT_WR)
            s.settimeout(20)
            assert s.recv(10) == b""  # the source closes once all is in the channel
        recs = consume(f"127.0.0.1:{bport}", len(frames))
        bodies = [v for v, _ in recs]
        assert len(recs) == len(frames), bodies
        assert bodies[:5] == ["first octet", "second newline",
                              "third octet\nwith a newline inside", "fourth crlf", "fifth nul"]
        hs = [h for _, h in recs]
        assert [h.get("app") for h in hs[:5]] == ["a1", "a2", "a3", "a4", "a5"]
        assert hs[0]["msgid"] == "m1" and hs[1]["procid"] == "2"
        # Truncated to 200 bytes of frame, marked Incomplete, counted.
        for i, prefix in ((5, "<18>Jun 15 11:00:05 h6 a6: "), (6, "<19>Jun 15 11:00:06 h7 a7: ")):
            assert bodies[i] == "L" * (200 - len(prefix))
            assert hs[i]["syslog.status"] == "Incomplete"
        assert bodies[7] == "this line has no PRI"
        assert hs[7] == {"syslog.status": "Invalid"}
        assert bodies[8] == "<999>bad PRI" and hs[8]["syslog.status"] == "Invalid"
        assert bodies[9] == "last, no newline before EOF" and hs[9]["app"] == "a8"
        m = scrape_json(mport)["SOURCE.r1"]
        assert m["EventTruncatedCount"] == "2"
        assert m["EventReceivedCount"] == str(len(frames))
        assert m["EventAcceptedCount"] == str(len(frames))
    finally:
        rc = a.stop()
    assert rc == 0, a.log_text()[-3000:]


def test_syslog_keepfields_and_unknown_key(sluice_bin, tmp_path):
    uport, bport = free_udp_port(), free_port()
    cfg = pipeline({"r1": ["protocol: udp", "bind: 127.0.0.1", f"port: {uport}",
                           "keepFields: true"]}, bport, tmp_path / "logs")
    a = started(Agent(sluice_bin, tmp_path, cfg).start(bport))
    try:
        line = "<13>Jun 15 11:00:00 h t[1]: keep me"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(line.encode() + b"\n", ("127.0.0.1", uport))
            big = "<13>Jun 15 11:00:00 h t[2]: " + "B" * 9000  # > max-message-size 8192
            s.sendto(big.encode(), ("127.0.0.1", uport))
        recs = consume(f"127.0.0.1:{bport}", 2)
        assert len(recs) == 2
        assert recs[0][0] == line and recs[0][1]["app"] == "t"
        assert "syslog.status" not in recs[0][1]
        assert recs[1][0] == big[:8192] and recs[1][1]["syslog.status"] == "Incomplete"
    finally:
        assert a.stop() == 0, a.log_text()[-3000:]

    bad = pipeline({"r1": ["protocol: udp", f"port: {uport}", "eventSize: 10"]})
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    r = subprocess.run([sluice_bin, "agent", "-f", str(path), "--check"], capture_output=True,
                       timeout=30)
    assert r.returncode != 0
    assert "eventSize" in r.stderr.decode() and "bad.yaml:" in r.stderr.decode()
    nop = pipeline({"r1": ["protocol: tcp"]})
    path.write_text(nop)
    r = subprocess.run([sluice_bin, "agent", "-f", str(path), "--check"], capture_output=True,
                       timeout=30)
    assert r.returncode != 0 and "needs a port" in r.stderr.decode()


def test_syslog_udp_drops_counted_when_channel_full(sluice_bin, tmp_path):
    """The sink's broker is not running: the channel fills to its capacity; further datagrams
    are dropped, counted in the metrics and logged (at most once a second)."""
    uport, dead, mport = free_udp_port(), free_port(), free_port()
    capacity = 100
    cfg = pipeline({"r1": ["protocol: udp", "bind: 127.0.0.1", f"port: {uport}"]},
                   bootstrap=f"127.0.0.1:{dead}", capacity=capacity, tx=50, mport=mport)
    a = started(Agent(sluice_bin, tmp_path, cfg).start(mport))
    try:
        n = 1000
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(n):
                s.sendto(f"<13>Jun 15 11:00:00 h t: dgram {i}".encode(), ("127.0.0.1", uport))
                if i % 100 == 99:
                    time.sleep(0.02)  # stay under the socket buffer: we count, not the kernel
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            m = scrape_json(mport)
            if int(m["SOURCE.r1"]["EventReceivedCount"]) >= n:
                break
            time.sleep(0.2)
        src = m["SOURCE.r1"]
        assert src["EventReceivedCount"] == str(n)
        accepted = int(src["EventAcceptedCount"])
        dropped = int(src["EventDroppedChannelFullCount"])
        assert src["EventLostUnacknowledgedCount"] == "0"
        assert accepted <= capacity
        assert accepted + dropped == n
        assert dropped >= n - capacity
        assert m["CHANNEL.c1"]["ChannelSize"] == str(accepted)
        led = m["LEDGER.a1"]
        # UDP cannot push back: what a full channel refuses is dropped, counted under its
        # own reason, and the ledger balances.
        assert led["received"] == str(n)
        assert led["dropped"]["channel_full"] == str(dropped)
        assert led["dropped"]["unacknowledged_at_close"] == "0"
        assert led["unaccounted"] == "0"
        deadline = time.monotonic() + 5
        while "dropped" not in a.log_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        log = a.log_text()
        drop_lines = [l for l in log.splitlines() if "channel full: dropped" in l]
        assert drop_lines, log[-2000:]
        # Rate limited: far fewer log lines than drops; the counts add up.
        assert len(drop_lines) <= 10
    finally:
        a.stop()
    log = a.log_text()
    total = sum(int(l.split("dropped ")[1].split()[0])
                for l in log.splitlines() if "channel full: dropped" in l)
    assert total == dropped


def free_tcp_udp_port():
    """A port free for both TCP and UDP on 127.0.0.1 (protocol udp+tcp binds both)."""
    for _ in range(50):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no port free for both TCP and UDP")


def test_syslog_udp_and_tcp_on_one_port_with_client_headers(sluice_bin, tmp_path):
    """protocol udp+tcp: util-linux logger over UDP and TCP to the same port, 3164 and 5424
    with structured data; clientIPHeader on both, clientHostnameHeader on a tcp source (the
    name from a reverse lookup of 127.0.0.1, done off the loop)."""
    port, tport, bport = free_tcp_udp_port(), free_port(), free_port()
    cfg = pipeline({
        "both": ["protocol: udp+tcp", "bind: 127.0.0.1", f"port: {port}",
                 "clientIPHeader: clientIP"],
        "named": ["protocol: tcp", "bind: 127.0.0.1", f"port: {tport}",
                  "clientIPHeader: ip", "clientHostnameHeader: clientHost"],
    }, bport, tmp_path / "logs")
    a = started(Agent(sluice_bin, tmp_path, cfg).start(port))
    try:
        log = a.log_text()
        assert f"listening on tcp 127.0.0.1:{port}" in log
        assert f"listening on udp 127.0.0.1:{port}" in log
        wait_port(bport)
        srv = ["--server", "127.0.0.1", "--port", str(port)]
        logger(*srv, "--udp", "--rfc5424", "-t", "u5424", "--msgid", "M1", "--sd-id",
               "origin@32473", "--sd-param", 'ip="10.0.0.1"', "--sd-param",
               'sw="esc \\"q\\" \\\\ \\]"', "-p", "local0.notice", msg="udp 5424 with sd")
        logger(*srv, "--udp", "--rfc3164", "-t", "u3164", "-p", "auth.crit",
               msg="udp 3164: text with: colons")
        logger(*srv, "--tcp", "--rfc5424", "--octet-count", "-t", "t5424", "-p", "mail.alert",
               msg="tcp 5424  two  spaces ")
        logger(*srv, "--tcp", "--rfc3164", "-t", "t3164", "-p", "local7.debug",
               msg="tcp 3164 [brackets] and \u00fcnicode")
        # Connections that close while their name is being looked up: freed once both the
        # close and the lookup are done (the sanitizer build checks), messages still kept.
        for i in range(20):
            with socket.create_connection(("127.0.0.1", tport), timeout=10) as s:
                if i % 2:
                    s.sendall(b"<13>Jun 15 11:00:00 h early: closed at once\n")
        logger("--server", "127.0.0.1", "--port", str(tport), "--tcp", "--rfc3164", "-t",
               "named", msg="resolved sender")
        recs = consume(f"127.0.0.1:{bport}", 15)
        assert sum(v == "closed at once" for v, _ in recs) == 10
        got = by_body(recs)
        assert len(got) == 6, got
        del got["closed at once"]
        host = socket.gethostname()

        h = got["udp 5424 with sd"]
        assert (h["Facility"], h["Severity"], h["app"], h["msgid"]) == ("16", "5", "u5424", "M1")
        assert h["host"] == host and h["clientIP"] == "127.0.0.1"
        assert h["sd.origin@32473.ip"] == "10.0.0.1"
        assert h["sd.origin@32473.sw"] == 'esc "q" \\ ]'
        h = got["udp 3164: text with: colons"]
        assert (h["Facility"], h["Severity"], h["app"]) == ("4", "2", "u3164")
        assert h["clientIP"] == "127.0.0.1" and h["host"] == host
        h = got["tcp 5424  two  spaces "]
        assert (h["Facility"], h["Severity"], h["app"]) == ("2", "1", "t5424")
        assert h["clientIP"] == "127.0.0.1"
        h = got["tcp 3164 [brackets] and \u00fcnicode"]
        assert (h["Facility"], h["Severity"], h["app"]) == ("23", "7", "t3164")
        h = got["resolved sender"]
        assert h["ip"] == "127.0.0.1"
        assert h["clientHost"] == socket.getnameinfo(("127.0.0.1", 0), 0)[0]
        assert all("syslog.status" not in h for h in got.values())
    finally:
        assert a.stop() == 0, a.log_text()[-3000:]

    # Config errors name the key, with file:line:col where the key is.
    path = tmp_path / "bad.yaml"
    for body, want in (
            (["protocol: udp", "port: 1", "clientHostnameHeader: h"],
             "clientHostnameHeader works with protocol tcp only"),
            (["protocol: unix", "path: /tmp/x.sock", "clientIPHeader: ip"],
             "clientIPHeader: a unix socket"),
            (["protocol: sctp", "port: 1"], "protocol"),
    ):
        path.write_text(pipeline({"r1": body}))
        r = subprocess.run([sluice_bin, "agent", "-f", str(path), "--check"],
                           capture_output=True, timeout=30)
        err = r.stderr.decode()
        assert r.returncode != 0 and want in err and "bad.yaml" in err, err

    # udp+tcp needs both: a port whose UDP side is taken fails to start, and says why.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.bind(("127.0.0.1", 0))
        busy = u.getsockname()[1]
        path.write_text(pipeline({"r1": ["protocol: udp+tcp", "bind: 127.0.0.1",
                                         f"port: {busy}"]}, free_port(), tmp_path / "logs2"))
        r = subprocess.run([sluice_bin, "agent", "-f", str(path)], capture_output=True,
                           timeout=60)
    err = r.stderr.decode()
    assert r.returncode != 0, err
    assert f"listen on udp 127.0.0.1:{busy}: Address already in use" in err, err


def test_syslog_rsyslog_forwards_octet_counted(sluice_bin, tmp_path):
    """A private rsyslogd (own config, pid file and work directory; no imuxsock) takes
    messages on imtcp and forwards each with omfwd over TCP, octet-counted, to our syslog
    source twice: in its traditional forward format (RFC 3164) and in RFC 5424. Every
    message arrives in the topic, with its headers and its body."""
    import shutil
    rsyslogd = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    tport, bport, rport = free_port(), free_port(), free_port()
    cfg = pipeline({"r1": ["protocol: tcp", "bind: 127.0.0.1", f"port: {tport}"]},
                   bport, tmp_path / "logs")
    a = started(Agent(sluice_bin, tmp_path, cfg).start(tport))
    work = tmp_path / "rs"
    work.mkdir()
    conf = tmp_path / "rsyslog.conf"
    conf.write_text(f"""
global(workDirectory="{work}")
module(load="imtcp")
input(type="imtcp" port="{rport}" address="127.0.0.1")
action(type="omfwd" target="127.0.0.1" port="{tport}" protocol="tcp"
       TCP_Framing="octet-counted")
action(type="omfwd" target="127.0.0.1" port="{tport}" protocol="tcp"
       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
""")
    rs_log = open(tmp_path / "rsyslogd.log", "wb")
    rs = subprocess.Popen([rsyslogd, "-n", "-f", str(conf), "-i", str(work / "pid")],
                          stdout=rs_log, stderr=rs_log)
    n = 300
    try:
        wait_port(rport, 20, rs)
        wait_port(bport)
        with socket.create_connection(("127.0.0.1", rport), timeout=10) as s:
            s.sendall(b"".join(
                f"<{(16 + i % 8) * 8 + i % 8}>Jun 15 11:00:00 src{i % 3} app{i % 5}[{i}]: "
                f"message {i:04d} of {n}\n".encode() for i in range(n)))
        recs = consume(f"127.0.0.1:{bport}", 2 * n)
        assert len(recs) == 2 * n, (len(recs), rs_log.name)
        trad = {}
        proto23 = {}
        for body, h in recs:
            assert "syslog.status" not in h, (body, h)
            if body.startswith(" "):  # rsyslog's %msg% keeps the space after the tag
                proto23[body[1:]] = h
            else:
                trad[body] = h
        want = {f"message {i:04d} of {n}": i for i in range(n)}
        assert set(trad) == set(want) and set(proto23) == set(want)
        for body, i in want.items():
            for h in (trad[body], proto23[body]):
                assert (h["Facility"], h["Severity"]) == (str(16 + i % 8), str(i % 8))
                assert h["host"] == f"src{i % 3}" and h["app"] == f"app{i % 5}"
                assert h["procid"] == str(i) and "timestamp" in h
    finally:
        if rs.poll() is None:
            rs.terminate()
            try:
                rs.wait(20)
            except subprocess.TimeoutExpired:
                rs.kill()
                rs.wait(10)
        rs_log.close()
        assert a.stop() == 0, a.log_text()[-3000:]


def test_syslog_flume_properties_import(sluice_bin, tmp_path):
    """Flume's syslogtcp / syslogudp (alias and class name) become syslog sources with the
    protocol from the type and Flume's key names (host, eventSize) mapped to ours, whatever
    the order of the keys; multiport_syslogtcp is refused with the list of what is supported."""
    conf = tmp_path / "flume.conf"
    conf.write_text("\n".join([
        "a1.sources = r1 r2",
        "a1.sinks = k1",
        "a1.channels = c1",
        "a1.sources.r1.host = 127.0.0.1",
        "a1.sources.r1.eventSize = 4096",
        "a1.sources.r1.type = syslogtcp",
        "a1.sources.r1.port = 5140",
        "a1.sources.r1.keepFields = true",
        "a1.sources.r1.clientIPHeader = clientIP",
        "a1.sources.r1.clientHostnameHeader = clientHost",
        "a1.sources.r1.channels = c1",
        "a1.sources.r2.type = org.apache.flume.source.SyslogUDPSource",
        "a1.sources.r2.host = 127.0.0.1",
        "a1.sources.r2.port = 5141",
        "a1.sources.r2.channels = c1",
        "a1.channels.c1.type = memory",
        "a1.sinks.k1.type = logger",
        "a1.sinks.k1.channel = c1", ""]))
    r = subprocess.run([sluice_bin, "agent", "--conf-file", str(conf), "--name", "a1", "--check"],
                       capture_output=True, timeout=30)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()
    r1 = out.split("source r1 (syslog)")[1].split("source r2")[0]
    r2 = out.split("source r2 (syslog)")[1].split("sink k1")[0]
    for want in ("protocol: tcp", "bind: 127.0.0.1", "port: 5140", "max-message-size: 4096",
                 "keepFields: true", "clientIPHeader: clientIP",
                 "clientHostnameHeader: clientHost"):
        assert want in r1, out
    for want in ("protocol: udp", "bind: 127.0.0.1", "port: 5141"):
        assert want in r2, out

    conf.write_text(conf.read_text().replace("type = syslogtcp", "type = multiport_syslogtcp"))
    r = subprocess.run([sluice_bin, "agent", "--conf-file", str(conf), "--name", "a1", "--check"],
                       capture_output=True, timeout=30)
    err = r.stderr.decode()
    assert r.returncode != 0 and "multiport_syslogtcp" in err and "syslogtcp" in err, err
    assert "flume.conf:6:" in err, err


def test_syslog_example_config_is_valid(sluice_bin):
    import pathlib
    example = pathlib.Path(__file__).resolve().parents[2] / "conf/examples/syslog.yaml"
    r = subprocess.run([sluice_bin, "agent", "-f", str(example), "--check"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr.decode()
    assert "protocol: udp+tcp" in r.stdout.decode()


def test_syslog_second_channel_too_small_for_a_batch_no_duplicates(sluice_bin, tmp_path):
    """Two channels each; the second one's byteCapacity holds a message or a few but not a
    whole read's batch. c1 commits the batch, the second channel refuses it as too large, and
    the messages are then put one by one to that channel only: c1 never gets one twice. TCP
    (sent by nc in large writes) pushes back and loses nothing; a UDP batch (recvmmsg) may
    lose its copies to c3 while c3 is full (counted), but c1 gets each datagram once."""
    tport, uport, mport = free_port(), free_udp_port(), free_port()
    for o in ("out1", "out2", "out3"):
        (tmp_path / o).mkdir()
    small = "transactionCapacity: 100, byteCapacityBufferPercentage: 0"
    cfg = ("agent: {name: a1, drainTimeoutMs: 5000}\nsources:\n"
           f"  rt:\n    type: syslog\n    protocol: tcp\n    bind: 127.0.0.1\n    port: {tport}\n"
           "    channels: [c1, c2]\n"
           f"  ru:\n    type: syslog\n    protocol: udp\n    bind: 127.0.0.1\n    port: {uport}\n"
           "    channels: [c1, c3]\n"
           "channels:\n  c1: {type: memory, capacity: 10000, transactionCapacity: 100}\n"
           f"  c2: {{type: memory, capacity: 10000, byteCapacity: 4000, {small}}}\n"
           f"  c3: {{type: memory, capacity: 10000, byteCapacity: 1800, {small}}}\n"
           "sinks:\n" +
           "".join(f"  k{k}:\n    type: file_roll\n    channel: c{k}\n"
                   f"    sink.directory: {tmp_path}/out{k}\n    sink.rollInterval: 0\n"
                   f"    sink.batchSize: {5 if k > 1 else 100}\n" for k in (1, 2, 3)) +
           f"metrics: {{port: {mport}, bind: 127.0.0.1}}\n")
    a = Agent(sluice_bin, tmp_path, cfg)

    def out(k):
        return "".join(p.read_text() for p in sorted((tmp_path / f"out{k}").iterdir())).split("\n")

    try:
        started(a.start(mport))
        n = 400
        data = "".join(f"<13>Jun 15 11:00:00 h t: tcp {i:05d}\n" for i in range(n)).encode()
        r = subprocess.run(["nc", "-N", "127.0.0.1", str(tport)], input=data,
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr.decode()
        nu = 200
        pad = "u" * 1000  # two of these do not fit in c3 together
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(nu):
                s.sendto(f"<13>Jun 15 11:00:00 h t: udp {i:05d} {pad}".encode(),
                         ("127.0.0.1", uport))
                if i % 50 == 49:
                    time.sleep(0.02)  # stay under the socket buffer
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            m = scrape_json(mport)
            if int(m["SOURCE.ru"]["EventReceivedCount"]) >= nu and \
                    int(m["SOURCE.rt"]["EventAcceptedCount"]) >= n and \
                    all(m[f"CHANNEL.c{k}"]["ChannelSize"] == "0" for k in (1, 2, 3)):
                break
            time.sleep(0.2)
        time.sleep(0.5)
        out1, out2, out3 = (sorted(v for v in out(k) if v) for k in (1, 2, 3))
        tcp = [f"tcp {i:05d}" for i in range(n)]
        udp = [f"udp {i:05d} {pad}" for i in range(nu)]
        assert out1 == sorted(tcp + udp), \
            f"c1: {len(out1)} lines, {len(out1) - len(set(out1))} duplicates"
        assert out2 == tcp, f"c2: {len(out2)} lines, {len(out2) - len(set(out2))} duplicates"
        assert len(out3) == len(set(out3)) and set(out3) <= set(udp), \
            f"c3: {len(out3)} lines, {len(out3) - len(set(out3))} duplicates"
        m = scrape_json(mport)
        assert m["SOURCE.rt"]["EventAcceptedCount"] == str(n), m["SOURCE.rt"]
        assert m["SOURCE.rt"]["EventReadFailCount"] == "0", m["SOURCE.rt"]
        assert m["SOURCE.ru"]["EventReceivedCount"] == str(nu), m["SOURCE.ru"]
    finally:
        assert a.stop() == 0
