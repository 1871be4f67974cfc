// The two-pass command line: flags for exactly the chosen model, task and data set.
#include "cli/flags.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "cli/run_files.hpp"
#include "nn/optim.hpp"

namespace tinyrec::cli {

using models::join_names;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// "0.5" -> 0.5, whole or not; anything else is an error naming the flag.
json parse_number(const std::string& where, const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size())
    throw std::invalid_argument(where + ": '" + text + "' is not a number");
  if (v == std::floor(v) && std::abs(v) < 9e15) return json(int64_t(v));
  return json(v);
}

std::string shown(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x.dump();
    return s;
  }
  return v.dump();
}

}  // namespace

Prescan prescan(int argc, char** argv) {
  Prescan p;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (p.subcommand.empty() && !a.empty() && a[0] != '-') {
      p.subcommand = a;
      continue;
    }
    for (auto [flag, slot] : {std::pair<const char*, std::string*>{"--model", &p.model},
                              {"--dataset", &p.dataset},
                              {"--config", &p.config},
                              {"--resume", &p.resume}}) {
      const std::string f = flag;
      if (a == f && i + 1 < argc)
        *slot = argv[i + 1];
      else if (a.rfind(f + "=", 0) == 0)
        *slot = a.substr(f.size() + 1);
    }
  }
  if (!p.resume.empty() && p.config.empty() && p.subcommand == "train") {
    std::string checkpoint;
    try {
      checkpoint = checkpoint_of(p.resume);
    } catch (const std::exception&) {
      return p;  // the train command names the problem
    }
    p.config = (fs::path(checkpoint) / "config.json").string();
  }
  return p;
}

CLI::Validator whole_number_in(uint64_t lo, uint64_t hi) {
  const std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        const bool digits =
            !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        // More than 19 digits cannot be in any range here (and would overflow the parse).
        if (!digits || text.size() > 19 || std::stoull(text) < lo || std::stoull(text) > hi)
          return "expects a whole number in " + range + ", got '" + text + "'";
        return {};
      },
      "INT in " + range);
}

CLI::Validator positive_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        size_t used = 0;
        double v = 0;
        try {
          v = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != text.size() || !(v > 0) || !std::isfinite(v))
          return "expects a positive number, got '" + text + "'";
        return {};
      },
      "POSITIVE");
}

std::string parse_error_line(const CLI::ParseError& e, const std::string& subcommand) {
  std::string what = e.what();
  std::replace(what.begin(), what.end(), '\n', ' ');
  const std::string help =
      subcommand.empty() ? "tinyrec --help" : "tinyrec " + subcommand + " --help";
  return "tinyrec: error: " + what + " (" + help + " lists the flags)";
}

json read_json_file(const std::string& path) {
  if (fs::is_directory(path)) throw std::runtime_error(path + " is a folder, not a JSON file");
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw std::runtime_error(path + ": not valid JSON: " + e.what());
  }
}

OptionFlags::OptionFlags(std::string owner, const models::Options& specs, json defaults)
    : owner_(std::move(owner)), defaults_(std::move(defaults)) {
  for (const auto& s : specs) {
    auto b = std::make_unique<Bound>();
    b->spec = s;
    bound_.push_back(std::move(b));
  }
}

void OptionFlags::add_to(CLI::App& app, const std::string& group) {
  for (auto& b : bound_) {
    const models::OptionSpec& s = b->spec;
    const json& d = defaults_.at(s.key);
    const std::string name = "--" + s.flag;
    if (d.is_boolean()) {
      b->option = app.add_flag(name, b->flag, s.help);
    } else if (d.is_array()) {
      b->option = app.add_option(name, b->items, s.help)->delimiter(',')->type_name("LIST");
      b->option->default_str(shown(d));
    } else {
      b->option = app.add_option(name, b->text, s.help);
      b->option->type_name(d.is_string() ? "TEXT" : "NUMBER")->default_str(shown(d));
      if (!s.choices.empty()) b->option->check(CLI::IsMember(s.choices));
    }
    b->option->group(group);
  }
}

