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
status=0
targets=(amazon movielens tabular_csv npy checkpoint yoochoose diginetica movielens_sessions rating_tasks)
for target in "${targets[@]}"; do
  corpus="$build/fuzz-corpus/$target"
  findings="$build/fuzz-findings/$target"
  mkdir -p "$corpus" "$findings"
  log="$build/fuzz-$target.log"
  if "$build/fuzz_$target" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1; then
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    echo "fuzz_$target: ${runs:-?} inputs in ${seconds} s, no finding (corpus $(ls "$corpus" | wc -l) inputs)"
  else
    status=1
    echo "fuzz_$target: FINDING — see $log and $findings/"
    tail -40 "$log"
  fi
done
exit "$status"
