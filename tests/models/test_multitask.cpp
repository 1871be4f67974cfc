// The multi-task family: whole-model float64 gradient checks (mixed regression + binary tasks),
// gates that sum to one, ESMM's pCTCVR = pCTR·pCVR, the losses and metrics on hand-computed values,
// and the MMoE paper's claim on its synthetic data (MMoE beats Shared-Bottom at correlation 0.5),
// seeded.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "autograd/autograd.hpp"
#include "data/mmoe_synthetic.hpp"
#include "models/esmm.hpp"
#include "models/multitask_model.hpp"
#include "models/multitask_task.hpp"
#include "models/ple.hpp"
#include "models/registry.hpp"
#include "models/trainer.hpp"
#include "tests/test_support.hpp"

using namespace tinyrec;

namespace {

// The registry's tiny configuration of a multi-task model on its gradient-check shape: three
// numeric and two categorical columns; tasks "score" (regression) and "click" (binary), or "ctr"
// and "ctcvr" (both binary) for esmm; weights seeded by 5.
models::MultiTaskConfig tiny_multitask_config(const std::string& name) {
  const models::ModelEntry& e = models::find_model(name);
  const nlohmann::json shape =
      e.tiny_shape.empty() ? models::find_task(e.task).tiny_shape : e.tiny_shape;
  return models::model_config(e, e.tiny, shape, 5).get<models::MultiTaskConfig>();
}

// A model of the family built by the registry's factory from a whole configuration.
template <class T>
std::unique_ptr<models::MultiTaskModel<T>> make_multitask_model(const std::string& name,
                                                                const models::MultiTaskConfig& c) {
  const models::ModelEntry& e = models::find_model(name);
  std::unique_ptr<models::Model<T>> m;
  if constexpr (std::is_same_v<T, double>)
    m = e.make_double(nlohmann::json(c));
  else
    m = e.make_float(nlohmann::json(c));
  auto* mt = dynamic_cast<models::MultiTaskModel<T>*>(m.get());
  REQUIRE(mt != nullptr);
  m.release();
  return std::unique_ptr<models::MultiTaskModel<T>>(mt);
}

// The check's result and the model's number of parameters (every one of them is checked).
std::pair<GradcheckResult, size_t> check(const std::string& name,
                                         const std::vector<double>& weights = {}) {
  const models::MultiTaskConfig c = tiny_multitask_config(name);
  auto model = make_multitask_model<double>(name, c);
  return {models::gradcheck_multitask_model(*model, models::tiny_multitask_batch(c), weights),
          model->parameter_count()};
}

double row_sum(const Tensor<double>& g, size_t i) {
  const size_t n = g.shape()[1];
  double s = 0;
  for (size_t e = 0; e < n; ++e) s += g.data()[i * n + e];
  return s;
}

}  // namespace

TEST_CASE("the registry's tiny multi-task configuration is the gradient-check one") {
  const models::MultiTaskConfig c = tiny_multitask_config("mmoe");
  REQUIRE(c.tasks.size() == 2);
  CHECK(c.tasks[0].name == "score");
  CHECK(c.tasks[0].kind == data::TaskKind::regression);
  CHECK(c.tasks[1].name == "click");
  CHECK(c.tasks[1].kind == data::TaskKind::binary);
  CHECK(c.n_numeric == 3);
  CHECK(c.cat_vocab_sizes == std::vector<int64_t>{4, 3});
  CHECK(c.embedding_dim == 2);
  CHECK(c.n_experts == 3);
  CHECK(c.expert_units == 4);
  CHECK(c.tower == std::vector<size_t>{3});
  CHECK(c.seed == 5);
  const models::MultiTaskConfig esmm = tiny_multitask_config("esmm");  // the model's own shape
  REQUIRE(esmm.tasks.size() == 2);
  CHECK(esmm.tasks[0].name == "ctr");
  CHECK(esmm.tasks[1].name == "ctcvr");
  CHECK(esmm.tasks[1].kind == data::TaskKind::binary);
  CHECK(esmm.esmm_tower == std::vector<size_t>{4, 3});
  const models::MultiTaskConfig ple = tiny_multitask_config("ple");
  CHECK(ple.ple_specific == 1);
  CHECK(ple.ple_shared == 2);
  CHECK(ple.ple_levels == 2);
  CHECK(tiny_multitask_config("shared_bottom").bottom_units == 5);
}

