// STAMP and STMP on the next-item task: float64 gradient checks of the attention net and of the
// whole models, the forward pass against the paper's equations computed by hand, ranking metrics
// and the two baselines on hand-built cases with ties, prediction and its errors, and the seeded
// claim that STAMP beats STMP and popularity on the synthetic sessions.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/autograd.hpp"
#include "models/next_item_task.hpp"
#include "models/registry.hpp"
#include "models/stamp.hpp"
#include "models/trainer.hpp"
#include "nn/metrics.hpp"
#include "tests/test_support.hpp"

using namespace tinyrec;
using nlohmann::json;

namespace {

models::StampConfig tiny_config(bool add_ms = false) {
  models::StampConfig c;
  c.n_items = 9;
  c.edim = 4;
  c.init_std = 0.5;
  c.add_ms = add_ms;
  c.seed = 11;
  return c;
}

Tensor<double> uniform(std::mt19937_64& rng, const Shape& shape, double lo, double hi) {
  xt::xarray<double> v = xt::xarray<double>::from_shape(shape);
  std::uniform_real_distribution<double> u(lo, hi);
  for (auto& x : v) x = u(rng);
  return Tensor<double>(std::move(v), true);
}

// The value of a parameter by its dotted name.
xt::xarray<double> param(const models::Model<double>& m, const std::string& name) {
  for (const auto& [n, p] : m.named_parameters())
    if (n == name) return p.value();
  FAIL("no parameter " << name);
  return {};
}

// row · W for W stored [in, out].
std::vector<double> times(const std::vector<double>& row, const xt::xarray<double>& w) {
  std::vector<double> out(w.shape()[1], 0.0);
  for (size_t i = 0; i < w.shape()[0]; ++i)
    for (size_t j = 0; j < w.shape()[1]; ++j) out[j] += row[i] * w(i, j);
  return out;
}

// Row r of `scores` against eqs. 9–11 by hand: h_s = tanh(W_s m + b_s), h_t = tanh(W_t x_t + b_t),
// score_i = ⟨h_s, h_t ⊙ x_i⟩ for every item (m is m_a for STAMP, m_s for STMP).
void check_scores_by_hand(const models::Model<double>& model, const Tensor<double>& scores,
                          size_t r, const std::vector<double>& m, const std::vector<double>& x_t) {
  const xt::xarray<double> E = param(model, "embedding.weight"), Ws = param(model, "mlp_s.weight"),
                           bs = param(model, "mlp_s.bias"), Wt = param(model, "mlp_t.weight"),
                           bt = param(model, "mlp_t.bias");
  const size_t d = m.size();
  std::vector<double> h_s = times(m, Ws), h_t = times(x_t, Wt);
  for (size_t k = 0; k < d; ++k)
    h_s[k] = std::tanh(h_s[k] + bs(k)), h_t[k] = std::tanh(h_t[k] + bt(k));
  for (size_t item = 1; item < E.shape()[0]; ++item) {
    double z = 0;
    for (size_t k = 0; k < d; ++k) z += h_s[k] * h_t[k] * E(item, k);
    CHECK(scores.value()(r, item - 1) == doctest::Approx(z).epsilon(1e-12));
  }
}

}  // namespace

TEST_CASE("stamp attention net: float64 gradcheck over its inputs and weights, padding ignored") {
  std::mt19937_64 rng(5);
  models::StampAttention<double> net(4, rng);
  for (auto& p : net.parameters()) {  // b_a away from 0 so every term matters
    NoGradGuard g;
    for (auto& v : p.value()) v += 0.1;
  }
  const Tensor<double> x = uniform(rng, {2, 3, 4}, -1, 1), x_t = uniform(rng, {2, 4}, -1, 1),
                       m_s = uniform(rng, {2, 4}, -1, 1);
  const Tensor<double> mask(xt::xarray<double>{{1, 1, 1}, {0, 1, 1}});
  std::vector<Tensor<double>> inputs{x, x_t, m_s};
  for (const auto& p : net.parameters()) inputs.push_back(p);
  size_t total = 0;
  for (const auto& t : inputs) total += t.numel();
  const GradcheckResult r = gradcheck(
      [&](const std::vector<Tensor<double>>& in) { return net.forward(in[0], in[1], in[2], mask); },
      inputs);
  INFO(r.report());
  CHECK(r.ok);
  CHECK(r.checked == total);
  const Tensor<double> alpha = net.forward(x, x_t, m_s, mask);
  CHECK(alpha.shape() == Shape{2, 3});
  CHECK(alpha.value()(1, 0) == 0.0);  // a padded position has no weight
  CHECK(alpha.value()(1, 1) != 0.0);
}

