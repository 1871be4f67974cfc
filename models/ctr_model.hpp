// What every click-through-rate model of the DIN family shares: it scores a batch of candidates
// against the users' behaviour histories, and it names its embedding tables so training can apply
// the DIN paper's mini-batch aware regularization to them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include "autograd/tensor.hpp"
#include "data/ctr_dataset.hpp"
#include "models/model.hpp"
#include "nn/module.hpp"

namespace tinyrec::models {

// An embedding table and the ids a batch looks up in it, with each id's training-set count n_j.
template <class T>
struct EmbeddingUse {
  Tensor<T> table;
  const xt::xarray<int64_t>* ids;
  const std::vector<int64_t>* counts;
};

template <class T>
class CtrModel : public Model<T> {
 public:
  // Click logits, one per candidate: [B].
  virtual Tensor<T> forward(const data::CtrBatch& batch) = 0;
  // Training loss terms besides the click loss (DIEN's auxiliary loss); undefined when none.
  virtual Tensor<T> auxiliary_loss(const data::CtrBatch&) { return {}; }
  // The tables a batch touches, for mini-batch aware regularization.
  virtual std::vector<EmbeddingUse<T>> embedding_uses(const data::CtrBatch& batch) const = 0;
};

// Sizes and switches shared by the CTR models; the defaults are the papers' where they give them.
struct CtrConfig {
  int64_t n_items = 2, n_cats = 2;               // vocabulary sizes incl. padding and unknown
  std::vector<int64_t> item_counts, cat_counts;  // n_j for mini-batch aware regularization
  size_t item_dim = 18, cat_dim = 18;            // DIEN's Amazon setup: 18 each
  std::vector<size_t> mlp = {200, 80};           // DIN paper: 200-80-1 (PReLU or Dice)
  std::vector<size_t> attention = {80, 40};      // the local activation unit's MLP
  std::string activation = "prelu";              // prelu | dice | relu | sigmoid
  bool attention_softmax = false;                // the paper: no softmax; its demo code: softmax
  std::string pooling = "sum";                   // Base model: sum (paper) | mean (DIN repository)
  uint64_t seed = 1;
};

// One JSON codec for every field; the registry picks each model's own settings from it, and the
// click task supplies the data's fields (n_items, n_cats and the counts).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CtrConfig, n_items, n_cats, item_counts, cat_counts,
                                                item_dim, cat_dim, mlp, attention, activation,
                                                attention_softmax, pooling, seed)

}  // namespace tinyrec::models