TEST_CASE("whole-model gradcheck: every multi-task model, mixed regression and binary tasks") {
  for (const std::string& name : models::models_of_task("multitask")) {
    CAPTURE(name);
    const auto checked = check(name);
    const GradcheckResult& r = checked.first;
    const size_t n_params = checked.second;
    CHECK_MESSAGE(r.ok, r.report());
    CHECK(r.checked == n_params);
    CHECK(n_params > 90);
    const GradcheckResult weighted = check(name, {0.25, 3.0}).first;
    CHECK_MESSAGE(weighted.ok, weighted.report());
  }
}

TEST_CASE("whole-model gradcheck: PLE as a single CGC level and as three levels") {
  for (size_t levels : {1, 3}) {
    CAPTURE(levels);
    models::MultiTaskConfig c = tiny_multitask_config("ple");
    c.ple_levels = levels;
    models::PLE<double> ple(c);
    const GradcheckResult r =
        models::gradcheck_multitask_model(ple, models::tiny_multitask_batch(c));
    CHECK_MESSAGE(r.ok, r.report());
  }
}

TEST_CASE("gates: every row sums to one; OMoE shares one gate, MMoE has one per task") {
  for (const char* name : {"omoe", "mmoe", "ple"}) {
    CAPTURE(name);
    const models::MultiTaskConfig c = tiny_multitask_config(name);
    auto model = make_multitask_model<double>(name, c);
    const data::MultiTaskBatch b = models::tiny_multitask_batch(c);
    CHECK(model->gate_weights().empty());  // nothing before the first forward
    model->forward(b);
    const std::vector<Tensor<double>> g = model->gate_weights();
    REQUIRE(g.size() == 2);
    const size_t n = std::string(name) == "ple" ? c.ple_specific + c.ple_shared : c.n_experts;
    for (size_t k = 0; k < 2; ++k) {
      REQUIRE(g[k].shape() == Shape{b.size, n});
      CHECK(model->gate_experts(k).size() == n);
      for (size_t i = 0; i < b.size; ++i)
        CHECK(row_sum(g[k], i) == doctest::Approx(1.0).epsilon(1e-12));
      for (size_t e = 0; e < g[k].numel(); ++e) CHECK(g[k].data()[e] > 0.0);
    }
    if (std::string(name) == "omoe")
      CHECK(g[0].same(g[1]));
    else
      CHECK(!g[0].same(g[1]));
  }
  for (const char* name : {"shared_bottom", "esmm"}) {
    const models::MultiTaskConfig c = tiny_multitask_config(name);
    auto model = make_multitask_model<double>(name, c);
    model->forward(models::tiny_multitask_batch(c));
    CHECK(model->gate_weights().empty());
  }
}

