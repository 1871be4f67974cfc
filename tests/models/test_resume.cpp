// Runs that can be trusted when left alone: the same seeds give the same numbers; a run stopped
// after an epoch and resumed from its checkpoint ends with the weights of one never stopped, bit
// for bit; a non-finite loss stops training naming where, and keeps what the finished epochs did.
// Each is checked for every registered model at its task's tiny size.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/batching.hpp"
#include "models/registry.hpp"
#include "models/trainer.hpp"
#include "nn/checkpoint.hpp"
#include "nn/layers.hpp"
#include "nn/npy.hpp"
#include "nn/optim.hpp"
#include "tests/test_support.hpp"

using namespace tinyrec;
using nlohmann::json;
using tinyrec_test::TempDir;
namespace fs = std::filesystem;

namespace {

// The shared tiny run, with seeds of its own for the batch order and the data.
models::RunConfig tiny_run_config(const models::ModelEntry& entry, size_t epochs) {
  models::RunConfig rc = tinyrec_test::tiny_run_config(entry, epochs);
  rc.train.seed = 5;
  rc.data_seed = 4;
  return rc;
}

// The number of values of `a` and `b` whose bits differ, over every parameter and buffer.
size_t bits_differ(const models::Model<float>& a, const models::Model<float>& b) {
  auto ta = a.named_parameters(), tb = b.named_parameters();
  for (auto& x : a.named_buffers()) ta.push_back(x);
  for (auto& x : b.named_buffers()) tb.push_back(x);
  REQUIRE(ta.size() == tb.size());
  size_t differ = 0;
  for (size_t i = 0; i < ta.size(); ++i) {
    REQUIRE(ta[i].first == tb[i].first);
    REQUIRE(ta[i].second.numel() == tb[i].second.numel());
    const float* p = ta[i].second.data();
    const float* q = tb[i].second.data();
    for (size_t k = 0; k < ta[i].second.numel(); ++k)
      differ += std::memcmp(p + k, q + k, sizeof(float)) != 0;
  }
  return differ;
}

json curve_json(const models::TrainReport& r) {
  json out = json::array();
  for (const auto& p : r.curve)
    out.push_back({{"step", p.step}, {"epoch", p.epoch}, {"train", p.train}, {"test", p.test}});
  return out;
}

}  // namespace

TEST_CASE("resume: every model, stopped after epoch 1 and resumed, ends bit for bit as one run") {
  for (const auto& entry : models::model_registry()) {
    CAPTURE(entry.name);
    const models::RunConfig rc = tiny_run_config(entry, 2);

    // The uninterrupted run, twice: same seeds, same numbers (determinism).
    models::Run whole = models::build_run(rc);
    models::Trainer whole_trainer(*whole.task, *whole.model, whole.config.train);
    const models::TrainReport whole_report = whole_trainer.fit();
    models::Run again = models::build_run(rc);
    models::Trainer again_trainer(*again.task, *again.model, again.config.train);
    const models::TrainReport again_report = again_trainer.fit();
    CHECK(bits_differ(*whole.model, *again.model) == 0);
    CHECK(curve_json(whole_report) == curve_json(again_report));
    REQUIRE(whole_report.curve.size() == 2);

    // Stopped after epoch 1: the state goes into a folder, as the command line writes it.
    TempDir dir("tinyrec_resume", entry.name);
    {
      models::RunConfig first = rc;
      first.train.epochs = 1;
      models::Run run = models::build_run(first);
      models::Trainer trainer(*run.task, *run.model, run.config.train);
      trainer.fit();
      CHECK(trainer.epochs_done() == 1);
      nn::save_checkpoint(*run.model, dir.str());
      trainer.save_state(dir.str());
      // Its one epoch is the uninterrupted run's first.
      CHECK(curve_json(trainer.report())[0] == curve_json(whole_report)[0]);
      CHECK(bits_differ(*run.model, *whole.model) > 0);  // epoch 2 moved the whole run on
    }
    // A new process would build the run afresh (other initial weights would do: they are loaded).
    models::Run resumed = models::build_run(rc);
    nn::load_checkpoint(*resumed.model, dir.str());
    models::Trainer trainer(*resumed.task, *resumed.model, resumed.config.train);
    trainer.load_state(dir.str());
    CHECK(trainer.epochs_done() == 1);
    const models::TrainReport report = trainer.fit();
    CHECK(bits_differ(*resumed.model, *whole.model) == 0);
    CHECK(curve_json(report) == curve_json(whole_report));
    CHECK(report.steps == whole_report.steps);
  }
}

