// What the PyTorch twins of the click models (Base, DIN: bench/din_torch.py) and of the multi-task
// family (Shared-Bottom, OMoE, MMoE, PLE, ESMM: bench/mmoe_torch.py, ple_torch.py, esmm_torch.py)
// need to be checked against tinyrec (bench/ctr_parity.py, bench/multitask_parity.py):
//
//   bench_twin_steps score CHECKPOINT OUT [rows]
//       rebuilds the run of CHECKPOINT (its config.json: model, data, seeds), loads its weights and
//       writes the first `rows` test rows as the model reads them (OUT/batch_*.npy) with the
//       model's outputs in evaluation mode (OUT/outputs.npy, [rows, K]: logits of binary tasks and
//       clicks, values of regression tasks).
//   bench_twin_steps steps MODEL OUT [float|double] [MODEL_OPTIONS] [DATA_OPTIONS]
//       ten training steps of MODEL (batch 32, Adam, lr 0.01) on a small synthetic data set of
//       its task, from a saved start: OUT/init (checkpoint and config.json), OUT/step_NN (each
//       batch as the model reads it), OUT/final; one JSON line with each step's loss terms. The
//       options are JSON objects merged into the defaults; DATA_OPTIONS with a "dataset" key
//       selects another data set of the task and gives its options whole. In float the steps are
//       the task's own train_step; in double (which train_step does not take) the same batch, loss
//       terms, zero_grad, backward and Adam step written out.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/batching.hpp"
#include "models/click_task.hpp"
#include "models/multitask_task.hpp"
#include "models/trainer.hpp"
#include "nn/checkpoint.hpp"
#include "nn/npy.hpp"
#include "nn/optim.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace tinyrec;