// What the towers use, not what gate_weights() reports: moving one task's gate moves that task's
// output alone in MMoE, and both tasks' in OMoE, whose one gate they share. Each gate is moved in
// turn, so a tower whose output ignored its input could not pass for a task left alone.
TEST_CASE("mmoe: each task's output reads its own gate; omoe's tasks share one") {
  for (const std::string name : {"mmoe", "omoe"}) {
    CAPTURE(name);
    models::MultiTaskConfig c = tiny_multitask_config(name);
    // Not the tiny seed 5: with it OMoE's task-0 output does not move at all on this batch (its
    // tower's ReLU units are all off there), which would hide what is checked.
    c.seed = 1;
    const data::MultiTaskBatch b = models::tiny_multitask_batch(c);
    const size_t gates = name == "mmoe" ? 2 : 1;
    for (size_t moved = 0; moved < gates; ++moved) {
      CAPTURE(moved);
      auto model = make_multitask_model<double>(name, c);
      const std::vector<Tensor<double>> before = model->forward(b);
      const std::string prefix = "gates." + std::to_string(moved) + ".";
      size_t touched = 0;
      for (auto& [param, t] : model->named_parameters())
        if (param.rfind(prefix, 0) == 0) {
          // A ramp, not a constant: a constant added to every logit leaves the softmax as is.
          for (size_t i = 0; i < t.numel(); ++i) t.value().data()[i] += 0.3 * double(i % 5);
          ++touched;
        }
      REQUIRE(touched > 0);
      const std::vector<Tensor<double>> after = model->forward(b);
      REQUIRE(after.size() == 2);
      for (size_t k = 0; k < 2; ++k) {
        CAPTURE(k);
        double change = 0;
        for (size_t i = 0; i < b.size; ++i)
          change = std::max(change, std::abs(after[k].value()(i) - before[k].value()(i)));
        if (name == "omoe" || k == moved)
          CHECK(change > 1e-6);
        else
          CHECK(change == 0.0);
      }
    }
  }
}

TEST_CASE("ple: gates of every level weigh own then shared experts") {
  models::MultiTaskConfig c = tiny_multitask_config("ple");
  c.ple_levels = 3;
  models::PLE<double> ple(c);
  ple.forward(models::tiny_multitask_batch(c));
  const auto levels = ple.level_gate_weights();
  REQUIRE(levels.size() == 3);
  for (const auto& level : levels) {
    REQUIRE(level.size() == 2);
    for (const auto& g : level) CHECK(g.shape()[1] == c.ple_specific + c.ple_shared);
  }
  CHECK(ple.gate_experts(1) == std::vector<std::string>{"click_0", "shared_0", "shared_1"});
}

TEST_CASE("mix_experts: the gate-weighted sum of the experts' outputs") {
  // gate (0.25, 0.75) over experts (1, 2) and (3, 4): (0.25 + 2.25, 0.5 + 3) = (2.5, 3.5).
  const Tensor<double> g(xt::xarray<double>{{0.25, 0.75}});
  const Tensor<double> f(xt::xarray<double>{{{1.0, 2.0}, {3.0, 4.0}}});
  const Tensor<double> y = models::mix_experts(g, f);
  REQUIRE(y.shape() == Shape{1, 2});
  CHECK(y.data()[0] == doctest::Approx(2.5));
  CHECK(y.data()[1] == doctest::Approx(3.5));
}

TEST_CASE("esmm: pCTCVR = pCTR · pCVR, exactly and stably") {
  const models::MultiTaskConfig c = tiny_multitask_config("esmm");
  models::ESMM<double> esmm(c);
  const data::MultiTaskBatch b = models::tiny_multitask_batch(c);
  const std::vector<Tensor<double>> y = esmm.forward(b);
  const Tensor<double> cvr = esmm.cvr_logits();
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  for (size_t i = 0; i < b.size; ++i)
    CHECK(sig(y[1].data()[i]) ==
          doctest::Approx(sig(y[0].data()[i]) * sig(cvr.data()[i])).epsilon(1e-12));
  // logit(σ(a)σ(c)) = −log(e^{−a} + e^{−c} + e^{−a−c}): a = c = 0 gives log(1/3); a = c = 50 gives
  // 50 − log 2 (−log(2e^{−50} + e^{−100})); a = 40, c = −40 gives −40 − log(1 + e^{−40} + e^{−80}).
  const Tensor<double> a(xt::xarray<double>{0.0, 50.0, 40.0});
  const Tensor<double> cc(xt::xarray<double>{0.0, 50.0, -40.0});
  const Tensor<double> l = models::logit_of_product(a, cc);
  CHECK(l.data()[0] == doctest::Approx(std::log(1.0 / 3.0)).epsilon(1e-14));
  CHECK(l.data()[1] == doctest::Approx(50.0 - std::log(2.0)).epsilon(1e-14));
  CHECK(l.data()[2] == doctest::Approx(-40.0).epsilon(1e-14));
}