TEST_CASE("trainer: evaluating mid-epoch (--eval-every) changes no weight, for every model") {
  for (const auto& entry : models::model_registry()) {
    CAPTURE(entry.name);
    const models::RunConfig rc = tiny_run_config(entry, 2);
    models::Run plain = models::build_run(rc);
    const models::TrainReport plain_report =
        models::Trainer(*plain.task, *plain.model, plain.config.train).fit();
    models::RunConfig every = rc;
    every.train.eval_every = 2;
    models::Run often = models::build_run(every);
    const models::TrainReport report =
        models::Trainer(*often.task, *often.model, often.config.train).fit();
    // Evaluation must leave the model's mode, its generators and the task's untouched.
    CHECK(bits_differ(*plain.model, *often.model) == 0);
    CHECK(report.steps == plain_report.steps);
    // A point every 2 steps inside an epoch and one at each epoch's end, the latter as without.
    const size_t per_epoch = plain_report.steps / 2;
    std::vector<size_t> want;
    for (size_t e = 0; e < 2; ++e) {
      for (size_t local = 1; local < per_epoch; ++local)
        if ((e * per_epoch + local) % 2 == 0) want.push_back(e * per_epoch + local);
      want.push_back((e + 1) * per_epoch);
    }
    std::vector<size_t> got;
    for (const auto& p : report.curve) got.push_back(p.step);
    CHECK(got == want);
    CHECK(report.curve.back().test == plain_report.curve.back().test);
    CHECK(report.curve.back().epoch == 2.0);
  }
}

TEST_CASE("trainer: --steps-per-epoch trains the first N batches of each epoch, and resumes") {
  const models::ModelEntry& entry = models::find_model("din");
  models::RunConfig rc = tiny_run_config(entry, 3);
  rc.train.steps_per_epoch = 2;
  models::Run whole = models::build_run(rc);
  REQUIRE(whole.task->train_size() > 3 * rc.train.batch_size);  // 2 steps are a cut epoch
  models::Trainer trainer(*whole.task, *whole.model, whole.config.train);
  const models::TrainReport report = trainer.fit();
  REQUIRE(report.curve.size() == 3);
  CHECK(report.steps == 6);
  CHECK(report.curve[0].step == 2);
  CHECK(report.curve[0].epoch == 1.0);  // an epoch is its N steps
  CHECK(report.curve[2].epoch == 3.0);
  // The same as the first two batches of an uncut run's epoch 1.
  models::RunConfig uncut = rc;
  uncut.train.steps_per_epoch = 0;
  uncut.train.epochs = 1;
  models::Run full = models::build_run(uncut);
  models::Trainer full_trainer(*full.task, *full.model, full.config.train);
  std::vector<size_t> rows;
  data::BatchOrder order(full.task->train_size(), rc.train.batch_size, true, rc.train.seed);
  for (int k = 0; k < 2; ++k) {
    REQUIRE(order.next(rows));
    full_trainer.step(rows);
  }
  models::RunConfig one = rc;
  one.train.epochs = 1;
  models::Run first = models::build_run(one);
  models::Trainer(*first.task, *first.model, first.config.train).fit();
  CHECK(bits_differ(*first.model, *full.model) == 0);
  // Stopped after epoch 1 and resumed, it ends as the uninterrupted cut run.
  TempDir dir("tinyrec_steps_per_epoch", "din");
  nn::save_checkpoint(*first.model, dir.str());
  {
    models::Run again = models::build_run(one);
    models::Trainer t(*again.task, *again.model, again.config.train);
    t.fit();
    t.save_state(dir.str());
  }
  models::Run resumed = models::build_run(rc);
  nn::load_checkpoint(*resumed.model, dir.str());
  models::Trainer resumed_trainer(*resumed.task, *resumed.model, resumed.config.train);
  resumed_trainer.load_state(dir.str());
  const models::TrainReport rest = resumed_trainer.fit();
  CHECK(bits_differ(*resumed.model, *whole.model) == 0);
  CHECK(curve_json(rest) == curve_json(report));
}

TEST_CASE("resume: the generators of a model's dropout are part of the state") {
  std::mt19937_64 rng(1);
  nn::MLP<double> mlp(3, {4, 4, 2}, rng, nn::Activation::sigmoid, 0.5, false, false);
  const auto generators = mlp.named_generators();
  REQUIRE(generators.size() == 2);
  CHECK(generators[0].first == "layers.2.rng");
  CHECK(generators[1].first == "layers.5.rng");
  // They are the layers' own: drawing through the handle moves what the layer draws next.
  const Tensor<double> x(xt::xarray<double>{{0.4, -1.2, 0.7}, {1.1, 0.3, -0.5}});
  const xt::xarray<double> first = mlp.forward(x).value();
  const std::mt19937_64 saved0 = *generators[0].second, saved1 = *generators[1].second;
  const xt::xarray<double> second = mlp.forward(x).value();
  *generators[0].second = saved0;
  *generators[1].second = saved1;
  CHECK(mlp.forward(x).value() == second);
  CHECK(first != second);
}

