#!/usr/bin/env bash
# MeLU meta-training throughput, tinyrec against its PyTorch twin (bench/melu_torch.py), single
# thread: 32 users per meta-batch, one second-order local step each. The two sides alternate for
# ROUNDS rounds (the machine may be shared); prints each round, the medians and their ratio.
# Usage: bash bench/run_melu_bench.sh [ROUNDS] [STEPS]   (needs Debian's python3-torch)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-5}"
steps="${2:-100}"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
cmake --build "$root/build" --target tinyrec_cli >/dev/null
ours=() theirs=()
for r in $(seq "$rounds"); do
  a=$("$root/build/tinyrec" bench --model melu --batch-size 32 --steps "$steps" --warmup 5)
  b=$(/usr/bin/python3 "$root/bench/melu_torch.py" --batch-size 32 --steps $((steps / 4)) --warmup 3)
  echo "round $r: tinyrec $a" >&2
  echo "round $r: pytorch $b" >&2
  ours+=("$a") theirs+=("$b")
done
/usr/bin/python3 - "${ours[@]}" "--" "${theirs[@]}" <<'PY'
import json, statistics, sys
args = sys.argv[1:]
cut = args.index("--")
ours = [json.loads(a)["samples_per_second"] / 32 for a in args[:cut]]
theirs = [json.loads(a)["samples_per_second"] / 32 for a in args[cut + 1:]]
a, b = statistics.median(ours), statistics.median(theirs)
print(f"meta-batches/s (32 users, 1 second-order local step), medians of {len(ours)} rounds:")
print(f"  tinyrec {a:8.2f}   pytorch {b:8.2f}   ratio {a / b:5.2f}x")
PY
# What the figures ran on.
log="$(mktemp)"
printf '%s\n' "${ours[@]}" "${theirs[@]}" >"$log"
/usr/bin/python3 "$root/bench/torch_platform.py" >>"$log"
/usr/bin/python3 "$root/bench/platform_summary.py" "$log"
rm -f "$log"
