#!/usr/bin/env bash
# Configures and builds tinyrec into ./build (Release), installing dependencies first if needed.
# With arguments, builds only those targets (cli/run.sh: the `tinyrec` program and its library).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/.ci/deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$root/build" -j "$(nproc)" "${targets[@]}"
