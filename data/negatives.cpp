// The item pool of DIEN's auxiliary loss and the draws from it.
#include "data/negatives.hpp"

#include <stdexcept>
#include <string>

namespace tinyrec::data {

NegativeSampler::NegativeSampler(const CtrDataset& ds) {
  check_ctr_samples(ds.train);
  // Categories by item id; ids are dense, so a vector indexed by id is the map, and -1 (never a
  // category id) marks the ids training did not show.
  std::vector<int64_t> cat_of;
  auto see = [&](int64_t item, int64_t cat) {
    if (item < kFirstRealId) return;
    const auto i = static_cast<size_t>(item);
    if (i >= cat_of.size()) cat_of.resize(i + 1, -1);
    if (cat_of[i] < 0) cat_of[i] = cat;
  };
  for (const CtrSample& s : ds.train) {
    for (size_t t = 0; t < s.hist_items.size(); ++t) see(s.hist_items[t], s.hist_cats[t]);
    see(s.item, s.cat);
  }
  index_of_.assign(cat_of.size(), -1);
  for (size_t id = 0; id < cat_of.size(); ++id) {
    if (cat_of[id] < 0) continue;
    index_of_[id] = static_cast<int64_t>(items_.size());
    items_.push_back(static_cast<int64_t>(id));
    cats_.push_back(cat_of[id]);
  }
  if (items_.size() < 2)
    throw std::invalid_argument("NegativeSampler: the training data of '" + ds.name + "' holds " +
                                std::to_string(items_.size()) +
                                " distinct real item(s); a negative needs at least 2");
}

bool NegativeSampler::contains(int64_t item) const {
  return item >= 0 && item < static_cast<int64_t>(index_of_.size()) &&
         index_of_[static_cast<size_t>(item)] >= 0;
}

int64_t NegativeSampler::category_of(int64_t item) const {
  if (!contains(item))
    throw std::out_of_range("NegativeSampler: item " + std::to_string(item) +
                            " is not in the pool of training items");
  return cats_[static_cast<size_t>(index_of_[static_cast<size_t>(item)])];
}

int64_t NegativeSampler::draw(int64_t clicked, std::mt19937_64& rng) const {
  const auto n = static_cast<uint64_t>(items_.size());
  if (!contains(clicked)) return items_[static_cast<size_t>(rng() % n)];
  // Draw among the n - 1 other items and step over the clicked one: exactly uniform, one engine
  // output, no rejection loop.
  const auto skip = static_cast<uint64_t>(index_of_[static_cast<size_t>(clicked)]);
  uint64_t j = rng() % (n - 1);
  if (j >= skip) ++j;
  return items_[static_cast<size_t>(j)];
}

void fill_negatives(const NegativeSampler& sampler, const CtrBatch& batch, std::mt19937_64& rng,
                    xt::xarray<int64_t>& neg_items, xt::xarray<int64_t>& neg_cats) {
  const size_t B = batch.size, L = batch.max_len;
  if (batch.hist_items.size() != B * L || batch.mask.size() != B * L)
    throw std::invalid_argument("fill_negatives: the batch's history arrays are not [" +
                                std::to_string(B) + ", " + std::to_string(L) + "]");
  neg_items.resize({B, L});
  neg_cats.resize({B, L});
  const int64_t* hist = batch.hist_items.data();
  const float* mask = batch.mask.data();
  int64_t* items = neg_items.data();
  int64_t* cats = neg_cats.data();
  for (size_t i = 0; i < B * L; ++i) {
    if (mask[i] != 0.0f) {
      items[i] = sampler.draw(hist[i], rng);
      cats[i] = sampler.category_of(items[i]);
    } else {
      items[i] = kPadId;
      cats[i] = kPadId;
    }
  }
}

}  // namespace tinyrec::data
