#!/usr/bin/env bash
# run_syslog.sh - the syslog source's speed target, on this machine with a Release build:
# syslog messages of 200 B (newline included, RFC 3164 by default) over 4 TCP connections ->
# syslog source (parsed into headers) -> memory channel -> kafka sink -> broker embedded in
# the agent, timed from the first byte sent until kcat has read the last record; compared in
# the same run with rsyslog (imptcp -> omfile) fed by the same sender, timed until the last
# line is in its output file. Both must receive every message: the topic must end at offset
# CONNS x PER exactly, the file must hold CONNS x PER lines. Also prints each process's CPU
# seconds (user + system) for the run.
#
#   bench/run_syslog.sh                  # 4 connections x 250,000 messages
#   PER=100000 bench/run_syslog.sh       # messages per connection
#   FORMAT=5424 bench/run_syslog.sh      # RFC 5424 with one SD element per message
#
# Env: BENCH_DIR (scratch dir parent, default /tmp), PER, CONNS (4), SIZE (200), FORMAT
# (3164 | 5424), BUILD_DIR (default build-bench), CAPACITY, TXCAP, LINGER. The sender is
# bench/syslog_send.c (built here): it builds every message in memory before the clock starts
# and writes 256 KiB at a time, so it is not the bottleneck. Needs kcat and rsyslogd
# (without rsyslogd the comparison is skipped).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
base=${BENCH_DIR:-/tmp}
per=${PER:-250000}
conns=${CONNS:-4}
size=${SIZE:-200}
format=${FORMAT:-3164}
build=${BUILD_DIR:-$root/build-bench}
total=$((per * conns))

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target sluice syslog_send >/dev/null
sluice=$build/sluice
send=$build/syslog_send

work=$(mktemp -d "$base/sluice-bench-syslog.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

. "$root/bench/lib.sh"

# --- sluice agent ------------------------------------------------------------------------
sy_port=$(free_port)
bport=$(free_port)
cat > "$work/agent.yaml" <<YAML
broker: {listeners: "PLAINTEXT://127.0.0.1:$bport", log.dirs: $work/logs}
sources:
  r1: {type: syslog, protocol: tcp, bind: 127.0.0.1, port: $sy_port, channels: [c1]}
channels:
  c1: {type: memory, capacity: ${CAPACITY:-10000}, transactionCapacity: ${TXCAP:-1000}}
sinks:
  k1: {type: kafka, channel: c1, topic: bench, acks: 1, linger.ms: ${LINGER:-1}, batchSize: ${TXCAP:-1000}}
YAML
"$sluice" agent -f "$work/agent.yaml" 2> "$work/agent.log" &
agent_pid=$!
pids+=("$agent_pid")
wait_port "$sy_port"
wait_port "$bport"
sleep 1
idle_rss=$(rss_kib "$agent_pid" VmRSS)
cpu0=$(cpu_s "$agent_pid")

"$send" "$sy_port" "$conns" "$per" "$size" "$format" > "$work/t0" &
send_pid=$!
for _ in $(seq 1 400); do
    kcat -b "127.0.0.1:$bport" -L -t bench 2>/dev/null | grep -q 'partition 0' && break
    sleep 0.05
done
kcat -b "127.0.0.1:$bport" -C -t bench -o beginning -c "$total" -q -f '%o\n' | tail -n 1 \
    > "$work/last"
t1=$(now)
wait "$send_pid" || { echo "sender failed" >&2; exit 1; }
sluice_cpu=$(echo "$(cpu_s "$agent_pid") - $cpu0" | bc -l)
peak_rss=$(rss_kib "$agent_pid" VmHWM)
[ "$(cat "$work/last")" = "$((total - 1))" ] || { echo "consumer saw $(cat "$work/last")" >&2; exit 1; }
# Nothing beyond: the last record of the topic is the total-th (no duplicate, no extra).
end=$(kcat -b "127.0.0.1:$bport" -C -t bench -o -1 -c 1 -e -q -f '%o\n')
[ "$end" = "$((total - 1))" ] || { echo "topic ends at offset $end, want $((total - 1))" >&2; exit 1; }
# One record, checked whole: the parsed headers are there and the body is the message.
kcat -b "127.0.0.1:$bport" -C -t bench -o -1 -c 1 -e -q -f '%h\n%s\n' > "$work/sample"
grep -q 'Facility=16,Severity=6,timestamp=' "$work/sample" && grep -q 'host=bench-host' "$work/sample" ||
    { echo "unexpected record:"; cat "$work/sample"; exit 1; } >&2
kill -TERM "$agent_pid"
wait "$agent_pid" || { echo "agent exited with $?" >&2; exit 1; }
sluice_s=$(echo "$t1 - $(cat "$work/t0")" | bc -l)

# --- rsyslog -----------------------------------------------------------------------------
rsyslog_s=
if command -v rsyslogd >/dev/null; then
    rs_port=$(free_port)
    mkdir -p "$work/rs"
    # No imuxsock / imklog (nothing is loaded that the file does not name); a private pid
    # file and work directory, so it runs beside a system rsyslogd.
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
    sleep 0.5
    rcpu0=$(cpu_s "$rs_pid")
    "$send" "$rs_port" "$conns" "$per" "$size" "$format" > "$work/t0" &
    send_pid=$!
    deadline=$(( $(date +%s) + 600 ))
    while ! [ -f "$work/rs/out.log" ] || [ "$(wc -l < "$work/rs/out.log")" -lt "$total" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "rsyslog: timed out" >&2; exit 1; }
        sleep 0.02
    done
    t1=$(now)
    wait "$send_pid" || { echo "sender failed" >&2; exit 1; }
    rsyslog_cpu=$(echo "$(cpu_s "$rs_pid") - $rcpu0" | bc -l)
    rsyslog_s=$(echo "$t1 - $(cat "$work/t0")" | bc -l)
    sleep 0.2
    got=$(wc -l < "$work/rs/out.log")
    [ "$got" = "$total" ] || { echo "rsyslog wrote $got lines, want $total" >&2; exit 1; }
fi

mb=$(echo "$total * $size / 1000000" | bc -l)
printf 'messages: %d x %d connections, %d B each, RFC %s (%.0f MB)\n' "$per" "$conns" "$size" \
    "$format" "$mb"
printf 'sluice agent (syslog tcp -> memory -> kafka -> embedded broker, read back by kcat):\n'
printf '  %.2f s  %.0f msg/s  %.1f MB/s  CPU %.2f s (%.2f s per million)\n' "$sluice_s" \
    "$(echo "$total / $sluice_s" | bc -l)" "$(echo "$mb / $sluice_s" | bc -l)" "$sluice_cpu" \
    "$(echo "$sluice_cpu * 1000000 / $total" | bc -l)"
printf '  RSS idle %d KiB, peak %d KiB\n' "$idle_rss" "$peak_rss"
if [ -n "$rsyslog_s" ]; then
    printf 'rsyslog (imptcp -> omfile):\n'
    printf '  %.2f s  %.0f msg/s  %.1f MB/s  CPU %.2f s (%.2f s per million)\n' "$rsyslog_s" \
        "$(echo "$total / $rsyslog_s" | bc -l)" "$(echo "$mb / $rsyslog_s" | bc -l)" \
        "$rsyslog_cpu" "$(echo "$rsyslog_cpu * 1000000 / $total" | bc -l)"
    printf 'sluice / rsyslog: %.2fx (target >= 1.5x)\n' "$(echo "$rsyslog_s / $sluice_s" | bc -l)"
else
    echo "rsyslogd not installed: comparison skipped"
fi
