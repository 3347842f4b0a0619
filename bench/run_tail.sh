#!/usr/bin/env bash
# run_tail.sh - the tail source's speed, measured on this machine with a Release build: a file
# of 200 B lines (newline included; 1 GiB by default) -> tail source -> memory channel -> null
# sink. The agent starts on an empty directory; the clock starts when the file is renamed
# into it (inotify wakes the source) and stops when the null sink has taken the last line
# (polled from /metrics.json every 20 ms). Prints lines/s, MB/s and the agent's CPU seconds
# (user + system, from /proc/<pid>/stat, all threads) per million lines, and in the same run
# two reference readers of the same file from the page cache: `wc -l` and `cat > /dev/null`.
# Fluent Bit is not packaged in Debian 12, so its published figure (about 1M lines/s at 46% of
# a core for its tail input) can only be quoted, not measured here.
#
#   bench/run_tail.sh                      # 1 GiB
#   SIZE_MIB=256 bench/run_tail.sh         # a smaller file
#   REPS=3 bench/run_tail.sh               # best of three agent runs
#
# Env: BENCH_DIR (scratch dir parent, default /tmp), SIZE_MIB (1024), REPS (1), BUILD_DIR
# (default /tmp/build-tail-rel), BATCH (source batchSize and channel transactionCapacity,
# default 1000).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
base=${BENCH_DIR:-/tmp}
size_mib=${SIZE_MIB:-1024}
reps=${REPS:-1}
batch=${BATCH:-1000}
build=${BUILD_DIR:-/tmp/build-tail-rel}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target sluice >/dev/null
sluice=$build/sluice

work=$(mktemp -d "$base/sluice-bench-tail.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

. "$root/bench/lib.sh"
# utime + stime of a process, all threads, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# The file: 200 B lines with a sequence number, written in 1 MiB blocks.
lines=$((size_mib * 1024 * 1024 / 200))
/usr/bin/python3 - "$work/big.log" "$lines" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "wb", buffering=1 << 20) as f:
    buf = []
    for i in range(n):
        head = b"2026-01-01T00:00:00.000Z host app[123]: seq=%010d " % i
        buf.append(head + b"x" * (199 - len(head)) + b"\n")
        if len(buf) == 5000:
            f.write(b"".join(buf))
            buf = []
    f.write(b"".join(buf))
PY
bytes=$(stat -c %s "$work/big.log")
echo "file: $lines lines of 200 B, $bytes bytes"

# References, page cache warm (the first read warms it).
cat "$work/big.log" > /dev/null
t0=$(now); cat "$work/big.log" > /dev/null; t1=$(now)
cat_s=$(echo "$t1 - $t0" | bc -l)
t0=$(now); wc -l "$work/big.log" > /dev/null; t1=$(now)
wc_s=$(echo "$t1 - $t0" | bc -l)

best_s=
best_cpu=
for rep in $(seq 1 "$reps"); do
    rm -rf "$work/in" "$work/pos.json"
    mkdir "$work/in"
    mport=$(free_port)
    cat > "$work/agent.yaml" <<YAML
agent: {name: bench}
sources:
  r1:
    type: tail
    channels: [c1]
    filegroups: {f1: "$work/in/*.log"}
    positionFile: $work/pos.json
    batchSize: $batch
channels:
  c1: {type: memory, capacity: $((batch * 20)), transactionCapacity: $batch}
sinks:
  k1: {type: null, channel: c1, batchSize: $batch}
metrics: {port: $mport, bind: 127.0.0.1}
YAML
    "$sluice" agent -f "$work/agent.yaml" 2> "$work/agent.log" &
    pid=$!
    for _ in $(seq 1 200); do
        if (exec 3<>/dev/tcp/127.0.0.1/$mport) 2>/dev/null; then break; fi
        sleep 0.05
    done
    c0=$(cpu_ticks "$pid")
    t0=$(now)
    mv "$work/big.log" "$work/in/big.log"
    /usr/bin/python3 - "$mport" "$lines" <<'PY'
import json, sys, time, urllib.request
port, want = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 600
while time.monotonic() < deadline:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics.json", timeout=10) as r:
        m = json.loads(r.read())
    if int(m["SINK.k1"]["EventDrainSuccessCount"]) >= want:
        sys.exit(0)
    time.sleep(0.02)
sys.exit("timed out")
PY
    t1=$(now)
    c1=$(cpu_ticks "$pid")
    kill "$pid"
    wait "$pid" || true
    pid=
    mv "$work/in/big.log" "$work/big.log"
    s=$(echo "$t1 - $t0" | bc -l)
    cpu=$(echo "($c1 - $c0) / $hz" | bc -l)
    printf 'run %d: %.2f s, %.0f lines/s, CPU %.2f s\n' "$rep" "$s" \
        "$(echo "$lines / $s" | bc -l)" "$cpu"
    if [ -z "$best_s" ] || [ "$(echo "$s < $best_s" | bc)" = 1 ]; then
        best_s=$s
        best_cpu=$cpu
    fi
done

lps=$(echo "$lines / $best_s" | bc -l)
printf '\n%-28s %12s %10s %16s %14s\n' "reader" "lines/s" "MB/s" "CPU s/M lines" "core use"
printf '%-28s %12.0f %10.1f %16.3f %13.0f%%\n' "sluice tail -> null" "$lps" \
    "$(echo "$bytes / $best_s / 1000000" | bc -l)" \
    "$(echo "$best_cpu / ($lines / 1000000)" | bc -l)" "$(echo "100 * $best_cpu / $best_s" | bc -l)"
printf '%-28s %12.0f %10.1f\n' "wc -l (same file)" "$(echo "$lines / $wc_s" | bc -l)" \
    "$(echo "$bytes / $wc_s / 1000000" | bc -l)"
printf '%-28s %12.0f %10.1f\n' "cat > /dev/null (same file)" "$(echo "$lines / $cat_s" | bc -l)" \
    "$(echo "$bytes / $cat_s / 1000000" | bc -l)"
printf 'sluice / wc -l: %.2f\n' "$(echo "$wc_s / $best_s" | bc -l)"
