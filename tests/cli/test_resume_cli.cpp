// `tinyrec train --resume`: an interrupted run continues to the weights of one never stopped; what
// cannot be resumed says why; a run that meets a NaN keeps its finished epochs' files.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "autograd/tape.hpp"
#include "cli/commands.hpp"
#include "cli_run.hpp"
#include "models/trainer.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using tinyrec_test::read_bytes;
using tinyrec_test::run;
using tinyrec_test::scratch;

namespace {

json metrics_without_timing(const fs::path& out) {
  json m = json::parse(read_bytes(out / "metrics.json"));
  m["train"].erase("samples_per_second");
  return m;
}

}  // namespace

TEST_CASE("cli: a run stopped after epoch 1 and resumed ends with the same files, bit for bit") {
  const fs::path stopped = scratch("resume_a"), whole = scratch("resume_b");
  // dien: its task draws negative samples, so the resumed run must continue that generator too.
  const std::string run_flags = "--model dien --users 120 --batch-size 32 --quiet";
  const auto first = run("train " + run_flags + " --epochs 1 --out " + stopped.string());
  REQUIRE_MESSAGE(first.status == 0, first.output);
  CHECK(fs::is_regular_file(stopped / "checkpoint" / "train_state.json"));
  CHECK(fs::is_directory(stopped / "checkpoint" / "optimizer"));
  const auto resumed = run("train --resume " + stopped.string() + " --epochs 2 --quiet");
  REQUIRE_MESSAGE(resumed.status == 0, resumed.output);
  CHECK(resumed.output.find("resuming after epoch 1 of 2") != std::string::npos);
  const auto straight = run("train " + run_flags + " --epochs 2 --out " + whole.string());
  REQUIRE_MESSAGE(straight.status == 0, straight.output);

  size_t compared = 0;
  for (const auto& e : fs::recursive_directory_iterator(whole / "checkpoint")) {
    if (!e.is_regular_file() || e.path().extension() != ".npy") continue;
    const fs::path twin = stopped / fs::relative(e.path(), whole);
    CAPTURE(twin);
    CHECK(read_bytes(e.path()) == read_bytes(twin));
    ++compared;
  }
  CHECK(compared > 20);  // the weights and the optimizer's moments
  CHECK(metrics_without_timing(stopped) == metrics_without_timing(whole));
  CHECK(read_bytes(stopped / "curve.csv") == read_bytes(whole / "curve.csv"));
  CHECK(!fs::exists(stopped / "checkpoint.tmp"));
  CHECK(!fs::exists(stopped / "checkpoint.old"));

  // What cannot be resumed says why, and changes nothing.
  const std::string before = read_bytes(stopped / "metrics.json");
  const auto finished = run("train --resume " + stopped.string() + " --epochs 2 --quiet");
  CHECK(finished.status != 0);
  CHECK(finished.output.find("the run has finished its 2 epochs; pass --epochs N with N > 2") !=
        std::string::npos);
  const auto changed = run("train --resume " + stopped.string() + " --epochs 3 --lr 0.5 --quiet");
  CHECK(changed.status != 0);
  CHECK(changed.output.find("only --epochs may change when resuming; these settings differ from "
                            "the run's: train.lr") != std::string::npos);
  const auto elsewhere =
      run("train --resume " + stopped.string() + " --epochs 3 --out " + whole.string());
  CHECK(elsewhere.status != 0);
  CHECK(elsewhere.output.find("continues in its own folder; leave out --out") != std::string::npos);
  const fs::path nothing = scratch("resume_nothing");
  const auto missing = run("train --resume " + nothing.string() + " --epochs 3");
  CHECK(missing.status != 0);
  CHECK(missing.output.find("--resume " + nothing.string() + " holds no checkpoint/ folder") !=
        std::string::npos);
  CHECK(read_bytes(stopped / "metrics.json") == before);
}

namespace {

// A three-epoch DIN run on 120 synthetic users: small enough to train in a moment.
tinyrec::models::Run small_din_run() {
  tinyrec::models::RunConfig config;
  config.model = "din";
  config.data_options = {{"users", 120}};
  config.train.epochs = 3;
  return tinyrec::models::build_run(config);
}

// A fault after epoch 1's checkpoint was written: the output layer's bias becomes NaN.
tinyrec::models::TrainCallbacks nan_after_epoch_1(tinyrec::models::Run& r) {
  tinyrec::models::TrainCallbacks poison;
  poison.on_epoch_end = [&r](size_t epoch) {
    if (epoch == 1)
      r.model->parameters().back().data()[0] = std::numeric_limits<float>::quiet_NaN();
  };
  return poison;
}

}  // namespace

