// Ops that move elements without arithmetic: reshape, permute, concat, slice/pad, split.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "autograd/elementwise.hpp"
#include "autograd/ops.hpp"

namespace tinyrec {

using detail::shape_error;

template <class T>
Tensor<T> reshape(const Tensor<T>& x, const Shape& shape) {
  if (detail::numel_of(shape) != x.numel())
    shape_error("reshape", "cannot reshape " + shape_str(x.shape()) + " (" +
                               std::to_string(x.numel()) + " elements) to " + shape_str(shape));
  if (shape == x.shape()) return x;
  xt::xarray<T> v = xt::xarray<T>::from_shape(shape);
  std::copy(x.data(), x.data() + x.numel(), v.data());
  Tensor<T> out(std::move(v));
  if (should_record(x))
    record(out,
           [x](const Tensor<T>&, const Tensor<T>& g) { accumulate(x, reshape(g, x.shape())); });
  return out;
}

template <class T>
Tensor<T> reshape_infer(const Tensor<T>& x, const std::vector<int64_t>& shape) {
  Shape s(shape.size(), 0);
  int infer = -1;
  size_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) shape_error("reshape", "only one size may be -1");
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      shape_error("reshape", "negative size " + std::to_string(shape[i]));
    } else {
      s[i] = static_cast<size_t>(shape[i]);
      known *= s[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known != 0)
      shape_error("reshape", "cannot infer the -1 size reshaping " + shape_str(x.shape()));
    s[static_cast<size_t>(infer)] = x.numel() / known;
  }
  return reshape(x, s);
}

template <class T>
Tensor<T> permute(const Tensor<T>& x, const std::vector<size_t>& axes) {
  const Shape& in = x.shape();
  const size_t nd = in.size();
  std::vector<bool> seen(nd, false);
  if (axes.size() != nd)
    shape_error("permute", "needs " + std::to_string(nd) + " axes for shape " + shape_str(in));
  for (size_t a : axes) {
    if (a >= nd || seen[a])
      shape_error("permute", "axes are not a permutation of 0.." + std::to_string(nd - 1));
    seen[a] = true;
  }
  Shape out_shape(nd, 0), in_strides(nd, 1);
  for (size_t i = nd; i-- > 1;) in_strides[i - 1] = in_strides[i] * in[i];
  for (size_t i = 0; i < nd; ++i) out_shape[i] = in[axes[i]];
  xt::xarray<T> v = xt::xarray<T>::from_shape(out_shape);
  // Walk the output in order; `step` is the input stride of each output axis.
  Shape step(nd, 0);
  for (size_t i = 0; i < nd; ++i) step[i] = in_strides[axes[i]];
  const T* px = x.data();
  T* pv = v.data();
  const size_t total = x.numel();
  Shape idx(nd, 0);
  size_t off = 0;
  for (size_t o = 0; o < total; ++o) {
    pv[o] = px[off];
    for (size_t d = nd; d-- > 0;) {
      off += step[d];
      if (++idx[d] < out_shape[d]) break;
      off -= step[d] * out_shape[d];
      idx[d] = 0;
    }
  }
  Tensor<T> out(std::move(v));
  if (should_record(x)) {
    std::vector<size_t> inverse(nd);
    for (size_t i = 0; i < nd; ++i) inverse[axes[i]] = i;
    record(out, [x, inverse](const Tensor<T>&, const Tensor<T>& g) {
      accumulate(x, permute(g, inverse));
    });
  }
  return out;
}

template <class T>
Tensor<T> transpose(const Tensor<T>& x, int axis0, int axis1) {
  const size_t a = detail::normalize_axis("transpose", axis0, x.shape());
  const size_t b = detail::normalize_axis("transpose", axis1, x.shape());
  std::vector<size_t> axes(x.dim());
  std::iota(axes.begin(), axes.end(), 0);
  std::swap(axes[a], axes[b]);
  return permute(x, axes);
}

namespace {
// Splits a shape around `axis` into the product of the sizes before it and after it.
std::pair<size_t, size_t> outer_inner(const Shape& s, size_t axis) {
  size_t outer = 1, inner = 1;
  for (size_t i = 0; i < axis; ++i) outer *= s[i];
  for (size_t i = axis + 1; i < s.size(); ++i) inner *= s[i];
  return {outer, inner};
}
}  // namespace

template <class T>
Tensor<T> concat(const Tensors<T>& xs, int axis) {
  if (xs.empty()) shape_error("concat", "needs at least one tensor");
  const Shape& first = xs[0].shape();
  const size_t ax = detail::normalize_axis("concat", axis, first);
  Shape out_shape = first;
  out_shape[ax] = 0;
  for (const auto& t : xs) {
    Shape s = t.shape();
    if (s.size() != first.size())
      shape_error("concat",
                  "shapes " + shape_str(first) + " and " + shape_str(s) + " differ in rank");
    s[ax] = first[ax];
    if (s != first)
      shape_error("concat", "shapes " + shape_str(first) + " and " + shape_str(t.shape()) +
                                " differ outside axis " + std::to_string(axis));
    out_shape[ax] += t.shape()[ax];
  }
  const auto [outer, inner] = outer_inner(first, ax);
  const size_t row = out_shape[ax] * inner;
  xt::xarray<T> v = xt::xarray<T>::from_shape(out_shape);
  size_t offset = 0;
  for (const auto& t : xs) {
    const size_t chunk = t.shape()[ax] * inner;
    // An empty part or result has no buffer to copy from or to (memcpy must not see null).
    for (size_t o = 0; chunk > 0 && o < outer; ++o)
      std::memcpy(v.data() + o * row + offset, t.data() + o * chunk, chunk * sizeof(T));
    offset += chunk;
  }
  Tensor<T> out(std::move(v));
  if (should_record(xs))
    record(out, [xs, ax](const Tensor<T>&, const Tensor<T>& g) {
      size_t start = 0;
      for (const auto& t : xs) {
        const size_t n = t.shape()[ax];
        if (t.requires_grad()) accumulate(t, slice(g, static_cast<int>(ax), start, start + n));
        start += n;
      }
    });
  return out;
}

