// SIM's General Search Unit (Pi et al., CIKM 2020, §4.1): from a history of thousands of
// behaviours, the K that matter for the candidate.
//
//   Hard search (the paper's deployed form): the behaviours whose category is the candidate's,
//     read from a per-user index by category (data::LongHistories, the paper's user-behaviour tree
//     keyed by user, then category) — O(log L + K) per candidate, never a scan of the history.
//     When more than K match, the K most recent.
//   Soft search: relevance r_i = (W_b e_i) ⊙ (W_a e_a) summed over the projection (an inner
//   product,
//     eq. 1), and the top K by r_i — picked with nth_element in O(L), the history is never sorted.
//     The choice of K is not differentiable, so W_a and W_b learn from an auxiliary CTR task on the
//     relevance-weighted pooled history U_r = Σ_i r_i e_i: p_aux = σ(MLP([e_a, U_r])), trained with
//     binary cross-entropy on the click. For a history too long to pool in one step the paper
//     pools a random sub-sequence instead (`soft_sample` behaviours).
// Ties (equal category matches, equal scores) go to the more recent behaviour. Both hand the ESU
// the chosen positions oldest first, padded on the right.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include <xtensor/xarray.hpp>

#include "data/long_history.hpp"
#include "models/din.hpp"

namespace tinyrec::models {

// The GSU's result, [B, K]: the behaviours' ids, the buckets of their time gaps to the impression
// (data::time_gap_bucket) and a 0/1 mask; padding (id 0, bucket 0, mask 0) on the right.
struct Retrieved {
  size_t size = 0, k = 0;
  Ids items, cats, gaps;
  xt::xarray<float> mask;
  std::vector<uint32_t> positions;  // [B·K]: each kept behaviour's place in its timeline
  void resize(size_t B, size_t K);
  // Writes row b from the timeline positions `pos[0..n)` (ascending).
  void set_row(size_t b, const data::Timeline& t, int64_t now, const uint32_t* pos, size_t n,
               int64_t buckets);
};

// How many behaviours a search of K hands on for `rows`: K, or the longest history before a row's
// impression when that is shorter — a K beyond every history takes them all, and the batch's
// tensors grow with the histories, not with K.
size_t retrieved_width(const std::vector<data::LongRow>& rows, size_t k);

// Hard search for every row: the rows' candidates' categories `cats` [B]; Retrieved::k is
// retrieved_width(rows, k).
void hard_search(const data::LongHistories& h, const std::vector<data::LongRow>& rows,
                 const Ids& cats, size_t k, int64_t buckets, Retrieved& out);

// The k positions of the largest scores[0..n) (ties: the larger position), ascending, into `out`
// (which must hold min(k, n)); returns min(k, n). `order` is scratch space. O(n + k log k).
template <class T>
size_t top_k_positions(const T* scores, size_t n, size_t k, std::vector<uint32_t>& order,
                       uint32_t* out);

template <class T>
class SoftSearch : public nn::Module<T> {
 public:
  // dim: the behaviour embedding's size D; proj: W_a and W_b's output size; mlp: the auxiliary
  // network's hidden sizes.
  SoftSearch(size_t dim, size_t proj, const std::vector<size_t>& mlp, nn::Activation activation,
             std::mt19937_64& rng);

  // The top-k behaviours of each row by r_i, scored straight from the embedding tables (nothing
  // recorded: the choice carries no gradient).
  void search(const GoodsEmbedding<T>& embed, const Tensor<T>& e_a, const data::LongHistories& h,
              const std::vector<data::LongRow>& rows, size_t k, int64_t buckets, Retrieved& out);
  // r_i for behaviours [0, end) of one row's timeline, given that row's q = W_bᵀ W_a e_a [D].
  void scores(const GoodsEmbedding<T>& embed, const T* q, const data::Timeline& t, size_t end,
              std::vector<T>& r) const;

  // The auxiliary CTR loss on U_r = Σ_i r_i e_i over each row's whole history (or `sample`
  // behaviours of it drawn by `rng`, 0 = all), recorded for backward. Fills `ids_items` and
  // `ids_cats` [B, L] with the pooled behaviours (for mini-batch aware regularization).
  Tensor<T> auxiliary_loss(GoodsEmbedding<T>& embed, const Tensor<T>& e_a,
                           const data::LongHistories& h, const std::vector<data::LongRow>& rows,
                           const xt::xarray<float>& labels, size_t sample, std::mt19937_64& rng,
                           Ids& ids_items, Ids& ids_cats);

  // q = W_bᵀ W_a e_a [B, D], so that r_i = ⟨e_i, q⟩: the same number as ⟨W_b e_i, W_a e_a⟩.
  Tensor<T> query(const Tensor<T>& e_a);

 private:
  nn::Linear<T> w_a_, w_b_;
  nn::MLP<T> aux_;
  std::vector<T> r_;
  std::vector<uint32_t> order_, picked_;
};

}  // namespace tinyrec::models
