// The batching rule shared by every training run.
#include "data/batching.hpp"

#include <numeric>
#include <stdexcept>

namespace tinyrec::data {

BatchOrder::BatchOrder(size_t rows, size_t batch_size, bool shuffle, uint64_t seed)
    : order_(rows), batch_size_(batch_size), shuffle_(shuffle), rng_(seed) {
  if (batch_size == 0) throw std::invalid_argument("batch size must be at least 1");
}

void BatchOrder::start_epoch() {
  std::iota(order_.begin(), order_.end(), size_t{0});
  if (shuffle_) shuffle_in_place(order_, rng_);
  started_ = true;
  cursor_ = 0;
}

bool BatchOrder::next(std::vector<size_t>& rows) {
  if (!started_) start_epoch();
  if (cursor_ >= order_.size()) return false;
  const size_t n = std::min(batch_size_, order_.size() - cursor_);
  rows.assign(order_.begin() + std::ptrdiff_t(cursor_),
              order_.begin() + std::ptrdiff_t(cursor_ + n));
  cursor_ += n;
  return true;
}

}  // namespace tinyrec::data
