// The settings a user can change — a model's, a task's, a data set's — as plain data: a JSON key,
// the flag that sets it, a help line and the values it accepts. models/ knows no command line;
// cli/ turns each spec into a flag, and a run's values travel as one JSON object per owner, which
// is also what a checkpoint's config.json stores.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tinyrec::models {

struct OptionSpec {
  std::string key;   // JSON key, e.g. "item_dim"
  std::string flag;  // command-line flag without the dashes, e.g. "item-dim"
  std::string help = {};
  std::vector<std::string> choices = {};  // the accepted values of a text option; empty = any
  double min = -std::numeric_limits<double>::infinity();  // bounds of a number or list item
  double max = std::numeric_limits<double>::infinity();
  bool path = false;  // names a file or folder (stored as an absolute path)
};
using Options = std::vector<OptionSpec>;

// "init": the initialisation scheme every model takes (the names of nn/init_scheme.hpp).
OptionSpec init_option();

// A text setting naming a file or folder.
OptionSpec path_option(const std::string& key, const std::string& flag, const std::string& help);

// DATA_DIR/name for a data set read from the folder its "data_dir" setting names; throws
// std::invalid_argument naming --data-dir, the missing file and `hint` (how to get it).
std::string data_file(const std::string& dataset, const nlohmann::json& data_options,
                      const std::string& name, const std::string& hint = "");

// "a, b, c"
std::string join_names(const std::vector<std::string>& names);

// The values of `specs`' keys in `all` (a whole configuration's JSON): the defaults of one owner.
nlohmann::json pick(const nlohmann::json& all, const Options& specs);

// Checks `value` against the spec and the type of `default_value` (a whole number where the
// default is one, a list of numbers where it is a list, ...); throws std::invalid_argument naming
// `owner`, the flag and what is accepted. Returns the value converted to the default's type.
nlohmann::json check_option(const std::string& owner, const OptionSpec& spec,
                            const nlohmann::json& value, const nlohmann::json& default_value);

// `given` over `defaults`, every key checked: a key that is not one of `specs` is an error naming
// the keys `owner` accepts.
nlohmann::json merge_options(const std::string& owner, const Options& specs,
                             const nlohmann::json& defaults, const nlohmann::json& given);

}  // namespace tinyrec::models
