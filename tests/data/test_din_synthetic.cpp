// Tests of the synthetic DIN data: determinism by seed, sizes, id ranges, label balance, and that
// clicks follow the generative story (the part of the history matching the candidate decides).
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <vector>

#include "data/din_synthetic.hpp"

using namespace tinyrec::data;

namespace {

// Behaviours in the history sharing the candidate's category: the m of the story.
int64_t matching(const CtrSample& s) {
  return std::count(s.hist_cats.begin(), s.hist_cats.end(), s.cat);
}

bool same_samples(const std::vector<CtrSample>& a, const std::vector<CtrSample>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].user != b[i].user || a[i].item != b[i].item || a[i].cat != b[i].cat ||
        a[i].hist_items != b[i].hist_items || a[i].hist_cats != b[i].hist_cats ||
        a[i].label != b[i].label)
      return false;
  return true;
}

double positive_rate(const std::vector<CtrSample>& v) {
  double pos = 0.0;
  for (const CtrSample& s : v) pos += s.label;
  return pos / static_cast<double>(v.size());
}

}  // namespace

TEST_CASE("make_din_synthetic: sizes, id ranges and the catalogue with the default config") {
  const DinSyntheticConfig c;
  const CtrDataset ds = make_din_synthetic(c);
  CHECK(ds.name == "din_synthetic");
  // 2000 users x 10 samples; 400 users (20%) held out.
  CHECK(ds.train.size() == 16000);
  CHECK(ds.test.size() == 4000);
  CHECK(ds.n_users == 1602);
  CHECK(ds.n_items == 1002);
  CHECK(ds.n_cats == 52);
  REQUIRE(ds.item_counts.size() == 1002);
  REQUIRE(ds.cat_counts.size() == 52);

  std::map<int64_t, int> samples_of_user;
  size_t shortest = 1000, longest = 0;
  for (const CtrSample& s : ds.train) {
    REQUIRE(s.user >= kFirstRealId);
    REQUIRE(s.user < ds.n_users);
    REQUIRE(s.user_key == s.user);
    ++samples_of_user[s.user];
    REQUIRE(s.hist_items.size() == s.hist_cats.size());
    shortest = std::min(shortest, s.hist_items.size());
    longest = std::max(longest, s.hist_items.size());
    // Item i+2 belongs to category (i mod cats)+2, in the candidate and in every behaviour.
    REQUIRE(s.cat == (s.item - 2) % c.cats + 2);
    for (size_t t = 0; t < s.hist_items.size(); ++t)
      REQUIRE(s.hist_cats[t] == (s.hist_items[t] - 2) % c.cats + 2);
  }
  CHECK(shortest == 5);
  CHECK(longest == 40);
  CHECK(samples_of_user.size() == 1600);
  CHECK(std::all_of(samples_of_user.begin(), samples_of_user.end(),
                    [](const auto& kv) { return kv.second == 10; }));

  std::map<int64_t, int> samples_of_test_user;
  for (const CtrSample& s : ds.test) {
    REQUIRE(s.user == kUnknownId);      // held-out users are unseen in training
    REQUIRE(s.user_key >= ds.n_users);  // but keep keys of their own for GAUC
    REQUIRE(s.user_key < ds.n_users + 400);
    ++samples_of_test_user[s.user_key];
    REQUIRE(s.item >= kUnknownId);
    REQUIRE(s.item < ds.n_items);
    REQUIRE(s.cat >= kUnknownId);
    REQUIRE(s.cat < ds.n_cats);
  }
  CHECK(samples_of_test_user.size() == 400);
  CHECK(std::all_of(samples_of_test_user.begin(), samples_of_test_user.end(),
                    [](const auto& kv) { return kv.second == 10; }));
  CHECK(ds.item_counts[0] == 0);
  CHECK(ds.item_counts[1] == 0);
  CHECK(*std::min_element(ds.item_counts.begin() + 2, ds.item_counts.end()) >= 1);
}

TEST_CASE("make_din_synthetic is deterministic by seed") {
  DinSyntheticConfig c;
  c.users = 300;
  const CtrDataset a = make_din_synthetic(c), b = make_din_synthetic(c);
  CHECK(same_samples(a.train, b.train));
  CHECK(same_samples(a.test, b.test));
  CHECK(a.item_counts == b.item_counts);
  c.seed = 2;
  const CtrDataset other = make_din_synthetic(c);
  CHECK_FALSE(same_samples(a.train, other.train));
}

