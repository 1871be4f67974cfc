// The `tinyrec` program end to end: bad flags name the accepted values, a short training run writes
// its files, eval and predict read its checkpoint back, gradcheck passes.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

struct Run {
  int status;
  std::string output;  // stdout and stderr together
};

Run run(const std::string& args) {
  const std::string cmd = std::string(TINYREC_CLI) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WEXITSTATUS(status), out};
}

fs::path scratch(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("tinyrec_cli_test_" + name);
  fs::remove_all(p);
  return p;
}

}  // namespace

TEST_CASE("cli: --help on every subcommand") {
  for (const char* sub : {"train", "eval", "predict", "gradcheck", "bench"}) {
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
  const double auc = m.at("test").at("auc");
  CHECK(auc > 0.5);
  CHECK(auc <= 1.0);
  CHECK(m.at("test").at("gauc").get<double>() > 0.0);
  CHECK(m.at("train").at("samples_per_second").get<double>() > 0.0);

  // eval rebuilds the same model and data: the same test AUC as at the end of training.
  const Run e = run("eval --checkpoint " + (out / "checkpoint").string());
  REQUIRE_MESSAGE(e.status == 0, e.output);
  const nlohmann::json em = nlohmann::json::parse(e.output);
  CHECK(em.at("test").at("auc").get<double>() == doctest::Approx(auc).epsilon(1e-4));

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
  const double mse1 = m.at("tasks").at("task1").at("mse");
  CHECK(mse1 > 0.0);
  CHECK(m.at("train").at("samples_per_second").get<double>() > 0.0);

  const Run e = run("eval --checkpoint " + (out / "checkpoint").string());
  REQUIRE_MESSAGE(e.status == 0, e.output);
  const nlohmann::json em = nlohmann::json::parse(e.output);
  CHECK(em.at("tasks").at("task1").at("mse").get<double>() == doctest::Approx(mse1).epsilon(1e-4));

  for (const char* model : {"shared_bottom", "omoe", "mmoe", "ple", "esmm"}) {
    const Run r = run(std::string("gradcheck --model ") + model);
    CHECK_MESSAGE(r.status == 0, model << ": " << r.output);
  }
  const Run bad = run("train --model mmoe --correlation 2");
  CHECK(bad.status != 0);
}
