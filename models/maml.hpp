// MAML over any rating model that splits its parameters into a global part and a part the local
// update adapts per user (Finn et al., ICML 2017, as MeLU uses it). For a user (a task) with
// support set S and query set Q:
//   local update   θ' = θ − β ∇_θ L_S(θ)          (repeated `steps` times)
//   global update  all parameters ← Adam step on ∇ Σ_users L_Q(θ')
// Second order (the default): ∇ Σ L_Q(θ') is taken through the local update, Hessian-vector terms
// included; grad(create_graph = true) records ∇_θ L_S so that it can be differentiated again.
// First order (FOMAML): each ∇_θ L_S is taken as a constant — the one cut FOMAML makes; θ' still
// depends on θ (with the identity Jacobian) and on nothing else cut.
#pragma once

#include <vector>

#include "autograd/tensor.hpp"
#include "data/rating_tasks.hpp"
#include "models/model.hpp"

namespace tinyrec::models {

template <class T>
class MetaModel : public Model<T> {
 public:
  // What the local update leaves alone (MeLU: the feature embeddings), for a batch of rows: [n, F].
  virtual Tensor<T> features(const data::RatingBatch& batch) = 0;
  // θ: what the local update adapts (MeLU: the decision layers' weights and biases).
  virtual std::vector<Tensor<T>> local_parameters() const = 0;
  // The predicted ratings [n] of rows with features x under parameters θ (the model's own, or
  // adapted ones).
  virtual Tensor<T> decide(const Tensor<T>& x, const std::vector<Tensor<T>>& theta) = 0;
  Tensor<T> forward(const data::RatingBatch& batch) {
    return decide(features(batch), local_parameters());
  }
};

struct LocalUpdate {
  size_t steps = 1;
  double lr = 0.05;  // β
  bool first_order = false;
};

// θ' after the local update on the support rows (features x_s [n, F], ratings y_s [n]), starting
// from `theta`. Second order: θ' is a recorded, twice-differentiable function of theta and x_s.
template <class T>
std::vector<Tensor<T>> local_update(MetaModel<T>& model, const Tensor<T>& x_s, const Tensor<T>& y_s,
                                    std::vector<Tensor<T>> theta, const LocalUpdate& update);

// L_Q(θ') of one user, recorded for the global update: the mean squared error on the query rows
// after the local update on the support rows. With update.steps == 0 it is L_Q(θ).
template <class T>
Tensor<T> query_loss(MetaModel<T>& model, const data::RatingBatch& support,
                     const data::RatingBatch& query, const LocalUpdate& update);

// The model's predicted ratings of the query rows after adapting a copy of θ on the support rows
// (first order, nothing recorded: what a deployed model does for a new user). The model's
// parameters are left unchanged. With update.steps == 0: the global model's predictions.
template <class T>
std::vector<double> adapted_predictions(MetaModel<T>& model, const data::RatingBatch& support,
                                        const data::RatingBatch& query, const LocalUpdate& update);

// The ratings [n] of a batch as a tensor.
template <class T>
Tensor<T> rating_tensor(const data::RatingBatch& batch);

}  // namespace tinyrec::models
