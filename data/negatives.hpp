// Negative samples for DIEN's auxiliary loss: for a behaviour e_t, an item ê_t the user did not
// click, drawn from the items of the training data, so that the interest state before step t can
// be asked to tell the real next behaviour from a fake one. Reads nothing but a CtrDataset, so it
// serves the synthetic sets, the Amazon format and MovieLens alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include <xtensor/xarray.hpp>

#include "data/ctr_dataset.hpp"

namespace tinyrec::data {

class NegativeSampler {
 public:
  // The pool: every distinct real item (id >= kFirstRealId) of ds.train, as a candidate or in a
  // history, with the category it was observed with — its first occurrence when scanning the
  // samples in order, each one's history (oldest first) before its candidate; the data sets of
  // tinyrec give an item one category, so the rule only matters for a malformed file.
  // Throws std::invalid_argument when the pool holds fewer than 2 items (no negative could differ
  // from every clicked item), or when the training samples are malformed (see check_ctr_samples).
  explicit NegativeSampler(const CtrDataset& ds);

  // An item of the pool other than `clicked`, uniform over the pool minus `clicked`. Uniform over
  // distinct items rather than by popularity (the DIEN reference code draws from the list of all
  // reviews, i.e. by frequency): every item is as likely a negative as any other, so the
  // auxiliary task cannot be half won by telling popular items from rare ones, and the draw is
  // one engine output, the same for a seed on every platform. A `clicked` outside the pool (the
  // unknown id of a test split, padding) excludes nothing.
  int64_t draw(int64_t clicked, std::mt19937_64& rng) const;

  // The category of a pool item; throws std::out_of_range for an item outside the pool.
  int64_t category_of(int64_t item) const;
  bool contains(int64_t item) const;

  // The pool's items in increasing id order.
  const std::vector<int64_t>& items() const { return items_; }
  std::size_t size() const { return items_.size(); }

 private:
  std::vector<int64_t> items_;     // sorted ids
  std::vector<int64_t> cats_;      // cats_[i]: the category of items_[i]
  std::vector<int64_t> index_of_;  // item id -> position in items_, -1 outside the pool
};

// Fills neg_items and neg_cats, shaped [B, L] like batch.hist_items (buffers reused): at every real
// position (mask 1) a negative for the behaviour there — sampler.draw(hist_items(b, t)) and its
// category — and kPadId at padded positions. Draws in row-major order over the real positions
// only, so a seed and a batch fix the result.
void fill_negatives(const NegativeSampler& sampler, const CtrBatch& batch, std::mt19937_64& rng,
                    xt::xarray<int64_t>& neg_items, xt::xarray<int64_t>& neg_cats);

}  // namespace tinyrec::data
