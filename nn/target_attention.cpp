// Multi-head target attention (SIM's Exact Search Unit).
#include "nn/target_attention.hpp"

#include <stdexcept>
#include <string>

namespace tinyrec::nn {

template <class T>
MultiHeadTargetAttention<T>::MultiHeadTargetAttention(size_t query_dim, size_t key_dim,
                                                      size_t heads, size_t head_dim,
                                                      std::mt19937_64& rng)
    : query_dim_(query_dim),
      key_dim_(key_dim),
      heads_(heads),
      head_dim_(head_dim),
      query_(query_dim, heads * head_dim, rng, false),
      key_(key_dim, heads * head_dim, rng, false) {
  if (heads == 0 || head_dim == 0)
    throw std::invalid_argument("MultiHeadTargetAttention: heads and head_dim must be positive");
  this->register_module("query", query_);
  this->register_module("key", key_);
}

template <class T>
Tensor<T> MultiHeadTargetAttention<T>::forward(const Tensor<T>& query, const Tensor<T>& keys,
                                               const Tensor<T>& mask) {
  if (query.dim() != 2 || keys.dim() != 3 || query.shape()[1] != query_dim_ ||
      keys.shape()[0] != query.shape()[0] || keys.shape()[2] != key_dim_)
    throw std::invalid_argument("MultiHeadTargetAttention: query " + shape_str(query.shape()) +
                                " and keys " + shape_str(keys.shape()) + " must be [B, " +
                                std::to_string(query_dim_) + "] and [B, K, " +
                                std::to_string(key_dim_) + "]");
  const size_t B = keys.shape()[0], K = keys.shape()[1], H = heads_, P = head_dim_;
  if (mask.defined() && mask.shape() != Shape{B, K})
    throw std::invalid_argument("MultiHeadTargetAttention: mask " + shape_str(mask.shape()) +
                                " must be [B, K] = " + shape_str(Shape{B, K}));
  // s^h_k = ⟨W_b^h z_k, W_a^h q⟩ = ⟨z_k, u^h⟩ with u^h = W_b^h (W_a^h q): H products of [B, P] by
  // [P, Dk] instead of projecting all K keys, then one batched product with the keys.
  Tensor<T> a = query_.forward(query);  // W_a q, all heads, [B, H·P]
  Tensors<T> u;
  for (size_t h = 0; h < H; ++h)
    u.push_back(reshape(matmul(slice(a, 1, h * P, (h + 1) * P),
                               slice(key_.weight(), 1, h * P, (h + 1) * P), false, true),
                        Shape{B, 1, key_dim_}));
  Tensor<T> s = matmul(keys, H == 1 ? u[0] : concat<T>(u, 1), false, true);  // s^h_k, [B, K, H]
  alpha_ = mask.defined() ? softmax(s, 1, reshape(mask, Shape{B, K, 1})) : softmax(s, 1);
  Tensor<T> heads = matmul(alpha_, keys, true, false);  // Σ_k α^h_k z_k, [B, H, Dk]
  return reshape(heads, Shape{B, H * key_dim_});
}

template class MultiHeadTargetAttention<float>;
template class MultiHeadTargetAttention<double>;

}  // namespace tinyrec::nn
