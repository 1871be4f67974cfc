// The registry walked model by model: every model passes its task's float64 whole-model gradient
// check, builds a small run from a RunConfig, takes one training step, survives a checkpoint round
// trip into a model of other initial weights, and has defaults that resolve. Plus the errors a user
// meets: an unknown model, an unknown or ill-typed setting, another task's data set.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/options.hpp"
#include "models/registry.hpp"
#include "models/trainer.hpp"
#include "nn/checkpoint.hpp"
#include "tests/test_support.hpp"

using namespace tinyrec;
using nlohmann::json;
using tinyrec_test::TempDir;
using tinyrec_test::tiny_run_config;
namespace fs = std::filesystem;

namespace {

// The message of the std::invalid_argument that `fn` throws; empty (and a failed check) if it
// throws none.
template <class Fn>
std::string invalid_argument_message(Fn&& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  FAIL_CHECK("no std::invalid_argument thrown");
  return {};
}

std::vector<xt::xarray<float>> values_of(const models::Model<float>& model) {
  std::vector<xt::xarray<float>> values;
  for (const auto& p : model.parameters()) values.push_back(p.value());
  return values;
}

}  // namespace

TEST_CASE("registry: every model passes its gradient check, trains, reloads and resolves") {
  const auto& registry = models::model_registry();
  REQUIRE(!registry.empty());
  std::set<std::string> names;
  for (const models::ModelEntry& entry : registry) {
    CAPTURE(entry.name);
    CHECK(names.insert(entry.name).second);  // names are unique
    CHECK(!entry.paper.empty());
    CHECK(!entry.summary.empty());
    REQUIRE(entry.make_float);
    REQUIRE(entry.make_double);
    const models::TaskEntry& task = models::find_task(entry.task);
    REQUIRE(task.gradcheck);
    REQUIRE(task.make);
    REQUIRE(!task.datasets.empty());

    {  // (a) float64 whole-model gradient check through the task
      const json shape = entry.tiny_shape.empty() ? task.tiny_shape : entry.tiny_shape;
      auto model = entry.make_double(models::model_config(entry, entry.tiny, shape, 7));
      REQUIRE(model != nullptr);
      CHECK(model->name() == entry.name);
      const GradcheckResult r = task.gradcheck(*model, shape, task.defaults);
      CHECK_MESSAGE(r.ok, r.report());
      CHECK(r.checked == model->parameter_count());  // every parameter
      CHECK(r.checked > 50);
    }

    {  // (b, c) one training step, then a checkpoint round trip into other weights
      const models::RunConfig rc = tiny_run_config(entry);
      models::Run run = models::build_run(rc);
      REQUIRE(run.task != nullptr);
      REQUIRE(run.model != nullptr);
      CHECK(run.entry == &entry);
      CHECK(run.model->name() == entry.name);
      CHECK(run.config.dataset == task.datasets.front().name);
      REQUIRE(run.task->train_size() >= rc.train.batch_size);

      // (b) One step on the first rows: finite loss terms, and every parameter moved.
      const std::vector<xt::xarray<float>> before = values_of(*run.model);
      models::Trainer trainer(*run.task, *run.model, run.config.train);
      std::vector<size_t> rows(rc.train.batch_size);
      for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
      const models::LossValues loss = trainer.step(rows);
      REQUIRE(!loss.empty());
      for (const auto& term_value : loss) {
        const auto& term = term_value.first;
        const auto& value = term_value.second;
        CAPTURE(term);
        CHECK(std::isfinite(value));
      }
      const auto named = run.model->named_parameters();
      REQUIRE(named.size() == before.size());
      for (size_t i = 0; i < named.size(); ++i) {
        CAPTURE(named[i].first);
        CHECK(named[i].second.value() != before[i]);
      }

      // (c) Save, build the same run with other initial weights, load: the same test outputs.
      const xt::xarray<float> outputs = run.task->test_outputs(*run.model, 32);
      REQUIRE(outputs.dimension() == 2);
      REQUIRE(outputs.size() > 0);
      TempDir dir("tinyrec_registry", entry.name);
      nn::save_checkpoint(*run.model, dir.str());
      models::RunConfig other_rc = rc;
      other_rc.model_seed = rc.model_seed + 1;
      models::Run other = models::build_run(other_rc);
      const xt::xarray<float> fresh = other.task->test_outputs(*other.model, 32);
      REQUIRE(fresh.shape() == outputs.shape());
      CHECK(fresh != outputs);  // other weights, other outputs: the load below is what matches
      nn::load_checkpoint(*other.model, dir.str());
      const xt::xarray<float> loaded = other.task->test_outputs(*other.model, 32);
      REQUIRE(loaded.shape() == outputs.shape());
      size_t differ = 0;
      for (size_t i = 0; i < outputs.size(); ++i) differ += loaded.data()[i] != outputs.data()[i];
      CHECK_MESSAGE(differ == 0, differ << " of " << outputs.size() << " outputs differ");
    }

    {  // (d) defaults resolve, every option has a default, the tiny settings are valid
      models::RunConfig rc;
      rc.model = entry.name;
      models::RunConfig resolved;
      CHECK_NOTHROW(resolved = models::resolve(rc));
      CHECK(resolved.model_options == entry.defaults);
      CHECK(resolved.dataset == task.datasets.front().name);
      std::set<std::string> keys, flags;
      for (const models::OptionSpec& spec : entry.options) {
        CAPTURE(spec.key);
        CHECK(keys.insert(spec.key).second);
        CHECK(flags.insert(spec.flag).second);
        REQUIRE(entry.defaults.contains(spec.key));
        CHECK_NOTHROW(models::check_option(entry.name, spec, entry.defaults.at(spec.key),
                                           entry.defaults.at(spec.key)));
      }
      CHECK(entry.defaults.size() == entry.options.size());  // no default without its option
      CHECK_NOTHROW(models::merge_options(entry.name, entry.options, entry.defaults, entry.tiny));
      const models::DatasetEntry& first = task.datasets.front();
      CHECK_NOTHROW(
          models::merge_options(first.name, first.options, first.defaults, task.tiny_data));
    }
  }
}