namespace {

constexpr size_t kSteps = 10, kBatch = 32;
constexpr double kLr = 0.01;  // large enough that ten steps move the weights well past 1e-4

// The rows of one batch, exactly what a model of the task reads, as .npy files under `dir`.
void save_batch(const models::Task& task, const models::RunConfig& config,
                const std::vector<size_t>& rows, bool test, const fs::path& dir) {
  fs::create_directories(dir);
  auto path = [&](const std::string& name) { return (dir / ("batch_" + name + ".npy")).string(); };
  if (const auto* click = dynamic_cast<const models::ClickTask*>(&task)) {
    const data::CtrDataset& d = click->data();
    data::CtrBatch b;
    data::fill_ctr_batch(test ? d.test : d.train, rows,
                         config.task_options.at("max_len").get<size_t>(), false, b);
    nn::save_npy(path("item"), b.item);
    nn::save_npy(path("cat"), b.cat);
    nn::save_npy(path("hist_items"), b.hist_items);
    nn::save_npy(path("hist_cats"), b.hist_cats);
    nn::save_npy(path("mask"), b.mask);
    nn::save_npy(path("label"), b.label);
  } else if (const auto* multi = dynamic_cast<const models::MultiTaskTask*>(&task)) {
    const data::MultiTaskDataset& d = multi->data();
    data::MultiTaskBatch b;
    if (test)
      data::fill_multitask_batch(d.test_x, d.test_cat, d.test_y, rows, b);
    else
      data::fill_multitask_batch(d.train_x, d.train_cat, d.train_y, rows, b);
    nn::save_npy(path("x"), b.x);
    nn::save_npy(path("cat"), b.cat);
    nn::save_npy(path("y"), b.y);
  } else {
    throw std::invalid_argument("the twins cover the click and multi-task models only");
  }
}

// The loss terms of a training batch in T, as the task's loss_terms computes them in float.
template <class T>
models::LossTerms<T> loss_terms(const models::Task& task, const models::RunConfig& config,
                                models::Model<T>& model, const std::vector<size_t>& rows) {
  if (const auto* click = dynamic_cast<const models::ClickTask*>(&task)) {
    data::CtrBatch b;
    data::fill_ctr_batch(click->data().train, rows, config.task_options.at("max_len").get<size_t>(),
                         false, b);
    return models::click_loss_terms(dynamic_cast<models::CtrModel<T>&>(model), b,
                                    config.task_options.at("mba_lambda").get<double>());
  }
  const auto& multi = dynamic_cast<const models::MultiTaskTask&>(task);
  const data::MultiTaskDataset& d = multi.data();
  data::MultiTaskBatch b;
  data::fill_multitask_batch(d.train_x, d.train_cat, d.train_y, rows, b);
  auto& m = dynamic_cast<models::MultiTaskModel<T>&>(model);
  return models::task_losses(m.forward(b), b.y, m.tasks(),
                             config.task_options.value("task_weights", std::vector<double>{}));
}

// The test rows' outputs in evaluation mode, [rows, K].
xt::xarray<float> outputs(const models::Task& task, const models::RunConfig& config,
                          models::Model<float>& model, const std::vector<size_t>& rows) {
  return models::in_eval_mode(model, [&] {
    std::vector<Tensor<float>> out;
    if (const auto* click = dynamic_cast<const models::ClickTask*>(&task)) {
      data::CtrBatch b;
      data::fill_ctr_batch(click->data().test, rows,
                           config.task_options.at("max_len").get<size_t>(), false, b);
      out.push_back(dynamic_cast<models::CtrModel<float>&>(model).forward(b));
    } else {
      const data::MultiTaskDataset& d = dynamic_cast<const models::MultiTaskTask&>(task).data();
      data::MultiTaskBatch b;
      data::fill_multitask_batch(d.test_x, d.test_cat, d.test_y, rows, b);
      out = dynamic_cast<models::MultiTaskModel<float>&>(model).forward(b);
    }
    xt::xarray<float> a = xt::zeros<float>({rows.size(), out.size()});
    for (size_t k = 0; k < out.size(); ++k)
      for (size_t i = 0; i < rows.size(); ++i) a(i, k) = out[k].data()[i];
    return a;
  });
}

int score(const fs::path& checkpoint, const fs::path& out, size_t n) {
  const models::RunConfig config =
      json::parse(std::ifstream(checkpoint / "config.json")).get<models::RunConfig>();
  models::Run run = models::build_run(config);
  nn::load_checkpoint(*run.model, checkpoint.string());
  size_t test_rows = 0;
  if (const auto* click = dynamic_cast<const models::ClickTask*>(run.task.get()))
    test_rows = click->data().test.size();
  else if (const auto* multi = dynamic_cast<const models::MultiTaskTask*>(run.task.get()))
    test_rows = multi->data().num_test();
  std::vector<size_t> rows(std::min(n, test_rows));
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  save_batch(*run.task, run.config, rows, true, out);
  nn::save_npy((out / "outputs.npy").string(), outputs(*run.task, run.config, *run.model, rows));
  std::printf("%s\n", json{{"model", run.config.model}, {"rows", rows.size()}}.dump().c_str());
  return 0;
}

// The per-task data options of the steps: a few hundred rows, so a run takes a second.
json small_data(const std::string& task) {
  if (task == "click")
    return {{"users", 60}, {"samples_per_user", 8}, {"items", 200}, {"cats", 20}};
  return {{"train_rows", 640}, {"test_rows", 64}};
}

template <class T>
int steps(const std::string& model_name, const fs::path& out, const json& model_options,
          const json& data_options) {
  models::RunConfig config;
  config.model = model_name;
  config.model_options = model_options;
  if (data_options.contains("dataset")) {  // another data set: its own options, as given
    config.dataset = data_options.at("dataset");
    config.data_options = data_options;
    config.data_options.erase("dataset");
  } else {
    config.data_options = small_data(models::find_model(model_name).task);
    config.data_options.update(data_options);
  }
  config.train.batch_size = kBatch;
  config.train.lr = kLr;
  models::Run run = models::build_run(config);
  std::unique_ptr<models::Model<T>> model;
  if constexpr (std::is_same_v<T, float>) {
    model = std::move(run.model);
  } else {
    model = run.entry->make_double(models::model_config(
        *run.entry, run.config.model_options, run.task->model_shape(), run.config.model_seed));
  }
  auto save = [&](const char* name) {
    fs::create_directories(out / name);
    nn::save_checkpoint(*model, (out / name).string());
    std::ofstream(out / name / "config.json") << json(run.config).dump(2) << "\n";
  };
  save("init");
  const auto optimizer =
      nn::make_optimizer<T>(run.config.train.optimizer, model->parameters(), kLr);
  data::BatchOrder order(run.task->train_size(), kBatch, true, run.config.train.seed);
  std::vector<size_t> rows;
  json losses = json::array();
  for (size_t step = 0; step < kSteps; ++step) {
    if (!order.next(rows) || rows.size() != kBatch) order.start_epoch(), order.next(rows);
    char name[16];
    std::snprintf(name, sizeof name, "step_%02zu", step);
    save_batch(*run.task, run.config, rows, false, out / name);
    json terms = json::object();
    if constexpr (std::is_same_v<T, float>) {
      for (const auto& [term, value] : run.task->train_step(*model, *optimizer, rows))
        terms[term] = value;
    } else {
      model->train();
      const models::LossTerms<T> parts = loss_terms(*run.task, run.config, *model, rows);
      const Tensor<T> loss = models::total_loss(parts);
      for (const auto& part : parts) terms[part.name] = part.value.item();
      optimizer->zero_grad();
      backward(loss);
      optimizer->step();
    }
    losses.push_back(terms);
  }
  save("final");
  const json report = {{"model", model_name},
                       {"dtype", std::is_same_v<T, float> ? "float32" : "float64"},
                       {"optimizer", run.config.train.optimizer},
                       {"lr", kLr},
                       {"batch_size", kBatch},
                       {"losses", losses}};
  std::printf("%s\n", report.dump().c_str());
  return 0;
}

json json_arg(int argc, char** argv, int i) {
  return argc > i ? json::parse(argv[i]) : json::object();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "score" && argc >= 4)
      return score(argv[2], argv[3], argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 512);
    if (mode == "steps" && argc >= 4) {
      const std::string dtype = argc > 4 ? argv[4] : "float";
      const json options = json_arg(argc, argv, 5), data = json_arg(argc, argv, 6);
      if (dtype == "float") return steps<float>(argv[2], argv[3], options, data);
      if (dtype == "double") return steps<double>(argv[2], argv[3], options, data);
      throw std::invalid_argument("steps: dtype '" + dtype + "'; accepted: float, double");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_twin_steps: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: bench_twin_steps score CHECKPOINT OUT [rows] | steps MODEL OUT "
               "[float|double] [MODEL_OPTIONS_JSON] [DATA_OPTIONS_JSON]\n");
  return 2;
}
