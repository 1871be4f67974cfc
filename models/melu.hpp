// MeLU: Lee, Im, Jang, Cho and Chung, "MeLU: Meta-Learned User Preference Estimator for Cold-Start
// Recommendation", KDD 2019 (arXiv 1908.00413).
//
// The user preference estimator: every categorical feature of the user and of the item has an
// embedding table (dimension 32 in the paper); a bag of ids (a movie's genres) looks up the mean of
// their embeddings. Their concatenation x_0 = [u_1; ...; u_P; i_1; ...; i_Q] goes through the
// decision-making layers
//   x_l = ReLU(W_l x_{l−1} + b_l)   (l = 1, 2; 64 units each)      ŷ = W_o x_2 + b_o
// and the loss is the mean squared error on ratings. The paper calls the embeddings θ1 and the
// decision-making layers with the output layer θ2. Meta-learning (models/maml.hpp) adapts θ2 alone
// per user, θ2' = θ2 − β ∇_θ2 L_S(θ1, θ2) (local update), and moves θ1 and θ2 with the query
// losses through that update (global update), summed over a batch of users (32 in the paper).
//
// Where the authors' code differs: it loads the adapted weights into a copy of the network with
// load_state_dict, which cuts the graph at θ2' — its global update is really first order. Here
// the second-order gradient is the default and the cut is the option --first-order (see
// models/meta_task.hpp). The paper's β = 5e-6 barely moves a network whose ratings span 1 to 5;
// the task's default β is tuned on the sample data instead (tutorials/07_melu.md).
#pragma once

#include <memory>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/maml.hpp"
#include "models/registry.hpp"
#include "nn/layers.hpp"

namespace tinyrec::models {

struct MeluConfig {
  // The data's features: vocabulary size (counting id 0 = none) and bag width of each field.
  std::vector<int64_t> user_vocab_sizes = {2}, item_vocab_sizes = {2};
  std::vector<size_t> user_widths = {1}, item_widths = {1};
  size_t embedding_dim = 32;
  std::vector<size_t> hidden = {64, 64};
  double rating_mean = 0;  // the training ratings' mean (the data fixes it), b_o's start
  // Initial weights (nn/init_scheme.hpp): "torch", as the authors' code (see below). Under every
  // scheme the output bias b_o starts at rating_mean.
  std::string init = "torch";
  uint64_t seed = 1;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MeluConfig, user_vocab_sizes, item_vocab_sizes,
                                                user_widths, item_widths, embedding_dim, hidden,
                                                rating_mean, init, seed)

// Initial weights as PyTorch's defaults, which the authors' code keeps: embeddings N(0, 1) (the
// none row 0), linear weights and biases U(±1/√fan_in) — except the output bias b_o, which starts
// at the mean training rating. From 0, with ratings between 1 and 5, the first hundreds of global
// steps would learn little but the mean, and a meta-learned model would lean on the local step
// to add it (its predictions before adaptation would be meaningless).
template <class T>
class Melu : public MetaModel<T> {
 public:
  explicit Melu(const MeluConfig& config);
  std::string name() const override { return "melu"; }

  Tensor<T> features(const data::RatingBatch& batch) override;  // x_0, [n, (P + Q)·D]
  std::vector<Tensor<T>> local_parameters() const override;     // W_1, b_1, W_2, b_2, W_o, b_o
  Tensor<T> decide(const Tensor<T>& x, const std::vector<Tensor<T>>& theta) override;
  const MeluConfig& config() const { return config_; }

 private:
  void embed(const std::vector<std::unique_ptr<nn::Embedding<T>>>& tables,
             const std::vector<xt::xarray<int64_t>>& ids,
             const std::vector<xt::xarray<double>>& weights, Tensors<T>& parts);
  MeluConfig config_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<nn::Embedding<T>>> user_tables_, item_tables_;
  std::vector<std::unique_ptr<nn::Linear<T>>> layers_;  // fc1, fc2, ..., out
};

ModelEntry melu_registration();

}  // namespace tinyrec::models
