// STAMP: Short-Term Attention/Memory Priority Model for Session-based Recommendation — Liu, Zeng,
// Mokhosi and Zhang, KDD 2018 (doi 10.1145/3219819.3219950).
//
// A session prefix x_1..x_t (item embeddings, edim 100 in the paper) is read three ways:
//   m_s = (1/t) Σ_i x_i                        the general interest (external memory, eq. 2)
//   m_t = x_t                                  the current interest: the last click
//   α_i = w_0ᵀ σ(W_1 x_i + W_2 x_t + W_3 m_s + b_a)          attention net (eq. 7), no softmax
//   m_a = Σ_i α_i x_i                          the attended memory (eq. 8)
// Two one-layer MLP cells (eq. 9, 10):
//   h_s = tanh(W_s m_a + b_s),  h_t = tanh(W_t m_t + b_t)
// and the trilinear score of every item i (eq. 11):
//   ẑ_i = ⟨h_s, h_t ⊙ x_i⟩ = ⟨h_s ⊙ h_t, x_i⟩
// so the query h_s ⊙ h_t meets every item embedding in one matrix product.
// STMP (§3.2), the paper's own baseline, drops the attention: m_s takes the place of m_a.
//
// Where the paper and the authors' code differ, and what tinyrec does:
//   - the paper puts σ on ẑ and trains with cross-entropy on it (eq. 12, 13); the code trains the
//     plain trilinear scores with softmax cross-entropy over the whole item set. tinyrec trains
//     the code's objective (the next-item task's loss); the ranking is the same either way;
//   - the code feeds m_a + m_s to the MLP cell instead of m_a: --add-ms.
// Linear layers store W as [in, out] (y = x·W + b), so W_s m_a is written m_a·W_s.
#pragma once

#include <random>

#include "models/registry.hpp"
#include "models/session_model.hpp"
#include "nn/layers.hpp"

namespace tinyrec::models {

// The attention net of eq. 7: one weight α_i per click, unnormalised.
template <class T>
class StampAttention : public nn::Module<T> {
 public:
  StampAttention(size_t edim, std::mt19937_64& rng);
  // x [B, L, D] (padded rows zero), x_t and m_s [B, D], mask [B, L] (1 = a click) -> α [B, L],
  // 0 at padding.
  Tensor<T> forward(const Tensor<T>& x, const Tensor<T>& x_t, const Tensor<T>& m_s,
                    const Tensor<T>& mask);

 private:
  nn::Linear<T> w1_, w2_, w3_, w0_;
  Tensor<T> b_a_;
};

template <class T>
class STAMP : public SessionModel<T> {
 public:
  explicit STAMP(const StampConfig& config) : STAMP(config, true) {}
  Tensor<T> query(const data::SessionBatch& batch) override;
  Tensor<T> item_embeddings() const override { return items_.weight(); }
  std::string name() const override { return attention_ ? "stamp" : "stmp"; }

  // The pieces of the last forward pass, for the tutorial and tests.
  struct Parts {
    Tensor<T> x, m_s, m_t, alpha, m_a, h_s, h_t;
  };
  const Parts& parts() const { return parts_; }

 protected:
  STAMP(const StampConfig& config, bool attention);

 private:
  StampConfig config_;
  bool attention_;
  std::mt19937_64 rng_;
  nn::Embedding<T> items_;
  std::unique_ptr<StampAttention<T>> attention_net_;
  nn::Linear<T> mlp_s_, mlp_t_;  // (W_s, b_s) and (W_t, b_t)
  Parts parts_;
};

// STMP: STAMP with m_s in place of m_a.
template <class T>
class STMP : public STAMP<T> {
 public:
  explicit STMP(const StampConfig& config) : STAMP<T>(config, false) {}
};

ModelEntry stamp_registration();
ModelEntry stmp_registration();

}  // namespace tinyrec::models
