// Whole behaviour histories with timestamps, stored once per user, and the index SIM's hard search
// reads: per user, behaviour positions grouped by category (the paper's user-behaviour tree, keyed
// by user and then by category). A sample points into its user's timeline (CtrSample::timeline,
// ::timeline_end, ::time), so thousands of behaviours are not copied into every sample; the other
// click models keep reading the sample's own short history (hist_items / hist_cats).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tinyrec::data {

struct CtrBatch;
struct CtrSample;

// One user's behaviours, oldest first: item and category ids and the time of each (non-decreasing;
// seconds for MovieLens and the long synthetic data, positions where there is no clock).
struct Timeline {
  std::vector<int64_t> items, cats, times;
};

// Timelines with a category index built once, when each is added.
class LongHistories {
 public:
  // Appends `t` and indexes it; returns its id (0, 1, ...). Throws std::invalid_argument naming
  // the timeline when its three vectors differ in length or its times decrease.
  size_t add(Timeline t);
  size_t size() const { return timelines_.size(); }
  const Timeline& operator[](size_t i) const { return timelines_.at(i); }
  // Behaviours held, over all timelines.
  size_t behaviours() const { return behaviours_; }

  // Hard search: the positions p < end of timeline `i` whose category is `cat`, at most k of them
  // and the most recent ones, written to `out` oldest first; returns how many. O(log n + k): a
  // binary search for the category, another for `end` inside its positions.
  size_t find_category(size_t i, int64_t cat, size_t end, size_t k, uint32_t* out) const;

 private:
  // One timeline's positions sorted by (category, position): the categories present, ascending,
  // and where each one's run of positions starts (starts.back() == positions.size()).
  struct CategoryIndex {
    std::vector<int64_t> cats;
    std::vector<uint32_t> starts;
    std::vector<uint32_t> positions;
  };
  std::vector<Timeline> timelines_;
  std::vector<CategoryIndex> index_;
  size_t behaviours_ = 0;
};

// Row b of a batch sees behaviours [0, end) of timeline `timeline`, at impression time `now`.
struct LongRow {
  size_t timeline = 0;
  size_t end = 0;
  int64_t now = 0;
};

// The bucket of a time gap (now − then, clamped at 0): 1 + floor(log2(gap + 1)), at most
// buckets − 1; bucket 0 is padding. Doubling widths: minutes apart matter a year back, not days.
int64_t time_gap_bucket(int64_t gap, int64_t buckets);

// Points batch rows at their samples' timelines: sets out.histories and out.long_rows for
// samples[rows[0]], samples[rows[1]], ... Throws std::invalid_argument when a sample has no
// timeline or points outside `histories`.
void fill_long_rows(const std::vector<CtrSample>& samples, const std::vector<size_t>& rows,
                    const LongHistories& histories, CtrBatch& out);

// For data without whole histories: one timeline per row made of the batch's own short history
// (its real positions), timed by position (behaviour t at time t, the impression at time n, so the
// gap counts behaviours), and the rows pointing at them.
LongHistories histories_from_window(const CtrBatch& batch, std::vector<LongRow>& rows);

}  // namespace tinyrec::data
