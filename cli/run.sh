#!/usr/bin/env bash
# Builds tinyrec (installing what is missing) and runs the `tinyrec` program with the given arguments.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/.ci/build.sh" >&2
exec "$root/build/tinyrec" "$@"
