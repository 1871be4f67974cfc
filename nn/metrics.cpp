// Evaluation metrics over plain arrays; see metrics.hpp for the definitions and tie rules.
#include "nn/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace tinyrec::metrics {
namespace {

// Probabilities are clipped this far from 0 and 1 before taking logs.
constexpr double kProbEps = 1e-7;

void check_same_size(std::size_t a, std::size_t b, const char* fn, const char* what_a,
                     const char* what_b) {
  if (a != b) {
    throw std::invalid_argument(std::string(fn) + ": " + what_a + " has " + std::to_string(a) +
                                " elements but " + what_b + " has " + std::to_string(b));
  }
}

void check_non_empty(std::size_t n, const char* fn) {
  if (n == 0) throw std::invalid_argument(std::string(fn) + ": empty input");
}

void check_binary_label(float y, std::size_t i, const char* fn) {
  if (y != 0.0f && y != 1.0f) {
    throw std::invalid_argument(std::string(fn) + ": label at index " + std::to_string(i) + " is " +
                                std::to_string(y) + "; labels must be 0 or 1");
  }
}

void check_not_nan(float v, std::size_t i, const char* fn, const char* what) {
  if (std::isnan(v)) {
    throw std::invalid_argument(std::string(fn) + ": " + what + " at index " + std::to_string(i) +
                                " is NaN");
  }
}

struct Scored {
  float score;
  float label;
};

struct PairCounts {
  double wins = 0;  // positive-above-negative pairs, ties counted one half
  double pos = 0;
  double neg = 0;
};

// Walks samples in ascending score order. Counting, for each tied group, the negatives strictly
// below it plus half the negatives inside it equals the Mann-Whitney statistic with average ranks.
PairCounts count_pairs(const Scored* s, std::size_t n) {
  PairCounts c;
  std::size_t i = 0;
  while (i < n) {
    const float v = s[i].score;
    double p = 0, q = 0;
    std::size_t j = i;
    for (; j < n && s[j].score == v; ++j) {
      if (s[j].label == 1.0f) {
        p += 1;
      } else {
        q += 1;
      }
    }
    c.wins += p * c.neg + 0.5 * p * q;
    c.pos += p;
    c.neg += q;
    i = j;
  }
  return c;
}

bool by_score(const Scored& a, const Scored& b) {
  return a.score < b.score;
}

template <class Term>
double mean_over(const std::vector<float>& a, const std::vector<float>& b, const char* fn,
                 const char* what_a, const char* what_b, Term term) {
  check_same_size(a.size(), b.size(), fn, what_a, what_b);
  check_non_empty(a.size(), fn);
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += term(a[i], b[i], i);
  return sum / static_cast<double>(a.size());
}

void check_cases(const std::vector<float>& scores, std::size_t n_items,
                 const std::vector<int64_t>& true_items, const char* fn) {
  if (n_items == 0) throw std::invalid_argument(std::string(fn) + ": n_items is 0");
  const std::size_t n_cases = true_items.size();
  if (scores.size() != n_cases * n_items) {
    throw std::invalid_argument(std::string(fn) + ": scores has " + std::to_string(scores.size()) +
                                " elements, expected n_cases * n_items = " +
                                std::to_string(n_cases) + " * " + std::to_string(n_items));
  }
}

void check_k(std::size_t k, const char* fn) {
  if (k == 0) throw std::invalid_argument(std::string(fn) + ": k must be at least 1");
}

double gain_of(float r, Gain gain) {
  return gain == Gain::kExponential ? std::exp2(static_cast<double>(r)) - 1.0
                                    : static_cast<double>(r);
}

// Discount of 1-based position p within the cut-off k.
double discount(std::size_t p, std::size_t k) {
  return p <= k ? 1.0 / std::log2(static_cast<double>(p) + 1.0) : 0.0;
}

}  // namespace

double auc(const float* scores, const float* labels, std::size_t n) {
  std::vector<Scored> s(n);
  for (std::size_t i = 0; i < n; ++i) {
    check_not_nan(scores[i], i, "auc", "score");
    check_binary_label(labels[i], i, "auc");
    s[i] = {scores[i], labels[i]};
  }
  std::sort(s.begin(), s.end(), by_score);
  const PairCounts c = count_pairs(s.data(), n);
  if (c.pos == 0 || c.neg == 0) {
    throw std::invalid_argument("auc: only one class present (" + std::to_string(size_t(c.pos)) +
                                " positives, " + std::to_string(size_t(c.neg)) +
                                " negatives); AUC is undefined");
  }
  return c.wins / (c.pos * c.neg);
}

double auc(const std::vector<float>& scores, const std::vector<float>& labels) {
  check_same_size(scores.size(), labels.size(), "auc", "scores", "labels");
  return auc(scores.data(), labels.data(), scores.size());
}

