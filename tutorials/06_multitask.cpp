// Tutorial 6: multi-task learning. Task relatedness on the MMoE paper's synthetic data;
// Shared-Bottom → OMoE → MMoE → PLE built and checked on one batch; a reduced run of the paper's
// correlation experiment (seed 1 of `tinyrec experiment mmoe-correlation`); ESMM against a CVR
// model trained on clicked impressions only; and, when given income.csv (data/get_income.sh), the
// models on the kernlab income survey. Exits 1 if an identity or a demonstration does not hold.
// Usage: tutorial_06_multitask [path/to/income.csv]   (or TINYREC_INCOME_CSV=...)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "autograd/autograd.hpp"
#include "data/esmm_synthetic.hpp"
#include "data/mmoe_synthetic.hpp"
#include "data/svg_plot.hpp"
#include "data/tabular_csv.hpp"
#include "models/esmm.hpp"
#include "models/mmoe.hpp"
#include "models/multitask_model.hpp"
#include "models/ple.hpp"
#include "models/train_multitask.hpp"
#include "nn/metrics.hpp"
#include "nn/optim.hpp"

using namespace tinyrec;

namespace {

int failures = 0;

void expect(const std::string& what, bool ok) {
  std::printf("  %-66s %s\n", what.c_str(), ok ? "ok" : "NOT AS DESCRIBED");
  if (!ok) ++failures;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---- 1. How related are the tasks? ----
void relatedness() {
  std::printf("\n1. Task relatedness on the MMoE paper's synthetic data (d = 100, m = 10 sines)\n");
  std::printf("  %5s  %16s  %22s\n", "p", "cos(w1, w2)", "label correlation");
  for (double p : {1.0, 0.9, 0.5, 0.0}) {
    data::MmoeSyntheticConfig s;
    s.p = p;
    s.train = 10000;
    s.test = 0;
    data::MmoeSyntheticReport r;
    data::make_mmoe_synthetic(s, &r);
    std::printf("  %5.1f  %16.12f  %22.3f\n", p, r.cosine_w1_w2, r.label_correlation);
    if (std::abs(r.cosine_w1_w2 - p) > 1e-9) ++failures;
  }
  std::printf("  (the sines make the labels less correlated than the weights)\n");
}

// ---- 2. The four architectures on one batch ----
void architectures() {
  std::printf("\n2. Shared-Bottom -> OMoE -> MMoE -> PLE on one batch of 6 rows (paper sizes)\n");
  data::MmoeSyntheticConfig s;
  s.train = 6;
  s.test = 0;
  const data::MultiTaskDataset ds = data::make_mmoe_synthetic(s);
  data::MultiTaskBatcher batches(ds.train_x, ds.train_cat, ds.train_y, 6, false, 0);
  data::MultiTaskBatch batch;
  batches.next(batch);
  models::MultiTaskConfig c;  // d = 100, 8 experts × 16, towers of 8
  for (const char* name : {"shared_bottom", "omoe", "mmoe", "ple"}) {
    auto model = models::make_multitask_model<double>(name, c);
    const std::vector<Tensor<double>> y = model->forward(batch);
    const std::vector<Tensor<double>> g = model->gate_weights();
    std::printf(
        "  %-14s %6zu parameters; outputs %zu x %s; gates: %s\n", name, model->parameter_count(),
        y.size(), shape_str(y[0].shape()).c_str(),
        g.empty() ? "none" : (std::to_string(g.size()) + " x " + shape_str(g[0].shape())).c_str());
    double worst = 0;  // |Σ_i g_i − 1| over rows and tasks
    for (const auto& gk : g)
      for (size_t i = 0; i < gk.shape()[0]; ++i) {
        double sum = 0;
        for (size_t e = 0; e < gk.shape()[1]; ++e) sum += gk.value()(i, e);
        worst = std::max(worst, std::abs(sum - 1));
      }
    if (!g.empty()) expect(std::string(name) + ": every gate row sums to one", worst < 1e-12);
    if (std::string(name) == "omoe") expect("omoe: both tasks read the same gate", g[0].same(g[1]));
    if (std::string(name) == "mmoe") {
      double differ = 0;
      for (size_t e = 0; e < g[0].numel(); ++e)
        differ = std::max(differ, std::abs(g[0].data()[e] - g[1].data()[e]));
      expect("mmoe: each task has a gate of its own (they differ)", differ > 1e-6);
    }
    if (std::string(name) == "ple")
      expect("ple: a task's gate weighs its 2 own and the 4 shared experts",
             g[0].shape()[1] == 6 && model->gate_experts(0)[2] == "shared_0");
  }
  // Eq. 7 of the MMoE paper by hand: f^k = Σ_i g^k_i f_i.
  const Tensor<double> gate(xt::xarray<double>{{0.1, 0.6, 0.3}});
  const Tensor<double> f(xt::xarray<double>{{{1, 2}, {3, 4}, {5, 6}}});
  const Tensor<double> mixed = models::mix_experts(gate, f);
  expect("mix_experts((0.1, 0.6, 0.3), experts) = (3.4, 4.4)",
         std::abs(mixed.data()[0] - 3.4) < 1e-12 && std::abs(mixed.data()[1] - 4.4) < 1e-12);
}

// ---- 3. The correlation experiment, reduced to one seed ----
struct Result {
  std::string model;
  double p;
  double loss[2];
  models::MultiTaskReport report;
};

Result train_synthetic(const std::string& name, double p, size_t bottom_units) {
  // Seeds as in `tinyrec experiment mmoe-correlation` for its seed 1: data 1, weights 101,
  // batches 1.
  data::MmoeSyntheticConfig s;
  s.p = p;
  s.seed = 1;
  const data::MultiTaskDataset ds = data::make_mmoe_synthetic(s);
  models::MultiTaskConfig c;
  c.seed = 101;
  c.bottom_units = bottom_units;
  auto model = models::make_multitask_model<float>(name, c);
  models::MultiTaskTrainOptions t;
  t.epochs = 30;
  t.seed = 1;
  Result r{name, p, {}, models::train_multitask(*model, ds, t)};
  r.loss[0] = r.report.test.tasks[0].loss;
  r.loss[1] = r.report.test.tasks[1].loss;
  return r;
}

void correlation_experiment() {
  std::printf(
      "\n3. The MMoE paper's experiment, reduced: seed 1, 10,000 rows, 30 epochs, Adam 1e-3\n");
  std::printf("  %-22s %5s %12s %12s %10s\n", "model", "p", "task 1 MSE", "task 2 MSE", "mean");
  std::vector<Result> results;
  const auto t0 = std::chrono::steady_clock::now();
  for (double p : {1.0, 0.5, 0.0})
    for (const char* name : {"shared_bottom", "omoe", "mmoe"}) {
      results.push_back(train_synthetic(name, p, 0));
      const Result& r = results.back();
      std::printf("  %-22s %5.1f %12.4f %12.4f %10.4f\n", name, p, r.loss[0], r.loss[1],
                  (r.loss[0] + r.loss[1]) / 2);
    }
  // Why Shared-Bottom hardly suffers here: its bottom is wide. With one expert's width it does.
  double narrow[2];
  int k = 0;
  for (double p : {1.0, 0.0}) {
    const Result r = train_synthetic("shared_bottom", p, 16);
    narrow[k++] = (r.loss[0] + r.loss[1]) / 2;
    std::printf("  %-22s %5.1f %12.4f %12.4f %10.4f\n", "shared_bottom (16 units)", p, r.loss[0],
                r.loss[1], narrow[k - 1]);
  }
  std::printf("  (%.1f s)\n", seconds_since(t0));
  // The plot: test loss (mean of the tasks) against the training step, one panel per p.
  std::vector<std::pair<data::PlotSpec, std::vector<data::Series>>> panels;
  for (double p : {1.0, 0.5, 0.0}) {
    data::PlotSpec spec{"correlation " + std::to_string(p).substr(0, 3), "training step",
                        "test MSE (mean of tasks)"};
    spec.log_y = true;
    std::vector<data::Series> lines;
    for (const auto& r : results)
      if (r.p == p) {
        data::Series line{r.model, {}, {}};
        for (const auto& pt : r.report.curve) {
          line.x.push_back(double(pt.step));
          line.y.push_back((pt.test_loss[0] + pt.test_loss[1]) / 2);
        }
        lines.push_back(line);
      }
    panels.push_back({spec, lines});
  }
  data::write_svg_small_multiples("06_multitask_correlation.svg",
                                  "MMoE paper, synthetic data, seed 1", panels, 3);
  std::printf("  wrote 06_multitask_correlation.svg\n");
  auto mean_of = [&](const std::string& name, double p) -> double {
    for (const auto& r : results)
      if (r.model == name && r.p == p) return (r.loss[0] + r.loss[1]) / 2;
    return NAN;
  };
  expect("every model learns (test MSE well below the label variance ~2.5)",
         mean_of("shared_bottom", 0.5) < 0.5 && mean_of("mmoe", 0.5) < 0.5);
  expect("a 16-unit shared bottom loses more as the correlation falls to 0", narrow[1] > narrow[0]);
}

// ---- 4. ESMM and sample selection bias ----
// The rows of (x, cat) where `keep` holds.
void subset(const xt::xarray<float>& x, const xt::xarray<int64_t>& cat,
            const std::vector<size_t>& rows, xt::xarray<float>& x_out,
            xt::xarray<int64_t>& cat_out) {
  const size_t d = x.shape()[1], m = cat.shape()[1];
  x_out = xt::xarray<float>::from_shape({rows.size(), d});
  cat_out = xt::xarray<int64_t>::from_shape({rows.size(), m});
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t j = 0; j < d; ++j) x_out(r, j) = x(rows[r], j);
    for (size_t j = 0; j < m; ++j) cat_out(r, j) = cat(rows[r], j);
  }
}

