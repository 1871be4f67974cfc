// The fuzz targets and their seed inputs (see fuzz_targets.hpp).
#include "fuzz_targets.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "data/amazon_reader.hpp"
#include "data/movielens_reader.hpp"
#include "data/rating_tasks.hpp"
#include "data/session_readers.hpp"
#include "data/tabular_csv.hpp"
#include "models/trainer.hpp"
#include "nn/checkpoint.hpp"
#include "nn/layers.hpp"
#include "nn/npy.hpp"

namespace tinyrec_fuzz {

namespace fs = std::filesystem;

// A scratch folder of this process, made once.
const fs::path& scratch() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("tinyrec_fuzz_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

std::string write_file(const std::string& name, const std::string& bytes) {
  const fs::path p = scratch() / name;
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
  return p.string();
}

std::pair<std::string, std::string> split_input(const uint8_t* data, size_t size) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  const std::string cut = "\n====\n";
  const size_t at = all.find(cut);
  if (at == std::string::npos) return {all, std::string()};
  return {all.substr(0, at + 1), all.substr(at + cut.size())};
}

// Runs `read`; any std::exception is a clean refusal.
template <class F>
int refuse_cleanly(F&& read) {
  try {
    read();
  } catch (const std::exception&) {
  }
  return 0;
}

// The DIN/DIEN repositories' split-by-user text files: train ==== test.
int amazon(const uint8_t* data, size_t size) {
  const auto [train, test] = split_input(data, size);
  const std::string tr = write_file("amazon_train.txt", train);
  const std::string te = write_file("amazon_test.txt", test);
  refuse_cleanly([&] { tinyrec::data::read_amazon(tr, te, 20); });
  refuse_cleanly([&] { tinyrec::data::read_samples_for_prediction(tr, nullptr); });
  return 0;
}

// MovieLens ratings.csv ==== movies.csv.
int movielens(const uint8_t* data, size_t size) {
  const auto [ratings, movies] = split_input(data, size);
  const std::string r = write_file("ratings.csv", ratings);
  const std::string m = write_file("movies.csv", movies);
  refuse_cleanly([&] { tinyrec::data::read_movielens(r, m, 0.25, 7, 20); });
  return 0;
}

// A schema file ==== a CSV table it describes (split at random into train and test).
int tabular_csv(const uint8_t* data, size_t size) {
  const auto [schema_text, table] = split_input(data, size);
  const std::string schema = write_file("schema.txt", schema_text);
  const std::string csv = write_file("table.csv", table);
  refuse_cleanly([&] {
    const tinyrec::data::CsvSchema s = tinyrec::data::read_csv_schema_file(schema);
    tinyrec::data::load_csv_dataset_split(s, csv, 0.25, 3);
  });
  // The same table under the fixed schemas of the census recipes.
  refuse_cleanly(
      [&] { tinyrec::data::load_csv_dataset_split(tinyrec::data::income_schema(), csv, 0.25, 3); });
  return 0;
}

// One .npy file, read as each dtype.
int npy(const uint8_t* data, size_t size) {
  const std::string path =
      write_file("array.npy", std::string(reinterpret_cast<const char*>(data), size));
  refuse_cleanly([&] { tinyrec::nn::npy_dtype(path); });
  refuse_cleanly([&] { tinyrec::nn::load_npy<float>(path); });
  refuse_cleanly([&] { tinyrec::nn::load_npy<double>(path); });
  refuse_cleanly([&] { tinyrec::nn::load_npy<int64_t>(path); });
  return 0;
}

// A checkpoint folder: config.json ==== one tensor's .npy file. The config is read and resolved
// as `eval` reads it (without loading data); the tensor is loaded into a small layer.
int checkpoint(const uint8_t* data, size_t size) {
  const auto [config, tensor] = split_input(data, size);
  const fs::path dir = scratch() / "checkpoint";
  fs::create_directories(dir);
  const std::string config_path = write_file("checkpoint/config.json", config);
  refuse_cleanly([&] {
    std::ifstream in(config_path);
    const auto run = nlohmann::json::parse(in).get<tinyrec::models::RunConfig>();
    tinyrec::models::resolve(run);
  });
  write_file("checkpoint/weight.npy", tensor);
  write_file("checkpoint/bias.npy", tensor);
  refuse_cleanly([&] {
    std::mt19937_64 rng(1);
    tinyrec::nn::Linear<float> layer(2, 3, rng);
    tinyrec::nn::load_checkpoint(layer, dir.string());
  });
  return 0;
}

// A broken promise of a reader that accepted its input (an id outside its vocabulary, a session
// too short): silent garbage for the model, so a finding like a crash.
void require(bool ok) {
  if (!ok) std::abort();
}

// The sessions a reader returned, through the papers' preprocessing (data/session_dataset.hpp),
// under two protocols: the test split by days and by share; then the promises a model relies on.
void preprocess_both_ways(const char* name, const std::vector<tinyrec::data::RawSession>& raw) {
  tinyrec::data::SessionProtocol by_days;
  by_days.min_item_count = 1;
  tinyrec::data::SessionProtocol by_share;
  by_share.min_item_count = 2;
  by_share.test_fraction = 0.3;
  by_share.train_fraction = 0.5;
  for (const auto& protocol : {by_days, by_share})
    refuse_cleanly([&] {
      const auto d = tinyrec::data::preprocess_sessions(name, raw, protocol);
      require(d.n_items >= 2 && d.item_names.size() == size_t(d.n_items));
      require(!d.train.empty() && !d.test.empty());
      for (const auto* sessions : {&d.train_sessions, &d.test_sessions})
        for (const auto& s : *sessions) {
          require(s.size() >= 2);
          for (int64_t id : s) require(id >= 1 && id < d.n_items);
        }
    });
}

// YOOCHOOSE yoochoose-clicks.dat.
int yoochoose(const uint8_t* data, size_t size) {
  const std::string path =
      write_file("yoochoose-clicks.dat", std::string(reinterpret_cast<const char*>(data), size));
  refuse_cleanly([&] {
    const auto raw = tinyrec::data::read_yoochoose_clicks(path);
    for (const auto& s : raw)
      for (const auto& c : s.clicks) require(std::isfinite(c.time));
    preprocess_both_ways("yoochoose", raw);
  });
  return 0;
}

// DIGINETICA train-item-views.csv.
int diginetica(const uint8_t* data, size_t size) {
  const std::string path =
      write_file("train-item-views.csv", std::string(reinterpret_cast<const char*>(data), size));
  refuse_cleanly([&] {
    const auto raw = tinyrec::data::read_diginetica_views(path);
    for (const auto& s : raw)
      for (const auto& c : s.clicks) require(std::isfinite(c.time));
    preprocess_both_ways("diginetica", raw);
  });
  return 0;
}

// MovieLens ratings.csv read as sessions (cut at pauses of 1 hour, and of 1000 hours).
int movielens_sessions(const uint8_t* data, size_t size) {
  const std::string path =
      write_file("ratings.csv", std::string(reinterpret_cast<const char*>(data), size));
  for (double gap : {1.0, 1000.0})
    refuse_cleanly([&] {
      const auto raw = tinyrec::data::read_movielens_sessions(path, gap);
      preprocess_both_ways("movielens", raw);
    });
  return 0;
}

// MovieLens ratings.csv ==== movies.csv as MeLU's rating tasks, split by users and by items; then
// every id against its field's vocabulary and every task's rows, through fill_rating_batch.
int rating_tasks(const uint8_t* data, size_t size) {
  const auto [ratings, movies] = split_input(data, size);
  const std::string r = write_file("ratings.csv", ratings);
  const std::string m = write_file("movies.csv", movies);
  for (const char* how : {"users", "items"})
    refuse_cleanly([&] {
      tinyrec::data::TaskSplit split;
      split.split = how;
      split.min_ratings = 2;
      split.query_size = 1;
      split.test_fraction = 0.4;
      const tinyrec::data::MetaDataset ds = tinyrec::data::read_movielens_tasks(r, m, split);
      for (const auto* table : {&ds.users, &ds.items}) {
        require(table->ids.dimension() == 2 && table->ids.shape()[1] == table->columns());
        size_t col = 0;
        for (const auto& f : table->fields)
          for (size_t w = 0; w < f.width; ++w, ++col)
            for (size_t row = 0; row < table->size(); ++row)
              require(table->ids(row, col) >= 0 && table->ids(row, col) < f.vocab);
      }
      require(ds.item_keys.size() == ds.items.size());
      tinyrec::data::RatingBatch batch;
      for (const auto* tasks : {&ds.train, &ds.test})
        for (const auto& t : *tasks) {
          require(t.user >= 0 && size_t(t.user) < ds.users.size());
          require(!t.query_items.empty() && !t.support_items.empty());
          for (const auto* items : {&t.support_items, &t.query_items})
            for (int64_t item : *items) require(item >= 0 && size_t(item) < ds.items.size());
          for (const auto* rs : {&t.support_ratings, &t.query_ratings})
            for (float v : *rs) require(std::isfinite(v));
          tinyrec::data::fill_rating_batch(ds, t.user, t.support_items, t.support_ratings, batch);
          require(batch.size == t.support_items.size());
        }
    });
  return 0;
}

std::string read_fixture(const std::string& name) {
  std::ifstream in(fs::path(TINYREC_SOURCE_DIR) / "tests" / "data" / "fixtures" / name,
                   std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The seed inputs of a target, made from the readers' test fixtures (good files and each kind of
// bad one), joined with the "====" line where the target reads two files.
std::vector<std::string> seed_inputs(const std::string& target) {
  const std::string cut = "====\n";
  std::vector<std::string> seeds;
  auto pairs = [&](const std::vector<std::string>& firsts, const std::string& second) {
    for (const auto& f : firsts) seeds.push_back(read_fixture(f) + cut + read_fixture(second));
  };
  if (target == "amazon")
    pairs({"amazon_train.txt", "amazon_crlf.txt", "amazon_numeric.txt", "amazon_bad_fields.txt",
           "amazon_bad_history.txt", "amazon_bad_label.txt", "amazon_empty_token.txt"},
          "amazon_test.txt");
  if (target == "movielens") {
    pairs({"ml_ratings.csv", "ml_ratings_quoted_header.csv", "ml_ratings_bad_fields.csv",
           "ml_ratings_bad_rating.csv", "ml_ratings_unknown_movie.csv"},
          "ml_movies.csv");
    seeds.push_back(read_fixture("ml_ratings.csv") + cut +
                    read_fixture("ml_movies_quoted_header.csv"));
  }
  if (target == "tabular_csv")
    for (const char* t :
         {"mt_small_train.csv", "mt_bad_fields.csv", "mt_bad_quote.csv", "mt_income_sample.csv"})
      seeds.push_back(read_fixture("mt_schema.txt") + cut + read_fixture(t));
  if (target == "yoochoose") seeds.push_back(read_fixture("yoochoose/yoochoose-clicks.dat"));
  if (target == "diginetica") seeds.push_back(read_fixture("diginetica/train-item-views.csv"));
  if (target == "movielens_sessions")
    for (const char* f : {"session_ratings.csv", "ml_ratings.csv", "ml_ratings_bad_timestamp.csv"})
      seeds.push_back(read_fixture(f));
  if (target == "rating_tasks") {
    pairs({"ml_ratings_tasks.csv", "ml_ratings.csv", "ml_ratings_unknown_movie.csv"},
          "ml_movies.csv");
    seeds.push_back(read_fixture("ml_ratings_tasks.csv") + cut +
                    read_fixture("ml_movies_quoted_header.csv"));
  }
  if (target == "npy") {
    for (const auto& a : {xt::xarray<float>{{1.5f, -2.0f}, {0.25f, 3.0f}}}) {
      tinyrec::nn::save_npy(write_file("seed.npy", ""), a);
      std::ifstream in(scratch() / "seed.npy", std::ios::binary);
      seeds.push_back(std::string(std::istreambuf_iterator<char>(in), {}));
    }
  }
  if (target == "checkpoint") {
    tinyrec::models::RunConfig config;
    std::mt19937_64 rng(1);
    tinyrec::nn::Linear<float> layer(2, 3, rng);
    tinyrec::nn::save_npy(write_file("seed.npy", ""), layer.named_parameters()[0].second.value());
    std::ifstream in(scratch() / "seed.npy", std::ios::binary);
    seeds.push_back(nlohmann::json(config).dump(2) + "\n" + cut +
                    std::string(std::istreambuf_iterator<char>(in), {}));
  }
  return seeds;
}

// Every target by name: the fuzz programs pick theirs, the regression test runs them all.
const std::map<std::string, std::function<int(const uint8_t*, size_t)>>& targets() {
  static const std::map<std::string, std::function<int(const uint8_t*, size_t)>> all{
      {"amazon", amazon},
      {"movielens", movielens},
      {"tabular_csv", tabular_csv},
      {"npy", npy},
      {"checkpoint", checkpoint},
      {"yoochoose", yoochoose},
      {"diginetica", diginetica},
      {"movielens_sessions", movielens_sessions},
      {"rating_tasks", rating_tasks}};
  return all;
}

}  // namespace tinyrec_fuzz
