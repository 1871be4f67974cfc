// The nn layer set: Linear, Embedding, the activations (ReLU, Sigmoid, PReLU, Dice), BatchNorm1d,
// Dropout, the MLP builder and DIN's local activation unit. Every forward is built only from
// autograd ops, so every layer differentiates to any order; hyperparameters are doubles and
// parameters are T (float to train, double for gradient checks).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "autograd/ops.hpp"
#include "nn/module.hpp"

namespace tinyrec::nn {

// A module with one tensor in and one tensor out: what an MLP stacks.
template <class T>
class Layer : public Module<T> {
 public:
  virtual Tensor<T> forward(const Tensor<T>& x) = 0;
};

// ---- Linear (nn/linear.cpp) ----

// y = x·W + b with W of shape [in, out], so no transpose is needed; x is [..., in] (e.g. [B, in]
// or [B, L, in]). W starts Glorot-uniform and b at zero, as in the TensorFlow dense layers of
// the DIN and DIEN code.
template <class T>
class Linear : public Layer<T> {
 public:
  Linear(size_t in, size_t out, std::mt19937_64& rng, bool bias = true);
  Tensor<T> forward(const Tensor<T>& x) override;
  const Tensor<T>& weight() const { return weight_; }  // [in, out]
  const Tensor<T>& bias() const { return bias_; }      // [out]; undefined without bias
  size_t in_features() const { return in_; }
  size_t out_features() const { return out_; }

 private:
  size_t in_, out_;
  Tensor<T> weight_, bias_;
};

// ---- Embedding (nn/embedding.cpp) ----

// A lookup table [num, dim]. Ids equal to padding_idx (0 by default; −1 for none) look up zeros
// and send no gradient, so padded positions contribute nothing; that row also starts at zero.
// Other rows start N(0, init_std²).
template <class T>
class Embedding : public Module<T> {
 public:
  Embedding(size_t num, size_t dim, std::mt19937_64& rng, int64_t padding_idx = 0,
            double init_std = 0.01);
  Tensor<T> forward(const Ids& ids);  // ids of any shape -> ids.shape + [dim]
  const Tensor<T>& weight() const { return weight_; }
  size_t num_embeddings() const { return num_; }
  size_t embedding_dim() const { return dim_; }
  int64_t padding_idx() const { return padding_idx_; }

 private:
  size_t num_, dim_;
  int64_t padding_idx_;
  Tensor<T> weight_;
};

// ---- batch statistics (nn/batchnorm.cpp), shared by BatchNorm1d and Dice ----

// (x − E[x]) / √(Var[x] + eps) per feature (the last axis), over every other axis. In training,
// E and Var are the batch mean and biased variance, built from autograd ops so the gradient flows
// through them, and the running estimates are moved toward them:
//   running_mean ← (1 − momentum)·running_mean + momentum·mean,
//   running_var  ← (1 − momentum)·running_var + momentum·var·N/(N − 1)   (unbiased, as PyTorch).
// In evaluation the running estimates are used as constants. `who` names the layer in errors.
template <class T>
Tensor<T> normalize_features(const Tensor<T>& x, Tensor<T>& running_mean, Tensor<T>& running_var,
                             bool training, double momentum, double eps, const char* who);

// ---- activations as modules (nn/activation.cpp) ----

enum class Activation { none, relu, sigmoid, prelu, dice };
// "none", "relu", "sigmoid", "prelu" or "dice"; anything else throws, listing those.
Activation parse_activation(const std::string& name);
std::string activation_name(Activation a);

template <class T>
class ReLU : public Layer<T> {
 public:
  Tensor<T> forward(const Tensor<T>& x) override { return relu(x); }
};

template <class T>
class Sigmoid : public Layer<T> {
 public:
  Tensor<T> forward(const Tensor<T>& x) override { return sigmoid(x); }
};

// f(x) = x for x > 0, α·x otherwise, with one learned α per feature (last axis). PyTorch starts
// α at 0.25; the DIN code starts it at 0.
template <class T>
class PReLU : public Layer<T> {
 public:
  explicit PReLU(size_t features, double alpha_init = 0.25);
  Tensor<T> forward(const Tensor<T>& x) override;  // x: [..., features]
  const Tensor<T>& alpha() const { return alpha_; }

 private:
  size_t features_;
  Tensor<T> alpha_;
};

// DIN's Dice: f(s) = p(s)·s + (1 − p(s))·α·s with p(s) = σ((s − E[s]) / √(Var[s] + eps)),
// statistics per feature over every axis but the last (mini-batch ones in training, with
// gradient; running ones in evaluation, see normalize_features). momentum is PyTorch's convention
// (weight of the new batch): the default 0.01 is the TensorFlow decay 0.99 of the DIN code, whose
// α also starts at 0. Buffers: "running_mean" (starts 0), "running_var" (starts 1).
template <class T>
class Dice : public Layer<T> {
 public:
  explicit Dice(size_t features, double eps = 1e-8, double momentum = 0.01,
                double alpha_init = 0.0);
  Tensor<T> forward(const Tensor<T>& x) override;  // x: [..., features], training needs N >= 2
  const Tensor<T>& alpha() const { return alpha_; }
  const Tensor<T>& running_mean() const { return running_mean_; }
  const Tensor<T>& running_var() const { return running_var_; }