TEST_CASE("stamp and stmp: whole-model float64 gradchecks on scores and loss") {
  const data::SessionBatch batch = models::tiny_session_batch();
  REQUIRE(batch.len == 4);
  for (bool add_ms : {false, true}) {
    CAPTURE(add_ms);
    models::STAMP<double> stamp(tiny_config(add_ms));
    const GradcheckResult r = models::gradcheck_session_model(stamp, batch);
    INFO(r.report());
    CHECK(r.ok);
    CHECK(r.checked == stamp.parameter_count());
  }
  models::STMP<double> stmp(tiny_config());
  const GradcheckResult r = models::gradcheck_session_model(stmp, batch);
  INFO(r.report());
  CHECK(r.ok);
  CHECK(r.checked == stmp.parameter_count());
  CHECK(stmp.parameter_count() == 9 * 4 + 2 * (4 * 4 + 4));
}

TEST_CASE("stamp: the scores are the paper's equations 2 and 7–11, computed by hand") {
  for (bool add_ms : {false, true}) {
    CAPTURE(add_ms);
    models::STAMP<double> m(tiny_config(add_ms));
    const data::SessionBatch batch = models::tiny_session_batch();
    const Tensor<double> scores = m.scores(batch);
    REQUIRE(scores.shape() == Shape{3, 8});
    const xt::xarray<double> E = param(m, "embedding.weight"), W1 = param(m, "attention.w1.weight"),
                             W2 = param(m, "attention.w2.weight"),
                             W3 = param(m, "attention.w3.weight"),
                             w0 = param(m, "attention.w0.weight"), ba = param(m, "attention.b_a");
    const size_t d = 4;
    for (size_t r = 0; r < 3; ++r) {
      CAPTURE(r);
      std::vector<std::vector<double>> x;
      for (size_t i = batch.len - batch.lengths[r]; i < batch.len; ++i) {
        const auto id = size_t(batch.items(r, i));
        x.emplace_back(E.data() + id * d, E.data() + (id + 1) * d);
      }
      std::vector<double> m_s(d, 0.0), m_a(d, 0.0);
      for (const auto& xi : x)
        for (size_t k = 0; k < d; ++k) m_s[k] += xi[k] / double(x.size());
      const std::vector<double>& x_t = x.back();
      const std::vector<double> a2 = times(x_t, W2), a3 = times(m_s, W3);
      for (const auto& xi : x) {
        const std::vector<double> a1 = times(xi, W1);
        double alpha = 0;
        for (size_t k = 0; k < d; ++k)
          alpha += w0(k, 0) / (1 + std::exp(-(a1[k] + a2[k] + a3[k] + ba(k))));
        for (size_t k = 0; k < d; ++k) m_a[k] += alpha * xi[k];
      }
      if (add_ms)
        for (size_t k = 0; k < d; ++k) m_a[k] += m_s[k];
      check_scores_by_hand(m, scores, r, m_a, x_t);
    }
  }
}

TEST_CASE("stmp: the scores are the paper's STMP (the session mean in place of m_a), by hand") {
  models::STMP<double> m(tiny_config());
  const data::SessionBatch batch = models::tiny_session_batch();
  const Tensor<double> scores = m.scores(batch);
  REQUIRE(scores.shape() == Shape{3, 8});
  const xt::xarray<double> E = param(m, "embedding.weight");
  const size_t d = 4;
  for (size_t r = 0; r < 3; ++r) {
    CAPTURE(r);
    std::vector<double> m_s(d, 0.0), x_t;
    for (size_t i = batch.len - batch.lengths[r]; i < batch.len; ++i) {
      const auto id = size_t(batch.items(r, i));
      x_t.assign(E.data() + id * d, E.data() + (id + 1) * d);
      for (size_t k = 0; k < d; ++k) m_s[k] += x_t[k] / double(batch.lengths[r]);
    }
    check_scores_by_hand(m, scores, r, m_s, x_t);
  }
}

