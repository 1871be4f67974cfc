// Internal: forward kernels for elementwise ops over raw arrays, with a flat loop when shapes agree
// and the broadcast loop otherwise.
#pragma once

#include "autograd/broadcast.hpp"

namespace tinyrec::detail {

template <class T, class F>
xt::xarray<T> map_unary(const xt::xarray<T>& x, F f) {
  xt::xarray<T> out = xt::xarray<T>::from_shape(x.shape());
  const T* px = x.data();
  T* po = out.data();
  const size_t n = x.size();
  for (size_t i = 0; i < n; ++i) po[i] = f(px[i]);
  return out;
}

template <class T, class F>
xt::xarray<T> map_binary(const char* op, const xt::xarray<T>& a, const xt::xarray<T>& b, F f) {
  const T* pa = a.data();
  const T* pb = b.data();
  if (a.shape() == b.shape()) {
    xt::xarray<T> out = xt::xarray<T>::from_shape(a.shape());
    T* po = out.data();
    const size_t n = a.size();
    for (size_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
    return out;
  }
  const Shape shape = broadcast_shape(op, a.shape(), b.shape());
  xt::xarray<T> out = xt::xarray<T>::from_shape(shape);
  T* po = out.data();
  for_each_broadcast(shape, a.shape(), b.shape(),
                     [&](size_t i, size_t ia, size_t ib) { po[i] = f(pa[ia], pb[ib]); });
  return out;
}

// x repeated along broadcast axes to `shape` (which must be a broadcast of x's shape).
template <class T>
xt::xarray<T> broadcast_array(const char* op, const xt::xarray<T>& x, const Shape& shape) {
  if (broadcast_shape(op, x.shape(), shape) != shape)
    shape_error(op,
                "shape " + shape_str(x.shape()) + " cannot be broadcast to " + shape_str(shape));
  xt::xarray<T> out = xt::xarray<T>::from_shape(shape);
  const T* px = x.data();
  T* po = out.data();
  for_each_broadcast(shape, x.shape(), x.shape(),
                     [&](size_t i, size_t ix, size_t) { po[i] = px[ix]; });
  return out;
}

// x summed over its broadcast axes down to `shape`: the inverse of broadcast_array.
template <class T>
xt::xarray<T> sum_to_array(const char* op, const xt::xarray<T>& x, const Shape& shape) {
  if (broadcast_shape(op, x.shape(), shape) != x.shape())
    shape_error(op, "shape " + shape_str(x.shape()) + " cannot be summed to " + shape_str(shape));
  xt::xarray<T> out = xt::xarray<T>::from_shape(shape);
  std::fill(out.begin(), out.end(), T(0));
  const T* px = x.data();
  T* po = out.data();
  for_each_broadcast(x.shape(), shape, shape,
                     [&](size_t i, size_t io, size_t) { po[io] += px[i]; });
  return out;
}

}  // namespace tinyrec::detail
