// What several test programs share: a scratch folder removed when the test ends, a file's bytes,
// and a small run of a registered model.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "data/ctr_dataset.hpp"
#include "models/trainer.hpp"

namespace tinyrec_test {

// A fresh, empty folder under the system temp dir (PREFIX_PID_NAME), removed when the test ends.
struct TempDir {
  std::filesystem::path path;
  TempDir(const std::string& prefix, const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             (prefix + "_" + std::to_string(::getpid()) + "_" + name)) {
    std::filesystem::remove_all(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path.string(); }
};

// The whole content of a file; empty when it cannot be read.
inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A small run of `entry` on its task's first (synthetic) data set at the task's tiny size.
inline tinyrec::models::RunConfig tiny_run_config(const tinyrec::models::ModelEntry& entry,
                                                  size_t epochs = 2) {
  tinyrec::models::RunConfig rc;
  rc.model = entry.name;
  rc.data_options = tinyrec::models::find_task(entry.task).tiny_data;
  rc.train.batch_size = 16;
  rc.train.eval_batch_size = 32;
  rc.train.epochs = epochs;
  rc.model_seed = 3;
  return rc;
}

// A click sample of candidate `item` with the history `hist`, every id's category 2 + id mod 3 (as
// the click task's tiny batch draws them over 5 categories), for user 2.
inline tinyrec::data::CtrSample ctr_sample(int64_t item, const std::vector<int64_t>& hist,
                                           float label = 0.0f) {
  auto cat_of = [](int64_t i) { return 2 + i % 3; };
  tinyrec::data::CtrSample s;
  s.user = s.user_key = 2;
  s.item = item;
  s.cat = cat_of(item);
  s.label = label;
  s.hist_items = hist;
  for (int64_t i : hist) s.hist_cats.push_back(cat_of(i));
  return s;
}

// The seeds of one run of a seeded claim: the data, the initial weights, the batch order.
struct ClaimSeeds {
  uint64_t data, model, order;
  std::string str() const {
    return "data seed " + std::to_string(data) + ", model seed " + std::to_string(model) +
           ", order seed " + std::to_string(order);
  }
};

// The runs a seeded claim is checked on. In the suite, its own seeds alone. With
// TINYREC_CLAIM_SEEDS=N set, N more seeds of each kind as well, one kind varied at a time (data
// seeds own + step, ..., own + N step with the others kept, then the model's, then the batch
// order's), so that the margin written beside a claim can be measured again:
//   TINYREC_CLAIM_SEEDS=3 build/test_models -tc="din beats*"
// A claim on the mean of `step` consecutive seeds steps by `step`, so no two runs share one.
inline std::vector<ClaimSeeds> claim_seeds(ClaimSeeds own, uint64_t step = 1) {
  std::vector<ClaimSeeds> runs{own};
  const char* env = std::getenv("TINYREC_CLAIM_SEEDS");
  const uint64_t more = env ? std::strtoull(env, nullptr, 10) : 0;
  for (uint64_t k = step; k <= more * step; k += step) {
    runs.push_back({own.data + k, own.model, own.order});
    runs.push_back({own.data, own.model + k, own.order});
    runs.push_back({own.data, own.model, own.order + k});
  }
  return runs;
}

}  // namespace tinyrec_test
