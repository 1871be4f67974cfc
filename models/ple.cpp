// PLE's extraction levels and model; see ple.hpp for the paper's equations.
#include "models/ple.hpp"

#include <stdexcept>

#include "autograd/ops.hpp"

namespace tinyrec::models {

template <class T>
ExtractionLevel<T>::ExtractionLevel(size_t in, size_t n_tasks, size_t specific, size_t shared,
                                    size_t units, bool shared_gate, const std::string& init,
                                    std::mt19937_64& rng)
    : shared_experts_(in, shared, units, init, rng) {
  for (size_t k = 0; k < n_tasks; ++k) {
    task_experts_.push_back(std::make_unique<Experts<T>>(in, specific, units, init, rng));
    this->register_module("experts." + std::to_string(k), *task_experts_.back());
  }
  this->register_module("shared_experts", shared_experts_);
  for (size_t k = 0; k < n_tasks; ++k) {
    task_gates_.push_back(std::make_unique<Gate<T>>(in, specific + shared, init, rng));
    this->register_module("gates." + std::to_string(k), *task_gates_.back());
  }
  if (shared_gate) {
    shared_gate_ = std::make_unique<Gate<T>>(in, n_tasks * specific + shared, init, rng);
    this->register_module("shared_gate", *shared_gate_);
  }
}

template <class T>
std::vector<Tensor<T>> ExtractionLevel<T>::forward(const std::vector<Tensor<T>>& task_in,
                                                   const Tensor<T>& shared_in) {
  const size_t n_tasks = task_experts_.size();
  Tensor<T> E_s = shared_experts_.forward(shared_in);  // [B, m_s, U]
  Tensors<T> all;                                      // every expert, for the shared gate
  std::vector<Tensor<T>> out;
  w_.clear();
  for (size_t k = 0; k < n_tasks; ++k) {
    Tensor<T> E_k = task_experts_[k]->forward(task_in[k]);  // [B, m_k, U]
    Tensor<T> S_k = concat<T>({E_k, E_s}, 1);               // S^k, [B, m_k + m_s, U]
    w_.push_back(task_gates_[k]->forward(task_in[k]));      // w^k, [B, m_k + m_s]
    out.push_back(mix_experts(w_.back(), S_k));             // g^k = w^k S^k, [B, U]
    if (shared_gate_) all.push_back(E_k);
  }
  if (shared_gate_) {
    all.push_back(E_s);
    Tensor<T> S_s = concat(all, 1);  // [B, K·m_k + m_s, U]
    out.push_back(mix_experts(shared_gate_->forward(shared_in), S_s));
  }
  return out;
}

template <class T>
PLE<T>::PLE(const MultiTaskConfig& c) : MultiTaskModel<T>(c), input_(c, this->rng_) {
  if (c.ple_levels == 0) throw std::invalid_argument("PLE: needs at least one extraction level");
  if (c.ple_specific == 0 || c.ple_shared == 0)
    throw std::invalid_argument(
        "PLE: needs at least one task-specific and one shared expert, got " +
        std::to_string(c.ple_specific) + " and " + std::to_string(c.ple_shared));
  this->register_module("input", input_);
  size_t in = input_.width();
  for (size_t j = 0; j < c.ple_levels; ++j) {
    const bool last = j + 1 == c.ple_levels;
    levels_.push_back(std::make_unique<ExtractionLevel<T>>(in, c.tasks.size(), c.ple_specific,
                                                           c.ple_shared, c.expert_units, !last,
                                                           c.init, this->rng_));
    this->register_module("levels." + std::to_string(j), *levels_.back());
    in = c.expert_units;
  }
  for (size_t k = 0; k < c.tasks.size(); ++k) {
    towers_.push_back(std::make_unique<Tower<T>>(c.expert_units, c.tower, c.init, this->rng_));
    this->register_module("towers." + std::to_string(k), *towers_.back());
  }
}

template <class T>
std::vector<Tensor<T>> PLE<T>::forward(const data::MultiTaskBatch& b) {
  const size_t n_tasks = towers_.size();
  Tensor<T> x = input_.forward(b);
  std::vector<Tensor<T>> g(n_tasks, x);  // g^{k,0} = x
  Tensor<T> g_s = x;                     // g^{s,0} = x
  for (auto& level : levels_) {
    std::vector<Tensor<T>> next = level->forward(g, g_s);
    if (next.size() > n_tasks) g_s = next.back();
    next.resize(n_tasks);
    g = std::move(next);
  }
  std::vector<Tensor<T>> y;
  for (size_t k = 0; k < n_tasks; ++k) y.push_back(towers_[k]->forward(g[k]));  // y^k = t^k(g^k)
  return y;
}

template <class T>
std::vector<Tensor<T>> PLE<T>::gate_weights() const {
  return levels_.back()->task_gates();
}

template <class T>
std::vector<std::vector<Tensor<T>>> PLE<T>::level_gate_weights() const {
  std::vector<std::vector<Tensor<T>>> out;
  for (const auto& level : levels_) out.push_back(level->task_gates());
  return out;
}

template <class T>
std::vector<std::string> PLE<T>::gate_experts(size_t task) const {
  const auto& c = this->config_;
  std::vector<std::string> names;
  for (size_t i = 0; i < c.ple_specific; ++i)
    names.push_back(c.tasks.at(task).name + "_" + std::to_string(i));
  for (size_t i = 0; i < c.ple_shared; ++i) names.push_back("shared_" + std::to_string(i));
  return names;
}

ModelEntry ple_registration() {
  ModelEntry e = multitask_entry(
      "ple", "Tang et al., Progressive Layered Extraction (PLE), RecSys 2020",
      "PLE: task-specific and shared experts, gated level by level",
      {kEmbeddingDimOption,
       {"ple_specific", "ple-specific", "task-specific experts per task and level", {}, 1, 1024},
       {"ple_shared", "ple-shared", "shared experts per level", {}, 1, 1024},
       {"ple_levels", "ple-levels", "extraction levels (1 = CGC)", {}, 1, 64},
       kExpertUnitsOption,
       kTowerOption,
       kInitOption});
  set_factories<PLE, MultiTaskConfig>(e);
  return e;
}

template class ExtractionLevel<float>;
template class ExtractionLevel<double>;
template class PLE<float>;
template class PLE<double>;

}  // namespace tinyrec::models
