// Tutorial 8: STAMP (Liu et al., KDD 2018), session-based next-item recommendation. The seeded
// synthetic sessions and what a popularity list and the last click alone achieve on them; then
// STAMP's pieces — m_s, m_t, the attention net and m_a, the two MLP cells and the trilinear score —
// computed by hand on a small session beside models::STAMP, and the loss over every item against
// its textbook form. Then STMP and STAMP (paper attention, and the authors' m_a + m_s) train on the
// shared Trainer, and the program prints the results table and checks the paper's claim that
// STAMP ranks better than STMP. Exits 1 if any check fails.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "data/session_synthetic.hpp"
#include "models/next_item_task.hpp"
#include "models/stamp.hpp"
#include "models/trainer.hpp"
#include "tutorials/checks.hpp"

namespace {

using tinyrec::tutorial::check;
using tinyrec::tutorial::check_above;
using tinyrec::tutorial::check_true;

using namespace tinyrec;
using nlohmann::json;

// ---- Step 1: the data, and the two baselines ----

void step_data(const data::SessionDataset& d, const json& baselines) {
  std::printf("== Step 1: the synthetic sessions ==\n");
  std::printf("  %zu train / %zu test sessions, %zu / %zu prefix cases, %lld items\n",
              d.train_sessions.size(), d.test_sessions.size(), d.train.size(), d.test.size(),
              static_cast<long long>(d.n_items - 1));
  std::printf("  the first training session:");
  for (int64_t id : d.train_sessions[0]) std::printf(" %lld", static_cast<long long>(id));
  std::printf(
      "\n  every prefix predicts its next click: [%lld] -> %lld, [%lld %lld] -> %lld, ...\n",
      static_cast<long long>(d.train_sessions[0][0]),
      static_cast<long long>(d.train_sessions[0][1]),
      static_cast<long long>(d.train_sessions[0][0]),
      static_cast<long long>(d.train_sessions[0][1]),
      static_cast<long long>(d.train_sessions[0][2]));
  for (const char* name : {"popularity", "last_item"}) {
    const json& m = baselines.at(name);
    std::printf("  %-11s Recall@20 %.4f  MRR@20 %.4f\n", name, m.at("recall@20").get<double>(),
                m.at("mrr@20").get<double>());
  }
  check_true("the last click alone beats popularity (Recall@20)",
             baselines.at("last_item").at("recall@20").get<double>() >
                 baselines.at("popularity").at("recall@20").get<double>() + 0.1);
}

// ---- Steps 2–5: the pieces by hand on a small session ----

using Vec = std::vector<double>;

Vec row_of(const xt::xarray<double>& table, size_t r) {
  const size_t d = table.shape()[1];
  return Vec(table.data() + r * d, table.data() + (r + 1) * d);
}

// v·W for W stored [in, out] (tinyrec's Linear: y = x·W + b).
Vec times(const Vec& v, const xt::xarray<double>& w) {
  Vec out(w.shape()[1], 0.0);
  for (size_t i = 0; i < w.shape()[0]; ++i)
    for (size_t j = 0; j < w.shape()[1]; ++j) out[j] += v[i] * w(i, j);
  return out;
}

xt::xarray<double> param(const models::Model<double>& m, const std::string& name) {
  for (const auto& [n, p] : m.named_parameters())
    if (n == name) return p.value();
  throw std::runtime_error("no parameter " + name);
}

double max_diff(const Vec& a, const Tensor<double>& t, size_t row) {
  double worst = 0;
  for (size_t k = 0; k < a.size(); ++k) worst = std::max(worst, std::abs(a[k] - t.value()(row, k)));
  return worst;
}

void step_pieces() {
  models::StampConfig c;
  c.n_items = 9;
  c.edim = 4;
  c.init_std = 0.5;
  c.seed = 3;
  models::STAMP<double> stamp(c);
  const data::SessionBatch b = models::tiny_session_batch();  // prefixes [2 5 3 8], [6 1], [8]
  const Tensor<double> scores = stamp.scores(b);
  const auto& p = stamp.parts();
  const xt::xarray<double> E = param(stamp, "embedding.weight");
  const size_t row = 0, d = 4, t = b.lengths[row];
  std::vector<Vec> x;
  for (size_t i = b.len - t; i < b.len; ++i) x.push_back(row_of(E, size_t(b.items(row, i))));

  std::printf("\n== Step 2: m_s, the session mean, and m_t, the last click ==\n");
  Vec m_s(d, 0.0);
  for (const Vec& xi : x)
    for (size_t k = 0; k < d; ++k) m_s[k] += xi[k] / double(t);
  const Vec& m_t = x.back();
  check("|m_s by hand - model| (eq. 2)", max_diff(m_s, p.m_s, row), 0, 1e-14);
  check("|m_t = x_t by hand - model|", max_diff(m_t, p.m_t, row), 0, 1e-14);

  std::printf("\n== Step 3: the attention net (eq. 7) and m_a (eq. 8) ==\n");
  const xt::xarray<double> W1 = param(stamp, "attention.w1.weight"),
                           W2 = param(stamp, "attention.w2.weight"),
                           W3 = param(stamp, "attention.w3.weight"),
                           w0 = param(stamp, "attention.w0.weight"),
                           b_a = param(stamp, "attention.b_a");
  const Vec a2 = times(m_t, W2), a3 = times(m_s, W3);
  Vec m_a(d, 0.0);
  for (size_t i = 0; i < t; ++i) {
    const Vec a1 = times(x[i], W1);
    double alpha = 0;
    for (size_t k = 0; k < d; ++k)
      alpha += w0(k, 0) / (1 + std::exp(-(a1[k] + a2[k] + a3[k] + b_a(k))));
    check("alpha_" + std::to_string(i + 1) + " by hand vs model", alpha,
          p.alpha.value()(row, b.len - t + i), 1e-14);
    for (size_t k = 0; k < d; ++k) m_a[k] += alpha * x[i][k];
  }
  check("|m_a by hand - model|", max_diff(m_a, p.m_a, row), 0, 1e-14);
  double alpha_sum = 0;
  for (size_t i = 0; i < t; ++i) alpha_sum += p.alpha.value()(row, b.len - t + i);
  std::printf("  the weights sum to %.4f, not 1: no softmax, as in the paper\n", alpha_sum);
  check("a padded position has weight 0", p.alpha.value()(2, 0), 0, 0);

  std::printf("\n== Step 4: the MLP cells (eq. 9, 10) and the trilinear score (eq. 11) ==\n");
  Vec h_s = times(m_a, param(stamp, "mlp_s.weight")),
      h_t = times(m_t, param(stamp, "mlp_t.weight"));
  const xt::xarray<double> bs = param(stamp, "mlp_s.bias"), bt = param(stamp, "mlp_t.bias");
  for (size_t k = 0; k < d; ++k)
    h_s[k] = std::tanh(h_s[k] + bs(k)), h_t[k] = std::tanh(h_t[k] + bt(k));
  check("|h_s by hand - model|", max_diff(h_s, p.h_s, row), 0, 1e-14);
  check("|h_t by hand - model|", max_diff(h_t, p.h_t, row), 0, 1e-14);
  double worst = 0;
  for (size_t item = 1; item < 9; ++item) {
    double z = 0;
    for (size_t k = 0; k < d; ++k) z += h_s[k] * h_t[k] * E(item, k);
    worst = std::max(worst, std::abs(z - scores.value()(row, item - 1)));
  }
  check("max |<h_s, h_t * x_i> - score_i| over 8 items", worst, 0, 1e-14);

  std::printf("\n== Step 5: softmax cross-entropy over every item ==\n");
  double loss = 0;
  for (size_t r = 0; r < b.size; ++r) {
    double hi = -1e300, total = 0;
    for (size_t j = 0; j < 8; ++j) hi = std::max(hi, scores.value()(r, j));
    for (size_t j = 0; j < 8; ++j) total += std::exp(scores.value()(r, j) - hi);
    loss += hi + std::log(total) - scores.value()(r, size_t(b.targets(r) - 1));
  }
  check("mean -log softmax(z)[next] by hand vs next_item_loss", loss / double(b.size),
        models::next_item_loss<double>(stamp, b).item(), 1e-13);

  models::STMP<double> stmp(c);
  stmp.scores(b);
  check_true("STMP: m_a is m_s (no attention)",
             max_diff(row_of(stmp.parts().m_s.value(), 0), stmp.parts().m_a, 0) == 0);
}

// ---- Step 6: training ----

struct Result {
  std::string label;
  json test;
  double seconds = 0;
};

Result train(const std::string& label, const std::string& model, json model_options,
             const tinyrec::tutorial::Seeds& seeds) {
  models::RunConfig rc;
  rc.model = model;
  rc.data_seed = seeds.data;
  rc.model_seed = seeds.model;
  rc.train.seed = seeds.order;
  rc.model_options = std::move(model_options);
  rc.train.epochs = 4;
  rc.train.batch_size = 64;
  rc.train.lr = 0.005;
  const auto t0 = std::chrono::steady_clock::now();
  models::Run run = models::build_run(rc);
  models::Trainer trainer(*run.task, *run.model, run.config.train);
  models::TrainCallbacks callbacks;
  callbacks.on_point = [&](const models::CurvePoint& p, bool) {
    std::printf("  %-14s epoch %.0f: train loss %.4f | test %s\n", label.c_str(), p.epoch,
                p.train.at(0).second, run.task->summarize(p.test).c_str());
  };
  Result r{label, trainer.fit(callbacks).test, 0};
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

double at(const json& m, const char* key) {
  return m.at(key).get<double>();
}

}  // namespace

int main() {
  tinyrec::tune_allocator();  // a training program's choice: see autograd/tensor.hpp
  return tinyrec::tutorial::run([&] {
    const tinyrec::tutorial::Seeds seeds = tinyrec::tutorial::seeds({1, 1, 1});
    data::SessionSyntheticConfig sessions;
    sessions.seed = seeds.data;
    models::NextItemTask task(data::make_session_synthetic(sessions), models::NextItemOptions{});
    const json baselines = {
        {"popularity", models::ranking_metrics(models::popularity_ranks(task.data()))},
        {"last_item", models::ranking_metrics(models::last_item_ranks(task.data()))}};
    step_data(task.data(), baselines);
    step_pieces();

    std::printf("\n== Step 6: training (Adam, lr 0.005, batch 64, edim 32, 4 epochs) ==\n");
    const std::vector<Result> runs = {
        train("STMP", "stmp", {{"edim", 32}}, seeds),
        train("STAMP", "stamp", {{"edim", 32}}, seeds),
        train("STAMP m_a+m_s", "stamp", {{"edim", 32}, {"add_ms", true}}, seeds)};

    std::printf("\n== Step 7: results (test split, every prefix of the test sessions) ==\n");
    std::printf("| model          | Recall@20 | MRR@20 | Recall@10 | MRR@10 |\n");
    std::printf("| -------------- | --------- | ------ | --------- | ------ |\n");
    auto line = [](const std::string& label, const json& m) {
      std::printf("| %-14s | %.4f    | %.4f | %.4f    | %.4f |\n", label.c_str(),
                  at(m, "recall@20"), at(m, "mrr@20"), at(m, "recall@10"), at(m, "mrr@10"));
    };
    line("popularity", baselines.at("popularity"));
    line("last item", baselines.at("last_item"));
    for (const Result& r : runs) line(r.label, r.test);
    for (const Result& r : runs)
      std::printf("  %s trained in %.1f s\n", r.label.c_str(), r.seconds);

    const json &stmp = runs[0].test, &stamp = runs[1].test;
    // The leads, measured over the tutorial's seeds (data, weights and batch order 1) and three
    // more of each kind (TINYREC_SEEDS, Intel Xeon model 207): MRR@20 over STMP +0.0046 to +0.0126
    // (+0.0097 on its own seeds, +0.0046 on weight seed 4), Recall@20 over popularity +0.282 to
    // +0.305. The Recall@20 lead over STMP (batch-order seeds 1-3: +0.0035, +0.0024, +0.0031) is
    // too small to be a claim.
    check_above("MRR@20: STAMP - STMP", at(stamp, "mrr@20") - at(stmp, "mrr@20"), 0.003);
    check_above("Recall@20: STAMP - popularity",
                at(stamp, "recall@20") - at(baselines.at("popularity"), "recall@20"), 0.2);
  });
}