TEST_CASE("resume: load_state refuses a state that does not belong to the run") {
  const models::ModelEntry& entry = models::find_model("dien");  // a task with its own generator
  const models::RunConfig rc = tiny_run_config(entry, 1);
  TempDir dir("tinyrec_resume", "refuse");
  {
    models::Run run = models::build_run(rc);
    models::Trainer trainer(*run.task, *run.model, run.config.train);
    trainer.fit();
    trainer.save_state(dir.str());
  }
  const fs::path state_file = dir.path / "train_state.json";
  auto message_of = [&](const models::RunConfig& c) -> std::string {
    models::Run run = models::build_run(c);
    models::Trainer trainer(*run.task, *run.model, run.config.train);
    try {
      trainer.load_state(dir.str());
    } catch (const std::runtime_error& e) {
      CHECK(trainer.epochs_done() == 0);  // nothing taken over
      return e.what();
    }
    FAIL_CHECK("no error");
    return {};
  };
  SUBCASE("another optimizer") {
    models::RunConfig other = rc;
    other.train.optimizer = "sgd";
    const std::string msg = message_of(other);
    CHECK(msg.find("train_state.json") != std::string::npos);
    CHECK(msg.find("saved with optimizer adam, resumed with sgd") != std::string::npos);
  }
  SUBCASE("another batch size") {
    models::RunConfig other = rc;
    other.train.batch_size = 8;
    CHECK(message_of(other).find("steps per epoch") != std::string::npos);
  }
  SUBCASE("a generator's state that is not one") {
    json s = json::parse(std::ifstream(state_file));
    s["generators"]["task.negatives"] = "12 34 not-a-number";
    std::ofstream(state_file) << s.dump();
    const std::string msg = message_of(rc);
    CHECK(msg.find("generators.task.negatives is not the state of a 64-bit Mersenne Twister") !=
          std::string::npos);
  }
  SUBCASE("a truncated optimizer file") {
    const fs::path m = dir.path / "optimizer" / "m" / "mlp.layers.0.weight.npy";
    REQUIRE(fs::is_regular_file(m));
    fs::resize_file(m, fs::file_size(m) / 2);
    const std::string msg = message_of(rc);
    CHECK(msg.find("load_optimizer_state") != std::string::npos);
    CHECK(msg.find("mlp.layers.0.weight.npy") != std::string::npos);
  }
  SUBCASE("not JSON") {
    std::ofstream(state_file) << "{\"format\": ";
    CHECK(message_of(rc).find("not valid JSON") != std::string::npos);
  }
}

TEST_CASE("resume: a non-finite loss names the epoch, the step and the last finite loss") {
  const models::ModelEntry& entry = models::find_model("din");
  models::Run run = models::build_run(tiny_run_config(entry, 3));
  models::Trainer trainer(*run.task, *run.model, run.config.train);
  models::TrainCallbacks callbacks;
  size_t last_step = 0;
  callbacks.on_step = [&](const models::StepInfo& s) { last_step = s.step; };
  // A fault in the middle of the run: after epoch 1 a weight turns NaN.
  callbacks.on_epoch_end = [&](size_t epoch) {
    if (epoch == 1)
      run.model->parameters().back().data()[0] = std::numeric_limits<float>::quiet_NaN();
  };
  std::string msg;
  try {
    trainer.fit(callbacks);
  } catch (const models::NonFiniteLoss& e) {
    msg = e.what();
  }
  REQUIRE(!msg.empty());
  CHECK(msg.find("training stopped at epoch 2, step 1") != std::string::npos);
  CHECK(msg.find("the last finite loss was click ") != std::string::npos);
  CHECK(msg.find("(epoch 1, step " + std::to_string(last_step) + ")") != std::string::npos);
  // What the finished epoch did is kept.
  CHECK(trainer.epochs_done() == 1);
  REQUIRE(trainer.report().curve.size() == 1);
  CHECK(trainer.report().steps == last_step);
}

