// `tinyrec experiment`: its tables are recomputed here from the runs it lists, so a slip in the
// aggregation (the spread's divisor, a seed left out, the wrong baseline for the paired wins) shows
// as a mismatch between runs.csv and table.csv or table.md.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "cli_run.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using tinyrec_test::read_bytes;
using tinyrec_test::run;
using Run = tinyrec_test::CliRun;

using tinyrec_test::lines_of;

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string piece;
  std::istringstream in(s);
  while (std::getline(in, piece, sep)) out.push_back(piece);
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// The cells of a markdown table row "| a | b |", trimmed.
std::vector<std::string> cells(const std::string& row) {
  REQUIRE(row.size() > 2);
  REQUIRE(row.front() == '|');
  REQUIRE(row.back() == '|');
  std::vector<std::string> out;
  for (const std::string& c : split(row.substr(1, row.size() - 2), '|')) out.push_back(trim(c));
  return out;
}

// A number as table.md prints it (four decimals) and its value.
double printed(const std::string& text) {
  CAPTURE(text);
  const size_t dot = text.find('.');
  REQUIRE(dot != std::string::npos);
  CHECK(text.size() - dot - 1 == 4);
  size_t used = 0;
  const double v = std::stod(text, &used);
  CHECK(used == text.size());
  return v;
}

// Whether `text` is `value` printed to four decimals: within half a unit of the last digit.
void check_printed(const std::string& text, double value) {
  CAPTURE(text);
  CAPTURE(value);
  CHECK(std::abs(printed(text) - value) <= 0.5e-4 + 1e-12);
}

// Mean and sample standard deviation (n - 1), the spread the experiment reports.
std::pair<double, double> mean_sd(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m += x;
  m /= double(v.size());
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return {m, std::sqrt(ss / double(v.size() - 1))};
}

struct RunRow {
  double t1, t2, mean;
};

}  // namespace

