#!/usr/bin/env bash
# Fault planting ("mutation testing"): does the unit test suite notice a real bug?
#
#   tests/mutants.sh            plant every fault below, one at a time
#   tests/mutants.sh ID...      only these faults
#   tests/mutants.sh --list [ID...]
#                               print the faults and whether each still matches the sources;
#                               builds and runs nothing
#
# Each fault is one realistic bug (a flipped sign, an off-by-one, a missing term of a gradient, a
# history cut at the wrong end) written as a literal replacement that must occur exactly once in
# its file. For each fault the script plants it in a scratch copy of the sources, rebuilds, runs
# the unit tests (ctest -L unit) and puts the file back. A fault is "caught" when some test fails
# (or the build breaks: "caught (build)", a weak fault, since it says nothing about the tests) and
# MISSED when every test passes. A missed fault means a test is missing: write the test that
# fails on it, or, if the change is harmless, say why and drop the fault.
#
# Run it by hand, not in CI: every fault costs an incremental rebuild (one object, the relinks) and
# a run of the unit tests, so the whole list takes a while (tens of minutes to hours on a small
# machine). The unmodified tree is built and tested first, since a suite that already fails would
# make every fault look caught (MUTANTS_BASELINE=0 skips that check).
#
# Your checkout is never modified. The scratch copy (tracked and untracked-but-not-ignored files of
# the working tree, uncommitted changes included: the faults are checked against what you are
# working on, not against HEAD) and its one build folder live under MUTANTS_DIR
# (default /tmp/tinyrec-mutants) and are kept between runs, so a rerun only recompiles what
# changed. Logs: $MUTANTS_DIR/logs/ID.log; the result table: $MUTANTS_DIR/results.txt.
#
# Settings (environment): MUTANTS_DIR, MUTANTS_JOBS (default: nproc), MUTANTS_TIMEOUT (seconds per
# test, default 600; a fault that makes a test hang counts as caught), MUTANTS_BASELINE=0,
# PYTHON (default /usr/bin/python3, used only by this script for the literal replacements).
#
# Exit status: 0 when every fault run was caught, 1 when some fault was missed, 2 on a setup error
# (a fault whose text no longer matches, a failing baseline, a build folder in use).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${MUTANTS_DIR:-/tmp/tinyrec-mutants}"
src="$dir/src"
build="$dir/build"
logs="$dir/logs"
jobs="${MUTANTS_JOBS:-$(nproc)}"
timeout="${MUTANTS_TIMEOUT:-600}"
python="${PYTHON:-/usr/bin/python3}"
[[ -x $python ]] || python="$(command -v python3 || true)"

die() {
  echo "mutants: $*" >&2
  exit 2
}

