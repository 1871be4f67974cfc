#!/usr/bin/env bash
# DIEN training throughput, tinyrec (`tinyrec bench --model dien`) against its PyTorch twin
# (bench/dien_torch.py), single thread, at batch sizes 32, 128 and 1024 with every history of
# length 50 (the DIEN authors' Amazon setup keeps up to 100 behaviours; 50 is tinyrec's default
# --max-len). The two programs alternate over several rounds; prints the processor, the
# instruction set the build targets, and a table of medians with the ratio.
# Usage: bench/run_dien_bench.sh [rounds]     (default 3 rounds)
#   env: BUILD_DIR (default ./build), STEPS (timed steps at batch 32 and 128, default 100; a
#        quarter of that at 1024), TORCH_PYTHON (default /usr/bin/python3, Debian's
#        python3-torch), NO_BUILD=1 to use the tinyrec program already built, TINYREC (default
#        $BUILD_DIR/tinyrec), BASELINE=/path/to/another/tinyrec to time a second build in the same
#        rounds (a "before"; its column and ratio are added to the table).
# A measurement, not a test: exits 0 whichever is faster; non-zero if the build fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
rounds="${1:-3}"
steps="${STEPS:-100}"
tinyrec="${TINYREC:-$build/tinyrec}"
torch_python="${TORCH_PYTHON:-/usr/bin/python3}"
baseline="${BASELINE:-}"
max_len=50

# One thread everywhere: the machine is shared, and the comparison is a single-core one.
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

# What the numbers were measured on.
cpu="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
cpu+=" (family $(grep -m1 'cpu family' /proc/cpuinfo | sed 's/.*: //'),"
cpu+=" model $(grep -m1 '^model\s*:' /proc/cpuinfo | sed 's/.*: //'))"
cores="$(grep -c '^processor' /proc/cpuinfo)"  # not nproc: it obeys OMP_NUM_THREADS
isa="generic x86-64 (TINYREC_NATIVE=OFF)"
flags="$(sed -n 's/^CMAKE_CXX_FLAGS:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)"
if [[ "$flags" == *-march=* ]]; then isa="TINYREC_NATIVE=OFF, CMAKE_CXX_FLAGS=$flags"; fi
if grep -q '^TINYREC_NATIVE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  cxx="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")"
  macros="$("${cxx:-c++}" -march=native -dM -E -x c++ /dev/null 2>/dev/null || true)"
  isa="-march=native:"
  for m in AVX2 FMA AVX512F; do
    if grep -q "__${m}__ 1" <<<"$macros"; then isa+=" $m"; else isa+=" no-$m"; fi
  done
fi

have_torch=1
if ! "$torch_python" -c "import torch" 2>/dev/null; then
  have_torch=0
  echo "note: $torch_python cannot import torch; the PyTorch column will be empty" >&2
fi

out="$build/dien_bench.jsonl"
mkdir -p "$build"
: >"$out"
if ((have_torch)); then "$torch_python" "$root/bench/torch_platform.py" >>"$out"; fi
for ((r = 1; r <= rounds; ++r)); do
  echo "round $r/$rounds" >&2
  for batch in 32 128 1024; do
    s=$((batch >= 1024 ? (steps + 3) / 4 : steps))
    w=$((batch >= 1024 ? 3 : 10))
    "$tinyrec" bench --model dien --batch-size "$batch" --max-len "$max_len" --steps "$s" \
      --warmup "$w" | tee -a "$out"
    if [ -n "$baseline" ]; then
      "$baseline" bench --model dien --batch-size "$batch" --max-len "$max_len" --steps "$s" \
        --warmup "$w" | sed -e 's/"impl":"tinyrec",//' -e 's/^{/{"impl":"baseline",/' |
        tee -a "$out"
    fi
    if ((have_torch)); then
      "$torch_python" "$root/bench/dien_torch.py" --batch-size "$batch" --max-len "$max_len" \
        --steps "$s" --warmup "$w" | tee -a "$out"
    fi
  done
done >&2

"$torch_python" - "$out" "$cpu" "$isa" "$cores" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, statistics, sys

path, cpu, isa, cores, load = sys.argv[1:6]
rows = [json.loads(line) for line in open(path) if line.startswith("{") and "batch_size" in line]

def med(impl, batch):
    vals = [r["samples_per_second"] for r in rows
            if r.get("impl", "tinyrec") == impl and r["batch_size"] == batch]
    return (statistics.median(vals), len(vals)) if vals else (None, 0)

def fmt(v, digits=0):
    return "n/a" if v is None else f"{v:,.{digits}f}"

print(f"\nprocessor: {cpu}; {cores} logical cores, load average {load}")
print(f"build: {isa}; single thread")
has_base = any(r.get("impl") == "baseline" for r in rows)
print(f"\n{'DIEN, L = 50':<14}{'tinyrec/s':>12}{'PyTorch/s':>12}{'ratio':>8}"
      + (f"{'baseline/s':>12}{'ratio':>8}" if has_base else "") + "  runs")
for batch in (32, 128, 1024):
    (t, n), (p, _) = med("tinyrec", batch), med("pytorch", batch)
    ratio = None if t is None or not p else t / p
    line = f"{'batch ' + str(batch):<14}{fmt(t):>12}{fmt(p):>12}{fmt(ratio, 2) + 'x':>8}"
    if has_base:
        (q, _) = med("baseline", batch)
        line += f"{fmt(q):>12}{fmt(None if q is None or not p else q / p, 2) + 'x':>8}"
    print(line + f"  {n}")
print(f"\n(medians of the JSON lines in {path}; ratio = tinyrec / PyTorch, > 1 is tinyrec faster)")
PY
"$torch_python" "$root/bench/platform_summary.py" "$out"
