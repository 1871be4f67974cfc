// Meta-learning for cold-start rating prediction (MeLU): one task per user, with a support set and
// a query set of ratings. Its training step is its own: for each user of a meta-batch, the local
// update on the support set, then one global update of every parameter with the users' query
// losses through their local updates (models/maml.hpp). Evaluation adapts to each test user on
// their support set and scores their query set: MAE, RMSE and nDCG@3 before and after the local
// update. Data sets: the synthetic cold-start users and MovieLens (data/rating_tasks.hpp).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "autograd/gradcheck.hpp"
#include "data/rating_tasks.hpp"
#include "models/maml.hpp"
#include "models/registry.hpp"
#include "models/task.hpp"

namespace tinyrec::models {

struct MetaOptions {
  size_t local_steps = 1;  // 0: no local update — the global model alone
  double local_lr = 0.05;  // β, tuned on the synthetic data (the paper's 5e-6 barely moves it)
  bool first_order = false;
  size_t support_size = 0;  // 0: every rating not in the query set
  size_t query_size = 10;
  // "maml": meta-training. "global": train the global model on every rating of the training users
  // (no local update while training); evaluated after --local-steps, that is fine-tuning.
  std::string training = "maml";
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MetaOptions, local_steps, local_lr, first_order,
                                                support_size, query_size, training)

// The model settings a rating data set fixes (its fields' vocabularies and widths, the mean
// training rating).
nlohmann::json meta_shape(const data::MetaDataset& data);

// Σ over `tasks` of each user's training loss: L_Q(θ') through the local update, or with
// local_steps 0 or training "global" the loss of θ on all the user's ratings. Recorded.
template <class T>
Tensor<T> meta_loss(MetaModel<T>& model, const data::MetaDataset& data,
                    const std::vector<data::RatingTask>& tasks, const MetaOptions& options);

// Two users of a tiny data set of `shape` (meta_shape's keys), with support and query sets.
data::MetaDataset tiny_meta_dataset(const nlohmann::json& shape);
// Checks the predicted ratings and the meta-loss (through the local update, second order unless
// options say otherwise) against every parameter; returns the worse result.
GradcheckResult gradcheck_meta_model(MetaModel<double>& model, const data::MetaDataset& data,
                                     const MetaOptions& options);

class MetaTask : public Task {
 public:
  MetaTask(data::MetaDataset data, const MetaOptions& options);
  const data::MetaDataset& data() const { return data_; }
  const MetaOptions& options() const { return options_; }

  std::string describe() const override;
  nlohmann::json model_shape() const override { return meta_shape(data_); }
  size_t train_size() const override { return data_.train.size(); }  // users
  // The loss term of train_step on users `rows`, summed over them.
  LossTerms<float> loss_terms(Model<float>& model, const std::vector<size_t>& rows) override;
  // One global update on the meta-batch of users `rows`; the value reported is the mean of the
  // users' losses ("query" for meta-training, "ratings" for the global model).
  LossValues train_step(Model<float>& model, nn::Optimizer<float>& optimizer,
                        const std::vector<size_t>& rows) override;
  // {"before": {"mae", "rmse", "ndcg@3"}, "after": {...}, "local_steps", "users", "ratings"}: on
  // the test users' query sets, by the global model and after the local update on each user's
  // support set.
  nlohmann::json evaluate(Model<float>& model, size_t batch_size) override;
  // The same with another number of local steps (the tutorial's curve).
  nlohmann::json evaluate_with_steps(Model<float>& model, size_t local_steps);
  std::string summarize(const nlohmann::json& metrics) const override;
  // [N, 2]: each test query rating predicted before and after the local update.
  xt::xarray<float> test_outputs(Model<float>& model, size_t batch_size) override;
  // Input: a CSV with the header `user,item,rating`; item is an item of the data set (MovieLens:
  // a movieId). A user's rows with a rating are their support set; each row with an empty rating
  // is scored after the local update on that support set. Output: one `user<TAB>item<TAB>rating`
  // line per scored row.
  size_t predict(Model<float>& model, const std::string& input, std::ostream& out) override;

 private:
  data::MetaDataset data_;
  MetaOptions options_;
};

TaskEntry meta_task_entry();

}  // namespace tinyrec::models