TEST_CASE("cli: experiment's table.csv, table.md and paired wins are the seeds' statistics") {
  const tinyrec_test::TempDir dir("tinyrec_cli_test", "experiment_tables");
  const fs::path out = dir.path / "exp";
  // Shared-Bottom is listed second, so a baseline taken as "the first model" would show.
  const std::vector<std::string> models{"mmoe", "shared_bottom", "omoe"};
  const std::vector<std::string> ps{"0.5", "0"};
  const Run r =
      run("experiment mmoe-correlation --seeds 2 --epochs 1 --correlations 0.5,0 "
          "--models mmoe,shared_bottom,omoe --train-rows 200 --test-rows 40 --quiet --out " +
          out.string());
  REQUIRE_MESSAGE(r.status == 0, r.output);

  // runs.csv: every (model, correlation, seed) once, its mean the mean of its two tasks.
  std::map<std::tuple<std::string, std::string, int>, RunRow> runs;
  {
    const std::vector<std::string> lines = lines_of(read_bytes(out / "runs.csv"));
    REQUIRE(lines.size() == 1 + models.size() * ps.size() * 2);
    CHECK(lines[0] == "model,correlation,seed,task1_mse,task2_mse,mean_mse");
    for (size_t i = 1; i < lines.size(); ++i) {
      CAPTURE(lines[i]);
      const std::vector<std::string> f = split(lines[i], ',');
      REQUIRE(f.size() == 6);
      const RunRow row{std::stod(f[3]), std::stod(f[4]), std::stod(f[5])};
      CHECK(row.t1 > 0);
      CHECK(row.t2 > 0);
      CHECK(row.mean == doctest::Approx((row.t1 + row.t2) / 2).epsilon(1e-9));
      CHECK(runs.emplace(std::make_tuple(f[0], f[1], std::stoi(f[2])), row).second);
    }
    for (const auto& m : models)
      for (const auto& p : ps)
        for (int seed : {1, 2})
          CHECK_MESSAGE(runs.count({m, p, seed}), m << " " << p << " " << seed);
    REQUIRE(runs.size() == models.size() * ps.size() * 2);
    // Two seeds that gave one loss would make every spread 0 and hide a wrong divisor.
    CHECK(runs.at({"mmoe", "0.5", 1}).mean != runs.at({"mmoe", "0.5", 2}).mean);
  }

  struct Stats {
    double m1, s1, m2, s2, mm, sm, lo, hi;
  };
  auto stats = [&](const std::string& model, const std::string& p) {
    std::vector<double> t1, t2, m;
    for (int seed : {1, 2}) {
      const RunRow& row = runs.at({model, p, seed});
      t1.push_back(row.t1), t2.push_back(row.t2), m.push_back(row.mean);
    }
    Stats s;
    std::tie(s.m1, s.s1) = mean_sd(t1);
    std::tie(s.m2, s.s2) = mean_sd(t2);
    std::tie(s.mm, s.sm) = mean_sd(m);
    s.lo = *std::min_element(m.begin(), m.end());
    s.hi = *std::max_element(m.begin(), m.end());
    return s;
  };

  // table.csv: one row per model and correlation, in the order given, to ten digits.
  {
    const std::vector<std::string> lines = lines_of(read_bytes(out / "table.csv"));
    REQUIRE(lines.size() == 1 + models.size() * ps.size());
    CHECK(lines[0] ==
          "model,correlation,seeds,task1_mean,task1_sd,task2_mean,task2_sd,mean_mean,mean_sd,"
          "mean_min,mean_max");
    size_t i = 1;
    for (const auto& model : models)
      for (const auto& p : ps) {
        CAPTURE(lines[i]);
        const std::vector<std::string> f = split(lines[i++], ',');
        REQUIRE(f.size() == 11);
        CHECK(f[0] == model);
        CHECK(f[1] == p);
        CHECK(f[2] == "2");
        const Stats s = stats(model, p);
        const double want[] = {s.m1, s.s1, s.m2, s.s2, s.mm, s.sm, s.lo, s.hi};
        for (size_t k = 0; k < 8; ++k) {
          CAPTURE(k);
          CHECK(std::stod(f[3 + k]) == doctest::Approx(want[k]).epsilon(1e-8));
        }
      }
  }

  // table.md, as printed: the summary table, the paired wins, the per-task detail.
  const std::string md = read_bytes(out / "table.md");
  CHECK(r.output.rfind(md, 0) == 0);  // standard output starts with the same markdown
  const std::vector<std::string> lines = lines_of(md);
  REQUIRE(lines.size() == 23);
  CHECK(lines[0] == "Test MSE, mean of the two tasks: mean ± sd over 2 seed(s)");
  CHECK(lines[2] == "| model | p = 0.5 | p = 0 |");
  for (size_t i = 0; i < models.size(); ++i) {
    const std::vector<std::string> c = cells(lines[4 + i]);
    REQUIRE(c.size() == 1 + ps.size());
    CHECK(c[0] == models[i]);
    for (size_t j = 0; j < ps.size(); ++j) {
      const std::vector<std::string> v = split(c[1 + j], ' ');
      REQUIRE(v.size() == 3);
      CHECK(v[1] == "±");
      const Stats s = stats(models[i], ps[j]);
      check_printed(v[0], s.mm);
      check_printed(v[2], s.sm);
    }
  }

  // Paired wins: seeds on which a model's mean test MSE is below Shared-Bottom's on the same data.
  CHECK(lines[8] == "Data sets (seeds) on which a model's mean test MSE is below Shared-Bottom's:");
  CHECK(lines[10] == "| model | p = 0.5 | p = 0 |");
  size_t row = 12, wins_total = 0;
  for (const auto& model : models) {
    if (model == "shared_bottom") continue;
    const std::vector<std::string> c = cells(lines[row++]);
    REQUIRE(c.size() == 1 + ps.size());
    CHECK(c[0] == model);
    for (size_t j = 0; j < ps.size(); ++j) {
      size_t wins = 0;
      for (int seed : {1, 2})
        wins += runs.at({model, ps[j], seed}).mean < runs.at({"shared_bottom", ps[j], seed}).mean;
      wins_total += wins;
      CHECK_MESSAGE(c[1 + j] == std::to_string(wins) + "/2", model << " at p = " << ps[j]);
    }
  }
  // Neither all wins nor none: a count that ignores the comparison would then still match.
  CHECK(wins_total > 0);
  CHECK(wins_total < 2 * 2 * 2);

  CHECK(lines[15] == "| model | p | task 1 MSE | task 2 MSE | mean (min – max) |");
  row = 17;
  for (const auto& model : models)
    for (const auto& p : ps) {
      const std::vector<std::string> c = cells(lines[row++]);
      REQUIRE(c.size() == 5);
      CHECK(c[0] == model);
      CHECK(c[1] == p);
      const Stats s = stats(model, p);
      const std::vector<std::string> t1 = split(c[2], ' '), t2 = split(c[3], ' ');
      REQUIRE(t1.size() == 3);
      REQUIRE(t2.size() == 3);
      check_printed(t1[0], s.m1);
      check_printed(t1[2], s.s1);
      check_printed(t2[0], s.m2);
      check_printed(t2[2], s.s2);
      // "mean (min – max)"
      const std::vector<std::string> m = split(c[4], ' ');
      REQUIRE(m.size() == 4);
      check_printed(m[0], s.mm);
      REQUIRE(m[1].size() > 1);
      check_printed(m[1].substr(1), s.lo);
      CHECK(m[2] == "–");
      REQUIRE(m[3].size() > 1);
      check_printed(m[3].substr(0, m[3].size() - 1), s.hi);
    }
}
