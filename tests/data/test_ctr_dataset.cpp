// Tests of the CTR batcher (padding, truncation keeping the most recent, masks, shuffling by seed,
// buffer reuse), fill_ctr_batch, id counting and the string vocabulary.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xio.hpp>

#include "data/batching.hpp"
#include "data/ctr_dataset.hpp"

using namespace tinyrec::data;

namespace {

CtrSample sample(int64_t user, int64_t item, int64_t cat, std::vector<int64_t> hist_items,
                 std::vector<int64_t> hist_cats, float label) {
  CtrSample s;
  s.user = user;
  s.item = item;
  s.cat = cat;
  s.hist_items = std::move(hist_items);
  s.hist_cats = std::move(hist_cats);
  s.label = label;
  return s;
}

// Five samples: a short history, an empty one, one longer than max_len = 4, one of exactly 4, one
// of 1.
std::vector<CtrSample> five_samples() {
  return {sample(2, 3, 2, {4, 5, 6}, {2, 3, 2}, 1.0f), sample(3, 4, 3, {}, {}, 0.0f),
          sample(4, 5, 2, {2, 3, 4, 5, 6}, {2, 2, 3, 3, 2}, 1.0f),
          sample(5, 6, 4, {7, 8, 9, 10}, {4, 4, 3, 2}, 0.0f), sample(6, 7, 3, {11}, {5}, 1.0f)};
}

// n samples whose item id is 100 + index, so a batch row tells which sample it came from.
std::vector<CtrSample> numbered(size_t n) {
  std::vector<CtrSample> v;
  for (size_t i = 0; i < n; ++i) {
    const auto id = static_cast<int64_t>(i);
    v.push_back(sample(2 + id, 100 + id, 2, {100 + id}, {2}, static_cast<float>(i % 2)));
  }
  return v;
}

// A [n, 1] array (a braced {{a}, {b}} literal is ambiguous for xtensor).
template <class T>
xt::xarray<T> column(std::initializer_list<T> values) {
  xt::xarray<T> a = xt::adapt(std::vector<T>(values), std::vector<size_t>{values.size(), 1});
  return a;
}

// The item ids of a whole epoch, in batch order.
std::vector<int64_t> epoch_items(CtrBatcher& batcher) {
  std::vector<int64_t> items;
  CtrBatch b;
  while (batcher.next(b))
    for (size_t r = 0; r < b.size; ++r) items.push_back(b.item(r));
  return items;
}

}  // namespace

TEST_CASE("CtrBatcher pads on the right, truncates to the most recent and masks padding") {
  const auto samples = five_samples();
  CtrBatcher batcher(samples, 2, 4, /*shuffle=*/false, 7);
  CHECK(batcher.num_batches() == 3);
  CHECK(batcher.num_samples() == 5);

  CtrBatch b;
  REQUIRE(batcher.next(b));
  CHECK(b.size == 2);
  CHECK(b.max_len == 4);
  REQUIRE(b.hist_items.shape() == std::vector<size_t>{2, 4});
  REQUIRE(b.mask.shape() == std::vector<size_t>{2, 4});
  CHECK(b.user == xt::xarray<int64_t>{2, 3});
  CHECK(b.item == xt::xarray<int64_t>{3, 4});
  CHECK(b.cat == xt::xarray<int64_t>{2, 3});
  CHECK(b.label == xt::xarray<float>{1.0f, 0.0f});
  CHECK(b.hist_items == xt::xarray<int64_t>{{4, 5, 6, 0}, {0, 0, 0, 0}});
  CHECK(b.hist_cats == xt::xarray<int64_t>{{2, 3, 2, 0}, {0, 0, 0, 0}});
  CHECK(b.mask == xt::xarray<float>{{1, 1, 1, 0}, {0, 0, 0, 0}});

  REQUIRE(batcher.next(b));
  CHECK(b.size == 2);
  // Five behaviours, max_len 4: the oldest (2 / 2) is dropped, order kept.
  CHECK(b.hist_items == xt::xarray<int64_t>{{3, 4, 5, 6}, {7, 8, 9, 10}});
  CHECK(b.hist_cats == xt::xarray<int64_t>{{2, 3, 3, 2}, {4, 4, 3, 2}});
  CHECK(b.mask == xt::xarray<float>{{1, 1, 1, 1}, {1, 1, 1, 1}});
  CHECK(b.label == xt::xarray<float>{1.0f, 0.0f});

  REQUIRE(batcher.next(b));  // the last batch is smaller
  CHECK(b.size == 1);
  REQUIRE(b.hist_items.shape() == std::vector<size_t>{1, 4});
  CHECK(b.user == xt::xarray<int64_t>{6});
  CHECK(b.hist_items == xt::xarray<int64_t>{{11, 0, 0, 0}});
  CHECK(b.hist_cats == xt::xarray<int64_t>{{5, 0, 0, 0}});
  CHECK(b.mask == xt::xarray<float>{{1, 0, 0, 0}});

  CHECK_FALSE(batcher.next(b));
  CHECK_FALSE(batcher.next(b));  // stays at the end until the next epoch

  batcher.start_epoch();  // without shuffling, every epoch is the file order
  REQUIRE(batcher.next(b));
  CHECK(b.user == xt::xarray<int64_t>{2, 3});
}

