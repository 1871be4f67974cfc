// CTR samples with behaviour histories (the DIN paper's Base model and DIN), the string vocabulary
// the readers build, and the batcher that pads/truncates histories into plain row-major arrays.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <xtensor/xarray.hpp>

#include "data/batching.hpp"
#include "data/long_history.hpp"

namespace tinyrec::data {

// Dense ids everywhere: 0 is padding, 1 the reserved "unknown" id (an id unseen in training),
// real ids start at 2.
constexpr int64_t kPadId = 0;
constexpr int64_t kUnknownId = 1;
constexpr int64_t kFirstRealId = 2;

// One impression: a user, a candidate item with its category, the user's earlier behaviours
// (oldest first, the END is the most recent) and whether the candidate was clicked.
struct CtrSample {
  int64_t user = 0;
  int64_t item = 0;
  int64_t cat = 0;
  std::vector<int64_t> hist_items;
  std::vector<int64_t> hist_cats;  // same length as hist_items
  float label = 0.0f;              // 1 clicked / positive, 0 not
  // Who the user is, for per-user metrics (GAUC): distinct for every user of the data set, train or
  // test, and equal to `user` wherever training knows the user. `user` itself is the unknown id 1
  // for every user unseen in training, which would pool all such users into one.
  int64_t user_key = 0;
  // Where the data set keeps whole histories (CtrDataset::histories, for SIM): the user's timeline,
  // how many of its behaviours precede this impression, and the impression's time. −1: none.
  int64_t timeline = -1;
  size_t timeline_end = 0;
  int64_t time = 0;
};

// String token -> dense id, the way the readers build vocabularies from a training file: the first
// new token gets 2, the next 3, ...; lookups of unseen tokens give 1.
// An open-addressing table over one buffer of characters rather than std::unordered_map: reading
// the Amazon files is one lookup per token, and fewer cache misses per lookup made reading a
// 260 MB file 3.5x faster.
class Vocabulary {
 public:
  // The id of `token`, adding it when new.
  int64_t add(std::string_view token);
  // The id of `token`, or kUnknownId when it was never added.
  int64_t find(std::string_view token) const;
  // The token of a real id (>= 2); throws std::out_of_range otherwise.
  std::string_view token(int64_t id) const;
  // Number of ids including pad and unknown.
  int64_t size() const { return kFirstRealId + static_cast<int64_t>(ends_.size()); }

 private:
  struct Slot {
    uint64_t hash = 0;
    int64_t id = 0;  // 0: empty
  };
  // The slot holding `token`, or the empty slot where it would go.
  size_t probe(std::string_view token, uint64_t hash) const;
  void grow();

