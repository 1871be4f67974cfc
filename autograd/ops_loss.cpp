// Losses, each a mean: binary cross-entropy on logits, softmax cross-entropy, mean squared error.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "autograd/elementwise.hpp"
#include "autograd/ops.hpp"
#include "autograd/vec_math.hpp"

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

namespace {

using vec::exp1;
using vec::exp8;
using vec::F8;
using vec::load8;
using vec::store8;

// log Σ_k e^{x_k} of one row, shifted by its maximum so nothing overflows. Float rows run in
// vectors, the sum in blocks of 512 terms added into a double, so 40,000 terms lose nothing to
// float rounding; double rows (gradient checks) are exact and plain.
double log_sum_exp(const double* x, size_t c) {
  const double hi = *std::max_element(x, x + c);
  double total = 0;
  for (size_t k = 0; k < c; ++k) total += std::exp(x[k] - hi);
  return hi + std::log(total);
}

float log_sum_exp(const float* x, size_t c) {
  size_t k = 0;
  F8 lanes = F8{} + x[0], v;
  for (; k + 8 <= c; k += 8) {
    load8(v, x + k);
    lanes = v > lanes ? v : lanes;
  }
  float hi = x[0];
  for (int j = 0; j < 8; ++j) hi = std::max(hi, lanes[j]);
  for (; k < c; ++k) hi = std::max(hi, x[k]);
  double total = 0;
  k = 0;
  while (k + 8 <= c) {
    F8 block = F8{};
    for (size_t stop = std::min(c - c % 8, k + 512); k < stop; k += 8) {
      load8(v, x + k);
      v = v - hi;
      exp8(v);
      block += v;
    }
    for (int j = 0; j < 8; ++j) total += double(block[j]);
  }
  for (; k < c; ++k) total += double(exp1(x[k] - hi));
  return float(double(hi) + std::log(total));
}

// g = e^{x − shift}·scale over one row: softmax times the incoming gradient.
void scaled_softmax(const double* x, double shift, double scale, double* g, size_t c) {
  for (size_t k = 0; k < c; ++k) g[k] = std::exp(x[k] - shift) * scale;
}

void scaled_softmax(const float* x, float shift, float scale, float* g, size_t c) {
  size_t k = 0;
  F8 v;
  for (; k + 8 <= c; k += 8) {
    load8(v, x + k);
    v = v - shift;
    exp8(v);
    store8(g + k, v * scale);
  }
  for (; k < c; ++k) g[k] = exp1(x[k] - shift) * scale;
}

}  // namespace

// Fused: the forward keeps one log-sum-exp per row, never a [N, C] array; the first-order backward
// allocates the gradient alone and writes softmax − one-hot into it in place. Over 40,000 items
// (next-item prediction) that is the difference between one [N, C] temporary and four. A recorded
// backward (create_graph) builds the same gradient from differentiable ops, so the loss keeps
// derivatives of every order.
template <class T>
Tensor<T> softmax_cross_entropy(const Tensor<T>& logits, const Ids& targets) {
  if (logits.dim() != 2 || targets.dimension() != 1 || targets.size() != logits.shape()[0])
    detail::shape_error("softmax_cross_entropy", "logits " + shape_str(logits.shape()) +
                                                     " must be [N, C] and targets [N], got " +
                                                     shape_str(targets.shape()));
  const size_t n = logits.shape()[0], c = logits.shape()[1];
  if (n == 0 || c == 0) detail::shape_error("softmax_cross_entropy", "empty input");
  for (size_t i = 0; i < n; ++i) {
    const int64_t k = targets.data()[i];
    if (k < 0 || static_cast<size_t>(k) >= c)
      detail::shape_error("softmax_cross_entropy", "target " + std::to_string(k) + " in row " +
                                                       std::to_string(i) + " is not a class of " +
                                                       std::to_string(c));
  }
  // ℓ = (1/N) Σ_i [log Σ_k e^{x_ik} − x_i,t_i].
  auto lse = std::make_shared<std::vector<T>>(n);
  T total = 0;
  const T* x = logits.data();
  for (size_t i = 0; i < n; ++i) {
    (*lse)[i] = log_sum_exp(x + i * c, c);
    total += (*lse)[i] - x[i * c + static_cast<size_t>(targets.data()[i])];
  }
  Tensor<T> out = Tensor<T>::scalar(total / static_cast<T>(n));
  if (should_record(logits))
    record(out, [logits, targets, lse](const Tensor<T>&, const Tensor<T>& g) {
      const size_t rows = logits.shape()[0], cols = logits.shape()[1];
      if (grad_enabled()) {  // recorded: (softmax(x) − onehot)·g/N from differentiable ops
        xt::xarray<T> onehot = xt::zeros<T>(logits.shape());
        for (size_t i = 0; i < rows; ++i)
          onehot.data()[i * cols + static_cast<size_t>(targets.data()[i])] = T(1);
        accumulate(logits, (softmax(logits, 1) - Tensor<T>(std::move(onehot))) *
                               (g * (T(1) / static_cast<T>(rows))));
        return;
      }
      const T scale = g.item() / static_cast<T>(rows);
      Tensor<T> grad = Tensor<T>::empty(logits.shape());
      const T* xv = logits.data();
      T* gv = grad.data();
      for (size_t i = 0; i < rows; ++i) {
        const T shift = (*lse)[i];
        const T* xr = xv + i * cols;
        T* gr = gv + i * cols;
        scaled_softmax(xr, shift, scale, gr, cols);
        gr[static_cast<size_t>(targets.data()[i])] -= scale;
      }
      accumulate(logits, grad);
    });
  return out;
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
