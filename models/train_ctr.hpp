// Training and evaluation of a CTR model on a CtrDataset: mini-batches, the optimizer, the DIN
// paper's metrics after every epoch, and a stop with a message if the loss turns NaN.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/ctr_dataset.hpp"
#include "models/ctr_model.hpp"

namespace tinyrec::models {

struct TrainOptions {
  size_t epochs = 2;
  size_t batch_size = 128;
  double lr = 1e-3;
  std::string optimizer = "adam";  // adam | adagrad | sgd
  size_t max_len = 50;             // behaviours kept per history (the most recent)
  double mba_lambda = 0;           // mini-batch aware regularization strength (0 = off)
  uint64_t seed = 1;               // batch order
  size_t eval_batch_size = 1024;
};

struct CtrMetrics {
  double auc = 0, gauc = 0, logloss = 0;
  size_t samples = 0;
};

struct EpochRecord {
  size_t epoch = 0;       // 1-based
  double train_loss = 0;  // mean click loss over the epoch
  CtrMetrics test;
  double samples_per_second = 0;
};

struct TrainReport {
  std::vector<EpochRecord> epochs;
  double samples_per_second = 0;  // training throughput over all epochs
};

// One optimizer step at a time: the click loss (plus the model's auxiliary loss and the
// mini-batch aware regularization when on), backward, update. train_ctr and `tinyrec bench` use it.
class CtrTrainer {
 public:
  CtrTrainer(CtrModel<float>& model, const TrainOptions& options);
  ~CtrTrainer();
  // Returns the click loss of the batch before the update; throws if it is not finite.
  double step(const data::CtrBatch& batch);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Called after every training step: steps done, steps in the epoch, running mean loss, throughput.
using StepCallback = std::function<void(size_t step, size_t steps, double loss, double per_second)>;
using EpochCallback = std::function<void(const EpochRecord&)>;

TrainReport train_ctr(CtrModel<float>& model, const data::CtrDataset& data,
                      const TrainOptions& options, const StepCallback& on_step = {},
                      const EpochCallback& on_epoch = {});

// Scores (probabilities) for `samples` in evaluation mode, in order.
std::vector<float> predict_ctr(CtrModel<float>& model, const std::vector<data::CtrSample>& samples,
                               size_t max_len, size_t batch_size = 1024);
CtrMetrics evaluate_ctr(CtrModel<float>& model, const std::vector<data::CtrSample>& samples,
                        size_t max_len, size_t batch_size = 1024);

}  // namespace tinyrec::models
