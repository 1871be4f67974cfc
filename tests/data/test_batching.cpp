// Tests of the one batching rule (data/batching.hpp): BatchOrder visits every row once per epoch
// in batches whose last one holds the remainder; with shuffling, every epoch — the first included —
// is a new permutation drawn from one generator seeded once, so a seed fixes the whole sequence of
// epochs; shuffle_in_place is Fisher-Yates with rng() % (i + 1).
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/batching.hpp"

using namespace tinyrec::data;

namespace {

std::vector<size_t> iota(size_t n) {
  std::vector<size_t> v(n);
  std::iota(v.begin(), v.end(), size_t{0});
  return v;
}

// The batches of the current (or first) epoch.
std::vector<std::vector<size_t>> epoch_batches(BatchOrder& order) {
  std::vector<std::vector<size_t>> batches;
  std::vector<size_t> rows;
  while (order.next(rows)) batches.push_back(rows);
  return batches;
}

std::vector<size_t> flatten(const std::vector<std::vector<size_t>>& batches) {
  std::vector<size_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  return out;
}

// `epochs` whole epochs of a fresh BatchOrder, each flattened to its visiting order.
std::vector<std::vector<size_t>> epochs_of(size_t rows, size_t batch, uint64_t seed, int epochs) {
  BatchOrder order(rows, batch, true, seed);
  std::vector<std::vector<size_t>> out;
  for (int e = 0; e < epochs; ++e) {
    order.start_epoch();
    out.push_back(flatten(epoch_batches(order)));
  }
  return out;
}

}  // namespace

TEST_CASE("BatchOrder without shuffling: rows in order, the last batch holds the remainder") {
  BatchOrder order(10, 4, false, 7);
  CHECK(order.num_rows() == 10);
  CHECK(order.batch_size() == 4);
  CHECK(order.num_batches() == 3);
  const auto batches = epoch_batches(order);  // next() starts the first epoch by itself
  REQUIRE(batches.size() == 3);
  CHECK(batches[0] == std::vector<size_t>{0, 1, 2, 3});
  CHECK(batches[1] == std::vector<size_t>{4, 5, 6, 7});
  CHECK(batches[2] == std::vector<size_t>{8, 9});
  CHECK(order.order() == iota(10));

  // At the end of the epoch next() stays false and leaves `rows` untouched.
  std::vector<size_t> rows{42};
  CHECK_FALSE(order.next(rows));
  CHECK_FALSE(order.next(rows));
  CHECK(rows == std::vector<size_t>{42});

  order.start_epoch();  // every epoch is the same order
  CHECK(epoch_batches(order) == batches);

  // Exact multiples, one oversized batch, no rows at all.
  BatchOrder even(8, 4, false, 0);
  CHECK(even.num_batches() == 2);
  const auto even_batches = epoch_batches(even);
  REQUIRE(even_batches.size() == 2);
  CHECK(even_batches[1].size() == 4);
  BatchOrder big(3, 100, false, 0);
  CHECK(big.num_batches() == 1);
  CHECK(epoch_batches(big) == std::vector<std::vector<size_t>>{{0, 1, 2}});
  BatchOrder none(0, 4, true, 1);
  CHECK(none.num_batches() == 0);
  CHECK_FALSE(none.next(rows));
  CHECK(rows == std::vector<size_t>{42});
}

TEST_CASE("BatchOrder with shuffling: every row once per epoch, each epoch a new permutation") {
  const size_t n = 23, batch = 5;
  BatchOrder order(n, batch, true, 11);
  CHECK(order.num_batches() == 5);
  std::vector<std::vector<size_t>> seen;
  for (int e = 0; e < 4; ++e) {
    CAPTURE(e);
    order.start_epoch();
    const auto batches = epoch_batches(order);
    REQUIRE(batches.size() == 5);
    for (size_t b = 0; b + 1 < batches.size(); ++b) CHECK(batches[b].size() == batch);
    CHECK(batches.back().size() == n % batch);  // the remainder
    const std::vector<size_t> visited = flatten(batches);
    CHECK(visited == order.order());  // batches follow order()
    std::vector<size_t> sorted = visited;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == iota(n));  // every row exactly once
    CHECK(visited != iota(n));
    for (const auto& earlier : seen) CHECK(visited != earlier);  // epochs differ
    seen.push_back(visited);
  }
}

