// The CTR batcher (shuffle by seed, pad/truncate histories, fill plain arrays), id counting for
// mini-batch aware regularization, and the string vocabulary.
#include "data/ctr_dataset.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>
#include <stdexcept>

namespace tinyrec::data {

namespace {

void count_one(std::vector<int64_t>& counts, int64_t id, const char* what) {
  if (id < 0 || id >= static_cast<int64_t>(counts.size()))
    throw std::out_of_range(std::string("count_train_ids: ") + what + " id " + std::to_string(id) +
                            " outside vocabulary of size " + std::to_string(counts.size()));
  ++counts[static_cast<size_t>(id)];
}

}  // namespace

void count_train_ids(CtrDataset& ds) {
  ds.item_counts.assign(static_cast<size_t>(ds.n_items), 0);
  ds.cat_counts.assign(static_cast<size_t>(ds.n_cats), 0);
  for (const CtrSample& s : ds.train) {
    count_one(ds.item_counts, s.item, "item");
    count_one(ds.cat_counts, s.cat, "category");
    for (int64_t id : s.hist_items) count_one(ds.item_counts, id, "history item");
    for (int64_t id : s.hist_cats) count_one(ds.cat_counts, id, "history category");
  }
}

CtrDataset split_users(std::vector<std::vector<CtrSample>> users, double test_fraction,
                       std::mt19937_64& rng, const std::string& name, int64_t n_items,
                       int64_t n_cats) {
  std::vector<size_t> order(users.size());
  std::iota(order.begin(), order.end(), size_t{0});
  shuffle_in_place(order, rng);
  const auto n_test =
      static_cast<size_t>(std::llround(test_fraction * static_cast<double>(users.size())));
  std::vector<char> is_test(users.size(), 0);
  for (size_t i = 0; i < n_test && i < order.size(); ++i) is_test[order[i]] = 1;

  CtrDataset ds;
  ds.name = name;
  ds.n_items = n_items;
  ds.n_cats = n_cats;
  int64_t next_user = kFirstRealId;
  for (size_t u = 0; u < users.size(); ++u) {
    if (is_test[u]) continue;
    for (CtrSample& s : users[u]) {
      s.user = s.user_key = next_user;
      ds.train.push_back(std::move(s));
    }
    ++next_user;
  }
  ds.n_users = next_user;
  int64_t next_key = next_user;
  for (size_t u = 0; u < users.size(); ++u) {
    if (!is_test[u]) continue;
    for (CtrSample& s : users[u]) {
      s.user = kUnknownId;
      s.user_key = next_key;
      ds.test.push_back(std::move(s));
    }
    ++next_key;
  }
  count_train_ids(ds);
  auto unseen = [](const std::vector<int64_t>& counts, int64_t& id) {
    if (counts[static_cast<size_t>(id)] == 0) id = kUnknownId;
  };
  for (CtrSample& s : ds.test) {
    unseen(ds.item_counts, s.item);
    unseen(ds.cat_counts, s.cat);
    for (int64_t& id : s.hist_items) unseen(ds.item_counts, id);
    for (int64_t& id : s.hist_cats) unseen(ds.cat_counts, id);
  }
  return ds;
}

void check_ctr_samples(const std::vector<CtrSample>& samples) {
  for (size_t i = 0; i < samples.size(); ++i)
    if (samples[i].hist_items.size() != samples[i].hist_cats.size())
      throw std::invalid_argument(
          "sample " + std::to_string(i) + " has " + std::to_string(samples[i].hist_items.size()) +
          " history items but " + std::to_string(samples[i].hist_cats.size()) +
          " history categories");
}

CtrBatcher::CtrBatcher(const std::vector<CtrSample>& samples, size_t batch_size, size_t max_len,
                       bool shuffle, uint64_t seed)
    : samples_(samples), max_len_(max_len), order_(samples.size(), batch_size, shuffle, seed) {
  if (max_len == 0) throw std::invalid_argument("CtrBatcher: max_len must be at least 1");
  check_ctr_samples(samples);
}

bool CtrBatcher::next(CtrBatch& out) {
  if (!order_.next(rows_)) return false;
  fill_ctr_batch(samples_, rows_, max_len_, trim_, out);
  return true;
}

void fill_ctr_batch(const std::vector<CtrSample>& samples, const std::vector<size_t>& rows,
                    size_t max_len, bool trim, CtrBatch& out) {
  const size_t B = rows.size();
  size_t L = max_len;
  if (trim) {
    size_t longest = 1;
    for (size_t r : rows) longest = std::max(longest, samples[r].hist_items.size());
    L = std::min(L, longest);
  }

  out.size = B;
  out.max_len = L;
  out.histories = nullptr;  // set by fill_long_rows for the models that ask
  out.long_rows.clear();
  // resize keeps the allocation when the size is unchanged, so steady-state batches do not
  // allocate.
  out.user.resize({B});
  out.item.resize({B});
  out.cat.resize({B});
  out.label.resize({B});
  out.hist_items.resize({B, L});
  out.hist_cats.resize({B, L});
  out.mask.resize({B, L});

  int64_t* user = out.user.data();
  int64_t* item = out.item.data();
  int64_t* cat = out.cat.data();
  float* label = out.label.data();
  for (size_t b = 0; b < B; ++b) {
    const CtrSample& s = samples[rows[b]];
    user[b] = s.user;
    item[b] = s.item;
    cat[b] = s.cat;
    label[b] = s.label;

    const size_t n = s.hist_items.size();
    const size_t keep = std::min(n, L);
    const size_t from = n - keep;  // the most recent `keep` behaviours
    int64_t* hi = out.hist_items.data() + b * L;
    int64_t* hc = out.hist_cats.data() + b * L;
    float* m = out.mask.data() + b * L;
    for (size_t t = 0; t < keep; ++t) {
      hi[t] = s.hist_items[from + t];
      hc[t] = s.hist_cats[from + t];
      m[t] = 1.0f;
    }
    for (size_t t = keep; t < L; ++t) {
      hi[t] = kPadId;
      hc[t] = kPadId;
      m[t] = 0.0f;
    }
  }
}

std::string_view Vocabulary::token(int64_t id) const {
  if (id < kFirstRealId || id >= size())
    throw std::out_of_range("Vocabulary: no token for id " + std::to_string(id) + " (ids 2.." +
                            std::to_string(size() - 1) + ")");
  const auto i = static_cast<size_t>(id - kFirstRealId);
  const size_t begin = i == 0 ? 0 : ends_[i - 1];
  return std::string_view(chars_).substr(begin, ends_[i] - begin);
}

size_t Vocabulary::probe(std::string_view token, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.id == 0 || (s.hash == hash && this->token(s.id) == token)) return i;
  }
}

void Vocabulary::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.id == 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].id != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

int64_t Vocabulary::add(std::string_view token) {
  const uint64_t hash = std::hash<std::string_view>{}(token);
  size_t i = probe(token, hash);
  if (slots_[i].id != 0) return slots_[i].id;
  if (2 * (ends_.size() + 1) > slots_.size()) {
    grow();
    i = probe(token, hash);
  }
  chars_.append(token);
  ends_.push_back(chars_.size());
  slots_[i] = {hash, size() - 1};
  return slots_[i].id;
}

int64_t Vocabulary::find(std::string_view token) const {
  const Slot& s = slots_[probe(token, std::hash<std::string_view>{}(token))];
  return s.id == 0 ? kUnknownId : s.id;
}

}  // namespace tinyrec::data
