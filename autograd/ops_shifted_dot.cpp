// shifted_inner_products: ⟨x_t, y_{t+s}⟩ over a batch of sequences, the scores of DIEN's auxiliary
// loss. Composed, each score set took two slice copies, an elementwise product, a gemm against a
// column of ones, and in the backward a gemm with K = 1, two more products and two zero-padded
// slice gradients, all over [B, L − 1, D]. Here the forward makes the products in one pass and
// the backward writes g·y and g·x straight into gradients of the inputs' shapes.
#include <cblas.h>

#include <algorithm>
#include <memory>
#include <type_traits>

#include "autograd/broadcast.hpp"
#include "autograd/ops.hpp"
#include "autograd/vec_math.hpp"

namespace tinyrec {

namespace {

// The row sums of p [rows, d] into out [rows], as a gemm against a column of ones: the order in
// which the products are added is then OpenBLAS's, the order DIEN's composed inner products used
// (matmul(x ⊙ y, ones)), so its numbers are unchanged by the fusion.
void row_sums(size_t rows, size_t d, const float* p, float* out) {
  const std::unique_ptr<float[]> ones(new float[d]);
  std::fill_n(ones.get(), d, 1.0f);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), 1, int(d), 1.0f, p, int(d),
              ones.get(), 1, 0.0f, out, 1);
}
void row_sums(size_t rows, size_t d, const double* p, double* out) {
  const std::unique_ptr<double[]> ones(new double[d]);
  std::fill_n(ones.get(), d, 1.0);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), 1, int(d), 1.0, p, int(d),
              ones.get(), 1, 0.0, out, 1);
}

// o[b, t + to, :] = g[b, t]·v[b, t + from, :] for t < n (to is 0 or the shift), and 0 in the
// l − n rows left over.
template <class T>
void scaled_rows(size_t b, size_t l, size_t d, size_t n, size_t from, size_t to,
                 const T* __restrict g, const T* __restrict v, T* __restrict o) {
  for (size_t i = 0; i < b; ++i) {
    T* oi = o + i * l * d;
    const T* vi = v + i * l * d;
    std::fill_n(to == 0 ? oi + n * d : oi, (l - n) * d, T(0));  // the rows no score reads
    for (size_t t = 0; t < n; ++t) {
      const T gt = g[i * n + t];
      T* row = oi + (t + to) * d;
      const T* src = vi + (t + from) * d;
      vec::for_lanes<T>(d, [&](const auto& zero, size_t k) {
        std::decay_t<decltype(zero)> v;
        vec::load(v, src + k);
        vec::store(row + k, gt * v);
      });
    }
  }
}

}  // namespace

template <class T>
Tensor<T> shifted_inner_products(const Tensor<T>& x, const Tensor<T>& y, size_t shift) {
  if (x.dim() != 3 || x.shape() != y.shape() || x.shape()[1] < shift)
    detail::shape_error("shifted_inner_products",
                        "x " + shape_str(x.shape()) + " and y " + shape_str(y.shape()) +
                            " must both be [B, L, D] with L >= shift = " + std::to_string(shift));
  const size_t b = x.shape()[0], l = x.shape()[1], d = x.shape()[2], n = l - shift;
  Tensor<T> out = Tensor<T>::empty(Shape{b, n});
  if (b * n == 0) return out;
  if (d == 0) {
    std::fill_n(out.data(), b * n, T(0));
  } else {
    // x_t ⊙ y_{t+s} for every (b, t), rows in the output's order.
    const std::unique_ptr<T[]> prod(new T[b * n * d]);
    for (size_t i = 0; i < b; ++i)
      for (size_t t = 0; t < n; ++t) {
        const T* __restrict xr = x.data() + (i * l + t) * d;
        const T* __restrict yr = y.data() + (i * l + t + shift) * d;
        T* __restrict pr = prod.get() + (i * n + t) * d;
        vec::for_lanes<T>(d, [&](const auto& zero, size_t k) {
          std::decay_t<decltype(zero)> xv, yv;
          vec::load(xv, xr + k), vec::load(yv, yr + k);
          vec::store(pr + k, xv * yv);
        });
      }
    row_sums(b * n, d, prod.get(), out.data());
  }
  if (should_record(x, y))
    record(out, [x, y, shift](const Tensor<T>&, const Tensor<T>& g) {
      const size_t b = x.shape()[0], l = x.shape()[1], d = x.shape()[2], n = l - shift;
      if (grad_enabled()) {  // recorded, so it can be differentiated again
        const Tensor<T> g3 = reshape(g, Shape{b, n, 1});
        if (wants_grad(x)) accumulate(x, pad(g3 * slice(y, 1, shift, l), 1, 0, shift));
        if (wants_grad(y)) accumulate(y, pad(g3 * slice(x, 1, 0, n), 1, shift, 0));
        return;
      }
      if (wants_grad(x)) {  // ∂/∂x_t = g_t·y_{t+s}
        Tensor<T> gx = Tensor<T>::empty(x.shape());
        scaled_rows(b, l, d, n, shift, 0, g.data(), y.data(), gx.data());
        accumulate(x, gx);
      }
      if (wants_grad(y)) {  // ∂/∂y_{t+s} = g_t·x_t
        Tensor<T> gy = Tensor<T>::empty(y.shape());
        scaled_rows(b, l, d, n, 0, shift, g.data(), x.data(), gy.data());
        accumulate(y, gy);
      }
    });
  return out;
}

template Tensor<float> shifted_inner_products(const Tensor<float>&, const Tensor<float>&, size_t);
template Tensor<double> shifted_inner_products(const Tensor<double>&, const Tensor<double>&,
                                               size_t);

}  // namespace tinyrec
