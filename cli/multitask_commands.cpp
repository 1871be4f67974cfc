// The multi-task family's flags, data loading, and what train/eval/predict/gradcheck/bench do for
// it.
#include "cli/multitask_commands.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "data/esmm_synthetic.hpp"
#include "data/mmoe_synthetic.hpp"
#include "data/progress.hpp"
#include "data/svg_plot.hpp"
#include "data/tabular_csv.hpp"
#include "models/multitask_gradcheck.hpp"
#include "nn/checkpoint.hpp"

namespace tinyrec::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// "200,80" -> {200, 80}; `flag` names the option in errors.
std::vector<double> parse_numbers(const std::string& text, const std::string& flag) {
  std::vector<double> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const size_t a = item.find_first_not_of(" \t"), b = item.find_last_not_of(" \t");
    if (a == std::string::npos)
      throw std::invalid_argument(flag + " '" + text + "': empty item in the list");
    item = item.substr(a, b - a + 1);
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || !std::isfinite(v))
      throw std::invalid_argument(flag + " '" + text + "': '" + item + "' is not a number");
    out.push_back(v);
  }
  return out;
}

std::vector<size_t> parse_sizes(const std::string& text, const std::string& flag) {
  std::vector<size_t> out;
  for (double v : parse_numbers(text, flag)) {
    if (v < 1 || v != std::floor(v))
      throw std::invalid_argument(flag + " '" + text + "': sizes must be whole numbers >= 1");
    out.push_back(size_t(v));
  }
  if (out.empty()) throw std::invalid_argument(flag + ": needs at least one size");
  return out;
}

std::string generator_of(const CommonFlags& c, const MultiTaskFlags& f) {
  if (f.generator != "auto") return f.generator;
  return c.model == "esmm" ? "esmm" : "mmoe";
}

std::string need_file(const CommonFlags& c, const std::string& dir, const std::string& name,
                      const std::string& hint) {
  const fs::path p = fs::path(dir) / name;
  if (!fs::exists(p))
    throw std::invalid_argument("--dataset " + c.dataset + ": missing " + p.string() + hint);
  return p.string();
}

// The schema a CSV-backed data set was read with (prediction needs its delimiter, header and
// missing-value markers).
data::CsvSchema schema_of(const CommonFlags& c, const MultiTaskFlags& f) {
  if (c.dataset == "income") return data::income_schema();
  if (c.dataset == "census") return data::census_income_schema();
  if (f.schema.empty()) throw std::invalid_argument("--dataset csv needs --schema FILE");
  return data::read_csv_schema_file(f.schema);
}

std::string fmt(double v, int digits = 4) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

json task_metrics_json(const models::MultiTaskEval& e) {
  json tasks = json::object();
  for (const auto& t : e.tasks) {
    if (t.kind == data::TaskKind::regression)
      tasks[t.name] = {{"mse", t.mse}};
    else  // nlohmann writes a NaN AUC (one class only) as null
      tasks[t.name] = {{"auc", t.auc}, {"logloss", t.logloss}};
  }
  return tasks;
}

// "task1 MSE 0.1234 | click AUC 0.7012 logloss 0.3012"
std::string describe(const models::MultiTaskEval& e) {
  std::string s;
  for (const auto& t : e.tasks) {
    if (!s.empty()) s += " | ";
    s += t.name + (t.kind == data::TaskKind::regression
                       ? " MSE " + fmt(t.mse)
                       : " AUC " + fmt(t.auc) + " logloss " + fmt(t.logloss));
  }
  return s;
}

json gates_json(const std::vector<models::GateUtilisation>& gates) {
  json out = json::object();
  for (const auto& g : gates)
    out[g.task] = {{"experts", g.experts}, {"mean", g.mean}, {"std", g.stddev}};
  return out;
}

// A checkpoint folder's data set and model, rebuilt from its config.json, weights loaded.
struct Restored {
  CommonFlags common;
  MultiTaskFlags flags;
  data::MultiTaskDataset data;
  std::unique_ptr<models::MultiTaskModel<float>> model;
};

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw std::runtime_error(path + ": not valid JSON: " + e.what());
  }
}

