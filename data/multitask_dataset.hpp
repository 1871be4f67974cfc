// Multi-task tabular data as plain arrays (dense features, categorical ids, one label column per
// task) and a seeded mini-batcher over them, shared by Shared-Bottom, OMoE, MMoE, PLE and ESMM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include "data/batching.hpp"

namespace tinyrec::data {

enum class TaskKind { regression, binary };

// "regression" / "binary"; parse_task_kind throws std::invalid_argument naming the accepted values.
std::string to_string(TaskKind kind);
TaskKind parse_task_kind(const std::string& text);

struct TaskInfo {
  std::string name;
  TaskKind kind = TaskKind::regression;
};

// Rows are samples. Every task has a label on every row (ESMM's two tasks, ctr and ctcvr, are both
// defined over all impressions, so no per-task mask is needed).
struct MultiTaskDataset {
  std::string name;
  std::vector<TaskInfo> tasks;
  xt::xarray<float> train_x, test_x;  // [N, n_numeric]; n_numeric may be 0
  xt::xarray<int64_t> train_cat,
      test_cat;                          // [N, n_categorical]; per-column ids, 0 = unknown/missing
  std::vector<int64_t> cat_vocab_sizes;  // per categorical column, counting id 0
  std::vector<std::string> numeric_names, categorical_names;
  xt::xarray<float> train_y, test_y;  // [N, n_tasks]; binary labels are 0/1

  // Filled by readers that transform their input (tabular_csv); empty for generators.
  std::vector<double> numeric_mean, numeric_std;             // train statistics used to standardise
  std::vector<std::vector<std::string>> categorical_values;  // [column][id] -> value; [c][0] = ""

  size_t num_train() const { return train_y.shape().empty() ? 0 : train_y.shape()[0]; }
  size_t num_test() const { return test_y.shape().empty() ? 0 : test_y.shape()[0]; }
  size_t num_tasks() const { return tasks.size(); }
};

// Mean of label column `task` over the rows of y ([N, n_tasks]); for a binary task, its positive
// rate.
double label_mean(const xt::xarray<float>& y, size_t task);
// Pearson correlation between label columns a and b of y; 0 when either column is constant.
double label_correlation(const xt::xarray<float>& y, size_t a, size_t b);

struct MultiTaskBatch {
  size_t size = 0;
  xt::xarray<float> x;       // [size, n_numeric]
  xt::xarray<int64_t> cat;   // [size, n_categorical]
  xt::xarray<float> y;       // [size, n_tasks]
  std::vector<size_t> rows;  // source row of each batch row, e.g. to look up ESMM's true pCVR
};

// Fills `batch` with rows `rows` of (x, cat, y). The batch's arrays are resized only when the
// batch size changes (at most twice an epoch), so a training loop that keeps one MultiTaskBatch
// allocates nothing per step. y may have zero columns (prediction).
void fill_multitask_batch(const xt::xarray<float>& x, const xt::xarray<int64_t>& cat,
                          const xt::xarray<float>& y, const std::vector<size_t>& rows,
                          MultiTaskBatch& batch);

// Walks the rows of (x, cat, y) in mini-batches by the one batching rule of data/batching.hpp.
// The arrays are held by reference and must outlive the batcher.
class MultiTaskBatcher {
 public:
  MultiTaskBatcher(const xt::xarray<float>& x, const xt::xarray<int64_t>& cat,
                   const xt::xarray<float>& y, size_t batch_size, bool shuffle, uint64_t seed);

  size_t num_rows() const { return order_.num_rows(); }
  size_t num_batches() const { return order_.num_batches(); }
  // Begins a new pass over the data (reshuffled when shuffling).
  void start_epoch() { order_.start_epoch(); }
  // Fills `batch` with the next rows; returns false (leaving `batch` untouched) when the epoch is
  // over.
  bool next(MultiTaskBatch& batch);

 private:
  const xt::xarray<float>* x_;
  const xt::xarray<int64_t>* cat_;
  const xt::xarray<float>* y_;
  BatchOrder order_;
  std::vector<size_t> rows_;
};

}  // namespace tinyrec::data
