// The `tinyrec` program end to end: bad flags name the accepted values, a short training run writes
// its files, eval and predict read its checkpoint back, gradcheck passes.
#include <doctest/doctest.h>

#include "cli_run.hpp"
#include "models/click_task.hpp"
#include "models/multitask_task.hpp"
#include "models/trainer.hpp"
#include "nn/metrics.hpp"
#include "tests/test_support.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

using tinyrec_test::run;
using tinyrec_test::scratch;
using Run = tinyrec_test::CliRun;
namespace data = tinyrec::data;
namespace metrics = tinyrec::metrics;
namespace models = tinyrec::models;

using tinyrec_test::lines_of;

namespace {

models::RunConfig checkpoint_config(const fs::path& checkpoint) {
  return nlohmann::json::parse(tinyrec_test::read_bytes(checkpoint / "config.json"))
      .get<models::RunConfig>();
}

// The task of a run built from a checkpoint's configuration: its data set is the one training
// evaluated on.
template <class TaskType>
const TaskType& as_task(const models::Run& run) {
  const auto* task = dynamic_cast<const TaskType*>(run.task.get());
  REQUIRE(task != nullptr);
  return *task;
}

// Equal to `v` to the six significant digits predict prints: within a unit of the sixth digit
// (10^-5 of the value, or of 1 for values below 1).
doctest::Approx same_digits(double v) {
  return doctest::Approx(v).epsilon(1e-5);
}

// A click sample as a line of predict's input (the Amazon format, ids written as numbers).
std::string amazon_line(const data::CtrSample& s) {
  std::ostringstream line;
  line << (s.label > 0.5f ? 1 : 0) << '\t' << s.user << '\t' << s.item << '\t' << s.cat << '\t';
  for (size_t i = 0; i < s.hist_items.size(); ++i) line << (i ? "\x02" : "") << s.hist_items[i];
  line << '\t';
  for (size_t i = 0; i < s.hist_cats.size(); ++i) line << (i ? "\x02" : "") << s.hist_cats[i];
  line << '\n';
  return line.str();
}

}  // namespace

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

  // predict on the test split, written out in the input format: the probabilities it prints give
  // the test metrics training reported (to the six digits printed), so each field is read into its
  // place and scored by the trained weights.
  const models::Run built = models::build_run(checkpoint_config(out / "checkpoint"), false);
  const std::vector<data::CtrSample>& test = as_task<models::ClickTask>(built).data().test;
  REQUIRE(test.size() == 400);
  const fs::path split = out / "test_split.txt";
  {
    std::ofstream f(split);
    for (const auto& s : test) f << amazon_line(s);
  }
  const Run all =
      run("predict --checkpoint " + (out / "checkpoint").string() + " --input " + split.string());
  REQUIRE_MESSAGE(all.status == 0, all.output);
  const std::vector<std::string> printed = lines_of(all.output);
  REQUIRE(printed.size() == test.size());
  std::vector<float> probs, labels;
  for (size_t i = 0; i < test.size(); ++i) {
    const double p = std::stod(printed[i]);
    CHECK(p > 0.0);
    CHECK(p < 1.0);
    probs.push_back(float(p));
    labels.push_back(test[i].label);
  }
  CHECK(metrics::logloss(probs, labels) ==
        doctest::Approx(m.at("test").at("logloss")).epsilon(2e-6));
  CHECK(metrics::auc_or_nan(probs, labels) == doctest::Approx(auc).epsilon(1e-3));

  // One record, then the same with the other label (predict ignores it), itself again, with
  // another candidate item, another history, or none: one line each, the first three the same.
  data::CtrSample a = test[0];
  data::CtrSample relabelled = a;
  relabelled.label = 1 - a.label;
  data::CtrSample other_item = a;
  other_item.item = a.item == 2 ? 3 : 2;
  data::CtrSample other_history = a;
  REQUIRE(!a.hist_items.empty());
  other_history.hist_items.back() = a.hist_items.back() == 2 ? 3 : 2;
  data::CtrSample no_history = a;
  no_history.hist_items.clear();
  no_history.hist_cats.clear();
  const fs::path input = out / "input.txt";
  {
    std::ofstream f(input);
    for (const auto& s : {a, relabelled, a, other_item, other_history, no_history})
      f << amazon_line(s);
  }
  const Run p =
      run("predict --checkpoint " + (out / "checkpoint").string() + " --input " + input.string());
  REQUIRE_MESSAGE(p.status == 0, p.output);
  const std::vector<std::string> lines = lines_of(p.output);
  REQUIRE(lines.size() == 6);
  std::vector<double> score;
  for (const auto& line : lines) score.push_back(std::stod(line));
  for (double v : score) {
    CHECK(v > 0.0);
    CHECK(v < 1.0);
  }
  // Scored in a batch of other rows and lengths than among the 400, and the copies at other rows
  // of the batch: the same to the digits printed, not necessarily to the bit.
  CHECK(score[0] == same_digits(std::stod(printed[0])));
  CHECK(score[1] == same_digits(score[0]));
  CHECK(score[2] == same_digits(score[0]));
  CHECK(score[3] != same_digits(score[0]));
  CHECK(score[4] != same_digits(score[0]));
  CHECK(score[5] != same_digits(score[0]));
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

  // predict on the test rows, written as a CSV: its predictions give the test MSE training
  // reported (to the six digits printed).
  const fs::path checkpoint = out / "checkpoint";
  const models::Run built = models::build_run(checkpoint_config(checkpoint), false);
  const data::MultiTaskDataset& ds = as_task<models::MultiTaskTask>(built).data();
  const size_t rows = ds.num_test(), dim = ds.numeric_names.size();
  REQUIRE(rows == 200);
  REQUIRE(dim > 2);
  REQUIRE(ds.categorical_names.empty());
  // Values to nine digits read back as the same floats.
  auto value = [&](size_t i, size_t j) {
    std::ostringstream v;
    v << std::setprecision(9) << ds.test_x(i, j);
    return v.str();
  };
  const fs::path in_order = out / "test_rows.csv";
  {
    std::ofstream f(in_order);
    for (size_t j = 0; j < dim; ++j) f << (j ? "," : "") << ds.numeric_names[j];
    f << "\n";
    for (size_t i = 0; i < rows; ++i) {
      for (size_t j = 0; j < dim; ++j) f << (j ? "," : "") << value(i, j);
      f << "\n";
    }
  }
  const Run p =
      run("predict --checkpoint " + checkpoint.string() + " --input " + in_order.string());
  REQUIRE_MESSAGE(p.status == 0, p.output);
  const std::vector<std::string> printed = lines_of(p.output);
  REQUIRE(printed.size() == rows);
  std::vector<double> sse(ds.num_tasks(), 0.0);
  for (size_t i = 0; i < rows; ++i) {
    std::istringstream line(printed[i]);
    for (size_t k = 0; k < ds.num_tasks(); ++k) {
      double y = 0;
      REQUIRE(static_cast<bool>(line >> y));
      sse[k] += (y - ds.test_y(i, k)) * (y - ds.test_y(i, k));
    }
    std::string rest;
    CHECK_FALSE(static_cast<bool>(line >> rest));
  }
  for (size_t k = 0; k < ds.num_tasks(); ++k) {
    CAPTURE(ds.tasks[k].name);
    CHECK(ds.tasks[k].kind == data::TaskKind::regression);
    const double mse = m.at("test").at("tasks").at(ds.tasks[k].name).at("mse");
    CHECK(sse[k] / double(rows) == doctest::Approx(mse).epsilon(1e-5));
  }

  // Columns are found by name: the same rows with the columns reversed and one the model does
  // not read give the same predictions, and a row given twice scores the same twice. (One more row
  // makes another batch shape, so equal to the digits printed rather than as text.)
  const fs::path reversed = out / "test_rows_reversed.csv";
  {
    std::ofstream f(reversed);
    f << "note";
    for (size_t j = dim; j-- > 0;) f << "," << ds.numeric_names[j];
    f << "\n";
    for (size_t i = 0; i <= rows; ++i) {
      const size_t row = i < rows ? i : 0;
      f << "row" << row;
      for (size_t j = dim; j-- > 0;) f << "," << value(row, j);
      f << "\n";
    }
  }
  const Run q =
      run("predict --checkpoint " + checkpoint.string() + " --input " + reversed.string());
  REQUIRE_MESSAGE(q.status == 0, q.output);
  const std::vector<std::string> again = lines_of(q.output);
  REQUIRE(again.size() == rows + 1);
  for (size_t i = 0; i <= rows; ++i) {
    CAPTURE(i);
    std::istringstream a(again[i]), b(printed[i < rows ? i : 0]);
    for (size_t k = 0; k < ds.num_tasks(); ++k) {
      double x = 0, y = 0;
      REQUIRE(static_cast<bool>(a >> x));
      REQUIRE(static_cast<bool>(b >> y));
      CHECK(x == same_digits(y));
    }
  }

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