Restored restore(const std::string& checkpoint, const std::string& data_dir) {
  Restored r;
  const std::string path = (fs::path(checkpoint) / "config.json").string();
  try {
    multitask_config_from_json(read_json_file(path), r.common, r.flags);
  } catch (const json::exception& e) {
    throw std::runtime_error(path + ": missing or malformed entry: " + e.what());
  }
  if (!data_dir.empty()) r.common.data_dir = data_dir;
  r.data = load_multitask_data(r.common, r.flags);
  r.model = models::make_multitask_model<float>(r.common.model,
                                                multitask_config(r.common, r.flags, r.data));
  nn::load_checkpoint(*r.model, checkpoint);
  return r;
}

void write_train_files(const std::string& out_dir, const CommonFlags& c,
                       const models::MultiTaskModel<float>& model, const data::MultiTaskDataset& ds,
                       const models::MultiTaskReport& r,
                       const std::vector<models::GateUtilisation>& gates) {
  fs::create_directories(out_dir);
  const size_t K = model.num_tasks();
  json curve = json::array();
  std::vector<std::string> header{"step", "epoch"};
  for (const auto& t : model.tasks()) header.push_back("train_" + t.name);
  for (const auto& t : model.tasks()) header.push_back("test_" + t.name);
  std::vector<std::vector<double>> rows;
  std::vector<std::pair<data::PlotSpec, std::vector<data::Series>>> panels(K);
  for (size_t k = 0; k < K; ++k) {
    const auto& t = model.tasks()[k];
    panels[k].first = {t.name, "training step",
                       t.kind == data::TaskKind::regression ? "MSE" : "logloss"};
    panels[k].second = {{"train", {}, {}}, {"test", {}, {}}};
  }
  for (const auto& p : r.curve) {
    curve.push_back(
        {{"step", p.step}, {"epoch", p.epoch}, {"train", p.train_loss}, {"test", p.test_loss}});
    std::vector<double> row{double(p.step), p.epoch};
    row.insert(row.end(), p.train_loss.begin(), p.train_loss.end());
    row.insert(row.end(), p.test_loss.begin(), p.test_loss.end());
    rows.push_back(row);
    for (size_t k = 0; k < K; ++k) {
      panels[k].second[0].x.push_back(double(p.step));
      panels[k].second[0].y.push_back(p.train_loss[k]);
      panels[k].second[1].x.push_back(double(p.step));
      panels[k].second[1].y.push_back(p.test_loss[k]);
    }
  }
  json train_loss = json::object();
  for (size_t k = 0; k < K; ++k)
    train_loss[model.tasks()[k].name] = r.curve.empty() ? 0.0 : r.curve.back().train_loss[k];
  json metrics{{"model", c.model},
               {"dataset", c.dataset},
               {"data", ds.name},
               {"parameters", model.parameter_count()},
               {"tasks", task_metrics_json(r.test)},
               {"test_samples", r.test.samples},
               {"train",
                {{"samples_per_second", r.samples_per_second},
                 {"steps", r.steps},
                 {"samples", ds.num_train()},
                 {"loss", train_loss}}},
               {"gates", gates_json(gates)},
               {"curve", curve}};
  std::ofstream(fs::path(out_dir) / "metrics.json") << metrics.dump(2) << "\n";
  data::write_csv((fs::path(out_dir) / "curve.csv").string(), header, rows);
  data::write_svg_small_multiples((fs::path(out_dir) / "curve.svg").string(),
                                  c.model + " on " + ds.name + ": loss per task", panels,
                                  int(std::min<size_t>(K, 2)));
}

// Reads the feature columns of a prediction input file as the training data set encodes them.
struct PredictInput {
  xt::xarray<float> x;
  xt::xarray<int64_t> cat;
};

