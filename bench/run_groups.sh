#!/bin/sh
# run_groups.sh - consumer-group benchmark: rebalance time of a 3-member group when the third
# member joins and when one leaves (ms, confluent-kafka members in threads), and synchronous
# OffsetCommit throughput (commits/s, one partition per commit, one client).
# Usage: SLUICE_BIN=build/sluice bench/run_groups.sh [--append]  (appends to bench/README.md)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${SLUICE_BIN:-$here/../build/sluice}
out=$(SLUICE_BIN="$bin" PYTHONPATH="$here/../tests/integration" /usr/bin/python3 - <<'PY'
import os, tempfile, threading, time
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from brokerutil import Broker

b = Broker(os.environ["SLUICE_BIN"], tempfile.mkdtemp() + "/logs").start()
try:
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic("bench", 3, 1)])["bench"].result(15)
    def member(stop, asg):
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "bench",
                      "session.timeout.ms": 6000, "heartbeat.interval.ms": 100})
        c.subscribe(["bench"])
        while not stop.is_set():
            c.poll(0.01)
            asg[0] = len(c.assignment())
        c.close()
    def settled(asgs, n):
        return sum(a[0] for a in asgs) == 3 and all(a[0] for a in asgs[:n])
    joins, leaves = [], []
    for _ in range(3):
        stops = [threading.Event() for _ in range(3)]
        asgs = [[0], [0], [0]]
        ts = [threading.Thread(target=member, args=(stops[i], asgs[i])) for i in range(2)]
        for t in ts: t.start()
        while not settled(asgs[:2], 2): time.sleep(0.001)
        t0 = time.monotonic()
        ts.append(threading.Thread(target=member, args=(stops[2], asgs[2]))); ts[2].start()
        while not (asgs[2][0] and settled(asgs, 3)): time.sleep(0.001)
        joins.append((time.monotonic() - t0) * 1000)
        t0 = time.monotonic()
        stops[2].set(); ts[2].join()
        while not settled(asgs[:2], 2): time.sleep(0.001)
        leaves.append((time.monotonic() - t0) * 1000)
        for s in stops: s.set()
        for t in ts: t.join()
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "bench-commit"})
    n, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < 3:
        c.commit(offsets=[TopicPartition("bench", n % 3, n)], asynchronous=False)
        n += 1
    rate = n / (time.monotonic() - t0)
    c.close()
    print(f"join {sorted(joins)[1]:.0f} ms, leave {sorted(leaves)[1]:.0f} ms (median of 3); "
          f"OffsetCommit {rate:.0f} commits/s (sync, 1 client)")
finally:
    b.stop()
PY
)
echo "$out"
if [ "${1:-}" = "--append" ]; then
    printf '\n### Consumer groups (%s, %s, %s cores, %s)\n\n%s\n' "$(date -u +%Y-%m-%d)" \
        "$(uname -m)" "$(nproc)" "$(basename "$bin")" "$out" >> "$here/README.md"
fi