TEST_CASE("CtrBatcher with max_len 1 keeps only the last behaviour") {
  const auto samples = five_samples();
  CtrBatcher batcher(samples, 5, 1, false, 0);
  CHECK(batcher.num_batches() == 1);
  CtrBatch b;
  REQUIRE(batcher.next(b));
  CHECK(b.hist_items == column<int64_t>({6, 0, 6, 10, 11}));
  CHECK(b.hist_cats == column<int64_t>({2, 0, 2, 2, 5}));
  CHECK(b.mask == column<float>({1, 0, 1, 1, 1}));
  CHECK_FALSE(batcher.next(b));
}

TEST_CASE("CtrBatcher trimmed to the longest history in the batch") {
  const auto samples = five_samples();
  CtrBatcher batcher(samples, 2, 4, false, 0);
  batcher.set_trim_to_longest(true);
  CtrBatch b;
  REQUIRE(batcher.next(b));  // longest 3
  CHECK(b.max_len == 3);
  CHECK(b.hist_items == xt::xarray<int64_t>{{4, 5, 6}, {0, 0, 0}});
  CHECK(b.mask == xt::xarray<float>{{1, 1, 1}, {0, 0, 0}});
  REQUIRE(batcher.next(b));  // longest 5, capped at max_len 4
  CHECK(b.max_len == 4);
  CHECK(b.hist_items == xt::xarray<int64_t>{{3, 4, 5, 6}, {7, 8, 9, 10}});
  REQUIRE(batcher.next(b));  // longest 1
  CHECK(b.max_len == 1);
  CHECK(b.hist_items == column<int64_t>({11}));

  const std::vector<CtrSample> empty_histories = {sample(2, 2, 2, {}, {}, 0.0f)};
  CtrBatcher empty(empty_histories, 4, 4, false, 0);
  empty.set_trim_to_longest(true);
  REQUIRE(empty.next(b));  // never a zero-width array
  CHECK(b.max_len == 1);
  CHECK(b.hist_items == column<int64_t>({0}));
  CHECK(b.mask == column<float>({0}));
}

TEST_CASE("fill_ctr_batch takes any rows in the order given") {
  const auto samples = five_samples();
  CtrBatch b;
  fill_ctr_batch(samples, {4, 2, 4}, 4, false, b);
  CHECK(b.size == 3);
  CHECK(b.max_len == 4);
  CHECK(b.user == xt::xarray<int64_t>{6, 4, 6});
  CHECK(b.label == xt::xarray<float>{1.0f, 1.0f, 1.0f});
  CHECK(b.hist_items == xt::xarray<int64_t>{{11, 0, 0, 0}, {3, 4, 5, 6}, {11, 0, 0, 0}});
  CHECK(b.mask == xt::xarray<float>{{1, 0, 0, 0}, {1, 1, 1, 1}, {1, 0, 0, 0}});
  fill_ctr_batch(samples, {1, 4}, 4, true, b);  // trimmed: longest 1
  CHECK(b.max_len == 1);
  CHECK(b.hist_items == column<int64_t>({0, 11}));
  CHECK(b.mask == column<float>({0, 1}));
}

TEST_CASE("CtrBatcher reuses the batch buffers when the shape is unchanged") {
  const auto samples = numbered(10);
  CtrBatcher batcher(samples, 4, 3, true, 1);
  CtrBatch b;
  REQUIRE(batcher.next(b));
  const int64_t* hist = b.hist_items.data();
  const float* mask = b.mask.data();
  const int64_t* user = b.user.data();
  REQUIRE(batcher.next(b));
  CHECK(b.hist_items.data() == hist);
  CHECK(b.mask.data() == mask);
  CHECK(b.user.data() == user);
}

