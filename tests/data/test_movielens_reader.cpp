// Tests of the MovieLens reader (DIN paper protocol) on small GroupLens-style fixture CSVs.
#include <doctest/doctest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/movielens_reader.hpp"

using namespace tinyrec::data;

namespace {

std::string fixture(const std::string& name) {
  return std::string(TINYREC_SOURCE_DIR) + "/tests/data/fixtures/" + name;
}

CtrDataset read_fixture(double test_fraction, uint64_t seed, size_t max_len = 0) {
  return read_movielens(fixture("ml_ratings.csv"), fixture("ml_movies.csv"), test_fraction, seed,
                        max_len);
}

std::string movielens_error(const std::string& ratings, const std::string& movies) {
  try {
    read_movielens(fixture(ratings), fixture(movies), 0.0, 1);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

void check_sample(const CtrSample& s, int64_t user, int64_t item, int64_t cat,
                  const std::vector<int64_t>& hist_items, const std::vector<int64_t>& hist_cats,
                  float label) {
  CHECK(s.user == user);
  CHECK(s.item == item);
  CHECK(s.cat == cat);
  CHECK(s.hist_items == hist_items);
  CHECK(s.hist_cats == hist_cats);
  CHECK(s.label == label);
}

}  // namespace

// The fixture, each user's ratings sorted by time (movie: rating @ time):
//   user 1: movie 1: 4.5 @100, movie 3: 5.0 @200, movie 2: 3.5 @300, movie 4: 4.0 @400
//   user 2: movie 1: 2.0 @50,  movie 5: 4.0 @60
//   user 3: movie 4: 1.0 @10,  movie 3: 4.0 @20,  movie 2: 0.5 @20 (tie: file order)
// First genres: 1 Adventure, 2 Comedy, 3 Musical, 4 Action, 5 (no genres listed).
// With every user in train: movies 1=2 3=3 2=4 4=5 5=6; genres Adventure=2 Musical=3 Comedy=4
// Action=5 (no genres listed)=6; users 1=2 2=3 3=4.
TEST_CASE(
    "read_movielens follows the DIN protocol: earlier movies as history, ratings >= 4 positive") {
  const CtrDataset ds = read_fixture(0.0, 1);
  CHECK(ds.name == "movielens");
  CHECK(ds.n_users == 5);
  CHECK(ds.n_items == 7);
  CHECK(ds.n_cats == 7);
  CHECK(ds.test.empty());
  REQUIRE(ds.train.size() == 6);  // 9 ratings less each user's first
  check_sample(ds.train[0], 2, 3, 3, {2}, {2}, 1.0f);
  check_sample(ds.train[1], 2, 4, 4, {2, 3}, {2, 3}, 0.0f);        // 3.5 is negative
  check_sample(ds.train[2], 2, 5, 5, {2, 3, 4}, {2, 3, 4}, 1.0f);  // 4.0 is positive
  check_sample(ds.train[3], 3, 6, 6, {2}, {2}, 1.0f);
  check_sample(ds.train[4], 4, 3, 3, {5}, {5}, 1.0f);
  check_sample(ds.train[5], 4, 4, 4, {5, 3}, {5, 3}, 0.0f);
  for (const CtrSample& s : ds.train) CHECK(s.user_key == s.user);
  CHECK(ds.item_counts == std::vector<int64_t>{0, 0, 4, 5, 3, 3, 1});
  CHECK(ds.cat_counts == std::vector<int64_t>{0, 0, 4, 5, 3, 3, 1});
}

TEST_CASE("read_movielens with max_len stores only the most recent earlier movies") {
  const CtrDataset ds = read_fixture(0.0, 1, 1);
  REQUIRE(ds.train.size() == 6);
  check_sample(ds.train[2], 2, 5, 5, {4}, {4}, 1.0f);
  check_sample(ds.train[5], 4, 4, 4, {3}, {3}, 0.0f);
}

TEST_CASE("read_movielens splits by user, seeded; test users and their own movies are unseen") {
  std::set<size_t> test_sizes;
  bool saw_user_2_in_test = false;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    const CtrDataset ds = read_fixture(1.0 / 3.0, seed);
    // One user of three in test, all its samples together; test users carry the unknown id.
    CHECK(ds.train.size() + ds.test.size() == 6);
    CHECK(ds.n_users == 4);
    for (const CtrSample& s : ds.test) {
      CHECK(s.user == kUnknownId);
      CHECK(s.user_key == 4);  // the one test user's own key, after train ids 2 and 3
    }
    for (const CtrSample& s : ds.train) CHECK(s.user >= kFirstRealId);
    test_sizes.insert(ds.test.size());

    const CtrDataset again = read_fixture(1.0 / 3.0, seed);
    CHECK(again.test.size() == ds.test.size());

    if (ds.test.size() == 1 && !saw_user_2_in_test) {
      // User 2 in test: movie 5 and "(no genres listed)" occur only there.
      saw_user_2_in_test = true;
      CHECK(ds.n_items == 6);
      CHECK(ds.n_cats == 6);
      check_sample(ds.test[0], kUnknownId, kUnknownId, kUnknownId, {2}, {2}, 1.0f);
      check_sample(ds.train[0], 2, 3, 3, {2}, {2}, 1.0f);  // user 1 is the first train user
    }
  }
  CHECK(test_sizes == std::set<size_t>{1, 2, 3});  // each user lands in test for some seed
  CHECK(saw_user_2_in_test);
  CHECK_THROWS_AS(read_fixture(1.0, 1), std::invalid_argument);
  CHECK_THROWS_AS(read_fixture(-0.1, 1), std::invalid_argument);
  CHECK_THROWS_AS(read_fixture(0.9, 1), std::invalid_argument);  // 2.7 rounds to all 3 users
}

TEST_CASE("read_movielens reads a quoted header like a plain one") {
  // R's write.csv and pandas with full quoting write "movieId","title","genres".
  const CtrDataset plain = read_fixture(0.0, 1);
  const CtrDataset quoted = read_movielens(fixture("ml_ratings_quoted_header.csv"),
                                           fixture("ml_movies_quoted_header.csv"), 0.0, 1);
  REQUIRE(quoted.train.size() == plain.train.size());
  CHECK(quoted.n_items == plain.n_items);
  CHECK(quoted.n_cats == plain.n_cats);
  for (size_t i = 0; i < plain.train.size(); ++i) {
    CHECK(quoted.train[i].item == plain.train[i].item);
    CHECK(quoted.train[i].hist_items == plain.train[i].hist_items);
    CHECK(quoted.train[i].label == plain.train[i].label);
  }
}

TEST_CASE("read_movielens names the file and line of a malformed line") {
  const std::string dir = fixture("");
  const std::string movies = "ml_movies.csv", ratings = "ml_ratings.csv";
  CHECK(movielens_error("ml_ratings_bad_header.csv", movies) ==
        "movielens: " + dir +
            "ml_ratings_bad_header.csv:1: expected the header \"userId,movieId,rating,timestamp\", "
            "got \"user,movie,rating,timestamp\"");
  CHECK(movielens_error("ml_ratings_bad_fields.csv", movies) ==
        "movielens: " + dir +
            "ml_ratings_bad_fields.csv:3: expected 4 comma-separated fields, got 3");
  CHECK(movielens_error("ml_ratings_bad_rating.csv", movies) ==
        "movielens: " + dir +
            "ml_ratings_bad_rating.csv:3: column 3 (rating): expected a number, got \"good\"");
  CHECK(
      movielens_error("ml_ratings_bad_timestamp.csv", movies) ==
      "movielens: " + dir +
          "ml_ratings_bad_timestamp.csv:3: column 4 (timestamp): expected an integer, got \"1e9\"");
  CHECK(movielens_error("ml_ratings_unknown_movie.csv", movies) ==
        "movielens: " + dir + "ml_ratings_unknown_movie.csv:4: movieId 99 is not in " + dir +
            movies);
  CHECK(movielens_error(ratings, "ml_movies_unterminated_quote.csv") ==
        "movielens: " + dir +
            "ml_movies_unterminated_quote.csv:3: column 2: unterminated quoted field");
  CHECK(movielens_error(ratings, "ml_movies_duplicate.csv") ==
        "movielens: " + dir + "ml_movies_duplicate.csv:3: movieId 1 listed twice");
  CHECK(movielens_error(ratings, "ml_movies_empty_genres.csv") ==
        "movielens: " + dir + "ml_movies_empty_genres.csv:3: column 3 (genres): empty");
  CHECK(movielens_error("no_such.csv", movies) == "movielens: cannot open " + dir + "no_such.csv");
}

TEST_CASE("read_movielens refuses a data set that yields no training sample") {
  // Two users with one rating each: no rating has an earlier one to form a history.
  const std::string dir = fixture("");
  CHECK(
      movielens_error("ml_ratings_single.csv", "ml_movies.csv") ==
      "movielens: " + dir +
          "ml_ratings_single.csv: no training samples (every user needs two ratings to make one)");
}

TEST_CASE("read_movielens keeps its vocabularies keyed by userId, movieId and genre") {
  const CtrDataset ds = read_fixture(0.0, 1);
  CHECK(ds.vocab.users.find("3") == 4);
  CHECK(ds.vocab.items.find("2") == 4);
  CHECK(ds.vocab.items.token(6) == "5");
  CHECK(ds.vocab.cats.token(6) == "(no genres listed)");
  CHECK(ds.vocab.cats.find("Drama") == kUnknownId);  // never a first genre
}