PredictInput read_predict_input(const std::string& path, const CommonFlags& c,
                                const MultiTaskFlags& f, const data::MultiTaskDataset& ds) {
  const bool from_csv = c.dataset != "synthetic";
  data::CsvSchema schema;
  if (from_csv) schema = schema_of(c, f);
  const char delimiter = from_csv ? schema.delimiter : ',';
  std::ifstream in(path);
  if (!in) throw std::runtime_error("--input: cannot open " + path);
  std::string line;
  size_t line_no = 0;
  auto next_line = [&]() -> bool {
    if (!std::getline(in, line)) return false;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  };
  std::vector<std::string> columns;
  if (from_csv && !schema.header) {
    columns = schema.columns;
  } else {
    if (!next_line()) throw std::runtime_error(path + ": empty file (expected a header line)");
    columns = data::split_csv_line(line, delimiter);
  }
  auto column_of = [&](const std::string& name) {
    const auto it = std::find(columns.begin(), columns.end(), name);
    if (it == columns.end()) {
      std::string have;
      for (const auto& col : columns) have += (have.empty() ? "" : ", ") + col;
      throw std::runtime_error(path + ": no column '" + name +
                               "' (the model reads it); columns: " + have);
    }
    return size_t(it - columns.begin());
  };
  std::vector<size_t> num_col, cat_col;
  for (const auto& n : ds.numeric_names) num_col.push_back(column_of(n));
  for (const auto& n : ds.categorical_names) cat_col.push_back(column_of(n));
  std::vector<std::unordered_map<std::string, int64_t>> ids(ds.categorical_names.size());
  for (size_t j = 0; j < ds.categorical_values.size(); ++j)
    for (size_t v = 1; v < ds.categorical_values[j].size(); ++v)
      ids[j][ds.categorical_values[j][v]] = int64_t(v);
  auto is_missing = [&](const std::string& v) {
    return from_csv &&
           std::find(schema.missing.begin(), schema.missing.end(), v) != schema.missing.end();
  };
  std::vector<float> xs;
  std::vector<int64_t> cs;
  size_t rows = 0;
  while (next_line()) {
    if (line.empty()) continue;
    const std::vector<std::string> fields = data::split_csv_line(line, delimiter);
    if (fields.size() != columns.size())
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " +
                               std::to_string(fields.size()) + " fields, expected " +
                               std::to_string(columns.size()));
    for (size_t j = 0; j < num_col.size(); ++j) {
      const std::string& v = fields[num_col[j]];
      double value = 0;  // a missing value becomes the train mean, i.e. 0 once standardised
      if (!is_missing(v)) {
        size_t used = 0;
        try {
          value = std::stod(v, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != v.size() || v.empty())
          throw std::runtime_error(path + ":" + std::to_string(line_no) + ": column '" +
                                   ds.numeric_names[j] + "': '" + v + "' is not a number");
        if (!ds.numeric_mean.empty()) {
          const double mean = ds.numeric_mean[j], sd = ds.numeric_std[j];
          value = sd < 1e-12 * (1 + std::abs(mean)) ? value - mean : (value - mean) / sd;
        }
      }
      xs.push_back(float(value));
    }
    for (size_t j = 0; j < cat_col.size(); ++j) {
      const std::string& v = fields[cat_col[j]];
      int64_t id = 0;  // unknown or missing
      if (!ds.categorical_values.empty()) {
        const auto it = ids[j].find(v);
        if (it != ids[j].end() && !is_missing(v)) id = it->second;
      } else {  // generated data holds the ids themselves
        size_t used = 0;
        try {
          id = std::stoll(v, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != v.size() || v.empty() || id < 0 || id >= ds.cat_vocab_sizes[j])
          throw std::runtime_error(path + ":" + std::to_string(line_no) + ": column '" +
                                   ds.categorical_names[j] + "': '" + v + "' is not an id in [0, " +
                                   std::to_string(ds.cat_vocab_sizes[j]) + ")");
      }
      cs.push_back(id);
    }
    ++rows;
  }
  PredictInput p;
  p.x = xt::xarray<float>::from_shape({rows, num_col.size()});
  p.cat = xt::xarray<int64_t>::from_shape({rows, cat_col.size()});
  std::copy(xs.begin(), xs.end(), p.x.data());
  std::copy(cs.begin(), cs.end(), p.cat.data());
  return p;
}

}  // namespace

