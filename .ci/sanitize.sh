#!/usr/bin/env bash
# The sanitizer preset: tinyrec, every test and tutorial built by clang with AddressSanitizer and
# UndefinedBehaviorSanitizer (and the fuzz programs, instrumented for libFuzzer), the whole suite
# run under them, then a short fuzz run of every reader (FUZZ_SECONDS each, default 60).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/.ci/deps.sh"
# clang and its runtimes (ASan, UBSan, libFuzzer): Debian 12 ships the runtimes in libclang-rt-dev,
# which clang only recommends.
if ! command -v clang++ >/dev/null ||
    ! dpkg-query -W -f='${Status}' libclang-rt-dev 2>/dev/null | grep -q "install ok installed"; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq clang libclang-rt-dev
fi
build="$root/build-sanitize"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
  -DTINYREC_SANITIZE=ON -DTINYREC_FUZZ=ON -DTINYREC_BUILD_BENCH=OFF >/dev/null
SECONDS=0
cmake --build "$build" -j "$(nproc)"
echo "sanitize: build in ${SECONDS} s"
# A small quarantine: ASan keeps freed blocks aside to catch use after free, and its default 256 MB
# would look like growth to the tests that check resident memory stays flat over many steps.
export ASAN_OPTIONS="quarantine_size_mb=8${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
SECONDS=0
(cd "$build" && ctest --output-on-failure -j "$(nproc)")
echo "sanitize: suite in ${SECONDS} s"
SECONDS=0
bash "$root/tests/fuzz/run.sh" "$build" "${FUZZ_SECONDS:-60}"
echo "sanitize: fuzzing in ${SECONDS} s"