# ---- the faults -------------------------------------------------------------------------------
#
# One record per fault, records separated by a blank line; '#' starts a comment line.
#   id      short name, used on the command line
#   file    path from the repository root
#   tests   ctest regex of the unit tests expected to catch it; they run first, and only when none
#           of them fails do the remaining unit tests run, so the verdict is always the whole
#           unit suite's (empty: all unit tests at once)
#   why     the bug, one line
#   expect  which test should catch it and how (a prediction, checked by running)
#   old/new the literal replacement; the text starts after the blanks that follow the colon and
#           runs to the end of the line, taken byte for byte (no quoting, no escapes)
fault_table() {
  cat <<'FAULTS'
# ---- autograd: backward rules ----

id:     matmul-weight-grad
file:   autograd/ops_matmul.cpp
tests:  ^autograd$
why:    the weight gradient of [B,M,K]·[K,N] is Gᵀ·x instead of xᵀ·G (transposed)
expect: autograd "matmul: gradients by hand" (the shared 2x2 weight's gradient) and the gradchecks
old:    accumulate(b, tb ? rows_outer(g, x) : rows_outer(x, g));
new:    accumulate(b, tb ? rows_outer(g, x) : rows_outer(g, x));

id:     softmax-grad
file:   autograd/ops_softmax.cpp
tests:  ^autograd$
why:    softmax backward subtracts Σg instead of Σ g·y (drops y from the Jacobian's rank-one term)
expect: autograd "softmax gradients by hand" and "softmax and log_softmax: gradcheck"
old:    accumulate(x, y * (g - sum(g * y, axes, true)));
new:    accumulate(x, y * (g - sum(g, axes, true)));

id:     index-add-overwrite
file:   autograd/ops_index.cpp
tests:  ^autograd$
why:    index_add (index_select's and embedding's backward) overwrites instead of adding: repeated ids lose gradient
expect: autograd "index_select with padding_idx ..." (a repeated id adds its gradients) and "index_add scatters and adds"
old:    for (size_t i = 0; i < l.inner; ++i) dst[i] += src[i];
new:    for (size_t i = 0; i < l.inner; ++i) dst[i] = src[i];

id:     max-grad-route
file:   autograd/ops_reduce.cpp
tests:  ^autograd$
why:    max's backward sends the gradient to every element, not only to the maximum
expect: autograd "max along one axis; the gradient goes to the first maximum" and the reductions' gradcheck
old:    accumulate(x, broadcast_to(g, x.shape()) * route);
new:    accumulate(x, broadcast_to(g, x.shape()));

id:     augru-gate
file:   autograd/ops_gru.cpp
tests:  ^(autograd|nn)$
why:    DIEN's AUGRU forward ignores the attention score: update gate u instead of a·u
expect: autograd "gru_recurrence: two steps of every mix by hand"; nn "AttentionGRU: every kind fused equals the composed reference"
old:    vec::store(out + k, hv + (a * uv) * (cv - hv));
new:    vec::store(out + k, hv + uv * (cv - hv));

# ---- optimizers ----

id:     adam-bias
file:   nn/optim.cpp
tests:  ^nn$
why:    Adam without the first moment's bias correction (step lr instead of lr / (1 − β1^t))
expect: nn "optimizers: three steps match torch.optim" (Adam cases) and "Adam in float32 matches torch float32"
old:    const T step = static_cast<T>(this->lr_ / c1)
new:    const T step = static_cast<T>(this->lr_)

id:     adagrad-sqrt
file:   nn/optim.cpp
tests:  ^nn$
why:    Adagrad divides by the accumulated squares instead of their square root
expect: nn "optimizers: three steps match torch.optim" (Adagrad cases)
old:    w[k] -= lr * d / (std::sqrt(s[k]) + eps);
new:    w[k] -= lr * d / (s[k] + eps);

id:     sgd-momentum-ema
file:   nn/optim.cpp
tests:  ^nn$
why:    SGD momentum as an average, buf = μ·buf + (1 − μ)·g, instead of torch's buf = μ·buf + g
expect: nn "optimizers: three steps match torch.optim" (SGD momentum 0.9)
old:    buf[k] = mu * buf[k] + d;
new:    buf[k] = mu * buf[k] + (T(1) - mu) * d;

# ---- metrics ----

id:     auc-ties
file:   nn/metrics.cpp
tests:  ^nn$
why:    AUC counts a tied positive/negative pair as a loss instead of one half
expect: nn "auc: matches the pairwise definition on random data with many ties"
old:    c.wins += p * c.neg + 0.5 * p * q;
new:    c.wins += p * c.neg;

id:     gauc-unweighted
file:   nn/metrics.cpp
tests:  ^nn$
why:    GAUC averages the users' AUCs unweighted instead of weighting by each user's samples
expect: nn "gauc: weights by sample count and skips single-class users" (5/7 becomes 3/4)
old:    const double w = static_cast<double>(group.size());
new:    const double w = 1.0;

id:     recall-off-by-one
file:   nn/metrics.cpp
tests:  ^nn$|^models/test_stamp$
why:    Recall@K counts ranks below K only (rank K itself is a miss)
expect: nn "recall_at_k and mrr_at_k on three cases" and "... from precomputed ranks"
old:    hits += r <= k;
new:    hits += r < k;

id:     mrr-no-cutoff
file:   nn/metrics.cpp
tests:  ^nn$|^models/test_stamp$
why:    MRR@K adds 1/rank for ranks past K too
expect: nn "recall_at_k and mrr_at_k from precomputed ranks" (a rank of 100 with K = 20)
old:    if (r <= k) sum += 1.0 / static_cast<double>(r);
new:    sum += 1.0 / static_cast<double>(r);

id:     ndcg-ideal-order
file:   nn/metrics.cpp
tests:  ^nn$
why:    nDCG's ideal DCG from the relevances in ascending order (the worst ranking, not the best)
expect: nn "ndcg_at_k" (0.574 and a perfect ranking's 1.0)
old:    std::sort(ideal.begin(), ideal.end(), [](float a, float b) { return a > b; });
new:    std::sort(ideal.begin(), ideal.end(), [](float a, float b) { return a < b; });

# ---- data readers and batching ----

id:     amazon-history-cut
file:   data/amazon_reader.cpp
tests:  ^data$
why:    the Amazon reader keeps max_len + 1 behaviours (off by one in the most-recent cut)
expect: data "read_amazon with max_len keeps the most recent behaviours"
old:    ? n - max_len : 0;  // keep the most recent
new:    ? n - max_len - 1 : 0;  // keep the most recent

id:     movielens-split
file:   data/movielens_reader.cpp
tests:  ^data$
why:    MovieLens puts one user too many in the test split (i <= n_test)
expect: data "read_movielens follows the DIN protocol" (no test user at fraction 0) and "splits by user, seeded"
old:    is_test[users[i]] = i < n_test;
new:    is_test[users[i]] = i <= n_test;

id:     movielens-leak
file:   data/movielens_reader.cpp
tests:  ^data$
why:    a MovieLens sample's long history (SIM) ends after its own movie: the label leaks into the search
expect: data "MovieLens: every user's whole timeline ..." (timeline_end == k)
old:    s.timeline_end = k;
new:    s.timeline_end = k + 1;

id:     batch-keeps-oldest
file:   data/ctr_dataset.cpp
tests:  ^data$
why:    fill_ctr_batch truncates a long history to its oldest max_len behaviours instead of the most recent
expect: data "CtrBatcher pads on the right, truncates to the most recent ..." and "... max_len 1 keeps only the last behaviour"
old:    const size_t from = n - keep;  // the most recent
new:    const size_t from = 0;  // the most recent

# ---- click models: Base, DIN, DIEN, SIM ----

id:     base-mask
file:   models/din.cpp
tests:  ^models/test_din$
why:    Base's sum pooling looks up every slot's ids, padded ones included (trusts them to be 0)
expect: models/test_din "din and base: what lies under a zero mask changes nothing" (junk ids under the mask)
old:    Tensor<T> e = embed_(items, cats);  // [B, L, D]; rows left out are zero
new:    Tensor<T> e = embed_(b.hist_items, b.hist_cats);

id:     din-mask
file:   nn/attention.cpp
tests:  ^(nn|models/test_din)$
why:    DIN's activation unit (no softmax, the paper's form) forgets the mask: padded behaviours get weight
expect: nn "LocalActivationUnit: input order ..., masked, no softmax"; models/test_din "what lies under a zero mask"
old:    return mask.defined() ? scores * mask : scores;
new:    return scores;

id:     dien-aux-sign
file:   models/dien.cpp
tests:  ^models/test_dien$
why:    DIEN's auxiliary loss rewards a high score for the negative sample (log σ(neg) instead of log σ(−neg))
expect: probably MISSED: L_aux is only checked to be positive, padding-invariant and 0 without pairs; only "dien beats din" could notice
old:    (logsigmoid(pos) + logsigmoid(-neg)) * m;
new:    (logsigmoid(pos) + logsigmoid(neg)) * m;

id:     sim-leak
file:   data/long_history.cpp
tests:  ^models/test_sim$
why:    SIM's hard search lets in the behaviour at the impression's own position (upper_bound)
expect: models/test_sim "GSU, hard search: ..." (row 1 gets item 7 at position 6)
old:    std::lower_bound(first, last, end);
new:    std::upper_bound(first, last, end);

id:     sim-oldest-k
file:   data/long_history.cpp
tests:  ^models/test_sim$
why:    SIM's hard search returns the oldest K matches before the impression, not the most recent K
expect: models/test_sim "GSU, hard search: the candidate's category, the most recent K, ..."
old:    std::copy(stop - n, stop, out);
new:    std::copy(first, first + n, out);

id:     sim-topk-ties
file:   models/sim_search.cpp
tests:  ^models/test_sim$
why:    SIM's soft search breaks score ties toward the older behaviour
expect: models/test_sim "GSU: top-K by score without sorting the history; ties go to the more recent"
old:    return ka > kb || (ka == kb && a > b);
new:    return ka > kb || (ka == kb && a < b);

# ---- multi-task models ----

id:     mmoe-gate-axis
file:   models/multitask_model.cpp
tests:  ^models/test_multitask$
why:    the MoE gates' softmax runs over the batch (axis 0) instead of over the experts
expect: models/test_multitask "gates: every row sums to one; ..."
old:    return softmax(linear_.forward(x), 1);
new:    return softmax(linear_.forward(x), 0);

id:     mmoe-one-gate
file:   models/mmoe.cpp
tests:  ^models/test_multitask$
why:    MMoE mixes every task's experts with task 0's gate (it trains as OMoE; gate_weights() still reports one per task)
expect: models/test_multitask "mmoe: each task's output reads its own gate; omoe's tasks share one" (moving gate 1 moves task 1)
old:    const Tensor<T>& g_k = g_[multi_gate_ ? k : 0];
new:    const Tensor<T>& g_k = g_[0];

id:     ple-shared-path
file:   models/ple.cpp
tests:  ^models/test_multitask$
why:    PLE's next level feeds its shared experts task 0's output instead of the shared gate's mix
expect: probably MISSED: the 3-level PLE is only gradchecked (self-consistent) and its gates checked by shape
old:    if (next.size() > n_tasks) g_s = next.back();
new:    if (next.size() > n_tasks) g_s = next.front();

id:     esmm-product
file:   models/esmm.cpp
tests:  ^models/test_multitask$
why:    ESMM adds the CTR and CVR logits (a product of odds) instead of pCTCVR = pCTR·pCVR
expect: models/test_multitask "esmm: pCTCVR = pCTR · pCVR, exactly and stably"
old:    return {a, logit_of_product(a, cvr_)};
new:    return {a, a + cvr_};

# ---- session models: STAMP, STMP ----

id:     stamp-last-click
file:   models/stamp.cpp
tests:  ^models/test_stamp$
why:    STAMP's last click x_t read from the first slot (padding on short, right-aligned sessions)
expect: models/test_stamp "stamp: the scores are the paper's equations 2 and 7–11, computed by hand"
old:    reshape(slice(p.x, 1, b.len - 1, b.len), Shape{b.size, d});
new:    reshape(slice(p.x, 1, 0, 1), Shape{b.size, d});

id:     stamp-trilinear
file:   models/stamp.cpp
tests:  ^models/test_stamp$
why:    STAMP's trilinear score drops h_t: ⟨h_s, x_i⟩ instead of ⟨h_s, h_t ⊙ x_i⟩
expect: models/test_stamp "stamp: the scores are ... computed by hand"
old:    return p.h_s * p.h_t;
new:    return p.h_s;

id:     stamp-mean-width
file:   models/stamp.cpp
tests:  ^models/test_stamp$
why:    the session mean m_s divides by the padded width instead of the session's length
expect: models/test_stamp "... computed by hand" (m_s enters the attention; the tiny batch has lengths 4, 2, 1)
old:    inv_len(r, 0) = T(1) / T(b.lengths[r]);
new:    inv_len(r, 0) = T(1) / T(b.len);

id:     stamp-padding-ids
file:   models/stamp.cpp
tests:  ^models/test_stamp$
why:    STAMP looks up whatever ids the padding before a session holds (trusts them to be 0)
expect: models/test_stamp "stamp and stmp: real item ids in the padding change no score"
old:    p.x = items_.forward(ids);
new:    p.x = items_.forward(b.items);

id:     stmp-last-click
file:   models/stamp.cpp
tests:  ^models/test_stamp$
why:    STMP feeds the last click to the session MLP instead of the session mean m_s
expect: uncertain: STMP is only gradchecked; only "stamp beats stmp" (MRR@20 margin 0.007) can notice
old:    p.m_a = p.m_s;  // STMP
new:    p.m_a = p.m_t;  // STMP

# ---- MeLU and MAML ----

id:     maml-no-second-order
file:   models/maml.cpp
tests:  ^models/test_melu$
why:    MAML's inner gradient is never recorded (create_graph false): second order silently becomes first order
expect: models/test_melu "maml on a linear model: second order is (I − βH_S)∇L_Q(θ')" and "the meta-gradient is the query loss's derivative"
old:    /*create_graph=*/recording && !update.first_order);
new:    /*create_graph=*/false);

id:     maml-ascent
file:   models/maml.cpp
tests:  ^models/test_melu$
why:    MeLU's local update climbs the support loss (θ + β·g)
expect: models/test_melu "maml on a linear model ..." (θ' = θ − β·g by hand) and "adaptation beats the global model"
old:    theta[k] = theta[k] - g[k] * beta;
new:    theta[k] = theta[k] + g[k] * beta;
# ---- the command line ----

id:     experiment-sd-population
file:   cli/experiment_command.cpp
tests:  ^cli/test_experiment_cli$
why:    the experiment's spread over seeds divides by n instead of n − 1
expect: cli/test_experiment_cli (table.csv's sd recomputed from runs.csv over two seeds)
old:    return {m, v.size() > 1 ? std::sqrt(ss / double(v.size() - 1)) : 0.0};
new:    return {m, v.size() > 1 ? std::sqrt(ss / double(v.size())) : 0.0};

id:     experiment-wins-baseline
file:   cli/experiment_command.cpp
tests:  ^cli/test_experiment_cli$
why:    paired wins are counted against OMoE instead of Shared-Bottom
expect: cli/test_experiment_cli (the wins cells recomputed from runs.csv)
old:    if (b.model == "shared_bottom" && b.p == p && b.seed == r.seed)
new:    if (b.model == "omoe" && b.p == p && b.seed == r.seed)

# ---- prediction ----

id:     multitask-predict-raw
file:   models/multitask_task.cpp
tests:  ^models/test_predict$
why:    multi-task predict feeds the raw numbers, not standardised with the training mean and sd
expect: models/test_predict "multitask predict: MMoE prints the outputs evaluation computes ..." and "... training statistics ..."
old:    value = sd < 1e-12 * (1 + std::abs(mean)) ? value - mean : (value - mean) / sd;
new:    value = sd < 1e-12 * (1 + std::abs(mean)) ? value : value;

id:     multitask-predict-by-position
file:   models/multitask_task.cpp
tests:  ^models/test_predict$
why:    multi-task predict reads the numeric columns by position in the file, not by name
expect: models/test_predict "multitask predict: MMoE ..." (a file with its columns reordered gives the same lines)
old:    const std::string& v = fields[num_col[j]];
new:    const std::string& v = fields[j];
FAULTS
}

# ---- reading the table ------------------------------------------------------------------------

ids=() files=() tests=() whys=() expects=() olds=() news=()

parse_faults() {
  local line key value
  local id="" file="" test="" why="" expect="" old="" new="" seen=""
  flush() {
    [[ -n $seen ]] || return 0
    [[ -n $id && -n $file && -n $why && -n $old ]] ||
      die "fault table: a record lacks id, file, why or old (id '$id')"
    [[ $seen == *new* ]] || die "fault table: fault $id has no 'new:' line"
    [[ $old != "$new" ]] || die "fault table: fault $id replaces its text with itself"
    local existing
    for existing in "${ids[@]}"; do
      [[ $existing != "$id" ]] || die "fault table: id $id is used twice"
    done
    ids+=("$id") files+=("$file") tests+=("$test") whys+=("$why") expects+=("$expect")
    olds+=("$old") news+=("$new")
    id="" file="" test="" why="" expect="" old="" new="" seen=""
  }
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ -z ${line//[[:space:]]/} ]]; then
      flush
      continue
    fi
    [[ $line == '#'* ]] && continue
    [[ $line == *:* ]] || die "fault table: no 'key:' in line: $line"
    key="${line%%:*}"
    value="${line#*:}"
    # Only the blanks after the colon go: the rest, trailing blanks included, is the literal text.
    value="${value#"${value%%[![:space:]]*}"}"
    case "$key" in
      id) id="$value" ;;
      file) file="$value" ;;
      tests) test="$value" ;;
      why) why="$value" ;;
      expect) expect="$value" ;;
      old) old="$value" ;;
      new) new="$value" ;;
      *) die "fault table: unknown key '$key' in line: $line" ;;
    esac
    seen+=" $key"
  done
  flush
}

