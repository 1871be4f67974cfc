#!/usr/bin/env bash
# Every model against its PyTorch twin, in one run: each twin loads a tinyrec checkpoint and
# predicts the same rows (within 1e-5), and takes the same training steps from the same start
# (losses within 1e-4 relative); then a table of the figures.
#
#   bench/run_parity.sh            # all: ctr (base, din), multitask (shared_bottom, omoe, mmoe, ple,
#                                  # esmm), dien, sim, stamp, melu
#   ONLY="ctr multitask" bench/run_parity.sh
#
# Needs PyTorch (`/usr/bin/python3` with python3-torch; TORCH_PYTHON=... for another): not part of
# CI. Builds tinyrec and the bench programs the scripts use in ./build (BUILD_DIR=..., NO_BUILD=1
# to run what is there). Real data, where given: MOVIELENS=DIR (ratings.csv and movies.csv, as
# data/get_movielens.sh writes them) adds Base and DIN on MovieLens and runs MeLU's prediction check
# (skipped without it, said so in the table); INCOME=DIR (data/get_income.sh DIR) adds MMoE and PLE
# on the income survey. Each script's output goes to $BUILD_DIR/parity/NAME.log. Exits 1 if any check failed.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
py="${TORCH_PYTHON:-/usr/bin/python3}"
only="${ONLY:-ctr multitask dien sim sim_train stamp melu melu_train}"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

if [ -z "${NO_BUILD:-}" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build "$build" -j2 --target tinyrec_cli bench_twin_steps bench_sim_bench \
      bench_melu_steps >"$build/parity_build.log" 2>&1 || {
    tail -n 40 "$build/parity_build.log" >&2
    exit 1
  }
fi
work="$build/parity"
rm -rf "$work" && mkdir -p "$work"

# name: the command (run from the repository root).
declare -A cmd=(
  [ctr]="$py bench/ctr_parity.py --tinyrec $build/tinyrec --program $build/bench_twin_steps ${MOVIELENS:+--movielens $MOVIELENS}"
  [multitask]="$py bench/multitask_parity.py --tinyrec $build/tinyrec --program $build/bench_twin_steps ${INCOME:+--income $INCOME}"
  [dien]="$py bench/dien_parity.py --tinyrec $build/tinyrec"
  [sim]="bash -c '$build/tinyrec train --model sim --dataset long --users 200 --hist-len-min 1000 --hist-len-max 1000 --epochs 1 --out $work/sim_run --quiet >/dev/null && $build/bench_sim_bench dump $work/sim_run/checkpoint $work/sim_rows 512 >/dev/null && $py bench/sim_torch.py --data $work/sim_rows --checkpoint $work/sim_run/checkpoint && $py bench/sim_torch.py --data $work/sim_rows --checkpoint $work/sim_run/checkpoint --double'"
  [sim_train]="$py bench/sim_train_parity.py --program $build/bench_sim_bench"
  [stamp]="$py bench/stamp_parity.py --tinyrec $build/tinyrec"
  [melu]="$py bench/melu_parity.py --tinyrec $build/tinyrec --data-dir ${MOVIELENS:-}"
  [melu_train]="$py bench/melu_train_parity.py --steps-program $build/bench_melu_steps"
)

status=0
cd "$root" || exit 1
for name in $only; do
  if [ -z "${cmd[$name]:-}" ]; then
    echo "run_parity.sh: unknown check '$name'; accepted: ${!cmd[*]}" >&2
    exit 2
  fi
  log="$work/$name.log"
  if [ "$name" = melu ] && [ -z "${MOVIELENS:-}" ]; then
    echo "skipped: set MOVIELENS=DIR (data/get_movielens.sh DIR) to run it" >"$log"
    echo "skipped" >"$work/$name.rc"
    continue
  fi
  echo "== $name ==" >&2
  start=$SECONDS
  eval "${cmd[$name]}" >"$log" 2>&1
  rc=$?
  echo "$rc $((SECONDS - start))" >"$work/$name.rc"
  [ "$rc" = 0 ] || status=1
done

"$py" - "$work" $only <<'PY'
import json, os, sys

work, names = sys.argv[1], sys.argv[2:]
# The figures worth a column, under whichever name each script gives them.
pred = ("max_abs_diff_float32", "max_abs_difference", "max_abs_diff")
print("| check | model | figures | passed |")
print("|---|---|---|---|")
for name in names:
    rc = open(os.path.join(work, name + ".rc")).read().split()
    lines = open(os.path.join(work, name + ".log")).read().splitlines()
    if rc[0] == "skipped":
        print(f"| {name} | | {lines[0]} | skipped |")
        continue
    shown = 0
    for line in lines:
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if not isinstance(r, dict):
            continue
        model = r.get("model", name)
        for extra in ("dtype", "order", "check"):
            if extra in r and isinstance(r[extra], str):
                model += f" ({r[extra]})"
        figures = []
        for k in pred:
            v = r.get(k)
            if isinstance(v, dict):
                figures += [f"max Δprediction {kk}: {vv:.2g}" for kk, vv in v.items()]
            elif v is not None:
                figures.append(f"max Δprediction {v:.2g}")
        if "max_abs_diff_float64" in r:
            figures.append(f"float64: {r['max_abs_diff_float64']:.2g}")
        if "max_rel_loss_diff" in r:
            figures.append(f"max rel Δloss {r['max_rel_loss_diff']:.2g}")
        if r.get("float32_rounding_dominates"):
            figures.append("float32 rounding dominates "
                           f"(twin f32 vs f64: {r['twin_float32_vs_float64_rel_loss_diff']:.2g})")
        for k in ("max_weight_diff", "max_abs_weight_diff"):
            if k in r:
                figures.append(f"max Δweight {r[k]:.2g} (moved {r.get('largest_weight_change', 0):.2g})")
        if not figures:
            continue
        ok = r.get("ok")
        print(f"| {name} | {model} | {'; '.join(figures)} | {'' if ok is None else ok} |")
        shown += 1
    text = [l.strip() for l in lines if l.strip().startswith(("largest difference", "twin's"))]
    for t in text:
        print(f"| {name} | | {t.replace('|', chr(92) + '|')} | |")
    print(f"| {name} | all | exit status {rc[0]}, {rc[1]} s | {'yes' if rc[0] == '0' else 'NO'} |")
PY
exit $status
