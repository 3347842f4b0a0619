#!/usr/bin/env bash
# Install every Debian 12 package that sluice's build, tests and benchmarks use, then
# configure and build. Idempotent: run it as often as you like.
#
#   scripts/setup.sh                      release build in build/
#   scripts/setup.sh --sanitize build-asan  ASan+UBSan build with -Werror in build-asan/
#
# SLUICE_SKIP_APT=1 skips the package step (for quick rebuilds on a prepared machine).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
while [ $# -gt 0 ]; do
    case "$1" in
    --sanitize)
        build_dir=${2:-build-asan}
        cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DSLUICE_WERROR=ON
                    -DSLUICE_SANITIZE=address,undefined)
        shift 2 || shift
        ;;
    *)
        echo "usage: $0 [--sanitize BUILD_DIR]" >&2
        exit 2
        ;;
    esac
done

packages=(
    # build
    build-essential cmake pkg-config
    # store/: compression codecs Kafka batches may use
    zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev
    # broker and agent: event loop, YAML configuration, Kafka client for the tools and sink
    libuv1-dev libyaml-dev librdkafka-dev
    # agent: the metrics HTTP endpoint; PCRE2 (interceptors, multiline); JSON (tail
    # position files)
    libmicrohttpd-dev libpcre2-dev libjansson-dev
    # unit tests; clang and its runtime for the libFuzzer runs
    libcmocka-dev clang libclang-rt-14-dev
    # integration tests: Debian's python3 with independent Kafka client libraries
    python3 python3-pytest python3-kafka python3-lz4 python3-snappy python3-zstandard
    python3-confluent-kafka kcat netcat-openbsd bsdutils
    # benchmarks: dd and lscpu, bc, and rsyslog to compare the agent with
    coreutils util-linux bc rsyslog
)

if [ "${SLUICE_SKIP_APT:-0}" != 1 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        sudo=sudo
    else
        sudo=
    fi
    missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        $sudo apt-get update
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends \
            "${packages[@]}"
    fi
fi

cmake -S . -B "$build_dir" "${cmake_args[@]}"
cmake --build "$build_dir" -j "$(nproc)"