bool is_multitask_model(const std::string& name) {
  const auto& names = models::multitask_model_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

void add_multitask_flags(CLI::App& cmd, MultiTaskFlags& f) {
  const std::string mt = "multi-task: ";
  cmd.add_option("--generator", f.generator,
                 mt + "synthetic data: the MMoE paper's (mmoe) or ESMM's click/conversion data "
                      "(esmm); auto picks esmm for --model esmm")
      ->check(CLI::IsMember({"auto", "mmoe", "esmm"}))
      ->capture_default_str();
  cmd.add_option("--correlation", f.correlation, mt + "synthetic: task correlation p = cos(w1, w2)")
      ->check(CLI::Range(-1.0, 1.0))
      ->capture_default_str();
  cmd.add_option("--dim", f.dim, mt + "synthetic: input dimension d")
      ->check(CLI::Range(int64_t(2), int64_t(1) << 20))
      ->capture_default_str();
  cmd.add_option("--c", f.c, mt + "synthetic: scale c of w1 and w2")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--sine-terms", f.sine_terms, mt + "synthetic: number m of sine terms")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--sines", f.sines,
                 mt + "synthetic: sine frequencies and phases, alpha, beta ~ N(0, 1) (gaussian) "
                      "or alpha_i = i, beta_i = i^2 (index)")
      ->check(CLI::IsMember({"gaussian", "index"}))
      ->capture_default_str();
  cmd.add_option("--train-rows", f.train_rows,
                 mt + "synthetic: training rows (0 = the generator's default: 10000 mmoe, "
                      "100000 esmm)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--test-rows", f.test_rows,
                 mt + "synthetic: test rows (0 = the generator's default: 2000 mmoe, 20000 esmm)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--schema", f.schema, mt + "csv: schema file (see data/tabular_csv.hpp)");
  cmd.add_option("--csv-train", f.csv_train,
                 mt + "csv: training file (alone, it is split by --test-fraction)");
  cmd.add_option("--csv-test", f.csv_test, mt + "csv: test file");
  cmd.add_option("--experts", f.experts, mt + "omoe/mmoe: number of experts")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--expert-units", f.expert_units, mt + "units of each expert (one ReLU layer)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--bottom-units", f.bottom_units,
                 mt + "shared_bottom: width of the bottom layer (0 = experts x expert units)")
      ->capture_default_str();
  cmd.add_option("--tower-units", f.tower_units,
                 mt + "hidden units of each task tower, comma-separated")
      ->capture_default_str();
  cmd.add_option("--esmm-tower", f.esmm_tower,
                 mt + "esmm: hidden units of the CTR and CVR networks, comma-separated")
      ->capture_default_str();
  cmd.add_option("--embedding-dim", f.embedding_dim, mt + "embedding size per categorical column")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--ple-specific", f.ple_specific, mt + "ple: task-specific experts per task")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--ple-shared", f.ple_shared, mt + "ple: shared experts per level")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--ple-levels", f.ple_levels, mt + "ple: extraction levels (1 = CGC)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--init", f.init,
                 mt + "initial weights of the dense layers: PyTorch's nn.Linear default (torch) or "
                      "Glorot-uniform with zero biases (glorot)")
      ->check(CLI::IsMember({"torch", "glorot"}))
      ->capture_default_str();
  cmd.add_option("--task-weights", f.task_weights,
                 mt + "loss weight of each task, comma-separated (default: 1 each)");
  cmd.add_option("--eval-every", f.eval_every,
                 mt + "training steps between test evaluations on the curve (0 = each epoch)")
      ->capture_default_str();
}