TEST_CASE("stamp and stmp: real item ids in the padding change no score") {
  const data::SessionBatch clean = models::tiny_session_batch();
  data::SessionBatch junk = clean;
  size_t planted = 0;
  for (size_t r = 0; r < junk.size; ++r)
    for (size_t i = 0; i < junk.len - junk.lengths[r]; ++i, ++planted)
      junk.items(r, i) = int64_t(1 + (r + 3 * i) % 8);  // real rows of the embedding table
  REQUIRE(planted > 0);
  models::STMP<double> stmp(tiny_config());
  for (bool add_ms : {false, true}) {
    CAPTURE(add_ms);
    models::STAMP<double> stamp(tiny_config(add_ms));
    const xt::xarray<double> want = stamp.scores(clean).value(), got = stamp.scores(junk).value();
    for (size_t k = 0; k < want.size(); ++k)
      CHECK(got.data()[k] == doctest::Approx(want.data()[k]).epsilon(1e-12));
  }
  const xt::xarray<double> want = stmp.scores(clean).value(), got = stmp.scores(junk).value();
  for (size_t k = 0; k < want.size(); ++k)
    CHECK(got.data()[k] == doctest::Approx(want.data()[k]).epsilon(1e-12));
}

TEST_CASE("next-item metrics: hand-built ranks with ties counted pessimistically") {
  // Row scores over 5 items; the true item (column 0) ties with columns 2 and 4 and trails
  // column 1: three items score at least as high as it, so its rank is 4, not 2.
  const std::vector<float> row{0.5f, 0.9f, 0.5f, 0.1f, 0.5f};
  CHECK(metrics::rank_of(row.data(), 5, 0) == 4);
  CHECK(metrics::rank_of(row.data(), 5, 1) == 1);
  CHECK(metrics::rank_of(row.data(), 5, 3) == 5);
  // Ranks 4, 1, 15, 25: Recall@10 = 2/4, Recall@20 = 3/4; MRR@10 = (1/4 + 1)/4,
  // MRR@20 = (1/4 + 1 + 1/15)/4.
  const json m = models::ranking_metrics({4, 1, 15, 25});
  CHECK(m.at("recall@10").get<double>() == doctest::Approx(0.5));
  CHECK(m.at("recall@20").get<double>() == doctest::Approx(0.75));
  CHECK(m.at("mrr@10").get<double>() == doctest::Approx((0.25 + 1) / 4));
  CHECK(m.at("mrr@20").get<double>() == doctest::Approx((0.25 + 1 + 1.0 / 15) / 4));
  CHECK(m.at("cases") == 4);
}

TEST_CASE("baselines: popularity and last-item ranks on a hand-built split, ties pessimistic") {
  data::SessionDataset d;
  d.name = "hand";
  d.n_items = 6;
  // Clicks: item 1 ×4, 2 ×3, 3 ×3, 4 ×1, 5 ×0. Transitions out of 2: 2→3 twice, 2→1 once.
  d.train_sessions = {{1, 2, 3}, {1, 2, 3}, {2, 1, 4}, {1, 3}};
  d.test_sessions = {{2, 3}, {2, 4}, {4, 5}, {5, 2}};
  data::finish_session_dataset(d);
  REQUIRE(d.item_counts == std::vector<int64_t>{0, 4, 3, 3, 1, 0});
  // Popularity: target 3 ties with 2 (3 clicks each) behind 1 → rank 3; target 4 → 4; target 5
  // ties with nothing below it → 5; target 2 ties with 3 → 3.
  CHECK(models::popularity_ranks(d) == std::vector<size_t>{3, 4, 5, 3});
  // Last item: after 2, item 3 (twice) comes first → 1; item 4 never followed 2, so it comes after
  // 2's followers 3 and 1, then by popularity after 2 (3 clicks) → 4; after 4 nothing was seen
  // (training ends sessions at 4), so popularity alone → 5; after 5 likewise → 3.
  CHECK(models::last_item_ranks(d) == std::vector<size_t>{1, 4, 5, 3});
}