TEST_CASE("esmm: needs two binary tasks") {
  models::MultiTaskConfig c = tiny_multitask_config("mmoe");  // regression + binary
  CHECK_THROWS_WITH_AS(models::ESMM<float>{c}, doctest::Contains("two binary tasks"),
                       std::invalid_argument);
}

TEST_CASE("losses: MSE for regression, BCE with logits for binary, weighted sum") {
  const std::vector<data::TaskInfo> tasks = {{"r", data::TaskKind::regression},
                                             {"b", data::TaskKind::binary}};
  // Regression: predictions (1, 2) against (0, 4): ((1 − 0)² + (2 − 4)²) / 2 = 2.5.
  // Binary: logits (0, 0) against (1, 0): −log σ(0) = log 2 for both rows.
  const xt::xarray<float> y{{0.0f, 1.0f}, {4.0f, 0.0f}};
  const std::vector<Tensor<double>> out = {Tensor<double>(xt::xarray<double>{1.0, 2.0}),
                                           Tensor<double>(xt::xarray<double>{0.0, 0.0})};
  const auto losses = models::task_losses(out, y, tasks);
  REQUIRE(losses.size() == 2);
  CHECK(losses[0].name == "r");
  CHECK(losses[1].name == "b");
  CHECK(losses[0].value.item() == doctest::Approx(2.5));
  CHECK(losses[1].value.item() == doctest::Approx(std::log(2.0)));
  CHECK(losses[0].weight == 1.0);
  CHECK(losses[1].weight == 1.0);
  CHECK(models::total_loss(losses).item() == doctest::Approx(2.5 + std::log(2.0)));
  const auto weighted = models::task_losses(out, y, tasks, {2.0, 0.5});
  REQUIRE(weighted.size() == 2);
  CHECK(weighted[0].weight == 2.0);
  CHECK(weighted[1].weight == 0.5);
  CHECK(models::total_loss(weighted).item() == doctest::Approx(5.0 + 0.5 * std::log(2.0)));
  CHECK_THROWS_WITH_AS(models::task_losses(out, y, tasks, {1.0}),
                       doctest::Contains("1 given for 2 tasks"), std::invalid_argument);
  CHECK_THROWS_AS(models::total_loss(models::LossTerms<double>{}), std::invalid_argument);
}

TEST_CASE("input layer: numeric features then one embedding per categorical column") {
  models::MultiTaskConfig c = tiny_multitask_config("shared_bottom");
  std::mt19937_64 rng(3);
  models::MultiTaskInput<double> input(c, rng);
  CHECK(input.width() == 3 + 2 * 2);
  data::MultiTaskBatch b = models::tiny_multitask_batch(c);
  const Tensor<double> x = input.forward(b);
  REQUIRE(x.shape() == Shape{b.size, 7});
  const auto named = input.named_parameters();
  REQUIRE(named.size() == 2);
  CHECK(named[0].first == "embeddings.0.weight");
  for (size_t i = 0; i < b.size; ++i) {
    for (size_t j = 0; j < 3; ++j) CHECK(x.value()(i, j) == double(b.x(i, j)));
    for (size_t d = 0; d < 2; ++d)  // column 0's embedding, row b.cat(i, 0) of its table
      CHECK(x.value()(i, 3 + d) == named[0].second.value()(b.cat(i, 0), d));
    if (b.cat(i, 1) == 0)  // unknown id: zeros
      for (size_t d = 0; d < 2; ++d) CHECK(x.value()(i, 5 + d) == 0.0);
  }
  b.cat(2, 1) = 3;  // vocabulary of column 1 is 3
  CHECK_THROWS_WITH_AS(input.forward(b), doctest::Contains("column 1 has id 3"),
                       std::invalid_argument);
}

