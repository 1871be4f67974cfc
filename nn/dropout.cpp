// Dropout: inverted dropout in training, the identity in evaluation.
#include <stdexcept>

#include "nn/layers.hpp"

namespace tinyrec::nn {

template <class T>
Dropout<T>::Dropout(double p, uint64_t seed) : p_(p), rng_(seed) {
  this->register_generator("rng", rng_);
  if (!(p >= 0 && p <= 1))
    throw std::invalid_argument("Dropout: p must be in [0, 1], got " + std::to_string(p));
}

template <class T>
Tensor<T> Dropout<T>::forward(const Tensor<T>& x) {
  if (!this->is_training() || p_ == 0) return x;
  // The mask is a constant (0 or 1/(1 − p)); multiplying by it sends the gradient through the
  // kept elements only, with the same scale.
  xt::xarray<T> mask = xt::xarray<T>::from_shape(x.shape());
  const T keep_scale = p_ < 1 ? static_cast<T>(1.0 / (1.0 - p_)) : T(0);
  T* m = mask.data();
  for (size_t i = 0; i < mask.size(); ++i) {
    const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;  // uniform in [0, 1)
    m[i] = u < p_ ? T(0) : keep_scale;
  }
  return x * Tensor<T>(std::move(mask));
}

template class Dropout<float>;
template class Dropout<double>;

}  // namespace tinyrec::nn