TEST_CASE("BatchOrder: the same seed gives the same sequence of epochs, another seed another") {
  const auto a = epochs_of(50, 8, 5, 4), again = epochs_of(50, 8, 5, 4),
             other = epochs_of(50, 8, 6, 4);
  CHECK(a == again);
  for (size_t e = 0; e < a.size(); ++e) {
    CAPTURE(e);
    CHECK(a[e] != other[e]);
  }
  // The batch size does not change the visiting order, only how it is cut.
  CHECK(epochs_of(50, 3, 5, 4) == a);
  // next() before the first start_epoch() starts the first epoch by itself.
  BatchOrder lazy(50, 8, true, 5);
  CHECK(flatten(epoch_batches(lazy)) == a[0]);
}

TEST_CASE("BatchOrder: one generator seeded once, the first epoch included") {
  const size_t n = 30;
  const auto epochs = epochs_of(n, 7, 2024, 3);
  std::mt19937_64 rng(2024);
  for (size_t e = 0; e < epochs.size(); ++e) {
    CAPTURE(e);
    std::vector<size_t> expected = iota(n);  // each epoch starts from the identity
    shuffle_in_place(expected, rng);
    CHECK(epochs[e] == expected);
    // Not the old rule of a generator seeded with seed + epoch (except by chance at epoch 0,
    // whose generator is the same).
    std::mt19937_64 per_epoch(2024 + e);
    std::vector<size_t> old_rule = iota(n);
    shuffle_in_place(old_rule, per_epoch);
    if (e > 0) CHECK(epochs[e] != old_rule);
  }
  // start_epoch() in the middle of an epoch begins the next one from the first batch.
  BatchOrder order(n, 7, true, 2024);
  std::vector<size_t> rows;
  REQUIRE(order.next(rows));
  REQUIRE(order.next(rows));
  order.start_epoch();
  CHECK(flatten(epoch_batches(order)) == epochs[1]);
}

TEST_CASE("BatchOrder rejects a batch size of 0") {
  CHECK_THROWS_WITH_AS(BatchOrder(10, 0, false, 1), doctest::Contains("batch size"),
                       std::invalid_argument);
}

TEST_CASE("shuffle_in_place: Fisher-Yates with rng() % (i + 1), the seed alone decides") {
  // Written out independently: for i = n - 1 down to 1, swap item i with item rng() % (i + 1).
  auto reference = [](std::vector<std::string> v, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[size_t(rng() % i)]);
    return v;
  };
  const std::vector<std::string> letters{"a", "b", "c", "d", "e", "f", "g", "h"};
  for (uint64_t seed : {0u, 1u, 7u, 123456u}) {
    CAPTURE(seed);
    std::vector<std::string> v = letters;
    std::mt19937_64 rng(seed);
    shuffle_in_place(v, rng);
    CHECK(v == reference(letters, seed));
    std::vector<std::string> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == letters);
  }
  // std::mt19937_64 is specified by the standard, so this order is the same everywhere.
  std::vector<size_t> v = iota(8);
  std::mt19937_64 rng(1);
  shuffle_in_place(v, rng);
  CHECK(v == std::vector<size_t>{4, 6, 3, 5, 1, 7, 2, 0});

  // Nothing to shuffle: no draw is taken.
  std::vector<int> empty, one{5};
  std::mt19937_64 a(3), b(3);
  shuffle_in_place(empty, a);
  shuffle_in_place(one, a);
  CHECK(empty.empty());
  CHECK(one == std::vector<int>{5});
  CHECK(a() == b());
}
