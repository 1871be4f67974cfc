#!/usr/bin/env bash
# SIM: parity with its PyTorch twin, training throughput side by side, and the cost per sample as
# the history grows. Single thread.
#   1. parity: tinyrec trains SIM (hard search) briefly on the long synthetic data with histories
#      of 1,000 behaviours, `bench_sim_bench dump` scores 512 test rows and writes their whole
#      histories, and bench/sim_torch.py loads the checkpoint, runs its own hard search and scores
#      them (float32 and float64); it fails above 1e-5.
#   2. throughput: `bench_sim_bench train` and `sim_torch.py` (hard search, K = 50, history 1,000,
#      batch 128, Adam) alternate over the rounds; medians and the ratio.
#   3. cost: `bench_sim_bench cost`: microseconds per sample for L = 100 ... 10,000 (SIM hard, SIM
#      soft, DIN over the whole history), scoring and a training step, batch 32.
# Usage: bench/run_sim_bench.sh [rounds]     (default 3)
#   env: BUILD_DIR (default ./build), STEPS (timed steps per round, default 60), TORCH_PYTHON
#        (default /usr/bin/python3), NO_BUILD=1 to use what is built, COST=0 to skip step 3.
# A measurement: exits 0 whichever is faster; non-zero if the build or the parity check fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
rounds="${1:-3}"
steps="${STEPS:-60}"
torch_python="${TORCH_PYTHON:-/usr/bin/python3}"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

if [ "${NO_BUILD:-0}" != 1 ]; then
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$log"
  echo "building tinyrec and bench_sim_bench in $build" >&2
  cmake --build "$build" --target tinyrec_cli bench_sim_bench -j 2 >"$log" 2>&1 || {
    tail -n 40 "$log" >&2
    exit 1
  }
fi
cpu="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
work="$build/sim_bench"
rm -rf "$work" && mkdir -p "$work"

echo "== parity ==" >&2
"$build/tinyrec" train --model sim --dataset long --users 200 --hist-len-min 1000 \
  --hist-len-max 1000 --epochs 1 --out "$work/run" --quiet >/dev/null
"$build/bench_sim_bench" dump "$work/run/checkpoint" "$work/rows" 512 >&2
"$torch_python" "$root/bench/sim_torch.py" --data "$work/rows" --checkpoint "$work/run/checkpoint" \
  | tee "$work/parity.jsonl"
"$torch_python" "$root/bench/sim_torch.py" --data "$work/rows" --checkpoint "$work/run/checkpoint" \
  --double | tee -a "$work/parity.jsonl"

echo "== training throughput ==" >&2
out="$work/throughput.jsonl"
"$torch_python" "$root/bench/torch_platform.py" >>"$out"
for ((r = 1; r <= rounds; ++r)); do
  echo "round $r/$rounds" >&2
  "$build/bench_sim_bench" train "$steps" 128 5 | tee -a "$out" >&2
  "$torch_python" "$root/bench/sim_torch.py" --data "$work/rows" --steps "$((steps / 2))" \
    --warmup 3 | tee -a "$out" >&2
done
if [ "${COST:-1}" != 0 ]; then
  echo "== cost against history length ==" >&2
  "$build/bench_sim_bench" cost 3 32 | tee "$work/cost.jsonl" >&2
fi

"$torch_python" - "$work" "$cpu" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, os, statistics, sys

work, cpu, load = sys.argv[1:4]
read = lambda name: [json.loads(l) for l in open(os.path.join(work, name)) if l.startswith("{")] \
    if os.path.exists(os.path.join(work, name)) else []
print(f"\nprocessor: {cpu}; load average {load}; single thread")
for p in read("parity.jsonl"):
    print(f"parity ({p['dtype']}, {p['rows']} rows): max |p_tinyrec - p_twin| = "
          f"{p['max_abs_difference']:.2e} ({'ok' if p['ok'] else 'FAILED'})")
rows = [r for r in read("throughput.jsonl") if "samples_per_second" in r]
t = statistics.median(r["samples_per_second"] for r in rows if r["impl"] == "tinyrec")
p = statistics.median(r["samples_per_second"] for r in rows if r["impl"] == "pytorch")
print(f"\nSIM training, hard search, K = 50, history 1,000, batch 128 (medians of "
      f"{len(rows) // 2} rounds)")
print(f"tinyrec {t:,.0f} samples/s, PyTorch {p:,.0f} samples/s, ratio {t / p:.2f}x")
cost = read("cost.jsonl")
if cost:
    lengths = sorted({c["history"] for c in cost})
    for mode in ("inference", "training"):
        print(f"\nmicroseconds per sample, {mode} (batch 32)")
        print("| model | " + " | ".join(f"L = {L:,}" for L in lengths) + " |")
        print("| --- |" + " --- |" * len(lengths))
        for model in ("sim_hard", "sim_soft", "din_whole_history"):
            v = {c["history"]: c["us_per_sample"] for c in cost
                 if c["model"] == model and c["mode"] == mode}
            print(f"| {model} | " + " | ".join(f"{v[L]:,.0f}" for L in lengths) + " |")
PY
"$torch_python" "$root/bench/platform_summary.py" "$work/throughput.jsonl"
