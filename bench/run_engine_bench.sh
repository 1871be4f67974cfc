#!/usr/bin/env bash
# Builds and runs the engine benchmarks (per-op overhead, 1024² matmul) and their PyTorch twin,
# alternating the two over several rounds, then prints a table of medians against the targets.
# Usage: bench/run_engine_bench.sh [rounds]
#   env: BUILD_DIR (default ./build), REPS (default 9), TORCH_PYTHON (default /usr/bin/python3),
#        NO_BUILD=1 to run the bench_* programs already in BUILD_DIR, BASELINE=/path/to/another
#        bench_engine_overhead to time a second build in the same rounds (a "before").
# Prints what the figures ran on: processor, the build's instruction set, OpenBLAS's kernel.
# Exits 0 when a target is missed (it is a measurement, not a test); non-zero if a build fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
rounds="${1:-3}"
reps="${REPS:-9}"
# Debian's python3-torch (PyTorch 1.13) lives with the system interpreter, not a venv's python3.
torch_python="${TORCH_PYTHON:-/usr/bin/python3}"

# One thread everywhere: the machine is shared, and the targets are single-core figures.
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
  echo "building bench_engine_overhead bench_engine_matmul in $build" >&2
  cmake --build "$build" --target bench_engine_overhead bench_engine_matmul -j 2 >"$log" 2>&1 || {
    tail -n 40 "$log" >&2
    echo "build failed (last 40 lines of its log above)" >&2
    exit 1
  }
fi

have_torch=1
if ! "$torch_python" -c "import torch" 2>/dev/null; then
  have_torch=0
  echo "note: $torch_python cannot import torch; PyTorch columns will be empty" >&2
fi

out="$build/engine_bench.jsonl"
: >"$out"
if ((have_torch)); then "$torch_python" "$root/bench/torch_platform.py" >>"$out"; fi
for ((r = 1; r <= rounds; ++r)); do
  echo "round $r/$rounds" >&2
  "$build/bench_engine_overhead" "$reps" | tee -a "$out"
  if [ -n "${BASELINE:-}" ]; then
    "$BASELINE" "$reps" | sed 's/"impl":"tinyrec"/"impl":"baseline"/' | tee -a "$out"
  fi
  if ((have_torch)); then
    "$torch_python" "$root/bench/engine_overhead_torch.py" "$reps" --only overhead |
      tee -a "$out"
  fi
  "$build/bench_engine_matmul" "$reps" | tee -a "$out"
  if ((have_torch)); then
    "$torch_python" "$root/bench/engine_overhead_torch.py" "$reps" --only matmul |
      tee -a "$out"
  fi
done >&2

"$torch_python" - "$out" <<'PY'
import json, statistics, sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{") and "bench" in line]

def values(bench, impl, key):
    return [r[key] for r in rows if r["bench"] == bench and r["impl"] == impl and key in r]

def med(bench, impl, key):
    v = values(bench, impl, key)
    return statistics.median(v) if v else None

def best(bench, impl, key):
    v = values(bench, impl, key)
    return min(v) if v else None

def fmt(v, digits=2):
    return "n/a" if v is None else f"{v:.{digits}f}"

def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b

# tinyrec and PyTorch are medians over rounds of per-round medians; "best" is the fastest
# repetition seen, a floor that shows how much the shared machine added; "cpu" is tinyrec's own
# processor time per op (wall-clock time less the time other jobs had the core).
print()
has_base = any(r["impl"] == "baseline" for r in rows)
print(f"{'case':<24}{'tinyrec':>9}{'best':>8}{'cpu':>8}{'PyTorch':>9}{'tr/PyT':>8}"
      + (f"{'baseline':>9}" if has_base else "") + f"  {'target':<32}status")
missed = 0
for bench, unit, target in [("add4x4_chain", "us/op", 1.0), ("add4x4_lone", "us/iter", 1.0),
                            ("add4x4_nograd", "us/op", None)]:
    t, p = med(bench, "tinyrec", "us_per_op"), med(bench, "pytorch", "us_per_op")
    b = best(bench, "tinyrec", "best_us_per_op")
    if target is None:
        goal, status = "(reference, no tape)", ""
    else:
        goal = f"< {target:g} us"
        status = "n/a" if t is None else ("ok" if t < target else "MISSED")
    missed += status == "MISSED"
    base = f"{fmt(med(bench, 'baseline', 'us_per_op')):>9}" if has_base else ""
    c = med(bench, "tinyrec", "cpu_us_per_op")
    print(f"{bench + ' ' + unit:<24}{fmt(t):>9}{fmt(b):>8}{fmt(c):>8}{fmt(p):>9}{fmt(ratio(t, p)):>8}{base}  "
          f"{goal:<32}{status}")

bench = "matmul1024_fwd_bwd"
t, p = med(bench, "tinyrec", "ms"), med(bench, "pytorch", "ms")
r, rb = med(bench, "tinyrec", "ratio_vs_raw"), best(bench, "tinyrec", "best_ratio")
raw = med("sgemm1024_x3", "openblas", "ms")
status = "n/a" if r is None else ("ok" if r <= 1.25 else "MISSED")
missed += status == "MISSED"
goal = f"{fmt(r, 3)}x raw sgemm x3 (<= 1.25x)"
print(f"{'matmul1024 fwd+bwd ms':<24}{fmt(t, 1):>9}{'':>16}{fmt(p, 1):>9}{fmt(ratio(t, p)):>8}"
      f"{' ' * 9 if has_base else ''}  "
      f"{goal:<32}{status}")
print(f"\nraw sgemm x3: {fmt(raw, 1)} ms; tinyrec matmul / raw: median {fmt(r, 3)}x, best "
      f"{fmt(rb, 3)}x (efficiency {fmt(None if r is None else 100 / r, 0)}%); PyTorch / its own "
      f"three torch.mm: {fmt(med(bench, 'pytorch', 'ratio_vs_raw'), 3)}x")
print(f"{len(rows)} measurements in {sys.argv[1]}")
print("all targets met" if not missed else f"{missed} target(s) MISSED")
PY
"$torch_python" "$root/bench/platform_summary.py" "$out"