TEST_CASE("cli: a NaN in epoch 2 keeps epoch 1's files and checkpoint, and says so") {
  const fs::path out = scratch("nan_keep");
  tinyrec::models::Run r = small_din_run();
  const tinyrec::models::TrainCallbacks poison = nan_after_epoch_1(r);
  std::string msg;
  try {
    tinyrec::cli::train_and_write(r, out.string(), true, "", poison);
  } catch (const tinyrec::models::NonFiniteLoss& e) {
    msg = e.what();
  }
  CHECK(msg.find("training stopped at epoch 2, step 1") != std::string::npos);
  CHECK(msg.find("the last finite loss was click ") != std::string::npos);
  CHECK(msg.find("kept " + out.string() + "/metrics.json, curve.csv and curve.svg of epochs 1-1 " +
                 "and the checkpoint of epoch 1") != std::string::npos);
  const json m = json::parse(read_bytes(out / "metrics.json"));
  CHECK(m.at("curve").size() == 1);
  CHECK(m.at("train").at("epochs") == 1.0);
  CHECK(m.at("test").at("auc").get<double>() > 0);
  // The kept checkpoint is epoch 1's, finite, and resumable.
  const json state = json::parse(read_bytes(out / "checkpoint" / "train_state.json"));
  CHECK(state.at("epochs_done") == 1);
  const auto resumed = run("train --resume " + out.string() + " --epochs 2 --quiet");
  CHECK_MESSAGE(resumed.status == 0, resumed.output);
}

TEST_CASE("cli: in anomaly mode a NaN in epoch 2 names its op and keeps epoch 1's files") {
  const fs::path out = scratch("anomaly_keep");
  tinyrec::models::Run r = small_din_run();
  const tinyrec::models::TrainCallbacks poison = nan_after_epoch_1(r);
  std::string msg;
  {
    tinyrec::DetectAnomalyGuard anomaly;
    try {
      tinyrec::cli::train_and_write(r, out.string(), true, "", poison);
    } catch (const tinyrec::AnomalyError& e) {
      msg = e.what();
    }
  }
  // The poisoned weight is the output layer's bias [1]: the add of the logits [128, 1] and it.
  CHECK_MESSAGE(msg.rfind("training stopped at epoch 2, step 1: anomaly: forward of add produced "
                          "NaN in output [128, 1] from inputs [128, 1], [1]; ",
                          0) == 0,
                msg);
  CHECK(msg.find("the last finite loss was click ") != std::string::npos);
  CHECK(msg.find("kept " + out.string() + "/metrics.json, curve.csv and curve.svg of epochs 1-1 " +
                 "and the checkpoint of epoch 1") != std::string::npos);
  const json m = json::parse(read_bytes(out / "metrics.json"));
  CHECK(m.at("curve").size() == 1);
  const json state = json::parse(read_bytes(out / "checkpoint" / "train_state.json"));
  CHECK(state.at("epochs_done") == 1);
}

// A learning rate of 1e30 moves every weight by about ±1e30 after one step, with signs set by the
// last bits of the gradients: whether a product then holds +Inf and -Inf in one sum (NaN) depends
// on the BLAS kernel, the processor and the thread count. What the code guarantees is the op, its
// shapes, the step and that the value is not finite.
const char* const kNotFinite = "(NaN|Inf|NaN and Inf)";

TEST_CASE("cli: --detect-anomaly names the op a poisoned learning rate overflows") {
  const fs::path out = scratch("anomaly_lr");
  const std::string flags =
      "train --model din --users 60 --epochs 2 --lr 1e30 --quiet --out " + out.string();
  const auto found = run(flags + " --detect-anomaly");
  CHECK(found.status == 1);
  CHECK_MESSAGE(
      std::regex_search(found.output, std::regex(std::string("tinyrec: error: training stopped at "
                                                             "epoch 1, step 2: anomaly: forward of "
                                                             "matmul produced ") +
                                                 kNotFinite +
                                                 " in output \\[128, 80\\] from inputs \\[128, "
                                                 "36\\], \\[36, 80\\]; the last finite loss was "
                                                 "click [0-9.]+ \\(epoch 1, step 1\\)\n")),
      found.output);
  CHECK(found.output.find("no epoch had finished: nothing was written") != std::string::npos);
  // Without the flag the same run stops at the loss, naming no op.
  const auto plain = run(flags);
  CHECK(plain.status == 1);
  CHECK(plain.output.find("training stopped at epoch 1, step 2: the click loss is") !=
        std::string::npos);
  CHECK(plain.output.find("anomaly") == std::string::npos);
}

