// The model registry: every model, its paper, its task and its settings, and every task with its
// data sets. The command line (--model choices, train, eval, predict, gradcheck, bench, `tinyrec
// models`) and the registry-walking test read it, so a new model is a model file plus one line in
// models/registry.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/gradcheck.hpp"
#include "models/model.hpp"
#include "models/options.hpp"
#include "models/task.hpp"

namespace tinyrec::models {

// A model's factories take its whole configuration as JSON: its settings, the task's model_shape()
// and "seed" (the initial weights' seed), converted to the model's config struct by that struct's
// one JSON codec.
template <class T>
using ModelFactory = std::function<std::unique_ptr<Model<T>>(const nlohmann::json& config)>;

struct ModelEntry {
  std::string name;   // --model NAME
  std::string paper;  // "Zhou et al., KDD 2018 (arXiv 1706.06978)"
  std::string task;   // the TaskEntry it trains on
  std::string summary;
  Options options;            // its own settings
  nlohmann::json defaults;    // their values: the paper's where it gives them
  nlohmann::json tiny;        // small values for gradient checks
  nlohmann::json tiny_shape;  // the gradient-check data shape when not the task's
  ModelFactory<float> make_float;
  ModelFactory<double> make_double;
};

// Builds a model type's two factories; Config is its config struct (with a JSON codec), M its
// class template taking a Config.
template <template <class> class M, class Config>
void set_factories(ModelEntry& entry) {
  entry.make_float = [](const nlohmann::json& j) -> std::unique_ptr<Model<float>> {
    return std::make_unique<M<float>>(j.get<Config>());
  };
  entry.make_double = [](const nlohmann::json& j) -> std::unique_ptr<Model<double>> {
    return std::make_unique<M<double>>(j.get<Config>());
  };
}

// What a task needs to load its data.
struct TaskSetup {
  std::string model;            // some data sets depend on it (ESMM's generator)
  nlohmann::json task_options;  // merged and checked
  std::string dataset;
  nlohmann::json data_options;  // merged and checked
  uint64_t data_seed = 1;
};

// What a data set's model_shape() will be, known from its options before the data are built, so
// that a model too big to fit is refused before anything large is allocated (build_run). `sizes`
// are the shape's numbers that grow with a flag (a vocabulary, an input width), each with the flag.
struct ShapePlan {
  struct Size {
    std::string key;   // a number of `shape`: "n_items"
    std::string flag;  // where it comes from: "--items"
  };
  nlohmann::json shape;
  std::vector<Size> sizes;
};

struct DatasetEntry {
  std::string name, help;
  Options options;
  nlohmann::json defaults;
};

struct TaskEntry {
  std::string name, summary;
  Options options;  // the task's own settings (e.g. click: --max-len, --mba-lambda)
  nlohmann::json defaults;
  std::vector<DatasetEntry> datasets;  // the first is the default: the built-in synthetic data
  nlohmann::json tiny_shape;           // model_shape() of the gradient-check batch
  // Data options of the first data set small enough for a test run of a few seconds.
  nlohmann::json tiny_data;
  std::function<std::unique_ptr<Task>(const TaskSetup&)> make;
  // The model shape of the data `make` would build, where its options alone tell it (the synthetic
  // data sets); unset, or a plan with a null shape, where only the files can.
  std::function<ShapePlan(const TaskSetup&)> plan_shape;
  // A float64 check of the model's outputs and training loss against every parameter, on a tiny
  // batch of data of shape `shape`.
  std::function<GradcheckResult(Model<double>&, const nlohmann::json& shape,
                                const nlohmann::json& task_options)>
      gradcheck;
  // Synthetic data options for timing training steps at batch size `batch_size`.
  std::function<nlohmann::json(const nlohmann::json& task_options, size_t batch_size)> bench_data;
};

const std::vector<ModelEntry>& model_registry();
const std::vector<TaskEntry>& task_registry();
std::vector<std::string> model_names();
// Throw std::invalid_argument naming the accepted names.
const ModelEntry& find_model(const std::string& name);
const TaskEntry& find_task(const std::string& name);
const DatasetEntry& find_dataset(const TaskEntry& task, const std::string& name,
                                 const std::string& model);

// The models of a task's data set, e.g. for "--dataset income applies to ..." messages.
std::vector<std::string> models_of_task(const std::string& task);

}  // namespace tinyrec::models
