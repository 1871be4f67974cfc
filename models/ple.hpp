// Progressive Layered Extraction (PLE): A Novel Multi-Task Learning (MTL) Model for Personalized
// Recommendations — Tang, Liu, Zhao and Gong, RecSys 2020 (doi 10.1145/3383313.3412236).
//
// MMoE lets every task mix every expert, so the experts are pulled by all the tasks' gradients at
// once (the paper's "seesaw": one task gains as another loses). PLE separates the experts: each
// task has experts of its own and shares others.
//   Customized Gate Control, CGC, for task k with m_k own experts E_(k,·) and m_s shared
//   experts E_(s,·) (the paper's equations, in its order):
//       g^k(x) = w^k(x) S^k(x)                                 the gate's output
//       w^k(x) = softmax(W_g^k x)                              the gate's weights
//       S^k(x) = [E_(k,1), ..., E_(k,m_k), E_(s,1), ..., E_(s,m_s)]
//       y^k(x) = t^k(g^k(x))                                   the tower
//   Extraction levels: CGC stacked; level j's gate for task k reads the previous level's
//   output for that task, and its experts read it too:
//       g^{k,j}(x) = w^{k,j}(g^{k,j−1}(x)) S^{k,j}(x)
//   with g^{k,0} = x. Below the last level a shared gate g^{s,j} mixes ALL experts of the level
//   (every task's and the shared ones) from g^{s,j−1}, and feeds the next level's shared experts.
// Each expert is one ReLU layer of expert_units; towers as in MMoE. The paper leaves the expert
// counts to the application; the defaults (2 own experts per task, 4 shared, 2 levels) keep the
// MMoE setup's budget of 8 experts per level for two tasks. ple_levels = 1 is CGC alone.
// The gates carry a bias, as MMoE's here (see mmoe.hpp).
#pragma once

#include "models/multitask_model.hpp"

namespace tinyrec::models {

// One extraction level. Registered names: "experts.K" (task K's own experts), "shared_experts",
// "gates.K", "shared_gate" (below the last level only).
template <class T>
class ExtractionLevel : public nn::Module<T> {
 public:
  ExtractionLevel(size_t in, size_t n_tasks, size_t specific, size_t shared, size_t units,
                  bool shared_gate, const std::string& init, std::mt19937_64& rng);
  // Inputs g^{k,j−1} per task and g^{s,j−1}, each [B, in]; outputs g^{k,j} per task, then g^{s,j}
  // when this level has a shared gate, each [B, units].
  std::vector<Tensor<T>> forward(const std::vector<Tensor<T>>& task_in, const Tensor<T>& shared_in);
  // w^{k,j} of the last forward, [B, specific + shared] per task.
  const std::vector<Tensor<T>>& task_gates() const { return w_; }

 private:
  std::vector<std::unique_ptr<Experts<T>>> task_experts_;
  Experts<T> shared_experts_;
  std::vector<std::unique_ptr<Gate<T>>> task_gates_;
  std::unique_ptr<Gate<T>> shared_gate_;
  std::vector<Tensor<T>> w_;
};

template <class T>
class PLE : public MultiTaskModel<T> {
 public:
  explicit PLE(const MultiTaskConfig& config);
  std::vector<Tensor<T>> forward(const data::MultiTaskBatch& batch) override;
  std::string name() const override { return "ple"; }
  // The last level's gates, which feed the towers.
  std::vector<Tensor<T>> gate_weights() const override;
  std::vector<std::string> gate_experts(size_t task) const override;
  // Every level's task gates, [level][task] -> [B, specific + shared].
  std::vector<std::vector<Tensor<T>>> level_gate_weights() const;

 private:
  MultiTaskInput<T> input_;
  std::vector<std::unique_ptr<ExtractionLevel<T>>> levels_;
  std::vector<std::unique_ptr<Tower<T>>> towers_;
};

ModelEntry ple_registration();

}  // namespace tinyrec::models
