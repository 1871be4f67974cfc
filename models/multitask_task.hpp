// Multi-task learning (Shared-Bottom, OMoE, MMoE, PLE, ESMM): per-task losses — MSE for a
// regression task, binary cross-entropy with logits for a binary one — weighted into one
// objective; per-task test metrics and the gates' expert utilisation. Data sets: the MMoE paper's
// synthetic generator (or ESMM's), any tabular CSV with a schema, the kernlab income survey and
// UCI census-income.
#pragma once

#include <nlohmann/json.hpp>

#include "autograd/gradcheck.hpp"
#include "data/multitask_dataset.hpp"
#include "data/tabular_csv.hpp"
#include "models/multitask_model.hpp"
#include "models/registry.hpp"
#include "models/task.hpp"

namespace tinyrec::models {

struct MultiTaskOptions {
  std::vector<double> task_weights;  // w_k of L = Σ_k w_k L_k; empty = 1 for every task
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MultiTaskOptions, task_weights)

// L_k per task, named by the task and weighted by `weights` (empty = all 1; otherwise one per
// task, else std::invalid_argument): MSE for a regression task, BCE with logits for a binary
// one. `outputs` are the model's [B] outputs, `y` the batch's labels [B, K].
template <class T>
LossTerms<T> task_losses(const std::vector<Tensor<T>>& outputs, const xt::xarray<float>& y,
                         const std::vector<data::TaskInfo>& tasks,
                         const std::vector<double>& weights = {});

// The model settings a multi-task data set fixes.
nlohmann::json multitask_shape(const data::MultiTaskDataset& data);

// Five rows with both label kinds, and an unknown id (0) in each categorical column.
data::MultiTaskBatch tiny_multitask_batch(const MultiTaskConfig& config);
// Checks the outputs [B, K] and the loss Σ_k w_k L_k against every parameter; returns the worse.
GradcheckResult gradcheck_multitask_model(MultiTaskModel<double>& model,
                                          const data::MultiTaskBatch& batch,
                                          const std::vector<double>& task_weights = {});

// Outputs for rows of (x, cat) in evaluation mode, [N, K]: probabilities for binary tasks, values
// for regression tasks; with logits = true, binary tasks give logits.
xt::xarray<float> multitask_outputs(MultiTaskModel<float>& model, const xt::xarray<float>& x,
                                    const xt::xarray<int64_t>& cat, size_t batch_size = 1024,
                                    bool logits = false);

class MultiTaskTask : public Task {
 public:
  // `schema` is the CSV schema the data was read with (prediction reads files the same way);
  // null for generated data.
  MultiTaskTask(data::MultiTaskDataset data, const MultiTaskOptions& options,
                std::unique_ptr<data::CsvSchema> schema = nullptr);
  const data::MultiTaskDataset& data() const { return data_; }

  std::string describe() const override;
  nlohmann::json model_shape() const override { return multitask_shape(data_); }
  size_t train_size() const override { return data_.num_train(); }
  LossTerms<float> loss_terms(Model<float>& model, const std::vector<size_t>& rows) override;
  // {"tasks": {name: {"mse"} or {"auc", "logloss"}}, "samples", "gates": {task: {"experts",
  // "mean", "std"}}}: the gates' mean and standard deviation per expert over the test rows (the
  // PLE paper's expert-utilisation plot; empty for a model without gates). A binary task's AUC is
  // null when the split holds one class.
  nlohmann::json evaluate(Model<float>& model, size_t batch_size) override;
  std::string summarize(const nlohmann::json& metrics) const override;
  xt::xarray<float> test_outputs(Model<float>& model, size_t batch_size) override;
  // Input: a CSV with a header naming the feature columns (others are ignored); output: one line
  // of tab-separated task predictions per row — probabilities for binary tasks, values for
  // regression tasks.
  size_t predict(Model<float>& model, const std::string& input, std::ostream& out) override;

 private:
  data::MultiTaskDataset data_;
  MultiTaskOptions options_;
  std::unique_ptr<data::CsvSchema> schema_;
  data::MultiTaskBatch batch_;
};

TaskEntry multitask_task_entry();

}  // namespace tinyrec::models
