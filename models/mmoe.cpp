// Shared-Bottom, OMoE and MMoE; see mmoe.hpp for the paper's equations.
#include "models/mmoe.hpp"

#include "autograd/ops.hpp"

namespace tinyrec::models {

template <class T>
SharedBottom<T>::SharedBottom(const MultiTaskConfig& c)
    : MultiTaskModel<T>(c),
      input_(c, this->rng_),
      bottom_(input_.width(), c.bottom_width(), this->rng_) {
  init_linear(bottom_, c.init, this->rng_);
  this->register_module("input", input_);
  this->register_module("bottom", bottom_);
  for (size_t k = 0; k < c.tasks.size(); ++k) {
    towers_.push_back(std::make_unique<Tower<T>>(c.bottom_width(), c.tower, c.init, this->rng_));
    this->register_module("towers." + std::to_string(k), *towers_.back());
  }
}

template <class T>
std::vector<Tensor<T>> SharedBottom<T>::forward(const data::MultiTaskBatch& b) {
  Tensor<T> f = relu(bottom_.forward(input_.forward(b)));  // f(x), [B, bottom]
  std::vector<Tensor<T>> y;
  for (auto& h : towers_) y.push_back(h->forward(f));  // eq. 1: y_k = h^k(f(x)), [B]
  return y;
}

template <class T>
MixtureOfExperts<T>::MixtureOfExperts(const MultiTaskConfig& c, bool multi_gate)
    : MultiTaskModel<T>(c),
      multi_gate_(multi_gate),
      input_(c, this->rng_),
      experts_(input_.width(), c.n_experts, c.expert_units, c.init, this->rng_) {
  this->register_module("input", input_);
  this->register_module("experts", experts_);
  const size_t n_gates = multi_gate ? c.tasks.size() : 1;
  for (size_t k = 0; k < n_gates; ++k) {
    gates_.push_back(std::make_unique<Gate<T>>(input_.width(), c.n_experts, c.init, this->rng_));
    this->register_module("gates." + std::to_string(k), *gates_.back());
  }
  for (size_t k = 0; k < c.tasks.size(); ++k) {
    towers_.push_back(std::make_unique<Tower<T>>(c.expert_units, c.tower, c.init, this->rng_));
    this->register_module("towers." + std::to_string(k), *towers_.back());
  }
}

template <class T>
std::vector<Tensor<T>> MixtureOfExperts<T>::forward(const data::MultiTaskBatch& b) {
  Tensor<T> x = input_.forward(b);    // [B, d]
  Tensor<T> f = experts_.forward(x);  // f_i(x), [B, n, units]
  g_.clear();
  for (auto& gate : gates_) g_.push_back(gate->forward(x));  // g^k(x), eq. 8, [B, n]
  std::vector<Tensor<T>> y;
  for (size_t k = 0; k < towers_.size(); ++k) {
    const Tensor<T>& g_k = g_[multi_gate_ ? k : 0];
    Tensor<T> f_k = mix_experts(g_k, f);    // eq. 7: Σ_i g^k(x)_i f_i(x), [B, units]
    y.push_back(towers_[k]->forward(f_k));  // eq. 6: y_k = h^k(f^k(x)), [B]
  }
  return y;
}

template <class T>
std::vector<Tensor<T>> MixtureOfExperts<T>::gate_weights() const {
  if (g_.empty()) return {};
  std::vector<Tensor<T>> out;
  for (size_t k = 0; k < towers_.size(); ++k) out.push_back(g_[multi_gate_ ? k : 0]);
  return out;
}

template <class T>
std::vector<std::string> MixtureOfExperts<T>::gate_experts(size_t) const {
  std::vector<std::string> names;
  for (size_t i = 0; i < experts_.count(); ++i) names.push_back("expert" + std::to_string(i));
  return names;
}

namespace {

const std::string kPaper =
    "Ma et al., Modeling Task Relationships in Multi-task Learning with Multi-gate "
    "Mixture-of-Experts, KDD 2018";
const OptionSpec kExperts{"n_experts", "experts", "number of experts", {}, 1, 1024};

}  // namespace

ModelEntry shared_bottom_registration() {
  ModelEntry e = multitask_entry(
      "shared_bottom", kPaper, "Shared-Bottom: one bottom network, a tower per task",
      {kEmbeddingDimOption,
       {"bottom_units",
        "bottom-units",
        "width of the bottom layer (0 = experts x expert units of the MMoE defaults)",
        {},
        0,
        1e6},
       kTowerOption,
       kInitOption});
  set_factories<SharedBottom, MultiTaskConfig>(e);
  return e;
}

// OMoE and MMoE differ only in their gates, so they share their settings.
template <template <class> class Moe>
ModelEntry moe_entry(const std::string& name, const std::string& summary) {
  ModelEntry e = multitask_entry(
      name, kPaper, summary,
      {kEmbeddingDimOption, kExperts, kExpertUnitsOption, kTowerOption, kInitOption});
  set_factories<Moe, MultiTaskConfig>(e);
  return e;
}

ModelEntry omoe_registration() {
  return moe_entry<OneGateMoE>("omoe", "one-gate mixture of experts shared by all tasks");
}

ModelEntry mmoe_registration() {
  return moe_entry<MultiGateMoE>("mmoe", "MMoE: shared experts, one softmax gate per task");
}

template class SharedBottom<float>;
template class SharedBottom<double>;
template class MixtureOfExperts<float>;
template class MixtureOfExperts<double>;

}  // namespace tinyrec::models
