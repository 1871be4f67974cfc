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

// The first layer is linear in x_j = [v_A, e_j, v_A − e_j, v_A ⊙ e_j]. With its weight cut into
// the four [D, H] blocks W = [W_1; W_2; W_3; W_4] that meet those parts,
//   x_j·W + b = v_A·(W_1 + W_3) + b  +  e_j·(W_2 − W_3) + (v_A ⊙ e_j)·W_4,
// where the first term is the candidate's alone: computed once per row, not once per behaviour,
// and never concatenated into a [B, L, 4D] input. The per-behaviour part is one gemm of
// [e_j, v_A ⊙ e_j] against [W_2 − W_3; W_4]. Same parameter (one [4D, H] weight), same function:
// tutorials/03_din.cpp checks it against the concatenated form.
template <class T>
Tensor<T> LocalActivationUnit<T>::score_mlp(const Tensor<T>& query, const Tensor<T>& keys) {
  const size_t b = keys.shape()[0], d = dim_;
  auto& first = static_cast<Linear<T>&>(mlp_[0]);
  const Tensor<T>& w = first.weight();  // [4D, H]
  const size_t h = first.out_features();
  Tensor<T> w1 = slice(w, 0, 0, d), w2 = slice(w, 0, d, 2 * d);
  Tensor<T> w3 = slice(w, 0, 2 * d, 3 * d), w4 = slice(w, 0, 3 * d, 4 * d);
  Tensor<T> candidate = matmul(query, w1 + w3);  // [B, H], once per row
  if (first.bias().defined()) candidate = candidate + first.bias();
  Tensor<T> v_a = reshape(query, Shape{b, 1, d});
  Tensor<T> per_behaviour =
      matmul(concat<T>({keys, v_a * keys}, -1), concat<T>({w2 - w3, w4}, 0));  // [B, L, H]
  Tensor<T> hidden = per_behaviour + reshape(candidate, Shape{b, 1, h});
  for (size_t i = 1; i < mlp_.size(); ++i) hidden = mlp_[i].forward(hidden);
  return hidden;  // [B, L, 1]
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
  Tensor<T> scores = reshape(score_mlp(query, keys), Shape{b, l});  // [B, L]
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
