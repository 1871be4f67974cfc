#!/usr/bin/env bash
# Builds the `tinyrec` program (installing what is missing; not the tests, benchmarks or tutorials)
# and runs it with the given arguments.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/.ci/build.sh" tinyrec_cli >&2
exec "$root/build/tinyrec" "$@"
