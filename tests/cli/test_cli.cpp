// The `tinyrec` program end to end: bad flags name the accepted values, a short training run writes
// its files, eval and predict read its checkpoint back, gradcheck passes.
#include <doctest/doctest.h>

#include "cli_run.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

using tinyrec_test::run;
using tinyrec_test::scratch;
using Run = tinyrec_test::CliRun;

TEST_CASE("cli: --help on every subcommand") {
  for (const char* sub : {"train", "eval", "predict", "gradcheck", "bench", "models"}) {
    CAPTURE(sub);
    const Run r = run(std::string(sub) + " --help");
    CHECK(r.status == 0);
    CHECK(r.output.find("--") != std::string::npos);
  }
}

TEST_CASE("cli: a bad flag value names the accepted values") {
  const Run model = run("train --model dinn");
  CHECK(model.status != 0);
  CHECK(model.output.find("base") != std::string::npos);
  CHECK(model.output.find("din") != std::string::npos);
  const Run act = run("train --activation swish");
  CHECK(act.status != 0);
  CHECK(act.output.find("dice") != std::string::npos);
  const Run unknown = run("train --no-such-flag");
  CHECK(unknown.status != 0);
  CHECK(unknown.output.find("no-such-flag") != std::string::npos);
  const Run missing = run("train --dataset movielens --data-dir /nonexistent_dir_for_test");
  CHECK(missing.status != 0);
  CHECK(missing.output.find("ratings.csv") != std::string::npos);
}

TEST_CASE("cli: train writes metrics, curves and a checkpoint that eval and predict read") {
  const fs::path out = scratch("train");
  const Run t =
      run("train --model din --users 200 --epochs 1 --batch-size 64 --quiet --out " + out.string());
  REQUIRE_MESSAGE(t.status == 0, t.output);
  for (const char* f : {"metrics.json", "curve.csv", "curve.svg", "checkpoint/config.json"})
    CHECK_MESSAGE(fs::exists(out / f), f);
  std::ifstream in(out / "metrics.json");
  const nlohmann::json m = nlohmann::json::parse(in);
  CHECK(m.at("model") == "din");
  CHECK(m.at("dataset") == "synthetic");
  // One epoch on 200 users is still near chance (model seeds 1-5: AUC 0.48 to 0.52): this test
  // is about the files, so it checks that the metrics are there and in range, not that DIN learnt.
  const double auc = m.at("test").at("auc"), gauc = m.at("test").at("gauc");
  CHECK(auc > 0.0);
  CHECK(auc < 1.0);
  CHECK(gauc > 0.0);
  CHECK(gauc < 1.0);
  CHECK(m.at("test").at("logloss").get<double>() > 0.0);
  CHECK(m.at("test").at("samples") == 400);  // two held-out impressions per user
  CHECK(m.at("train").at("samples_per_second").get<double>() > 0.0);

  // eval rebuilds the same model and data and evaluates as training did: the same numbers, to the
  // last bit (JSON carries a double exactly).
  const Run e = run("eval --checkpoint " + (out / "checkpoint").string());
  REQUIRE_MESSAGE(e.status == 0, e.output);
  const nlohmann::json em = nlohmann::json::parse(e.output);
  CHECK(em.at("test") == m.at("test"));

  // predict: one probability per input line.
  const fs::path input = out / "input.txt";
  std::ofstream(input) << "0\t2\t5\t7\t3\x02"
                          "4\t5\x02"
                          "6\n1\t3\t8\t10\t\t\n";
  const Run p =
      run("predict --checkpoint " + (out / "checkpoint").string() + " --input " + input.string());
  REQUIRE_MESSAGE(p.status == 0, p.output);
  std::istringstream lines(p.output);
  double a = -1, b = -1;
  lines >> a >> b;
  CHECK(a > 0.0);
  CHECK(a < 1.0);
  CHECK(b > 0.0);
  CHECK(b < 1.0);
}