TEST_CASE("multi-task models: unknown name lists the accepted ones") {
  CHECK_THROWS_WITH_AS(models::find_model("mmo"),
                       doctest::Contains("shared_bottom, omoe, mmoe, ple, esmm"),
                       std::invalid_argument);
  CHECK(models::models_of_task("multitask") ==
        std::vector<std::string>{"shared_bottom", "omoe", "mmoe", "ple", "esmm"});
}

TEST_CASE("training: a NaN label stops training with the task, epoch and step") {
  data::MmoeSyntheticConfig s;
  s.d = 4;
  s.train = 64;
  s.test = 16;
  data::MultiTaskDataset ds = data::make_mmoe_synthetic(s);
  ds.train_y(40, 1) = std::numeric_limits<float>::quiet_NaN();
  models::MultiTaskTask task(std::move(ds), models::MultiTaskOptions{});
  models::MultiTaskConfig c;
  c.n_numeric = 4;
  auto model = make_multitask_model<float>("mmoe", c);
  std::vector<xt::xarray<float>> before;
  for (const auto& p : model->parameters()) before.push_back(p.value());
  models::TrainOptions t;
  t.batch_size = 64;  // one batch an epoch: the NaN row is in the first step
  models::Trainer trainer(task, *model, t);
  CHECK_THROWS_WITH_AS(
      trainer.fit(),
      doctest::Contains("training stopped at epoch 1, step 1: the task2 loss is nan"),
      models::NonFiniteLoss);
  // Nothing was updated.
  const auto after = model->parameters();
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < after.size(); ++i) CHECK(after[i].value() == before[i]);
}

// The paper's synthetic-data setup (d = 100, 10,000 rows, 8 experts of 16, towers of 8, Adam
// 1e-3, 30 epochs, α, β ~ N(0, 1)) at task correlation 0.5. Both models fit both tasks: the test
// MSE, mean of the two, measured over data seeds 1-12 (weights seed + 100, batch order = seed;
// `tinyrec experiment mmoe-correlation --seeds 12 --correlations 1,0.5,0 --models
// shared_bottom,mmoe`, Intel Xeon model 207) was 0.036 to 0.263 for Shared-Bottom and 0.024 to
// 0.152 for MMoE, against a label variance of about 2.5. Asserted: below 0.5 for both. MMoE's lead
// is not asserted: it is the data set's more than the model's. Over those 12 data sets MMoE's MSE
// was lower on 9 (10 at p = 1, 7 at p = 0); the mean over data seeds 1-3 favours MMoE by a ratio of
// 0.72, over seeds 4-6, 7-9 and 10-12 it is 1.04, 1.31 and 0.95. Tutorial 06 shows the experiment
// whole, with its spread.
TEST_CASE("mmoe and shared-bottom fit both tasks at correlation 0.5; gates are distributions") {
  for (const tinyrec_test::ClaimSeeds& seeds : tinyrec_test::claim_seeds({1, 101, 1})) {
    CAPTURE(seeds.str());
    data::MmoeSyntheticConfig s;
    s.p = 0.5;
    s.seed = seeds.data;
    models::MultiTaskTask task(data::make_mmoe_synthetic(s), models::MultiTaskOptions{});
    models::TrainOptions t;
    t.epochs = 30;
    t.seed = seeds.order;
    double loss[2] = {0, 0};
    int m = 0;
    for (const char* name : {"shared_bottom", "mmoe"}) {
      models::MultiTaskConfig c;
      c.seed = seeds.model;
      auto model = make_multitask_model<float>(name, c);
      const nlohmann::json test = models::Trainer(task, *model, t).fit().test;
      // The mean over the tasks of the test objective: both tasks are regressions, so the MSE.
      const nlohmann::json& tasks = test.at("tasks");
      REQUIRE(tasks.size() == 2);
      for (const auto& [task_name, metrics] : tasks.items())
        loss[m] += metrics.at("mse").get<double>() / 2;
      CHECK(loss[m] < 0.5);
      ++m;
      // Gate utilisation is a distribution over the experts for every task.
      const nlohmann::json& gates = test.at("gates");
      CHECK(gates.size() == (std::string(name) == "mmoe" ? 2u : 0u));
      for (const auto& gate : gates.items()) {
        const std::string task_name = gate.key();
        const auto& u = gate.value();
        CAPTURE(task_name);
        double total = 0;
        for (double g : u.at("mean")) total += g;
        CHECK(total == doctest::Approx(1.0).epsilon(1e-5));
        CHECK(u.at("experts").size() == c.n_experts);
      }
    }
    MESSAGE(seeds.str() << ": test MSE, mean of the two tasks: shared-bottom " << loss[0]
                        << ", mmoe " << loss[1]);
  }
}

