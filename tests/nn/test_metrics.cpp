// Tests for tinyrec::metrics against hand-computed values and a brute-force pair count.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "nn/metrics.hpp"

namespace m = tinyrec::metrics;

namespace {

// O(n^2) definition of AUC used as an independent reference.
double brute_force_auc(const std::vector<float>& s, const std::vector<float>& y) {
  double wins = 0, pairs = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (y[i] != 1.0f) continue;
    for (std::size_t j = 0; j < s.size(); ++j) {
      if (y[j] != 0.0f) continue;
      pairs += 1;
      wins += s[i] > s[j] ? 1.0 : (s[i] == s[j] ? 0.5 : 0.0);
    }
  }
  return wins / pairs;
}

}  // namespace

TEST_CASE("auc: hand-computed cases") {
  // Positives 0.35, 0.8; negatives 0.1, 0.4: 0.35>0.1, 0.35<0.4, 0.8>0.1, 0.8>0.4 -> 3/4.
  CHECK(m::auc({0.1f, 0.4f, 0.35f, 0.8f}, {0, 0, 1, 1}) == doctest::Approx(0.75));
  // Everything tied: every pair counts one half.
  CHECK(m::auc({0.5f, 0.5f, 0.5f, 0.5f}, {0, 1, 0, 1}) == doctest::Approx(0.5));
  // Positives 0.5, 0.9; negatives 0.2, 0.5: 1 + 0.5 (tie) + 1 + 1 = 3.5 of 4 pairs.
  CHECK(m::auc({0.2f, 0.5f, 0.5f, 0.9f}, {0, 1, 0, 1}) == doctest::Approx(0.875));
  // Perfectly reversed.
  CHECK(m::auc({0.9f, 0.8f, 0.1f}, {0, 0, 1}) == doctest::Approx(0.0));
  // The pointer overload reads the same data.
  const float s[] = {0.1f, 0.4f, 0.35f, 0.8f};
  const float y[] = {0, 0, 1, 1};
  CHECK(m::auc(s, y, 4) == doctest::Approx(0.75));
}

TEST_CASE("auc: matches the pairwise definition on random data with many ties") {
  std::mt19937_64 rng(7);
  std::vector<float> s(400), y(400);
  for (std::size_t i = 0; i < s.size(); ++i) {
    s[i] = static_cast<float>(rng() % 17) / 16.0f;  // only 17 distinct values: many ties
    y[i] = (rng() % 3 == 0) ? 1.0f : 0.0f;
  }
  CHECK(m::auc(s, y) == doctest::Approx(brute_force_auc(s, y)).epsilon(1e-12));
}

