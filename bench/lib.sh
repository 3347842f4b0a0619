# bench/lib.sh - shell helpers the benchmark scripts share (sourced, not run).

# A free TCP port on 127.0.0.1.
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# Wait up to 20 s for something to listen on 127.0.0.1:$1.
wait_port() {
    for _ in $(seq 1 400); do
        if (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "nothing listening on $1" >&2
    return 1
}
now() { date +%s.%N; }
# CPU seconds (user + system) process $1 has used so far.
cpu_s() {
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}
# Field $2 (VmRSS, VmHWM, ...) of process $1's status, in KiB.
rss_kib() { awk "/^$2:/ {print \$2}" "/proc/$1/status"; }
# A scratch directory $base/sluice-bench-$1.XXXXXX in $work, removed on exit after every
# process whose PID the script added to $pids was killed and waited for.
bench_scratch() {
    work=$(mktemp -d "$base/sluice-bench-$1.XXXXXX")
    pids=()
    trap bench_cleanup EXIT
}
bench_cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
