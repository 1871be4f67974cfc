// The default training step, and the weighted sum of loss terms.
#include "models/task.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "autograd/ops.hpp"

namespace tinyrec::models {

template <class T>
Tensor<T> total_loss(const LossTerms<T>& terms) {
  if (terms.empty()) throw std::invalid_argument("total_loss: no loss term");
  Tensor<T> total;
  for (const auto& t : terms) {
    const Tensor<T> term = t.weight == 1.0 ? t.value : t.value * Scalar<T>(t.weight);
    total = total.defined() ? total + term : term;
  }
  return total;
}

template Tensor<float> total_loss(const LossTerms<float>&);
template Tensor<double> total_loss(const LossTerms<double>&);

LossValues Task::train_step(Model<float>& model, nn::Optimizer<float>& optimizer,
                            const std::vector<size_t>& rows) {
  model.train();
  const LossTerms<float> terms = loss_terms(model, rows);
  LossValues values;
  for (const auto& t : terms) {
    const double v = t.value.item();
    if (!std::isfinite(v)) {
      std::ostringstream os;
      os << "the " << t.name << " loss is " << v << " (try a lower --lr)";
      throw NonFiniteLoss(os.str());
    }
    values.emplace_back(t.name, v);
  }
  const Tensor<float> loss = total_loss(terms);
  optimizer.zero_grad();
  backward(loss);
  optimizer.step();
  return values;
}

}  // namespace tinyrec::models
