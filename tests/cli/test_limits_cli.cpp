// Sizes and faults at the command line: a model too big for the memory there is is refused before
// anything is built; running out of memory anywhere ends in one line and exit status 1, never an
// abort; a file that fails to write leaves the previous one whole; a SIM search wider than every
// history takes them all.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_run.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using tinyrec_test::read_bytes;
using tinyrec_test::run;
using tinyrec_test::run_limited;
using tinyrec_test::scratch;

namespace {

std::vector<std::string> lines_of(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("cli: under ulimit -v, sizes past the memory end in one line and exit 1, never abort") {
  if (tinyrec_test::kAddressSanitizer) {
    MESSAGE("not run under AddressSanitizer, which cannot start under ulimit -v");
    return;
  }
  const fs::path out = scratch("limits_memory");
  const std::string to = " --epochs 1 --quiet --out " + out.string();
  struct Case {
    std::string args, expect;
  };
  const std::vector<Case> cases{
      // Refused from the flags: neither the data nor the model is built (no "tinyrec train:" line).
      {"train --model din --items 100000000" + to,
       "tinyrec: error: --model din does not fit in memory: 1.8e+09 parameters, 1.8e+09 of them "
       "in the weights with a row per n_items 100000002 (--items), held 4 times over to train "
       "with --optimizer adam (weights, gradients and the optimizer's state): 28.8 GB, more than "
       "the "},
      // A data set that cannot fit, from its flags before it is built.
      {"train --model mmoe --train-rows 100000000 --dim 20" + to,
       "tinyrec: error: --dataset synthetic features: --train-rows + --test-rows 100002000 × --dim "
       "20 = 2e+09 values, 4 bytes each (a float32 feature): up to 8.0 GB, more than the "},
      // Accepted sizes that outgrow the memory while the data are built, or in a batch.
      {"train --model esmm --train-rows 100000000" + to,
       "tinyrec: error: out of memory building --dataset synthetic with "},
      {"train --model din --users 20000 --batch-size 16777216" + to,
       "tinyrec: error: training stopped at epoch 1, step 1: out of memory in a batch of 160000 "
       "rows (--batch-size 16777216); lower --batch-size or the model's sizes"},
      {"experiment --train-rows 10000000 --seeds 1 --epochs 1 --quiet --out " + out.string(),
       "tinyrec: error: out of memory building the data of --train-rows 10000000 and --test-rows "
       "2000; lower them"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.args);
    const auto r = run_limited(2000000, c.args);
    CHECK(r.status == 1);  // an abort would be 134
    // One error line, the last; before it at most the line naming the run.
    const auto lines = lines_of(r.output);
    REQUIRE_MESSAGE(!lines.empty(), r.output);
    CHECK_MESSAGE(lines.back().rfind(c.expect, 0) == 0, lines.back());
    CHECK_MESSAGE(r.output.find("error") == r.output.rfind("error"), r.output);
    CHECK_MESSAGE(lines.size() <= 2, r.output);
  }
}

TEST_CASE("cli: a run file that cannot be written stops the run and leaves the earlier one whole") {
  const fs::path out = scratch("limits_write");
  const std::string flags = "--model din --users 60 --quiet";
  const auto first = run("train " + flags + " --epochs 1 --out " + out.string());
  REQUIRE_MESSAGE(first.status == 0, first.output);
  const std::string metrics = read_bytes(out / "metrics.json");
  // Something holds metrics.json's temporary name (a folder, not ours to remove): epoch 2's
  // checkpoint is written, its metrics.json cannot be.
  fs::create_directories(out / "metrics.json.tmp" / "x");
  const auto again = run("train --resume " + out.string() + " --epochs 2 --quiet");
  CHECK(again.status == 1);
  const auto lines = lines_of(again.output);
  REQUIRE(lines.size() >= 2);
  CHECK(lines[lines.size() - 2] ==
        "tinyrec: error: cannot write " + (out / "metrics.json").string() + ": Is a directory");
  CHECK(lines.back() == "kept " + out.string() +
                            "/metrics.json, curve.csv and curve.svg of epochs 1-1 and the "
                            "checkpoint of epoch 2 (tinyrec train --resume " +
                            out.string() + " continues from it)");
  CHECK_MESSAGE(again.output.find("error") == again.output.rfind("error"), again.output);
  CHECK(read_bytes(out / "metrics.json") == metrics);
  CHECK(fs::is_directory(out / "metrics.json.tmp" / "x"));
  CHECK(json::parse(read_bytes(out / "checkpoint" / "train_state.json")).at("epochs_done") == 2);
  CHECK(!fs::exists(out / "checkpoint.tmp"));
  fs::remove_all(out);
}

TEST_CASE("cli: sim with --top-k beyond every history takes them all") {
  const fs::path all = scratch("limits_topk_all"), huge = scratch("limits_topk_huge");
  // The synthetic histories hold at most --hist-len-max 40 behaviours.
  const std::string flags = "train --model sim --users 60 --epochs 1 --quiet";
  const auto a = run(flags + " --top-k 40 --out " + all.string());
  REQUIRE_MESSAGE(a.status == 0, a.output);
  const auto b = run(flags + " --top-k 100000 --out " + huge.string());
  REQUIRE_MESSAGE(b.status == 0, b.output);
  const auto metrics = [](const fs::path& dir) {
    return nlohmann::json::parse(read_bytes(dir / "metrics.json"));
  };
  CHECK(metrics(all).at("test") == metrics(huge).at("test"));
  CHECK(metrics(all).at("curve") == metrics(huge).at("curve"));
  CHECK(read_bytes(all / "checkpoint" / "mlp.layers.0.weight.npy") ==
        read_bytes(huge / "checkpoint" / "mlp.layers.0.weight.npy"));
}