// pCVR of every row, from the CVR network of an ESMM model.
std::vector<float> predict_cvr(models::ESMM<float>& model, const xt::xarray<float>& x,
                               const xt::xarray<int64_t>& cat) {
  NoGradGuard no_grad;
  model.eval();
  const xt::xarray<float> no_y = xt::zeros<float>({x.shape()[0], size_t(0)});
  data::MultiTaskBatcher batches(x, cat, no_y, 2048, false, 0);
  data::MultiTaskBatch batch;
  std::vector<float> out;
  while (batches.next(batch)) {
    model.forward(batch);
    const Tensor<float> p = sigmoid(model.cvr_logits());
    out.insert(out.end(), p.data(), p.data() + p.numel());
  }
  model.train();
  return out;
}

struct CvrQuality {
  double auc_all, auc_clicked, mean_pred, mean_true, mse_true;
};

CvrQuality judge(const std::vector<float>& pcvr, const data::EsmmSyntheticData& d) {
  std::vector<float> convert(d.test_convert.begin(), d.test_convert.end());
  std::vector<float> p_clicked, c_clicked;
  CvrQuality q{};
  for (size_t i = 0; i < pcvr.size(); ++i) {
    q.mean_pred += pcvr[i] / double(pcvr.size());
    q.mean_true += d.test_pcvr(i) / double(pcvr.size());
    q.mse_true += (pcvr[i] - d.test_pcvr(i)) * (pcvr[i] - d.test_pcvr(i)) / double(pcvr.size());
    if (d.data.test_y(i, 0) == 1) p_clicked.push_back(pcvr[i]), c_clicked.push_back(convert[i]);
  }
  q.auc_all = metrics::auc(pcvr, convert);
  q.auc_clicked = metrics::auc(p_clicked, c_clicked);
  return q;
}

