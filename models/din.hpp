// Deep Interest Network for Click-Through Rate Prediction — Zhou et al., KDD 2018 (arXiv
// 1706.06978).
//
// Both models of the paper, in its notation. A behaviour (and the candidate ad) is embedded as
// goods ⊕ category: e_j = [E_item(i_j), E_cat(c_j)], e_a (= v_A) likewise for the candidate.
//
//   Base model (§4.2, Fig. 2 left, "Embedding & MLP"):
//       v_U = Σ_j e_j                                  sum pooling of the behaviours
//       p   = σ(MLP([e_a, v_U]))                        MLP 200-80-1 with PReLU (eq. 8) or Dice
//   DIN (§4.3, eq. 3):
//       v_U(A) = f(v_A, e_1, ..., e_H) = Σ_j a(e_j, v_A)·e_j = Σ_j w_j·e_j
//       a(·) is the local activation unit: an MLP on [v_A, e_j, v_A − e_j, v_A ⊙ e_j] giving one
//       weight per behaviour, with no softmax ("to reserve the intensity of user interests").
//       p = σ(MLP([e_a, v_U(A)]))
//   Dice (§4.4, eq. 9) replaces PReLU with --activation dice; mini-batch aware regularization
//   (§4.3, eq. 6) is applied by the training loop to the tables named in embedding_uses().
//
// Where the authors' public code differs, and the option that selects it:
//   - attention: the demo code divides the scores by √d and takes a softmax over the behaviours,
//     with padding masked by −2³²+1                                     → attention_softmax = true
//   - Base model: the repository pools with a masked mean, not a sum  → pooling = "mean"
//   - embedding sizes: the DIN repository uses 64 each; DIEN's Amazon setup (our default) 18 each.
//   - initial weights, which the paper does not give: CtrConfig::init (--init), Glorot-uniform
//     dense layers and N(0, 0.01²) embeddings by default; tutorials/03_din.md compares the schemes.
//   - the repository's MLP input also holds e_a ⊙ v_U and passes through BatchNorm; the paper's
//     Fig. 2 has neither, and neither do we (the product would hand the Base model the interaction
//     it is meant to lack).
// The user-profile and context feature groups of the paper's Fig. 2 are absent from the public
// data sets (Amazon, MovieLens) and from ours; the user id is not embedded either, as in the
// authors' code: test users are unseen.
#pragma once

#include "models/ctr_model.hpp"
#include "models/registry.hpp"
#include "nn/layers.hpp"

namespace tinyrec::models {

// e = [E_item(item), E_cat(category)]: the goods ⊕ category embedding of a behaviour or candidate.
template <class T>
class GoodsEmbedding : public nn::Module<T> {
 public:
  GoodsEmbedding(const CtrConfig& config, std::mt19937_64& rng);
  Tensor<T> operator()(const Ids& items, const Ids& cats);  // ids.shape + [D]
  size_t dim() const { return items_.embedding_dim() + cats_.embedding_dim(); }
  const Tensor<T>& item_table() const { return items_.weight(); }  // [n_items, item_dim]
  const Tensor<T>& cat_table() const { return cats_.weight(); }    // [n_cats, cat_dim]
  std::vector<EmbeddingUse<T>> uses(const data::CtrBatch& batch, const CtrConfig& config) const;

 private:
  nn::Embedding<T> items_, cats_;
};

template <class T>
class BaseModel : public CtrModel<T> {
 public:
  explicit BaseModel(const CtrConfig& config);
  Tensor<T> forward(const data::CtrBatch& batch) override;
  std::vector<EmbeddingUse<T>> embedding_uses(const data::CtrBatch& b) const override {
    return embed_.uses(b, config_);
  }
  std::string name() const override { return "base"; }

 private:
  CtrConfig config_;
  std::mt19937_64 rng_;
  GoodsEmbedding<T> embed_;
  nn::MLP<T> mlp_;
};

template <class T>
class DIN : public CtrModel<T> {
 public:
  explicit DIN(const CtrConfig& config);
  Tensor<T> forward(const data::CtrBatch& batch) override;
  // The activation unit's weights w_j of the last forward pass, [B, L] (for inspection).
  const Tensor<T>& attention_weights() const { return w_; }
  std::vector<EmbeddingUse<T>> embedding_uses(const data::CtrBatch& b) const override {
    return embed_.uses(b, config_);
  }
  std::string name() const override { return "din"; }

 private:
  CtrConfig config_;
  std::mt19937_64 rng_;
  GoodsEmbedding<T> embed_;
  nn::LocalActivationUnit<T> activation_unit_;
  nn::MLP<T> mlp_;
  Tensor<T> w_;
};

ModelEntry base_registration();
ModelEntry din_registration();

}  // namespace tinyrec::models
