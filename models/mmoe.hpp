// Modeling Task Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts — Ma, Zhao,
// Yi, Chen, Hong and Chi, KDD 2018 (doi 10.1145/3219819.3220007).
//
// The paper's three models, in its notation (x is the input layer, K tasks, n experts):
//   Shared-Bottom (eq. 1):   y_k = h^k(f(x))
//       one bottom network f shared by every task, a tower h^k per task.
//   One-gate MoE, OMoE (eq. 5, the MoE layer in place of f):
//       y_k = h^k(Σ_{i=1..n} g(x)_i f_i(x)),   g(x) = softmax(W_g x)
//       n expert networks f_i and ONE gate shared by all tasks.
//   MMoE (eqs. 6-8):
//       y_k = h^k(f^k(x)),   f^k(x) = Σ_{i=1..n} g^k(x)_i f_i(x),   g^k(x) = softmax(W_gk x)
//       one gate per task, so each task mixes the shared experts in its own proportions; when the
//       tasks conflict, the gates can give them different experts.
// Sizes (the synthetic-data experiment): n = 8 experts, each one ReLU layer of 16 units; towers
// of one 8-unit ReLU layer; Adam. The paper does not give the Shared-Bottom width; ours defaults to
// the experts' total width, 8·16 = 128 (MultiTaskConfig::bottom_units).
//
// Differences from the paper, and why:
//   - the gates carry a bias: softmax(W_gk x + b_gk). The paper writes none; the bias costs n
//     numbers per gate, common public re-implementations of MMoE have one, and with a zero W_gk a
//     task can still prefer some experts whatever the input.
//   - the initial weights, which the paper does not give: MultiTaskConfig::init.
//   - we know of no code published by the authors, so there is no "authors' variant" to select.
// The gates of the last forward pass are kept for inspection (expert utilisation; the paper
// argues through them).
#pragma once

#include "models/multitask_model.hpp"

namespace tinyrec::models {

template <class T>
class SharedBottom : public MultiTaskModel<T> {
 public:
  explicit SharedBottom(const MultiTaskConfig& config);
  std::vector<Tensor<T>> forward(const data::MultiTaskBatch& batch) override;
  std::string name() const override { return "shared_bottom"; }

 private:
  MultiTaskInput<T> input_;
  nn::Linear<T> bottom_;  // f, followed by ReLU
  std::vector<std::unique_ptr<Tower<T>>> towers_;
};

// OMoE (multi_gate = false) and MMoE (multi_gate = true): the same experts and towers, one gate or
// one per task.
template <class T>
class MixtureOfExperts : public MultiTaskModel<T> {
 public:
  MixtureOfExperts(const MultiTaskConfig& config, bool multi_gate);
  std::vector<Tensor<T>> forward(const data::MultiTaskBatch& batch) override;
  std::string name() const override { return multi_gate_ ? "mmoe" : "omoe"; }
  std::vector<Tensor<T>> gate_weights() const override;
  std::vector<std::string> gate_experts(size_t task) const override;

 private:
  bool multi_gate_;
  MultiTaskInput<T> input_;
  Experts<T> experts_;
  std::vector<std::unique_ptr<Gate<T>>> gates_;  // one (OMoE) or K (MMoE)
  std::vector<std::unique_ptr<Tower<T>>> towers_;
  std::vector<Tensor<T>> g_;  // gates of the last forward, [B, n] each
};

// OMoE and MMoE as types of their own, so each registers like any other model.
template <class T>
class OneGateMoE : public MixtureOfExperts<T> {
 public:
  explicit OneGateMoE(const MultiTaskConfig& config) : MixtureOfExperts<T>(config, false) {}
};
template <class T>
class MultiGateMoE : public MixtureOfExperts<T> {
 public:
  explicit MultiGateMoE(const MultiTaskConfig& config) : MixtureOfExperts<T>(config, true) {}
};

ModelEntry shared_bottom_registration();
ModelEntry omoe_registration();
ModelEntry mmoe_registration();

}  // namespace tinyrec::models