TEST_CASE("CtrBatcher shuffles every epoch from one generator seeded once") {
  const auto samples = numbered(20);
  std::vector<int64_t> file_order(20);
  std::iota(file_order.begin(), file_order.end(), int64_t{100});

  CtrBatcher a(samples, 3, 2, true, 42), same(samples, 3, 2, true, 42),
      other(samples, 3, 2, true, 43);
  CHECK(a.num_batches() == 7);
  a.start_epoch();
  same.start_epoch();
  other.start_epoch();
  const auto a0 = epoch_items(a), same0 = epoch_items(same), other0 = epoch_items(other);
  CHECK(a0 == same0);
  CHECK(a0 != other0);
  CHECK(a0 != file_order);
  auto sorted = a0;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == file_order);  // every sample exactly once

  // The second epoch continues the same generator: a new order, the same as the second epoch of
  // a batcher of the same seed, and every sample once again.
  a.start_epoch();
  same.start_epoch();
  const auto a1 = epoch_items(a);
  CHECK(a1 != a0);
  CHECK(a1 == epoch_items(same));
  sorted = a1;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == file_order);

  // The rule itself: the first epoch is the first permutation of one std::mt19937_64 seeded once
  // with the seed, the second epoch the next permutation of the same generator (not a generator
  // seeded with seed + 1).
  std::mt19937_64 rng(42);
  std::vector<int64_t> expected = file_order;
  shuffle_in_place(expected, rng);
  CHECK(a0 == expected);
  expected = file_order;
  shuffle_in_place(expected, rng);
  CHECK(a1 == expected);
  std::mt19937_64 next_seed(43);
  std::vector<int64_t> old_rule = file_order;
  shuffle_in_place(old_rule, next_seed);
  CHECK(a1 != old_rule);

  // The same seed gives the same whole sequence of epochs.
  for (int e = 2; e < 5; ++e) {
    CAPTURE(e);
    a.start_epoch();
    same.start_epoch();
    CHECK(epoch_items(a) == epoch_items(same));
  }

  // next() before start_epoch() starts the first epoch by itself.
  CtrBatcher lazy(samples, 3, 2, true, 42);
  CHECK(epoch_items(lazy) == a0);

  // Rows keep their sample's fields together when shuffled.
  CtrBatcher c(samples, 20, 2, true, 5);
  CtrBatch b;
  REQUIRE(c.next(b));
  for (size_t r = 0; r < b.size; ++r) {
    const CtrSample& s = samples[c.order()[r]];
    CHECK(b.item(r) == s.item);
    CHECK(b.user(r) == s.user);
    CHECK(b.hist_items(r, 0) == s.hist_items[0]);
    CHECK(b.label(r) == s.label);
  }
}

TEST_CASE("CtrBatcher rejects bad arguments") {
  const auto samples = five_samples();
  CHECK_THROWS_AS(CtrBatcher(samples, 0, 4, false, 0), std::invalid_argument);
  CHECK_THROWS_AS(CtrBatcher(samples, 2, 0, false, 0), std::invalid_argument);
  const std::vector<CtrSample> ragged = {sample(2, 2, 2, {2, 3}, {2}, 0.0f)};
  CHECK_THROWS_WITH_AS(CtrBatcher(ragged, 2, 4, false, 0),
                       "sample 0 has 2 history items but 1 history categories",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(check_ctr_samples(ragged),
                       "sample 0 has 2 history items but 1 history categories",
                       std::invalid_argument);
  CHECK_NOTHROW(check_ctr_samples(samples));
  const std::vector<CtrSample> none;
  CtrBatcher empty(none, 2, 4, true, 0);
  CHECK(empty.num_batches() == 0);
  CtrBatch b;
  CHECK_FALSE(empty.next(b));
}

TEST_CASE("count_train_ids counts targets and histories in train only") {
  CtrDataset ds;
  ds.n_items = 7;
  ds.n_cats = 5;
  ds.train = {sample(2, 3, 2, {4, 5, 6}, {2, 3, 2}, 1.0f), sample(3, 3, 4, {3}, {4}, 0.0f)};
  ds.test = {sample(1, 6, 4, {6, 6}, {4, 4}, 1.0f)};
  count_train_ids(ds);
  CHECK(ds.item_counts == std::vector<int64_t>{0, 0, 0, 3, 1, 1, 1});
  CHECK(ds.cat_counts == std::vector<int64_t>{0, 0, 3, 1, 2});

  ds.train.push_back(sample(2, 7, 2, {}, {}, 0.0f));
  CHECK_THROWS_AS(count_train_ids(ds), std::out_of_range);
}

TEST_CASE("Vocabulary gives dense ids from 2 and 1 for unseen tokens") {
  Vocabulary v;
  CHECK(v.size() == 2);
  CHECK(v.add("B00A") == 2);
  CHECK(v.add("Books") == 3);
  CHECK(v.add("B00A") == 2);
  CHECK(v.size() == 4);
  CHECK(v.find("Books") == 3);
  CHECK(v.find("Music") == kUnknownId);
  CHECK(v.size() == 4);  // find never adds
  CHECK(v.token(2) == "B00A");
  CHECK(v.token(3) == "Books");
  CHECK_THROWS_AS(v.token(1), std::out_of_range);
  CHECK_THROWS_AS(v.token(4), std::out_of_range);
}

TEST_CASE("Vocabulary keeps every id through many growths of its table") {
  Vocabulary v;
  const int n = 5000;
  for (int i = 0; i < n; ++i) REQUIRE(v.add("tok" + std::to_string(i)) == i + 2);
  CHECK(v.size() == n + 2);
  for (int i = 0; i < n; ++i) {
    const std::string t = "tok" + std::to_string(i);
    REQUIRE(v.find(t) == i + 2);
    REQUIRE(v.add(t) == i + 2);
    REQUIRE(v.token(i + 2) == t);
  }
  CHECK(v.find("tok5000") == kUnknownId);
  CHECK(v.find("tok") == kUnknownId);  // a prefix of every token is not one of them
  CHECK(v.size() == n + 2);
}