json OptionFlags::values(json base) const {
  for (const auto& b : bound_) {
    if (!b->option || b->option->count() == 0) continue;
    const models::OptionSpec& s = b->spec;
    const std::string where = owner_ + " --" + s.flag;
    const json& d = defaults_.at(s.key);
    json v;
    if (d.is_boolean()) {
      v = b->flag;
    } else if (d.is_array()) {
      v = json::array();
      for (const auto& item : b->items) v.push_back(parse_number(where, item));
    } else if (d.is_string()) {
      v = s.path && !b->text.empty() ? fs::absolute(b->text).lexically_normal().string() : b->text;
    } else {
      v = parse_number(where, b->text);
    }
    base[s.key] = models::check_option(owner_, s, v, d);
  }
  return base;
}

RunFlags::RunFlags(CLI::App& app, const Prescan& scan, bool timing) : app_(app) {
  if (!scan.config.empty()) {
    try {
      run_ = read_json_file(scan.config).get<models::RunConfig>();
    } catch (const json::exception& e) {
      throw std::runtime_error(scan.config + ": not a run configuration: " + e.what());
    }
  }
  if (!scan.model.empty()) run_.model = scan.model;
  if (!scan.dataset.empty()) run_.dataset = scan.dataset;
  app.allow_extras();
  const std::string run = "Run";
  app.add_option("--model", run_.model, "Model (tinyrec models lists them)")
      ->check(CLI::IsMember(models::model_names()))
      ->capture_default_str()
      ->group(run);
  auto& t = run_.train;
  if (!timing) {
    app.add_option("--dataset", run_.dataset, "Data set (default: the model's synthetic data)")
        ->group(run);
    app.add_option("--config",
                   "Run from a saved configuration (a checkpoint's config.json); "
                   "flags given as well override it")
        ->group(run);
    app.add_option("--epochs", t.epochs, "Training epochs")
        ->check(whole_number_in(1, uint64_t(1) << 20))
        ->capture_default_str()
        ->group(run);
    app.add_option("--eval-every", t.eval_every,
                   "Training steps between test evaluations on the curve (0 = each epoch)")
        ->capture_default_str()
        ->group(run);
    app.add_option("--steps-per-epoch", t.steps_per_epoch,
                   "Train each epoch on its first N batches only (0 = all): a quick look at a "
                   "long run")
        ->check(whole_number_in(0, uint64_t(1) << 40))
        ->capture_default_str()
        ->group(run);
    app.add_option("--out", out,
                   "Output folder (metrics.json, curve.csv, curve.svg, checkpoint/); one that "
                   "holds a run is refused without --overwrite")
        ->capture_default_str()
        ->group(run);
    if (scan.subcommand == "train")
      app.add_flag("--overwrite", overwrite, "Replace the run the --out folder holds")->group(run);
    if (scan.subcommand == "train")
      app.add_option("--resume", resume,
                     "Continue the run in this --out folder from its last epoch's checkpoint; "
                     "only --epochs may change")
          ->group(run);
    app.add_flag("--quiet", quiet, "No progress bar")->group(run);
    if (scan.subcommand == "train")
      app.add_flag("--detect-anomaly", detect_anomaly,
                   "Stop at the first op whose output or gradient holds NaN or Inf, naming it and "
                   "its shapes (checks every value: slower)")
          ->group(run);
  }
  app.add_option("--batch-size", t.batch_size, "Mini-batch size")
      ->check(whole_number_in(1, uint64_t(1) << 24))
      ->capture_default_str()
      ->group(run);
  app.add_option("--lr", t.lr, "Learning rate")
      ->check(positive_number())
      ->capture_default_str()
      ->group(run);
  app.add_option("--optimizer", t.optimizer, "Optimizer")
      ->check(CLI::IsMember(nn::optimizer_names()))
      ->capture_default_str()
      ->group(run);
  app.add_option("--seed", t.seed, "Seed of the batch order")->capture_default_str()->group(run);
  app.add_option("--model-seed", run_.model_seed, "Seed of the initial weights")
      ->capture_default_str()
      ->group(run);
  app.add_option("--data-seed", run_.data_seed, "Seed of the synthetic data and of data splits")
      ->capture_default_str()
      ->group(run);

  // The chosen model's, task's and data set's own flags; nothing when the model is unknown (the
  // --model check then names the accepted ones).
  const auto& names = models::model_names();
  if (std::find(names.begin(), names.end(), run_.model) == names.end()) return;
  const models::ModelEntry& m = models::find_model(run_.model);
  const models::TaskEntry& task = models::find_task(m.task);
  json model_defaults = m.defaults;
  model_defaults.update(run_.model_options);
  model_ = std::make_unique<OptionFlags>("--model " + m.name, m.options, model_defaults);
  model_->add_to(app, "Model " + m.name + " (" + m.summary + ")");
  json task_defaults = task.defaults;
  task_defaults.update(run_.task_options);
  task_ = std::make_unique<OptionFlags>(task.name + " task", task.options, task_defaults);
  task_->add_to(app, "Task " + task.name);
  const std::string dataset = run_.dataset.empty() ? task.datasets.front().name : run_.dataset;
  for (const auto& d : task.datasets) {
    if (d.name != dataset) continue;
    json data_defaults = d.defaults;
    if (run_.dataset == d.name) data_defaults.update(run_.data_options);
    data_ = std::make_unique<OptionFlags>("--dataset " + d.name, d.options, data_defaults);
    data_->add_to(app, "Data set " + d.name + " (" + d.help + ")");
  }
}

