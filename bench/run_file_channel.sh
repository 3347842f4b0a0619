#!/usr/bin/env bash
# run_file_channel.sh - durable throughput of the file channel (bench/file_channel/
# bench_file_channel.c, driven through the channel transaction API with one taker draining
# it) for 200 B and 1 KiB events, each next to the raw pwrite+fdatasync rate of the same disk
# for the same write size, measured in the same run.
#
#   bench/run_file_channel.sh                    # scratch dir under /tmp, 256 MiB per run
#   BENCH_DIR=/data MIB=1024 bench/run_file_channel.sh
#
# Then the whole agent: CONNS connections (4) each send LINES lines (50,000) of 1 KiB to a
# netcat source with ack-every-event: true -> file channel -> null sink, timed until every
# OK has come back (each OK means the line is fdatasync'ed); the channel's FsyncCount from
# /metrics.json gives the events each fsync carried, i.e. how well netcat batches. Right after
# it, the raw pwrite+fdatasync rate for the bytes the agent wrote per fsync, and a summary of
# the 1 KiB figures of this run: raw, channel only, whole agent.
#
# Env: BENCH_DIR (default /tmp), MIB (event bytes per run, default 512), BATCH (events per
# put transaction, default 1000), LINES, CONNS; COMPARE_BIN=/path/to/another/sluice also runs
# the whole-agent part with that binary (e.g. a build of an older commit), right before this
# build's, for a before/after in one run. The program links the agent library, which the
# bench/*.c glob does not, so it is compiled here against a Release build in BUILD_DIR
# (default build-bench/).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
base=${BENCH_DIR:-/tmp}
mib=${MIB:-512}
batch=${BATCH:-1000}
build=${BUILD_DIR:-$root/build-bench}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target sluice >/dev/null
# The libraries sluice links, in its order (static ones from the build tree).
libs=$(sed -e 's/.* -o sluice //' "$build/CMakeFiles/sluice.dir/link.txt" |
       tr ' ' '\n' | sed -e "s|^libsl_|$build/libsl_|" | tr '\n' ' ')
cc -O2 -std=gnu11 -I"$root" -o "$build/bench_file_channel" \
    "$root/bench/file_channel/bench_file_channel.c" $libs -lpthread

work=$(mktemp -d "$base/sluice-fc-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== machine =="
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "cpu:       $(nproc) x $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
echo "bench dir: $work ($(df -PT "$work" | awk 'NR == 2 { print $2 " on " $1 }'))"
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg)"
echo
"$build/bench_file_channel" "$work" "$mib" "$batch" 2>/dev/null | tee "$work/channel.txt"

cat >"$work/agent.py" <<'PY'
import json, os, shutil, socket, subprocess, sys, threading, time, urllib.request
sluice, work = sys.argv[1], sys.argv[2]
shutil.rmtree(os.path.join(work, "agent-data"), ignore_errors=True)
lines, conns = int(os.environ["LINES"]), int(os.environ["CONNS"])
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
nc, mp = free_port(), free_port()
cfg = os.path.join(work, "agent.yaml")
open(cfg, "w").write(f"""agent: {{name: a1}}
sources:
  r1: {{type: netcat, bind: 127.0.0.1, port: {nc}, ack-every-event: true, max-line-length: 2048,
        channels: [c1]}}
channels:
  c1: {{type: file, dataDir: {work}/agent-data, capacity: 1000000, transactionCapacity: 10000,
        minimumRequiredSpace: 0}}
sinks:
  k1: {{type: null, channel: c1, batchSize: 1000}}
metrics: {{port: {mp}, bind: 127.0.0.1}}
""")
err = open(os.path.join(work, "agent.stderr"), "w")
p = subprocess.Popen([sluice, "agent", "-f", cfg], stderr=err, stdout=err)
try:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", nc), timeout=0.2).close(); break
        except OSError:
            time.sleep(0.05)
    line = b"x" * 1023 + b"\n"
    def one():
        s = socket.create_connection(("127.0.0.1", nc))
        def send():
            for _ in range(0, lines, 256):
                s.sendall(line * 256)
        t = threading.Thread(target=send); t.start()
        got = 0
        while got < lines:
            d = s.recv(1 << 20)
            if not d:
                break
            got += d.count(b"OK\n")
        t.join(); s.close()
        assert got >= lines, got
    t0 = time.monotonic()
    ts = [threading.Thread(target=one) for _ in range(conns)]
    [t.start() for t in ts]; [t.join() for t in ts]
    dt = time.monotonic() - t0
    m = json.load(urllib.request.urlopen(f"http://127.0.0.1:{mp}/metrics.json"))["CHANNEL.c1"]
    n = lines * conns
    fs = int(m["FsyncCount"])
    print(f"  {n} lines of 1 KiB over {conns} connections: {n / dt:9.0f} events/s "
          f"{n * 1024 / dt / 1048576:7.1f} MiB/s acknowledged durable; {fs} fsyncs = "
          f"{n / max(fs, 1):.0f} events per fsync = {n * 1024 // max(fs, 1)} B per fsync")
finally:
    p.terminate(); p.wait(30)
PY

agent() { # binary label
    echo
    echo "== agent ($2): netcat (ack-every-event) -> file channel -> null sink =="
    LINES=${LINES:-50000} CONNS=${CONNS:-4} /usr/bin/python3 "$work/agent.py" "$1" "$work" |
        tee "$work/agent-$2.txt"
}
if [ -n "${COMPARE_BIN:-}" ]; then
    agent "$COMPARE_BIN" compare
fi
agent "$build/sluice" this
per_fsync=$(sed -n 's/.* = \([0-9]*\) B per fsync$/\1/p' "$work/agent-this.txt")
"$build/bench_file_channel" "$work" --raw "${per_fsync:-1048576}" 3 | tee "$work/raw-agent.txt"

# Summary: the 1 KiB figures of this run side by side.
mib_of() { awk '{ for (i = 2; i <= NF; i++) if ($i == "MiB/s") { print $(i - 1); exit } }'; }
k1=$(sed -n '/^1024-byte/,$p' "$work/channel.txt")
echo
echo "== summary: 1 KiB events, one run =="
printf '  %-58s %8s MiB/s\n' \
    "raw pwrite+fdatasync, $((batch * 1024)) B per write" "$(grep -m1 'raw pwrite' <<<"$k1" | mib_of)" \
    "file channel alone, $batch events per put, 1 putter" "$(grep -m1 '1 putter ' <<<"$k1" | mib_of)" \
    "raw pwrite+fdatasync, ${per_fsync:-?} B per write (the agent's)" "$(mib_of <"$work/raw-agent.txt")"
for f in "$work"/agent-*.txt; do
    l=$(basename "$f" .txt)
    printf '  %-58s %8s MiB/s  (%s events per fsync)\n' \
        "whole agent (${l#agent-}), ${CONNS:-4} connections, acks" "$(mib_of <"$f")" \
        "$(sed -n 's/.*fsyncs = \([0-9]*\) events per fsync.*/\1/p' "$f")"
done