TEST_CASE("registry: every task's and data set's options have defaults") {
  for (const models::TaskEntry& task : models::task_registry()) {
    CAPTURE(task.name);
    CHECK(!models::models_of_task(task.name).empty());
    for (const auto& spec : task.options) CHECK(task.defaults.contains(spec.key));
    for (const models::DatasetEntry& d : task.datasets) {
      CAPTURE(d.name);
      for (const auto& spec : d.options) {
        CAPTURE(spec.key);
        REQUIRE(d.defaults.contains(spec.key));
        CHECK_NOTHROW(
            models::check_option(d.name, spec, d.defaults.at(spec.key), d.defaults.at(spec.key)));
      }
    }
  }
}

TEST_CASE("registry: an unknown model name lists the accepted models") {
  const std::string msg = invalid_argument_message([] { models::find_model("dinn"); });
  CHECK(msg.find("dinn") != std::string::npos);
  for (const std::string& name : models::model_names()) {
    CAPTURE(name);
    CHECK(msg.find(name) != std::string::npos);
  }
  models::RunConfig rc;
  rc.model = "dinn";
  CHECK_THROWS_AS(models::resolve(rc), std::invalid_argument);
  CHECK_THROWS_AS(models::find_task("clicks"), std::invalid_argument);
}

TEST_CASE("merge_options: unknown keys name the accepted keys; values of the wrong type refused") {
  const models::ModelEntry& din = models::find_model("din");
  auto merge = [&](const json& given) {
    return models::merge_options("--model din", din.options, din.defaults, given);
  };
  const json merged = merge({{"item_dim", 4}, {"activation", "dice"}});
  CHECK(merged.at("item_dim") == 4);
  CHECK(merged.at("activation") == "dice");
  CHECK(merged.at("cat_dim") == din.defaults.at("cat_dim"));  // the rest are the defaults

  const std::string unknown = invalid_argument_message([&] { merge({{"item_size", 4}}); });
  CHECK(unknown.find("item_size") != std::string::npos);
  CHECK(unknown.find("--model din") != std::string::npos);
  for (const auto& spec : din.options) {
    CAPTURE(spec.key);
    CHECK(unknown.find(spec.key) != std::string::npos);
  }

  CHECK_THROWS_WITH_AS(merge({{"item_dim", "wide"}}),
                       doctest::Contains("--item-dim: \"wide\" is not a number"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(merge({{"item_dim", 2.5}}), doctest::Contains("is not a whole number"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(merge({{"item_dim", 0}}), doctest::Contains("--item-dim: 0 is not in"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(merge({{"activation", 3}}), doctest::Contains("--activation: 3 is not text"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(merge({{"activation", "tanh"}}),
                       doctest::Contains("--activation: tanh not in {prelu, dice, relu, sigmoid}"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(merge({{"attention_softmax", 1}}), doctest::Contains("is not true/false"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(merge({{"mlp", 200}}),
                       doctest::Contains("--mlp: 200 is not a non-empty list of numbers"),
                       std::invalid_argument);

  // Through a run configuration: resolve checks every owner's settings.
  models::RunConfig rc;
  rc.model = "din";
  rc.model_options = {{"item_size", 4}};
  CHECK_THROWS_WITH_AS(models::resolve(rc), doctest::Contains("no setting 'item_size'"),
                       std::invalid_argument);
  rc.model_options = json::object();
  rc.data_options = {{"users", "many"}};
  CHECK_THROWS_WITH_AS(models::resolve(rc), doctest::Contains("--users"), std::invalid_argument);
}

TEST_CASE("resolve: another task's data set names the models it applies to") {
  models::RunConfig rc;
  rc.model = "din";
  rc.dataset = "income";
  const std::string msg = invalid_argument_message([&] { models::resolve(rc); });
  CHECK(msg.find("--dataset") != std::string::npos);
  CHECK(msg.find("income is a data set of --model") != std::string::npos);
  const std::vector<std::string> multitask = models::models_of_task("multitask");
  REQUIRE(!multitask.empty());
  for (const std::string& name : multitask) {
    CAPTURE(name);
    CHECK(msg.find(name) != std::string::npos);
  }

  rc.model = "mmoe";
  rc.dataset = "amazon";
  const std::string back = invalid_argument_message([&] { models::resolve(rc); });
  CHECK(back.find("amazon is a data set of --model base, din, dien") != std::string::npos);

  rc.dataset = "no_such_data";
  const std::string none = invalid_argument_message([&] { models::resolve(rc); });
  CHECK(none.find("no_such_data") != std::string::npos);
  CHECK(none.find("is a data set of") == std::string::npos);
}
