#!/usr/bin/env bash
# run_agent.sh - the agent's speed target, measured on this machine with a Release build:
# lines of 200 B (newline included) over 4 TCP connections -> netcat source -> memory channel
# -> kafka sink -> broker embedded in the agent, timed from the first byte sent until a
# consumer (kcat) has read the last line; compared in the same run with rsyslog (imptcp ->
# omfile) fed the same way, timed until the last line is in its output file. Also prints the
# agent's RSS when idle and its peak RSS (VmHWM) under that load.
#
#   bench/run_agent.sh                   # 4 connections x 250,000 lines
#   LINES=100000 bench/run_agent.sh      # lines per connection
#
# Env: BENCH_DIR (scratch dir parent, default /tmp), LINES, CONNS (4), BUILD_DIR (default
# build-bench). The agent runs with ack-every-event: false, since rsyslog's imptcp does not
# acknowledge either. Needs kcat and (for the comparison) rsyslogd; without rsyslogd that
# half is skipped.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
base=${BENCH_DIR:-/tmp}
lines=${LINES:-250000}
conns=${CONNS:-4}
build=${BUILD_DIR:-$root/build-bench}
total=$((lines * conns))

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target sluice >/dev/null
sluice=$build/sluice

. "$root/bench/lib.sh"
bench_scratch agent

# The generator: CONNS connections, each sending LINES lines of 200 B in 200 KB writes.
cat > "$work/gen.py" <<'PY'
import socket, sys, threading
port, conns, per = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def send(i):
    s = socket.create_connection(("127.0.0.1", port))
    buf = bytearray()
    for j in range(per):
        head = b"c%d-%09d " % (i, j)
        buf += head + b"x" * (199 - len(head)) + b"\n"
        if len(buf) >= 200000:
            s.sendall(buf)
            buf = bytearray()
    s.sendall(buf)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    s.close()
ts = [threading.Thread(target=send, args=(i,)) for i in range(conns)]
for t in ts:
    t.start()
for t in ts:
    t.join()
PY

# --- sluice agent ------------------------------------------------------------------------
nc_port=$(free_port)
bport=$(free_port)
cat > "$work/agent.yaml" <<YAML
broker: {listeners: "PLAINTEXT://127.0.0.1:$bport", log.dirs: $work/logs}
sources:
  r1: {type: netcat, bind: 127.0.0.1, port: $nc_port, channels: [c1], ack-every-event: false}
channels:
  c1: {type: memory, capacity: ${CAPACITY:-10000}, transactionCapacity: ${TXCAP:-1000}}
sinks:
  k1: {type: kafka, channel: c1, topic: bench, acks: 1, linger.ms: ${LINGER:-1}, batchSize: ${TXCAP:-1000}}
YAML
"$sluice" agent -f "$work/agent.yaml" 2> "$work/agent.log" &
agent_pid=$!
pids+=("$agent_pid")
wait_port "$nc_port"
sleep 1
idle_rss=$(rss_kib "$agent_pid" VmRSS)

t0=$(now)
/usr/bin/python3 "$work/gen.py" "$nc_port" "$conns" "$lines" &
gen_pid=$!
for _ in $(seq 1 400); do
    kcat -b "127.0.0.1:$bport" -L -t bench 2>/dev/null | grep -q 'partition 0' && break
    sleep 0.05
done
kcat -b "127.0.0.1:$bport" -C -t bench -o beginning -c "$total" -q -f '%o\n' | tail -n 1 \
    > "$work/last"
t1=$(now)
wait "$gen_pid"
peak_rss=$(rss_kib "$agent_pid" VmHWM)
[ "$(cat "$work/last")" = "$((total - 1))" ] || { echo "consumer saw $(cat "$work/last")" >&2; exit 1; }
kill -TERM "$agent_pid"
wait "$agent_pid" || { echo "agent exited with $?" >&2; exit 1; }
sluice_s=$(echo "$t1 - $t0" | bc -l)

# --- rsyslog -----------------------------------------------------------------------------
rsyslog_s=
if command -v rsyslogd >/dev/null; then
    rs_port=$(free_port)
    mkdir -p "$work/rs"
    cat > "$work/rsyslog.conf" <<CONF
global(workDirectory="$work/rs")
module(load="imptcp")
input(type="imptcp" port="$rs_port" address="127.0.0.1")
template(name="raw" type="string" string="%rawmsg%\n")
action(type="omfile" file="$work/rs/out.log" template="raw")
CONF
    rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rs/pid" 2> "$work/rsyslog.log" &
    rs_pid=$!
    pids+=("$rs_pid")
    wait_port "$rs_port"
    t0=$(now)
    /usr/bin/python3 "$work/gen.py" "$rs_port" "$conns" "$lines" &
    gen_pid=$!
    while ! [ -f "$work/rs/out.log" ] || [ "$(wc -l < "$work/rs/out.log")" -lt "$total" ]; do
        sleep 0.02
    done
    t1=$(now)
    wait "$gen_pid"
    rsyslog_s=$(echo "$t1 - $t0" | bc -l)
fi

mb=$(echo "$total * 200 / 1000000" | bc -l)
printf 'lines: %d x %d connections, 200 B each (%.0f MB)\n' "$lines" "$conns" "$mb"
printf 'sluice agent (netcat -> memory -> kafka -> embedded broker, read back by kcat):\n'
printf '  %.2f s  %.0f lines/s  %.1f MB/s\n' "$sluice_s" "$(echo "$total / $sluice_s" | bc -l)" \
    "$(echo "$mb / $sluice_s" | bc -l)"
printf '  RSS idle %d KiB, peak %d KiB\n' "$idle_rss" "$peak_rss"
if [ -n "$rsyslog_s" ]; then
    printf 'rsyslog (imptcp -> omfile):\n'
    printf '  %.2f s  %.0f lines/s  %.1f MB/s\n' "$rsyslog_s" \
        "$(echo "$total / $rsyslog_s" | bc -l)" "$(echo "$mb / $rsyslog_s" | bc -l)"
    printf 'sluice / rsyslog: %.2fx (target >= 1.5x)\n' "$(echo "$rsyslog_s / $sluice_s" | bc -l)"
else
    echo "rsyslogd not installed: comparison skipped"
fi
