#!/usr/bin/env bash
# Times MMoE training steps in tinyrec (`tinyrec bench --model mmoe`) and in its PyTorch twin
# (bench/mmoe_torch.py) at batch 128 and 1024, single-threaded, alternating the two over several
# rounds, then prints the medians, tinyrec's speed-up against the target (4x at batch 128, issue
# 13) and what the figures ran on (processor, the build's instruction set, OpenBLAS's kernel).
# Usage: bench/run_mmoe_bench.sh [rounds]
#   env: BUILD_DIR (default ./build), STEPS (timed steps per run, default 300), TORCH_PYTHON
#        (default /usr/bin/python3), NO_BUILD=1 to use the tinyrec program already built,
#        TINYREC (default $BUILD_DIR/tinyrec), BASELINE=/path/to/another/tinyrec to time a second
#        build in the same rounds (a "before").
# Exits 0 when the target is missed (it is a measurement, not a test); non-zero if a build fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
rounds="${1:-5}"
steps="${STEPS:-300}"
tinyrec="${TINYREC:-$build/tinyrec}"
baseline="${BASELINE:-}"
# Debian's python3-torch (PyTorch 1.13) lives with the system interpreter, not a venv's python3.
torch_python="${TORCH_PYTHON:-/usr/bin/python3}"

# One thread everywhere: the machine is shared, and the target is a single-core figure.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

if [ "${NO_BUILD:-0}" != 1 ]; then
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$log" 2>&1 || {
      cat "$log" >&2
      exit 1
    }
  fi
  echo "building tinyrec in $build" >&2
  cmake --build "$build" --target tinyrec_cli -j 2 >"$log" 2>&1 || {
    tail -n 40 "$log" >&2
    echo "build failed (last 40 lines of its log above)" >&2
    exit 1
  }
fi

have_torch=1
if ! "$torch_python" -c "import torch" 2>/dev/null; then
  have_torch=0
  echo "note: $torch_python cannot import torch; the PyTorch column will be empty" >&2
fi

out="$build/mmoe_bench.jsonl"
mkdir -p "$build"
: >"$out"
if ((have_torch)); then "$torch_python" "$root/bench/torch_platform.py" >>"$out"; fi
for ((r = 1; r <= rounds; ++r)); do
  echo "round $r/$rounds" >&2
  for batch in 128 1024; do
    "$tinyrec" bench --model mmoe --batch-size "$batch" --steps "$steps" | tee -a "$out"
    if ((have_torch)); then
      "$torch_python" "$root/bench/mmoe_torch.py" --batch-size "$batch" --steps "$steps" |
        tee -a "$out"
    fi
    if [ -n "$baseline" ]; then
      "$baseline" bench --model mmoe --batch-size "$batch" --steps "$steps" |
        sed -e 's/"impl":"tinyrec",//' -e 's/^{/{"impl":"baseline",/' | tee -a "$out"
    fi
  done
done >&2

python3 - "$out" <<'PY'
import json, statistics, sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
rows = [r for r in rows if "samples_per_second" in r]

def med(impl, batch):
    vals = [r["samples_per_second"] for r in rows
            if r.get("impl", "tinyrec") == impl and r["batch_size"] == batch]
    return statistics.median(vals) if vals else None

def fmt(v, digits=0):
    return "n/a" if v is None else f"{v:,.{digits}f}"

print()
has_base = any(r.get("impl") == "baseline" for r in rows)
print(f"{'MMoE, samples/s':<18}{'tinyrec':>12}{'PyTorch':>12}{'ratio':>8}"
      + (f"{'baseline':>12}{'ratio':>8}" if has_base else "") + "  target")
missed = False
for batch in (128, 1024):
    t, p = med("tinyrec", batch), med("pytorch", batch)
    ratio = None if t is None or not p else t / p
    goal = ">= 4x" if batch == 128 else "(reference)"
    status = ""
    if batch == 128 and ratio is not None:
        status = "ok" if ratio >= 4 else "MISSED"
        missed = ratio < 4
    base = ""
    if has_base:
        b = med("baseline", batch)
        base = f"{fmt(b):>12}{fmt(None if b is None or not p else b / p, 2) + 'x':>8}"
    print(f"{'batch ' + str(batch):<18}{fmt(t):>12}{fmt(p):>12}{fmt(ratio, 2) + 'x':>8}{base}  {goal} {status}")
print(f"\n(medians of {len(rows)} JSON lines in {sys.argv[1]}; single thread)")
print("target MISSED" if missed else "target met")
PY
python3 "$root/bench/platform_summary.py" "$out"
