// Embedding: a lookup table whose padding row looks up zeros and receives no gradient.
#include <stdexcept>

#include "autograd/limits.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"

namespace tinyrec::nn {

template <class T>
Embedding<T>::Embedding(size_t num, size_t dim, std::mt19937_64& rng, int64_t padding_idx,
                        double init_std)
    : num_(num), dim_(dim), padding_idx_(padding_idx) {
  if (num == 0 || dim == 0)
    throw std::invalid_argument("Embedding: sizes must be positive, got num " +
                                std::to_string(num) + ", dim " + std::to_string(dim));
  if (padding_idx < -1 || padding_idx >= static_cast<int64_t>(num))
    throw std::invalid_argument("Embedding: padding_idx " + std::to_string(padding_idx) +
                                " must be -1 (none) or an id below " + std::to_string(num));
  check_size("Embedding", {{"rows", double(num)}, {"dim", double(dim)}});
  weight_ = this->register_parameter("weight", Tensor<T>::zeros(Shape{num, dim}));
  init::normal_(weight_, rng, init_std);
  if (padding_idx >= 0) {
    T* row = weight_.data() + static_cast<size_t>(padding_idx) * dim;
    for (size_t k = 0; k < dim; ++k) row[k] = T(0);
  }
}

template <class T>
Tensor<T> Embedding<T>::forward(const Ids& ids) {
  return embedding(weight_, ids, padding_idx_);
}

template class Embedding<float>;
template class Embedding<double>;

}  // namespace tinyrec::nn
