// Deep Interest Evolution Network for Click-Through Rate Prediction — Zhou, Mou, Fan, Pi, Bian,
// Zhou, Zhu and Gai, AAAI 2019 (arXiv 1809.03672).
//
// DIN weighs a user's behaviours by their relevance to the candidate but treats them as a bag:
// it cannot see where the user's interest is heading. DIEN reads the history in order.
//
//   Behaviour layer: e_t = [E_item(i_t), E_cat(c_t)], e_a likewise for the target ad (as DIN).
//   Interest extractor layer: a GRU over e_1..e_T gives the interest states h_t (nn::GRU, eqs.
//     (1)-(4)). Its
//     auxiliary loss asks h_t to tell the next behaviour e_{t+1} from a negative sample ê_{t+1},
//     an item the user did not click drawn from the item pool:
//       L_aux = −1/N Σ_i Σ_t [log σ(⟨h_t, e_{t+1}⟩) + log(1 − σ(⟨h_t, ê_{t+1}⟩))]     (5)
//       L = L_target + α·L_aux                                 (6), α = aux_weight
//   Interest evolving layer: attention of the target ad over the interest states,
//       a_t = exp(h_t W e_a) / Σ_j exp(h_j W e_a)                  (7), nn::BilinearAttention
//     and a GRU with an attentional update gate (AUGRU) over h_1..h_T whose final state h'(T) is
//     the evolved interest: ũ'_t = a_t·u'_t, h'_t = (1 − ũ'_t) ⊙ h'_{t−1} + ũ'_t ⊙ h̃'_t
//     (10)-(11), nn::AttentionGRU; AIGRU (8) and AGRU (9) of the paper's ablation by `evolving`.
//   Output: p = σ(MLP([e_a, h'(T)])), the DIN paper's MLP 200-80 with PReLU or Dice.
//
// Where the authors' public code differs, and the option that selects it:
//   - auxiliary loss: a small network (100-50, sigmoid, then a logit) on [h_t, e_{t+1}] instead
//     of the inner product                                                → aux_loss = "mlp"
//   - attention: DIN's local activation unit with a masked softmax instead of the bilinear form
//                                                                    → interest_attention = "din"
//   - AUGRU's orientation: their VecAttGRUCell keeps TensorFlow's update-gate orientation, so
//     a_t = 0 is a full GRU step there, not a kept state             → evolving = "augru_vecatt"
//   - the GRU cell applies the reset gate before U_h (TensorFlow's GRUCell), also here (nn/gru.hpp)
//   - their MLP input also holds the summed history and e_a ⊙ Σ e; the paper's figure has
//     [e_a, h'(T)] (plus profile and context features, absent from the public data), as here.
// Sizes: embeddings 18 + 18, GRU hidden 36, MLP 200-80 (the authors' Amazon setup).
#pragma once

#include "models/din.hpp"
#include "nn/gru.hpp"

namespace tinyrec::models {

template <class T>
class DIEN : public CtrModel<T> {
 public:
  explicit DIEN(const CtrConfig& config);
  Tensor<T> forward(const data::CtrBatch& batch) override;
  // L_aux on the batch of the last forward(); undefined when aux_weight is 0.
  Tensor<T> auxiliary_loss(const data::CtrBatch& batch) override;
  double auxiliary_weight() const override { return config_.aux_weight; }
  bool uses_negatives() const override { return config_.aux_weight > 0; }
  std::vector<EmbeddingUse<T>> embedding_uses(const data::CtrBatch& b) const override {
    return embed_.uses(b, config_);
  }
  std::string name() const override { return "dien"; }
  // The attention scores a_t of the last forward pass, [B, L].
  const Tensor<T>& attention_scores() const { return a_; }

 private:
  CtrConfig config_;
  std::mt19937_64 rng_;
  GoodsEmbedding<T> embed_;
  nn::GRU<T> extractor_;
  std::unique_ptr<nn::BilinearAttention<T>> bilinear_;
  std::unique_ptr<nn::LocalActivationUnit<T>> din_unit_;
  nn::AttentionGRU<T> evolving_;
  std::unique_ptr<nn::MLP<T>> aux_net_;
  nn::MLP<T> mlp_;
  Tensor<T> e_, h_, a_, mask_;  // of the last forward pass
};

ModelEntry dien_registration();

}  // namespace tinyrec::models
