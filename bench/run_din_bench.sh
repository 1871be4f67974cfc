#!/usr/bin/env bash
# DIN training throughput, tinyrec (`tinyrec bench --model din`) against its PyTorch twin
# (bench/din_torch.py), single thread, history length 50, at batch sizes 32, 128 and 1024. The two
# alternate over several rounds (the machine may be shared); the script prints the medians, the
# median ratio of back-to-back pairs, and what the figures ran on (processor, the build's
# instruction set, OpenBLAS's kernel on both sides).
# Usage: bash bench/run_din_bench.sh [rounds]     (default 5)
#   env: BUILD_DIR (default ./build), STEPS (timed steps per run, default 200; a quarter at batch
#        1024), BATCHES (default "32 128 1024"), TORCH_PYTHON (default /usr/bin/python3),
#        NO_BUILD=1 to use the program already built, TINYREC (default $BUILD_DIR/tinyrec),
#        BASELINE=/path/to/another/tinyrec to time a second build in the same rounds (a "before").
# Targets (issue 13): tinyrec >= 2.5x the twin at batch 32, >= 1.5x at batch 1024. Exits 0 when a
# target is missed: it measures, it does not test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
rounds="${1:-5}"
steps="${STEPS:-200}"
batches="${BATCHES:-32 128 1024}"
tinyrec="${TINYREC:-$build/tinyrec}"
baseline="${BASELINE:-}"
torch_python="${TORCH_PYTHON:-/usr/bin/python3}"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

if [ "${NO_BUILD:-0}" != 1 ]; then
  echo "building tinyrec in $build" >&2
  cmake --build "$build" --target tinyrec_cli -j 2 >/dev/null
fi

out="$build/din_bench.jsonl"
: >"$out"
"$torch_python" "$root/bench/torch_platform.py" >>"$out"
for ((r = 1; r <= rounds; ++r)); do
  echo "round $r/$rounds" >&2
  for b in $batches; do
    s=$((b >= 1024 ? steps / 4 : steps))
    "$tinyrec" bench --model din --batch-size "$b" --max-len 50 --steps "$s" | tee -a "$out"
    "$torch_python" "$root/bench/din_torch.py" --batch-size "$b" --max-len 50 --steps "$s" |
      tee -a "$out"
    if [ -n "$baseline" ]; then
      "$baseline" bench --model din --batch-size "$b" --max-len 50 --steps "$s" |
        sed -e 's/"impl":"tinyrec",//' -e 's/^{/{"impl":"baseline",/' | tee -a "$out"
    fi
  done
done >&2

"$torch_python" - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
rows = [r for r in rows if "samples_per_second" in r]
targets = {32: 2.5, 1024: 1.5}

def impl(r):
    return r.get("impl", "tinyrec")

def sps(b, who):
    return [r["samples_per_second"] for r in rows if r["batch_size"] == b and impl(r) == who]

has_base = any(impl(r) == "baseline" for r in rows)
head = f"{'batch':<6} {'tinyrec/s':>10} {'pytorch/s':>10} {'ratio':>7} {'pairs':>7}"
print(head + (f" {'baseline/s':>10} {'ratio':>7}" if has_base else "") + "  target")
for b in dict.fromkeys(r["batch_size"] for r in rows):
    ours, theirs = sps(b, "tinyrec"), sps(b, "pytorch")
    # Each tinyrec run is followed by its twin's, under the same load: read the pairs' ratios.
    ratio = statistics.median(x / y for x, y in zip(ours, theirs))
    line = (f"{b:<6} {statistics.median(ours):10.0f} {statistics.median(theirs):10.0f} "
            f"{ratio:6.2f}x {len(theirs):7d}")
    if has_base:
        base = sps(b, "baseline")
        line += f" {statistics.median(base):10.0f} {statistics.median(x / y for x, y in zip(base, theirs)):6.2f}x"
    goal = targets.get(b)
    line += f"  {'>= %.1fx %s' % (goal, 'ok' if ratio >= goal else 'MISSED') if goal else ''}"
    print(line)
PY
"$torch_python" "$root/bench/platform_summary.py" "$out"
