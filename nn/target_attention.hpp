// Multi-head target attention: a query (the candidate) attends over a small set of keys (the
// behaviours a search retrieved), each head with its own bilinear score, and every head pools the
// keys themselves (no value projection). SIM's Exact Search Unit (models/sim.hpp) is one.
#pragma once

#include <random>

#include "nn/layers.hpp"

namespace tinyrec::nn {

// For head h = 1..H, with W_a^h [Dq, P] and W_b^h [Dk, P] (one Linear each for all heads, without
// bias, Glorot-uniform):
//   s^h_k = ⟨W_b^h z_k, W_a^h q⟩,   α^h = softmax_k(s^h) over the unmasked keys,
//   head_h = Σ_k α^h_k z_k,          out = [head_1, ..., head_H]          [B, H·Dk]
// A row whose keys are all masked gives zeros. Parameters "query.weight" (W_a, [Dq, H·P]) and
// "key.weight" (W_b, [Dk, H·P]); head h owns columns h·P .. h·P + P − 1 of both.
template <class T>
class MultiHeadTargetAttention : public Module<T> {
 public:
  MultiHeadTargetAttention(size_t query_dim, size_t key_dim, size_t heads, size_t head_dim,
                           std::mt19937_64& rng);
  // query [B, Dq], keys [B, K, Dk], mask [B, K] of 0/1 (undefined = all real) -> [B, H·Dk].
  Tensor<T> forward(const Tensor<T>& query, const Tensor<T>& keys, const Tensor<T>& mask = {});
  // α of the last forward pass, [B, K, H].
  const Tensor<T>& attention() const { return alpha_; }
  size_t out_features() const { return heads_ * key_dim_; }

 private:
  size_t query_dim_, key_dim_, heads_, head_dim_;
  Linear<T> query_, key_;
  Tensor<T> alpha_;
};

}  // namespace tinyrec::nn
