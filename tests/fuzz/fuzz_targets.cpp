// The fuzz targets and their seed inputs (see fuzz_targets.hpp).
#include "fuzz_targets.hpp"

#include <unistd.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "data/amazon_reader.hpp"
#include "data/movielens_reader.hpp"
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
      {"checkpoint", checkpoint}};
  return all;
}

}  // namespace tinyrec_fuzz
