#!/usr/bin/env bash
# STAMP (and STMP) training throughput, tinyrec (`tinyrec bench --model stamp`) against its PyTorch
# twin (bench/stamp_torch.py), single thread, at the issue's sizes: edim 100, 40,000 items,
# sessions of 20 clicks, batch 512. The two alternate over several rounds; the script prints the
# medians, the ratio and `ok` or `MISSED` against the target (tinyrec >= 1.5x the twin's samples/s).
# Usage: bash bench/run_stamp_bench.sh [rounds]     (default 5)
#   env: BUILD_DIR (default ./build), STEPS (timed steps per run, default 20), MODELS (default
#        "stamp stmp"), TORCH_PYTHON (default /usr/bin/python3), NO_BUILD=1 to use the program
#        already built. Exits 0 when the target is missed: it measures, it does not test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
rounds="${1:-5}"
steps="${STEPS:-20}"
models="${MODELS:-stamp stmp}"
torch_python="${TORCH_PYTHON:-/usr/bin/python3}"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

if [ "${NO_BUILD:-0}" != 1 ]; then
  echo "building tinyrec in $build" >&2
  cmake --build "$build" --target tinyrec_cli -j 2 >/dev/null
fi

out="$build/stamp_bench.jsonl"
: >"$out"
for ((r = 1; r <= rounds; ++r)); do
  echo "round $r/$rounds" >&2
  for m in $models; do
    "$build/tinyrec" bench --model "$m" --batch-size 512 --max-len 20 --steps "$steps" --warmup 3 |
      tee -a "$out"
    "$torch_python" "$root/bench/stamp_torch.py" --model "$m" --batch-size 512 --max-len 20 \
      --items 40000 --edim 100 --steps "$steps" --warmup 3 | tee -a "$out"
  done
done >&2

python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"{'model':<6} {'tinyrec/s':>10} {'pytorch/s':>10} {'ratio':>7}  target 1.5x")
for m in dict.fromkeys(r["model"] for r in rows):
    ours = statistics.median(r["samples_per_second"] for r in rows
                             if r["model"] == m and r.get("impl") != "pytorch")
    theirs = statistics.median(r["samples_per_second"] for r in rows
                               if r["model"] == m and r.get("impl") == "pytorch")
    ratio = ours / theirs
    print(f"{m:<6} {ours:10.0f} {theirs:10.0f} {ratio:6.2f}x  {'ok' if ratio >= 1.5 else 'MISSED'}")
PY
