// DIN's local activation unit and the weighted sum pooling it feeds.
#include <cmath>
#include <stdexcept>

#include "nn/layers.hpp"

namespace tinyrec::nn {

namespace {
std::vector<size_t> with_output(std::vector<size_t> hidden) {
  hidden.push_back(1);
  return hidden;
}
}  // namespace

template <class T>
LocalActivationUnit<T>::LocalActivationUnit(size_t dim, std::mt19937_64& rng,
                                            const std::vector<size_t>& hidden,
                                            Activation activation, bool use_softmax)
    : dim_(dim),
      use_softmax_(use_softmax),
      mlp_(4 * dim, with_output(hidden), rng, activation, 0.0, false, false) {
  this->register_module("mlp", mlp_);
}

template <class T>
Tensor<T> LocalActivationUnit<T>::forward(const Tensor<T>& query, const Tensor<T>& keys,
                                          const Tensor<T>& mask) {
  if (query.dim() != 2 || keys.dim() != 3 || query.shape()[1] != dim_ ||
      keys.shape()[0] != query.shape()[0] || keys.shape()[2] != dim_)
    throw std::invalid_argument("LocalActivationUnit(" + std::to_string(dim_) + "): query " +
                                shape_str(query.shape()) + " and keys " + shape_str(keys.shape()) +
                                " must be [B, " + std::to_string(dim_) + "] and [B, L, " +
                                std::to_string(dim_) + "]");
  const size_t b = keys.shape()[0], l = keys.shape()[1];
  if (mask.defined() && mask.shape() != Shape{b, l})
    throw std::invalid_argument("LocalActivationUnit: mask " + shape_str(mask.shape()) +
                                " must be [B, L] = " + shape_str(Shape{b, l}));
  Tensor<T> v_a = broadcast_to(reshape(query, Shape{b, 1, dim_}), keys.shape());  // [B, L, D]
  Tensor<T> input = concat<T>({v_a, keys, v_a - keys, v_a * keys}, -1);           // [B, L, 4D]
  Tensor<T> scores = reshape(mlp_.forward(input), Shape{b, l});                   // [B, L]
  if (use_softmax_)
    return softmax(scores * static_cast<T>(1.0 / std::sqrt(static_cast<double>(dim_))), 1, mask);
  return mask.defined() ? scores * mask : scores;
}

template <class T>
Tensor<T> weighted_sum(const Tensor<T>& weights, const Tensor<T>& values) {
  // Checked here too, so that a caller's shape error names the layer function it called.
  if (weights.dim() != 2 || values.dim() != 3 || weights.shape()[0] != values.shape()[0] ||
      weights.shape()[1] != values.shape()[1])
    throw std::invalid_argument("weighted_sum: weights " + shape_str(weights.shape()) +
                                " and values " + shape_str(values.shape()) +
                                " must be [B, L] and [B, L, D]");
  return batched_weighted_sum(weights, values);
}

template class LocalActivationUnit<float>;
template class LocalActivationUnit<double>;
template Tensor<float> weighted_sum(const Tensor<float>&, const Tensor<float>&);
template Tensor<double> weighted_sum(const Tensor<double>&, const Tensor<double>&);

}  // namespace tinyrec::nn