double gauc(const std::vector<float>& scores, const std::vector<float>& labels,
            const std::vector<int64_t>& users) {
  check_same_size(scores.size(), labels.size(), "gauc", "scores", "labels");
  check_same_size(scores.size(), users.size(), "gauc", "scores", "users");
  const std::size_t n = scores.size();
  struct UserScored {
    int64_t user;
    Scored s;
  };
  std::vector<UserScored> rows(n);
  for (std::size_t i = 0; i < n; ++i) {
    check_not_nan(scores[i], i, "gauc", "score");
    check_binary_label(labels[i], i, "gauc");
    rows[i] = {users[i], {scores[i], labels[i]}};
  }
  std::sort(rows.begin(), rows.end(), [](const UserScored& a, const UserScored& b) {
    return a.user != b.user ? a.user < b.user : a.s.score < b.s.score;
  });
  std::vector<Scored> group;
  double weighted = 0, weight = 0;
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i;
    group.clear();
    for (; j < n && rows[j].user == rows[i].user; ++j) group.push_back(rows[j].s);
    const PairCounts c = count_pairs(group.data(), group.size());
    if (c.pos > 0 && c.neg > 0) {
      const double w = static_cast<double>(group.size());
      weighted += w * c.wins / (c.pos * c.neg);
      weight += w;
    }
    i = j;
  }
  if (weight == 0) {
    throw std::invalid_argument(
        "gauc: no user has both a positive and a negative sample; GAUC is undefined");
  }
  return weighted / weight;
}

double auc_or_nan(const std::vector<float>& scores, const std::vector<float>& labels) {
  bool pos = false, neg = false;
  for (float l : labels) (l == 1.0f ? pos : neg) = true;
  return pos && neg ? auc(scores, labels) : std::numeric_limits<double>::quiet_NaN();
}

double gauc_or_nan(const std::vector<float>& scores, const std::vector<float>& labels,
                   const std::vector<int64_t>& users) {
  // gauc's own grouping decides whether some user has both classes; its only other errors are
  // bad input, which auc_or_nan-style callers have already ruled out.
  try {
    return gauc(scores, labels, users);
  } catch (const std::invalid_argument& e) {
    if (std::string(e.what()).find("GAUC is undefined") == std::string::npos) throw;
    return std::numeric_limits<double>::quiet_NaN();
  }
}

double logloss(const std::vector<float>& probs, const std::vector<float>& labels) {
  return mean_over(
      probs, labels, "logloss", "probs", "labels", [](float p, float y, std::size_t i) {
        check_not_nan(p, i, "logloss", "probability");
        if (!(y >= 0.0f && y <= 1.0f)) {
          throw std::invalid_argument("logloss: label at index " + std::to_string(i) + " is " +
                                      std::to_string(y) + "; labels must lie in [0, 1]");
        }
        const double q = std::clamp(static_cast<double>(p), kProbEps, 1.0 - kProbEps);
        return -(y * std::log(q) + (1.0 - y) * std::log1p(-q));
      });
}

double logloss_from_logits(const std::vector<float>& logits, const std::vector<float>& labels) {
  return mean_over(logits, labels, "logloss_from_logits", "logits", "labels",
                   [](float x, float y, std::size_t i) {
                     check_not_nan(x, i, "logloss_from_logits", "logit");
                     if (!(y >= 0.0f && y <= 1.0f)) {
                       throw std::invalid_argument("logloss_from_logits: label at index " +
                                                   std::to_string(i) + " is " + std::to_string(y) +
                                                   "; labels must lie in [0, 1]");
                     }
                     const double xd = x;
                     return std::max(xd, 0.0) - xd * y + std::log1p(std::exp(-std::abs(xd)));
                   });
}

double relaimpr(double auc_model, double auc_base) {
  if (auc_base == 0.5) {
    throw std::invalid_argument(
        "relaimpr: base AUC is 0.5 (random guessing); RelaImpr is undefined");
  }
  return ((auc_model - 0.5) / (auc_base - 0.5) - 1.0) * 100.0;
}

double mse(const std::vector<float>& pred, const std::vector<float>& target) {
  return mean_over(pred, target, "mse", "pred", "target", [](float p, float t, std::size_t) {
    const double d = static_cast<double>(p) - t;
    return d * d;
  });
}

double mae(const std::vector<float>& pred, const std::vector<float>& target) {
  return mean_over(pred, target, "mae", "pred", "target", [](float p, float t, std::size_t) {
    return std::abs(static_cast<double>(p) - t);
  });
}

double rmse(const std::vector<float>& pred, const std::vector<float>& target) {
  return std::sqrt(mse(pred, target));
}

