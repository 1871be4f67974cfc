// Elementwise ops: each forward kernel sits beside the rule that sends its gradient back.
// Backward rules are written with Tensor ops, so a recording backward pass can differentiate them.
#include <cmath>

#include "autograd/elementwise.hpp"
#include "autograd/ops.hpp"

namespace tinyrec {

using detail::map_binary;
using detail::map_unary;

// ---- binary, broadcasting ----

template <class T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out(map_binary("add", a.value(), b.value(), [](T x, T y) { return x + y; }));
  if (should_record(a, b))
    record(out, [a, b](const Tensor<T>&, const Tensor<T>& g) {
      if (a.requires_grad()) accumulate(a, sum_to(g, a.shape()));
      if (b.requires_grad()) accumulate(b, sum_to(g, b.shape()));
    });
  return out;
}

template <class T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out(map_binary("sub", a.value(), b.value(), [](T x, T y) { return x - y; }));
  if (should_record(a, b))
    record(out, [a, b](const Tensor<T>&, const Tensor<T>& g) {
      if (a.requires_grad()) accumulate(a, sum_to(g, a.shape()));
      if (b.requires_grad()) accumulate(b, sum_to(neg(g), b.shape()));
    });
  return out;
}

template <class T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out(map_binary("mul", a.value(), b.value(), [](T x, T y) { return x * y; }));
  if (should_record(a, b))
    record(out, [a, b](const Tensor<T>&, const Tensor<T>& g) {
      if (a.requires_grad()) accumulate(a, sum_to(g * b, a.shape()));  // d(ab)/da = b
      if (b.requires_grad()) accumulate(b, sum_to(g * a, b.shape()));
    });
  return out;
}

template <class T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out(map_binary("div", a.value(), b.value(), [](T x, T y) { return x / y; }));
  if (should_record(a, b))
    record(out, [a, b](const Tensor<T>& y, const Tensor<T>& g) {
      if (a.requires_grad()) accumulate(a, sum_to(g / b, a.shape()));
      if (b.requires_grad()) accumulate(b, sum_to(neg(g * y / b), b.shape()));  // d(a/b)/db = −y/b
    });
  return out;
}

// ---- with a scalar ----

template <class T>
Tensor<T> add_scalar(const Tensor<T>& x, Scalar<T> s) {
  Tensor<T> out(map_unary(x.value(), [s](T v) { return v + s; }));
  if (should_record(x))
    record(out, [x](const Tensor<T>&, const Tensor<T>& g) { accumulate(x, g); });
  return out;
}

template <class T>
Tensor<T> mul_scalar(const Tensor<T>& x, Scalar<T> s) {
  Tensor<T> out(map_unary(x.value(), [s](T v) { return v * s; }));
  if (should_record(x))
    record(out, [x, s](const Tensor<T>&, const Tensor<T>& g) { accumulate(x, g * s); });
  return out;
}

template <class T>
Tensor<T> rsub_scalar(const Tensor<T>& x, Scalar<T> s) {
  Tensor<T> out(map_unary(x.value(), [s](T v) { return s - v; }));
  if (should_record(x))
    record(out, [x](const Tensor<T>&, const Tensor<T>& g) { accumulate(x, neg(g)); });
  return out;
}

template <class T>
Tensor<T> rdiv_scalar(const Tensor<T>& x, Scalar<T> s) {
  Tensor<T> out(map_unary(x.value(), [s](T v) { return s / v; }));
  if (should_record(x))
    record(out, [x](const Tensor<T>& y, const Tensor<T>& g) {
      accumulate(x, neg(g * y / x));  // d(s/x)/dx = −(s/x)/x
    });
  return out;
}

template <class T>
Tensor<T> pow(const Tensor<T>& x, Scalar<T> p) {
  Tensor<T> out(map_unary(x.value(), [p](T v) { return std::pow(v, p); }));
  if (should_record(x))
    record(out, [x, p](const Tensor<T>&, const Tensor<T>& g) {
      accumulate(x, g * (pow(x, p - T(1)) * p));
    });
  return out;
}

