// The run files every model writes, and restoring a run from its checkpoint folder.
#include "cli/run_files.hpp"

#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "autograd/atomic_file.hpp"
#include "cli/flags.hpp"
#include "cli/svg_plot.hpp"
#include "nn/checkpoint.hpp"

namespace tinyrec::cli {

namespace fs = std::filesystem;
using nlohmann::json;

void prepare_out_dir(const std::string& out) {
  if (fs::exists(out) && !fs::is_directory(out))
    throw std::runtime_error("--out " + out + " exists and is not a folder");
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw std::runtime_error("--out " + out + ": cannot create the folder: " + ec.message());
}

namespace {

void flatten(const json& j, const std::string& prefix,
             std::vector<std::pair<std::string, double>>& out) {
  for (const auto& [key, v] : j.items()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    if (key == "samples" || key == "gates") continue;
    if (v.is_object())
      flatten(v, name, out);
    else if (v.is_number())
      out.emplace_back(name, v.get<double>());
    else if (v.is_null())  // a metric that is undefined on this split (NaN)
      out.emplace_back(name, std::numeric_limits<double>::quiet_NaN());
  }
}

void write_json(const fs::path& path, const json& j) {
  write_text_atomically(path.string(), j.dump(2) + "\n");
}

}  // namespace

std::vector<std::pair<std::string, double>> flatten_metrics(const json& metrics) {
  std::vector<std::pair<std::string, double>> out;
  flatten(metrics, "", out);
  return out;
}

void write_run_files(const std::string& out, const models::Run& run,
                     const models::TrainReport& report) {
  prepare_out_dir(out);
  json curve = json::array();
  for (const auto& p : report.curve) {
    json train = json::object();
    for (const auto& [name, v] : p.train) train[name] = v;
    curve.push_back({{"step", p.step}, {"epoch", p.epoch}, {"train", train}, {"test", p.test}});
  }
  json loss = json::object();
  if (!report.curve.empty())
    for (const auto& [name, v] : report.curve.back().train) loss[name] = v;
  write_json(fs::path(out) / "metrics.json",
             {{"model", run.config.model},
              {"dataset", run.config.dataset},
              {"data", run.task->describe()},
              {"parameters", run.model->parameter_count()},
              {"config", run.config},
              {"test", report.test},
              {"train",
               {{"samples_per_second", report.samples_per_second},
                {"epochs", report.curve.empty() ? 0.0 : report.curve.back().epoch},
                {"steps", report.steps},
                {"loss", loss}}},
              {"curve", curve}});

  // The curve as a table and as two panels: training loss terms, and the test metrics.
  std::vector<std::string> header{"step", "epoch"};
  std::vector<std::vector<double>> rows;
  Series empty{"", {}, {}};
  std::vector<Series> train_lines, test_lines;
  for (const auto& p : report.curve) {
    const auto test = flatten_metrics(p.test);
    if (rows.empty()) {
      for (const auto& [name, v] : p.train) {
        header.push_back("train_" + name);
        train_lines.push_back({"train " + name, {}, {}});
      }
      for (const auto& [name, v] : test) {
        header.push_back("test_" + name);
        test_lines.push_back({name, {}, {}});
      }
    }
    std::vector<double> row{double(p.step), p.epoch};
    for (size_t k = 0; k < p.train.size() && k < train_lines.size(); ++k) {
      row.push_back(p.train[k].second);
      train_lines[k].x.push_back(p.epoch);
      train_lines[k].y.push_back(p.train[k].second);
    }
    for (size_t k = 0; k < test.size() && k < test_lines.size(); ++k) {
      row.push_back(test[k].second);
      test_lines[k].x.push_back(p.epoch);
      test_lines[k].y.push_back(test[k].second);
    }
    row.resize(header.size(), std::numeric_limits<double>::quiet_NaN());
    rows.push_back(row);
  }
  const fs::path csv = fs::path(out) / "curve.csv", svg = fs::path(out) / "curve.svg";
  write_csv(csv.string(), header, rows);
  write_svg_small_multiples(svg.string(),
                            run.config.model + " on " + run.config.dataset + ": learning curve",
                            {{PlotSpec{"training loss", "epoch", "loss"}, train_lines},
                             {PlotSpec{"test", "epoch", "metric"}, test_lines}},
                            2);
}

void write_checkpoint(const std::string& out, const models::Run& run,
                      const models::Trainer* trainer) {
  const fs::path dir = fs::path(out) / "checkpoint", tmp = temporary_path(dir.string()),
                 old = fs::path(out) / "checkpoint.old";
  std::error_code ec;
  fs::remove_all(tmp, ec);  // a crash's leftover
  try {
    nn::save_checkpoint(*run.model, tmp.string());
    write_json(tmp / "config.json", run.config);
    if (trainer) trainer->save_state(tmp.string());
  } catch (...) {
    fs::remove_all(tmp, ec);  // half a checkpoint is of no use; the whole previous one stays
    throw;
  }
  // At every instant one whole checkpoint is checkpoint/ or checkpoint.old/ (where checkpoint_of
  // looks): the previous one is moved aside only when it is checkpoint/, and removed last.
  if (fs::exists(dir)) {
    fs::remove_all(old, ec);
    rename_into_place(dir.string(), old.string());
  }
  rename_into_place(tmp.string(), dir.string());
  fs::remove_all(old, ec);
}

std::string checkpoint_of(const std::string& out) {
  for (const char* name : {"checkpoint", "checkpoint.old"}) {
    const fs::path dir = fs::path(out) / name;
    if (fs::is_directory(dir)) return dir.string();
  }
  throw std::runtime_error(out + " holds no checkpoint/ folder (is it the --out folder of a run?)");
}

models::Run restore_run(const std::string& checkpoint, const std::string& data_dir) {
  const std::string path = (fs::path(checkpoint) / "config.json").string();
  models::RunConfig config;
  try {
    config = read_json_file(path).get<models::RunConfig>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": not a run configuration: " + e.what());
  }
  if (!data_dir.empty()) {
    const models::ModelEntry& m = models::find_model(config.model);
    const auto& d = models::find_dataset(
        models::find_task(m.task),
        config.dataset.empty() ? std::string("synthetic") : config.dataset, config.model);
    bool has_dir = false;
    for (const auto& s : d.options) has_dir = has_dir || s.key == "data_dir";
    if (!has_dir)
      throw std::invalid_argument("--data-dir: the checkpoint's data set " + d.name +
                                  " reads no data folder");
    config.data_options["data_dir"] = fs::absolute(data_dir).lexically_normal().string();
  }
  models::Run run;
  try {
    run = models::build_run(config, false);
  } catch (const std::invalid_argument& e) {
    // The model, its settings and sizes were read from the file, not from flags: name the file.
    throw std::invalid_argument(path + ": " + e.what());
  }
  nn::load_checkpoint(*run.model, checkpoint);
  return run;
}

}  // namespace tinyrec::cli