parse_faults < <(fault_table)

# ---- literal text in files (python: bash cannot replace arbitrary bytes safely) ---------------

# count FILE OLD: prints how often OLD occurs. apply FILE OLD NEW: replaces its only occurrence.
# newline="" keeps the file's line endings as they are.
literal() {
  [[ -n $python ]] || die "python3 is needed for the literal replacements (set PYTHON)"
  "$python" - "$@" <<'PY'
import sys
mode, path, old = sys.argv[1:4]
with open(path, encoding="utf-8", newline="") as f:
    text = f.read()
n = text.count(old)
if mode == "count":
    print(n)
    sys.exit(0)
if n != 1:
    sys.exit(f"{path}: the text to replace occurs {n} times, not once: {old!r}")
with open(path, "w", encoding="utf-8", newline="") as f:
    f.write(text.replace(old, sys.argv[4], 1))
PY
}

# "once" when the fault's text occurs exactly once in FILE, else what is wrong.
match_status() {
  local path="$1" old="$2" n
  [[ -f $path ]] || {
    echo "file missing"
    return
  }
  n="$(literal count "$path" "$old")"
  [[ $n == 1 ]] && echo "once" || echo "occurs $n times"
}

# ---- command line -----------------------------------------------------------------------------

list_only=0
wanted=()
for arg in "$@"; do
  case "$arg" in
    --list) list_only=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    -*) die "unknown option $arg (see --help)" ;;
    *) wanted+=("$arg") ;;
  esac
