#!/usr/bin/env bash
# DIN training throughput, tinyrec against its PyTorch twin (bench/din_torch.py), single thread,
# at batch sizes 32, 128 and 1024 with history length 50. Prints both JSON lines and the ratio.
# Usage: bash bench/run_din_bench.sh [STEPS]   (needs Debian's python3-torch for the twin)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-200}"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
cmake --build "$root/build" --target tinyrec_cli >/dev/null
printf '%-6s %14s %14s %8s\n' batch tinyrec/s pytorch/s ratio
for b in 32 128 1024; do
  s=$(( b >= 1024 ? steps / 4 : steps ))
  ours=$("$root/build/tinyrec" bench --model din --batch-size "$b" --max-len 50 --steps "$s")
  theirs=$(/usr/bin/python3 "$root/bench/din_torch.py" --batch-size "$b" --max-len 50 --steps "$s")
  echo "$ours" >&2
  echo "$theirs" >&2
  /usr/bin/python3 - "$ours" "$theirs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{a['batch_size']:<6} {a['samples_per_second']:14.0f} {b['samples_per_second']:14.0f} "
      f"{a['samples_per_second'] / b['samples_per_second']:7.2f}x")
PY
done