TEST_CASE("make_din_synthetic labels are balanced and follow the matching part of the history") {
  const CtrDataset ds = make_din_synthetic(DinSyntheticConfig{});
  const double rate = positive_rate(ds.train);
  CHECK(rate > 0.3);
  CHECK(rate < 0.6);
  CHECK(positive_rate(ds.test) > 0.3);
  CHECK(positive_rate(ds.test) < 0.6);

  // Click probability sigmoid(1.2 (m - 2)): 8.3% at m = 0, at least 91.7% at m >= 4.
  double clicks[3] = {0, 0, 0}, count[3] = {0, 0, 0};  // m == 0, 1 <= m <= 3, m >= 4
  for (const CtrSample& s : ds.train) {
    const int64_t m = matching(s);
    const int g = m == 0 ? 0 : (m <= 3 ? 1 : 2);
    clicks[g] += s.label;
    count[g] += 1;
  }
  REQUIRE(count[0] > 1000);
  REQUIRE(count[2] > 1000);
  CHECK(clicks[0] / count[0] < 0.12);
  CHECK(clicks[2] / count[2] > 0.88);
  // Candidate category present in the history or not: far apart.
  const double present = (clicks[1] + clicks[2]) / (count[1] + count[2]);
  CHECK(present - clicks[0] / count[0] > 0.5);
}

TEST_CASE("make_din_synthetic follows its story exactly in the limits") {
  // A very steep click curve makes the label the step m >= 3; no noise keeps every behaviour inside
  // the user's interests, so a user's histories span at most interests_per_user categories.
  DinSyntheticConfig c;
  c.users = 200;
  c.noise_rate = 0.0;
  c.click_slope = 60.0;
  c.click_midpoint = 2.5;
  c.test_fraction = 0.0;
  const CtrDataset ds = make_din_synthetic(c);
  CHECK(ds.train.size() == 2000);
  CHECK(ds.test.empty());
  std::map<int64_t, std::set<int64_t>> cats_of_user;
  for (const CtrSample& s : ds.train) {
    REQUIRE(s.label == (matching(s) >= 3 ? 1.0f : 0.0f));
    cats_of_user[s.user].insert(s.hist_cats.begin(), s.hist_cats.end());
  }
  for (const auto& [user, cats] : cats_of_user) REQUIRE(cats.size() <= 3);

  // All candidates from the interests: the candidate's category is one of the user's history ones
  // whenever that user showed all three interests.
  c.candidate_interest_rate = 1.0;
  const CtrDataset in = make_din_synthetic(c);
  cats_of_user.clear();
  for (const CtrSample& s : in.train)
    cats_of_user[s.user].insert(s.hist_cats.begin(), s.hist_cats.end());
  size_t checked = 0;
  for (const CtrSample& s : in.train) {
    const auto& cats = cats_of_user[s.user];
    if (cats.size() == 3) {
      REQUIRE(cats.count(s.cat) == 1);
      ++checked;
    }
  }
  CHECK(checked > 1000);
}

TEST_CASE("make_din_synthetic rejects an inconsistent config, naming the field") {
  DinSyntheticConfig c;
  c.items = 10;
  CHECK_THROWS_WITH_AS(make_din_synthetic(c),
                       "din_synthetic: items (10) must be at least cats (50)",
                       std::invalid_argument);
  c = DinSyntheticConfig{};
  c.hist_len_min = 50;
  CHECK_THROWS_WITH_AS(make_din_synthetic(c),
                       "din_synthetic: need 1 <= hist_len_min <= hist_len_max, got 50 and 40",
                       std::invalid_argument);
  c = DinSyntheticConfig{};
  c.interests_per_user = 51;
  CHECK_THROWS_AS(make_din_synthetic(c), std::invalid_argument);
  c = DinSyntheticConfig{};
  c.test_fraction = 1.0;
  CHECK_THROWS_AS(make_din_synthetic(c), std::invalid_argument);
  c.users = 3;
  c.test_fraction = 0.9;  // rounds to all 3 users
  CHECK_THROWS_AS(make_din_synthetic(c), std::invalid_argument);
}