// ---- unary ----

template <class T>
Tensor<T> neg(const Tensor<T>& x) {
  Tensor<T> out(map_unary(x.value(), [](T v) { return -v; }));
  if (should_record(x))
    record(out, [x](const Tensor<T>&, const Tensor<T>& g) { accumulate(x, neg(g)); });
  return out;
}

template <class T>
Tensor<T> square(const Tensor<T>& x) {
  Tensor<T> out(map_unary(x.value(), [](T v) { return v * v; }));
  if (should_record(x))
    record(out, [x](const Tensor<T>&, const Tensor<T>& g) { accumulate(x, g * (x * T(2))); });
  return out;
}

template <class T>
Tensor<T> exp(const Tensor<T>& x) {
  Tensor<T> out(map_unary(x.value(), [](T v) { return std::exp(v); }));
  if (should_record(x))
    record(out, [x](const Tensor<T>& y, const Tensor<T>& g) { accumulate(x, g * y); });
  return out;
}

template <class T>
Tensor<T> log(const Tensor<T>& x) {
  Tensor<T> out(map_unary(x.value(), [](T v) { return std::log(v); }));
  if (should_record(x))
    record(out, [x](const Tensor<T>&, const Tensor<T>& g) { accumulate(x, g / x); });
  return out;
}

template <class T>
Tensor<T> sqrt(const Tensor<T>& x) {
  Tensor<T> out(map_unary(x.value(), [](T v) { return std::sqrt(v); }));
  if (should_record(x))
    record(out, [x](const Tensor<T>& y, const Tensor<T>& g) { accumulate(x, g / (y * T(2))); });
  return out;
}

// The derivative of a piecewise-linear op is a constant mask: differentiating it again gives zero,
// which is right everywhere except at the kink.
template <class T>
Tensor<T> relu(const Tensor<T>& x) {
  Tensor<T> out(map_unary(x.value(), [](T v) { return v > T(0) ? v : T(0); }));
  if (should_record(x))
    record(out, [x](const Tensor<T>&, const Tensor<T>& g) {
      Tensor<T> slope(map_unary(x.value(), [](T v) { return v > T(0) ? T(1) : T(0); }));
      accumulate(x, g * slope);
    });
  return out;
}

template <class T>
Tensor<T> leaky_relu(const Tensor<T>& x, Scalar<T> a) {
  Tensor<T> out(map_unary(x.value(), [a](T v) { return detail::blend(v > T(0), v, a * v); }));
  if (should_record(x))
    record(out, [x, a](const Tensor<T>&, const Tensor<T>& g) {
      Tensor<T> slope(map_unary(x.value(), [a](T v) { return v > T(0) ? T(1) : a; }));
      accumulate(x, g * slope);
    });
  return out;
}

namespace {

// One row of PReLU's first-order backward: dx = g on the positive side and g·alpha on the other,
// dalpha += g·x on the negative side.
template <class T>
void prelu_backward_row(T* __restrict dx, T* __restrict dalpha, const T* __restrict x,
                        const T* __restrict g, const T* __restrict alpha, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    const T v = x[j], gv = g[j];
    const bool pos = v > T(0);
    dx[j] = detail::blend(pos, gv, gv * alpha[j]);
    dalpha[j] += detail::blend(pos, T(0), gv * v);
  }
}

}  // namespace