TEST_CASE("cli: gradcheck passes for both models and reports the worst error") {
  for (const char* model : {"base", "din"}) {
    const Run r = run(std::string("gradcheck --model ") + model);
    CHECK_MESSAGE(r.status == 0, r.output);
    CHECK(r.output.find("gradcheck passed") != std::string::npos);
  }
}

TEST_CASE("cli: bench prints one JSON line") {
  const Run r = run("bench --model din --batch-size 32 --max-len 10 --steps 3 --warmup 1");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  const nlohmann::json j = nlohmann::json::parse(r.output);
  CHECK(j.at("model") == "din");
  CHECK(j.at("batch_size") == 32);
  CHECK(j.at("max_len") == 10);
  CHECK(j.at("samples_per_second").get<double>() > 0);
  // What the figure was measured on: processor, the build's instruction set, OpenBLAS's kernel.
  CHECK(!j.at("cpu").get<std::string>().empty());
  CHECK(!j.at("build_isa").get<std::string>().empty());
  CHECK(!j.at("blas_core").get<std::string>().empty());
}

TEST_CASE("cli: multi-task models train, evaluate, predict and pass gradcheck") {
  const fs::path out = scratch("mmoe");
  const Run t =
      run("train --model mmoe --dataset synthetic --train-rows 600 --test-rows 200 "
          "--epochs 1 --batch-size 64 --quiet --out " +
          out.string());
  REQUIRE_MESSAGE(t.status == 0, t.output);
  std::ifstream in(out / "metrics.json");
  const nlohmann::json m = nlohmann::json::parse(in);
  CHECK(m.at("model") == "mmoe");
  const double mse1 = m.at("test").at("tasks").at("task1").at("mse");
  CHECK(mse1 > 0.0);
  CHECK(m.at("train").at("samples_per_second").get<double>() > 0.0);

  const Run e = run("eval --checkpoint " + (out / "checkpoint").string());
  REQUIRE_MESSAGE(e.status == 0, e.output);
  const nlohmann::json em = nlohmann::json::parse(e.output);
  CHECK(em.at("test") == m.at("test"));

  for (const char* model : {"shared_bottom", "omoe", "mmoe", "ple", "esmm"}) {
    const Run r = run(std::string("gradcheck --model ") + model);
    CHECK_MESSAGE(r.status == 0, model << ": " << r.output);
  }
  const Run bad = run("train --model mmoe --correlation 2");
  CHECK(bad.status != 0);
}

TEST_CASE(
    "cli: train --model NAME --help lists exactly that model's, task's and data set's flags") {
  const Run din = run("train --model din --help");
  REQUIRE(din.status == 0);
  for (const char* f : {"--softmax", "--attention", "--max-len", "--users", "--model-seed"})
    CHECK_MESSAGE(din.output.find(f) != std::string::npos, f);
  for (const char* f : {"--correlation", "--experts", "--pooling", "--task-weights"})
    CHECK_MESSAGE(din.output.find(f) == std::string::npos, f);
  const Run mmoe = run("train --model mmoe --help");
  REQUIRE(mmoe.status == 0);
  for (const char* f : {"--experts", "--correlation", "--task-weights", "--init"})
    CHECK_MESSAGE(mmoe.output.find(f) != std::string::npos, f);
  CHECK(mmoe.output.find("--softmax") == std::string::npos);
  const Run income = run("train --model mmoe --dataset income --help");
  REQUIRE(income.status == 0);
  CHECK(income.output.find("--data-dir") != std::string::npos);
  CHECK(income.output.find("--correlation") == std::string::npos);
}