void esmm_selection_bias() {
  std::printf(
      "\n4. ESMM: pCVR learned over all impressions vs a CVR model fitted to clicks only\n");
  const auto t0 = std::chrono::steady_clock::now();
  data::EsmmSyntheticConfig s;  // 100,000 training and 20,000 test impressions
  const data::EsmmSyntheticData d = data::make_esmm_synthetic(s);
  const auto& rep = d.report;
  std::printf(
      "  train: click rate %.4f, conversions per click %.4f; the true pCVR averages %.4f\n"
      "  over all impressions but %.4f over the clicked ones\n",
      rep.click_rate, rep.cvr_given_click, rep.mean_pcvr, rep.mean_pcvr_clicked);
  expect("the clicked impressions are not a random sample (pCVR higher)",
         rep.mean_pcvr_clicked > 1.2 * rep.mean_pcvr);

  // The last 10% of the training impressions validate: each model keeps the epoch whose loss on
  // its own validation rows (ESMM: CTR + CTCVR on every impression; the CVR model: conversions
  // of clicked impressions) is lowest. Test predictions of every epoch are kept to pick from.
  const size_t n = d.data.num_train(), n_fit = n * 9 / 10;
  std::vector<size_t> fit_rows, valid_rows, fit_clicked, valid_clicked;
  for (size_t i = 0; i < n; ++i) {
    (i < n_fit ? fit_rows : valid_rows).push_back(i);
    if (d.data.train_y(i, 0) == 1) (i < n_fit ? fit_clicked : valid_clicked).push_back(i);
  }
  auto rows_of = [&](const std::vector<size_t>& rows, bool cvr_label, xt::xarray<float>& x,
                     xt::xarray<int64_t>& cat, xt::xarray<float>& y) {
    subset(d.data.train_x, d.data.train_cat, rows, x, cat);
    y = xt::xarray<float>::from_shape({rows.size(), size_t(cvr_label ? 1 : 2)});
    for (size_t r = 0; r < rows.size(); ++r)
      for (size_t k = 0; k < y.shape()[1]; ++k)
        y(r, k) = d.data.train_y(rows[r], cvr_label ? 1 : k);
  };
  models::MultiTaskConfig c;
  c.tasks = d.data.tasks;
  c.n_numeric = d.data.train_x.shape()[1];
  c.cat_vocab_sizes = d.data.cat_vocab_sizes;
  c.seed = 7;

  // ESMM: losses on CTR and CTCVR over every impression (the family's usual training step).
  data::MultiTaskDataset fit = d.data;
  xt::xarray<float> vx, vy;
  xt::xarray<int64_t> vcat;
  rows_of(fit_rows, false, fit.train_x, fit.train_cat, fit.train_y);
  rows_of(valid_rows, false, vx, vcat, vy);
  models::ESMM<float> esmm(c);
  models::MultiTaskTrainOptions t;
  t.batch_size = 256;
  models::MultiTaskTrainer trainer(esmm, t);
  data::MultiTaskBatcher batches(fit.train_x, fit.train_cat, fit.train_y, 256, true, 1);
  data::MultiTaskBatch batch;
  std::vector<float> esmm_pcvr;
  double best = INFINITY;
  size_t esmm_epoch = 0;
  for (size_t e = 1; e <= 3; ++e) {
    if (e > 1) batches.start_epoch();
    while (batches.next(batch)) trainer.step(batch);
    const double v = models::evaluate_multitask(esmm, vx, vcat, vy).mean_loss();
    if (v < best)
      best = v, esmm_epoch = e, esmm_pcvr = predict_cvr(esmm, d.data.test_x, d.data.test_cat);
  }

  // The usual CVR model: the same CVR network, fitted to clicked impressions with their
  // conversion label (BCE on pCVR directly).
  xt::xarray<float> cx, cy, cvx, cvy;
  xt::xarray<int64_t> ccat, cvcat;
  rows_of(fit_clicked, true, cx, ccat, cy);
  rows_of(valid_clicked, true, cvx, cvcat, cvy);
  models::ESMM<float> naive(c);
  nn::Adam<float> adam(naive.parameters(), 1e-3);
  data::MultiTaskBatcher clicked(cx, ccat, cy, 256, true, 1);
  auto labels = [](const data::MultiTaskBatch& b) {
    xt::xarray<float> y = xt::xarray<float>::from_shape({b.size});
    for (size_t i = 0; i < b.size; ++i) y(i) = b.y(i, 0);
    return Tensor<float>(std::move(y));
  };
  std::vector<float> naive_pcvr;
  best = INFINITY;
  size_t naive_epoch = 0;
  for (size_t e = 1; e <= 20; ++e) {
    if (e > 1) clicked.start_epoch();
    while (clicked.next(batch)) {
      naive.forward(batch);  // the CTR network runs too, but no loss reaches it
      Tensor<float> loss = bce_with_logits(naive.cvr_logits(), labels(batch));
      adam.zero_grad();
      backward(loss);
      adam.step();
    }
    const std::vector<float> p = predict_cvr(naive, cvx, cvcat);
    const double v = metrics::logloss(p, std::vector<float>(cvy.begin(), cvy.end()));
    if (v < best)
      best = v, naive_epoch = e, naive_pcvr = predict_cvr(naive, d.data.test_x, d.data.test_cat);
  }

  std::vector<float> truth(d.test_pcvr.begin(), d.test_pcvr.end());
  const CvrQuality qe = judge(esmm_pcvr, d), qn = judge(naive_pcvr, d), qt = judge(truth, d);
  std::printf("  %-40s %9s %9s %10s %11s\n", "pCVR on the 20,000 test impressions", "AUC all",
              "AUC clk", "mean pCVR", "MSE to true");
  std::printf("  %-40s %9.4f %9.4f %10.4f %11.5f\n",
              ("esmm (epoch " + std::to_string(esmm_epoch) + " of 3)").c_str(), qe.auc_all,
              qe.auc_clicked, qe.mean_pred, qe.mse_true);
  std::printf("  %-40s %9.4f %9.4f %10.4f %11.5f\n",
              ("cvr model on clicks (epoch " + std::to_string(naive_epoch) + " of 20)").c_str(),
              qn.auc_all, qn.auc_clicked, qn.mean_pred, qn.mse_true);
  std::printf("  %-40s %9.4f %9.4f %10.4f\n", "the true pCVR", qt.auc_all, qt.auc_clicked,
              qt.mean_pred);
  std::printf("  (%zu clicked training impressions, %zu of them fitted; %.1f s)\n",
              fit_clicked.size() + valid_clicked.size(), fit_clicked.size(), seconds_since(t0));
  // What ESMM guarantees is the product: its pCTCVR is pCTR·pCVR on every impression.
  data::MultiTaskBatcher test(d.data.test_x, d.data.test_cat, d.data.test_y, 512, false, 0);
  test.next(batch);
  const std::vector<Tensor<float>> y = esmm.forward(batch);
  double worst = 0;
  for (size_t i = 0; i < batch.size; ++i) {
    auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
    worst = std::max(worst, std::abs(sig(y[1].data()[i]) -
                                     sig(y[0].data()[i]) * sig(esmm.cvr_logits().data()[i])));
  }
  expect("esmm: pCTCVR = pCTR * pCVR on test impressions", worst < 1e-6);
}