done

selected=()
if ((${#wanted[@]} == 0)); then
  for i in "${!ids[@]}"; do selected+=("$i"); done
else
  for w in "${wanted[@]}"; do
    found=""
    for i in "${!ids[@]}"; do [[ ${ids[i]} == "$w" ]] && found="$i"; done
    [[ -n $found ]] || die "no fault '$w'; known: ${ids[*]}"
    selected+=("$found")
  done
fi

if ((list_only)); then
  # Checked against your checkout, read only: a fault whose text has moved shows up here first.
  for i in "${selected[@]}"; do
    printf '%-22s %s\n' "${ids[i]}" "${whys[i]}"
    printf '%-22s   file:   %s (text %s)\n' "" "${files[i]}" \
      "$(match_status "$root/${files[i]}" "${olds[i]}")"
    printf '%-22s   tests:  %s\n' "" "${tests[i]:-all unit tests}"
    printf '%-22s   expect: %s\n' "" "${expects[i]}"
  done
  echo "${#selected[@]} faults"
  exit 0
fi

# ---- the scratch tree -------------------------------------------------------------------------

command -v git >/dev/null || die "git is needed to list the checkout's files"
command -v cmake >/dev/null && command -v ctest >/dev/null || die "cmake and ctest are needed"
mkdir -p "$dir" "$src" "$logs"

# Two runs sharing one scratch tree would plant faults in each other's builds.
exec 9>"$dir/lock"
flock -n 9 || die "another run is using $dir (set MUTANTS_DIR for a second one)"

# Copies the checkout's files into the scratch tree. Only files whose content differs are written,
# and without keeping the checkout's timestamps: an unchanged file keeps its old time, so it is not
# rebuilt, and a changed one gets a new time, so it always is (even when the checkout's copy is
# older than the object built from a fault). Files gone from the checkout go from the copy too,
# since CMake globs the sources.
sync_tree() {
  local rel
  local -A keep=()
  while IFS= read -r -d '' rel; do
    [[ -f "$root/$rel" ]] || continue  # deleted in the working tree, still in the index
    keep["$rel"]=1
    if ! cmp -s "$root/$rel" "$src/$rel"; then
      mkdir -p "$(dirname "$src/$rel")"
      cp --preserve=mode "$root/$rel" "$src/$rel"
    fi
  done < <(git -C "$root" ls-files -z --cached --others --exclude-standard)
  while IFS= read -r -d '' rel; do
    rel="${rel#"$src"/}"
    [[ -n ${keep["$rel"]:-} ]] || rm -f "$src/$rel"
  done < <(find "$src" -type f -print0)
}

# The file holding a fault right now, put back on any exit (an error, Ctrl-C) so the scratch tree
# never keeps a fault; the next sync would also repair it, since it differs from the checkout.
mutated=""
restore() {
  if [[ -n $mutated ]]; then
    cp "$dir/original" "$mutated"
    mutated=""
  fi
}
trap restore EXIT
trap 'restore; exit 130' INT
trap 'restore; exit 143' TERM

build_tree() {  # LOG
  if [[ ! -f $build/CMakeCache.txt ]]; then
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTINYREC_BUILD_BENCH=OFF \
      -DTINYREC_BUILD_TUTORIALS=OFF >>"$1" 2>&1 || return 1
  fi
  cmake --build "$build" -j "$jobs" >>"$1" 2>&1
}

# Runs unit tests (extra ctest arguments select them) and prints the names of those that failed.
# Fails itself only when ctest could not run them at all, which is a setup error, not a verdict.
run_unit_tests() {  # LOG ctest-args...
  local log="$1" rc=0
  shift
  local failed_list="$build/Testing/Temporary/LastTestsFailed.log"
  rm -f "$failed_list"
  ctest --test-dir "$build" -L unit -j "$jobs" --timeout "$timeout" --output-on-failure "$@" \
    >>"$log" 2>&1 || rc=$?
  ((rc == 0)) && return 0
  [[ -s $failed_list ]] || return 1
  sed 's/^[0-9]*://' "$failed_list"
}

sync_tree

# Every selected fault must match before an hour goes into building: a stale one is fixed in the
# table, not skipped.
stale=0
for i in "${selected[@]}"; do
  status="$(match_status "$src/${files[i]}" "${olds[i]}")"
  if [[ $status != once ]]; then
    echo "mutants: fault ${ids[i]}: the text to replace in ${files[i]}: $status" >&2
    stale=1
  fi
done
((stale == 0)) || die "update the fault table to the current sources (tests/mutants.sh --list)"

if [[ ${MUTANTS_BASELINE:-1} != 0 ]]; then
  echo "mutants: building and testing the unmodified tree in $dir ..." >&2
  : >"$logs/baseline.log"
  build_tree "$logs/baseline.log" || die "the unmodified tree does not build: $logs/baseline.log"
  if ! failed="$(run_unit_tests "$logs/baseline.log" --no-tests=error)"; then
    die "ctest could not run the unit tests: $logs/baseline.log"
  fi
  [[ -z $failed ]] ||
    die "the unmodified tree already fails ${failed//$'\n'/, }: fix that first ($logs/baseline.log)"
fi

# ---- planting the faults ----------------------------------------------------------------------

results=()
caught=0 missed=0 by_build=0
n_selected=${#selected[@]}
done_count=0
for i in "${selected[@]}"; do
  id="${ids[i]}"
  target="$src/${files[i]}"
  log="$logs/$id.log"
  : >"$log"
  done_count=$((done_count + 1))
  echo "mutants: [$done_count/$n_selected] $id: ${whys[i]}" >&2
  started=$SECONDS

  cp "$target" "$dir/original"
  mutated="$target"
  literal apply "$target" "${olds[i]}" "${news[i]}" || die "fault $id could not be applied"

  failed=""
  if ! build_tree "$log"; then
    verdict="caught (build)"
    failed="build failed"
  else
    if [[ -n ${tests[i]} ]]; then
      # The tests named for the fault first: a caught fault is usually settled by them alone.
      failed="$(run_unit_tests "$log" --no-tests=error -R "${tests[i]}")" ||
        die "ctest could not run the tests '${tests[i]}' of fault $id: $log"
      if [[ -z $failed ]]; then
        failed="$(run_unit_tests "$log" --no-tests=ignore -E "${tests[i]}")" ||
          die "ctest could not run the other unit tests for fault $id: $log"
      fi
    else
      failed="$(run_unit_tests "$log" --no-tests=error)" ||
        die "ctest could not run the unit tests for fault $id: $log"
    fi
    if [[ -n $failed ]]; then
      verdict="caught"
      failed="${failed//$'\n'/, }"
    else
      verdict="MISSED"
    fi
  fi
  restore

  case "$verdict" in
    MISSED) missed=$((missed + 1)) ;;
    "caught (build)") caught=$((caught + 1)) by_build=$((by_build + 1)) ;;
    *) caught=$((caught + 1)) ;;
  esac
  line="$(printf '%-22s %-14s %s' "$id" "$verdict" "${whys[i]}")"
  [[ -n $failed ]] && line+="  ($failed)"
  results+=("$line")
  echo "$line" >&2
  echo "mutants: $id took $((SECONDS - started)) s; log: $log" >&2
done

summary="$n_selected faults: $caught caught, $missed missed"
((by_build == 0)) || summary+=" ($by_build of the caught only by a failed build)"
{
  printf '%s\n' "${results[@]}"
  echo "$summary"
} >"$dir/results.txt"
# The table again, alone on stdout, after the progress lines of stderr.
printf '%s\n' "${results[@]}"
echo "$summary"
((missed == 0))
