// softmax and log_softmax along one axis, with an optional mask of positions to leave out
// (padding in a behaviour sequence).
#include <cmath>
#include <limits>

#include "autograd/elementwise.hpp"
#include "autograd/ops.hpp"

namespace tinyrec {

namespace {

// Runs f(row) over every 1-D line along `axis`, where row(k) is the flat offset of element k.
template <class F>
void for_each_line(const Shape& shape, size_t axis, F&& f) {
  size_t outer = 1, inner = 1;
  for (size_t i = 0; i < axis; ++i) outer *= shape[i];
  for (size_t i = axis + 1; i < shape.size(); ++i) inner *= shape[i];
  const size_t n = shape[axis];
  for (size_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < inner; ++i) f(o * n * inner + i, inner, n);
}

// The mask as an array of x's shape, or empty when there is none.
template <class T>
xt::xarray<T> full_mask(const char* op, const Tensor<T>& x, const Tensor<T>& mask) {
  if (!mask.defined()) return {};
  if (mask.requires_grad()) detail::shape_error(op, "the mask must be a constant");
  return detail::broadcast_array(op, mask.value(), x.shape());
}

// Fills `out` with softmax (log = false) or log-softmax (log = true) of x along the line; masked
// entries give 0 in both cases.
template <class T>
void softmax_kernel(const T* x, const T* m, T* out, size_t base, size_t stride, size_t n,
                    bool log) {
  T hi = -std::numeric_limits<T>::infinity();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = base + k * stride;
    if (!m || m[i] != T(0)) hi = std::max(hi, x[i]);
  }
  if (hi == -std::numeric_limits<T>::infinity()) {  // every entry masked
    for (size_t k = 0; k < n; ++k) out[base + k * stride] = T(0);
    return;
  }
  T total = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = base + k * stride;
    if (!m || m[i] != T(0)) total += std::exp(x[i] - hi);
  }
  const T log_total = std::log(total);
  for (size_t k = 0; k < n; ++k) {
    const size_t i = base + k * stride;
    const bool keep = !m || m[i] != T(0);
    out[i] = !keep ? T(0) : log ? x[i] - hi - log_total : std::exp(x[i] - hi - log_total);
  }
}

template <class T>
Tensor<T> softmax_forward(const Tensor<T>& x, size_t ax, const xt::xarray<T>& m, bool log) {
  xt::xarray<T> v = xt::xarray<T>::from_shape(x.shape());
  const T* pm = m.dimension() ? m.data() : nullptr;  // a 0-D array means "no mask"
  for_each_line(x.shape(), ax, [&](size_t base, size_t stride, size_t n) {
    softmax_kernel(x.data(), pm, v.data(), base, stride, n, log);
  });
  return Tensor<T>(std::move(v));
}

}  // namespace

template <class T>
Tensor<T> softmax(const Tensor<T>& x, int axis, const Tensor<T>& mask) {
  const size_t ax = detail::normalize_axis("softmax", axis, x.shape());
  Tensor<T> out = softmax_forward(x, ax, full_mask("softmax", x, mask), false);
  if (should_record(x))
    record(out, [x, ax](const Tensor<T>& y, const Tensor<T>& g) {
      // dx = y ⊙ (g − Σ_k g_k y_k); masked entries have y = 0 and so get nothing.
      const Axes axes{static_cast<int>(ax)};
      accumulate(x, y * (g - sum(g * y, axes, true)));
    });
  return out;
}

template <class T>
Tensor<T> log_softmax(const Tensor<T>& x, int axis, const Tensor<T>& mask) {
  const size_t ax = detail::normalize_axis("log_softmax", axis, x.shape());
  xt::xarray<T> m = full_mask("log_softmax", x, mask);
  Tensor<T> out = softmax_forward(x, ax, m, true);
  if (should_record(x)) {
    Tensor<T> keep = mask.defined() ? Tensor<T>(std::move(m)) : Tensor<T>();
    record(out, [x, ax, keep](const Tensor<T>& y, const Tensor<T>& g) {
      // dx = g − softmax ⊙ Σ_k g_k, with masked entries taken out of both terms.
      const Axes axes{static_cast<int>(ax)};
      if (!keep.defined()) {
        accumulate(x, g - exp(y) * sum(g, axes, true));
      } else {
        Tensor<T> gk = g * keep;
        accumulate(x, gk - exp(y) * keep * sum(gk, axes, true));
      }
    });
  }
  return out;
}

template Tensor<float> softmax(const Tensor<float>&, int, const Tensor<float>&);
template Tensor<double> softmax(const Tensor<double>&, int, const Tensor<double>&);
template Tensor<float> log_softmax(const Tensor<float>&, int, const Tensor<float>&);
template Tensor<double> log_softmax(const Tensor<double>&, int, const Tensor<double>&);

}  // namespace tinyrec
