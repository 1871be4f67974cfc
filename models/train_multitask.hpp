// Training and evaluation of a multi-task model on a MultiTaskDataset: per-task losses (MSE for
// regression, binary cross-entropy with logits for binary tasks) with per-task weights, per-task
// test metrics, a learning curve, a stop with a message if a loss turns NaN, and the gates' expert
// utilisation read out after training.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/multitask_dataset.hpp"
#include "models/multitask_model.hpp"

namespace tinyrec::models {

struct MultiTaskTrainOptions {
  size_t epochs = 2;
  size_t batch_size = 128;
  double lr = 1e-3;
  std::string optimizer = "adam";    // adam | adagrad | sgd
  std::vector<double> task_weights;  // w_k of L = Σ_k w_k L_k; empty = 1 for every task
  uint64_t seed = 1;                 // batch order
  size_t eval_batch_size = 1024;
  // Steps between test evaluations for the learning curve; 0 = once per epoch. The end of every
  // epoch is always evaluated.
  size_t eval_every = 0;
};

// The training objective: L_k = MSE(y_k, ŷ_k) for a regression task, BCE-with-logits for a binary
// one; `outputs` are the model's [B] outputs, `y` the batch's labels [B, K]. Returns the L_k.
template <class T>
std::vector<Tensor<T>> task_losses(const std::vector<Tensor<T>>& outputs,
                                   const xt::xarray<float>& y,
                                   const std::vector<data::TaskInfo>& tasks);
// Σ_k w_k L_k; weights empty = all 1. Throws if the number of weights is not the number of tasks.
template <class T>
Tensor<T> weighted_loss(const std::vector<Tensor<T>>& losses, const std::vector<double>& weights);

// One task's test metrics. `loss` is the task's objective on the test split: the MSE for a
// regression task, the logloss for a binary one.
struct TaskMetrics {
  std::string name;
  data::TaskKind kind = data::TaskKind::regression;
  double loss = 0;
  double mse = 0;               // regression
  double auc = 0, logloss = 0;  // binary; auc is NaN when the split holds a single class
};

struct MultiTaskEval {
  std::vector<TaskMetrics> tasks;
  size_t samples = 0;
  double mean_loss() const;  // mean over the tasks of `loss`
};

// One point of the learning curve: after `step` optimizer steps (`epoch` counts them in epochs).
struct CurvePoint {
  size_t step = 0;
  double epoch = 0;
  std::vector<double> train_loss;  // per task, mean over the steps since the previous point
  std::vector<double> test_loss;   // per task, on the whole test split
};

struct MultiTaskReport {
  std::vector<CurvePoint> curve;
  std::vector<MultiTaskEval> epochs;  // test metrics after each epoch
  MultiTaskEval test;                 // after the last epoch
  size_t steps = 0;
  double samples_per_second = 0;  // training throughput (evaluation excluded)
};

// One optimizer step at a time; train_multitask and `tinyrec bench` use it.
class MultiTaskTrainer {
 public:
  MultiTaskTrainer(MultiTaskModel<float>& model, const MultiTaskTrainOptions& options);
  ~MultiTaskTrainer();
  // Returns each task's loss on the batch before the update; throws std::runtime_error naming the
  // task if a loss is not finite (nothing is updated then).
  std::vector<double> step(const data::MultiTaskBatch& batch);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Progress after every training step.
struct StepInfo {
  size_t epoch = 0, step = 0, steps = 0;  // epoch (1-based), step within it, steps per epoch
  size_t global_step = 0;
  std::vector<double> train_loss;  // per task, running mean over the epoch
  double samples_per_second = 0;
};
using MultiTaskStepCallback = std::function<void(const StepInfo&)>;
// After each epoch: the epoch (1-based), its mean training loss per task, the test metrics.
using MultiTaskEpochCallback =
    std::function<void(size_t epoch, const std::vector<double>& train_loss, const MultiTaskEval&)>;

// Throws std::invalid_argument for an empty split, a dataset whose tasks differ from the model's,
// or weights that do not match the tasks; std::runtime_error (with epoch and step) on a NaN loss.
MultiTaskReport train_multitask(MultiTaskModel<float>& model, const data::MultiTaskDataset& data,
                                const MultiTaskTrainOptions& options,
                                const MultiTaskStepCallback& on_step = {},
                                const MultiTaskEpochCallback& on_epoch = {});

// Predictions for rows of (x, cat) in evaluation mode, [N, K]: probabilities for binary tasks,
// values for regression tasks. With logits = true, binary tasks give logits instead.
xt::xarray<float> predict_multitask(MultiTaskModel<float>& model, const xt::xarray<float>& x,
                                    const xt::xarray<int64_t>& cat, size_t batch_size = 1024,
                                    bool logits = false);
MultiTaskEval evaluate_multitask(MultiTaskModel<float>& model, const xt::xarray<float>& x,
                                 const xt::xarray<int64_t>& cat, const xt::xarray<float>& y,
                                 size_t batch_size = 1024);

// How much each task's gate leans on each expert, over the rows of (x, cat) in evaluation mode: the
// mean and standard deviation of every gate weight (the PLE paper's expert-utilisation plot). Empty
// for a model without gates.
struct GateUtilisation {
  std::string task;
  std::vector<std::string> experts;
  std::vector<double> mean, stddev;
};
std::vector<GateUtilisation> gate_utilisation(MultiTaskModel<float>& model,
                                              const xt::xarray<float>& x,
                                              const xt::xarray<int64_t>& cat,
                                              size_t batch_size = 1024);

}  // namespace tinyrec::models
