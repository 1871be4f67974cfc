// Tests of the reader for the DIN/DIEN preprocessed Amazon format, on small fixture files.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "data/amazon_reader.hpp"

using namespace tinyrec::data;

namespace {

std::string fixture(const std::string& name) {
  return std::string(TINYREC_SOURCE_DIR) + "/tests/data/fixtures/" + name;
}

// The message of the runtime_error that reading `train` (and the good test file) throws.
std::string amazon_error(const std::string& train, const std::string& test = "amazon_test.txt") {
  try {
    read_amazon(fixture(train), fixture(test), 0);
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

TEST_CASE("read_amazon builds vocabularies from train and maps unseen test ids to 1") {
  // train:  1 U1 I3 Books  [I1 I2]     [Books Music]
  //         0 U2 I4 Music  [I3 I1 I5]  [Books Books Toys]
  //         1 U1 I2 Music  []          []
  // users U1=2 U2=3; items I3=2 I1=3 I2=4 I4=5 I5=6; categories Books=2 Music=3 Toys=4.
  const CtrDataset ds = read_amazon(fixture("amazon_train.txt"), fixture("amazon_test.txt"), 0);
  CHECK(ds.name == "amazon");
  CHECK(ds.n_users == 4);
  CHECK(ds.n_items == 7);
  CHECK(ds.n_cats == 5);
  REQUIRE(ds.train.size() == 3);
  check_sample(ds.train[0], 2, 2, 2, {3, 4}, {2, 3}, 1.0f);
  check_sample(ds.train[1], 3, 5, 3, {2, 3, 6}, {2, 2, 4}, 0.0f);
  check_sample(ds.train[2], 2, 4, 3, {}, {}, 1.0f);

  // test:   0 U2 I9 Games  [I1 I9 I4]  [Books Games Music]
  //         1 U7 I5 Toys   [I2]        [Music]
  // I9, Games and U7 never occur in train.
  REQUIRE(ds.test.size() == 2);
  check_sample(ds.test[0], 3, 1, 1, {3, 1, 5}, {2, 1, 3}, 0.0f);
  check_sample(ds.test[1], 1, 6, 4, {4}, {3}, 1.0f);
  // user_key tells users apart where `user` cannot: U2 is known, U7 gets the next key.
  for (const CtrSample& s : ds.train) CHECK(s.user_key == s.user);
  CHECK(ds.test[0].user_key == 3);
  CHECK(ds.test[1].user_key == 4);

  // Occurrences in train, targets and histories together.
  CHECK(ds.item_counts == std::vector<int64_t>{0, 0, 2, 2, 2, 1, 1});
  CHECK(ds.cat_counts == std::vector<int64_t>{0, 0, 4, 3, 1});
}

TEST_CASE("read_amazon with max_len keeps the most recent behaviours") {
  const CtrDataset ds = read_amazon(fixture("amazon_train.txt"), fixture("amazon_test.txt"), 2);
  REQUIRE(ds.train.size() == 3);
  check_sample(ds.train[0], 2, 2, 2, {3, 4}, {2, 3}, 1.0f);
  check_sample(ds.train[1], 3, 5, 3, {3, 6}, {2, 4}, 0.0f);  // I3 / Books, the oldest, dropped
  check_sample(ds.test[0], 3, 1, 1, {1, 5}, {1, 3}, 0.0f);
  CHECK(ds.n_items == 7);
  CHECK(ds.item_counts == std::vector<int64_t>{0, 0, 1, 2, 2, 1, 1});
  CHECK(ds.cat_counts == std::vector<int64_t>{0, 0, 3, 3, 1});
}

TEST_CASE("read_amazon accepts Windows line endings") {
  const CtrDataset ds = read_amazon(fixture("amazon_crlf.txt"), fixture("amazon_crlf.txt"), 0);
  REQUIRE(ds.train.size() == 1);
  check_sample(ds.train[0], 2, 2, 2, {3}, {3}, 1.0f);
  check_sample(ds.test[0], 2, 2, 2, {3}, {3}, 1.0f);
  CHECK(ds.n_cats == 4);  // "Music", not "Music\r"
}

TEST_CASE("read_amazon names the file and line of a malformed line") {
  const std::string dir = fixture("");
  CHECK(amazon_error("amazon_bad_fields.txt") ==
        "amazon: " + dir + "amazon_bad_fields.txt:3: expected 6 tab-separated fields, got 4");
  CHECK(amazon_error("amazon_bad_label.txt") ==
        "amazon: " + dir + "amazon_bad_label.txt:2: label must be 0 or 1, got \"yes\"");
  CHECK(amazon_error("amazon_bad_history.txt") ==
        "amazon: " + dir + "amazon_bad_history.txt:1: history has 2 items but 1 categories");
  CHECK(amazon_error("amazon_empty_line.txt") ==
        "amazon: " + dir + "amazon_empty_line.txt:2: empty line");
  CHECK(amazon_error("amazon_empty_token.txt") ==
        "amazon: " + dir +
            "amazon_empty_token.txt:1: empty token at position 2 of the history items");
  CHECK(amazon_error("amazon_empty_user.txt") ==
        "amazon: " + dir + "amazon_empty_user.txt:1: empty user field");
  // An error in the test file names the test file.
  CHECK(amazon_error("amazon_train.txt", "amazon_bad_label.txt") ==
        "amazon: " + dir + "amazon_bad_label.txt:2: label must be 0 or 1, got \"yes\"");
  CHECK(amazon_error("no_such_file.txt") == "amazon: cannot open " + dir + "no_such_file.txt");
}

TEST_CASE("read_amazon keeps its vocabularies; files to score map through them") {
  const CtrDataset ds = read_amazon(fixture("amazon_train.txt"), fixture("amazon_test.txt"), 0);
  CHECK(ds.vocab.users.size() == ds.n_users);
  CHECK(ds.vocab.items.find("I5") == 6);
  CHECK(ds.vocab.cats.token(4) == "Toys");

  // The test file scored with the trained vocabularies gives the test samples again.
  const std::vector<CtrSample> scored =
      read_samples_for_prediction(fixture("amazon_test.txt"), &ds);
  REQUIRE(scored.size() == 2);
  check_sample(scored[0], 3, 1, 1, {3, 1, 5}, {2, 1, 3}, 0.0f);
  check_sample(scored[1], 1, 6, 4, {4}, {3}, 1.0f);
  CHECK(scored[0].user_key == 3);
  CHECK(scored[1].user_key == 4);
}

TEST_CASE("read_samples_for_prediction without a data set reads dense integer ids") {
  const std::vector<CtrSample> s =
      read_samples_for_prediction(fixture("amazon_numeric.txt"), nullptr);
  REQUIRE(s.size() == 2);
  check_sample(s[0], 2, 5, 7, {3, 4}, {5, 6}, 0.0f);
  check_sample(s[1], 3, 8, 10, {}, {}, 1.0f);
  CHECK(s[0].user_key == 2);
  CHECK(s[1].user_key == 3);

  std::string message;
  try {
    read_samples_for_prediction(fixture("amazon_numeric_bad.txt"), nullptr);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  CHECK(message == "amazon: " + fixture("amazon_numeric_bad.txt") +
                       ":2: expected a non-negative integer id, got \"B008\"");
}