TEST_CASE("cli: experiment --detect-anomaly names the op in the run a poisoned rate overflows") {
  const fs::path out = scratch("anomaly_experiment");
  const std::string flags =
      "experiment --seeds 1 --epochs 2 --correlations 0.5 --models mmoe "
      "--train-rows 300 --test-rows 100 --lr 1e30 --quiet --out " +
      out.string();
  const auto found = run(flags + " --detect-anomaly");
  CHECK(found.status == 1);
  // The whole output is this one line; the step-1 losses come from seeded weights through BLAS,
  // so they are checked within 1e-3 rather than to their last printed digit.
  std::smatch m;
  const bool matched = std::regex_match(
      found.output, m,
      std::regex(std::string("tinyrec: error: mmoe at correlation 0\\.5, seed 1: training stopped "
                             "at epoch 1, step 2: anomaly: forward of matmul produced ") +
                 kNotFinite +
                 " in output \\[128, 8\\] from inputs \\[128, 16\\], \\[16, 8\\]; the "
                 "last finite loss was task1 ([0-9.]+), task2 ([0-9.]+) \\(epoch 1, step 1\\)\n"));
  REQUIRE_MESSAGE(matched, found.output);
  CHECK(std::stod(m[2]) == doctest::Approx(2.65104).epsilon(1e-3));
  CHECK(std::stod(m[3]) == doctest::Approx(2.87576).epsilon(1e-3));
  // Without the flag the same run stops at the loss, naming no op.
  const auto plain = run(flags);
  CHECK(plain.status == 1);
  CHECK_MESSAGE(std::regex_search(plain.output,
                                  std::regex("^tinyrec: error: mmoe at correlation 0\\.5, seed 1: "
                                             "training stopped at epoch 1, step 2: the task1 loss "
                                             "is (inf|nan|-nan)")),
                plain.output);
  CHECK(plain.output.find("anomaly") == std::string::npos);
  CHECK(!fs::exists(out / "table.md"));
}

TEST_CASE("cli: a crash while the checkpoint was replaced leaves one that --resume continues") {
  const fs::path out = scratch("resume_crash");
  const std::string flags = "--model din --users 60 --batch-size 32 --quiet";
  const auto first = run("train " + flags + " --epochs 1 --out " + out.string());
  REQUIRE_MESSAGE(first.status == 0, first.output);
  // A crash between write_checkpoint's two renames: the previous checkpoint is checkpoint.old, and
  // a new one half-written sits in checkpoint.tmp.
  fs::rename(out / "checkpoint", out / "checkpoint.old");
  fs::create_directories(out / "checkpoint.tmp");
  std::ofstream(out / "checkpoint.tmp" / "mlp.layers.0.weight.npy") << "\x93NUMPY half";
  const auto resumed = run("train --resume " + out.string() + " --epochs 2 --quiet");
  REQUIRE_MESSAGE(resumed.status == 0, resumed.output);
  CHECK(resumed.output.find("resuming after epoch 1 of 2") != std::string::npos);
  CHECK(json::parse(read_bytes(out / "checkpoint" / "train_state.json")).at("epochs_done") == 2);
  CHECK(!fs::exists(out / "checkpoint.old"));
  CHECK(!fs::exists(out / "checkpoint.tmp"));
  // The same weights as a run never interrupted.
  const fs::path whole = scratch("resume_crash_whole");
  const auto straight = run("train " + flags + " --epochs 2 --out " + whole.string());
  REQUIRE_MESSAGE(straight.status == 0, straight.output);
  CHECK(read_bytes(out / "checkpoint" / "mlp.layers.0.weight.npy") ==
        read_bytes(whole / "checkpoint" / "mlp.layers.0.weight.npy"));
}

namespace {

// Standard output and error, swallowed while it lives.
struct Quiet {
  std::ostringstream sink;
  std::streambuf* out = std::cout.rdbuf(sink.rdbuf());
  std::streambuf* err = std::cerr.rdbuf(sink.rdbuf());
  ~Quiet() {
    std::cout.rdbuf(out);
    std::cerr.rdbuf(err);
  }
};

}  // namespace

TEST_CASE("cli: for every registered model, the same seeds write the same metrics and checkpoint") {
  for (const auto& entry : tinyrec::models::model_registry()) {
    CAPTURE(entry.name);
    const tinyrec::models::RunConfig rc = tinyrec_test::tiny_run_config(entry, 1);
    const fs::path a = scratch("same_seeds_a_" + entry.name),
                   b = scratch("same_seeds_b_" + entry.name);
    for (const fs::path& out : {a, b}) {
      tinyrec::models::Run r = tinyrec::models::build_run(rc);
      const Quiet quiet;
      tinyrec::cli::train_and_write(r, out.string(), true);
    }
    CHECK(metrics_without_timing(a) == metrics_without_timing(b));
    CHECK(read_bytes(a / "curve.csv") == read_bytes(b / "curve.csv"));
    size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(a / "checkpoint")) {
      if (!e.is_regular_file()) continue;
      CAPTURE(e.path());
      const fs::path twin = b / fs::relative(e.path(), a);
      if (e.path().filename() == "train_state.json") {  // its one timing field apart
        json sa = json::parse(read_bytes(e.path())), sb = json::parse(read_bytes(twin));
        sa.erase("train_seconds"), sb.erase("train_seconds");
        CHECK(sa == sb);
      } else {
        CHECK(read_bytes(e.path()) == read_bytes(twin));
      }
      ++files;
    }
    CHECK(files > 3);  // weights, manifest, config, state and the optimizer's
    fs::remove_all(a);
    fs::remove_all(b);
  }
}
