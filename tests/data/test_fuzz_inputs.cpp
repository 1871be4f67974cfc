// Every input the fuzzers keep — the seeds made from the fixtures, and each finding's input under
// tests/fuzz/regressions/TARGET/ once it was fixed — runs through its fuzz target here, in every
// build: under the sanitizer preset a regression is a failed test, not a silent pass.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../fuzz/fuzz_targets.hpp"
#include "data/amazon_reader.hpp"
#include "data/movielens_reader.hpp"
#include "data/rating_tasks.hpp"
#include "data/session_readers.hpp"

namespace fs = std::filesystem;

TEST_CASE("fuzz inputs: the seeds and every kept finding run through their readers") {
  for (const auto& name_target : tinyrec_fuzz::targets()) {
    const auto& name = name_target.first;
    const auto& target = name_target.second;
    CAPTURE(name);
    std::vector<std::string> inputs = tinyrec_fuzz::seed_inputs(name);
    CHECK(inputs.size() >= 1);
    const fs::path kept = fs::path(TINYREC_SOURCE_DIR) / "tests" / "fuzz" / "regressions" / name;
    if (fs::is_directory(kept))
      for (const auto& e : fs::directory_iterator(kept)) {
        std::ifstream in(e.path(), std::ios::binary);
        inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
    for (const auto& input : inputs)
      CHECK(target(reinterpret_cast<const uint8_t*>(input.data()), input.size()) == 0);
  }
}

TEST_CASE("fuzz inputs: a good seed is read, not refused") {
  // The first seed of each two-file target is a pair of good files: the readers accept it, so the
  // fuzzers start from inputs that reach deep into the readers.
  const auto amazon = tinyrec_fuzz::split_input(
      reinterpret_cast<const uint8_t*>(tinyrec_fuzz::seed_inputs("amazon")[0].data()),
      tinyrec_fuzz::seed_inputs("amazon")[0].size());
  const auto ds = tinyrec::data::read_amazon(tinyrec_fuzz::write_file("a.txt", amazon.first),
                                             tinyrec_fuzz::write_file("b.txt", amazon.second), 20);
  CHECK(ds.train.size() > 0);
  CHECK(ds.test.size() > 0);
  const std::string ml = tinyrec_fuzz::seed_inputs("movielens")[0];
  const auto ml_files =
      tinyrec_fuzz::split_input(reinterpret_cast<const uint8_t*>(ml.data()), ml.size());
  const auto movies = tinyrec::data::read_movielens(
      tinyrec_fuzz::write_file("r.csv", ml_files.first),
      tinyrec_fuzz::write_file("m.csv", ml_files.second), 0.25, 7, 20);
  CHECK(movies.train.size() > 0);
}

TEST_CASE("fuzz inputs: the session and rating-task seeds are read, not refused") {
  auto files = [](const std::string& target) {
    const std::string s = tinyrec_fuzz::seed_inputs(target)[0];
    return tinyrec_fuzz::split_input(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  const auto yoo = tinyrec::data::read_yoochoose_clicks(
      tinyrec_fuzz::write_file("y.dat", files("yoochoose").first));
  CHECK(yoo.size() > 3);
  const auto dig = tinyrec::data::read_diginetica_views(
      tinyrec_fuzz::write_file("d.csv", files("diginetica").first));
  CHECK(dig.size() > 3);
  const auto ml = tinyrec::data::read_movielens_sessions(
      tinyrec_fuzz::write_file("s.csv", files("movielens_sessions").first), 1.0);
  CHECK(ml.size() > 1);
  const auto tasks = files("rating_tasks");
  tinyrec::data::TaskSplit split;
  split.min_ratings = 2;
  split.query_size = 1;
  split.test_fraction = 0.4;
  const auto ds =
      tinyrec::data::read_movielens_tasks(tinyrec_fuzz::write_file("r.csv", tasks.first),
                                          tinyrec_fuzz::write_file("m.csv", tasks.second), split);
  CHECK(ds.train.size() > 0);
  CHECK(ds.test.size() > 0);
}
