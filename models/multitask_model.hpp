// What the multi-task family (Shared-Bottom, OMoE, MMoE, PLE, ESMM) shares: the configuration with
// the papers' defaults, the input layer (numeric features ⊕ embeddings of categorical columns), the
// expert and gate layers of the mixture models, the model interface, and the factory.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/tensor.hpp"
#include "data/multitask_dataset.hpp"
#include "models/model.hpp"
#include "models/registry.hpp"
#include "nn/layers.hpp"
#include "nn/module.hpp"

namespace tinyrec::data {
NLOHMANN_JSON_SERIALIZE_ENUM(TaskKind,
                             {{TaskKind::regression, "regression"}, {TaskKind::binary, "binary"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TaskInfo, name, kind)
}  // namespace tinyrec::data

namespace tinyrec::models {

// Sizes of every model of the family; a model reads the fields it needs. Defaults are the MMoE
// paper's synthetic-data setup (8 experts of one 16-unit ReLU layer, towers of 8 units) and,
// where that paper is silent, the ESMM paper's (18-wide embeddings, 200-80 towers).
struct MultiTaskConfig {
  // The tasks, in the order of the label columns; binary tasks output logits, regression values.
  std::vector<data::TaskInfo> tasks = {{"task1", data::TaskKind::regression},
                                       {"task2", data::TaskKind::regression}};
  size_t n_numeric = 100;                // the synthetic data's d
  std::vector<int64_t> cat_vocab_sizes;  // per categorical column, counting id 0 (unknown)
  size_t embedding_dim = 18;             // per categorical column (ESMM paper: 18 per field)

  size_t n_experts = 8, expert_units = 16;  // OMoE, MMoE
  std::vector<size_t> tower = {8};          // hidden units of each task's tower, then one output
  // Shared-Bottom's single hidden layer; 0 = n_experts · expert_units, the experts' total width,
  // so the bottom has the same weights as the experts (the gates are what MMoE adds).
  size_t bottom_units = 0;

  // PLE: per extraction level, ple_specific experts per task and ple_shared shared experts, each
  // of expert_units; levels ≥ 1 (1 is CGC alone). 2 + 2 + 4 keeps MMoE's 8 experts for two tasks.
  size_t ple_specific = 2, ple_shared = 4, ple_levels = 2;

  std::vector<size_t> esmm_tower = {200, 80};  // ESMM paper: 360-200-80-2 MLPs per task

  // Initial weights (nn/init_scheme.hpp), which none of the papers gives. The default,
  // "torch-0.01": PyTorch's nn.Linear rule U(±1/√fan_in) for weights and biases — the one of the
  // PyTorch reference runs in tutorials/06_multitask.md — with small N(0, 0.01²) embeddings for
  // the categorical columns; "torch" is PyTorch's defaults exactly (N(0, 1) embeddings).
  // "glorot": Glorot-uniform weights (each expert's own fans) and zero biases, TensorFlow's Dense
  // default. The choice matters for the gated models: see tutorials/06_multitask.md.
  std::string init = "torch-0.01";
  uint64_t seed = 1;  // initial weights

  size_t input_width() const { return n_numeric + cat_vocab_sizes.size() * embedding_dim; }
  size_t bottom_width() const { return bottom_units ? bottom_units : n_experts * expert_units; }
};

// Re-draws a Linear layer's weight [in, out] and bias by `scheme` (nn::init::linear_; an unknown
// name throws naming the accepted ones). For "glorot", fan_out overrides the layer's output width
// (the experts' fused layer uses one expert's width).
template <class T>
void init_linear(nn::Linear<T>& layer, const std::string& scheme, std::mt19937_64& rng,
                 size_t fan_out = 0);

// The shared input layer: x ⊕ E_1(c_1) ⊕ ... ⊕ E_m(c_m), numeric features first. Each categorical
// column has its own table ("embeddings.0.weight", ...); id 0 (unknown or missing) looks up zeros.
template <class T>
class MultiTaskInput : public nn::Module<T> {
 public:
  MultiTaskInput(const MultiTaskConfig& config, std::mt19937_64& rng);
  Tensor<T> forward(const data::MultiTaskBatch& batch);  // [B, width()]
  size_t width() const { return n_numeric_ + tables_.size() * dim_; }

 private:
  size_t n_numeric_, dim_;
  std::vector<std::unique_ptr<nn::Embedding<T>>> tables_;
};

// n experts, each one fully connected ReLU layer f_i(x) = ReLU(x·W_i + b_i) of `units` outputs,
// computed as one product: "weight" is [in, n·units], expert i owning columns i·units ..
// (i + 1)·units − 1. The result is [B, n, units].
template <class T>
class Experts : public nn::Module<T> {
 public:
  Experts(size_t in, size_t n, size_t units, const std::string& init, std::mt19937_64& rng);
  Tensor<T> forward(const Tensor<T>& x);  // [B, in] -> [B, n, units]
  size_t count() const { return n_; }
  size_t units() const { return units_; }

 private:
  size_t in_, n_, units_;
  nn::Linear<T> linear_;
};

// A softmax gate over n experts: g(x) = softmax(x·W_g + b_g), [B, in] -> [B, n]. The MMoE paper
// writes softmax(W_g x) without a bias; the bias costs n numbers and common public
// re-implementations have one (see models/mmoe.hpp).
template <class T>
class Gate : public nn::Module<T> {
 public:
  Gate(size_t in, size_t n, const std::string& init, std::mt19937_64& rng);
  Tensor<T> forward(const Tensor<T>& x);

 private:
  nn::Linear<T> linear_;
};

// Σ_i g[:, i]·f[:, i, :]: the gate-weighted sum of the experts' outputs, [B, n] and [B, n, U] ->
// [B, U].
template <class T>
Tensor<T> mix_experts(const Tensor<T>& gate, const Tensor<T>& experts);

// Tower h_k: hidden ReLU layers of `hidden` units, then one linear output. [B, in] -> [B].
template <class T>
class Tower : public nn::Module<T> {
 public:
  Tower(size_t in, const std::vector<size_t>& hidden, const std::string& init,
        std::mt19937_64& rng);
  Tensor<T> forward(const Tensor<T>& x);

 private:
  nn::MLP<T> mlp_;
};

template <class T>
class MultiTaskModel : public Model<T> {
 public:
  // One output per task, each [B]: a logit for a binary task, the value for a regression task.
  virtual std::vector<Tensor<T>> forward(const data::MultiTaskBatch& batch) = 0;
  const std::vector<data::TaskInfo>& tasks() const { return config_.tasks; }
  size_t num_tasks() const { return config_.tasks.size(); }
  const MultiTaskConfig& config() const { return config_; }

  // The gates of the last forward pass, one [B, n_k] per task whose rows sum to one; empty for a
  // model without gates (Shared-Bottom, ESMM). OMoE's single gate is returned for every task.
  virtual std::vector<Tensor<T>> gate_weights() const { return {}; }
  // The experts task k's gate weighs, in the order of its columns ("expert0", "shared1", ...).
  virtual std::vector<std::string> gate_experts(size_t /*task*/) const { return {}; }

 protected:
  explicit MultiTaskModel(const MultiTaskConfig& config);
  MultiTaskConfig config_;
  std::mt19937_64 rng_;  // draws the initial weights, in construction order
};

// One JSON codec for every field; the registry picks each model's own settings from it, and the
// multi-task task supplies the data's fields (tasks, n_numeric, cat_vocab_sizes).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MultiTaskConfig, tasks, n_numeric, cat_vocab_sizes,
                                                embedding_dim, n_experts, expert_units, tower,
                                                bottom_units, ple_specific, ple_shared, ple_levels,
                                                esmm_tower, init, seed)

// Settings of the family, shared by the models' registrations.
extern const OptionSpec kEmbeddingDimOption, kExpertUnitsOption, kTowerOption, kInitOption;
// A registration of the family: paper, task and defaults filled in.
ModelEntry multitask_entry(const std::string& name, const std::string& paper,
                           const std::string& summary, Options options);

}  // namespace tinyrec::models