data::MultiTaskDataset load_multitask_data(const CommonFlags& c, const MultiTaskFlags& f) {
  if (c.dataset == "synthetic") {
    if (generator_of(c, f) == "esmm") {
      data::EsmmSyntheticConfig s;
      if (f.train_rows > 0) s.train = f.train_rows;
      if (f.test_rows > 0) s.test = f.test_rows;
      s.seed = c.data_seed;
      return data::make_esmm_synthetic(s).data;
    }
    data::MmoeSyntheticConfig s;
    s.d = f.dim;
    s.c = f.c;
    s.m = f.sine_terms;
    s.p = f.correlation;
    s.sines = data::parse_sine_params(f.sines);
    if (f.train_rows > 0) s.train = f.train_rows;
    if (f.test_rows > 0) s.test = f.test_rows;
    s.seed = c.data_seed;
    return data::make_mmoe_synthetic(s);
  }
  if (c.dataset == "csv") {
    if (f.csv_train.empty()) throw std::invalid_argument("--dataset csv needs --csv-train FILE");
    const data::CsvSchema schema = schema_of(c, f);
    if (f.csv_test.empty())
      return data::load_csv_dataset_split(schema, f.csv_train, c.test_fraction, c.data_seed);
    return data::load_csv_dataset(schema, f.csv_train, f.csv_test);
  }
  if (c.dataset == "income") {
    const std::string dir = c.data_dir.empty() ? "data/income" : c.data_dir;
    const std::string path =
        need_file(c, dir, "income.csv", " (data/get_income.sh DIR writes it; pass --data-dir DIR)");
    return data::load_csv_dataset_split(data::income_schema(), path, c.test_fraction, c.data_seed);
  }
  if (c.dataset == "census") {
    if (c.data_dir.empty())
      throw std::invalid_argument(
          "--dataset census needs --data-dir DIR holding census-income.data and "
          "census-income.test (UCI census-income, KDD)");
    return data::load_csv_dataset(data::census_income_schema(),
                                  need_file(c, c.data_dir, "census-income.data", ""),
                                  need_file(c, c.data_dir, "census-income.test", ""));
  }
  throw std::invalid_argument("--dataset " + c.dataset + " is not a multi-task data set; " +
                              "accepted for --model " + c.model +
                              ": synthetic, csv, income, census");
}

models::MultiTaskConfig multitask_config(const CommonFlags& c, const MultiTaskFlags& f,
                                         const data::MultiTaskDataset& ds) {
  models::MultiTaskConfig m;
  m.tasks = ds.tasks;
  m.n_numeric = ds.train_x.shape()[1];
  m.cat_vocab_sizes = ds.cat_vocab_sizes;
  m.embedding_dim = f.embedding_dim;
  m.n_experts = f.experts;
  m.expert_units = f.expert_units;
  m.bottom_units = f.bottom_units;
  m.tower = parse_sizes(f.tower_units, "--tower-units");
  m.esmm_tower = parse_sizes(f.esmm_tower, "--esmm-tower");
  m.ple_specific = f.ple_specific;
  m.ple_shared = f.ple_shared;
  m.ple_levels = f.ple_levels;
  m.init = f.init;
  m.seed = c.seed;
  return m;
}

models::MultiTaskTrainOptions multitask_train_options(const CommonFlags& c,
                                                      const MultiTaskFlags& f) {
  models::MultiTaskTrainOptions t;
  t.epochs = c.epochs;
  t.batch_size = c.batch_size;
  t.lr = c.lr;
  t.seed = c.seed;
  t.eval_every = f.eval_every;
  if (!f.task_weights.empty()) {
    t.task_weights = parse_numbers(f.task_weights, "--task-weights");
    for (double w : t.task_weights)
      if (w < 0) throw std::invalid_argument("--task-weights: weights must be >= 0");
  }
  return t;
}

json multitask_config_json(const CommonFlags& c, const MultiTaskFlags& f) {
  auto abs_path = [](const std::string& p) {
    return p.empty() ? p : fs::absolute(p).lexically_normal().string();
  };
  return json{{"family", "multitask"},
              {"model", c.model},
              {"dataset", c.dataset},
              {"data_dir", abs_path(c.data_dir)},
              {"data_seed", c.data_seed},
              {"test_fraction", c.test_fraction},
              {"model_seed", c.seed},
              {"generator", f.generator},
              {"correlation", f.correlation},
              {"dim", f.dim},
              {"c", f.c},
              {"sine_terms", f.sine_terms},
              {"sines", f.sines},
              {"train_rows", f.train_rows},
              {"test_rows", f.test_rows},
              {"schema", abs_path(f.schema)},
              {"csv_train", abs_path(f.csv_train)},
              {"csv_test", abs_path(f.csv_test)},
              {"experts", f.experts},
              {"expert_units", f.expert_units},
              {"bottom_units", f.bottom_units},
              {"embedding_dim", f.embedding_dim},
              {"tower_units", f.tower_units},
              {"esmm_tower", f.esmm_tower},
              {"ple_specific", f.ple_specific},
              {"ple_shared", f.ple_shared},
              {"ple_levels", f.ple_levels},
              {"init", f.init}};
}