TEST_CASE("next-item task: predict prints the top-K items per session; bad tokens are named") {
  models::RunConfig rc;
  rc.model = "stamp";
  rc.data_options = models::find_task("next_item").tiny_data;
  rc.model_options = {{"edim", 8}};
  rc.task_options = {{"top_k", 3}};
  models::Run run = models::build_run(rc);
  const std::string dir = std::filesystem::temp_directory_path().string() + "/tinyrec_stamp_" +
                          std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string good = dir + "/sessions.txt", bad = dir + "/bad.txt";
  std::ofstream(good) << "3 5 7\n\n12,4\n";
  std::ofstream(bad) << "3 5\n12 x99 4\n";
  std::ostringstream out;
  CHECK(run.task->predict(*run.model, good, out) == 2);  // the blank line is no session
  std::istringstream lines(out.str());
  std::string line;
  size_t n = 0;
  while (std::getline(lines, line)) {
    ++n;
    std::istringstream words(line);
    std::vector<std::string> items;
    for (std::string w; words >> w;) items.push_back(w);
    CHECK(items.size() == 3);
    for (const auto& w : items) CHECK((std::stoi(w) >= 1 && std::stoi(w) <= 40));
  }
  CHECK(n == 2);
  // The top item is the arg-max of the model's scores for that session.
  auto& model = dynamic_cast<models::SessionModel<float>&>(*run.model);
  data::SessionBatch b;
  data::fill_session_batch({{3, 5, 7, 1}}, {{0, 3}}, {0}, 50, b);
  const Tensor<float> s = model.scores(b);
  size_t best = 0;
  for (size_t j = 1; j < s.numel(); ++j) best = s.data()[j] > s.data()[best] ? j : best;
  CHECK(out.str().substr(0, out.str().find(':')) == std::to_string(best + 1));
  CHECK(std::stod(out.str().substr(out.str().find(':') + 1)) ==
        doctest::Approx(s.data()[best]).epsilon(1e-7));

  std::ostringstream ignored;
  std::string message = "no error";
  try {
    run.task->predict(*run.model, bad, ignored);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  CHECK(message == bad + ":2:4: item \"x99\" is not one of the model's items");
  std::filesystem::remove_all(dir);
}

// One command reruns it: tinyrec train --model stamp --edim 16 --epochs 4 --batch-size 64 --lr
// 0.005 (and --model stmp). Each session follows three intents side by side and mostly returns
// to earlier clicks of the thread it is on: attention driven by the last click finds that
// thread's clicks, where the session mean blurs all three (and the stray clicks) together. The
// leads, measured over the claim's seeds (data, weights and batch order 1) and three more of each
// kind (TINYREC_CLAIM_SEEDS=3, Intel Xeon model 207): MRR@20 over STMP +0.0104 to +0.0183; over
// popularity, Recall@20 +0.239 to +0.261 and MRR@20 +0.270 to +0.275. Asserted: more than 0.007,
// 0.2 and 0.2. STAMP's Recall@20 lead over STMP (-0.0056 to +0.0118) is inside the seeds'
// spread: not a claim here.
TEST_CASE("stamp beats stmp and popularity on the synthetic sessions (seeded)") {
  for (const tinyrec_test::ClaimSeeds& seeds : tinyrec_test::claim_seeds({1, 1, 1})) {
    CAPTURE(seeds.str());
    auto run_model = [&](const std::string& name) {
      models::RunConfig rc;
      rc.model = name;
      rc.model_options = {{"edim", 16}};
      rc.train.epochs = 4;
      rc.train.batch_size = 64;
      rc.train.lr = 0.005;
      rc.train.seed = seeds.order;
      rc.model_seed = seeds.model;
      rc.data_seed = seeds.data;
      models::Run run = models::build_run(rc);
      models::Trainer trainer(*run.task, *run.model, run.config.train);
      return trainer.fit().test;
    };
    const json stamp = run_model("stamp"), stmp = run_model("stmp");
    const json& pop = stamp.at("baselines").at("popularity");
    const double mrr = stamp.at("mrr@20").get<double>(),
                 recall = stamp.at("recall@20").get<double>();
    MESSAGE(seeds.str() << ": MRR@20 stamp - stmp " << mrr - stmp.at("mrr@20").get<double>()
                        << ", Recall@20 stamp - stmp "
                        << recall - stmp.at("recall@20").get<double>()
                        << ", stamp - popularity: Recall@20 "
                        << recall - pop.at("recall@20").get<double>() << ", MRR@20 "
                        << mrr - pop.at("mrr@20").get<double>());
    CHECK(mrr > stmp.at("mrr@20").get<double>() + 0.007);
    CHECK(recall > pop.at("recall@20").get<double>() + 0.2);
    CHECK(mrr > pop.at("mrr@20").get<double>() + 0.2);
  }
}
