#!/usr/bin/env bash
# run_broker.sh - the broker's speed targets, measured with our own librdkafka-based perf
# tools against a Release build of `sluice broker` on this machine (client and broker share
# the 2 cores, as the issue specifies):
#   1. perf produce, 100 B records, 1 partition, acks=1: records/s (target >= 1,000,000)
#   2. perf produce, 1 KiB records: MB/s
#   3. perf consume of the 100 B topic from page cache, CONSUME_RUNS times: records/s of each
#      run and their median (target >= 3,000,000)
#   4. perf consume --threads 2 of a 2-partition topic holding as many 100 B records (filled
#      by an untimed perf produce whose line is printed): records/s with one consumer, and
#      one thread, per partition
#   and the broker process's CPU seconds per million records for each (utime + stime from
#   /proc/PID/stat, read before and after each phase)
#
#   bench/run_broker.sh                 # 5,000,000 records of 100 B, 1,000,000 of 1 KiB
#   RECORDS=1000000 bench/run_broker.sh # quicker
#   PRODUCER_PROPS="linger.ms=5 batch.size=1000000" bench/run_broker.sh
#
# Env: BENCH_DIR (scratch dir parent, default /tmp), RECORDS (100 B records, default 5e6),
# RECORDS_1K (1 KiB records, default 1e6), PRODUCER_PROPS (extra librdkafka properties),
# FETCH_SIZE (perf consume --fetch-size, Kafka's consumer-perf-test option: bytes per
# partition per fetch; default 2 MiB: librdkafka keeps one fetch in flight per broker, so
# 1 MiB leaves the consumer waiting on round trips, while 10 MiB responses no longer fit the
# CPU caches and read slower, see bench/README.md), CONSUME_RUNS (phase 3 runs, default 5).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
base=${BENCH_DIR:-/tmp}
records=${RECORDS:-5000000}
records_1k=${RECORDS_1K:-1000000}
props=${PRODUCER_PROPS:-}
fetch_size=${FETCH_SIZE:-2097152}
consume_runs=${CONSUME_RUNS:-5}

cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build-bench" -j"$(nproc)" --target sluice >/dev/null
sluice=$root/build-bench/sluice

work=$(mktemp -d "$base/sluice-bench-broker.XXXXXX")
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$sluice" broker --override listeners=PLAINTEXT://127.0.0.1:$port \
    --override log.dirs="$work/logs" 2> "$work/broker.log" &
broker_pid=$!
trap 'kill $broker_pid 2>/dev/null; wait $broker_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 200); do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then break; fi
    sleep 0.05
done
bs=127.0.0.1:$port
clk=$(getconf CLK_TCK)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$broker_pid/stat"; }
per_million() { # ticks_before ticks_after records
    awk -v a="$1" -v b="$2" -v n="$3" -v hz="$clk" \
        'BEGIN { printf "%.2f", (b - a) / hz / (n / 1e6) }'
}

echo "== machine =="
echo "date:   $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "cpu:    $(nproc) x $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
echo "ram:    $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "disk:   $(df -PT "$work" | awk 'NR == 2 { print $2 " on " $1 }')"
echo "kernel: $(uname -r)"
echo

"$sluice" topics --bootstrap-server "$bs" --create --topic p100 --partitions 1 \
    --replication-factor 1 >/dev/null
"$sluice" topics --bootstrap-server "$bs" --create --topic p1k --partitions 1 \
    --replication-factor 1 >/dev/null
"$sluice" topics --bootstrap-server "$bs" --create --topic c100 --partitions 2 \
    --replication-factor 1 >/dev/null

echo "== 1. perf produce: $records records of 100 B, 1 partition, acks=1 =="
t0=$(cpu_ticks)
# shellcheck disable=SC2086
"$sluice" perf produce --bootstrap-server "$bs" --topic p100 --num-records "$records" \
    --record-size 100 --throughput -1 --producer-props acks=1 $props | tail -1
t1=$(cpu_ticks)
echo "broker CPU: $(per_million "$t0" "$t1" "$records") s per million records"
echo

echo "== 2. perf produce: $records_1k records of 1 KiB, 1 partition, acks=1 =="
t0=$(cpu_ticks)
# shellcheck disable=SC2086
"$sluice" perf produce --bootstrap-server "$bs" --topic p1k --num-records "$records_1k" \
    --record-size 1024 --throughput -1 --producer-props acks=1 $props | tail -1
t1=$(cpu_ticks)
echo "broker CPU: $(per_million "$t0" "$t1" "$records_1k") s per million records"
echo

echo "== 3. perf consume: the $records records of 100 B, from page cache, --fetch-size $fetch_size =="
# The records stay in the page cache; sync first so that the kernel's writeback of what the
# produce phases wrote (over 1 GB) does not run on the same 2 cores during the timed read.
# One run moves by 2x with the machine's load: CONSUME_RUNS runs, each printed, then the median.
sync
rates=()
for run in $(seq 1 "$consume_runs"); do
    t0=$(cpu_ticks)
    line=$("$sluice" perf consume --bootstrap-server "$bs" --topic p100 --messages "$records" \
        --fetch-size "$fetch_size" --hide-header)
    t1=$(cpu_ticks)
    echo "run $run: $line"
    echo "  broker CPU: $(per_million "$t0" "$t1" "$records") s per million records"
    rates+=("$(echo "$line" | awk -F', ' '{print $6}')")
done
printf 'median of %d runs: %.0f records/s\n' "$consume_runs" "$(printf '%s\n' "${rates[@]}" |
    sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}')"
echo

echo "== 4. perf consume --threads 2: $records records of 100 B, 2 partitions, --fetch-size $fetch_size =="
# The fill is not a target; its line shows how it went. Records without a key are spread
# over both partitions by librdkafka's sticky partitioner.
# shellcheck disable=SC2086
fill=$("$sluice" perf produce --bootstrap-server "$bs" --topic c100 --num-records "$records" \
    --record-size 100 --throughput -1 --producer-props acks=1 $props | tail -1)
echo "fill: $fill"
sync
t0=$(cpu_ticks)
"$sluice" perf consume --bootstrap-server "$bs" --topic c100 --messages "$records" \
    --threads 2 --fetch-size "$fetch_size"
t1=$(cpu_ticks)
echo "broker CPU: $(per_million "$t0" "$t1" "$records") s per million records"
