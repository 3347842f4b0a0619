#!/usr/bin/env bash
# run_syslog.sh - the syslog source's speed target, on this machine with a Release build:
# syslog messages of 200 B (newline included, RFC 3164 by default) over 4 TCP connections ->
# syslog source (parsed into headers) -> memory channel -> kafka sink -> broker embedded in
# the agent, against rsyslog (imptcp -> omfile) fed by the same sender. Each side is timed
# from the sender's start until the last message is in its destination: for the agent, until
# the embedded broker has appended the last record (its MessagesInTotal metric, read from the
# agent's metrics endpoint every 10 ms by the shell itself, no process started); for rsyslog,
# until its output file has every byte (a stat every 10 ms). Then, outside the timing, both
# are checked whole: the topic must hold exactly CONNS x PER records (kcat reads them all)
# and a record must carry the parsed headers; rsyslog's file must have CONNS x PER lines.
# Also prints each process's CPU seconds (user + system) for the timed part.
#
# The machine's load moves between seconds, so the two run in ROUNDS alternating rounds
# (agent first in odd rounds, rsyslog first in even ones), each round's ratio is printed,
# and the verdict uses the median ratio.
#
#   bench/run_syslog.sh                  # 3 rounds of 4 connections x 250,000 messages
#   PER=100000 ROUNDS=5 bench/run_syslog.sh
#   FORMAT=5424 bench/run_syslog.sh      # RFC 5424 with one SD element per message
#
# Env: BENCH_DIR (scratch dir parent, default /tmp), PER, CONNS (4), SIZE (200), FORMAT
# (3164 | 5424), ROUNDS (3), BUILD_DIR (default build-bench), CAPACITY, TXCAP, LINGER,
# INPROCESS (true: the kafka sink hands batches to the embedded broker in-process; false:
# through librdkafka over TCP, as to a remote broker). The sender is bench/syslog_send.c
# (built here): it builds every message in memory before the clock starts and writes 256 KiB
# at a time, so it is not the bottleneck. Needs kcat and rsyslogd (without rsyslogd the
# comparison is skipped).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
base=${BENCH_DIR:-/tmp}
per=${PER:-250000}
conns=${CONNS:-4}
size=${SIZE:-200}
format=${FORMAT:-3164}
rounds=${ROUNDS:-3}
build=${BUILD_DIR:-$root/build-bench}
total=$((per * conns))

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target sluice syslog_send >/dev/null
sluice=$build/sluice
send=$build/syslog_send

. "$root/bench/lib.sh"
bench_scratch syslog

# The broker's MessagesInTotal from the agent's metrics endpoint on port $1, into $msgs_in;
# bash's /dev/tcp and builtins only, so polling costs the machine next to nothing.
broker_msgs_in() {
    msgs_in=0
    exec 5<>"/dev/tcp/127.0.0.1/$1" || return 0
    printf 'GET /metrics.json HTTP/1.0\r\n\r\n' >&5
    local line re='"MessagesInTotal": "([0-9]+)"'
    while IFS= read -r -u 5 line; do
        if [[ $line =~ $re ]]; then msgs_in=${BASH_REMATCH[1]}; fi
    done
    exec 5<&-
}

# One agent run; sets sluice_s, sluice_cpu, idle_rss, peak_rss.
run_sluice() {
    local dir=$work/agent-$1
    mkdir -p "$dir"
    local sy_port bport mport
    sy_port=$(free_port)
    bport=$(free_port)
    mport=$(free_port)
    cat > "$dir/agent.yaml" <<YAML
broker: {listeners: "PLAINTEXT://127.0.0.1:$bport", log.dirs: $dir/logs}
metrics: {port: $mport, bind: 127.0.0.1}
sources:
  r1: {type: syslog, protocol: tcp, bind: 127.0.0.1, port: $sy_port, channels: [c1]}
channels:
  c1: {type: memory, capacity: ${CAPACITY:-10000}, transactionCapacity: ${TXCAP:-1000}}
sinks:
  k1: {type: kafka, channel: c1, topic: bench, acks: 1, linger.ms: ${LINGER:-1}, batchSize: ${TXCAP:-1000}, embeddedInProcess: ${INPROCESS:-true}}
YAML
    "$sluice" agent -f "$dir/agent.yaml" 2> "$dir/agent.log" &
    local agent_pid=$!
    pids+=("$agent_pid")
    wait_port "$sy_port"
    wait_port "$bport"
    wait_port "$mport"
    sleep 1
    idle_rss=$(rss_kib "$agent_pid" VmRSS)
    local cpu0 t1
    cpu0=$(cpu_s "$agent_pid")
    "$send" "$sy_port" "$conns" "$per" "$size" "$format" > "$dir/t0" &
    local send_pid=$!
    local deadline=$(( $(date +%s) + 600 ))
    broker_msgs_in "$mport"
    while [ "$msgs_in" -lt "$total" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "agent: timed out at $msgs_in" >&2; exit 1; }
        sleep 0.01
        broker_msgs_in "$mport"
    done
    t1=$(now)
    sluice_cpu=$(echo "$(cpu_s "$agent_pid") - $cpu0" | bc -l)
    wait "$send_pid" || { echo "sender failed" >&2; exit 1; }
    peak_rss=$(rss_kib "$agent_pid" VmHWM)
    sluice_s=$(echo "$t1 - $(cat "$dir/t0")" | bc -l)
    # Checked whole, outside the timing: every record readable, the last at offset total-1,
    # nothing beyond it, and one record's parsed headers and body.
    local got last end
    got=$(kcat -b "127.0.0.1:$bport" -C -t bench -o beginning -c "$total" -q -f '%o\n' | wc -l)
    last=$(kcat -b "127.0.0.1:$bport" -C -t bench -o -1 -c 1 -e -q -f '%o\n')
    [ "$got" = "$total" ] || { echo "kcat read $got records, want $total" >&2; exit 1; }
    [ "$last" = "$((total - 1))" ] ||
        { echo "topic ends at offset $last, want $((total - 1))" >&2; exit 1; }
    kcat -b "127.0.0.1:$bport" -C -t bench -o -1 -c 1 -e -q -f '%h\n%s\n' > "$dir/sample"
    grep -q 'Facility=16,Severity=6,timestamp=' "$dir/sample" &&
        grep -q 'host=bench-host' "$dir/sample" ||
        { echo "unexpected record:"; cat "$dir/sample"; exit 1; } >&2
    kill -TERM "$agent_pid"
    wait "$agent_pid" || { echo "agent exited with $?" >&2; exit 1; }
    rm -rf "$dir"
}

