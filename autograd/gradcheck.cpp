// gradcheck and gradgradcheck.
#include "autograd/gradcheck.hpp"

#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>

#include "autograd/ops.hpp"

namespace tinyrec {

namespace {

// Fixed pseudo-random weights in ±[0.5, 1.5]: never near zero, so no output is ignored.
Tensor<double> weights_like(const Tensor<double>& y, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> mag(0.5, 1.5);
  xt::xarray<double> w = xt::xarray<double>::from_shape(y.shape());
  for (auto& v : w) v = (rng() & 1 ? 1.0 : -1.0) * mag(rng);
  return Tensor<double>(std::move(w));
}

double weighted_sum(const Tensor<double>& y, const Tensor<double>& w) {
  double s = 0;
  for (size_t i = 0; i < y.numel(); ++i) s += y.data()[i] * w.data()[i];
  return s;
}

}  // namespace

std::string GradcheckResult::report() const {
  std::ostringstream os;
  os.precision(6);
  os << (ok ? "gradcheck passed" : "gradcheck FAILED") << ": " << checked
     << " elements, max abs error " << max_abs_error << ", worst rel error " << worst_rel_error
     << " (" << worst_tolerance_ratio << " of the tolerance) at input " << worst_input
     << " element " << worst_index << " (analytic " << worst_analytic << ", numeric "
     << worst_numeric << ")";
  return os.str();
}

GradcheckResult gradcheck(const CheckedFn& f, const std::vector<Tensor<double>>& inputs,
                          const GradcheckOptions& opt) {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].requires_grad())
      throw std::invalid_argument("gradcheck: input " + std::to_string(i) +
                                  " does not require a gradient");
  Tensor<double> y = f(inputs);
  const Tensor<double> w = weights_like(y, opt.seed);
  for (size_t i = 0; i < y.numel(); ++i)
    if (!std::isfinite(y.data()[i]))
      throw std::runtime_error("gradcheck: the output has a non-finite value at element " +
                               std::to_string(i));
  // A function whose output does not depend on the inputs through the graph has zero gradient;
  // the numeric side then shows whether that is true.
  std::vector<Tensor<double>> analytic;
  if (y.requires_grad()) {
    analytic = grad(sum(y * w), inputs);
  } else {
    for (const auto& x : inputs) analytic.push_back(Tensor<double>::zeros(x.shape()));
  }

  GradcheckResult r;
  double worst_ratio = -1;
  NoGradGuard no_grad;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor<double> x = inputs[i];
    double* v = x.data();
    for (size_t j = 0; j < x.numel(); ++j) {
      const double saved = v[j];
      v[j] = saved + opt.eps;
      const double up = weighted_sum(f(inputs), w);
      v[j] = saved - opt.eps;
      const double down = weighted_sum(f(inputs), w);
      v[j] = saved;
      const double numeric = (up - down) / (2 * opt.eps);
      const double a = analytic[i].data()[j];
      const double err = std::abs(a - numeric);
      const double ratio = err / (opt.atol + opt.rtol * std::abs(numeric));
      ++r.checked;
      r.max_abs_error = std::max(r.max_abs_error, err);
      if (!(ratio <= 1)) r.ok = false;  // also catches NaN
      if (ratio > worst_ratio || std::isnan(ratio)) {
        worst_ratio = std::isnan(ratio) ? INFINITY : ratio;
        r.worst_input = i;
        r.worst_index = j;
        r.worst_analytic = a;
        r.worst_numeric = numeric;
        r.worst_rel_error = err / std::max(std::abs(numeric), opt.atol);
        r.worst_tolerance_ratio = ratio;
      }
    }
  }
  return r;
}

GradcheckResult gradgradcheck(const CheckedFn& f, const std::vector<Tensor<double>>& inputs,
                              const GradcheckOptions& opt) {
  const uint64_t seed = opt.seed;
  CheckedFn first_order = [&f, seed](const std::vector<Tensor<double>>& xs) {
    GradModeGuard on(true);  // the numeric side runs f under NoGradGuard; this needs the graph
    Tensor<double> y = f(xs);
    if (!y.requires_grad()) return Tensor<double>::zeros(Shape{1});
    std::vector<Tensor<double>> gs = grad(sum(y * weights_like(y, seed)), xs, true);
    std::vector<Tensor<double>> flat;
    for (auto& g : gs) flat.push_back(reshape(g, Shape{g.numel()}));
    return concat(flat, 0);
  };
  GradcheckOptions second = opt;
  second.seed = opt.seed + 1;
  return gradcheck(first_order, inputs, second);
}

}  // namespace tinyrec
