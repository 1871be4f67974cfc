// Tutorial 6: multi-task learning. Task relatedness on the MMoE paper's synthetic data;
// Shared-Bottom → OMoE → MMoE → PLE built and checked on one batch; a reduced run of the paper's
// correlation experiment (seed 1 of `tinyrec experiment mmoe-correlation`); ESMM against a CVR
// model trained on clicked impressions only; and, when given income.csv (data/get_income.sh), the
// models on the kernlab income survey. Exits 1 if an identity or a demonstration does not hold.
// Usage: tutorial_06_multitask [path/to/income.csv]   (or TINYREC_INCOME_CSV=...)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/autograd.hpp"
#include "cli/svg_plot.hpp"
#include "data/esmm_synthetic.hpp"
#include "data/mmoe_synthetic.hpp"
#include "data/tabular_csv.hpp"
#include "models/esmm.hpp"
#include "models/multitask_task.hpp"
#include "models/registry.hpp"
#include "models/trainer.hpp"
#include "nn/metrics.hpp"
#include "tutorials/checks.hpp"

using namespace tinyrec;

namespace {

using tinyrec::tutorial::check_above;
using tinyrec::tutorial::check_true;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A multi-task model by its registry name, as `tinyrec train --model NAME` builds it: the model's
// paper defaults, overridden by `settings`, plus the data's shape (tasks, feature columns) and the
// initial weights' seed.
template <class T>
std::unique_ptr<models::MultiTaskModel<T>> make_model(
    const std::string& name, const nlohmann::json& shape, uint64_t seed,
    const nlohmann::json& settings = nlohmann::json::object()) {
  const models::ModelEntry& entry = models::find_model(name);
  const nlohmann::json config = models::model_config(entry, settings, shape, seed);
  std::unique_ptr<models::Model<T>> model;
  if constexpr (std::is_same_v<T, double>)
    model = entry.make_double(config);
  else
    model = entry.make_float(config);
  if (!dynamic_cast<models::MultiTaskModel<T>*>(model.get()))
    throw std::invalid_argument(name + " is not a multi-task model");
  return std::unique_ptr<models::MultiTaskModel<T>>(
      static_cast<models::MultiTaskModel<T>*>(model.release()));
}

// Task `name`'s test loss in MultiTaskTask::evaluate's JSON ({"tasks": {name: {"mse"} or {"auc",
// "logloss"}}, ...}): the MSE of a regression task, the logloss of a binary one.
double task_loss(const nlohmann::json& test, const std::string& name) {
  const nlohmann::json& m = test.at("tasks").at(name);
  return (m.contains("mse") ? m.at("mse") : m.at("logloss")).get<double>();
}

// The mean of every task's test loss.
double mean_loss(const nlohmann::json& test) {
  double sum = 0;
  for (const auto& [name, m] : test.at("tasks").items()) sum += task_loss(test, name);
  return sum / double(test.at("tasks").size());
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
    if (std::abs(r.cosine_w1_w2 - p) > 1e-9) ++tinyrec::tutorial::failures;
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
  // The registry's defaults are the paper's sizes: 8 experts × 16 units, towers of 8; d = 100 comes
  // from the data.
  for (const char* name : {"shared_bottom", "omoe", "mmoe", "ple"}) {
    auto model = make_model<double>(name, models::multitask_shape(ds), 1);
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
    if (!g.empty()) check_true(std::string(name) + ": every gate row sums to one", worst < 1e-12);
    if (std::string(name) == "omoe")
      check_true("omoe: both tasks read the same gate", g[0].same(g[1]));
    if (std::string(name) == "mmoe") {
      double differ = 0;
      for (size_t e = 0; e < g[0].numel(); ++e)
        differ = std::max(differ, std::abs(g[0].data()[e] - g[1].data()[e]));
      check_true("mmoe: each task has a gate of its own (they differ)", differ > 1e-6);
    }
    if (std::string(name) == "ple")
      check_true("ple: a task's gate weighs its 2 own and the 4 shared experts",
                 g[0].shape()[1] == 6 && model->gate_experts(0)[2] == "shared_0");
  }
  // Eq. 7 of the MMoE paper by hand: f^k = Σ_i g^k_i f_i.
  const Tensor<double> gate(xt::xarray<double>{{0.1, 0.6, 0.3}});
  const Tensor<double> f(xt::xarray<double>{{{1, 2}, {3, 4}, {5, 6}}});
  const Tensor<double> mixed = models::mix_experts(gate, f);
  check_true("mix_experts((0.1, 0.6, 0.3), experts) = (3.4, 4.4)",
             std::abs(mixed.data()[0] - 3.4) < 1e-12 && std::abs(mixed.data()[1] - 4.4) < 1e-12);
}

// ---- 3. The correlation experiment, reduced to one seed ----
struct Result {
  std::string model;
  double p;
  double loss[2];
  models::TrainReport report;
};

Result train_synthetic(const std::string& name, double p, size_t bottom_units,
                       const tinyrec::tutorial::Seeds& seeds) {
  data::MmoeSyntheticConfig s;
  s.p = p;
  s.seed = seeds.data;
  models::MultiTaskTask task(data::make_mmoe_synthetic(s), models::MultiTaskOptions{});
  nlohmann::json settings = nlohmann::json::object();
  if (bottom_units > 0) settings["bottom_units"] = bottom_units;
  auto model = make_model<float>(name, task.model_shape(), seeds.model, settings);
  models::TrainOptions t;  // Adam, lr 1e-3, batch 128; evaluated after every epoch
  t.epochs = 30;
  t.seed = seeds.order;
  Result r{name, p, {}, models::Trainer(task, *model, t).fit()};
  for (size_t k = 0; k < 2; ++k) r.loss[k] = task_loss(r.report.test, task.data().tasks[k].name);
  return r;
}

// Seeds as in `tinyrec experiment mmoe-correlation` for its seed 1: data 1, weights 101,
// batches 1.
void correlation_experiment() {
  const tinyrec::tutorial::Seeds seeds = tinyrec::tutorial::seeds({1, 101, 1});
  std::printf(
      "\n3. The MMoE paper's experiment, reduced: seed 1, 10,000 rows, 30 epochs, Adam 1e-3\n");
  std::printf("  %-22s %5s %12s %12s %10s\n", "model", "p", "task 1 MSE", "task 2 MSE", "mean");
  std::vector<Result> results;
  const auto t0 = std::chrono::steady_clock::now();
  for (double p : {1.0, 0.5, 0.0})
    for (const char* name : {"shared_bottom", "omoe", "mmoe"}) {
      results.push_back(train_synthetic(name, p, 0, seeds));
      const Result& r = results.back();
      std::printf("  %-22s %5.1f %12.4f %12.4f %10.4f\n", name, p, r.loss[0], r.loss[1],
                  (r.loss[0] + r.loss[1]) / 2);
    }
  // Why Shared-Bottom hardly suffers here: its bottom is wide. With one expert's width it does.
  double narrow[2];
  int k = 0;
  for (double p : {1.0, 0.0}) {
    const Result r = train_synthetic("shared_bottom", p, 16, seeds);
    narrow[k++] = (r.loss[0] + r.loss[1]) / 2;
    std::printf("  %-22s %5.1f %12.4f %12.4f %10.4f\n", "shared_bottom (16 units)", p, r.loss[0],
                r.loss[1], narrow[k - 1]);
  }
  std::printf("  (%.1f s)\n", seconds_since(t0));
  // The plot: test loss (mean of the tasks) against the training step, one panel per p.
  std::vector<std::pair<cli::PlotSpec, std::vector<cli::Series>>> panels;
  for (double p : {1.0, 0.5, 0.0}) {
    cli::PlotSpec spec{"correlation " + std::to_string(p).substr(0, 3), "training step",
                       "test MSE (mean of tasks)"};
    spec.log_y = true;
    std::vector<cli::Series> lines;
    for (const auto& r : results)
      if (r.p == p) {
        cli::Series line{r.model, {}, {}};
        for (const auto& pt : r.report.curve) {
          line.x.push_back(double(pt.step));
          line.y.push_back(mean_loss(pt.test));
        }
        lines.push_back(line);
      }
    panels.push_back({spec, lines});
  }
  cli::write_svg_small_multiples("06_multitask_correlation.svg",
                                 "MMoE paper, synthetic data, seed 1", panels, 3);
  std::printf("  wrote 06_multitask_correlation.svg\n");
  auto mean_of = [&](const std::string& name, double p) -> double {
    for (const auto& r : results)
      if (r.model == name && r.p == p) return (r.loss[0] + r.loss[1]) / 2;
    return NAN;
  };
  // Measured over the program's seeds (data 1, weights 101, batch order 1) and three more of each
  // kind (TINYREC_SEEDS, Intel Xeon model 207): the worse of Shared-Bottom and MMoE at p = 0.5 had
  // a test MSE of 0.036 to 0.289. The 16-unit bottom's loss at p = 0 less its loss at p = 1 ran
  // from -0.021 to +0.202, above 0 on 6 of the 10 runs, all on data seed 1: seed 1's picture, not
  // a claim, so it is printed and not checked.
  check_above("0.5 - test MSE at p 0.5, the worse of SB and MMoE",
              0.5 - std::max(mean_of("shared_bottom", 0.5), mean_of("mmoe", 0.5)), 0.15);
  std::printf("  16-unit Shared-Bottom, test MSE at p 0 less at p 1: %+.4f\n",
              narrow[1] - narrow[0]);
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
  return models::in_eval_mode(model, [&] {
    const xt::xarray<float> no_y = xt::zeros<float>({x.shape()[0], size_t(0)});
    data::MultiTaskBatcher batches(x, cat, no_y, 2048, false, 0);
    data::MultiTaskBatch batch;
    std::vector<float> out;
    while (batches.next(batch)) {
      model.forward(batch);
      const Tensor<float> p = sigmoid(model.cvr_logits());
      out.insert(out.end(), p.data(), p.data() + p.numel());
    }
    return out;
  });
}

// The usual CVR model's problem as a task, so the shared trainer runs it like any other: the CVR
// network of an ESMM model fitted to clicked impressions with their conversion label, binary
// cross-entropy on logit(pCVR) directly (the CTR network runs too, but no loss reaches it). Its
// evaluation is the logloss on held-out clicked impressions.
class ClickedCvrTask : public models::Task {
 public:
  struct Rows {
    xt::xarray<float> x, y;  // y: [N, 1], the conversion label
    xt::xarray<int64_t> cat;
  };
  ClickedCvrTask(Rows fit, Rows valid) : fit_(std::move(fit)), valid_(std::move(valid)) {}

