#!/usr/bin/env bash
# STAMP (and STMP) training throughput, tinyrec (`tinyrec bench --model stamp`) against its PyTorch
# twin (bench/stamp_torch.py), single thread, at the issue's sizes: edim 100, 40,000 items,
# sessions of 20 clicks, batch 512. The two alternate over several rounds; the script prints the
# medians, the median ratio of back-to-back pairs and `ok` or `MISSED` against the target (tinyrec >= 1.5x the twin's samples/s).
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
"$torch_python" "$root/bench/torch_platform.py" >>"$out"
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
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip() and "samples_per_second" in l]
# Each tinyrec line is followed by its twin's: a pair ran back to back under the same load, so
# the median of the pairs' ratios is the figure to read on a shared machine.
print(f"{'model':<6} {'tinyrec/s':>10} {'pytorch/s':>10} {'ratio':>7} {'pairs':>7}  target 1.5x")
for m in dict.fromkeys(r["model"] for r in rows):
    mine = [r for r in rows if r["model"] == m]
    ours = [r["samples_per_second"] for r in mine if r.get("impl") != "pytorch"]
    theirs = [r["samples_per_second"] for r in mine if r.get("impl") == "pytorch"]
    ratio = statistics.median(a / b for a, b in zip(ours, theirs))
    print(f"{m:<6} {statistics.median(ours):10.0f} {statistics.median(theirs):10.0f} "
          f"{ratio:6.2f}x {len(theirs):7d}  {'ok' if ratio >= 1.5 else 'MISSED'}")
PY
"$torch_python" "$root/bench/platform_summary.py" "$out"