std::size_t rank_of(const float* row, std::size_t n_items, std::size_t true_item, Ties ties) {
  if (true_item >= n_items) {
    throw std::invalid_argument("rank_of: true item " + std::to_string(true_item) +
                                " is out of range [0, " + std::to_string(n_items) + ")");
  }
  const float t = row[true_item];
  std::size_t greater = 0, equal = 0;
  bool any_nan = false;
  for (std::size_t j = 0; j < n_items; ++j) {
    const float v = row[j];
    greater += v > t;
    equal += v == t;
    any_nan |= std::isnan(v);
  }
  if (any_nan) {
    for (std::size_t j = 0; j < n_items; ++j) check_not_nan(row[j], j, "rank_of", "score of item");
  }
  // `equal` counts the true item itself.
  return ties == Ties::kOptimistic ? 1 + greater : greater + equal;
}

std::vector<std::size_t> ranks(const std::vector<float>& scores, std::size_t n_items,
                               const std::vector<int64_t>& true_items, Ties ties) {
  check_cases(scores, n_items, true_items, "ranks");
  std::vector<std::size_t> out(true_items.size());
  for (std::size_t c = 0; c < true_items.size(); ++c) {
    const int64_t t = true_items[c];
    if (t < 0 || static_cast<std::size_t>(t) >= n_items) {
      throw std::invalid_argument("ranks: case " + std::to_string(c) + " has true item " +
                                  std::to_string(t) + ", outside [0, " + std::to_string(n_items) +
                                  ")");
    }
    try {
      out[c] = rank_of(scores.data() + c * n_items, n_items, static_cast<std::size_t>(t), ties);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("ranks: case " + std::to_string(c) + ": " + e.what());
    }
  }
  return out;
}

double recall_at_k(const std::vector<std::size_t>& ranks, std::size_t k) {
  check_k(k, "recall_at_k");
  check_non_empty(ranks.size(), "recall_at_k");
  std::size_t hits = 0;
  for (std::size_t r : ranks) hits += r <= k;
  return static_cast<double>(hits) / static_cast<double>(ranks.size());
}

double recall_at_k(const std::vector<float>& scores, std::size_t n_items,
                   const std::vector<int64_t>& true_items, std::size_t k, Ties ties) {
  return recall_at_k(ranks(scores, n_items, true_items, ties), k);
}

double mrr_at_k(const std::vector<std::size_t>& ranks, std::size_t k) {
  check_k(k, "mrr_at_k");
  check_non_empty(ranks.size(), "mrr_at_k");
  double sum = 0;
  for (std::size_t r : ranks) {
    if (r == 0) throw std::invalid_argument("mrr_at_k: ranks are 1-based; got a rank of 0");
    if (r <= k) sum += 1.0 / static_cast<double>(r);
  }
  return sum / static_cast<double>(ranks.size());
}

double mrr_at_k(const std::vector<float>& scores, std::size_t n_items,
                const std::vector<int64_t>& true_items, std::size_t k, Ties ties) {
  return mrr_at_k(ranks(scores, n_items, true_items, ties), k);
}

double ndcg_at_k(const std::vector<float>& scores, const std::vector<float>& relevances,
                 std::size_t k, Gain gain) {
  check_same_size(scores.size(), relevances.size(), "ndcg_at_k", "scores", "relevances");
  check_non_empty(scores.size(), "ndcg_at_k");
  check_k(k, "ndcg_at_k");
  const std::size_t n = scores.size();
  std::vector<Scored> s(n);
  for (std::size_t i = 0; i < n; ++i) {
    check_not_nan(scores[i], i, "ndcg_at_k", "score");
    if (!(relevances[i] >= 0.0f)) {
      throw std::invalid_argument("ndcg_at_k: relevance at index " + std::to_string(i) + " is " +
                                  std::to_string(relevances[i]) + "; relevances must be >= 0");
    }
    s[i] = {scores[i], relevances[i]};
  }
  std::sort(s.begin(), s.end(), [](const Scored& a, const Scored& b) { return a.score > b.score; });

  double dcg = 0;
  std::size_t i = 0;
  while (i < n && i < k) {
    std::size_t j = i;
    double group_gain = 0;
    for (; j < n && s[j].score == s[i].score; ++j) group_gain += gain_of(s[j].label, gain);
    double group_discount = 0;  // positions i+1 .. j, 1-based
    for (std::size_t p = i + 1; p <= j; ++p) group_discount += discount(p, k);
    dcg += group_gain * group_discount / static_cast<double>(j - i);
    i = j;
  }

  std::vector<float> ideal(relevances);
  std::sort(ideal.begin(), ideal.end(), [](float a, float b) { return a > b; });
  double idcg = 0;
  for (std::size_t p = 1; p <= std::min(k, n); ++p)
    idcg += gain_of(ideal[p - 1], gain) * discount(p, k);
  return idcg > 0 ? dcg / idcg : 0.0;
}

}  // namespace tinyrec::metrics