  std::string describe() const override { return "clicked impressions, conversion label"; }
  nlohmann::json model_shape() const override { return nlohmann::json::object(); }
  size_t train_size() const override { return fit_.y.shape()[0]; }
  models::LossTerms<float> loss_terms(models::Model<float>& model,
                                      const std::vector<size_t>& rows) override {
    auto& esmm = dynamic_cast<models::ESMM<float>&>(model);
    data::fill_multitask_batch(fit_.x, fit_.cat, fit_.y, rows, batch_);
    esmm.forward(batch_);
    xt::xarray<float> y = xt::xarray<float>::from_shape({batch_.size});
    for (size_t i = 0; i < batch_.size; ++i) y(i) = batch_.y(i, 0);
    return {{"cvr", bce_with_logits(esmm.cvr_logits(), Tensor<float>(std::move(y)))}};
  }
  nlohmann::json evaluate(models::Model<float>& model, size_t /*batch_size*/) override {
    const std::vector<float> p =
        predict_cvr(dynamic_cast<models::ESMM<float>&>(model), valid_.x, valid_.cat);
    return {{"logloss", metrics::logloss(p, std::vector<float>(valid_.y.begin(), valid_.y.end()))}};
  }
  std::string summarize(const nlohmann::json& m) const override {
    return "logloss " + std::to_string(m.at("logloss").get<double>());
  }
  xt::xarray<float> test_outputs(models::Model<float>& model, size_t /*batch_size*/) override {
    const std::vector<float> p =
        predict_cvr(dynamic_cast<models::ESMM<float>&>(model), valid_.x, valid_.cat);
    xt::xarray<float> out = xt::xarray<float>::from_shape({p.size(), size_t(1)});
    std::copy(p.begin(), p.end(), out.begin());
    return out;
  }
  size_t predict(models::Model<float>&, const std::string&, std::ostream&) override {
    throw std::logic_error("ClickedCvrTask: no prediction from files in this tutorial");
  }

