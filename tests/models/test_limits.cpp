// Sizes that cannot fit are refused from the flags, before the data or the model are built: a
// model whose weights per row of a vocabulary pass the limit of values, or whose training needs
// more memory than the process may use. Each refusal names the flag and the limit.
#include <doctest/doctest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "autograd/limits.hpp"
#include "models/click_task.hpp"
#include "models/registry.hpp"
#include "models/trainer.hpp"
#include "tests/test_support.hpp"

using namespace tinyrec;

namespace {

// `ulimit -v` set, for the life of this object, to what the process holds plus `spare` bytes: a
// size that slipped past the checks would be a std::bad_alloc here, never a large allocation.
struct AddressSpaceLimit {
  rlimit before{};
  explicit AddressSpaceLimit(double spare) {
    REQUIRE(getrlimit(RLIMIT_AS, &before) == 0);
    std::ifstream statm("/proc/self/statm");
    double pages = 0;
    REQUIRE(bool(statm >> pages));
    rlimit lower = before;
    lower.rlim_cur = rlim_t(pages * double(sysconf(_SC_PAGESIZE)) + spare);
    REQUIRE(setrlimit(RLIMIT_AS, &lower) == 0);
  }
  ~AddressSpaceLimit() { setrlimit(RLIMIT_AS, &before); }
};

std::string refusal(const models::RunConfig& rc, bool training = true) {
  try {
    models::build_run(rc, training);
  } catch (const SizeLimitError& e) {
    return e.what();
  }
  return "(no SizeLimitError)";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("limits: a vocabulary too big to train is refused before the data are built") {
  const AddressSpaceLimit limit(1.5e9);
  for (const auto& entry : models::model_registry()) {
    if (entry.task != "click") continue;
    CAPTURE(entry.name);
    models::RunConfig rc = tinyrec_test::tiny_run_config(entry);
    rc.data_options["items"] = 100000000;
    if (entry.name == "sim") rc.dataset = "long", rc.data_options = {{"items", 100000000}};
    // 1e8 items × (18 + 18 ...) values: Adam's training copies need 28.8 GB or more.
    const std::string m = refusal(rc);
    CHECK_MESSAGE(
        m.rfind("--model " + entry.name +
                    " does not fit in memory: 1.8e+09 parameters, "
                    "1.8e+09 of them in the weights with a row per n_items 100000002 "
                    "(--items), held 4 times over to train with --optimizer adam "
                    "(weights, gradients and the optimizer's state): 28.8 GB, more than the ",
                0) == 0,
        m);
    CHECK(contains(m, " this process may use (ulimit -v) (its sizes: --item-dim 18, --cat-dim 18"));
  }
  // Plain SGD keeps no state; evaluating needs the weights alone.
  models::RunConfig rc = tinyrec_test::tiny_run_config(models::find_model("din"));
  rc.data_options["items"] = 100000000;
  rc.train.optimizer = "sgd";
  CHECK(contains(refusal(rc),
                 "held 2 times over to train with --optimizer sgd (weights, "
                 "gradients): 14.4 GB, more than the "));
  CHECK(contains(refusal(rc, false),
                 "1.8e+09 parameters, 1.8e+09 of them in the weights with a "
                 "row per n_items 100000002 (--items): 7.2 GB, more than the"));
  // Categories count too: 1e6 of them add 1.8e7 values.
  rc.data_options = {{"items", 100000000}, {"cats", 1000000}};
  CHECK(contains(refusal(rc),
                 "1.82e+09 parameters, 1.8e+09 of them in the weights with a row per "
                 "n_items"));
}

TEST_CASE("limits: weights per row past the limit of values are refused from the flags") {
  const AddressSpaceLimit limit(1.5e9);
  for (const char* name : {"stamp", "stmp"}) {
    CAPTURE(name);
    models::RunConfig rc = tinyrec_test::tiny_run_config(models::find_model(name));
    rc.data_options["items"] = 100000000;
    CHECK(refusal(rc) ==
          "--model " + std::string(name) +
              " does not fit: the weights with a row per n_items: n_items (--items) 100000001 × "
              "values per row 100 = 1e+10 values, more than the limit of 2^31 = 2147483648 (its "
              "sizes: --edim 100, --init-std 0.05, n_items 100000001)");
  }
  models::RunConfig rc = tinyrec_test::tiny_run_config(models::find_model("din"));
  rc.data_options["items"] = 1000000;
  rc.model_options["item_dim"] = 4096;
  CHECK(contains(refusal(rc),
                 "--model din does not fit: the weights with a row per n_items: "
                 "n_items (--items) 1000002 × values per row 4096 = 4.1e+09 values"));
  for (const auto& entry : models::model_registry()) {
    if (entry.task != "multitask" || entry.name == "esmm") continue;  // ESMM: fixed vocabularies
    CAPTURE(entry.name);
    models::RunConfig mt = tinyrec_test::tiny_run_config(entry);
    mt.data_options["dim"] = 1048576;
    const std::string m = refusal(mt);
    // Past the limit of values per row, or of the memory there is: either way --dim is named.
    CHECK_MESSAGE(contains(m, "--model " + entry.name + " does not fit"), m);
    CHECK_MESSAGE(
        (contains(m, "n_numeric (--dim) 1048576") || contains(m, "n_numeric 1048576 (--dim)")), m);
  }
}

TEST_CASE("limits: a generated data set that cannot fit the memory is refused before it is built") {
  const AddressSpaceLimit limit(1.5e9);
  models::RunConfig rc = tinyrec_test::tiny_run_config(models::find_model("din"));
  rc.data_options = {{"users", 1000000}, {"samples_per_user", 50}};
  const std::string m = refusal(rc);
  CHECK_MESSAGE(m.rfind("--dataset synthetic histories: --users 1000000 × --samples-per-user 50 × "
                        "--hist-len-max 40 = 2e+09 values, 16 bytes each (an item and a category "
                        "id): up to 32.0 GB, more than the ",
                        0) == 0,
                m);
  CHECK(contains(m, " this process may use (ulimit -v)"));
  rc = tinyrec_test::tiny_run_config(models::find_model("stamp"));
  rc.data_options = {{"sessions", 100000000}, {"len_max", 20}};
  CHECK(contains(refusal(rc),
                 "--dataset synthetic clicks: --sessions 100000000 × --len-max 20 = "
                 "2e+09 values, 8 bytes each (an item id): up to 16.0 GB"));
  rc = tinyrec_test::tiny_run_config(models::find_model("melu"));
  rc.data_options = {{"users", 10000000}, {"max_ratings", 200}};
  CHECK(contains(refusal(rc),
                 "--dataset synthetic ratings: --users 10000000 × --max-ratings 200 "
                 "= 2e+09 values, 12 bytes each (an item id and a rating): up to "
                 "24.0 GB"));
}

TEST_CASE("limits: the planned parameter count is the built model's, for every planned model") {
  for (const auto& entry : models::model_registry()) {
    CAPTURE(entry.name);
    models::RunConfig rc = tinyrec_test::tiny_run_config(entry);
    // A size past the point where it is probed as it is, so the count is extrapolated.
    if (entry.task == "click" || entry.task == "next_item") rc.data_options["items"] = 12000;
    if (entry.task == "click") rc.data_options["cats"] = 10001;
    if (entry.task == "multitask") rc.data_options["dim"] = 10003;
    const double planned = models::planned_parameter_count(rc);
    if (entry.name == "esmm" || entry.task == "meta") {
      CHECK(planned == -1);  // fixed vocabularies: nothing grows with a flag
      continue;
    }
    CHECK(planned == double(models::build_run(rc).model->parameter_count()));
  }
}

TEST_CASE("limits: a vocabulary's counts travel as one binary value, freed without allocating") {
  // A JSON array frees its elements by moving them into a new vector first: out of memory in that
  // destructor would be std::terminate. One binary value is freed in one piece.
  data::CtrDataset d;
  d.n_items = 5, d.n_cats = 3;
  d.item_counts = {0, 0, 7, 1, 3};
  d.cat_counts = {0, 0, 11};
  const nlohmann::json shape = models::ctr_shape(d);
  CHECK(shape.at("item_counts").is_binary());
  CHECK(shape.at("item_counts").get_binary().size() == 5 * sizeof(int64_t));
  const models::CtrConfig c = shape.get<models::CtrConfig>();
  CHECK(c.item_counts == std::vector<int64_t>{0, 0, 7, 1, 3});
  CHECK(c.cat_counts == std::vector<int64_t>{0, 0, 11});
  // A hand-written configuration's arrays still read; a binary of stray bytes is refused.
  nlohmann::json hand = {{"item_counts", {0, 0, 2}}};
  CHECK(hand.get<models::CtrConfig>().item_counts == std::vector<int64_t>{0, 0, 2});
  hand["item_counts"] = nlohmann::json::binary({1, 2, 3});
  CHECK_THROWS_WITH_AS(hand.get<models::CtrConfig>(),
                       "id counts: 3 bytes is not a whole number of 64-bit counts",
                       std::invalid_argument);
}