  std::vector<Slot> slots_ = std::vector<Slot>(64);  // a power of two, at most half full
  std::string chars_;                                // all tokens back to back
  std::vector<size_t> ends_;                         // ends_[id - 2]: where token id ends in chars_
};

// The token -> id maps of a data set read from files, kept so that new files (predict) map their
// tokens the same way. The synthetic set, whose ids are born dense, leaves them empty.
struct CtrVocabularies {
  Vocabulary users, items, cats;
};

struct CtrDataset {
  std::vector<CtrSample> train, test;
  int64_t n_users = kFirstRealId;  // vocabulary sizes, counting pad and unknown
  int64_t n_items = kFirstRealId;
  int64_t n_cats = kFirstRealId;
  std::string name;
  // Occurrences of each id in train (targets and histories), sized n_items / n_cats; the n_j of
  // DIN's mini-batch aware regularization. Every id that a training batch can hold counts >= 1,
  // except the padding id 0, which counts 0 (as does the unknown id 1, and in the synthetic set a
  // catalogue id that no training sample drew).
  std::vector<int64_t> item_counts, cat_counts;
  CtrVocabularies vocab;
  // Every user's whole history with timestamps, where the data set has them (the long synthetic
  // data, MovieLens); every sample then points into it. Null otherwise.
  std::shared_ptr<const LongHistories> histories;
};

// Fills item_counts and cat_counts from ds.train (sizes from n_items / n_cats). Throws
// std::out_of_range if an id is outside its vocabulary.
void count_train_ids(CtrDataset& ds);

// One mini-batch, plain arrays, row-major.
struct CtrBatch {
  size_t size = 0, max_len = 0;               // B, L
  xt::xarray<int64_t> user, item, cat;        // [B]
  xt::xarray<int64_t> hist_items, hist_cats;  // [B, L], 0 = padding
  xt::xarray<float> mask;                     // [B, L], 1 for a real behaviour, 0 for padding
  xt::xarray<float> label;                    // [B]
  // Negative samples for a sequence model's auxiliary loss (DIEN): at each real position an item
  // the user did not click there, with its category; [B, L], 0 at padding. Filled only for models
  // that ask for them (data/negatives.hpp); empty otherwise.
  xt::xarray<int64_t> neg_items, neg_cats;
  // Whole histories for SIM's search (data/long_history.hpp): each row's timeline, filled only for
  // models that ask for them (CtrModel::uses_long_histories) on data that has them; null and empty
  // otherwise.
  const LongHistories* histories = nullptr;
  std::vector<LongRow> long_rows;
};

// Splits generated users (their samples each) into train and test by user, as the synthetic
// generators do: the users are shuffled by `rng` and the first round(test_fraction · users) go to
// test with all their samples. Train users get dense ids 2, 3, ... in order; test users are unseen
// in training, so their samples carry the unknown id 1 as `user` and user_keys of their own after
// the train users'. Ids that no training sample mentions become the unknown id in the test split.
// Fills the counts; n_items and n_cats count pad and unknown.
CtrDataset split_users(std::vector<std::vector<CtrSample>> users, double test_fraction,
                       std::mt19937_64& rng, const std::string& name, int64_t n_items,
                       int64_t n_cats);

// Throws std::invalid_argument naming the first sample whose history items and categories differ
// in length; batches can then trust the samples.
void check_ctr_samples(const std::vector<CtrSample>& samples);

// Fills `out` with samples[rows[0]], samples[rows[1]], ..., reusing its buffers (steady-state
// batches do not allocate). Histories longer than max_len keep the most recent max_len (the end
// of the vector); shorter ones are padded with 0 on the right (positions 0..n-1 real). With trim,
// L = min(max_len, the longest history among the rows), at least 1 — less padding to compute over
// when histories are short; without it L = max_len.
void fill_ctr_batch(const std::vector<CtrSample>& samples, const std::vector<size_t>& rows,
                    size_t max_len, bool trim, CtrBatch& out);

// Walks a sample vector in mini-batches by the one batching rule of data/batching.hpp.
// Holds a reference: `samples` must outlive the batcher and not change while it is used.
class CtrBatcher {
 public:
  CtrBatcher(const std::vector<CtrSample>& samples, size_t batch_size, size_t max_len, bool shuffle,
             uint64_t seed);

  size_t num_batches() const { return order_.num_batches(); }
  size_t num_samples() const { return samples_.size(); }
  // Rewinds to the first batch of the next epoch (reshuffled when shuffling).
  void start_epoch() { order_.start_epoch(); }
  // Fills `out`; false at the end of the epoch. The last batch may be smaller.
  bool next(CtrBatch& out);
  // Off by default (L == max_len always); see fill_ctr_batch.
  void set_trim_to_longest(bool on) { trim_ = on; }
  // The order of sample indices in the current epoch.
  const std::vector<size_t>& order() const { return order_.order(); }

 private:
  const std::vector<CtrSample>& samples_;
  size_t max_len_;
  bool trim_ = false;
  BatchOrder order_;
  std::vector<size_t> rows_;
};

}  // namespace tinyrec::data
