// Timelines, their category index and SIM's hard search over it; the time-gap buckets.
#include "data/long_history.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "data/ctr_dataset.hpp"

namespace tinyrec::data {

size_t LongHistories::add(Timeline t) {
  const size_t id = timelines_.size();
  const size_t n = t.items.size();
  if (t.cats.size() != n || t.times.size() != n)
    throw std::invalid_argument("timeline " + std::to_string(id) + ": " + std::to_string(n) +
                                " items, " + std::to_string(t.cats.size()) + " categories and " +
                                std::to_string(t.times.size()) + " times");
  if (n > UINT32_MAX) throw std::invalid_argument("timeline " + std::to_string(id) + ": too long");
  for (size_t p = 1; p < n; ++p)
    if (t.times[p] < t.times[p - 1])
      throw std::invalid_argument("timeline " + std::to_string(id) + ": time goes back at " +
                                  "behaviour " + std::to_string(p));
  CategoryIndex ix;
  ix.positions.resize(n);
  std::iota(ix.positions.begin(), ix.positions.end(), uint32_t{0});
  // Stable: within a category the positions stay ascending, which both searches rely on.
  std::stable_sort(ix.positions.begin(), ix.positions.end(),
                   [&](uint32_t a, uint32_t b) { return t.cats[a] < t.cats[b]; });
  for (size_t i = 0; i < n; ++i) {
    const int64_t c = t.cats[ix.positions[i]];
    if (ix.cats.empty() || ix.cats.back() != c) {
      ix.cats.push_back(c);
      ix.starts.push_back(static_cast<uint32_t>(i));
    }
  }
  ix.starts.push_back(static_cast<uint32_t>(n));
  behaviours_ += n;
  timelines_.push_back(std::move(t));
  index_.push_back(std::move(ix));
  return id;
}

size_t LongHistories::find_category(size_t i, int64_t cat, size_t end, size_t k,
                                    uint32_t* out) const {
  const CategoryIndex& ix = index_.at(i);
  const auto c = std::lower_bound(ix.cats.begin(), ix.cats.end(), cat);
  if (c == ix.cats.end() || *c != cat || k == 0) return 0;
  const size_t j = static_cast<size_t>(c - ix.cats.begin());
  const uint32_t* first = ix.positions.data() + ix.starts[j];
  const uint32_t* last = ix.positions.data() + ix.starts[j + 1];
  const uint32_t* stop = std::lower_bound(first, last, end);  // positions before the impression
  const size_t n = std::min(k, static_cast<size_t>(stop - first));
  std::copy(stop - n, stop, out);
  return n;
}

int64_t time_gap_bucket(int64_t gap, int64_t buckets) {
  if (gap < 0) gap = 0;
  int64_t b = 1;
  for (uint64_t g = static_cast<uint64_t>(gap) + 1; g > 1; g >>= 1) ++b;  // 1 + floor(log2(g))
  return std::min(b, buckets - 1);
}

void fill_long_rows(const std::vector<CtrSample>& samples, const std::vector<size_t>& rows,
                    const LongHistories& histories, CtrBatch& out) {
  out.histories = &histories;
  out.long_rows.resize(rows.size());
  for (size_t b = 0; b < rows.size(); ++b) {
    const CtrSample& s = samples[rows[b]];
    if (s.timeline < 0 || static_cast<size_t>(s.timeline) >= histories.size())
      throw std::invalid_argument("sample " + std::to_string(rows[b]) + " points to timeline " +
                                  std::to_string(s.timeline) + " of " +
                                  std::to_string(histories.size()));
    const size_t tl = static_cast<size_t>(s.timeline);
    if (s.timeline_end > histories[tl].items.size())
      throw std::invalid_argument("sample " + std::to_string(rows[b]) + " ends at behaviour " +
                                  std::to_string(s.timeline_end) + " of a timeline of " +
                                  std::to_string(histories[tl].items.size()));
    out.long_rows[b] = {tl, s.timeline_end, s.time};
  }
}

LongHistories histories_from_window(const CtrBatch& batch, std::vector<LongRow>& rows) {
  LongHistories h;
  rows.resize(batch.size);
  const size_t L = batch.max_len;
  for (size_t b = 0; b < batch.size; ++b) {
    Timeline t;
    for (size_t p = 0; p < L; ++p) {
      if (batch.mask.data()[b * L + p] == 0) continue;
      t.items.push_back(batch.hist_items.data()[b * L + p]);
      t.cats.push_back(batch.hist_cats.data()[b * L + p]);
      t.times.push_back(static_cast<int64_t>(t.times.size()));
    }
    const size_t n = t.items.size();
    rows[b] = {h.add(std::move(t)), n, static_cast<int64_t>(n)};
  }
  return h;
}

}  // namespace tinyrec::data
