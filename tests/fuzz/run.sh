#!/usr/bin/env bash
# Runs each reader's fuzz program of BUILD (configured with -DTINYREC_FUZZ=ON, see .ci/sanitize.sh)
# for SECONDS (default 60), starting from the seed inputs made from the test fixtures and keeping
# the corpus between runs. A crash, hang, leak or sanitizer report stops with the input's path:
# fix the reader, then keep the input under tests/fuzz/regressions/TARGET/, where the normal tests
# (tests/data/test_fuzz_inputs.cpp) run it from then on.
set -euo pipefail
build="$(cd "${1:?usage: tests/fuzz/run.sh BUILD [SECONDS]}" && pwd)"
seconds="${2:-60}"
# Readers take files: a RAM-backed scratch folder keeps the disk out of the loop.
[ -d /dev/shm ] && export TMPDIR=/dev/shm
# FUZZ_JOBS targets at a time (default: one per core); each fuzz process has its own scratch files.
jobs="${FUZZ_JOBS:-$(nproc)}"
targets=(amazon movielens tabular_csv npy checkpoint yoochoose diginetica movielens_sessions rating_tasks)

fuzz_one() {
  local target="$1"
  local corpus="$build/fuzz-corpus/$target" findings="$build/fuzz-findings/$target"
  local log="$build/fuzz-$target.log"
  mkdir -p "$corpus" "$findings"
  if "$build/fuzz_$target" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1; then
    local runs
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    echo "fuzz_$target: ${runs:-?} inputs in ${seconds} s, no finding (corpus $(ls "$corpus" | wc -l) inputs)"
  else
    echo "fuzz_$target: FINDING — see $log and $findings/"
    tail -40 "$log"
    return 1
  fi
}

status=0
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || status=1; done
  fuzz_one "$target" &
done
while (($(jobs -rp | wc -l) > 0)); do wait -n || status=1; done
exit "$status"