template <class T>
Tensor<T> slice(const Tensor<T>& x, int axis, size_t start, size_t stop) {
  const size_t ax = detail::normalize_axis("slice", axis, x.shape());
  const size_t n = x.shape()[ax];
  if (start > stop || stop > n)
    shape_error("slice", "range [" + std::to_string(start) + ", " + std::to_string(stop) +
                             ") is outside axis " + std::to_string(axis) + " of " +
                             shape_str(x.shape()));
  const auto [outer, inner] = outer_inner(x.shape(), ax);
  Shape out_shape = x.shape();
  out_shape[ax] = stop - start;
  xt::xarray<T> v = xt::xarray<T>::from_shape(out_shape);
  const size_t chunk = (stop - start) * inner;
  for (size_t o = 0; chunk > 0 && o < outer; ++o)  // an empty slice has no buffer
    std::memcpy(v.data() + o * chunk, x.data() + (o * n + start) * inner, chunk * sizeof(T));
  Tensor<T> out(std::move(v));
  if (should_record(x))
    record(out, [x, ax, start, stop, n](const Tensor<T>&, const Tensor<T>& g) {
      const auto [outer, inner] = outer_inner(x.shape(), ax);
      if (!accumulate_block(x, outer, n, inner, start, stop, g))
        accumulate(x, pad(g, static_cast<int>(ax), start, n - stop));  // recorded: differentiable
    });
  return out;
}

template <class T>
Tensor<T> pad(const Tensor<T>& x, int axis, size_t before, size_t after) {
  const size_t ax = detail::normalize_axis("pad", axis, x.shape());
  const size_t n = x.shape()[ax];
  const auto [outer, inner] = outer_inner(x.shape(), ax);
  Shape out_shape = x.shape();
  out_shape[ax] = before + n + after;
  xt::xarray<T> v = xt::zeros<T>(out_shape);
  const size_t chunk = n * inner, row = out_shape[ax] * inner;
  for (size_t o = 0; chunk > 0 && o < outer; ++o)  // an empty input has no buffer
    std::memcpy(v.data() + o * row + before * inner, x.data() + o * chunk, chunk * sizeof(T));
  Tensor<T> out(std::move(v));
  if (should_record(x))
    record(out, [x, ax, before, n](const Tensor<T>&, const Tensor<T>& g) {
      accumulate(x, slice(g, static_cast<int>(ax), before, before + n));
    });
  return out;
}

template <class T>
Tensors<T> split(const Tensor<T>& x, const std::vector<size_t>& sizes, int axis) {
  const size_t ax = detail::normalize_axis("split", axis, x.shape());
  const size_t total = std::accumulate(sizes.begin(), sizes.end(), size_t(0));
  if (total != x.shape()[ax])
    shape_error("split", "sizes add up to " + std::to_string(total) + " but axis " +
                             std::to_string(axis) + " of " + shape_str(x.shape()) + " has " +
                             std::to_string(x.shape()[ax]));
  Tensors<T> parts;
  size_t start = 0;
  for (size_t s : sizes) {
    parts.push_back(slice(x, axis, start, start + s));
    start += s;
  }
  return parts;
}

template <class T>
Tensors<T> chunk(const Tensor<T>& x, size_t chunks, int axis) {
  const size_t ax = detail::normalize_axis("chunk", axis, x.shape());
  if (chunks == 0) shape_error("chunk", "needs at least one chunk");
  const size_t n = x.shape()[ax];
  const size_t each =
      (n + chunks - 1) / chunks;  // as PyTorch: equal chunks, the last may be smaller
  std::vector<size_t> sizes;
  for (size_t start = 0; start < n; start += each) sizes.push_back(std::min(each, n - start));
  return split(x, sizes, axis);
}

#define TINYREC_INSTANTIATE_SHAPE(T)                                               \
  template Tensor<T> reshape(const Tensor<T>&, const Shape&);                      \
  template Tensor<T> reshape_infer(const Tensor<T>&, const std::vector<int64_t>&); \
  template Tensor<T> permute(const Tensor<T>&, const std::vector<size_t>&);        \
  template Tensor<T> transpose(const Tensor<T>&, int, int);                        \
  template Tensor<T> concat(const Tensors<T>&, int);                               \
  template Tensor<T> slice(const Tensor<T>&, int, size_t, size_t);                 \
  template Tensor<T> pad(const Tensor<T>&, int, size_t, size_t);                   \
  template Tensors<T> split(const Tensor<T>&, const std::vector<size_t>&, int);    \
  template Tensors<T> chunk(const Tensor<T>&, size_t, int);
TINYREC_INSTANTIATE_SHAPE(float)
TINYREC_INSTANTIATE_SHAPE(double)

}  // namespace tinyrec
