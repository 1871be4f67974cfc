// The local update, the query loss through it, and adapted predictions for a new user.
#include "models/maml.hpp"

#include "autograd/ops.hpp"

namespace tinyrec::models {

template <class T>
Tensor<T> rating_tensor(const data::RatingBatch& batch) {
  xt::xarray<T> y = xt::xarray<T>::from_shape({batch.ratings.size()});
  for (size_t i = 0; i < y.size(); ++i) y(i) = T(batch.ratings(i));
  return Tensor<T>(std::move(y));
}

template <class T>
std::vector<Tensor<T>> local_update(MetaModel<T>& model, const Tensor<T>& x_s, const Tensor<T>& y_s,
                                    std::vector<Tensor<T>> theta, const LocalUpdate& update) {
  const T beta = T(update.lr);
  // Not recording (an evaluation, a finite difference) still needs ∇L_S; θ' is then plain values.
  const bool recording = grad_enabled();
  for (size_t step = 0; step < update.steps; ++step) {
    std::vector<Tensor<T>> g;
    {
      GradModeGuard on(true);
      const Tensor<T> loss = mse_loss(model.decide(x_s, theta), y_s);  // L_S(θ_j)
      // First order: the gradient comes back as plain values, so θ_j − β·g keeps θ_j's graph and
      // adds nothing through g. Second order: g is itself recorded.
      g = grad(loss, theta, /*create_graph=*/recording && !update.first_order);
    }
    for (size_t k = 0; k < theta.size(); ++k) {
      theta[k] = theta[k] - g[k] * beta;
      if (!recording) theta[k].requires_grad_(true);  // a leaf the next step differentiates
    }
  }
  return theta;
}

template <class T>
Tensor<T> query_loss(MetaModel<T>& model, const data::RatingBatch& support,
                     const data::RatingBatch& query, const LocalUpdate& update) {
  std::vector<Tensor<T>> theta = model.local_parameters();
  if (update.steps > 0)
    theta = local_update(model, model.features(support), rating_tensor<T>(support), theta, update);
  return mse_loss(model.decide(model.features(query), theta), rating_tensor<T>(query));
}

template <class T>
std::vector<double> adapted_predictions(MetaModel<T>& model, const data::RatingBatch& support,
                                        const data::RatingBatch& query, const LocalUpdate& update) {
  // Nothing recorded: copies of θ adapt, and nothing reaches the model's parameters.
  NoGradGuard no_grad;
  std::vector<Tensor<T>> theta;
  for (const Tensor<T>& p : model.local_parameters()) {
    theta.push_back(p.clone());
    theta.back().requires_grad_(true);
  }
  if (update.steps > 0)
    theta = local_update(model, model.features(support), rating_tensor<T>(support), theta, update);
  const Tensor<T> y = model.decide(model.features(query), theta);
  return std::vector<double>(y.data(), y.data() + y.numel());
}

#define TINYREC_INSTANTIATE_MAML(T)                                                                \
  template Tensor<T> rating_tensor(const data::RatingBatch&);                                      \
  template std::vector<Tensor<T>> local_update(MetaModel<T>&, const Tensor<T>&, const Tensor<T>&,  \
                                               std::vector<Tensor<T>>, const LocalUpdate&);        \
  template Tensor<T> query_loss(MetaModel<T>&, const data::RatingBatch&, const data::RatingBatch&, \
                                const LocalUpdate&);                                               \
  template std::vector<double> adapted_predictions(MetaModel<T>&, const data::RatingBatch&,        \
                                                   const data::RatingBatch&, const LocalUpdate&);
TINYREC_INSTANTIATE_MAML(float)
TINYREC_INSTANTIATE_MAML(double)

}  // namespace tinyrec::models
