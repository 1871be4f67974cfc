// Internal: forward kernels for elementwise ops over raw arrays, with a flat loop when shapes agree
// and the broadcast loop otherwise.
#pragma once

#include "autograd/broadcast.hpp"

namespace tinyrec::detail {

template <class T, class F>
Tensor<T> map_unary(const xt::xarray<T>& x, F f) {
  Tensor<T> out = Tensor<T>::empty(x.shape());
  const T* px = x.data();
  T* po = out.data();
  const size_t n = x.size();
  for (size_t i = 0; i < n; ++i) po[i] = f(px[i]);
  return out;
}

template <class T, class F>
Tensor<T> map_binary(const char* op, const xt::xarray<T>& a, const xt::xarray<T>& b, F f) {
  const T* pa = a.data();
  const T* pb = b.data();
  if (a.shape() == b.shape()) {
    Tensor<T> out = Tensor<T>::empty(a.shape());
    T* po = out.data();
    const size_t n = a.size();
    for (size_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
    return out;
  }
  const Shape shape = broadcast_shape(op, a.shape(), b.shape());
  Tensor<T> out = Tensor<T>::empty(shape);
  T* po = out.data();
  for_each_broadcast(shape, a.shape(), b.shape(),
                     [&](size_t i, size_t ia, size_t ib) { po[i] = f(pa[ia], pb[ib]); });
  return out;
}

// x repeated along broadcast axes into `out`, already of the broadcast shape.
template <class T>
void broadcast_fill(const char* op, const xt::xarray<T>& x, xt::xarray<T>& out) {
  const Shape& shape = out.shape();
  if (broadcast_shape(op, x.shape(), shape) != shape)
    shape_error(op,
                "shape " + shape_str(x.shape()) + " cannot be broadcast to " + shape_str(shape));
  const T* px = x.data();
  T* po = out.data();
  if (x.size() == 1) {
    std::fill(po, po + out.size(), px[0]);
    return;
  }
  for_each_broadcast(shape, x.shape(), x.shape(),
                     [&](size_t i, size_t ix, size_t) { po[i] = px[ix]; });
}

template <class T>
xt::xarray<T> broadcast_array(const char* op, const xt::xarray<T>& x, const Shape& shape) {
  xt::xarray<T> out = xt::xarray<T>::from_shape(shape);
  broadcast_fill(op, x, out);
  return out;
}

// x summed over its broadcast axes into `out`, of the reduced shape: the inverse of broadcast_fill.
template <class T>
void sum_to_fill(const char* op, const xt::xarray<T>& x, xt::xarray<T>& out) {
  const Shape& shape = out.shape();
  if (broadcast_shape(op, x.shape(), shape) != x.shape())
    shape_error(op, "shape " + shape_str(x.shape()) + " cannot be summed to " + shape_str(shape));
  const T* px = x.data();
  T* po = out.data();
  if (out.size() == 1) {
    T s = T(0);
    for (size_t i = 0, n = x.size(); i < n; ++i) s += px[i];
    po[0] = s;
    return;
  }
  std::fill(po, po + out.size(), T(0));
  for_each_broadcast(x.shape(), shape, shape,
                     [&](size_t i, size_t io, size_t) { po[io] += px[i]; });
}

}  // namespace tinyrec::detail
