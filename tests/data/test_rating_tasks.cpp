// Rating tasks for meta-learning: the synthetic cold-start generator is seeded and follows its
// bounds; support and query sets; the cold-start user and item splits; MovieLens movies as genre
// and year features; batches of one user's rows; and the errors a user meets.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "data/movielens_reader.hpp"
#include "data/rating_tasks.hpp"

using namespace tinyrec;

namespace {

const std::string kFixtures = TINYREC_SOURCE_DIR "/tests/data/fixtures/";

data::TaskSplit synthetic_split(const data::MeluSyntheticConfig& c) {
  data::TaskSplit s;
  s.min_ratings = size_t(c.min_ratings);
  s.max_ratings = size_t(c.max_ratings);
  s.test_fraction = 0.25;
  return s;
}

}  // namespace

TEST_CASE("melu synthetic: seeded, within its bounds, query sets of 10, cold-start users apart") {
  data::MeluSyntheticConfig c;
  c.users = 200;
  c.items = 150;
  const data::TaskSplit split = synthetic_split(c);
  const data::MetaDataset a = data::make_melu_synthetic(c, split);
  const data::MetaDataset b = data::make_melu_synthetic(c, split);
  REQUIRE(a.train.size() == b.train.size());
  CHECK(a.train.size() + a.test.size() == 200);
  CHECK(a.test.size() == 50);
  for (size_t u = 0; u < a.train.size(); ++u) {
    CHECK(a.train[u].support_items == b.train[u].support_items);
    CHECK(a.train[u].query_ratings == b.train[u].query_ratings);
  }
  c.seed = 2;
  const data::MetaDataset other = data::make_melu_synthetic(c, split);
  CHECK(other.train[0].query_ratings != a.train[0].query_ratings);

  std::set<int64_t> train_users;
  for (const auto& t : a.train) train_users.insert(t.user);
  for (const auto* set : {&a.train, &a.test})
    for (const auto& t : *set) {
      CHECK(t.query_items.size() == 10);
      const size_t n = t.support_items.size() + t.query_items.size();
      CHECK(n >= 20);
      CHECK(n <= 60);
      std::set<int64_t> items(t.support_items.begin(), t.support_items.end());
      items.insert(t.query_items.begin(), t.query_items.end());
      CHECK(items.size() == n);  // distinct items, support and query disjoint
      for (float r : t.support_ratings) CHECK((r >= 1 && r <= 5));
    }
  for (const auto& t : a.test) CHECK(train_users.count(t.user) == 0);  // never meta-trained
  // Features: ids within their vocabularies, genre bags of 1 to 3 padded with 0.
  CHECK(a.items.columns() == 5);
  for (size_t i = 0; i < a.items.size(); ++i) {
    CHECK(a.items.ids(i, 0) >= 1);
    for (size_t j = 0; j < 3; ++j) CHECK(a.items.ids(i, j) < 13);
    CHECK((a.items.ids(i, 3) >= 1 && a.items.ids(i, 3) < 9));
  }
}

TEST_CASE("melu synthetic: a user's taste is personal — their ratings disagree with others'") {
  // Two users with the same features rate the same item differently more often than noise alone
  // would make them: the personal part of the taste is there for the local update to find.
  data::MeluSyntheticConfig c;
  c.users = 400;
  c.noise = 0.0;
  c.feature_share = 0.0;
  const data::MetaDataset d = data::make_melu_synthetic(c, synthetic_split(c));
  std::map<int64_t, std::vector<float>> by_item;
  for (const auto* set : {&d.train, &d.test})
    for (const auto& t : *set)
      for (size_t j = 0; j < t.support_items.size(); ++j)
        by_item[t.support_items[j]].push_back(t.support_ratings[j]);
  double spread = 0;
  size_t items = 0;
  for (const auto& [item, r] : by_item) {
    if (r.size() < 5) continue;
    double mean = 0, sq = 0;
    for (float v : r) mean += v;
    mean /= double(r.size());
    for (float v : r) sq += (v - mean) * (v - mean);
    spread += std::sqrt(sq / double(r.size()));
    ++items;
  }
  REQUIRE(items > 50);
  CHECK(spread / double(items) > 0.5);  // with noise 0 and no feature share, all of it is taste
}

TEST_CASE("support size, and the cold-start item split") {
  data::MeluSyntheticConfig c;
  c.users = 300;
  c.items = 120;
  data::TaskSplit split = synthetic_split(c);
  split.support_size = 5;
  split.query_size = 4;
  const data::MetaDataset d = data::make_melu_synthetic(c, split);
  for (const auto& t : d.train) {
    CHECK(t.support_items.size() == 5);
    CHECK(t.query_items.size() == 4);
  }
  split.split = "items";
  split.support_size = 0;
  split.min_ratings = 8;
  const data::MetaDataset items = data::make_melu_synthetic(c, split);
  REQUIRE(!items.test.empty());
  std::set<int64_t> warm, cold;
  for (const auto& t : items.train) {
    warm.insert(t.support_items.begin(), t.support_items.end());
    warm.insert(t.query_items.begin(), t.query_items.end());
  }
  for (const auto& t : items.test) {
    cold.insert(t.support_items.begin(), t.support_items.end());
    cold.insert(t.query_items.begin(), t.query_items.end());
  }
  for (int64_t i : cold) CHECK(warm.count(i) == 0);  // no training task holds a cold item
  CHECK(cold.size() <= 30);                          // a quarter of 120 items
}

