// Finite-difference checks of the engine's gradients, for tests and for users checking a new op,
// layer or model: central differences in float64, outputs reduced with a fixed random weight
// vector (a plain sum would hide errors that cancel across outputs).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.hpp"

namespace tinyrec {

struct GradcheckOptions {
  double eps = 1e-6;   // central-difference step
  double atol = 1e-5;  // an element passes when |analytic − numeric| <= atol + rtol·|numeric|
  double rtol = 1e-3;
  uint64_t seed = 20240611;  // for the weight vector that reduces the outputs
};

struct GradcheckResult {
  bool ok = true;
  size_t checked = 0;          // elements compared
  double max_abs_error = 0;    // over all elements
  double worst_rel_error = 0;  // |a − n| / max(|n|, atol) at the worst element
  // |a − n| / (atol + rtol·|n|) at the worst element: the check passes when this is <= 1.
  double worst_tolerance_ratio = 0;
  // The worst element: the one nearest to (or furthest past) its tolerance.
  size_t worst_input = 0, worst_index = 0;
  double worst_analytic = 0, worst_numeric = 0;
  std::string report() const;  // one line, naming the worst element and its index
};

// `f` computes the output from the current values of `inputs` (every one must require a gradient;
// it may also read them through its captures, as a model reads its parameters). Each input's value
// is perturbed in place and restored.
using CheckedFn = std::function<Tensor<double>(const std::vector<Tensor<double>>& inputs)>;

GradcheckResult gradcheck(const CheckedFn& f, const std::vector<Tensor<double>>& inputs,
                          const GradcheckOptions& options = {});

// Checks the gradient of the gradient: the first-order gradients, built with create_graph, are
// themselves checked by gradcheck. This is what an op needs for second-order MAML.
GradcheckResult gradgradcheck(const CheckedFn& f, const std::vector<Tensor<double>>& inputs,
                              const GradcheckOptions& options = {});

}  // namespace tinyrec
