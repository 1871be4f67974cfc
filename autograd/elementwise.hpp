// Internal: forward kernels for elementwise ops over raw arrays. Every loop is a plain loop over
// contiguous memory with unit or zero strides and non-aliasing pointers, the form GCC and Clang
// vectorise on any x86-64 target (SSE2, AVX2 or AVX-512 alike). Elementwise results do not depend
// on the order elements are visited in, and the reductions keep each output's summation order, so
// the vectorised kernels give the same bits as the element-by-element loops they replace.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "autograd/broadcast.hpp"

namespace tinyrec::detail {

// `c ? a : b` picked bit by bit, for kernels whose two sides are computed values (PReLU's `v` or
// `alpha·v`). Written as a ternary, GCC moves the product into the branch that uses it and then
// may not vectorise the loop, since that would compute a floating-point product the branch skips;
// as a blend of two computed values there is no branch to move it into. Exact: it returns a or b.
template <class T>
inline T blend(bool c, T a, T b) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  static_assert(sizeof(T) == sizeof(U), "blend: float or double");
  U ua, ub;
  std::memcpy(&ua, &a, sizeof(T));
  std::memcpy(&ub, &b, sizeof(T));
  const U mask = U(0) - U(c);
  const U r = (ua & mask) | (ub & ~mask);
  T out;
  std::memcpy(&out, &r, sizeof(T));
  return out;
}

template <class T, class F>
void unary_kernel(T* __restrict out, const T* __restrict x, size_t n, F f) {
  for (size_t i = 0; i < n; ++i) out[i] = f(x[i]);
}

// out[j] = f(a[j·step_a], b[j·step_b]) for j < n, each step 0 or 1: four loops, so that each one
// has compile-time strides.
template <class T, class F>
void binary_kernel(T* __restrict out, const T* __restrict a, const T* __restrict b, size_t n,
                   size_t step_a, size_t step_b, F f) {
  if (step_a != 0 && step_b != 0) {
    for (size_t j = 0; j < n; ++j) out[j] = f(a[j], b[j]);
  } else if (step_a != 0) {
    const T bv = b[0];
    for (size_t j = 0; j < n; ++j) out[j] = f(a[j], bv);
  } else if (step_b != 0) {
    const T av = a[0];
    for (size_t j = 0; j < n; ++j) out[j] = f(av, b[j]);
  } else {
    std::fill(out, out + n, f(a[0], b[0]));
  }
}

template <class T, class F>
Tensor<T> map_unary(const xt::xarray<T>& x, F f) {
  Tensor<T> out = Tensor<T>::empty(x.shape());
  unary_kernel(out.data(), x.data(), x.size(), f);
  return out;
}

template <class T, class F>
Tensor<T> map_binary(const char* op, const xt::xarray<T>& a, const xt::xarray<T>& b, F f) {
  const T* pa = a.data();
  const T* pb = b.data();
  if (a.shape() == b.shape()) {
    Tensor<T> out = Tensor<T>::empty(a.shape());
    binary_kernel(out.data(), pa, pb, a.size(), 1, 1, f);
    return out;
  }
  const Shape shape = broadcast_shape(op, a.shape(), b.shape());
  Tensor<T> out = Tensor<T>::empty(shape);
  T* po = out.data();
  for_each_run(shape, a.shape(), b.shape(),
               [&](size_t i, size_t ia, size_t ib, size_t n, size_t step_a, size_t step_b) {
                 binary_kernel(po + i, pa + ia, pb + ib, n, step_a, step_b, f);
               });
  return out;
}

// x repeated along broadcast axes into `out`, already of the broadcast shape.
template <class T>
void broadcast_fill(const char* op, const xt::xarray<T>& x, xt::xarray<T>& out) {
  const Shape& shape = out.shape();
  const T* px = x.data();
  T* po = out.data();
  if (x.size() == 1 && x.dimension() <= shape.size()) {
    // One element broadcasts to any shape of its rank or more: no check needed.
    std::fill(po, po + out.size(), px[0]);
    return;
  }
  if (broadcast_shape(op, x.shape(), shape) != shape)
    shape_error(op,
                "shape " + shape_str(x.shape()) + " cannot be broadcast to " + shape_str(shape));
  for_each_run(shape, x.shape(), x.shape(),
               [&](size_t i, size_t ix, size_t, size_t n, size_t step, size_t) {
                 if (step != 0)
                   std::copy(px + ix, px + ix + n, po + i);
                 else
                   std::fill(po + i, po + i + n, px[ix]);
               });
}

template <class T>
xt::xarray<T> broadcast_array(const char* op, const xt::xarray<T>& x, const Shape& shape) {
  xt::xarray<T> out = xt::xarray<T>::from_shape(shape);
  broadcast_fill(op, x, out);
  return out;
}

// out[j] += x[j] for j < n: one step of a sum over rows, vectorised across the row while every
// output still adds its terms in row order.
template <class T>
void add_into(T* __restrict out, const T* __restrict x, size_t n) {
  for (size_t j = 0; j < n; ++j) out[j] += x[j];
}

// x summed over its broadcast axes into `out`, of the reduced shape: the inverse of broadcast_fill.
// Each output adds its terms in the order they lie in x, starting from zero.
template <class T>
void sum_to_fill(const char* op, const xt::xarray<T>& x, xt::xarray<T>& out) {
  const Shape& shape = out.shape();
  const T* px = x.data();
  T* po = out.data();
  if (out.size() == 1 && shape.size() <= x.dimension()) {
    // Any shape sums to one element of its rank or less: no check needed. In order.
    T s = T(0);
    for (size_t i = 0, n = x.size(); i < n; ++i) s += px[i];
    po[0] = s;
    return;
  }
  if (broadcast_shape(op, x.shape(), shape) != x.shape())
    shape_error(op, "shape " + shape_str(x.shape()) + " cannot be summed to " + shape_str(shape));
  std::fill(po, po + out.size(), T(0));
  for_each_run(x.shape(), shape, shape,
               [&](size_t i, size_t io, size_t, size_t n, size_t step, size_t) {
                 if (step != 0) {
                   add_into(po + io, px + i, n);  // the run lies along a kept axis
                 } else {
                   T s = po[io];  // the run lies along a summed axis: one output, in order
                   for (size_t j = 0; j < n; ++j) s += px[i + j];
                   po[io] = s;
                 }
               });
}

}  // namespace tinyrec::detail
