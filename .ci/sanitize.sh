#!/usr/bin/env bash
# The sanitizer preset: the library, the `tinyrec` program and every test built by clang with
# AddressSanitizer and UndefinedBehaviorSanitizer (and the fuzz programs, instrumented for
# libFuzzer); the unit tests and every documented command run under them, the documented commands
# on TINYREC_DOCS_STEPS_PER_EPOCH steps an epoch (default 4); then a short fuzz run of every reader
# (FUZZ_SECONDS each, default 30). The tutorial programs, which must train whole to check their
# claims, run in the normal stages only.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/.ci/deps.sh" sanitize
build="$root/build-sanitize"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
  -DTINYREC_SANITIZE=ON -DTINYREC_FUZZ=ON -DTINYREC_BUILD_BENCH=OFF \
  -DTINYREC_BUILD_TUTORIALS=OFF >/dev/null
SECONDS=0
cmake --build "$build" -j "$(nproc)"
echo "sanitize: build in ${SECONDS} s"
# A small quarantine: ASan keeps freed blocks aside to catch use after free, and its default 256 MB
# would look like growth to the tests that check resident memory stays flat over many steps.
export ASAN_OPTIONS="quarantine_size_mb=8${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export TINYREC_DOCS_STEPS_PER_EPOCH="${TINYREC_DOCS_STEPS_PER_EPOCH:-4}"
SECONDS=0
(cd "$build" && ctest --output-on-failure -j "$(nproc)")
echo "sanitize: suite in ${SECONDS} s"
SECONDS=0
bash "$root/tests/fuzz/run.sh" "$build" "${FUZZ_SECONDS:-30}"
echo "sanitize: fuzzing in ${SECONDS} s"