TEST_CASE("auc: errors") {
  CHECK_THROWS_WITH_AS(m::auc({0.1f, 0.2f}, {1, 1}), doctest::Contains("only one class"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(m::auc({0.1f, 0.2f}, {1}), doctest::Contains("scores has 2"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(m::auc({0.1f, 0.2f}, {1, 2}), doctest::Contains("labels must be 0 or 1"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(m::auc({0.1f, NAN}, {1, 0}), doctest::Contains("index 1 is NaN"),
                       std::invalid_argument);
}

TEST_CASE("gauc: weights by sample count and skips single-class users") {
  // User 42: scores {0.9, 0.2, 0.6}, labels {1, 0, 0}: the positive beats both -> AUC 1, w = 3.
  // User 7:  scores {0.3, 0.7, 0.5, 0.1}, labels {1, 0, 1, 0}: positive 0.3 beats 0.1 only,
  //          0.5 beats 0.1 only -> AUC 2/4 = 0.5, w = 4.
  // User 1000: labels {1, 1} -> one class, skipped.
  // GAUC = (3 * 1 + 4 * 0.5) / (3 + 4) = 5/7. Users are interleaved to test grouping.
  const std::vector<int64_t> users = {42, 7, 1000, 42, 7, 7, 1000, 42, 7};
  const std::vector<float> scores = {0.9f, 0.3f, 0.4f, 0.2f, 0.7f, 0.5f, 0.8f, 0.6f, 0.1f};
  const std::vector<float> labels = {1, 1, 1, 0, 0, 1, 1, 0, 0};
  CHECK(m::gauc(scores, labels, users) == doctest::Approx(5.0 / 7.0));
}

TEST_CASE("gauc: errors") {
  CHECK_THROWS_WITH_AS(m::gauc({0.1f, 0.2f}, {1, 0}, {1, 2}), doctest::Contains("no user has both"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(m::gauc({0.1f, 0.2f}, {1, 0}, {1}), doctest::Contains("users has 1"),
                       std::invalid_argument);
}

TEST_CASE("auc_or_nan and gauc_or_nan: the metric where defined, NaN where not") {
  // Defined: the same numbers as auc and gauc.
  CHECK(m::auc_or_nan({0.1f, 0.4f, 0.35f, 0.8f}, {0, 0, 1, 1}) == doctest::Approx(0.75));
  const std::vector<int64_t> users = {42, 7, 1000, 42, 7, 7, 1000, 42, 7};
  const std::vector<float> scores = {0.9f, 0.3f, 0.4f, 0.2f, 0.7f, 0.5f, 0.8f, 0.6f, 0.1f};
  const std::vector<float> labels = {1, 1, 1, 0, 0, 1, 1, 0, 0};
  CHECK(m::gauc_or_nan(scores, labels, users) == doctest::Approx(5.0 / 7.0));
  // Undefined (one class overall; no user with both classes): NaN instead of an error.
  CHECK(std::isnan(m::auc_or_nan({0.1f, 0.2f}, {1, 1})));
  CHECK(std::isnan(m::auc_or_nan({0.1f, 0.2f}, {0, 0})));
  CHECK(std::isnan(m::gauc_or_nan({0.1f, 0.2f}, {1, 0}, {1, 2})));
  // Bad input is still an error.
  CHECK_THROWS_WITH_AS(m::gauc_or_nan({0.1f, 0.2f}, {1, 0}, {1}), doctest::Contains("users has 1"),
                       std::invalid_argument);
  CHECK_THROWS_AS(m::auc_or_nan({0.1f, 0.2f, 0.3f}, {1, 0}), std::invalid_argument);
}

TEST_CASE("relaimpr: DIN paper numbers") {
  // (0.3818 / 0.3624 - 1) * 100 = 5.3532 (the paper reports +5.35%).
  CHECK(m::relaimpr(0.8818, 0.8624) == doctest::Approx(5.3532).epsilon(1e-4));
  // DIN with Dice: (0.3871 / 0.3624 - 1) * 100 = 6.8157 (paper: +6.82%).
  CHECK(m::relaimpr(0.8871, 0.8624) == doctest::Approx(6.8157).epsilon(1e-4));
  CHECK(m::relaimpr(0.7, 0.7) == doctest::Approx(0.0));
  CHECK_THROWS_AS(m::relaimpr(0.7, 0.5), std::invalid_argument);
}

TEST_CASE("logloss and logloss_from_logits") {
  // -(ln 0.9 + ln 0.8) / 2
  CHECK(m::logloss({0.9f, 0.2f}, {1, 0}) == doctest::Approx(0.164252033486018));
  // A probability of exactly 0 for a positive is clipped to 1e-7: -ln(1e-7).
  CHECK(m::logloss({0.0f}, {1}) == doctest::Approx(16.11809565095832));
  // (log(1 + e^-2) + log(1 + e^-3)) / 2 for (x=2, y=1) and (x=-3, y=0).
  CHECK(m::logloss_from_logits({2.0f, -3.0f}, {1, 0}) == doctest::Approx(0.08775768130835727));
  // Large logits stay finite and exact: a confident wrong answer costs |x|.
  CHECK(m::logloss_from_logits({100.0f}, {0}) == doctest::Approx(100.0));
  CHECK(m::logloss_from_logits({-100.0f}, {0}) == doctest::Approx(0.0));
  // The two agree on moderate values with soft labels.
  const std::vector<float> x = {-1.5f, 0.0f, 0.7f, 3.0f};
  const std::vector<float> y = {0.0f, 1.0f, 0.25f, 1.0f};
  std::vector<float> p;
  for (float v : x) p.push_back(1.0f / (1.0f + std::exp(-v)));
  CHECK(m::logloss(p, y) == doctest::Approx(m::logloss_from_logits(x, y)).epsilon(1e-6));
  CHECK_THROWS_WITH_AS(m::logloss({0.5f}, {2}), doctest::Contains("[0, 1]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(m::logloss({}, {}), doctest::Contains("empty"), std::invalid_argument);
}

TEST_CASE("mse, mae, rmse") {
  // Errors -0.5, 0, -2.
  const std::vector<float> pred = {1, 2, 3}, target = {1.5f, 2, 5};
  CHECK(m::mse(pred, target) == doctest::Approx(4.25 / 3));
  CHECK(m::mae(pred, target) == doctest::Approx(2.5 / 3));
  CHECK(m::rmse(pred, target) == doctest::Approx(1.1902380714238083));
  CHECK_THROWS_AS(m::mse({1, 2}, {1}), std::invalid_argument);
}

TEST_CASE("recall_at_k and mrr_at_k on three cases") {
  // 3 cases x 4 items.
  // case 0: true item 1 has the top score            -> rank 1
  // case 1: true item 0 (0.5) is below 0.8 and 0.6   -> rank 3
  // case 2: true item 1 (0.4) is below 0.7 and tied with item 0
  //         -> rank 3 pessimistic, 2 optimistic
  const std::vector<float> scores = {0.1f, 0.9f, 0.3f, 0.2f,  //
                                     0.5f, 0.2f, 0.8f, 0.6f,  //
                                     0.4f, 0.4f, 0.1f, 0.7f};
  const std::vector<int64_t> truth = {1, 0, 1};
  CHECK(m::ranks(scores, 4, truth) == std::vector<std::size_t>{1, 3, 3});
  CHECK(m::ranks(scores, 4, truth, m::Ties::kOptimistic) == std::vector<std::size_t>{1, 3, 2});

  CHECK(m::recall_at_k(scores, 4, truth, 2) == doctest::Approx(1.0 / 3));
  CHECK(m::mrr_at_k(scores, 4, truth, 2) == doctest::Approx(1.0 / 3));
  CHECK(m::recall_at_k(scores, 4, truth, 2, m::Ties::kOptimistic) == doctest::Approx(2.0 / 3));
  CHECK(m::mrr_at_k(scores, 4, truth, 2, m::Ties::kOptimistic) == doctest::Approx(0.5));
  // k = 3: all hit; (1 + 1/3 + 1/3) / 3 = 5/9.
  CHECK(m::recall_at_k(scores, 4, truth, 3) == doctest::Approx(1.0));
  CHECK(m::mrr_at_k(scores, 4, truth, 3) == doctest::Approx(5.0 / 9));
}

TEST_CASE("recall_at_k and mrr_at_k from precomputed ranks") {
  const std::vector<std::size_t> r = {1, 5, 20, 21};
  CHECK(m::recall_at_k(r, 20) == doctest::Approx(0.75));
  CHECK(m::mrr_at_k(r, 20) == doctest::Approx((1 + 0.2 + 0.05) / 4));
  CHECK_THROWS_AS(m::mrr_at_k(std::vector<std::size_t>{0}, 20), std::invalid_argument);
  CHECK_THROWS_AS(m::recall_at_k(r, 0), std::invalid_argument);
}

TEST_CASE("session metric errors") {
  CHECK_THROWS_WITH_AS(m::ranks({0.1f, 0.2f, 0.3f}, 2, {0, 1}), doctest::Contains("expected"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(m::ranks({0.1f, 0.2f}, 2, {2}), doctest::Contains("true item 2"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(m::ranks({0.1f, NAN}, 2, {0}), doctest::Contains("case 0"),
                       std::invalid_argument);
}

TEST_CASE("ndcg_at_k") {
  // Relevances {3, 2, 3, 0}, predicted order by score: item1 (rel 2), item0 (3), item3 (0), item2
  // (3). Exponential gain, k = 3:
  //   DCG  = 3/log2(2) + 7/log2(3) + 0/log2(4) = 7.41650
  //   IDCG = 7/log2(2) + 7/log2(3) + 3/log2(4) = 12.91650   -> 0.574188
  const std::vector<float> scores = {0.8f, 0.9f, 0.1f, 0.5f};
  const std::vector<float> rel = {3, 2, 3, 0};
  CHECK(m::ndcg_at_k(scores, rel, 3) == doctest::Approx(0.574188054));
  // Linear gain: (2 + 3/log2 3) / (3 + 3/log2 3 + 2/2) = 0.660602.
  CHECK(m::ndcg_at_k(scores, rel, 3, m::Gain::kLinear) == doctest::Approx(0.6606021509));
  // The ideal order scores 1; k beyond the list length is fine.
  CHECK(m::ndcg_at_k({4, 3, 2, 1}, {3, 3, 2, 0}, 10) == doctest::Approx(1.0));
  // Two tied items at positions 1-2 with k = 1: the expected discount is (1 + 0) / 2, so the
  // relevant item gets half credit whichever order the inputs come in.
  CHECK(m::ndcg_at_k({0.5f, 0.5f}, {1, 0}, 1) == doctest::Approx(0.5));
  CHECK(m::ndcg_at_k({0.5f, 0.5f}, {0, 1}, 1) == doctest::Approx(0.5));
  // Nothing relevant: defined as 0.
  CHECK(m::ndcg_at_k({0.5f, 0.2f}, {0, 0}, 2) == doctest::Approx(0.0));
  CHECK_THROWS_AS(m::ndcg_at_k({0.5f}, {1}, 0), std::invalid_argument);
  CHECK_THROWS_AS(m::ndcg_at_k({0.5f}, {-1}, 1), std::invalid_argument);
}
