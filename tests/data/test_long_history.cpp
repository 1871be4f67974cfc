// Whole histories: the per-user category index and its search (exact answers on a hand-built
// timeline), the time-gap buckets, batches pointing into timelines, the short-history fallback,
// the long synthetic data (seeded, its story measured), and MovieLens timelines.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/ctr_dataset.hpp"
#include "data/long_history.hpp"
#include "data/movielens_reader.hpp"
#include "data/sim_synthetic.hpp"
#include "nn/metrics.hpp"

using namespace tinyrec;
using namespace tinyrec::data;

namespace {

// Categories 2 3 2 4 2 2 3 at times 10 20 30 40 50 60 70.
LongHistories hand_built() {
  LongHistories h;
  h.add({{12, 13, 22, 14, 32, 42, 23}, {2, 3, 2, 4, 2, 2, 3}, {10, 20, 30, 40, 50, 60, 70}});
  h.add({{5}, {4}, {100}});
  return h;
}

std::vector<uint32_t> found(const LongHistories& h, size_t i, int64_t cat, size_t end, size_t k) {
  std::vector<uint32_t> out(k + 1, 999);
  const size_t n = h.find_category(i, cat, end, k, out.data());
  CHECK(out[n] == 999);  // nothing written past the count
  out.resize(n);
  return out;
}

}  // namespace

TEST_CASE("category index: the most recent k behaviours of a category before the impression") {
  const LongHistories h = hand_built();
  REQUIRE(h.size() == 2);
  CHECK(h.behaviours() == 8);
  using P = std::vector<uint32_t>;
  CHECK(found(h, 0, 2, 7, 10) == P{0, 2, 4, 5});  // fewer than k: all of them
  CHECK(found(h, 0, 2, 7, 2) == P{4, 5});         // more than k: the most recent
  CHECK(found(h, 0, 2, 5, 2) == P{2, 4});         // only behaviours before position 5
  CHECK(found(h, 0, 2, 4, 3) == P{0, 2});
  CHECK(found(h, 0, 3, 7, 1) == P{6});
  CHECK(found(h, 0, 3, 6, 5) == P{1});
  CHECK(found(h, 0, 4, 3, 5).empty());  // its one behaviour comes later
  CHECK(found(h, 0, 9, 7, 5).empty());  // a category the user never touched
  CHECK(found(h, 0, 1, 7, 5).empty());  // below every category present
  CHECK(found(h, 0, 2, 0, 5).empty());  // an empty history
  CHECK(found(h, 0, 2, 7, 0).empty());
  CHECK(found(h, 1, 4, 1, 5) == P{0});
}

