// Evaluation metrics over plain arrays: AUC, GAUC, RelaImpr, log loss, regression errors,
// session metrics (Recall@k, MRR@k) and nDCG@k, each as the paper that uses it defines it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tinyrec::metrics {

// ---- Binary classification (labels are exactly 0 or 1) ----------------------------------------

// Probability that a random positive scores above a random negative; ties count one half.
// O(n log n). Throws std::invalid_argument when sizes differ, a label is not 0/1, a score is NaN,
// or only one class is present.
double auc(const float* scores, const float* labels, std::size_t n);
double auc(const std::vector<float>& scores, const std::vector<float>& labels);

// DIN's group AUC: sum_u w_u * AUC_u / sum_u w_u, w_u = number of samples of user u. Users whose
// samples are all one class are skipped. Throws if no user has both classes.
double gauc(const std::vector<float>& scores, const std::vector<float>& labels,
            const std::vector<int64_t>& users);

// auc and gauc for reports: NaN (JSON null) where they are undefined rather than an error, so an
// evaluation of a split that happens to hold one class still reports its other metrics.
double auc_or_nan(const std::vector<float>& scores, const std::vector<float>& labels);
double gauc_or_nan(const std::vector<float>& scores, const std::vector<float>& labels,
                   const std::vector<int64_t>& users);

// Mean binary cross-entropy. Probabilities are clipped to [1e-7, 1 - 1e-7]; labels may be soft
// (anywhere in [0, 1]).
double logloss(const std::vector<float>& probs, const std::vector<float>& labels);
// The same loss from raw logits, computed as max(x,0) - x*y + log1p(exp(-|x|)) so that large
// logits neither overflow nor lose the loss to rounding (no clipping).
double logloss_from_logits(const std::vector<float>& logits, const std::vector<float>& labels);

// DIN's RelaImpr in percent: ((auc_model - 0.5) / (auc_base - 0.5) - 1) * 100.
double relaimpr(double auc_model, double auc_base);

// ---- Regression --------------------------------------------------------------------------------

double mse(const std::vector<float>& pred, const std::vector<float>& target);
double mae(const std::vector<float>& pred, const std::vector<float>& target);
double rmse(const std::vector<float>& pred, const std::vector<float>& target);

// ---- Next-item ranking (STAMP / GRU4Rec style) --------------------------------------------------

// How a tie between the true item and other items with exactly its score is ranked.
//  kPessimistic: rank = number of items scoring >= the true item (the true item comes last among
//                its ties). Default, because a collapsed model that scores every item alike must
//                not get a perfect score. GRU4Rec's evaluation calls this "conservative".
//  kOptimistic:  rank = 1 + number of items scoring strictly higher.
enum class Ties { kPessimistic, kOptimistic };

// 1-based rank of the true item within one row of scores. Throws on a NaN score in the row.
std::size_t rank_of(const float* row, std::size_t n_items, std::size_t true_item,
                    Ties ties = Ties::kPessimistic);

// Ranks for every case; scores is row-major [n_cases, n_items] with n_cases = true_items.size().
std::vector<std::size_t> ranks(const std::vector<float>& scores, std::size_t n_items,
                               const std::vector<int64_t>& true_items,
                               Ties ties = Ties::kPessimistic);

// Share of cases whose true item ranks within the top k (STAMP's P@k is the same number).
double recall_at_k(const std::vector<std::size_t>& ranks, std::size_t k);
double recall_at_k(const std::vector<float>& scores, std::size_t n_items,
                   const std::vector<int64_t>& true_items, std::size_t k,
                   Ties ties = Ties::kPessimistic);

// Mean of 1/rank, counting 0 for a case whose rank is above k.
double mrr_at_k(const std::vector<std::size_t>& ranks, std::size_t k);
double mrr_at_k(const std::vector<float>& scores, std::size_t n_items,
                const std::vector<int64_t>& true_items, std::size_t k,
                Ties ties = Ties::kPessimistic);

// ---- Graded relevance (MeLU)
// ---------------------------------------------------------------------

// Gain of an item with relevance r: kExponential = 2^r - 1 (the MeLU paper's DCG), kLinear = r.
enum class Gain { kExponential, kLinear };

// nDCG@k of one user's query set: DCG@k of the items ordered by predicted score, divided by the
// DCG@k of the ideal order. Ties in predicted scores are handled by averaging the discount over
// the positions the tied group occupies (the expected DCG under a random tie break), so the result
// does not depend on the input order. Returns 0 when every relevance is 0 (ideal DCG is 0), as
// scikit-learn does. Throws on size mismatch, empty input, k == 0 or NaN.
double ndcg_at_k(const std::vector<float>& scores, const std::vector<float>& relevances,
                 std::size_t k, Gain gain = Gain::kExponential);

}  // namespace tinyrec::metrics
