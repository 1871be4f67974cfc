// Broadcasting as an op, and reductions: sum, mean, max along axes.
#include <algorithm>
#include <limits>

#include "autograd/elementwise.hpp"
#include "autograd/ops.hpp"

namespace tinyrec {

template <class T>
Tensor<T> broadcast_to(const Tensor<T>& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  Tensor<T> out = Tensor<T>::empty(shape);
  detail::broadcast_fill("broadcast_to", x.value(), out.value());
  if (should_record(x))
    record(out, [x](const Tensor<T>&, const Tensor<T>& g) { accumulate(x, sum_to(g, x.shape())); });
  return out;
}

template <class T>
Tensor<T> sum_to(const Tensor<T>& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  Tensor<T> out = Tensor<T>::empty(shape);
  detail::sum_to_fill("sum_to", x.value(), out.value());
  if (should_record(x))
    record(out, [x](const Tensor<T>&, const Tensor<T>& g) {
      accumulate(x, broadcast_to(g, x.shape()));
    });
  return out;
}

namespace {

// The shape x takes when `axes` are reduced with keepdims (size 1 there), and the final shape.
struct Reduced {
  Shape kept, final_shape;
  size_t count = 1;  // elements summed into each output
};

Reduced reduced_shape(const char* op, const Shape& in, const Axes& axes, bool keepdims) {
  Reduced r;
  r.kept = in;
  std::vector<bool> reduce(in.size(), false);
  for (int a : axes) {
    const size_t ax = detail::normalize_axis(op, a, in);
    if (reduce[ax]) detail::shape_error(op, "axis " + std::to_string(a) + " given twice");
    reduce[ax] = true;
    r.kept[ax] = 1;
    r.count *= in[ax];
  }
  for (size_t i = 0; i < in.size(); ++i)
    if (keepdims || !reduce[i]) r.final_shape.push_back(r.kept[i]);
  return r;
}

}  // namespace

template <class T>
Tensor<T> sum(const Tensor<T>& x) {
  return sum_to(x, Shape{});
}

template <class T>
Tensor<T> sum(const Tensor<T>& x, const Axes& axes, bool keepdims) {
  const Reduced r = reduced_shape("sum", x.shape(), axes, keepdims);
  return reshape(sum_to(x, r.kept), r.final_shape);
}

template <class T>
Tensor<T> mean(const Tensor<T>& x) {
  if (x.numel() == 0) detail::shape_error("mean", "of an empty tensor");
  return sum(x) * (T(1) / static_cast<T>(x.numel()));
}

template <class T>
Tensor<T> mean(const Tensor<T>& x, const Axes& axes, bool keepdims) {
  const Reduced r = reduced_shape("mean", x.shape(), axes, keepdims);
  if (r.count == 0) detail::shape_error("mean", "over an empty axis of " + shape_str(x.shape()));
  return sum(x, axes, keepdims) * (T(1) / static_cast<T>(r.count));
}

template <class T>
Tensor<T> max(const Tensor<T>& x, int axis, bool keepdims) {
  const Shape& in = x.shape();
  const size_t ax = detail::normalize_axis("max", axis, in);
  if (in[ax] == 0) detail::shape_error("max", "over an empty axis of " + shape_str(in));
  size_t outer = 1, inner = 1;
  for (size_t i = 0; i < ax; ++i) outer *= in[i];
  for (size_t i = ax + 1; i < in.size(); ++i) inner *= in[i];
  const size_t n = in[ax];
  Shape kept = in;
  kept[ax] = 1;
  xt::xarray<T> v = xt::xarray<T>::from_shape(kept);
  // One-hot of the first maximum: the route the gradient takes.
  xt::xarray<T> pick = xt::zeros<T>(in);
  const T* px = x.data();
  for (size_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < inner; ++i) {
      size_t best = 0;
      for (size_t k = 1; k < n; ++k)
        if (px[(o * n + k) * inner + i] > px[(o * n + best) * inner + i]) best = k;
      v.data()[o * inner + i] = px[(o * n + best) * inner + i];
      pick.data()[(o * n + best) * inner + i] = T(1);
    }
  Tensor<T> out(std::move(v));
  if (should_record(x)) {
    Tensor<T> route(std::move(pick));
    record(out, [x, route](const Tensor<T>&, const Tensor<T>& g) {
      accumulate(x, broadcast_to(g, x.shape()) * route);
    });
  }
  if (keepdims) return out;
  Shape final_shape;
  for (size_t i = 0; i < in.size(); ++i)
    if (i != ax) final_shape.push_back(in[i]);
  return reshape(out, final_shape);
}

#define TINYREC_INSTANTIATE_REDUCE(T)                              \
  template Tensor<T> broadcast_to(const Tensor<T>&, const Shape&); \
  template Tensor<T> sum_to(const Tensor<T>&, const Shape&);       \
  template Tensor<T> sum(const Tensor<T>&);                        \
  template Tensor<T> sum(const Tensor<T>&, const Axes&, bool);     \
  template Tensor<T> mean(const Tensor<T>&);                       \
  template Tensor<T> mean(const Tensor<T>&, const Axes&, bool);    \
  template Tensor<T> max(const Tensor<T>&, int, bool);
TINYREC_INSTANTIATE_REDUCE(float)
TINYREC_INSTANTIATE_REDUCE(double)

}  // namespace tinyrec
