#!/usr/bin/env bash
# run_store.sh - build bench_store (Release, into build-bench/) and run it in a fresh scratch
# directory on the disk to measure. bench_store runs the dd baseline itself
# (`dd if=/dev/zero of=DIR/ddfile bs=16k count=N`, buffered, same size) right before each
# append run, so every append/dd ratio compares two runs made under the same conditions.
#
#   bench/run_store.sh                     # scratch dir under /tmp
#   BENCH_DIR=/data bench/run_store.sh     # measure another disk
#   SIZE_MIB=128 REPS=1 bench/run_store.sh --recover-mib 64 --no-cold   # quick check
#
# Env: BENCH_DIR (default /tmp), SIZE_MIB (bytes per append and dd run, default 1024), REPS
# (runs per figure, the median is shown, default 5). Extra arguments go to bench_store
# (bench_store --help). Needs about 2 x SIZE_MIB + 1.3 GiB free; deletes what it wrote.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
base=${BENCH_DIR:-/tmp}
size_mib=${SIZE_MIB:-1024}
reps=${REPS:-5}

cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build-bench" -j"$(nproc)" --target bench_store >/dev/null

work=$(mktemp -d "$base/sluice-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

need_mib=$(( 2 * size_mib + 1024 + 256 ))
avail_mib=$(df -Pm "$work" | awk 'NR == 2 { print $4 }')
if (( avail_mib < need_mib )); then
    echo "run_store.sh: $work has $avail_mib MiB free, needs about $need_mib MiB" >&2
    exit 1
fi

echo "== machine =="
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "cpu:       $(nproc) x $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
echo "ram:       $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "bench dir: $work ($(df -PT "$work" | awk 'NR == 2 { print $2 " on " $1 }'))"
echo "kernel:    $(uname -r)"
echo "dirty:     vm.dirty_background_ratio=$(cat /proc/sys/vm/dirty_background_ratio)" \
     "vm.dirty_ratio=$(cat /proc/sys/vm/dirty_ratio)"
echo

"$root/build-bench/bench_store" --size-mib "$size_mib" --reps "$reps" "$@" "$work"
