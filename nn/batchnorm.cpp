// Batch statistics shared by BatchNorm1d and Dice, and BatchNorm1d itself.
#include <cmath>
#include <stdexcept>

#include "nn/layers.hpp"

namespace tinyrec::nn {

template <class T>
Tensor<T> normalize_features(const Tensor<T>& x, Tensor<T>& running_mean, Tensor<T>& running_var,
                             bool training, double momentum, double eps, const char* who) {
  const size_t h = running_mean.numel();
  if (x.dim() == 0 || x.shape().back() != h)
    throw std::invalid_argument(std::string(who) + "(" + std::to_string(h) + "): input of shape " +
                                shape_str(x.shape()) + " must end in an axis of size " +
                                std::to_string(h));
  const size_t n = x.numel() / h;
  // Every axis but the last is one axis of N rows: the statistics are per column.
  Tensor<T> rows = reshape(x, Shape{n, h});
  Tensor<T> y;
  if (training) {
    if (n < 2)
      throw std::invalid_argument(std::string(who) + ": training needs more than one value per " +
                                  "feature to estimate a variance, got input of shape " +
                                  shape_str(x.shape()) + " (use eval() for single rows)");
    Tensor<T> mu = mean(rows, {0}, true);              // [1, H]
    Tensor<T> centred = rows - mu;                     // [N, H]
    Tensor<T> var = mean(square(centred), {0}, true);  // biased, [1, H]
    y = centred / sqrt(var + static_cast<T>(eps));
    NoGradGuard no_grad;
    const T m = static_cast<T>(momentum);
    const T unbias = static_cast<T>(n) / static_cast<T>(n - 1);
    T* rm = running_mean.data();
    T* rv = running_var.data();
    for (size_t k = 0; k < h; ++k) {
      rm[k] = (T(1) - m) * rm[k] + m * mu.data()[k];
      rv[k] = (T(1) - m) * rv[k] + m * var.data()[k] * unbias;
    }
  } else {
    // Constants: fresh arrays, so a later update of the running statistics cannot change what a
    // recorded backward reads.
    xt::xarray<T> shift = xt::xarray<T>::from_shape({h}), scale = xt::xarray<T>::from_shape({h});
    for (size_t k = 0; k < h; ++k) {
      shift.data()[k] = running_mean.data()[k];
      scale.data()[k] = T(1) / std::sqrt(running_var.data()[k] + static_cast<T>(eps));
    }
    y = (rows - Tensor<T>(std::move(shift))) * Tensor<T>(std::move(scale));
  }
  return reshape(y, x.shape());
}

template <class T>
BatchNorm1d<T>::BatchNorm1d(size_t features, double eps, double momentum)
    : features_(features), eps_(eps), momentum_(momentum) {
  if (features == 0) throw std::invalid_argument("BatchNorm1d: features must be positive");
  if (!(eps > 0)) throw std::invalid_argument("BatchNorm1d: eps must be positive");
  if (!(momentum >= 0 && momentum <= 1))
    throw std::invalid_argument("BatchNorm1d: momentum must be in [0, 1], got " +
                                std::to_string(momentum));
  weight_ = this->register_parameter("weight", Tensor<T>::ones(Shape{features}));
  bias_ = this->register_parameter("bias", Tensor<T>::zeros(Shape{features}));
  running_mean_ = this->register_buffer("running_mean", Tensor<T>::zeros(Shape{features}));
  running_var_ = this->register_buffer("running_var", Tensor<T>::ones(Shape{features}));
}

template <class T>
Tensor<T> BatchNorm1d<T>::forward(const Tensor<T>& x) {
  Tensor<T> xhat = normalize_features(x, running_mean_, running_var_, this->is_training(),
                                      momentum_, eps_, "BatchNorm1d");
  return xhat * weight_ + bias_;
}

#define TINYREC_INSTANTIATE_BATCHNORM(T)                                                        \
  template Tensor<T> normalize_features(const Tensor<T>&, Tensor<T>&, Tensor<T>&, bool, double, \
                                        double, const char*);                                   \
  template class BatchNorm1d<T>;
TINYREC_INSTANTIATE_BATCHNORM(float)
TINYREC_INSTANTIATE_BATCHNORM(double)

}  // namespace tinyrec::nn
