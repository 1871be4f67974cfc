// What every model shares, whatever its task: it is a Module with a name, and training minimises a
// weighted sum of named loss terms that its task computes (the click loss, DIEN's auxiliary loss,
// one loss per task of a multi-task model, ...).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.hpp"
#include "nn/module.hpp"

namespace tinyrec::models {

template <class T>
class Model : public nn::Module<T> {
 public:
  virtual std::string name() const = 0;
};

// One term of the training objective L = Σ_k weight_k · value_k; `value` is a recorded scalar.
template <class T>
struct LossTerm {
  std::string name;
  Tensor<T> value;
  double weight = 1.0;
};
template <class T>
using LossTerms = std::vector<LossTerm<T>>;

// Each term's name and value, for progress lines and learning curves.
using LossValues = std::vector<std::pair<std::string, double>>;

// Σ_k weight_k · value_k, recorded for backward. Throws std::invalid_argument when there is no
// term.
template <class T>
Tensor<T> total_loss(const LossTerms<T>& terms);

}  // namespace tinyrec::models