void multitask_config_from_json(const json& j, CommonFlags& c, MultiTaskFlags& f) {
  c.model = j.at("model").get<std::string>();
  if (!is_multitask_model(c.model))
    throw std::runtime_error("the checkpoint's model '" + c.model + "' is not a multi-task model");
  c.dataset = j.at("dataset").get<std::string>();
  c.data_dir = j.at("data_dir").get<std::string>();
  c.data_seed = j.at("data_seed");
  c.test_fraction = j.at("test_fraction");
  c.seed = j.at("model_seed");
  f.generator = j.at("generator").get<std::string>();
  f.correlation = j.at("correlation");
  f.dim = j.at("dim");
  f.c = j.at("c");
  f.sine_terms = j.at("sine_terms");
  f.sines = j.at("sines").get<std::string>();
  f.train_rows = j.at("train_rows");
  f.test_rows = j.at("test_rows");
  f.schema = j.at("schema").get<std::string>();
  f.csv_train = j.at("csv_train").get<std::string>();
  f.csv_test = j.at("csv_test").get<std::string>();
  f.experts = j.at("experts");
  f.expert_units = j.at("expert_units");
  f.bottom_units = j.at("bottom_units");
  f.embedding_dim = j.at("embedding_dim");
  f.tower_units = j.at("tower_units").get<std::string>();
  f.esmm_tower = j.at("esmm_tower").get<std::string>();
  f.ple_specific = j.at("ple_specific");
  f.ple_shared = j.at("ple_shared");
  f.ple_levels = j.at("ple_levels");
  f.init = j.at("init").get<std::string>();
}

void run_multitask_train(const CommonFlags& c, const MultiTaskFlags& f) {
  const data::MultiTaskDataset ds = load_multitask_data(c, f);
  auto model = models::make_multitask_model<float>(c.model, multitask_config(c, f, ds));
  const models::MultiTaskTrainOptions options = multitask_train_options(c, f);
  std::ostream& log = std::cerr;
  std::string task_list;
  for (const auto& t : ds.tasks)
    task_list += (task_list.empty() ? "" : ", ") + t.name + " (" + data::to_string(t.kind) + ")";
  log << "tinyrec train: " << c.model << " on " << ds.name << " (" << ds.num_train() << " train / "
      << ds.num_test() << " test rows, " << ds.train_x.shape()[1] << " numeric and "
      << ds.cat_vocab_sizes.size() << " categorical columns; tasks " << task_list << "), "
      << model->parameter_count() << " parameters\n";

  std::unique_ptr<data::ProgressBar> bar;
  auto on_step = [&](const models::StepInfo& s) {
    if (c.quiet) return;
    if (s.step == 1)
      bar = std::make_unique<data::ProgressBar>(
          "epoch " + std::to_string(s.epoch) + "/" + std::to_string(c.epochs), s.steps, log);
    std::string suffix = "loss";
    for (double l : s.train_loss) suffix += " " + fmt(l);
    suffix += " | " + data::format_count(uint64_t(s.samples_per_second)) + " samples/s";
    if (s.step == s.steps)
      bar->finish(suffix);
    else
      bar->update(s.step, suffix);
  };
  auto on_epoch = [&](size_t epoch, const std::vector<double>& train_loss,
                      const models::MultiTaskEval& e) {
    std::string losses;
    for (double l : train_loss) losses += " " + fmt(l);
    log << "epoch " << epoch << ": train loss" << losses << " | test " << describe(e) << "\n";
  };
  const models::MultiTaskReport report =
      models::train_multitask(*model, ds, options, on_step, on_epoch);
  const auto gates = models::gate_utilisation(*model, ds.test_x, ds.test_cat);

  write_train_files(c.out, c, *model, ds, report, gates);
  const std::string ckpt = (fs::path(c.out) / "checkpoint").string();
  nn::save_checkpoint(*model, ckpt);
  std::ofstream(fs::path(ckpt) / "config.json") << multitask_config_json(c, f).dump(2) << "\n";
  std::cout << json{{"model", c.model},
                    {"dataset", c.dataset},
                    {"tasks", task_metrics_json(report.test)},
                    {"train", {{"samples_per_second", std::round(report.samples_per_second)}}}}
                   .dump()
            << "\n";
  log << "wrote " << c.out << "/metrics.json, curve.csv, curve.svg and checkpoint/\n";
}

