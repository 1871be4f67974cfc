#!/usr/bin/env bash
# Installs the built tinyrec into a scratch prefix, then configures, builds and runs a consumer
# project that uses find_package(tinyrec) and links tinyrec::tinyrec.
set -euo pipefail
build="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
# The consumer uses the compiler tinyrec was built with (clang for the sanitizer build).
cxx="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")"
cmake -S "$here" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" \
  ${cxx:+-DCMAKE_CXX_COMPILER="$cxx"} >/dev/null
cmake --build "$scratch/build" >/dev/null
"$scratch/build/consumer"