TEST_CASE("cli: a flag that does not apply is an error naming where it applies") {
  const Run softmax = run("train --model mmoe --softmax");
  CHECK(softmax.status != 0);
  CHECK(softmax.output.find("--softmax does not apply to --model mmoe") != std::string::npos);
  CHECK(softmax.output.find("applies to --model din") != std::string::npos);
  const Run corr = run("train --model din --correlation 0.3");
  CHECK(corr.status != 0);
  CHECK(corr.output.find("--dataset synthetic of --model shared_bottom") != std::string::npos);
  const Run pooling = run("train --model din --pooling mean");
  CHECK(pooling.status != 0);
  CHECK(pooling.output.find("applies to --model base") != std::string::npos);
  const Run dataset = run("train --model din --dataset income");
  CHECK(dataset.status != 0);
  CHECK(dataset.output.find("income is a data set of --model shared_bottom") != std::string::npos);
  const Run value = run("train --model din --mlp 3,0");
  CHECK(value.status != 0);
  CHECK(value.output.find("--mlp: 0 is not in [1, 100000]") != std::string::npos);
  const Run text = run("train --model din --item-dim x");
  CHECK(text.status != 0);
  CHECK(text.output.find("'x' is not a number") != std::string::npos);
}

TEST_CASE("cli: --config reruns a checkpoint's run with the same numbers") {
  const fs::path out = scratch("config_a"), again = scratch("config_b");
  const Run a = run("train --model base --users 120 --epochs 1 --batch-size 64 --quiet --out " +
                    out.string());
  REQUIRE_MESSAGE(a.status == 0, a.output);
  const Run b = run("train --config " + (out / "checkpoint" / "config.json").string() +
                    " --quiet --out " + again.string());
  REQUIRE_MESSAGE(b.status == 0, b.output);
  std::ifstream ia(out / "metrics.json"), ib(again / "metrics.json");
  const nlohmann::json ma = nlohmann::json::parse(ia), mb = nlohmann::json::parse(ib);
  CHECK(ma.at("config") == mb.at("config"));
  CHECK(ma.at("test") == mb.at("test"));
  CHECK(ma.at("model") == "base");
  // A flag given with --config overrides the file.
  const fs::path third = scratch("config_c");
  const Run c = run("train --config " + (out / "checkpoint" / "config.json").string() +
                    " --model-seed 9 --quiet --out " + third.string());
  REQUIRE_MESSAGE(c.status == 0, c.output);
  std::ifstream ic(third / "metrics.json");
  const nlohmann::json mc = nlohmann::json::parse(ic);
  CHECK(mc.at("config").at("model_seed") == 9);
  CHECK(mc.at("test") != ma.at("test"));
}

TEST_CASE("cli: tinyrec models lists every model with its task and paper") {
  const Run r = run("models --json");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  std::istringstream lines(r.output);
  std::string line;
  std::vector<std::string> names;
  while (std::getline(lines, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    names.push_back(j.at("name"));
    CHECK(j.at("parameters").get<size_t>() > 0);
    CHECK(!j.at("paper").get<std::string>().empty());
  }
  CHECK(names == std::vector<std::string>{"base", "din", "dien", "sim", "shared_bottom", "omoe",
                                          "mmoe", "ple", "esmm", "stamp", "stmp", "melu"});
}

TEST_CASE("cli: bad output paths and empty inputs fail early with one clear line") {
  const fs::path file = scratch("not_a_folder");
  std::ofstream(file) << "x";
  const Run t = run("train --model base --users 60 --epochs 1 --quiet --out " + file.string());
  CHECK(t.status != 0);
  CHECK(t.output.find("exists and is not a folder") != std::string::npos);

  const fs::path out = scratch("empty_predict");
  const Run trained = run("train --model base --users 60 --epochs 1 --quiet --out " + out.string());
  REQUIRE_MESSAGE(trained.status == 0, trained.output);
  const fs::path empty = out / "empty.txt";
  std::ofstream(empty).flush();
  const Run p =
      run("predict --checkpoint " + (out / "checkpoint").string() + " --input " + empty.string());
  CHECK(p.status != 0);
  CHECK(p.output.find("no record to score") != std::string::npos);
}

TEST_CASE("cli: a non-finite loss stops training with the epoch and step") {
  const fs::path out = scratch("nan");
  const Run r =
      run("train --model mmoe --train-rows 300 --test-rows 50 --lr 1e30 --optimizer sgd "
          "--epochs 1 --quiet --out " +
          out.string());
  CHECK(r.status != 0);
  CHECK(r.output.find("training stopped at epoch 1, step") != std::string::npos);
}