# One rsyslog run; sets rsyslog_s, rsyslog_cpu.
run_rsyslog() {
    local dir=$work/rs-$1
    mkdir -p "$dir"
    local rs_port
    rs_port=$(free_port)
    # No imuxsock / imklog (nothing is loaded that the file does not name); a private pid
    # file and work directory, so it runs beside a system rsyslogd.
    cat > "$dir/rsyslog.conf" <<CONF
global(workDirectory="$dir")
module(load="imptcp")
input(type="imptcp" port="$rs_port" address="127.0.0.1")
template(name="raw" type="string" string="%rawmsg%\n")
action(type="omfile" file="$dir/out.log" template="raw")
CONF
    rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/pid" 2> "$dir/rsyslog.log" &
    local rs_pid=$!
    pids+=("$rs_pid")
    wait_port "$rs_port"
    sleep 0.5
    local rcpu0 t1 want=$((total * size))
    rcpu0=$(cpu_s "$rs_pid")
    "$send" "$rs_port" "$conns" "$per" "$size" "$format" > "$dir/t0" &
    local send_pid=$!
    local deadline=$(( $(date +%s) + 600 ))
    while ! [ -f "$dir/out.log" ] || [ "$(stat -c %s "$dir/out.log")" -lt "$want" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "rsyslog: timed out" >&2; exit 1; }
        sleep 0.01
    done
    t1=$(now)
    rsyslog_cpu=$(echo "$(cpu_s "$rs_pid") - $rcpu0" | bc -l)
    wait "$send_pid" || { echo "sender failed" >&2; exit 1; }
    rsyslog_s=$(echo "$t1 - $(cat "$dir/t0")" | bc -l)
    sleep 0.2
    local got
    got=$(wc -l < "$dir/out.log")
    [ "$got" = "$total" ] || { echo "rsyslog wrote $got lines, want $total" >&2; exit 1; }
    kill -TERM "$rs_pid"
    wait "$rs_pid" 2>/dev/null || true
    rm -rf "$dir"
}

have_rsyslog=
command -v rsyslogd >/dev/null && have_rsyslog=1
mb=$(echo "$total * $size / 1000000" | bc -l)
printf 'messages: %d x %d connections, %d B each, RFC %s (%.0f MB), %d rounds\n' "$per" \
    "$conns" "$size" "$format" "$mb" "$rounds"
printf 'sluice agent: syslog tcp -> memory -> kafka -> embedded broker (in-process: %s)\n' "${INPROCESS:-true}"
printf 'rsyslog: imptcp -> omfile\n'
ratios=()
for r in $(seq 1 "$rounds"); do
    if [ -n "$have_rsyslog" ] && [ $((r % 2)) = 0 ]; then
        run_rsyslog "$r"
        run_sluice "$r"
    else
        run_sluice "$r"
        [ -z "$have_rsyslog" ] || run_rsyslog "$r"
    fi
    printf 'round %d (%s UTC, load %s):\n' "$r" "$(date -u +%H:%M)" "$(cut -d' ' -f1 /proc/loadavg)"
    printf '  sluice   %.2f s  %.0f msg/s  %.1f MB/s  CPU %.2f s (%.2f s per million)  RSS idle %d KiB, peak %d KiB\n' \
        "$sluice_s" "$(echo "$total / $sluice_s" | bc -l)" "$(echo "$mb / $sluice_s" | bc -l)" \
        "$sluice_cpu" "$(echo "$sluice_cpu * 1000000 / $total" | bc -l)" "$idle_rss" "$peak_rss"
    if [ -n "$have_rsyslog" ]; then
        ratio=$(echo "$rsyslog_s / $sluice_s" | bc -l)
        ratios+=("$ratio")
        printf '  rsyslog  %.2f s  %.0f msg/s  %.1f MB/s  CPU %.2f s (%.2f s per million)\n' \
            "$rsyslog_s" "$(echo "$total / $rsyslog_s" | bc -l)" "$(echo "$mb / $rsyslog_s" | bc -l)" \
            "$rsyslog_cpu" "$(echo "$rsyslog_cpu * 1000000 / $total" | bc -l)"
        printf '  sluice / rsyslog: %.2fx\n' "$ratio"
    fi
done
if [ -n "$have_rsyslog" ]; then
    median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}')
    printf 'median sluice / rsyslog over %d rounds: %.2fx (target >= 1.5x)\n' "$rounds" "$median"
else
    echo "rsyslogd not installed: comparison skipped"
fi
