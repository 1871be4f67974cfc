// Every kind of bad command line a user can type: a flag of the wrong type or out of range, a
// missing or empty file, a folder where a file is expected, an output path that cannot be written.
// Each ends with one line "tinyrec: error: ..." that says what was wrong, a non-zero exit, and no
// earlier result overwritten or lost.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_run.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using tinyrec_test::read_bytes;
using tinyrec_test::run;
using tinyrec_test::scratch;

namespace {

// The lines of `output` that report an error.
std::vector<std::string> error_lines(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line))
    if (line.find("error") != std::string::npos || line.find("Error") != std::string::npos)
      lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("cli: every bad input ends in one error line, a non-zero exit and nothing lost") {
  const fs::path good = scratch("bad_input_good");
  const auto trained =
      run("train --model din --users 60 --epochs 1 --quiet --out " + good.string());
  REQUIRE_MESSAGE(trained.status == 0, trained.output);
  const fs::path folder = scratch("bad_input_folder");
  fs::create_directories(folder);
  const fs::path empty = scratch("bad_input_empty.json");
  std::ofstream(empty).flush();
  const std::string ckpt = (good / "checkpoint").string();
  const fs::path record = scratch("bad_input_record.txt");  // one good record of dense ids
  std::ofstream(record) << "1\t3\t8\t10\t3\x02"
                        << "4\t5\x02"
                        << "6\n";
  // --overwrite: a run that fails on bad input removes nothing of the run it was to replace.
  const std::string out = " --out " + good.string() + " --overwrite";

  struct Case {
    std::string args, expect;
  };
  const std::vector<Case> cases{
      // wrong type, out of range, not among the accepted values
      {"train --epochs abc" + out, "--epochs: expects a whole number in [1, 1048576], got 'abc'"},
      {"train --epochs 0" + out, "--epochs: expects a whole number in [1, 1048576], got '0'"},
      {"train --batch-size 2.5" + out, "--batch-size: expects a whole number in [1, 16777216]"},
      {"train --lr -1" + out, "--lr: expects a positive number, got '-1'"},
      {"train --lr nan" + out, "--lr: expects a positive number, got 'nan'"},
      {"train --max-len 0" + out, "click task --max-len: 0 is not in [1, 1e+06]"},
      {"train --max-len 100000000" + out, "click task --max-len: 100000000 is not in [1, 1e+06]"},
      {"train --users 1e99" + out, "--dataset synthetic --users: 1e+99 is not in [2, 1e+07]"},
      {"train --optimizer foo" + out, "--optimizer: foo not in {adam,adagrad,sgd}"},
      {"train --model nope" + out, "--model: nope not in {"},
      {"train --model din --experts 4" + out, "--experts does not apply to --model din"},
      {"train --seed x" + out, "--seed"},
      {"bench --model din --steps 0", "--steps: expects a whole number in [1, 1000000000]"},
      // sizes each within its flag's range whose product cannot fit: refused before allocating
      {"train --users 10000000 --samples-per-user 100000" + out,
       "--dataset synthetic histories: --users 10000000 × --samples-per-user 100000 × "
       "--hist-len-max 40 = 4e+13 values, more than the limit of 2^31 = 2147483648"},
      {"train --dataset long --users 100000 --hist-len-max 100000" + out,
       "--dataset long whole histories: --users 100000 × --hist-len-max 100000 = 1e+10 values"},
      // a model's weights per row of a vocabulary, from the flags before any data are built
      {"train --model din --items 1000000 --item-dim 4096" + out,
       "--model din does not fit: the weights with a row per n_items: n_items (--items) 1000002 × "
       "values per row 4096 = 4.1e+09 values, more than the limit of 2^31 = 2147483648 (its "
       "sizes: --item-dim 4096, --cat-dim 18,"},
      {"train --model stamp --items 100000000" + out,
       "--model stamp does not fit: the weights with a row per n_items: n_items (--items) "
       "100000001 × values per row 100 = 1e+10 values, more than the limit of 2^31"},
      {"train --model mmoe --dim 1048576 --experts 1024" + out,
       "--model mmoe does not fit: the weights with a row per n_numeric: n_numeric (--dim) "
       "1048576 × values per row 18432 = 1.93e+10 values, more than the limit of 2^31"},
      {"train --model din --mlp 100000,100000" + out,
       "--model din does not fit: Linear: in 100000 × out 100000 = 1e+10 values"},
      {"train --model mmoe --experts 1024 --expert-units 100000" + out,
       "--model mmoe does not fit: Linear: in 100 × out 102400000 = 1.02e+10 values"},
      {"train --model mmoe --train-rows 100000000 --dim 1000000" + out,
       "--dataset synthetic features: --train-rows + --test-rows 100002000 × --dim 1000000"},
      {"train --model stamp --sessions 100000000 --len-max 10000" + out,
       "--dataset synthetic clicks: --sessions 100000000 × --len-max 10000 = 1e+12 values"},
      {"train --model melu --users 10000000 --max-ratings 1000000" + out,
       "--dataset synthetic ratings: --users 10000000 × --max-ratings 1000000 = 1e+13 values"},
      // missing or empty files, folders where a file is expected
      {"train --dataset movielens --data-dir " + folder.string() + out, "ratings.csv"},
      {"train --config " + (folder / "missing.json").string() + out, "cannot open"},
      {"train --config " + empty.string() + out, "not valid JSON"},
      {"train --config " + folder.string() + out, "is a folder, not a JSON file"},
      {"eval --checkpoint " + (folder / "missing").string(), "--checkpoint"},
      {"eval --checkpoint " + folder.string(), "config.json"},
      {"predict --checkpoint " + ckpt + " --input " + (folder / "none.txt").string(), "--input"},
      {"predict --checkpoint " + ckpt + " --input " + folder.string(), "--input"},
      {"predict --checkpoint " + ckpt + " --input " + empty.string(), "no record to score"},
      // outputs that cannot be written
      {"train --epochs 1 --out " + (good / "metrics.json").string(), "exists and is not a folder"},
      {"train --epochs 1 --out /proc/tinyrec/out", "cannot create the folder"},
      {"predict --checkpoint " + ckpt + " --input " + record.string() + " --output " +
           (folder / "no" / "such" / "x.tsv").string(),
       "--output: cannot write"},
      // experiment: its flags get the same treatment, all before the first run trains
      {"experiment --seeds abc" + out,
       "--seeds: expects a whole number in [1, 10000000], got 'abc'"},
      {"experiment --epochs 0" + out, "--epochs: expects a whole number in [1, 10000000], got '0'"},
      {"experiment --lr 0" + out, "--lr: expects a positive number, got '0'"},
      {"experiment --train-rows 1e9" + out,
       "--train-rows: expects a whole number in [1, 10000000]"},
      {"experiment --bottom-units x" + out,
       "--bottom-units: expects a whole number in [0, 100000]"},
      {"experiment --eval-every -1" + out, "--eval-every"},
      {"experiment --correlations 0.5,2" + out, "--correlations: '2' is not a number in [-1, 1]"},
      {"experiment --models din" + out, "--models: 'din' is not a model for this experiment"},
      {"experiment --sines cosine" + out, "--sines: cosine not in {gaussian,index}"},
      {"experiment nope" + out, "name: nope not in {mmoe-correlation}"},
      {"experiment --epochs 1 --out " + (good / "metrics.json").string(),
       "exists and is not a folder"},
      {"experiment --epochs 1 --out /proc/tinyrec/out", "cannot create the folder"},
  };
  const std::string metrics = read_bytes(good / "metrics.json");
  const std::string weights = read_bytes(good / "checkpoint" / "mlp.layers.0.weight.npy");
  REQUIRE(!metrics.empty());
  for (const auto& c : cases) {
    CAPTURE(c.args);
    const auto r = run(c.args);
    CHECK(r.status != 0);
    const auto errors = error_lines(r.output);
    REQUIRE_MESSAGE(errors.size() == 1, r.output);
    CHECK(errors[0].rfind("tinyrec: error: ", 0) == 0);
    CHECK_MESSAGE(errors[0].find(c.expect) != std::string::npos, errors[0]);
  }
  CHECK(read_bytes(good / "metrics.json") == metrics);
  CHECK(read_bytes(good / "checkpoint" / "mlp.layers.0.weight.npy") == weights);
}
