// Checking option values against their specs, for flags and JSON configurations alike.
#include "models/options.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "nn/init_scheme.hpp"

namespace tinyrec::models {

using nlohmann::json;

json pick(const json& all, const Options& specs) {
  json out = json::object();
  for (const auto& s : specs) out[s.key] = all.at(s.key);
  return out;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

OptionSpec path_option(const std::string& key, const std::string& flag, const std::string& help) {
  OptionSpec s{key, flag, help};
  s.path = true;
  return s;
}

OptionSpec init_option() {
  return {"init", "init",
          "initial weights: torch (PyTorch's defaults: embeddings N(0, 1), Linear and GRU weights "
          "and biases U(±1/√fan_in)), torch-0.1 and torch-0.01 (the same with N(0, 0.1²) or "
          "N(0, 0.01²) embeddings), glorot (Glorot-uniform weights, zero biases, N(0, 0.01²) "
          "embeddings)",
          nn::init::scheme_names()};
}

std::string data_file(const std::string& dataset, const json& data_options, const std::string& name,
                      const std::string& hint) {
  const std::string dir = data_options.at("data_dir").get<std::string>();
  if (dir.empty())
    throw std::invalid_argument("--dataset " + dataset + " needs --data-dir DIR holding " + name +
                                hint);
  const std::filesystem::path p = std::filesystem::path(dir) / name;
  if (!std::filesystem::is_regular_file(p))
    throw std::invalid_argument("--data-dir " + dir + ": missing " + p.string() + hint);
  return p.string();
}

namespace {

std::string bounds(const OptionSpec& s) {
  std::ostringstream os;
  if (std::isfinite(s.min) && std::isfinite(s.max))
    os << "in [" << s.min << ", " << s.max << "]";
  else if (std::isfinite(s.min))
    os << ">= " << s.min;
  else
    os << "<= " << s.max;
  return os.str();
}

// One number checked against the spec's bounds and, where the default is whole, wholeness.
json check_number(const std::string& where, const OptionSpec& s, const json& v,
                  const json& default_value) {
  if (!v.is_number()) throw std::invalid_argument(where + ": " + v.dump() + " is not a number");
  const double x = v.get<double>();
  if (!std::isfinite(x)) throw std::invalid_argument(where + ": " + v.dump() + " is not finite");
  if (x < s.min || x > s.max)
    throw std::invalid_argument(where + ": " + v.dump() + " is not " + bounds(s));
  if (default_value.is_number_integer()) {
    if (x != std::floor(x))
      throw std::invalid_argument(where + ": " + v.dump() + " is not a whole number");
    if (default_value.is_number_unsigned()) {
      if (x < 0) throw std::invalid_argument(where + ": " + v.dump() + " is negative");
      return json(uint64_t(x));
    }
    return json(int64_t(x));
  }
  return json(x);
}

}  // namespace

json check_option(const std::string& owner, const OptionSpec& s, const json& v,
                  const json& default_value) {
  const std::string where = owner + " --" + s.flag;
  if (default_value.is_boolean()) {
    if (!v.is_boolean())
      throw std::invalid_argument(where + ": " + v.dump() + " is not true/false");
    return v;
  }
  if (default_value.is_string()) {
    if (!v.is_string()) throw std::invalid_argument(where + ": " + v.dump() + " is not text");
    if (!s.choices.empty()) {
      bool ok = false;
      for (const auto& c : s.choices) ok = ok || c == v.get<std::string>();
      if (!ok)
        throw std::invalid_argument(where + ": " + v.get<std::string>() + " not in {" +
                                    join_names(s.choices) + "}");
    }
    return v;
  }
  if (default_value.is_array()) {
    // An empty list is accepted where the default is empty (it means "the default rule").
    if (!v.is_array() || (v.empty() && !default_value.empty()))
      throw std::invalid_argument(where + ": " + v.dump() + " is not a non-empty list of numbers");
    const json item_default = default_value.empty() ? json(1.0) : default_value.front();
    json out = json::array();
    for (const auto& item : v) out.push_back(check_number(where, s, item, item_default));
    return out;
  }
  return check_number(where, s, v, default_value);
}

json merge_options(const std::string& owner, const Options& specs, const json& defaults,
                   const json& given) {
  json out = defaults;
  if (given.is_null()) return out;
  if (!given.is_object())
    throw std::invalid_argument(owner + ": expected an object of settings, got " + given.dump());
  for (const auto& [key, value] : given.items()) {
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs) spec = s.key == key ? &s : spec;
    if (!spec) {
      std::vector<std::string> keys;
      for (const auto& s : specs) keys.push_back(s.key);
      throw std::invalid_argument(
          owner + ": no setting '" + key + "'" +
          (keys.empty() ? " (it has none)" : "; accepted: " + join_names(keys)));
    }
    out[key] = check_option(owner, *spec, value, defaults.at(key));
  }
  return out;
}

}  // namespace tinyrec::models