// ---- 5. The income survey ----
void income(const std::string& path) {
  std::printf(
      "\n5. kernlab's income survey: high income and never married, 12 categorical columns\n");
  if (path.empty() || !std::filesystem::exists(path)) {
    std::printf(
        "  skipped: no income.csv given (data/get_income.sh DIR writes DIR/income.csv; run\n"
        "  tutorial_06_multitask DIR/income.csv). The numbers of such a run are in the\n"
        "  tutorial's text.\n");
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const data::MultiTaskDataset ds =
      data::load_csv_dataset_split(data::income_schema(), path, 0.2, 1);
  std::printf("  %zu train / %zu test rows\n", ds.num_train(), ds.num_test());
  std::printf("  %-14s %18s %18s %18s %18s\n", "model", "income AUC", "income logloss",
              "married AUC", "married logloss");
  for (const char* name : {"shared_bottom", "omoe", "mmoe", "ple"}) {
    double auc[2] = {0, 0}, ll[2] = {0, 0};
    const int seeds = 3;
    std::vector<models::GateUtilisation> gates;
    for (int seed = 1; seed <= seeds; ++seed) {
      models::MultiTaskConfig c;
      c.tasks = ds.tasks;
      c.n_numeric = 0;
      c.cat_vocab_sizes = ds.cat_vocab_sizes;
      c.seed = uint64_t(seed);
      auto model = models::make_multitask_model<float>(name, c);
      models::MultiTaskTrainOptions t;
      t.epochs = 10;
      t.seed = uint64_t(seed);
      const models::MultiTaskReport r = models::train_multitask(*model, ds, t);
      for (int k = 0; k < 2; ++k)
        auc[k] += r.test.tasks[k].auc / seeds, ll[k] += r.test.tasks[k].logloss / seeds;
      if (seed == 1) gates = models::gate_utilisation(*model, ds.test_x, ds.test_cat);
    }
    std::printf("  %-14s %18.4f %18.4f %18.4f %18.4f\n", name, auc[0], ll[0], auc[1], ll[1]);
    for (const auto& g : gates) {
      std::printf("      gate of %-14s", g.task.c_str());
      for (size_t e = 0; e < g.mean.size(); ++e)
        std::printf(" %s %.2f", g.experts[e].c_str(), g.mean[e]);
      std::printf("\n");
    }
  }
  std::printf("  (mean over weight seeds 1-3, 10 epochs; %.1f s)\n", seconds_since(t0));
}

}  // namespace

int main(int argc, char** argv) {
  std::string income_csv = argc > 1 ? argv[1] : "";
  if (income_csv.empty() && std::getenv("TINYREC_INCOME_CSV"))
    income_csv = std::getenv("TINYREC_INCOME_CSV");
  try {
    relatedness();
    architectures();
    correlation_experiment();
    esmm_selection_bias();
    income(income_csv);
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
  if (failures) {
    std::printf("\n%d demonstration(s) did not go as described\n", failures);
    return 1;
  }
  std::printf("\nall checks passed\n");
  return 0;
}
