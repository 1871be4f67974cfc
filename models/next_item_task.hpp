// Next-item prediction (STAMP and the session-based recommenders): every prefix of a session
// predicts its next click among all items. Loss: softmax cross-entropy over every item (the
// authors' code's objective); metrics: Recall@K (the STAMP paper's P@K) and MRR@K at 10 and 20,
// ties ranked pessimistically, with a popularity and a last-item baseline on the same test cases.
// Data sets: seeded synthetic sessions, YOOCHOOSE, DIGINETICA and MovieLens sessions.
#pragma once

#include <nlohmann/json.hpp>

#include "autograd/gradcheck.hpp"
#include "data/session_dataset.hpp"
#include "models/registry.hpp"
#include "models/session_model.hpp"
#include "models/task.hpp"

namespace tinyrec::models {

struct NextItemOptions {
  size_t max_len = 50;  // clicks kept per prefix (the most recent)
  size_t top_k = 20;    // items `predict` prints per session
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NextItemOptions, max_len, top_k)

// The training loss on one batch: mean softmax cross-entropy of the true next items over every
// item.
template <class T>
Tensor<T> next_item_loss(SessionModel<T>& model, const data::SessionBatch& batch);

// Next-item metrics from 1-based ranks: recall@10, mrr@10, recall@20, mrr@20 and the case count.
nlohmann::json ranking_metrics(const std::vector<size_t>& ranks);

// Ranks of the true next item of every test case under the two reference baselines, ties
// pessimistic (every item scoring as high counts ahead of it):
//   popularity: items by their clicks in the training sessions;
//   last_item:  items by how often they followed the prefix's last click in the training
//               sessions, ties (and unseen transitions) by popularity.
std::vector<size_t> popularity_ranks(const data::SessionDataset& d);
std::vector<size_t> last_item_ranks(const data::SessionDataset& d);

// Prefixes of lengths 4, 2 and 1 over items 1..8 in a batch of length 4 (so padding is present).
data::SessionBatch tiny_session_batch();
// Checks the scores and the loss against every parameter; returns the worse result.
GradcheckResult gradcheck_session_model(SessionModel<double>& model,
                                        const data::SessionBatch& batch);

class NextItemTask : public Task {
 public:
  NextItemTask(data::SessionDataset data, const NextItemOptions& options);
  const data::SessionDataset& data() const { return data_; }

  std::string describe() const override;
  nlohmann::json model_shape() const override { return {{"n_items", data_.n_items}}; }
  size_t train_size() const override { return data_.train.size(); }
  LossTerms<float> loss_terms(Model<float>& model, const std::vector<size_t>& rows) override;
  // {"recall@10", "mrr@10", "recall@20", "mrr@20", "cases", "baselines": {"popularity": {...},
  // "last_item": {...}}}.
  nlohmann::json evaluate(Model<float>& model, size_t batch_size) override;
  std::string summarize(const nlohmann::json& metrics) const override;
  // Scores of every item for the first 256 test cases.
  xt::xarray<float> test_outputs(Model<float>& model, size_t batch_size) override;
  // Input: one session per line, its items' tokens (as in the data files) oldest first, separated
  // by blanks or commas. Output: one line per session, its top_k items best first as ITEM:SCORE,
  // blank-separated (the score to 9 significant digits: the float exactly).
  size_t predict(Model<float>& model, const std::string& input, std::ostream& out) override;

  // 1-based ranks of the true next item of every test case, ties pessimistic.
  std::vector<size_t> test_ranks(SessionModel<float>& model, size_t batch_size) const;

 private:
  data::SessionDataset data_;
  NextItemOptions options_;
  data::SessionBatch batch_;
  nlohmann::json baselines_;  // computed once
};

TaskEntry next_item_task_entry();

}  // namespace tinyrec::models
