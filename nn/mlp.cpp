// MLP: Linear → [BatchNorm1d] → activation → [Dropout] blocks, numbered as nn.Sequential does.
#include <stdexcept>

#include "nn/layers.hpp"

namespace tinyrec::nn {

template <class T>
MLP<T>::MLP(size_t in, const std::vector<size_t>& sizes, std::mt19937_64& rng,
            Activation activation, double dropout, bool batchnorm, bool activate_last)
    : in_(in), out_(sizes.empty() ? in : sizes.back()) {
  if (sizes.empty()) throw std::invalid_argument("MLP: needs at least one layer size");
  if (!(dropout >= 0 && dropout < 1))
    throw std::invalid_argument("MLP: dropout must be in [0, 1), got " + std::to_string(dropout));
  size_t width = in;
  for (size_t i = 0; i < sizes.size(); ++i) {
    layers_.push_back(std::make_unique<Linear<T>>(width, sizes[i], rng));
    width = sizes[i];
    if (i + 1 == sizes.size() && !activate_last) break;
    if (batchnorm) layers_.push_back(std::make_unique<BatchNorm1d<T>>(width));
    if (auto act = make_activation<T>(activation, width)) layers_.push_back(std::move(act));
    // Each Dropout gets its own seed from the construction generator: deterministic, and two
    // layers never share a mask sequence.
    if (dropout > 0) layers_.push_back(std::make_unique<Dropout<T>>(dropout, rng()));
  }
  for (size_t i = 0; i < layers_.size(); ++i)
    this->register_module("layers." + std::to_string(i), *layers_[i]);
}

template <class T>
Tensor<T> MLP<T>::forward(const Tensor<T>& x) {
  Tensor<T> h = x;
  for (auto& layer : layers_) h = layer->forward(h);
  return h;
}

template class MLP<float>;
template class MLP<double>;

}  // namespace tinyrec::nn
