// --init on the command line: every model lists it with its accepted names, a bad name is one
// error line naming them, and the scheme is kept in the checkpoint's configuration.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_run.hpp"
#include "tests/test_support.hpp"

using tinyrec_test::run;
using tinyrec_test::scratch;

TEST_CASE("cli: --init names its schemes, refuses others, and is saved with the run") {
  const char* accepted = "{torch,torch-0.1,torch-0.01,glorot}";
  for (const char* model : {"base", "din", "dien", "sim", "shared_bottom", "omoe", "mmoe", "ple",
                            "esmm", "stamp", "stmp", "melu"}) {
    CAPTURE(model);
    const auto help = run(std::string("train --model ") + model + " --help");
    CHECK(help.status == 0);
    CHECK(help.output.find(std::string("--init TEXT:") + accepted) != std::string::npos);
  }
  const auto bad = run("train --model din --init xavier --epochs 1 --users 60 --quiet --out " +
                       scratch("init_bad").string());
  CHECK(bad.status != 0);
  CHECK_MESSAGE(
      bad.output.find(std::string("--init: xavier not in ") + accepted) != std::string::npos,
      bad.output);

  const auto out = scratch("init_torch");
  const auto ok =
      run("train --model din --init torch --epochs 1 --users 60 --quiet --out " + out.string());
  REQUIRE_MESSAGE(ok.status == 0, ok.output);
  std::ifstream config(out / "checkpoint" / "config.json");
  const nlohmann::json j = nlohmann::json::parse(config);
  CHECK(j.dump().find("\"init\":\"torch\"") != std::string::npos);
  std::filesystem::remove_all(out);
}

TEST_CASE("cli: experiment --init takes train's names; with no embeddings the torch scales agree") {
  // The experiment's data are dense features: the torch variants differ only in the embeddings'
  // scale, so their runs must match to the last digit, and Glorot's dense layers must not.
  auto experiment = [](const std::string& init) {
    const auto out = scratch("init_experiment_" + init);
    const auto r =
        run("experiment mmoe-correlation --seeds 1 --epochs 1 --correlations 0.5 "
            "--models mmoe --train-rows 256 --test-rows 128 --quiet --init " +
            init + " --out " + out.string());
    REQUIRE_MESSAGE(r.status == 0, r.output);
    const std::string runs = tinyrec_test::read_bytes(out / "runs.csv");
    std::filesystem::remove_all(out);
    return runs;
  };
  const std::string torch = experiment("torch");
  CHECK(torch.find("mmoe,0.5,1,") != std::string::npos);
  CHECK(experiment("torch-0.01") == torch);
  CHECK(experiment("glorot") != torch);
  const auto bad = run("experiment mmoe-correlation --init xavier --out " +
                       scratch("init_experiment_bad").string());
  CHECK(bad.status != 0);
  CHECK_MESSAGE(bad.output.find("--init: xavier not in {torch,torch-0.1,torch-0.01,glorot}") !=
                    std::string::npos,
                bad.output);
}
