#!/usr/bin/env bash
# Measures the margin of every seeded claim the suite and the tutorials assert, over the claim's
# own seeds and three more of each kind (data, initial weights, batch order), one kind varied at a
# time. The ranges written beside the claims come from this script; it is run by hand, not in CI
# (it trains every claim's models ten times: one to two hours on two cores).
#
#   bash tests/claim_margins.sh                 # every claim
#   bash tests/claim_margins.sh tutorial_04_dien "dien beats*"   # only these
#
# Tests print their margins through doctest's MESSAGE; tutorials print their check_above
# lines. The summary gives, for each claim, the smallest and largest value seen and the bound the
# claim asserts. Needs a built tree (build/, or BUILD_DIR).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
out="${MARGINS_DIR:-/tmp/tinyrec-margins}"
more=3
mkdir -p "$out"

tests=("din beats the base model*" "dien beats din*" "sim: on long histories*"
  "mmoe and shared-bottom fit*" "melu: adaptation beats*" "stamp beats stmp*")
tutorials=(tutorial_03_din tutorial_04_dien tutorial_05_sim tutorial_06_multitask tutorial_07_melu
  tutorial_08_stamp)
if (($#)); then
  tests=() tutorials=()
  for a in "$@"; do
    if [[ $a == tutorial_* ]]; then tutorials+=("$a"); else tests+=("$a"); fi
  done
fi

for t in "${tests[@]}"; do
  log="$out/test_$(echo "$t" | tr -c 'a-z0-9\n' '_').log"
  echo "test \"$t\": $log"
  TINYREC_CLAIM_SEEDS=$more "$build/test_models" -tc="$t" -s --force-colors=0 >"$log" 2>&1 ||
    echo "  (a run fell below its bound: see the log)"
  grep "MESSAGE: " "$log" | sed "s/.*MESSAGE: /  /" || true
done

# A tutorial's own seeds are the first line of its TINYREC_SEEDS list; the others step one kind.
own_seeds() {
  case "$1" in
  tutorial_06_multitask) echo "1 101 1" ;;
  *) echo "1 1 1" ;;
  esac
}
for t in "${tutorials[@]}"; do
  read -r d m o <<<"$(own_seeds "$t")"
  runs=("$d $m $o")
  for k in $(seq 1 $more); do
    runs+=("$((d + k)) $m $o" "$d $((m + k)) $o" "$d $m $((o + k))")
  done
  for s in "${runs[@]}"; do
    log="$out/${t}_$(echo "$s" | tr ' ' '_').log"
    dir="$(mktemp -d)"
    (cd "$dir" && TINYREC_SEEDS="$s" "$build/$t" >"$log" 2>&1) || true
    rm -rf "$dir"
    echo "$t, seeds $s:"
    grep -E "^  .* [+-][0-9.]+ > " "$log" || echo "  (no claim lines: see $log)"
  done
done | tee "$out/tutorials.txt"

# Per tutorial claim: the smallest and largest value over the runs, and its bound.
echo
echo "tutorial claims over their runs: smallest, largest (bound)"
awk '/^tutorial_/ { sub(/,.*/, ""); t = $0; next }
     / > / { line = $0; sub(/^  /, "", line); n = split(line, w, " ");
             bound = w[n - 1]; v = w[n - 3] + 0; ok = w[n];
             name = line; sub(/ +[+-][0-9.]+ > .*/, "", name); key = t ": " name;
             if (!(key in lo) || v < lo[key]) lo[key] = v;
             if (!(key in hi) || v > hi[key]) hi[key] = v;
             b[key] = bound; if (!(key in order)) { order[key] = ++count; keys[count] = key } }
     END { for (i = 1; i <= count; ++i) { k = keys[i];
             printf "  %-70s %+.4f  %+.4f  (> %s)\n", k, lo[k], hi[k], b[k] } }' "$out/tutorials.txt"