 private:
  Rows fit_, valid_;
  data::MultiTaskBatch batch_;
};

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
  check_true("the clicked impressions are not a random sample (pCVR higher)",
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

  // ESMM: losses on CTR and CTCVR over every impression — the multi-task task as `tinyrec train`
  // runs it, with the validation rows as its test split, so that the trainer's evaluation after
  // each epoch is the validation loss.
  data::MultiTaskDataset fit = d.data;
  rows_of(fit_rows, false, fit.train_x, fit.train_cat, fit.train_y);
  rows_of(valid_rows, false, fit.test_x, fit.test_cat, fit.test_y);
  models::MultiTaskTask esmm_task(std::move(fit), models::MultiTaskOptions{});
  models::MultiTaskConfig c = esmm_task.model_shape().get<models::MultiTaskConfig>();
  c.seed = 7;
  models::ESMM<float> esmm(c);
  models::TrainOptions t;  // Adam, lr 1e-3
  t.batch_size = 256;
  t.seed = 1;
  t.epochs = 3;
  // After each epoch the trainer evaluates; the best epoch's test pCVR is kept.
  struct Best {
    double loss = INFINITY;
    size_t epoch = 0;
    std::vector<float> pcvr;
  } esmm_best, naive_best;
  models::TrainCallbacks callbacks;
  callbacks.on_point = [&](const models::CurvePoint& p, bool) {
    const double v = mean_loss(p.test);
    if (v < esmm_best.loss)
      esmm_best = {v, size_t(std::lround(p.epoch)),
                   predict_cvr(esmm, d.data.test_x, d.data.test_cat)};
  };
  models::Trainer(esmm_task, esmm, t).fit(callbacks);

  // The usual CVR model: the same CVR network, fitted to clicked impressions with their
  // conversion label, by the same trainer.
  ClickedCvrTask::Rows cvr_fit, cvr_valid;
  rows_of(fit_clicked, true, cvr_fit.x, cvr_fit.cat, cvr_fit.y);
  rows_of(valid_clicked, true, cvr_valid.x, cvr_valid.cat, cvr_valid.y);
  ClickedCvrTask cvr_task(std::move(cvr_fit), std::move(cvr_valid));
  models::ESMM<float> naive(c);
  t.epochs = 20;
  callbacks.on_point = [&](const models::CurvePoint& p, bool) {
    const double v = p.test.at("logloss").get<double>();
    if (v < naive_best.loss)
      naive_best = {v, size_t(std::lround(p.epoch)),
                    predict_cvr(naive, d.data.test_x, d.data.test_cat)};
  };
  models::Trainer(cvr_task, naive, t).fit(callbacks);

  std::vector<float> truth(d.test_pcvr.begin(), d.test_pcvr.end());
  const CvrQuality qe = judge(esmm_best.pcvr, d), qn = judge(naive_best.pcvr, d),
                   qt = judge(truth, d);
  std::printf("  %-40s %9s %9s %10s %11s\n", "pCVR on the 20,000 test impressions", "AUC all",
              "AUC clk", "mean pCVR", "MSE to true");
  std::printf("  %-40s %9.4f %9.4f %10.4f %11.5f\n",
              ("esmm (epoch " + std::to_string(esmm_best.epoch) + " of 3)").c_str(), qe.auc_all,
              qe.auc_clicked, qe.mean_pred, qe.mse_true);
  std::printf(
      "  %-40s %9.4f %9.4f %10.4f %11.5f\n",
      ("cvr model on clicks (epoch " + std::to_string(naive_best.epoch) + " of 20)").c_str(),
      qn.auc_all, qn.auc_clicked, qn.mean_pred, qn.mse_true);
  std::printf("  %-40s %9.4f %9.4f %10.4f\n", "the true pCVR", qt.auc_all, qt.auc_clicked,
              qt.mean_pred);
  std::printf("  (%zu clicked training impressions, %zu of them fitted; %.1f s)\n",
              fit_clicked.size() + valid_clicked.size(), fit_clicked.size(), seconds_since(t0));
  // What ESMM guarantees is the product: its pCTCVR is pCTR·pCVR on every impression.
  data::MultiTaskBatcher test(d.data.test_x, d.data.test_cat, d.data.test_y, 512, false, 0);
  data::MultiTaskBatch batch;
  test.next(batch);
  const std::vector<Tensor<float>> y = esmm.forward(batch);
  double worst = 0;
  for (size_t i = 0; i < batch.size; ++i) {
    auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
    worst = std::max(worst, std::abs(sig(y[1].data()[i]) -
                                     sig(y[0].data()[i]) * sig(esmm.cvr_logits().data()[i])));
  }
  check_true("esmm: pCTCVR = pCTR * pCVR on test impressions", worst < 1e-6);
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
  models::MultiTaskTask task(data::load_csv_dataset_split(data::income_schema(), path, 0.2, 1),
                             models::MultiTaskOptions{});
  const data::MultiTaskDataset& ds = task.data();
  std::printf("  %zu train / %zu test rows\n", ds.num_train(), ds.num_test());
  std::printf("  %-14s %18s %18s %18s %18s\n", "model", "income AUC", "income logloss",
              "married AUC", "married logloss");
  for (const char* name : {"shared_bottom", "omoe", "mmoe", "ple"}) {
    double auc[2] = {0, 0}, ll[2] = {0, 0};
    const int seeds = 3;
    nlohmann::json gates;  // {task: {"experts", "mean", "std"}}, after training with seed 1
    for (int seed = 1; seed <= seeds; ++seed) {
      auto model = make_model<float>(name, task.model_shape(), uint64_t(seed));
      models::TrainOptions t;
      t.epochs = 10;
      t.seed = uint64_t(seed);
      const models::TrainReport r = models::Trainer(task, *model, t).fit();
      for (size_t k = 0; k < 2; ++k) {
        const nlohmann::json& m = r.test.at("tasks").at(ds.tasks[k].name);
        auc[k] += m.at("auc").get<double>() / seeds;
        ll[k] += m.at("logloss").get<double>() / seeds;
      }
      if (seed == 1) gates = r.test.at("gates");
    }
    std::printf("  %-14s %18.4f %18.4f %18.4f %18.4f\n", name, auc[0], ll[0], auc[1], ll[1]);
    for (const auto& t : ds.tasks) {
      if (!gates.contains(t.name)) continue;
      const nlohmann::json& g = gates.at(t.name);
      std::printf("      gate of %-14s", t.name.c_str());
      for (size_t e = 0; e < g.at("mean").size(); ++e)
        std::printf(" %s %.2f", g.at("experts")[e].get<std::string>().c_str(),
                    g.at("mean")[e].get<double>());
      std::printf("\n");
    }
  }
  std::printf("  (mean over weight seeds 1-3, 10 epochs; %.1f s)\n", seconds_since(t0));
}

}  // namespace

int main(int argc, char** argv) {
  tinyrec::tune_allocator();  // a training program's choice: see autograd/tensor.hpp
  std::string income_csv = argc > 1 ? argv[1] : "";
  if (income_csv.empty() && std::getenv("TINYREC_INCOME_CSV"))
    income_csv = std::getenv("TINYREC_INCOME_CSV");
  return tinyrec::tutorial::run([&] {
    relatedness();
    architectures();
    correlation_experiment();
    esmm_selection_bias();
    income(income_csv);
  });
}