TEST_CASE("timelines: malformed ones are refused with the reason") {
  LongHistories h;
  CHECK_THROWS_WITH_AS(h.add({{1, 2}, {3}, {0, 1}}), doctest::Contains("2 items, 1 categories"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(h.add({{1, 2}, {3, 3}, {5, 4}}),
                       doctest::Contains("time goes back at behaviour 1"), std::invalid_argument);
  CHECK(h.size() == 0);
}

TEST_CASE("time-gap buckets double in width, 0 is padding") {
  CHECK(time_gap_bucket(0, 32) == 1);
  CHECK(time_gap_bucket(1, 32) == 2);
  CHECK(time_gap_bucket(2, 32) == 2);
  CHECK(time_gap_bucket(3, 32) == 3);
  CHECK(time_gap_bucket(6, 32) == 3);
  CHECK(time_gap_bucket(7, 32) == 4);
  CHECK(time_gap_bucket(1023, 32) == 11);
  CHECK(time_gap_bucket(86400, 32) == 17);             // a day in seconds: 2^16 <= 86401 < 2^17
  CHECK(time_gap_bucket(int64_t(1) << 40, 32) == 31);  // capped
  CHECK(time_gap_bucket(-5, 32) == 1);                 // a clock running backwards: no gap
}

TEST_CASE("batches point into timelines, or build them from their own short histories") {
  std::vector<CtrSample> samples(2);
  samples[0].hist_items = {4, 5, 6};
  samples[0].hist_cats = {2, 3, 2};
  samples[0].timeline = 0;
  samples[0].timeline_end = 5;
  samples[0].time = 55;
  samples[1].hist_items = {7};
  samples[1].hist_cats = {4};
  const LongHistories h = hand_built();
  CtrBatch b;
  fill_ctr_batch(samples, {0}, 4, false, b);
  CHECK(b.histories == nullptr);
  fill_long_rows(samples, {0}, h, b);
  CHECK(b.histories == &h);
  REQUIRE(b.long_rows.size() == 1);
  CHECK(b.long_rows[0].timeline == 0);
  CHECK(b.long_rows[0].end == 5);
  CHECK(b.long_rows[0].now == 55);
  fill_ctr_batch(samples, {0, 1}, 4, false, b);  // a new batch forgets the old rows
  CHECK(b.histories == nullptr);
  CHECK(b.long_rows.empty());
  CHECK_THROWS_WITH_AS(fill_long_rows(samples, {0, 1}, h, b),
                       doctest::Contains("sample 1 points to timeline -1 of 2"),
                       std::invalid_argument);
  samples[0].timeline_end = 8;
  CHECK_THROWS_WITH_AS(fill_long_rows(samples, {0}, h, b),
                       doctest::Contains("ends at behaviour 8 of a timeline of 7"),
                       std::invalid_argument);

  std::vector<LongRow> rows;
  const LongHistories w = histories_from_window(b, rows);
  REQUIRE(w.size() == 2);
  REQUIRE(rows.size() == 2);
  CHECK(w[0].items == std::vector<int64_t>{4, 5, 6});
  CHECK(w[0].cats == std::vector<int64_t>{2, 3, 2});
  CHECK(w[0].times == std::vector<int64_t>{0, 1, 2});
  CHECK(w[1].items == std::vector<int64_t>{7});
  CHECK(rows[0].timeline == 0);
  CHECK(rows[0].end == 3);
  CHECK(rows[0].now == 3);  // the gap of the latest behaviour is 1
  CHECK(rows[1].end == 1);
}

TEST_CASE("long synthetic data: seeded, well formed, and far-back behaviours decide clicks") {
  SimSyntheticConfig c;
  c.users = 150;
  c.hist_len_min = 1000;
  c.hist_len_max = 3000;
  c.samples_per_user = 20;
  const CtrDataset a = make_sim_synthetic(c);
  const CtrDataset b = make_sim_synthetic(c);
  REQUIRE(a.histories != nullptr);
  REQUIRE(a.train.size() == 120 * 20);
  REQUIRE(a.test.size() == 30 * 20);
  CHECK(a.histories->size() == 150);
  for (size_t i = 0; i < a.train.size(); i += 97) {
    CHECK(a.train[i].hist_items == b.train[i].hist_items);
    CHECK(a.train[i].label == b.train[i].label);
    CHECK(a.train[i].time == b.train[i].time);
  }
  c.seed = 2;
  CHECK(make_sim_synthetic(c).train[0].hist_items != a.train[0].hist_items);

  // Every sample: a window of 50 that is the end of its timeline's prefix, an impression after its
  // last behaviour, a first impression after 1,000 to 3,000 behaviours.
  std::vector<float> window_count, last_gap, labels;
  size_t clicked_current_unseen = 0, clicked = 0;
  for (const auto* split : {&a.train, &a.test})
    for (const CtrSample& s : *split) {
      REQUIRE(s.timeline >= 0);
      const Timeline& t = (*a.histories)[size_t(s.timeline)];
      REQUIRE(s.timeline_end <= t.items.size());
      CHECK(s.timeline_end >= 1000);
      REQUIRE(s.hist_items.size() == 50);
      CHECK(std::equal(s.hist_items.begin(), s.hist_items.end(),
                       t.items.begin() + std::ptrdiff_t(s.timeline_end - 50)));
      CHECK(std::equal(s.hist_cats.begin(), s.hist_cats.end(),
                       t.cats.begin() + std::ptrdiff_t(s.timeline_end - 50)));
      CHECK(s.time >= t.times[s.timeline_end - 1]);
      CHECK(std::is_sorted(t.times.begin(), t.times.end()));
      const auto in_window = std::count(s.hist_cats.begin(), s.hist_cats.end(), s.cat);
      int64_t last = -1;
      for (size_t p = 0; p < s.timeline_end; ++p)
        if (t.cats[p] == s.cat) last = t.times[p];
      window_count.push_back(float(in_window));
      last_gap.push_back(last < 0 ? -100.0f : -float(std::log1p(double(s.time - last))));
      labels.push_back(s.label);
      clicked += s.label > 0;
      // A click on a category seen within the last week but not among the last 50 behaviours.
      clicked_current_unseen +=
          s.label > 0 && in_window == 0 && last >= 0 && s.time - last < 7 * 86400;
    }
  // The story's numbers, on this seed: a third of the clicks are on interests the window misses;
  // how recently the category was visited ranks far better than what the window shows.
  CHECK(double(clicked_current_unseen) / double(clicked) == doctest::Approx(0.37).epsilon(0.1));
  const double window_auc = metrics::auc(window_count, labels);
  const double recency_auc = metrics::auc(last_gap, labels);
  CHECK(window_auc == doctest::Approx(0.66).epsilon(0.05));
  CHECK(recency_auc == doctest::Approx(0.85).epsilon(0.05));
}

TEST_CASE("long synthetic data: bad settings are named") {
  SimSyntheticConfig c;
  c.interests = c.cats;
  CHECK_THROWS_WITH_AS(make_sim_synthetic(c), doctest::Contains("interests must be in [1, cats)"),
                       std::invalid_argument);
  c = {};
  c.hist_len_min = 20;
  c.hist_len_max = 10;
  CHECK_THROWS_WITH_AS(make_sim_synthetic(c), doctest::Contains("hist_len_min <= hist_len_max"),
                       std::invalid_argument);
}

// The fixture of test_movielens_reader.cpp: user 1 rated movies 1, 3, 2, 4 at times 100, 200, 300,
// 400 (dense ids 2, 3, 4, 5; first genres 2, 3, 4, 5).
TEST_CASE("MovieLens: every user's whole timeline with rating times, samples pointing into it") {
  const std::string dir = std::string(TINYREC_SOURCE_DIR) + "/tests/data/fixtures/";
  const CtrDataset ds = read_movielens(dir + "ml_ratings.csv", dir + "ml_movies.csv", 0.0, 1, 1);
  REQUIRE(ds.histories != nullptr);
  REQUIRE(ds.histories->size() == 3);
  const Timeline& t = (*ds.histories)[0];
  CHECK(t.items == std::vector<int64_t>{2, 3, 4, 5});
  CHECK(t.cats == std::vector<int64_t>{2, 3, 4, 5});
  CHECK(t.times == std::vector<int64_t>{100, 200, 300, 400});
  REQUIRE(ds.train.size() >= 3);
  for (size_t k = 1; k <= 3; ++k) {
    const CtrSample& s = ds.train[k - 1];
    CHECK(s.timeline == 0);
    CHECK(s.timeline_end == k);
    CHECK(s.time == t.times[k]);
    CHECK(s.item == t.items[k]);
    CHECK(s.hist_items == std::vector<int64_t>{t.items[k - 1]});  // --max-len 1 for the others
  }
  CHECK(ds.train[3].timeline == 1);
}
