// Losses, each a mean: binary cross-entropy on logits, softmax cross-entropy, mean squared error.
#include <cmath>

#include "autograd/elementwise.hpp"
#include "autograd/ops.hpp"

namespace tinyrec {

template <class T>
Tensor<T> bce_with_logits(const Tensor<T>& logits, const Tensor<T>& targets) {
  if (logits.shape() != targets.shape())
    detail::shape_error("bce_with_logits", "logits " + shape_str(logits.shape()) + " and targets " +
                                               shape_str(targets.shape()) +
                                               " must have the same shape");
  const size_t n = logits.numel();
  if (n == 0) detail::shape_error("bce_with_logits", "empty input");
  // ℓ = max(x, 0) − x·t + log(1 + e^−|x|): the same value as −t·log σ(x) − (1−t)·log(1−σ(x)),
  // without overflow for large |x|.
  T total = 0;
  const T* x = logits.data();
  const T* t = targets.data();
  for (size_t i = 0; i < n; ++i)
    total += std::max(x[i], T(0)) - x[i] * t[i] + std::log1p(std::exp(-std::abs(x[i])));
  Tensor<T> out = Tensor<T>::scalar(total / static_cast<T>(n));
  if (should_record(logits, targets))
    record(out, [logits, targets, n](const Tensor<T>&, const Tensor<T>& g) {
      const Tensor<T> scale = g * (T(1) / static_cast<T>(n));
      if (logits.requires_grad()) accumulate(logits, (sigmoid(logits) - targets) * scale);
      if (targets.requires_grad()) accumulate(targets, neg(logits) * scale);
    });
  return out;
}

template <class T>
Tensor<T> softmax_cross_entropy(const Tensor<T>& logits, const Ids& targets) {
  if (logits.dim() != 2 || targets.dimension() != 1 || targets.size() != logits.shape()[0])
    detail::shape_error("softmax_cross_entropy", "logits " + shape_str(logits.shape()) +
                                                     " must be [N, C] and targets [N], got " +
                                                     shape_str(targets.shape()));
  const size_t n = logits.shape()[0], c = logits.shape()[1];
  if (n == 0) detail::shape_error("softmax_cross_entropy", "empty input");
  xt::xarray<T> onehot = xt::zeros<T>(logits.shape());
  for (size_t i = 0; i < n; ++i) {
    const int64_t k = targets.data()[i];
    if (k < 0 || static_cast<size_t>(k) >= c)
      detail::shape_error("softmax_cross_entropy", "target " + std::to_string(k) + " in row " +
                                                       std::to_string(i) + " is not a class of " +
                                                       std::to_string(c));
    onehot.data()[i * c + static_cast<size_t>(k)] = T(1);
  }
  // −(1/N) Σ_i log softmax(x_i)[t_i], built from differentiable ops so it has every order.
  return sum(log_softmax(logits, 1) * Tensor<T>(std::move(onehot))) * (T(-1) / static_cast<T>(n));
}

template <class T>
Tensor<T> mse_loss(const Tensor<T>& pred, const Tensor<T>& target) {
  if (pred.shape() != target.shape())
    detail::shape_error("mse_loss", "prediction " + shape_str(pred.shape()) + " and target " +
                                        shape_str(target.shape()) + " must have the same shape");
  return mean(square(pred - target));
}

#define TINYREC_INSTANTIATE_LOSS(T)                                       \
  template Tensor<T> bce_with_logits(const Tensor<T>&, const Tensor<T>&); \
  template Tensor<T> softmax_cross_entropy(const Tensor<T>&, const Ids&); \
  template Tensor<T> mse_loss(const Tensor<T>&, const Tensor<T>&);
TINYREC_INSTANTIATE_LOSS(float)
TINYREC_INSTANTIATE_LOSS(double)

}  // namespace tinyrec
