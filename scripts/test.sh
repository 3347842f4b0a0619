#!/usr/bin/env bash
# Install what is needed, build sluice with AddressSanitizer + UndefinedBehaviorSanitizer and
# -Werror, then run the whole test suite: unit tests (cmocka, through ctest) and integration
# tests (pytest under Debian's /usr/bin/python3, against the real binary).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${SLUICE_TEST_BUILD:-build-asan}
scripts/setup.sh --sanitize "$build_dir"

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

status=0
(cd "$build_dir" && ctest --output-on-failure -j "$(nproc)") || status=1

# A short libFuzzer run of every fuzz target (request decoder, record batch reader), on a
# clang build of its own; the seed corpora were already replayed by ctest above.
if [ "${SLUICE_SKIP_FUZZ:-0}" != 1 ]; then
    CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSLUICE_FUZZ=ON \
        -DSLUICE_SANITIZE=address,undefined >/dev/null
    fuzz_targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
    # shellcheck disable=SC2086
    cmake --build build-fuzz -j "$(nproc)" --target $fuzz_targets >/dev/null
    (cd build-fuzz && ctest -L fuzz-run --output-on-failure) || status=1
fi

export SLUICE_BIN="$PWD/$build_dir/sluice"
set +e
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration
rc=$?
set -e
# pytest exit 5 means "no tests collected": that is a broken suite, not a pass.
if [ $rc -ne 0 ]; then
    status=1
fi
exit $status
