// The batched weighted sum y[b, d] = Σ_l w[b, l]·v[b, l, d] (DIN's attention pooling, the gate
// mixtures of MMoE and PLE) and the two ops its gradients are made of: row_dot, the gradient for
// the weights, and row_outer, the gradient for the values. The three are closed under
// differentiation, each one's backward written with the other two, so a recorded backward
// differentiates again to any order.
//
// The sizes these run at are small (L = 8, D = 16 in MMoE): a gemm per batch row costs more in
// call overhead than the arithmetic it does, so each op is one plain loop over contiguous rows,
// with __restrict pointers so GCC vectorises the innermost axis without runtime alias checks.
#include <algorithm>

#include "autograd/broadcast.hpp"
#include "autograd/ops.hpp"

namespace tinyrec {

namespace {

// Sizes of the values [B, L, D] that every op of the family works over.
struct Sizes {
  size_t b, l, d;
};

// y[b, :] = Σ_l w[b, l]·v[b, l, :]. Each pass over the output row adds four rows of v, a quarter
// of the loads and stores of y that one row per pass costs; the innermost loop stays a plain loop
// over D, which GCC vectorises for any D. (Accumulators held in registers across all of L would
// need a fixed-width block, which GCC vectorises for some widths and types and not others.)
template <class T>
void weighted_sum_rows(Sizes n, const T* __restrict w, const T* __restrict v, T* __restrict y) {
  const size_t D = n.d;
  for (size_t b = 0; b < n.b; ++b, w += n.l, v += n.l * D, y += D) {
    std::fill(y, y + D, T(0));
    size_t l = 0;
    for (; l + 4 <= n.l; l += 4) {
      const T w0 = w[l], w1 = w[l + 1], w2 = w[l + 2], w3 = w[l + 3];
      const T *v0 = v + l * D, *v1 = v0 + D, *v2 = v1 + D, *v3 = v2 + D;
      for (size_t d = 0; d < D; ++d) y[d] += (w0 * v0[d] + w1 * v1[d]) + (w2 * v2[d] + w3 * v3[d]);
    }
    for (; l < n.l; ++l) {
      const T wl = w[l];
      const T* vl = v + l * D;
      for (size_t d = 0; d < D; ++d) y[d] += wl * vl[d];
    }
  }
}

// c[b, l] = Σ_d a[b, d]·v[b, l, d]. One running sum would be a chain of dependent adds that GCC
// may not reorder (that would change the rounding), so it would stay scalar; eight independent
// partial sums (one AVX2 register of floats, two of doubles) vectorise, and the order of the
// additions is still fixed, so results are reproducible. Eight for doubles too: with four, GCC's
// AVX-512 code for long rows vectorises across chunks instead, in order and slower than scalar.
template <class T>
void row_dot_rows(Sizes n, const T* __restrict a, const T* __restrict v, T* __restrict c) {
  constexpr size_t kLanes = 8;
  const size_t D = n.d, full = D / kLanes * kLanes;
  for (size_t b = 0; b < n.b; ++b, a += D)
    for (size_t l = 0; l < n.l; ++l, v += D) {
      T lane[kLanes] = {};
      for (size_t i = 0; i < full; i += kLanes)
        for (size_t k = 0; k < kLanes; ++k) lane[k] += a[i + k] * v[i + k];
      T s = 0;
      for (size_t i = full; i < D; ++i) s += a[i] * v[i];
      for (size_t k = 0; k < kLanes; ++k) s += lane[k];
      *c++ = s;
    }
}

// o[b, l, :] = w[b, l]·a[b, :].
template <class T>
void row_outer_rows(Sizes n, const T* __restrict w, const T* __restrict a, T* __restrict o) {
  for (size_t b = 0; b < n.b; ++b, a += n.d)
    for (size_t l = 0; l < n.l; ++l, o += n.d) {
      const T wl = *w++;
      for (size_t d = 0; d < n.d; ++d) o[d] = wl * a[d];
    }
}

template <class T>
Tensor<T> row_dot(const Tensor<T>& a, const Tensor<T>& v);
template <class T>
Tensor<T> row_outer(const Tensor<T>& w, const Tensor<T>& a);

// The op behind batched_weighted_sum, without the shape check: the backward passes of the family
// call it with shapes that fit by construction.
template <class T>
Tensor<T> weighted_sum_op(const Tensor<T>& w, const Tensor<T>& v) {
  const Sizes n{v.shape()[0], v.shape()[1], v.shape()[2]};
  Tensor<T> out = Tensor<T>::empty(Shape{n.b, n.d});
  weighted_sum_rows(n, w.data(), v.data(), out.data());
  if (should_record(w, v))
    record(out, [w, v](const Tensor<T>&, const Tensor<T>& g) {
      if (w.requires_grad()) accumulate(w, row_dot(g, v));    // Σ_d g[b, d]·v[b, l, d]
      if (v.requires_grad()) accumulate(v, row_outer(w, g));  // w[b, l]·g[b, d]
    });
  return out;
}

// a [B, D], v [B, L, D] -> [B, L].
template <class T>
Tensor<T> row_dot(const Tensor<T>& a, const Tensor<T>& v) {
  const Sizes n{v.shape()[0], v.shape()[1], v.shape()[2]};
  Tensor<T> out = Tensor<T>::empty(Shape{n.b, n.l});
  row_dot_rows(n, a.data(), v.data(), out.data());
  if (should_record(a, v))
    record(out, [a, v](const Tensor<T>&, const Tensor<T>& g) {
      if (a.requires_grad()) accumulate(a, weighted_sum_op(g, v));  // Σ_l g[b, l]·v[b, l, d]
      if (v.requires_grad()) accumulate(v, row_outer(g, a));        // g[b, l]·a[b, d]
    });
  return out;
}

// w [B, L], a [B, D] -> [B, L, D].
template <class T>
Tensor<T> row_outer(const Tensor<T>& w, const Tensor<T>& a) {
  const Sizes n{w.shape()[0], w.shape()[1], a.shape()[1]};
  Tensor<T> out = Tensor<T>::empty(Shape{n.b, n.l, n.d});
  row_outer_rows(n, w.data(), a.data(), out.data());
  if (should_record(w, a))
    record(out, [w, a](const Tensor<T>&, const Tensor<T>& g) {
      if (w.requires_grad()) accumulate(w, row_dot(a, g));          // Σ_d g[b, l, d]·a[b, d]
      if (a.requires_grad()) accumulate(a, weighted_sum_op(w, g));  // Σ_l w[b, l]·g[b, l, d]
    });
  return out;
}

}  // namespace

template <class T>
Tensor<T> batched_weighted_sum(const Tensor<T>& w, const Tensor<T>& v) {
  const Shape &sw = w.shape(), &sv = v.shape();
  if (sw.size() != 2 || sv.size() != 3 || sw[0] != sv[0] || sw[1] != sv[1])
    detail::shape_error("batched_weighted_sum", "weights " + shape_str(sw) + " and values " +
                                                    shape_str(sv) +
                                                    " must be [B, L] and [B, L, D]");
  return weighted_sum_op(w, v);
}

template Tensor<float> batched_weighted_sum(const Tensor<float>&, const Tensor<float>&);
template Tensor<double> batched_weighted_sum(const Tensor<double>&, const Tensor<double>&);

}  // namespace tinyrec
