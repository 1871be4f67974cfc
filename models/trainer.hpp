// The one trainer: epochs of seeded mini-batches, the optimizer, a stop on a NaN or infinite loss
// naming the step, evaluation on a schedule, throughput — for every model and task. And the run
// configuration that says which model, data and settings a run uses (a checkpoint's config.json),
// with the function that builds a run from it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/registry.hpp"

namespace tinyrec::models {

struct TrainOptions {
  size_t epochs = 2;
  size_t batch_size = 128;
  double lr = 1e-3;
  std::string optimizer = "adam";  // nn::optimizer_names()
  uint64_t seed = 1;               // the batch order
  size_t eval_every = 0;           // steps between evaluations on the curve; 0 = each epoch
  size_t eval_batch_size = 1024;
  // Each epoch trains on the first this many batches of its order (0 = all): a quick look at a
  // long run, and the documented commands run short under the sanitizers. Every epoch still ends
  // with its evaluation and files, and such a run resumes like any other.
  size_t steps_per_epoch = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TrainOptions, epochs, batch_size, lr, optimizer,
                                                seed, eval_every, eval_batch_size, steps_per_epoch)

// Everything that decides a run's numbers. Three seeds, one job each: the data (data_seed), the
// initial weights (model_seed), the batch order (train.seed).
struct RunConfig {
  std::string model = "din";
  nlohmann::json model_options = nlohmann::json::object();
  std::string dataset;  // empty = the task's first (built-in synthetic) data set
  nlohmann::json data_options = nlohmann::json::object();
  nlohmann::json task_options = nlohmann::json::object();
  TrainOptions train;
  uint64_t model_seed = 1;
  uint64_t data_seed = 1;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RunConfig, model, model_options, dataset,
                                                data_options, task_options, train, model_seed,
                                                data_seed)

// `config` with every default filled in and every setting checked against its owner's specs.
RunConfig resolve(const RunConfig& config);

// A model and its task with loaded data, built from a configuration.
struct Run {
  RunConfig config;  // resolved
  const ModelEntry* entry = nullptr;
  std::unique_ptr<Task> task;
  std::unique_ptr<Model<float>> model;
};
// Sizes that cannot fit are refused first, from the options alone where the data set's plan
// allows (TaskEntry::plan_shape): a table beyond the limit of values (autograd/limits.hpp), or a
// model that needs more memory than the process may use — to train it when `training`, else only
// to hold its weights. Running out of memory while building the data or the model is an error
// naming their sizes, never a std::bad_alloc.
Run build_run(const RunConfig& config, bool training = true);
// The parameter count of the model `config` builds, from its data set's plan alone (no data and
// no model of that size are built; see build_run); -1 when the data set has no plan.
double planned_parameter_count(const RunConfig& config);
// The model's whole configuration for its factory: settings ⊕ the data's shape ⊕ seed.
nlohmann::json model_config(const ModelEntry& entry, const nlohmann::json& model_options,
                            const nlohmann::json& shape, uint64_t seed);

// One point of the learning curve, after `step` optimizer steps.
struct CurvePoint {
  size_t step = 0;
  double epoch = 0;     // steps counted in epochs
  LossValues train;     // loss terms, mean since the last point
  nlohmann::json test;  // the task's metrics
};

struct TrainReport {
  std::vector<CurvePoint> curve;
  nlohmann::json test;  // after the last epoch
  size_t steps = 0;
  double samples_per_second = 0;  // training throughput, evaluation excluded
};

// Progress after every training step.
struct StepInfo {
  size_t epoch = 0, step = 0, steps = 0;  // epoch (1-based), step within it, steps per epoch
  LossValues loss;                        // loss terms, running mean over the epoch
  double samples_per_second = 0;
};
struct TrainCallbacks {
  std::function<void(const StepInfo&)> on_step;
  // After each point of the curve; `end_of_epoch` on the point that closes an epoch.
  std::function<void(const CurvePoint&, bool end_of_epoch)> on_point;
  // After each epoch, its point on the curve included: where a run writes its checkpoint.
  std::function<void(size_t epoch)> on_epoch_end;
};

// Resuming continues the saved run, so only the number of epochs may change: throws
// std::invalid_argument listing every other setting of `config` that differs from `saved` (a
// checkpoint's config.json), e.g. "only --epochs may change when resuming; these settings differ
// from the run's: train.lr".
void check_resumable(const RunConfig& saved, const RunConfig& config);

class Trainer {
 public:
  Trainer(Task& task, Model<float>& model, const TrainOptions& options);
  ~Trainer();
  // One optimizer step on training rows `rows`; returns each loss term's value. A non-finite loss
  // throws NonFiniteLoss (nothing updated).
  LossValues step(const std::vector<size_t>& rows);
  // The whole run, or what is left of it after load_state(): epochs epochs_done() + 1 to the
  // options' last. A non-finite loss throws NonFiniteLoss naming the epoch, the step and the last
  // finite loss; report() then holds the finished epochs. In anomaly mode (set_detect_anomaly,
  // autograd/tape.hpp) the first op that produced the NaN or Inf throws AnomalyError instead,
  // with the same epoch, step and last finite loss before the op's name and shapes.
  TrainReport fit(const TrainCallbacks& callbacks = {});
  nn::Optimizer<float>& optimizer();
  // What fit() has done so far: the curve, the steps and the throughput of finished epochs.
  const TrainReport& report() const;
  size_t epochs_done() const;

  // Everything continuing needs besides the weights, written into `dir`: train_state.json (epochs
  // and steps done, the curve so far, the states of the batch order's, the task's and the model's
  // generators) and optimizer/ (nn::save_optimizer_state). Call it between epochs.
  void save_state(const std::string& dir) const;
  // Reads what save_state wrote into this trainer, built over a fresh run of the same
  // configuration whose weights were loaded from the same checkpoint; fit() then continues with
  // the next epoch and ends with the weights an uninterrupted run would have, bit for bit. Throws
  // std::runtime_error naming the file and what does not match (another optimizer, model or
  // generator set). The run's configuration must be the saved one but for the epochs: see
  // check_resumable.
  void load_state(const std::string& dir);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tinyrec::models
