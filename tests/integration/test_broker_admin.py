"""The broker's admin APIs through real clients: confluent-kafka's AdminClient (librdkafka),
kafka-python's KafkaAdminClient, kcat -L, and a producer that auto-creates its topic.

Covers Metadata, CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs and
AlterConfigs: results, Kafka's error codes and messages, persistence across a restart, and
partition directories appearing in and disappearing from the log dir.
"""
import os
import subprocess
import time

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import (AdminClient, ConfigResource, ConfigSource, NewPartitions,
                                  NewTopic)

from brokerutil import Broker

TIMEOUT = 15


def admin(broker):
    return AdminClient({"bootstrap.servers": broker.bootstrap})


def create(a, *topics, **kw):
    """Create topics; returns {name: None or the KafkaError}."""
    futures = a.create_topics(list(topics), request_timeout=TIMEOUT, **kw)
    out = {}
    for name, f in futures.items():
        try:
            f.result(TIMEOUT)
            out[name] = None
        except KafkaException as e:
            out[name] = e.args[0]
    return out


def partition_dirs(broker, topic):
    return sorted(d for d in os.listdir(broker.log_dir) if d.rsplit("-", 1)[0] == topic)


def wait_for(cond, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    return cond()


def describe_topic_configs(a, topic):
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    return a.describe_configs([res], request_timeout=TIMEOUT)[res].result(TIMEOUT)


def test_create_list_and_errors(broker):
    a = admin(broker)
    r = create(a, NewTopic("adm-a", num_partitions=3, replication_factor=1),
               NewTopic("adm-b", num_partitions=1, replication_factor=1,
                        config={"retention.ms": "60000"}))
    assert r == {"adm-a": None, "adm-b": None}
    assert partition_dirs(broker, "adm-a") == ["adm-a-0", "adm-a-1", "adm-a-2"]

    md = a.list_topics(timeout=TIMEOUT)
    assert md.controller_id == 0
    assert [(b.id, b.host, b.port) for b in md.brokers.values()] == [(0, "127.0.0.1", broker.port)]
    t = md.topics["adm-a"]
    assert t.error is None
    assert sorted(t.partitions) == [0, 1, 2]
    for p in t.partitions.values():
        assert p.leader == 0 and p.replicas == [0] and p.isrs == [0]

    # Kafka's errors and messages
    err = create(a, NewTopic("adm-rf", num_partitions=1, replication_factor=3))["adm-rf"]
    assert err.code() == KafkaError.INVALID_REPLICATION_FACTOR
    assert "Replication factor: 3 larger than available brokers: 1." in err.str()
    assert not partition_dirs(broker, "adm-rf")
    err = create(a, NewTopic("adm-a", num_partitions=1, replication_factor=1))["adm-a"]
    assert err.code() == KafkaError.TOPIC_ALREADY_EXISTS
    assert "Topic 'adm-a' already exists." in err.str()
    err = create(a, NewTopic("adm-c", num_partitions=1, replication_factor=1,
                             config={"retention.ms": "soon"}))["adm-c"]
    assert err.code() == KafkaError.INVALID_CONFIG
    assert "retention.ms" in err.str()
    err = create(a, NewTopic("bad/name", num_partitions=1, replication_factor=1))["bad/name"]
    assert err.code() == KafkaError.TOPIC_EXCEPTION
    assert "illegal" in err.str()
    # validate_only creates nothing
    assert create(a, NewTopic("adm-dry", num_partitions=2, replication_factor=1),
                  validate_only=True) == {"adm-dry": None}
    assert not partition_dirs(broker, "adm-dry")
    # defaults: -1 partitions and replication factor (librdkafka sends -1 when unset)
    assert create(a, NewTopic("adm-def", num_partitions=-1, replication_factor=-1)) == {
        "adm-def": None}
    assert partition_dirs(broker, "adm-def") == ["adm-def-0"]


def test_configs_alter_and_persist(sluice_bin, tmp_path):
    b = Broker(sluice_bin, tmp_path / "logs").start()
    try:
        a = admin(b)
        assert create(a, NewTopic("cfg", num_partitions=1, replication_factor=1,
                                  config={"segment.bytes": "1048576"})) == {"cfg": None}
        cfg = describe_topic_configs(a, "cfg")
        assert cfg["segment.bytes"].value == "1048576"
        assert not cfg["segment.bytes"].is_default
        assert cfg["segment.bytes"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
        assert cfg["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value
        assert cfg["retention.ms"].value == str(7 * 24 * 3600 * 1000)
        assert cfg["retention.ms"].is_default
        assert not cfg["retention.ms"].is_read_only

        # AlterConfigs replaces the overrides: segment.bytes goes back to its default
        res = ConfigResource(ConfigResource.Type.TOPIC, "cfg",
                             set_config={"retention.ms": "3600000"})
        a.alter_configs([res], request_timeout=TIMEOUT)[res].result(TIMEOUT)
        cfg = describe_topic_configs(a, "cfg")
        assert cfg["retention.ms"].value == "3600000"
        assert cfg["segment.bytes"].is_default

        bad = ConfigResource(ConfigResource.Type.TOPIC, "cfg", set_config={"retention.ms": "x"})
        with pytest.raises(KafkaException) as e:
            a.alter_configs([bad], request_timeout=TIMEOUT)[bad].result(TIMEOUT)
        assert e.value.args[0].code() == KafkaError.INVALID_CONFIG

        missing = ConfigResource(ConfigResource.Type.TOPIC, "no-such-topic")
        with pytest.raises(KafkaException) as e:
            a.describe_configs([missing], request_timeout=TIMEOUT)[missing].result(TIMEOUT)
        assert e.value.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART

        brk = ConfigResource(ConfigResource.Type.BROKER, "0")
        bcfg = a.describe_configs([brk], request_timeout=TIMEOUT)[brk].result(TIMEOUT)
        assert bcfg["broker.id"].value == "0"
        assert bcfg["broker.id"].is_read_only
        del a
    finally:
        assert b.stop() == 0
    b.start()
    try:
        cfg = describe_topic_configs(admin(b), "cfg")
        assert cfg["retention.ms"].value == "3600000"
        assert not cfg["retention.ms"].is_default
        assert cfg["segment.bytes"].is_default
    finally:
        assert b.stop() == 0


def test_create_partitions(broker):
    a = admin(broker)
    assert create(a, NewTopic("grow", num_partitions=1, replication_factor=1)) == {"grow": None}
    a.create_partitions([NewPartitions("grow", 3)], request_timeout=TIMEOUT)["grow"].result(TIMEOUT)
    assert partition_dirs(broker, "grow") == ["grow-0", "grow-1", "grow-2"]
    assert sorted(a.list_topics("grow", timeout=TIMEOUT).topics["grow"].partitions) == [0, 1, 2]
    with pytest.raises(KafkaException) as e:
        a.create_partitions([NewPartitions("grow", 2)],
                            request_timeout=TIMEOUT)["grow"].result(TIMEOUT)
    err = e.value.args[0]
    assert err.code() == KafkaError.INVALID_PARTITIONS
    assert "Topic currently has 3 partitions, which is higher than the requested 2." in err.str()
    with pytest.raises(KafkaException) as e:
        a.create_partitions([NewPartitions("nope", 2)],
                            request_timeout=TIMEOUT)["nope"].result(TIMEOUT)
    assert e.value.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_delete_removes_directories(broker):
    a = admin(broker)
    assert create(a, NewTopic("gone", num_partitions=2, replication_factor=1)) == {"gone": None}
    assert len(partition_dirs(broker, "gone")) == 2
    a.delete_topics(["gone"], request_timeout=TIMEOUT)["gone"].result(TIMEOUT)
    assert partition_dirs(broker, "gone") == []
    assert not any(d.startswith("gone") for d in os.listdir(broker.log_dir))
    assert "gone" not in a.list_topics(timeout=TIMEOUT).topics
    with pytest.raises(KafkaException) as e:
        a.delete_topics(["gone"], request_timeout=TIMEOUT)["gone"].result(TIMEOUT)
    assert e.value.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_kcat_metadata(broker):
    a = admin(broker)
    assert create(a, NewTopic("kc", num_partitions=2, replication_factor=1)) == {"kc": None}
    out = subprocess.run(["kcat", "-b", broker.bootstrap, "-L"], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    assert f"broker 0 at 127.0.0.1:{broker.port} (controller)" in out.stdout
    assert 'topic "kc" with 2 partitions:' in out.stdout
    assert "partition 1, leader 0, replicas: 0, isrs: 0" in out.stdout
    # a metadata request for one unknown topic with auto-creation off (kcat -t ... -L)
    out = subprocess.run(["kcat", "-b", broker.bootstrap, "-L", "-t", "kc"],
                         capture_output=True, text=True, timeout=30)
    assert 'topic "kc" with 2 partitions:' in out.stdout


def test_kafka_python_admin(broker):
    from kafka.admin import KafkaAdminClient
    from kafka.admin import NewTopic as KNewTopic
    from kafka.errors import TopicAlreadyExistsError

    ka = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=TIMEOUT * 1000)
    try:
        ka.create_topics([KNewTopic("kp", num_partitions=2, replication_factor=1)])
        assert partition_dirs(broker, "kp") == ["kp-0", "kp-1"]
        with pytest.raises(TopicAlreadyExistsError):
            ka.create_topics([KNewTopic("kp", num_partitions=2, replication_factor=1)])
        assert "kp" in ka.list_topics()
        ka.delete_topics(["kp"])
        assert partition_dirs(broker, "kp") == []
    finally:
        ka.close()


def test_auto_create_by_producer(broker):
    p = Producer({"bootstrap.servers": broker.bootstrap})
    errors = []
    p.produce("auto-new", b"v", callback=lambda err, msg: errors.append(err))
    assert p.flush(TIMEOUT) == 0
    assert errors == [None]
    assert partition_dirs(broker, "auto-new") == ["auto-new-0"]
    md = admin(broker).list_topics("auto-new", timeout=TIMEOUT)
    assert sorted(md.topics["auto-new"].partitions) == [0]


def test_auto_create_disabled_and_illegal_names(sluice_bin, tmp_path):
    b = Broker(sluice_bin, tmp_path / "logs",
               overrides={"auto.create.topics.enable": "false", "num.partitions": "2"}).start()
    try:
        from kafka.client_async import KafkaClient
        from kafka.protocol.metadata import MetadataRequest

        c = KafkaClient(bootstrap_servers=b.bootstrap)
        try:
            node = c.least_loaded_node()
            deadline = time.monotonic() + TIMEOUT
            while not c.ready(node) and time.monotonic() < deadline:
                c.poll(timeout_ms=100)
            f = c.send(node, MetadataRequest[4](topics=["no-auto", "bad name!", "ok.name"],
                                                allow_auto_topic_creation=True))
            while not f.is_done and time.monotonic() < deadline:
                c.poll(timeout_ms=100)
            errs = {t[1]: t[0] for t in f.value.topics}
            # auto-creation off: unknown (3); an illegal name: INVALID_TOPIC_EXCEPTION (17)
            assert errs == {"no-auto": 3, "bad name!": 17, "ok.name": 3}
        finally:
            c.close()
        assert not partition_dirs(b, "no-auto")
        # CreateTopics still works, with num.partitions for -1
        assert create(admin(b), NewTopic("explicit", num_partitions=-1,
                                         replication_factor=1)) == {"explicit": None}
        assert partition_dirs(b, "explicit") == ["explicit-0", "explicit-1"]
    finally:
        assert b.stop() == 0


def _create_topics_v1(broker, topics, validate_only=False):
    """Raw CreateTopics v1: topics = [(name, partitions, rf, [(partition, [brokers])])].
    Returns [(name, error_code, error_message)]."""
    import socket
    import struct

    def s16(s):
        b = s.encode()
        return struct.pack(">h", len(b)) + b

    body = struct.pack(">i", len(topics))
    for name, parts, rf, assignments in topics:
        body += s16(name) + struct.pack(">ih", parts, rf) + struct.pack(">i", len(assignments))
        for p, brokers in assignments:
            body += struct.pack(">ii", p, len(brokers)) + b"".join(
                struct.pack(">i", x) for x in brokers)
        body += struct.pack(">i", 0)  # configs
    body += struct.pack(">ib", 10000, 1 if validate_only else 0)
    hdr = struct.pack(">hhih", 19, 1, 7, 4) + b"test"
    with socket.create_connection(("127.0.0.1", broker.port), timeout=TIMEOUT) as s:
        s.sendall(struct.pack(">i", len(hdr + body)) + hdr + body)
        buf = b""
        while len(buf) < 4 or len(buf) < 4 + struct.unpack(">i", buf[:4])[0]:
            chunk = s.recv(65536)
            assert chunk
            buf += chunk
    d, p = buf[4:], 0
    assert struct.unpack(">i", d[p:p + 4])[0] == 7
    p += 4
    out = []
    n = struct.unpack(">i", d[p:p + 4])[0]
    p += 4
    for _ in range(n):
        ln = struct.unpack(">h", d[p:p + 2])[0]
        name = d[p + 2:p + 2 + ln].decode()
        p += 2 + ln
        err = struct.unpack(">h", d[p:p + 2])[0]
        p += 2
        ln = struct.unpack(">h", d[p:p + 2])[0]
        msg = None if ln < 0 else d[p + 2:p + 2 + ln].decode()
        p += 2 + max(ln, 0)
        out.append((name, err, msg))
    assert p == len(d)
    return out


def test_create_topics_duplicates_and_assignments(broker):
    res = _create_topics_v1(broker, [("dupe", 1, 1, []), ("ok1", 1, 1, []), ("dupe", 2, 1, [])])
    assert [(n, e) for n, e, _ in res] == [("dupe", 42), ("ok1", 0)]
    assert "multiple entries" in res[0][2]
    # manual assignments: partitions must be 0..n-1 exactly, on this broker only
    res = _create_topics_v1(broker, [("gap", -1, -1, [(0, [0]), (2, [0])])])
    assert res[0][1] == 39 and "out of range or repeated" in res[0][2]
    res = _create_topics_v1(broker, [("rep", -1, -1, [(0, [0]), (0, [0])])])
    assert res[0][1] == 39
    res = _create_topics_v1(broker, [("asg", -1, -1, [(1, [0]), (0, [0])])])
    assert res == [("asg", 0, None)]
    assert sorted(partition_dirs(broker, "asg")) == ["asg-0", "asg-1"]
    # a large request stays fast (no quadratic scans on the loop thread)
    many = [("big", -1, -1, [(i, [0]) for i in range(20000)])]
    t0 = time.monotonic()
    res = _create_topics_v1(broker, many, validate_only=True)
    assert res[0][1] == 0 and time.monotonic() - t0 < 5
