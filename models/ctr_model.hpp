// What every click-through-rate model of the DIN family shares: it scores a batch of candidates
// against the users' behaviour histories, and it names its embedding tables so training can apply
// the DIN paper's mini-batch aware regularization to them.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
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
  // Training loss terms besides the click loss (DIEN's auxiliary loss); undefined when none. Called
  // right after forward() on the same batch, so a model may reuse what forward computed.
  virtual Tensor<T> auxiliary_loss(const data::CtrBatch&) { return {}; }
  // The auxiliary term's weight α in L = L_target + α·L_aux.
  virtual double auxiliary_weight() const { return 1.0; }
  // Whether training batches must carry negative samples (CtrBatch::neg_items).
  virtual bool uses_negatives() const { return false; }
  // Whether training and evaluation batches should carry whole histories (CtrBatch::histories,
  // SIM's search) where the data set has them.
  virtual bool uses_long_histories() const { return false; }
  // The tables a batch touches, for mini-batch aware regularization.
  virtual std::vector<EmbeddingUse<T>> embedding_uses(const data::CtrBatch& batch) const = 0;
};

// How often each id occurs in training (n_j), carried in a model's JSON configuration as one binary
// value. As a JSON array a vocabulary's counts would take 16 bytes and more per id, and destroying
// the array allocates as much again (nlohmann::json moves a container's elements into a new vector
// to free them): out of memory there, in a destructor, is std::terminate, not an error message.
struct IdCounts : std::vector<int64_t> {
  using std::vector<int64_t>::vector;
  using std::vector<int64_t>::operator=;
  IdCounts() = default;
  IdCounts(std::vector<int64_t> counts) : std::vector<int64_t>(std::move(counts)) {}
};

inline void to_json(nlohmann::json& j, const IdCounts& c) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(c.data());
  j = nlohmann::json::binary(std::vector<std::uint8_t>(bytes, bytes + c.size() * sizeof(int64_t)));
}

inline void from_json(const nlohmann::json& j, IdCounts& c) {
  if (!j.is_binary()) {  // a hand-written configuration's array
    c = j.get<std::vector<int64_t>>();
    return;
  }
  const auto& bytes = j.get_binary();
  if (bytes.size() % sizeof(int64_t) != 0)
    throw std::invalid_argument("id counts: " + std::to_string(bytes.size()) +
                                " bytes is not a whole number of 64-bit counts");
  c.resize(bytes.size() / sizeof(int64_t));
  if (!bytes.empty()) std::memcpy(c.data(), bytes.data(), bytes.size());
}

// Sizes and switches shared by the CTR models; the defaults are the papers' where they give them.
struct CtrConfig {
  int64_t n_items = 2, n_cats = 2;           // vocabulary sizes incl. padding and unknown
  IdCounts item_counts, cat_counts;          // n_j for mini-batch aware regularization
  size_t item_dim = 18, cat_dim = 18;        // DIEN's Amazon setup: 18 each
  std::vector<size_t> mlp = {200, 80};       // DIN paper: 200-80-1 (PReLU or Dice)
  std::vector<size_t> attention = {80, 40};  // the local activation unit's MLP
  std::string activation = "prelu";          // prelu | dice | relu | sigmoid
  bool attention_softmax = false;            // the paper: no softmax; its demo code: softmax
  std::string pooling = "sum";               // Base model: sum (paper) | mean (DIN repository)
  // DIEN (the authors' sizes: GRU hidden 36 = the 18 + 18 embedding, so h_t and e_t can be
  // compared by an inner product).
  size_t gru_hidden = 36;
  std::string evolving = "augru";               // augru | augru_vecatt | aigru | agru
  std::string interest_attention = "bilinear";  // bilinear (paper) | din (the authors' code)
  std::string aux_loss = "inner";               // inner (paper) | mlp (the authors' code)
  double aux_weight = 1.0;                      // α; 0 = DIEN without the auxiliary loss
  std::vector<size_t> aux_mlp = {100, 50};      // the authors' auxiliary network
  // SIM (models/sim.hpp): the General Search Unit, the Exact Search Unit's heads and time gaps.
  std::string search = "hard";  // hard (category) | soft (inner product of projections)
  size_t top_k = 50;            // behaviours the search hands on
  size_t soft_dim = 16;         // the soft search's projection size
  size_t soft_sample = 0;       // behaviours pooled by its auxiliary loss (0 = the whole history)
  size_t heads = 4;             // ESU attention heads
  size_t head_dim = 16;         // each head's projection size
  size_t time_buckets = 32;     // time-gap buckets (doubling widths), 0 = padding
  size_t time_dim = 8;          // time-gap embedding size
  // Initial weights (nn/init_scheme.hpp): Glorot-uniform dense layers with zero biases and
  // N(0, 0.01²) embeddings, as the DIN and DIEN authors' TensorFlow code; the choice is measured
  // in tutorials/03_din.md.
  std::string init = "glorot";
  uint64_t seed = 1;
};

// One JSON codec for every field; the registry picks each model's own settings from it, and the
// click task supplies the data's fields (n_items, n_cats and the counts).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CtrConfig, n_items, n_cats, item_counts, cat_counts,
                                                item_dim, cat_dim, mlp, attention, activation,
                                                attention_softmax, pooling, gru_hidden, evolving,
                                                interest_attention, aux_loss, aux_weight, aux_mlp,
                                                search, top_k, soft_dim, soft_sample, heads,
                                                head_dim, time_buckets, time_dim, init, seed)

}  // namespace tinyrec::models
