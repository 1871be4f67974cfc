// Search-based User Interest Modeling with Lifelong Sequential Behavior Data for Click-Through Rate
// Prediction — Pi, Zhou, Zhang, Wang, Ren, Fan, Zhu and Gai, CIKM 2020 (arXiv 2006.05639).
//
// DIN's attention costs one MLP per behaviour: thousands of behaviours per impression are out of
// reach. SIM searches first and attends afterwards, so a sample costs what K behaviours cost, not
// what the whole history does.
//
//   General Search Unit (§4.1, models/sim_search.hpp): K behaviours relevant to the candidate out
//     of the whole history — hard search (same category as the candidate, through a per-user
//     index by category) or soft search (top K of r_i = (W_b e_i) ⊙ (W_a e_a) summed, eq. 1, its
//     projections trained by an auxiliary CTR loss on U_r = Σ_i r_i e_i).
//   Exact Search Unit (§4.2): each retrieved behaviour is embedded with the bucketed time gap Δ_k
//     between it and the impression, z_k = [e*_k, e^t_k]; multi-head target attention of the
//     candidate over them,
//       att^h = softmax_k(W_bh z_k ⊙ W_ah e_a, summed),  head_h = Σ_k att^h_k z_k,
//       U_lt = [head_1, ..., head_H]                              (nn::MultiHeadTargetAttention)
//   Short-term interest: DIN over the most recent behaviours (the batch's own history, --max-len),
//     U_st = Σ_j a(e_j, e_a) e_j with DIN's local activation unit.
//   Output: p = σ(MLP([e_a, U_st, U_lt])), MLP 200-80 with PReLU (as DIN).
//   Loss: L = L_CTR + α·L_aux; L_aux (soft search only) is the GSU's auxiliary CTR loss.
//
// Data: the click task hands SIM each row's whole timeline where the data set keeps them (the
// long synthetic data, MovieLens). Elsewhere (the DIN synthetic data, Amazon files, predict input)
// SIM searches the batch's own short history, timed by position: the gap counts behaviours.
// Here the soft search's auxiliary loss joins the click loss and both train in one step. The paper
// gives no sizes for heads or time buckets, so these are ours: 4 heads of 16, 32 doubling buckets
// embedded in 8 dimensions; K = 50. It feeds the raw behaviours to each head (no value projection),
// as written above. The user-profile and context features of the paper's Fig. 2 are absent here,
// as in tinyrec's other click models.
#pragma once

#include <random>

#include "models/din.hpp"
#include "models/sim_search.hpp"
#include "nn/target_attention.hpp"

namespace tinyrec::models {

template <class T>
class SIM : public CtrModel<T> {
 public:
  explicit SIM(const CtrConfig& config);
  // GSU, then forward_retrieved.
  Tensor<T> forward(const data::CtrBatch& batch) override;
  // The ESU, the short-term interest and the MLP over behaviours a search already chose: [B].
  Tensor<T> forward_retrieved(const data::CtrBatch& batch, const Retrieved& retrieved);
  // The General Search Unit alone: each row's K behaviours.
  void search(const data::CtrBatch& batch, Retrieved& out);
  // Soft search: its auxiliary CTR loss on the batch of the last forward(); undefined otherwise.
  Tensor<T> auxiliary_loss(const data::CtrBatch& batch) override;
  double auxiliary_weight() const override { return config_.aux_weight; }
  bool uses_long_histories() const override { return true; }
  std::vector<EmbeddingUse<T>> embedding_uses(const data::CtrBatch& b) const override;
  std::string name() const override { return "sim"; }

  const Retrieved& retrieved() const { return retrieved_; }  // of the last forward()
  const nn::MultiHeadTargetAttention<T>& esu() const { return esu_; }

 private:
  // The rows' timelines: the batch's, or one built from its short histories.
  const data::LongHistories& histories(const data::CtrBatch& b);

  CtrConfig config_;
  std::mt19937_64 rng_;
  GoodsEmbedding<T> embed_;
  nn::Embedding<T> time_;
  std::unique_ptr<SoftSearch<T>> soft_;
  nn::MultiHeadTargetAttention<T> esu_;
  nn::LocalActivationUnit<T> short_term_;
  nn::MLP<T> mlp_;
  Retrieved retrieved_;
  data::LongHistories window_;  // the fallback timelines of the last batch
  std::vector<data::LongRow> window_rows_;
  Tensor<T> e_a_;
  Ids aux_items_, aux_cats_;  // the behaviours the auxiliary loss pooled
};

ModelEntry sim_registration();

}  // namespace tinyrec::models
