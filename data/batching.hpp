// Seeded draws that depend on the seed alone (the generators and the batching share them), and one
// batching rule for every data set and task: the order in which a training run visits rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace tinyrec::data {

// Uniform in [0, 1) from the top 53 bits of one engine output.
inline double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}
// Uniform in [0, n) by one engine output modulo n (the bias of a 64-bit draw is negligible).
inline int64_t uniform_below(std::mt19937_64& rng, int64_t n) {
  return static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
}

// Fisher-Yates with rng() % (i + 1): unlike std::shuffle, the order depends on this code and the
// seed alone, not on a standard library's distribution code (same seed, same numbers everywhere).
// The modulo bias of a 64-bit draw is negligible.
template <class V>
void shuffle_in_place(std::vector<V>& items, std::mt19937_64& rng) {
  for (size_t i = items.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng() % i);
    std::swap(items[i - 1], items[j]);
  }
}

// The rows of an epoch in mini-batches. With shuffling, every epoch — the first included — visits
// the rows in a new permutation drawn from one generator seeded once, so a seed fixes the whole
// sequence of epochs. Without it, rows come in order (evaluation, prediction).
class BatchOrder {
 public:
  BatchOrder(size_t rows, size_t batch_size, bool shuffle, uint64_t seed);
  size_t num_rows() const { return order_.size(); }
  size_t batch_size() const { return batch_size_; }
  size_t num_batches() const { return (order_.size() + batch_size_ - 1) / batch_size_; }
  // Begins the next epoch. next() before the first start_epoch() starts it by itself.
  void start_epoch();
  // The rows of the next batch (the last one of an epoch holds the remainder); false at the end of
  // the epoch, leaving `rows` untouched.
  bool next(std::vector<size_t>& rows);
  // The visiting order of the current epoch.
  const std::vector<size_t>& order() const { return order_; }
  // The generator the next epoch's permutation is drawn from.
  const std::mt19937_64& generator() const { return rng_; }
  // Continues from a saved generator(): each epoch's permutation is drawn afresh from the identity
  // order, so the generator alone decides what the next start_epoch() visits.
  void set_generator(const std::mt19937_64& generator) { rng_ = generator; }

 private:
  std::vector<size_t> order_;
  size_t batch_size_;
  bool shuffle_;
  std::mt19937_64 rng_;
  bool started_ = false;
  size_t cursor_ = 0;
};

}  // namespace tinyrec::data
