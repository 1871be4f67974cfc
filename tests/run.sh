#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test and tutorial through CTest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/.ci/build.sh"
cd "$root/build"
ctest --output-on-failure -j "$(nproc)"