// One fused pass instead of relu, sub, mul and add: PReLU sits after every hidden layer of DIN.
template <class T>
Tensor<T> prelu(const Tensor<T>& x, const Tensor<T>& alpha) {
  if (detail::broadcast_shape("prelu", x.shape(), alpha.shape()) != x.shape())
    detail::shape_error("prelu", "alpha of shape " + shape_str(alpha.shape()) +
                                     " must broadcast to x of shape " + shape_str(x.shape()));
  Tensor<T> out(map_binary("prelu", x.value(), alpha.value(),
                           [](T v, T a) { return detail::blend(v > T(0), v, a * v); }));
  if (should_record(x, alpha))
    record(out, [x, alpha](const Tensor<T>&, const Tensor<T>& g) {
      if (!grad_enabled()) {
        // First order (nothing to record): both gradients in one pass over x.
        xt::xarray<T> dx = xt::xarray<T>::from_shape(x.shape());
        xt::xarray<T> da = xt::zeros<T>(alpha.shape());
        const T *px = x.data(), *pa = alpha.data(), *pg = g.data();
        T *pdx = dx.data(), *pda = da.data();
        if (alpha.dim() == 1 && alpha.numel() == x.shape().back()) {
          // The layer case, one alpha per feature on the last axis: row by row, vectorised across
          // the features, so each alpha's gradient still sums its rows in order.
          const size_t f = alpha.numel(), rows = x.numel() / f;
          for (size_t r = 0; r < rows; ++r)
            prelu_backward_row(pdx + r * f, pda, px + r * f, pg + r * f, pa, f);
        } else {
          detail::for_each_broadcast(x.shape(), x.shape(), alpha.shape(),
                                     [&](size_t i, size_t, size_t ia) {
                                       const bool pos = px[i] > T(0);
                                       pdx[i] = pos ? pg[i] : pg[i] * pa[ia];
                                       if (!pos) pda[ia] += pg[i] * px[i];
                                     });
        }
        accumulate(x, Tensor<T>(std::move(dx)));
        accumulate(alpha, Tensor<T>(std::move(da)));
        return;
      }
      // Recorded for higher order: d/dx = 1 on the positive side, alpha on the other;
      // d/dalpha = min(x, 0).
      const Tensor<T> positive(map_unary(x.value(), [](T v) { return v > T(0) ? T(1) : T(0); }));
      if (x.requires_grad()) accumulate(x, g * (positive + (T(1) - positive) * alpha));
      if (alpha.requires_grad()) accumulate(alpha, sum_to(g * (x - x * positive), alpha.shape()));
    });
  return out;
}

template <class T>
Tensor<T> clamp(const Tensor<T>& x, Scalar<T> lo, Scalar<T> hi) {
  if (!(lo <= hi))
    throw std::invalid_argument("clamp: lower bound " + std::to_string(lo) +
                                " is above upper bound " + std::to_string(hi));
  Tensor<T> out(map_unary(x.value(), [lo, hi](T v) { return v < lo ? lo : (v > hi ? hi : v); }));
  if (should_record(x))
    record(out, [x, lo, hi](const Tensor<T>&, const Tensor<T>& g) {
      Tensor<T> inside(
          map_unary(x.value(), [lo, hi](T v) { return v >= lo && v <= hi ? T(1) : T(0); }));
      accumulate(x, g * inside);
    });
  return out;
}

template <class T>
Tensor<T> sigmoid(const Tensor<T>& x) {
  // Two branches so that exp never overflows.
  Tensor<T> out(map_unary(x.value(), [](T v) {
    if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
    const T e = std::exp(v);
    return e / (T(1) + e);
  }));
  if (should_record(x))
    record(out, [x](const Tensor<T>& y, const Tensor<T>& g) {
      accumulate(x, g * (y * (T(1) - y)));  // σ' = σ(1 − σ)
    });
  return out;
}

template <class T>
Tensor<T> tanh(const Tensor<T>& x) {
  Tensor<T> out(map_unary(x.value(), [](T v) { return std::tanh(v); }));
  if (should_record(x))
    record(out, [x](const Tensor<T>& y, const Tensor<T>& g) {
      accumulate(x, g * (T(1) - square(y)));  // tanh' = 1 − tanh²
    });
  return out;
}

