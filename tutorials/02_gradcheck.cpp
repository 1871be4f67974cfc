// Tutorial 2: checking gradients with finite differences — why float64, why central differences,
// what atol and rtol mean, why outputs are reduced with random weights, kinks, and how to check a
// new op (softplus) with gradcheck and gradgradcheck. Exits 1 if any demonstration goes otherwise.
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

#include "autograd/autograd.hpp"
#include "tutorials/checks.hpp"

using tinyrec::GradcheckOptions;
using tinyrec::GradcheckResult;
using tinyrec::Shape;
using tinyrec::Tensor;
using Inputs = std::vector<Tensor<double>>;

namespace {

using tinyrec::tutorial::check_true;

xt::xarray<double> uniform(const Shape& shape, double lo, double hi, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(lo, hi);
  xt::xarray<double> a = xt::xarray<double>::from_shape(shape);
  for (auto& v : a) v = u(rng);
  return a;
}

template <class T>
Tensor<T> as(const xt::xarray<double>& a, bool requires_grad = false) {
  xt::xarray<T> out = xt::xarray<T>::from_shape(a.shape());
  for (size_t i = 0; i < a.size(); ++i) out.data()[i] = static_cast<T>(a.data()[i]);
  return Tensor<T>(std::move(out), requires_grad);
}

// ---- 1. Why float64 ----

// A small layer, reduced to a number with fixed weights: L = Σ w ⊙ tanh(x·W).
template <class T>
Tensor<T> layer_loss(const Tensor<T>& x, const Tensor<T>& W, const Tensor<T>& w) {
  return tinyrec::sum(tinyrec::tanh(tinyrec::matmul(x, W)) * w);
}

// The largest gap between `exact` and dL/dx from central differences done entirely in T.
template <class T>
double finite_difference_error(Tensor<T> x, const Tensor<T>& W, const Tensor<T>& w, T eps,
                               const xt::xarray<double>& exact) {
  tinyrec::NoGradGuard off;
  double worst = 0;
  for (size_t j = 0; j < x.numel(); ++j) {
    const T saved = x.data()[j];
    x.data()[j] = saved + eps;
    const T up = layer_loss(x, W, w).item();
    x.data()[j] = saved - eps;
    const T down = layer_loss(x, W, w).item();
    x.data()[j] = saved;
    const T numeric = (up - down) / (T(2) * eps);
    worst = std::max(worst, std::abs(static_cast<double>(numeric) - exact.data()[j]));
  }
  return worst;
}

void why_float64() {
  std::printf("\n== 1. Why float64 ==\n");
  std::printf("  machine epsilon: float %.3g, double %.3g\n",
              double(std::numeric_limits<float>::epsilon()),
              std::numeric_limits<double>::epsilon());
  volatile float one = 1.0f;  // volatile: computed at run time, in float
  const float step = (one + 1e-6f) - one;
  std::printf("  in float, (1 + 1e-6) - 1 = %.7g: the step itself is off by %.0f%%\n", double(step),
              100 * std::abs(double(step) - 1e-6) / 1e-6);

  std::mt19937_64 rng(7);
  const xt::xarray<double> xv = uniform({4, 8}, -1, 1, rng), Wv = uniform({8, 8}, -0.5, 0.5, rng),
                           wv = uniform({4, 8}, -1, 1, rng);
  // The exact gradient, from the engine in double (checked against float64 differences below).
  Tensor<double> xd = as<double>(xv, true), Wd = as<double>(Wv), wd = as<double>(wv);
  const xt::xarray<double> exact = tinyrec::grad(layer_loss(xd, Wd, wd), {xd})[0].value();
  Tensor<float> xf = as<float>(xv, true), Wf = as<float>(Wv), wf = as<float>(wv);
  const xt::xarray<float> analytic_f = tinyrec::grad(layer_loss(xf, Wf, wf), {xf})[0].value();
  double analytic_err = 0;
  for (size_t i = 0; i < exact.size(); ++i)
    analytic_err = std::max(analytic_err, std::abs(double(analytic_f.data()[i]) - exact.data()[i]));
  const double fd32 = finite_difference_error<float>(xf, Wf, wf, 1e-6f, exact);
  const double fd32_best = finite_difference_error<float>(xf, Wf, wf, 1e-3f, exact);
  const double fd64 = finite_difference_error<double>(xd, Wd, wd, 1e-6, exact);
  std::printf("  max |error| against the exact dL/dx (gradients here are of size ~1):\n");
  std::printf("    float32, engine's backward              %9.2e\n", analytic_err);
  std::printf("    float32, central difference, eps 1e-6   %9.2e\n", fd32);
  std::printf("    float32, central difference, eps 1e-3   %9.2e\n", fd32_best);
  std::printf("    float64, central difference, eps 1e-6   %9.2e\n", fd64);
  check_true("float32 backward itself is accurate (< 1e-5)", analytic_err < 1e-5);
  check_true("float32 differences at eps 1e-6 are garbage (> 1e-2)", fd32 > 1e-2);
  check_true("float32 at its best eps still misses atol 1e-5", fd32_best > 1e-5);
  check_true("float64 differences at eps 1e-6 agree (< 1e-8)", fd64 < 1e-8);
}

// ---- 2. Why central differences ----

void why_central() {
  std::printf("\n== 2. Why central differences ==\n");
  // f(x) = e^x sin x at x = 1, whose derivative e^x (sin x + cos x) is known exactly.
  auto f = [](double x) { return std::exp(x) * std::sin(x); };
  const double x = 1, exact = std::exp(x) * (std::sin(x) + std::cos(x));
  std::printf("       eps    forward error    central error\n");
  double fwd[10], cen[10];
  for (int k = 1; k <= 9; ++k) {
    const double eps = std::pow(10.0, -k);
    fwd[k] = std::abs((f(x + eps) - f(x)) / eps - exact);
    cen[k] = std::abs((f(x + eps) - f(x - eps)) / (2 * eps) - exact);
    std::printf("    %6.0e   %14.3e   %14.3e\n", eps, fwd[k], cen[k]);
  }
  // Where truncation dominates, a 10x smaller eps divides the error by 10 (forward) or 100
  // (central); further down rounding, ~1e-16 / eps, takes over.
  check_true("forward error falls 10x per decade (eps 1e-2 -> 1e-3)",
             fwd[2] / fwd[3] > 8 && fwd[2] / fwd[3] < 12);
  check_true("central error falls 100x per decade (eps 1e-2 -> 1e-3)",
             cen[2] / cen[3] > 80 && cen[2] / cen[3] < 120);
  check_true("at eps 1e-6, central beats forward by > 1000x", cen[6] * 1000 < fwd[6]);
}

// ---- 3. What atol and rtol mean ----

void tolerances() {
  std::printf("\n== 3. atol and rtol: |analytic - numeric| <= atol + rtol * |numeric| ==\n");
  const GradcheckOptions def;
  for (double n : {0.0, 1.0, 1e4})
    std::printf("  numeric %-6g -> allowed error %g\n", n, def.atol + def.rtol * std::abs(n));

  // Large gradients: the rounding of large outputs, divided by 2·eps, exceeds any fixed atol.
  std::mt19937_64 rng(3);
  Tensor<double> big = as<double>(uniform({6}, 14, 16, rng), true);
  auto f_exp = [](const Inputs& in) { return tinyrec::exp(in[0]); };
  GradcheckOptions no_rtol;
  no_rtol.rtol = 0;
  const GradcheckResult exp_abs = tinyrec::gradcheck(f_exp, {big}, no_rtol);
  const GradcheckResult exp_def = tinyrec::gradcheck(f_exp, {big});
  std::printf("  exp at x in [14, 16], rtol = 0:  %s\n", exp_abs.report().c_str());
  std::printf("  exp at x in [14, 16], defaults:  %s\n", exp_def.report().c_str());
  check_true("a correct exp fails without rtol (false alarm)", !exp_abs.ok);
  check_true("and passes with rtol 1e-3", exp_def.ok);

  // Tiny gradients (a saturated tanh): rounding noise in the outputs, ~1e-16 / eps, is as large
  // as the gradient itself, so no relative tolerance can hold; atol says "this small is zero".
  Tensor<double> sat = as<double>(uniform({6}, 10, 12, rng), true);
  auto f_tanh = [](const Inputs& in) { return tinyrec::tanh(in[0]); };
  GradcheckOptions no_atol;
  no_atol.atol = 0;
  const GradcheckResult tanh_rel = tinyrec::gradcheck(f_tanh, {sat}, no_atol);
  const GradcheckResult tanh_def = tinyrec::gradcheck(f_tanh, {sat});
  std::printf("  tanh at x in [10, 12], atol = 0: %s\n", tanh_rel.report().c_str());
  std::printf("  tanh at x in [10, 12], defaults: %s\n", tanh_def.report().c_str());
  check_true("a correct tanh fails without atol (false alarm)", !tanh_rel.ok);
  check_true("and passes with atol 1e-5", tanh_def.ok);
}

// ---- 4. Why a random weight vector, not a plain sum ----

// softmax whose backward forgot a factor: g − Σ_k g_k y_k instead of y ⊙ (g − Σ_k g_k y_k).
Tensor<double> softmax_forgot_y(const Tensor<double>& x) {
  Tensor<double> y;
  {
    tinyrec::NoGradGuard off;  // borrow the forward; the backward below replaces the real one
    y = tinyrec::softmax(x, -1);
  }
  if (tinyrec::should_record(x))
    tinyrec::record(y, [x](const Tensor<double>& out, const Tensor<double>& g) {
      tinyrec::accumulate(x, g - tinyrec::sum(g * out, {-1}, true));
    });
  return y;
}

void weighted_reduction() {
  std::printf("\n== 4. Why outputs are reduced with random weights ==\n");
  std::mt19937_64 rng(11);
  Tensor<double> x = as<double>(uniform({3, 5}, -2, 2, rng), true);
  // A plain-sum check is gradcheck of sum(f): its single weight only rescales the sum.
  const GradcheckResult plain = tinyrec::gradcheck(
      [](const Inputs& in) { return tinyrec::sum(softmax_forgot_y(in[0])); }, {x});
  const GradcheckResult weighted =
      tinyrec::gradcheck([](const Inputs& in) { return softmax_forgot_y(in[0]); }, {x});
  const GradcheckResult real =
      tinyrec::gradcheck([](const Inputs& in) { return tinyrec::softmax(in[0], -1); }, {x});
  std::printf("  broken softmax, plain sum:   %s\n", plain.report().c_str());
  std::printf("  broken softmax, gradcheck:   %s\n", weighted.report().c_str());
  std::printf("  tinyrec softmax, gradcheck:  %s\n", real.report().c_str());
  check_true("the broken backward passes a plain-sum check", plain.ok);
  check_true("the broken backward fails gradcheck", !weighted.ok);
  check_true("the real softmax passes gradcheck", real.ok);
}

// ---- 5. Stay away from kinks ----

void kinks() {
  std::printf("\n== 5. Inputs must stay away from kinks ==\n");
  std::mt19937_64 rng(5);
  xt::xarray<double> v = uniform({8}, -1, 1, rng);
  auto f_relu = [](const Inputs& in) { return tinyrec::relu(in[0]); };
  v(3) = 3e-7;  // within eps of relu's kink at 0
  const GradcheckResult near = tinyrec::gradcheck(f_relu, {as<double>(v, true)});
  // The usual remedy: push every input at least 0.1 away from the kink.
  for (auto& e : v) e = e >= 0 ? e + 0.1 : e - 0.1;
  const GradcheckResult away = tinyrec::gradcheck(f_relu, {as<double>(v, true)});
  std::printf("  relu, one input at 3e-7:  %s\n", near.report().c_str());
  std::printf("  relu, |inputs| >= 0.1:    %s\n", away.report().c_str());
  check_true("a correct relu fails next to its kink", !near.ok && near.worst_index == 3);
  check_true("and passes away from it", away.ok);
}

// ---- 6. Checking a new op ----

// softplus(x) = log(1 + e^x), computed as max(x, 0) + log1p(e^−|x|) so that e^x never overflows.
xt::xarray<double> softplus_value(const Tensor<double>& x) {
  xt::xarray<double> v = xt::xarray<double>::from_shape(x.shape());
  for (size_t i = 0; i < x.numel(); ++i) {
    const double a = x.data()[i];
    v.data()[i] = std::max(a, 0.0) + std::log1p(std::exp(-std::abs(a)));
  }
  return v;
}

// softplus' = σ, written with an engine op, so the backward is itself differentiable.
Tensor<double> softplus(const Tensor<double>& x) {
  Tensor<double> y(softplus_value(x));
  if (tinyrec::should_record(x))
    tinyrec::record(y, [x](const Tensor<double>&, const Tensor<double>& g) {
      tinyrec::accumulate(x, g * tinyrec::sigmoid(x));
    });
  return y;
}

// A plausible slip: σ(x)(1 − σ(x)) is σ', the derivative one order too far.
Tensor<double> softplus_wrong(const Tensor<double>& x) {
  Tensor<double> y(softplus_value(x));
  if (tinyrec::should_record(x))
    tinyrec::record(y, [x](const Tensor<double>&, const Tensor<double>& g) {
      Tensor<double> s = tinyrec::sigmoid(x);
      tinyrec::accumulate(x, g * (s * (1.0 - s)));
    });
  return y;
}

// The right derivative computed on raw arrays: a constant to the engine, so the gradient is right
// but the gradient of the gradient is not.
Tensor<double> softplus_first_order_only(const Tensor<double>& x) {
  Tensor<double> y(softplus_value(x));
  if (tinyrec::should_record(x))
    tinyrec::record(y, [x](const Tensor<double>&, const Tensor<double>& g) {
      xt::xarray<double> s = xt::xarray<double>::from_shape(x.shape());
      for (size_t i = 0; i < x.numel(); ++i) s.data()[i] = 1 / (1 + std::exp(-x.data()[i]));
      tinyrec::accumulate(x, g * Tensor<double>(std::move(s)));
    });
  return y;
}

void new_op() {
  std::printf("\n== 6. Checking a new op: softplus ==\n");
  std::mt19937_64 rng(13);
  // Several shapes of inputs would be checked for a broadcasting op; softplus is elementwise.
  Tensor<double> x = as<double>(uniform({4, 3}, -3, 3, rng), true);
  auto run = [&x](const char* name, Tensor<double> (*op)(const Tensor<double>&)) {
    auto f = [op](const Inputs& in) { return op(in[0]); };
    const GradcheckResult first = tinyrec::gradcheck(f, {x});
    const GradcheckResult second = tinyrec::gradgradcheck(f, {x});
    std::printf("  %s\n    gradcheck:     %s\n    gradgradcheck: %s\n", name,
                first.report().c_str(), second.report().c_str());
    return std::make_pair(first.ok, second.ok);
  };
  const auto right = run("softplus", softplus);
  const auto wrong = run("softplus_wrong (backward uses sigma')", softplus_wrong);
  const auto opaque =
      run("softplus_first_order_only (backward on raw arrays)", softplus_first_order_only);
  check_true("softplus passes gradcheck and gradgradcheck", right.first && right.second);
  check_true("softplus_wrong fails gradcheck", !wrong.first);
  check_true("softplus_first_order_only passes gradcheck", opaque.first);
  check_true("softplus_first_order_only fails gradgradcheck", !opaque.second);
}

}  // namespace

int main() {
  return tinyrec::tutorial::run([&] {
    why_float64();
    why_central();
    tolerances();
    weighted_reduction();
    kinks();
    new_op();
  });
}
