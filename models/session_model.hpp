// What every next-item model shares: it turns a batch of session prefixes into one query vector
// per row whose inner product with an item's embedding is that item's score, so the scores over
// every item are one [B, D] × [D, N] product (autograd's row_scores).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "autograd/ops.hpp"
#include "data/session_dataset.hpp"
#include "models/model.hpp"

namespace tinyrec::models {

template <class T>
class SessionModel : public Model<T> {
 public:
  // [B, D]: the session's representation in item-embedding space.
  virtual Tensor<T> query(const data::SessionBatch& batch) = 0;
  // [n_items, D], row 0 the padding row (scored by nobody).
  virtual Tensor<T> item_embeddings() const = 0;
  // Scores of items 1..n_items−1, [B, n_items − 1]: column k is item k + 1.
  Tensor<T> scores(const data::SessionBatch& batch) {
    return row_scores(query(batch), item_embeddings(), 1);
  }
};

// STAMP's and STMP's settings; the defaults are the paper's where it gives them.
struct StampConfig {
  int64_t n_items = 2;     // item ids incl. the padding id 0 (the data fixes it)
  size_t edim = 100;       // the paper: 100
  bool add_ms = false;     // the authors' code: m_a + m_s; the paper: m_a
  double init_std = 0.05;  // the item embeddings start N(0, init_std²) (under init "glorot")
  // Initial weights (nn/init_scheme.hpp); "glorot": Glorot-uniform weights, zero biases, and the
  // embeddings by init_std.
  std::string init = "glorot";
  uint64_t seed = 1;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StampConfig, n_items, edim, add_ms, init_std, init,
                                                seed)

}  // namespace tinyrec::models
