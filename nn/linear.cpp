// Linear: y = x·W + b.
#include <stdexcept>

#include "autograd/limits.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"

namespace tinyrec::nn {

template <class T>
Linear<T>::Linear(size_t in, size_t out, std::mt19937_64& rng, bool bias) : in_(in), out_(out) {
  if (in == 0 || out == 0)
    throw std::invalid_argument("Linear: sizes must be positive, got in " + std::to_string(in) +
                                ", out " + std::to_string(out));
  check_size("Linear", {{"in", double(in)}, {"out", double(out)}});
  weight_ = this->register_parameter("weight", Tensor<T>::zeros(Shape{in, out}));
  init::xavier_uniform_(weight_, rng);
  if (bias) bias_ = this->register_parameter("bias", Tensor<T>::zeros(Shape{out}));
}

template <class T>
Tensor<T> Linear<T>::forward(const Tensor<T>& x) {
  if (x.dim() == 0 || x.shape().back() != in_)
    throw std::invalid_argument("Linear(" + std::to_string(in_) + ", " + std::to_string(out_) +
                                "): input of shape " + shape_str(x.shape()) +
                                " must end in an axis of size " + std::to_string(in_));
  Tensor<T> y;
  if (x.dim() == 2 || x.dim() == 3) {
    y = matmul(x, weight_);  // [B, L, in]·[in, out] is one gemm over B·L rows
  } else {
    Shape out_shape = x.shape();
    out_shape.back() = out_;
    y = reshape(matmul(reshape(x, Shape{x.numel() / in_, in_}), weight_), out_shape);
  }
  return bias_.defined() ? y + bias_ : y;
}

template class Linear<float>;
template class Linear<double>;

}  // namespace tinyrec::nn
