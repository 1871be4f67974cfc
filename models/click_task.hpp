// Click prediction (the DIN paper's Base model, DIN, and the sequence models after them): binary
// cross-entropy on the click, plus a model's auxiliary terms and the DIN paper's mini-batch aware
// regularization; AUC, GAUC and logloss on the test split. Data sets: the built-in synthetic
// users, DIEN's drifting ones, SIM's long timed histories, the Amazon format of the DIN/DIEN
// repositories, and MovieLens ratings.
#pragma once

#include <memory>
#include <random>

#include <nlohmann/json.hpp>

#include "autograd/gradcheck.hpp"
#include "data/ctr_dataset.hpp"
#include "data/negatives.hpp"
#include "models/ctr_model.hpp"
#include "models/registry.hpp"
#include "models/task.hpp"

namespace tinyrec::models {

struct ClickOptions {
  size_t max_len = 50;    // behaviours kept per history (the most recent)
  double mba_lambda = 0;  // mini-batch aware regularization strength (0 = off)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ClickOptions, max_len, mba_lambda)

// The training objective's terms on one batch: "click" (binary cross-entropy with logits), the
// model's "aux" term when it has one, and "mba" when mba_lambda > 0.
template <class T>
LossTerms<T> click_loss_terms(CtrModel<T>& model, const data::CtrBatch& batch, double mba_lambda);

// The model settings a CTR data set fixes.
nlohmann::json ctr_shape(const data::CtrDataset& data);

// Three samples with histories of lengths 4, 2 and 1 in a batch of length 4 (so padding is
// present), over the vocabulary of `config` (n_items >= 9, n_cats >= 3), with a negative sample at
// every real position.
data::CtrBatch tiny_ctr_batch(const CtrConfig& config);
// Checks the logits and the training loss against every parameter; returns the worse result.
GradcheckResult gradcheck_click_model(CtrModel<double>& model, const data::CtrBatch& batch,
                                      double mba_lambda = 0);

class ClickTask : public Task {
 public:
  // `negative_seed` seeds the negative samples drawn for models that use them.
  ClickTask(data::CtrDataset data, const ClickOptions& options, uint64_t negative_seed = 1);
  const data::CtrDataset& data() const { return data_; }

  std::string describe() const override;
  nlohmann::json model_shape() const override { return ctr_shape(data_); }
  size_t train_size() const override { return data_.train.size(); }
  LossTerms<float> loss_terms(Model<float>& model, const std::vector<size_t>& rows) override;
  std::vector<std::pair<std::string, std::mt19937_64*>> generators() override {
    return {{"negatives", &negative_rng_}};
  }
  // {"auc", "gauc", "logloss", "samples"}; AUC and GAUC are null where undefined (one class).
  nlohmann::json evaluate(Model<float>& model, size_t batch_size) override;
  std::string summarize(const nlohmann::json& metrics) const override;
  xt::xarray<float> test_outputs(Model<float>& model, size_t batch_size) override;
  // Input: the Amazon format (label, user, item, category, history items, history categories;
  // tab-separated, histories joined by \x02); output: one click probability per line.
  size_t predict(Model<float>& model, const std::string& input, std::ostream& out) override;

  // Click probabilities for `samples`, in order, in evaluation mode.
  std::vector<float> probabilities(CtrModel<float>& model,
                                   const std::vector<data::CtrSample>& samples,
                                   size_t batch_size) const;

 private:
  data::CtrDataset data_;
  ClickOptions options_;
  data::CtrBatch batch_;
  std::unique_ptr<data::NegativeSampler> negatives_;  // built on first use
  std::mt19937_64 negative_rng_;
};

TaskEntry click_task_entry();

}  // namespace tinyrec::models