void run_multitask_eval(const std::string& checkpoint, const std::string& data_dir) {
  Restored r = restore(checkpoint, data_dir);
  const models::MultiTaskEval e =
      models::evaluate_multitask(*r.model, r.data.test_x, r.data.test_cat, r.data.test_y);
  std::cout << json{{"model", r.common.model},
                    {"dataset", r.common.dataset},
                    {"tasks", task_metrics_json(e)},
                    {"samples", e.samples}}
                   .dump()
            << "\n";
}

void run_multitask_predict(const std::string& checkpoint, const std::string& input_csv,
                           const std::string& output) {
  Restored r = restore(checkpoint, "");
  const PredictInput in = read_predict_input(input_csv, r.common, r.flags, r.data);
  const xt::xarray<float> y = models::predict_multitask(*r.model, in.x, in.cat);
  std::ofstream file;
  if (!output.empty()) {
    file.open(output);
    if (!file) throw std::runtime_error("--output: cannot write " + output);
  }
  std::ostream& out = output.empty() ? std::cout : file;
  out << std::setprecision(6);
  for (size_t i = 0; i < y.shape()[0]; ++i) {
    for (size_t k = 0; k < y.shape()[1]; ++k) out << (k ? "\t" : "") << y(i, k);
    out << "\n";
  }
}

void run_multitask_gradcheck(const std::string& name) {
  const models::MultiTaskConfig config = models::tiny_multitask_config(name);
  auto model = models::make_multitask_model<double>(name, config);
  const GradcheckResult r =
      models::gradcheck_multitask_model(*model, models::tiny_multitask_batch(config));
  std::cout << name << " (" << model->parameter_count() << " parameters): " << r.report() << "\n";
  if (!r.ok) throw std::runtime_error("gradcheck failed for " + name);
}

void run_multitask_bench(const std::string& name, size_t batch_size, size_t steps, size_t warmup) {
  if (batch_size == 0 || steps == 0)
    throw std::invalid_argument("bench: --batch-size and --steps must be at least 1");
  CommonFlags c;
  c.model = name;
  MultiTaskFlags f;
  f.train_rows = int64_t(std::max<size_t>(8 * batch_size, 2048));
  f.test_rows = 16;
  const data::MultiTaskDataset ds = load_multitask_data(c, f);
  auto model = models::make_multitask_model<float>(name, multitask_config(c, f, ds));
  models::MultiTaskTrainOptions options;
  options.batch_size = batch_size;
  models::MultiTaskTrainer trainer(*model, options);
  data::MultiTaskBatcher batches(ds.train_x, ds.train_cat, ds.train_y, batch_size, true, 1);
  data::MultiTaskBatch batch;
  auto next = [&] {  // full batches only
    if (!batches.next(batch) || batch.size != batch_size) {
      batches.start_epoch();
      batches.next(batch);
    }
  };
  for (size_t i = 0; i < warmup; ++i) next(), trainer.step(batch);
  double seconds = 0;
  for (size_t i = 0; i < steps; ++i) {
    next();
    const auto t0 = std::chrono::steady_clock::now();
    trainer.step(batch);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::cout << json{{"model", name},
                    {"batch_size", batch_size},
                    {"steps", steps},
                    {"input_dim", ds.train_x.shape()[1]},
                    {"parameters", model->parameter_count()},
                    {"samples_per_second", double(batch_size * steps) / seconds},
                    {"ms_per_step", 1e3 * seconds / double(steps)}}
                   .dump()
            << "\n";
}

}  // namespace tinyrec::cli