models::RunConfig RunFlags::config() const {
  models::RunConfig c = run_;
  const models::ModelEntry& m = models::find_model(c.model);
  const models::TaskEntry& task = models::find_task(m.task);
  if (c.dataset.empty()) c.dataset = task.datasets.front().name;
  models::find_dataset(task, c.dataset, c.model);  // a data set of another task: named there
  reject_extras(app_, c.model, c.dataset);
  if (model_) c.model_options = model_->values(c.model_options);
  if (task_) c.task_options = task_->values(c.task_options);
  if (data_) c.data_options = data_->values(run_.dataset == c.dataset ? c.data_options : json{});
  return models::resolve(c);
}

void reject_extras(const CLI::App& app, const std::string& model, const std::string& dataset) {
  for (const std::string& token : app.remaining()) {
    if (token.empty() || token[0] != '-')
      throw std::invalid_argument("unexpected argument '" + token + "'");
    const std::string flag = token.substr(0, token.find('='));
    const std::string bare = flag.substr(flag.find_first_not_of('-'));
    std::vector<std::string> where;
    std::vector<std::string> owners;
    for (const auto& m : models::model_registry())
      for (const auto& s : m.options)
        if (s.flag == bare) owners.push_back(m.name);
    if (!owners.empty()) where.push_back("--model " + join_names(owners));
    bool data_flag = false;
    for (const auto& t : models::task_registry()) {
      for (const auto& s : t.options)
        if (s.flag == bare)
          where.push_back("--model " + join_names(models::models_of_task(t.name)));
      std::vector<std::string> sets;
      for (const auto& d : t.datasets)
        for (const auto& s : d.options)
          if (s.flag == bare) sets.push_back(d.name);
      data_flag = data_flag || !sets.empty();
      if (!sets.empty())
        where.push_back("--dataset " + join_names(sets) + " of --model " +
                        join_names(models::models_of_task(t.name)));
    }
    if (where.empty())
      throw std::invalid_argument("unknown flag " + flag + " (tinyrec " + app.get_name() +
                                  " --model " + model + " --help lists the flags)");
    std::string all;
    for (const auto& w : where) all += (all.empty() ? "" : "; ") + w;
    throw std::invalid_argument(flag + " does not apply to --model " + model +
                                (data_flag ? " with --dataset " + dataset : std::string()) +
                                "; it applies to " + all);
  }
}

}  // namespace tinyrec::cli