 private:
  size_t features_;
  double eps_, momentum_;
  Tensor<T> alpha_, running_mean_, running_var_;
};

// The activation module for `a` on `features` units; nullptr for Activation::none.
template <class T>
std::unique_ptr<Layer<T>> make_activation(Activation a, size_t features);

// ---- BatchNorm1d (nn/batchnorm.cpp) ----

// y = γ·(x − E[x]) / √(Var[x] + eps) + β per feature, features on the LAST axis ([B, H] or
// [B, L, H]; PyTorch's BatchNorm1d puts them on axis 1 instead). Statistics as in
// normalize_features. Parameters "weight" (γ, starts 1) and "bias" (β, starts 0); buffers
// "running_mean" and "running_var".
template <class T>
class BatchNorm1d : public Layer<T> {
 public:
  explicit BatchNorm1d(size_t features, double eps = 1e-5, double momentum = 0.1);
  Tensor<T> forward(const Tensor<T>& x) override;
  const Tensor<T>& weight() const { return weight_; }
  const Tensor<T>& bias() const { return bias_; }
  const Tensor<T>& running_mean() const { return running_mean_; }
  const Tensor<T>& running_var() const { return running_var_; }

 private:
  size_t features_;
  double eps_, momentum_;
  Tensor<T> weight_, bias_, running_mean_, running_var_;
};

// ---- Dropout (nn/dropout.cpp) ----

// Inverted dropout: in training each element is zeroed with probability p and the survivors are
// scaled by 1/(1 − p); in evaluation it is the identity. The mask comes from the module's own
// generator, so a fixed seed gives a fixed sequence of masks.
template <class T>
class Dropout : public Layer<T> {
 public:
  explicit Dropout(double p, uint64_t seed = 0);
  Tensor<T> forward(const Tensor<T>& x) override;
  void seed(uint64_t s) { rng_.seed(s); }
  double p() const { return p_; }

 private:
  double p_;
  std::mt19937_64 rng_;
};

// ---- MLP (nn/mlp.cpp) ----

// A stack of blocks Linear(sizes[i]) → [BatchNorm1d] → activation → [Dropout], one per entry of
// `sizes`, registered in order as "layers.0", "layers.1", ... (as nn.Sequential numbers them).
// With activate_last = false the last block is the Linear alone: an output layer, as in
// MLP(in, {200, 80, 1}, rng, Activation::dice, 0, false, false): DIN's 200-80 MLP ending in a
// logit.
template <class T>
class MLP : public Layer<T> {
 public:
  MLP(size_t in, const std::vector<size_t>& sizes, std::mt19937_64& rng,
      Activation activation = Activation::relu, double dropout = 0.0, bool batchnorm = false,
      bool activate_last = true);
  Tensor<T> forward(const Tensor<T>& x) override;  // [..., in] -> [..., sizes.back()]
  size_t in_features() const { return in_; }
  size_t out_features() const { return out_; }
  size_t size() const { return layers_.size(); }
  Layer<T>& operator[](size_t i) { return *layers_.at(i); }

 private:
  size_t in_, out_;
  std::vector<std::unique_ptr<Layer<T>>> layers_;
};

// ---- DIN's local activation unit (nn/attention.cpp) ----

// a(e_j, v_A): the MLP of DIN (Zhou et al. 2018, Fig. 2) on [v_A, e_j, v_A − e_j, v_A ⊙ e_j],
// hidden sizes `hidden`, then a Linear to one score per behaviour. The paper keeps the raw scores
// (no softmax, so the weights keep the intensity of the interest); padded positions get exactly 0.
// With use_softmax, the authors' demo code instead: scores divided by √D, then a softmax over L
// restricted to the unmasked positions (a fully padded row gives all zeros).
// Its MLP is registered as "mlp" ("mlp.layers.0.weight", ...): the weight of its first layer is
// one [4D, H] matrix, as if it read the concatenated input, but forward() never builds that input
// (see score_mlp in nn/attention.cpp); mlp() on the concatenation is the same function, the
// readable reference. With Dice as the activation,
// its training statistics are taken over all B·L positions, padded ones included: padded
// weights are still exactly 0, but padding shifts the statistics the real positions see.
template <class T>
class LocalActivationUnit : public Module<T> {
 public:
  LocalActivationUnit(size_t dim, std::mt19937_64& rng,
                      const std::vector<size_t>& hidden = {80, 40},
                      Activation activation = Activation::sigmoid, bool use_softmax = false);
  // query v_A [B, D], keys e_j [B, L, D], mask [B, L] of 0/1 (1 = real behaviour; undefined =
  // all real) -> weights [B, L].
  Tensor<T> forward(const Tensor<T>& query, const Tensor<T>& keys, const Tensor<T>& mask = {});
  bool use_softmax() const { return use_softmax_; }
  // The MLP on [v_A, e_j, v_A − e_j, v_A ⊙ e_j] [..., 4D] -> the raw scores [..., 1].
  MLP<T>& mlp() { return mlp_; }

 private:
  // The raw scores [B, L, 1] by the split first layer.
  Tensor<T> score_mlp(const Tensor<T>& query, const Tensor<T>& keys);
  size_t dim_;
  bool use_softmax_;
  MLP<T> mlp_;
};

// Σ_j weights[b, j]·values[b, j, :]: weights [B, L], values [B, L, D] -> [B, D].
template <class T>
Tensor<T> weighted_sum(const Tensor<T>& weights, const Tensor<T>& values);

}  // namespace tinyrec::nn