TEST_CASE("optimizer state: every optimizer continues from a saved state exactly") {
  for (const std::string& name : nn::optimizer_names()) {
    CAPTURE(name);
    auto make = [](std::vector<Tensor<double>>& ps) {
      ps = {Tensor<double>(xt::xarray<double>{{0.3, -0.2}, {0.1, 0.4}}, true),
            Tensor<double>(xt::xarray<double>{0.5, -0.7, 0.2}, true),
            Tensor<double>(xt::xarray<double>{1.5}, true)};
    };
    // Gradients of a fixed function; the third parameter is never updated (no gradient).
    auto step = [](nn::Optimizer<double>& opt, std::vector<Tensor<double>>& ps) {
      opt.zero_grad();
      Tensor<double> loss = sum(square(ps[0] - 0.25)) + sum(exp(ps[1] * 0.5));
      backward(loss);
      opt.step();
    };
    std::vector<Tensor<double>> a, b;
    make(a), make(b);
    const nn::Named<double> names_a{{"w", a[0]}, {"v", a[1]}, {"u", a[2]}};
    const nn::Named<double> names_b{{"w", b[0]}, {"v", b[1]}, {"u", b[2]}};
    auto opt_a = nn::make_optimizer<double>(name, a, 0.05);
    auto opt_b = nn::make_optimizer<double>(name, b, 0.05);
    for (int i = 0; i < 3; ++i) step(*opt_a, a), step(*opt_b, b);
    TempDir dir("tinyrec_resume", "opt_" + name);
    nn::save_optimizer_state(*opt_a, names_a, dir.str());
    // A fresh optimizer over b's parameters (set to a's), loaded: it steps as opt_a does.
    auto opt_c = nn::make_optimizer<double>(name, b, 0.05);
    nn::load_optimizer_state(*opt_c, names_b, dir.str());
    for (int i = 0; i < 3; ++i) step(*opt_a, a), step(*opt_c, b);
    for (size_t k = 0; k < a.size(); ++k) CHECK(a[k].value() == b[k].value());
    CHECK(a[0].value() != xt::xarray<double>{{0.3, -0.2}, {0.1, 0.4}});
    // A file of the wrong shape is named.
    if (name != "sgd") {  // plain SGD keeps no state
      const fs::path slot =
          fs::directory_iterator(dir.path / (name == "adam" ? "m" : "sum"))->path();
      nn::save_npy<double>((slot.parent_path() / "w.npy").string(), xt::xarray<double>{1.0, 2.0});
      try {
        nn::load_optimizer_state(*opt_c, names_b, dir.str());
        FAIL_CHECK("no error");
      } catch (const std::runtime_error& e) {
        const std::string msg = e.what();
        CHECK(msg.find("w.npy has shape [2] but the parameter 'w' has shape [2, 2]") !=
              std::string::npos);
      }
    }
  }
}

TEST_CASE("resume: a state or weight that fails to write leaves the previous one whole") {
  const models::RunConfig rc = tiny_run_config(models::find_model("din"), 1);
  models::Run run = models::build_run(rc);
  models::Trainer trainer(*run.task, *run.model, run.config.train);
  trainer.fit();
  TempDir dir("tinyrec_resume", "atomic");
  nn::save_checkpoint(*run.model, dir.str());
  trainer.save_state(dir.str());
  const fs::path state = dir.path / "train_state.json";
  const fs::path weight = dir.path / "mlp.layers.0.weight.npy";
  const std::string state_before = tinyrec_test::read_bytes(state);
  const std::string weight_before = tinyrec_test::read_bytes(weight);
  REQUIRE(!state_before.empty());
  REQUIRE(!weight_before.empty());
  // Something else holds the temporary names (a folder that is not ours to remove): each write
  // fails, naming its file, and nothing that was there is touched.
  fs::create_directories(dir.path / "train_state.json.tmp" / "x");
  fs::create_directories(dir.path / "mlp.layers.0.weight.npy.tmp" / "x");
  for (auto& [name, p] : run.model->named_parameters())
    if (name == "mlp.layers.0.weight") p.data()[0] += 1.0f;
  CHECK_THROWS_WITH_AS(trainer.save_state(dir.str()),
                       ("cannot write " + state.string() + ": Is a directory").c_str(),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(nn::save_checkpoint(*run.model, dir.str()),
                       ("cannot write " + weight.string() + ": Is a directory").c_str(),
                       std::runtime_error);
  CHECK(tinyrec_test::read_bytes(state) == state_before);
  CHECK(tinyrec_test::read_bytes(weight) == weight_before);
  // Once the names are free, the same writes go through.
  fs::remove_all(dir.path / "train_state.json.tmp");
  fs::remove_all(dir.path / "mlp.layers.0.weight.npy.tmp");
  trainer.save_state(dir.str());
  nn::save_checkpoint(*run.model, dir.str());
  CHECK(tinyrec_test::read_bytes(weight) != weight_before);
  CHECK(!fs::exists(dir.path / "manifest.json.tmp"));
}
