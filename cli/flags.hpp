// Flags that scale to many models. A command line is read in two passes: the first finds the
// subcommand, --model, --dataset and --config; the second registers only the flags that apply to
// that model, its task and its data set, so `tinyrec train --model NAME --help` lists exactly
// them. A flag of another model or data set is an error naming where it applies.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/trainer.hpp"

namespace tinyrec::cli {

// What the first pass finds.
// `--resume DIR` reads the run's configuration from DIR's checkpoint, as --config would.
struct Prescan {
  std::string subcommand, model, dataset, config, resume;
};
Prescan prescan(int argc, char** argv);

// The settings of one owner (a model, a task or a data set) bound to flags; after parsing,
// values() holds the flags that were given, checked and converted.
class OptionFlags {
 public:
  OptionFlags(std::string owner, const models::Options& specs, nlohmann::json defaults);
  void add_to(CLI::App& app, const std::string& group);
  // The given flags' values over `base`.
  nlohmann::json values(nlohmann::json base) const;

 private:
  struct Bound {
    models::OptionSpec spec;
    CLI::Option* option = nullptr;
    std::string text;
    std::vector<std::string> items;
    bool flag = false;
  };
  std::string owner_;
  nlohmann::json defaults_;
  std::vector<std::unique_ptr<Bound>> bound_;
};

// The flags of `tinyrec train` and `tinyrec bench`: the run's common settings, then the model's,
// its task's and its data set's. The run starts from --config when given.
class RunFlags {
 public:
  // `timing` leaves out what a timing run does not use (epochs, evaluation, output, data sets
  // other than the synthetic one), so those flags are errors there rather than ignored.
  RunFlags(CLI::App& app, const Prescan& scan, bool timing = false);
  // The run configuration after parsing; throws naming a flag that does not apply.
  models::RunConfig config() const;
  std::string out = "runs/latest";
  std::string resume;  // train only: the run folder to continue
  bool quiet = false;
  bool overwrite = false;       // train only: replace the run --out holds
  bool detect_anomaly = false;  // train only: anomaly mode (autograd/tape.hpp) while training

 private:
  CLI::App& app_;
  models::RunConfig run_;
  std::unique_ptr<OptionFlags> model_, task_, data_;
};

// Every flag left over by CLI11 (an app with allow_extras) is an error: one that belongs to another
// model or data set names where it applies.
void reject_extras(const CLI::App& app, const std::string& model, const std::string& dataset);

nlohmann::json read_json_file(const std::string& path);

// Checks whose messages say what was expected and what was given, e.g. "--epochs: expects a whole
// number in [1, 1048576], got 'abc'".
CLI::Validator whole_number_in(uint64_t lo, uint64_t hi);
CLI::Validator positive_number();

// The one line printed for a command-line error that is not a request for help.
std::string parse_error_line(const CLI::ParseError& e, const std::string& subcommand);

}  // namespace tinyrec::cli