template <class T>
Tensor<T> logsigmoid(const Tensor<T>& x) {
  // log σ(v) = −log(1 + e^−v), rearranged per sign so neither exp overflows nor log1p loses digits.
  Tensor<T> out(map_unary(x.value(), [](T v) {
    return v >= T(0) ? -std::log1p(std::exp(-v)) : v - std::log1p(std::exp(v));
  }));
  if (should_record(x))
    record(out, [x](const Tensor<T>&, const Tensor<T>& g) {
      accumulate(x, g * sigmoid(neg(x)));  // d log σ(x)/dx = 1 − σ(x) = σ(−x)
    });
  return out;
}

template <class T>
Tensor<T> where(const Tensor<T>& cond, const Tensor<T>& a, const Tensor<T>& b) {
  const Shape shape = detail::broadcast_shape(
      "where", detail::broadcast_shape("where", a.shape(), b.shape()), cond.shape());
  // Copy b, then overwrite with a where cond holds: exact even when the other branch is inf.
  xt::xarray<T> v = detail::broadcast_array("where", b.value(), shape);
  const T* pa = a.data();
  const T* pc = cond.data();
  T* pv = v.data();
  detail::for_each_broadcast(shape, a.shape(), cond.shape(), [&](size_t i, size_t ia, size_t ic) {
    if (pc[ic] != T(0)) pv[i] = pa[ia];
  });
  Tensor<T> out(std::move(v));
  if (should_record(a, b))
    record(out, [cond, a, b](const Tensor<T>&, const Tensor<T>& g) {
      Tensor<T> on(map_unary(cond.value(), [](T c) { return c != T(0) ? T(1) : T(0); }));
      if (a.requires_grad()) accumulate(a, sum_to(g * on, a.shape()));
      if (b.requires_grad()) accumulate(b, sum_to(g * (T(1) - on), b.shape()));
    });
  return out;
}

template <class T>
Tensor<T> masked_fill(const Tensor<T>& x, const Tensor<T>& mask, Scalar<T> value) {
  return where(mask, Tensor<T>::scalar(value), x);
}

#define TINYREC_INSTANTIATE_ELEMENTWISE(T)                                        \
  template Tensor<T> add(const Tensor<T>&, const Tensor<T>&);                     \
  template Tensor<T> sub(const Tensor<T>&, const Tensor<T>&);                     \
  template Tensor<T> mul(const Tensor<T>&, const Tensor<T>&);                     \
  template Tensor<T> div(const Tensor<T>&, const Tensor<T>&);                     \
  template Tensor<T> add_scalar(const Tensor<T>&, T);                             \
  template Tensor<T> mul_scalar(const Tensor<T>&, T);                             \
  template Tensor<T> rsub_scalar(const Tensor<T>&, T);                            \
  template Tensor<T> rdiv_scalar(const Tensor<T>&, T);                            \
  template Tensor<T> pow(const Tensor<T>&, T);                                    \
  template Tensor<T> neg(const Tensor<T>&);                                       \
  template Tensor<T> square(const Tensor<T>&);                                    \
  template Tensor<T> exp(const Tensor<T>&);                                       \
  template Tensor<T> log(const Tensor<T>&);                                       \
  template Tensor<T> sqrt(const Tensor<T>&);                                      \
  template Tensor<T> relu(const Tensor<T>&);                                      \
  template Tensor<T> leaky_relu(const Tensor<T>&, T);                             \
  template Tensor<T> clamp(const Tensor<T>&, T, T);                               \
  template Tensor<T> prelu(const Tensor<T>&, const Tensor<T>&);                   \
  template Tensor<T> sigmoid(const Tensor<T>&);                                   \
  template Tensor<T> tanh(const Tensor<T>&);                                      \
  template Tensor<T> logsigmoid(const Tensor<T>&);                                \
  template Tensor<T> where(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&); \
  template Tensor<T> masked_fill(const Tensor<T>&, const Tensor<T>&, T);
TINYREC_INSTANTIATE_ELEMENTWISE(float)
TINYREC_INSTANTIATE_ELEMENTWISE(double)

}  // namespace tinyrec