TEST_CASE("initialisation: PyTorch's U(±1/√fan_in) or Glorot with each expert's own fans") {
  models::MultiTaskConfig c;  // d = 100, 8 experts of 16
  for (const char* init : {"torch", "glorot"}) {
    CAPTURE(init);
    c.init = init;
    auto mmoe = make_multitask_model<float>("mmoe", c);
    for (const auto& named : mmoe->named_parameters()) {
      const std::string& name = named.first;
      const auto& p = named.second;
      CAPTURE(name);
      const bool first = name.rfind("experts.", 0) == 0 || name.rfind("gates.", 0) == 0;
      const double in = first ? 100.0 : name.find("layers.0") != std::string::npos ? 16.0 : 8.0;
      const double out = name.rfind("experts.", 0) == 0               ? 16.0
                         : name.rfind("gates.", 0) == 0               ? 8.0
                         : name.find("layers.0") != std::string::npos ? 8.0
                                                                      : 1.0;
      const bool bias = p.dim() == 1;
      const double bound = std::string(init) == "torch" ? 1.0 / std::sqrt(in)
                           : bias                       ? 0.0
                                                        : std::sqrt(6.0 / (in + out));
      double largest = 0;
      for (size_t i = 0; i < p.numel(); ++i)
        largest = std::max(largest, double(std::abs(p.data()[i])));
      CHECK(largest <= bound);
      if (bound > 0 && p.numel() >= 100) CHECK(largest > 0.9 * bound);  // the whole range is used
    }
  }
  c.init = "xavier";
  CHECK_THROWS_WITH_AS(make_multitask_model<float>("mmoe", c),
                       doctest::Contains("accepted: torch, torch-0.1, torch-0.01, glorot"),
                       std::invalid_argument);
}

TEST_CASE("mix_experts: first and second derivatives against finite differences") {
  // Gate and experts of two rows, three experts of two units, values away from symmetry.
  Tensor<double> g(xt::xarray<double>{{0.2, 0.5, 0.3}, {0.6, 0.1, 0.3}}, true);
  Tensor<double> f(xt::xarray<double>{{{0.3, -1.2}, {0.8, 0.5}, {-0.4, 1.1}},
                                      {{1.5, 0.2}, {-0.7, 0.9}, {0.6, -0.3}}},
                   true);
  // Square the mixture so the second derivative is not zero.
  auto fn = [](const std::vector<Tensor<double>>& in) {
    return square(models::mix_experts(in[0], in[1]));
  };
  const GradcheckResult first = gradcheck(fn, {g, f});
  CHECK_MESSAGE(first.ok, first.report());
  const GradcheckResult second = gradgradcheck(fn, {g, f});
  CHECK_MESSAGE(second.ok, second.report());
  CHECK_THROWS_WITH_AS(models::mix_experts(g, Tensor<double>::zeros({2, 4, 2})),
                       doctest::Contains("must be [B, n] and [B, n, U]"), std::invalid_argument);
}