TEST_CASE("rating tasks: errors name the flag and what is accepted") {
  data::MeluSyntheticConfig c;
  c.users = 50;
  c.items = 80;
  data::TaskSplit split = synthetic_split(c);
  split.split = "time";
  CHECK_THROWS_WITH_AS(data::make_melu_synthetic(c, split), "--split: time not in {users, items}",
                       std::invalid_argument);
  split = synthetic_split(c);
  split.query_size = 20;
  CHECK_THROWS_WITH_AS(data::make_melu_synthetic(c, split),
                       doctest::Contains("--query-size 20: must be at least 1 and leave a support"),
                       std::invalid_argument);
  split = synthetic_split(c);
  split.min_ratings = 61;
  split.max_ratings = 70;
  CHECK_THROWS_WITH_AS(data::make_melu_synthetic(c, split),
                       doctest::Contains("no training task (a task needs 61 to 70 ratings"),
                       std::invalid_argument);
  c.max_ratings = 100;
  CHECK_THROWS_WITH_AS(data::make_melu_synthetic(c, synthetic_split(c)),
                       doctest::Contains("need 1 <= min_ratings <= max_ratings <= items"),
                       std::invalid_argument);
}

TEST_CASE("movielens tasks: genres as a bag, years in buckets, malformed files named by line") {
  // Six users who rate four of the five fixture movies each.
  data::TaskSplit split;
  split.min_ratings = 3;
  split.query_size = 1;
  split.test_fraction = 0.5;
  const data::MetaDataset d = data::read_movielens_tasks(kFixtures + "ml_ratings_tasks.csv",
                                                         kFixtures + "ml_movies.csv", split);
  REQUIRE(d.items.fields.size() == 2);
  CHECK(d.items.fields[0].name == "genres");
  CHECK(d.items.fields[0].width == 3);  // the most genres of a movie
  CHECK(d.items.fields[1].name == "year");
  CHECK(d.users.fields.size() == 1);  // one feature every user shares
  for (size_t u = 0; u < d.users.size(); ++u) CHECK(d.users.ids(u, 0) == 1);
  CHECK(d.item_keys == std::vector<std::string>{"1", "2", "3", "4", "5"});
  CHECK(d.train.size() == 3);
  CHECK(d.test.size() == 3);
  for (const auto& t : d.train) {
    CHECK(t.query_items.size() == 1);
    CHECK(t.support_items.size() == 3);
  }
  // Toy Story: Adventure, Animation, Children (sorted genre ids 1, 2, 3 of the fixture's); 1995
  // is the earliest year, bucket 1; the 1998 movie is in the same five-year bucket.
  CHECK(d.items.ids(0, 0) >= 1);
  CHECK(d.items.ids(0, 2) >= 1);
  CHECK(d.items.ids(0, 3) == 1);
  CHECK(d.items.ids(2, 3) == 1);
  CHECK(d.items.ids(2, 1) == 0);  // Cats has one genre: the bag is padded
  CHECK_THROWS_WITH_AS(data::read_movielens_tasks(kFixtures + "ml_ratings_bad_rating.csv",
                                                  kFixtures + "ml_movies.csv", split),
                       doctest::Contains("ml_ratings_bad_rating.csv:"), std::runtime_error);
  CHECK_THROWS_WITH_AS(data::read_movielens_tasks(kFixtures + "ml_ratings_unknown_movie.csv",
                                                  kFixtures + "ml_movies.csv", split),
                       doctest::Contains("is not in"), std::runtime_error);
  split.min_ratings = 5;  // nobody has five
  CHECK_THROWS_WITH_AS(data::read_movielens_tasks(kFixtures + "ml_ratings_tasks.csv",
                                                  kFixtures + "ml_movies.csv", split),
                       doctest::Contains("movielens: no training task"), std::invalid_argument);
}

TEST_CASE("movielens records: every genre, the year from the title") {
  const data::MovieLensRecords r =
      data::read_movielens_records(kFixtures + "ml_ratings.csv", kFixtures + "ml_movies.csv");
  REQUIRE(r.movies.size() == 5);
  CHECK(r.ratings.size() == 9);
  CHECK(r.movies[0].genres == std::vector<std::string>{"Adventure", "Animation", "Children"});
  CHECK(r.movies[0].year == 1995);
  CHECK(r.movies[1].year == 1995);  // a quoted title with a comma
  CHECK(r.movies[2].year == 1998);  // a quoted title with quotes
  CHECK(r.movies[2].genres == std::vector<std::string>{"Musical"});
  CHECK(r.ratings[0].user == 1);
  CHECK(r.ratings[0].movie == 2);
  CHECK(r.ratings[0].rating == 3.5);
}

TEST_CASE("a batch of one user's rows: ids per field and a bag's mean weights") {
  data::MeluSyntheticConfig c;
  c.users = 40;
  c.items = 80;
  const data::MetaDataset d = data::make_melu_synthetic(c, synthetic_split(c));
  const data::RatingTask& t = d.train[0];
  data::RatingBatch b;
  data::fill_rating_batch(d, t.user, t.query_items, t.query_ratings, b);
  CHECK(b.size == 10);
  REQUIRE(b.item_ids.size() == 3);
  CHECK(b.item_ids[0].dimension() == 2);  // the genre bag
  CHECK(b.item_ids[1].dimension() == 1);
  for (size_t i = 0; i < b.size; ++i) {
    double total = 0;
    for (size_t j = 0; j < 3; ++j) {
      total += b.item_weights[0](i, j);
      if (b.item_ids[0](i, j) == 0) CHECK(b.item_weights[0](i, j) == 0);
    }
    CHECK(total == doctest::Approx(1.0));
    CHECK(b.user_ids[0](i) == d.users.ids(size_t(t.user), 0));
    CHECK(b.ratings(i) == doctest::Approx(t.query_ratings[i]));
  }
  CHECK_THROWS_AS(data::fill_rating_batch(d, t.user, t.query_items, {1.0f}, b),
                  std::invalid_argument);
}
