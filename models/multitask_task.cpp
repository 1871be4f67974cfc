// The multi-task task: weighted per-task losses, per-task metrics with the gates' utilisation,
// CSV prediction, and its data sets.
#include "models/multitask_task.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "autograd/limits.hpp"
#include "autograd/ops.hpp"
#include "data/esmm_synthetic.hpp"
#include "data/mmoe_synthetic.hpp"
#include "nn/metrics.hpp"

namespace tinyrec::models {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

MultiTaskModel<float>& as_multitask(Model<float>& model) {
  auto* m = dynamic_cast<MultiTaskModel<float>*>(&model);
  if (!m)
    throw std::invalid_argument("the multi-task task needs a multi-task model, not " +
                                model.name());
  return *m;
}

std::string fmt(const json& v) {
  if (!v.is_number()) return "n/a";
  std::ostringstream os;
  os << std::fixed << std::setprecision(4) << v.get<double>();
  return os.str();
}

// Gate weights summed over rows, per task and expert, for their mean and standard deviation.
struct GateSums {
  std::vector<std::vector<double>> sum, sum_sq;
  size_t rows = 0;
  template <class M>
  void add(const M& model, size_t batch_rows) {
    const std::vector<Tensor<float>> g = model.gate_weights();
    if (g.empty()) return;
    sum.resize(g.size());
    sum_sq.resize(g.size());
    for (size_t k = 0; k < g.size(); ++k) {
      const size_t n = g[k].shape()[1];
      sum[k].resize(n, 0.0);
      sum_sq[k].resize(n, 0.0);
      const float* p = g[k].data();
      for (size_t i = 0; i < batch_rows; ++i)
        for (size_t e = 0; e < n; ++e) {
          sum[k][e] += p[i * n + e];
          sum_sq[k][e] += double(p[i * n + e]) * p[i * n + e];
        }
    }
    rows += batch_rows;
  }
  json to_json(const MultiTaskModel<float>& model) const {
    json out = json::object();
    for (size_t k = 0; k < sum.size() && rows > 0; ++k) {
      std::vector<double> mean, sd;
      for (size_t e = 0; e < sum[k].size(); ++e) {
        mean.push_back(sum[k][e] / double(rows));
        sd.push_back(
            std::sqrt(std::max(0.0, sum_sq[k][e] / double(rows) - mean.back() * mean.back())));
      }
      out[model.tasks()[k].name] = {
          {"experts", model.gate_experts(k)}, {"mean", mean}, {"std", sd}};
    }
    return out;
  }
};

}  // namespace

template <class T>
LossTerms<T> task_losses(const std::vector<Tensor<T>>& outputs, const xt::xarray<float>& y,
                         const std::vector<data::TaskInfo>& tasks,
                         const std::vector<double>& weights) {
  const size_t K = tasks.size();
  if (outputs.size() != K || y.dimension() != 2 || y.shape()[1] != K)
    throw std::invalid_argument("task_losses: " + std::to_string(outputs.size()) +
                                " outputs and labels " + shape_str(y.shape()) + " for " +
                                std::to_string(K) + " tasks");
  if (!weights.empty() && weights.size() != K)
    throw std::invalid_argument("--task-weights: " + std::to_string(weights.size()) +
                                " given for " + std::to_string(K) + " tasks");
  const size_t B = y.shape()[0];
  LossTerms<T> terms;
  for (size_t k = 0; k < K; ++k) {
    xt::xarray<T> target = xt::xarray<T>::from_shape({B});
    for (size_t i = 0; i < B; ++i) target(i) = T(y(i, k));
    const Tensor<T> y_k(std::move(target));
    const bool binary = tasks[k].kind == data::TaskKind::binary;
    terms.push_back({tasks[k].name,
                     binary ? bce_with_logits(outputs[k], y_k) : mse_loss(outputs[k], y_k),
                     weights.empty() ? 1.0 : weights[k]});
  }
  return terms;
}

template LossTerms<float> task_losses(const std::vector<Tensor<float>>&, const xt::xarray<float>&,
                                      const std::vector<data::TaskInfo>&,
                                      const std::vector<double>&);
template LossTerms<double> task_losses(const std::vector<Tensor<double>>&, const xt::xarray<float>&,
                                       const std::vector<data::TaskInfo>&,
                                       const std::vector<double>&);

json multitask_shape(const data::MultiTaskDataset& d) {
  return {{"tasks", d.tasks},
          {"n_numeric", d.train_x.dimension() == 2 ? d.train_x.shape()[1] : 0},
          {"cat_vocab_sizes", d.cat_vocab_sizes}};
}

data::MultiTaskBatch tiny_multitask_batch(const MultiTaskConfig& c) {
  const size_t B = 5, K = c.tasks.size();
  data::MultiTaskBatch b;
  b.size = B;
  b.x = xt::xarray<float>::from_shape({B, c.n_numeric});
  b.cat = xt::xarray<int64_t>::from_shape({B, c.cat_vocab_sizes.size()});
  b.y = xt::xarray<float>::from_shape({B, K});
  b.rows.resize(B);
  for (size_t i = 0; i < B; ++i) {
    b.rows[i] = i;
    for (size_t j = 0; j < c.n_numeric; ++j)
      b.x(i, j) = float(std::sin(1.7 * double(i + 1) + 0.9 * double(j)));  // fixed, varied
    for (size_t j = 0; j < c.cat_vocab_sizes.size(); ++j)
      b.cat(i, j) = int64_t((i + j) % size_t(c.cat_vocab_sizes[j]));  // includes id 0
    for (size_t k = 0; k < K; ++k) {
      const bool binary = c.tasks[k].kind == data::TaskKind::binary;
      // CTCVR implies a click: for esmm the second label is at most the first.
      b.y(i, k) =
          binary ? float((i + k) % 2 == 0 && (k == 0 || b.y(i, 0) == 1)) : 0.4f * float(i) - 0.7f;
    }
  }
  return b;
}

GradcheckResult gradcheck_multitask_model(MultiTaskModel<double>& model,
                                          const data::MultiTaskBatch& batch,
                                          const std::vector<double>& task_weights) {
  model.train();
  const std::vector<Tensor<double>> params = model.parameters();
  auto outputs = [&](const std::vector<Tensor<double>>&) {
    Tensors<double> columns;
    for (const Tensor<double>& y : model.forward(batch))
      columns.push_back(reshape(y, Shape{batch.size, 1}));
    return concat(columns, 1);  // [B, K]
  };
  auto loss = [&](const std::vector<Tensor<double>>&) {
    return total_loss(task_losses(model.forward(batch), batch.y, model.tasks(), task_weights));
  };
  const GradcheckResult on_outputs = gradcheck(outputs, params);
  if (!on_outputs.ok) return on_outputs;
  const GradcheckResult on_loss = gradcheck(loss, params);
  return !on_loss.ok || on_loss.worst_rel_error > on_outputs.worst_rel_error ? on_loss : on_outputs;
}

xt::xarray<float> multitask_outputs(MultiTaskModel<float>& model, const xt::xarray<float>& x,
                                    const xt::xarray<int64_t>& cat, size_t batch_size,
                                    bool logits) {
  return in_eval_mode(model, [&] {
    const size_t N = x.shape()[0], K = model.num_tasks();
    const xt::xarray<float> no_labels = xt::zeros<float>({N, size_t(0)});
    data::BatchOrder order(N, batch_size, false, 0);
    std::vector<size_t> rows;
    data::MultiTaskBatch batch;
    xt::xarray<float> out = xt::xarray<float>::from_shape({N, K});
    size_t row = 0;
    while (order.next(rows)) {
      data::fill_multitask_batch(x, cat, no_labels, rows, batch);
      const std::vector<Tensor<float>> y = model.forward(batch);
      for (size_t k = 0; k < K; ++k) {
        const bool prob = !logits && model.tasks()[k].kind == data::TaskKind::binary;
        const float* p = y[k].data();
        for (size_t i = 0; i < batch.size; ++i)
          out(row + i, k) = prob ? 1.0f / (1.0f + std::exp(-p[i])) : p[i];
      }
      row += batch.size;
    }
    return out;
  });
}

MultiTaskTask::MultiTaskTask(data::MultiTaskDataset data, const MultiTaskOptions& options,
                             std::unique_ptr<data::CsvSchema> schema)
    : data_(std::move(data)), options_(options), schema_(std::move(schema)) {
  if (!options.task_weights.empty() && options.task_weights.size() != data_.num_tasks())
    throw std::invalid_argument("--task-weights: " + std::to_string(options.task_weights.size()) +
                                " given for " + std::to_string(data_.num_tasks()) + " tasks");
  for (double w : options.task_weights)
    if (!(w >= 0)) throw std::invalid_argument("--task-weights: weights must be >= 0");
}

std::string MultiTaskTask::describe() const {
  std::string tasks;
  for (const auto& t : data_.tasks)
    tasks += (tasks.empty() ? "" : ", ") + t.name + " (" + data::to_string(t.kind) + ")";
  return data_.name + " (" + std::to_string(data_.num_train()) + " train / " +
         std::to_string(data_.num_test()) + " test rows, " +
         std::to_string(data_.train_x.shape()[1]) + " numeric and " +
         std::to_string(data_.cat_vocab_sizes.size()) + " categorical columns; tasks " + tasks +
         ")";
}

LossTerms<float> MultiTaskTask::loss_terms(Model<float>& model, const std::vector<size_t>& rows) {
  MultiTaskModel<float>& m = as_multitask(model);
  data::fill_multitask_batch(data_.train_x, data_.train_cat, data_.train_y, rows, batch_);
  return task_losses(m.forward(batch_), batch_.y, m.tasks(), options_.task_weights);
}

json MultiTaskTask::evaluate(Model<float>& model, size_t batch_size) {
  MultiTaskModel<float>& m = as_multitask(model);
  if (m.num_tasks() != data_.num_tasks())
    throw std::invalid_argument("the data set '" + data_.name + "' has " +
                                std::to_string(data_.num_tasks()) + " tasks, the model " +
                                std::to_string(m.num_tasks()));
  const size_t N = data_.num_test(), K = m.num_tasks();
  GateSums gates;
  const xt::xarray<float> out = in_eval_mode(m, [&] {
    xt::xarray<float> logits = xt::xarray<float>::from_shape({N, K});
    data::BatchOrder order(N, batch_size, false, 0);
    std::vector<size_t> rows;
    data::MultiTaskBatch batch;
    size_t row = 0;
    while (order.next(rows)) {
      data::fill_multitask_batch(data_.test_x, data_.test_cat, data_.test_y, rows, batch);
      const std::vector<Tensor<float>> y = m.forward(batch);
      gates.add(m, batch.size);
      for (size_t k = 0; k < K; ++k)
        for (size_t i = 0; i < batch.size; ++i) logits(row + i, k) = y[k].data()[i];
      row += batch.size;
    }
    return logits;
  });
  json tasks = json::object();
  for (size_t k = 0; k < K; ++k) {
    std::vector<float> pred(N), target(N);
    for (size_t i = 0; i < N; ++i) pred[i] = out(i, k), target[i] = data_.test_y(i, k);
    const auto& t = m.tasks()[k];
    if (t.kind == data::TaskKind::regression)
      tasks[t.name] = {{"mse", metrics::mse(pred, target)}};
    else
      tasks[t.name] = {{"auc", metrics::auc_or_nan(pred, target)},
                       {"logloss", metrics::logloss_from_logits(pred, target)}};
  }
  return {{"tasks", tasks}, {"samples", N}, {"gates", gates.to_json(m)}};
}

std::string MultiTaskTask::summarize(const json& metrics) const {
  std::string s;
  for (const auto& [name, m] : metrics.at("tasks").items()) {
    if (!s.empty()) s += " | ";
    s += name + (m.contains("mse")
                     ? " MSE " + fmt(m.at("mse"))
                     : " AUC " + fmt(m.at("auc")) + " logloss " + fmt(m.at("logloss")));
  }
  return s;
}

xt::xarray<float> MultiTaskTask::test_outputs(Model<float>& model, size_t batch_size) {
  return multitask_outputs(as_multitask(model), data_.test_x, data_.test_cat, batch_size, true);
}

namespace {

// The feature columns of a prediction input file, encoded as the training data set encodes them.
struct PredictInput {
  xt::xarray<float> x;
  xt::xarray<int64_t> cat;
};

PredictInput read_predict_input(const std::string& path, const data::CsvSchema* schema,
                                const data::MultiTaskDataset& ds) {
  const char delimiter = schema ? schema->delimiter : ',';
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
  // A malformed quote is named with the file and the line, as every other error here.
  auto split_line = [&]() -> std::vector<std::string> {
    try {
      return data::split_csv_line(line, delimiter);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " + e.what());
    }
  };
  std::vector<std::string> columns;
  if (schema && !schema->header) {
    columns = schema->columns;
    if (columns.empty()) {
      // Named by position, "1", "2", ..., as the training reader names the columns of a
      // header-less file; the first line, counted here, is then read again as a row.
      while (next_line() && line.empty()) {
      }
      if (line.empty()) throw std::runtime_error(path + ": empty file");
      for (size_t i = 0; i < split_line().size(); ++i) columns.push_back(std::to_string(i + 1));
      in.clear();
      in.seekg(0);
      line_no = 0;
    }
  } else {
    if (!next_line()) throw std::runtime_error(path + ": empty file (expected a header line)");
    columns = split_line();
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
    return schema &&
           std::find(schema->missing.begin(), schema->missing.end(), v) != schema->missing.end();
  };
  auto fail = [&](const std::string& what) {
    throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " + what);
  };
  std::vector<float> xs;
  std::vector<int64_t> cs;
  size_t rows = 0;
  while (next_line()) {
    if (line.empty()) continue;
    const std::vector<std::string> fields = split_line();
    if (fields.size() != columns.size())
      fail(std::to_string(fields.size()) + " fields, expected " + std::to_string(columns.size()));
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
        if (used != v.size() || v.empty() || !std::isfinite(value))
          fail("column '" + ds.numeric_names[j] + "': '" + v + "' is not a number");
        // Rounded to a float before standardising, as the training reader stores it: the same
        // text then gives the model the same input it saw in training and evaluation.
        value = double(float(value));
        if (!std::isfinite(value))
          fail("column '" + ds.numeric_names[j] + "': '" + v + "' is beyond the range of a float");
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
          fail("column '" + ds.categorical_names[j] + "': '" + v + "' is not an id in [0, " +
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

size_t MultiTaskTask::predict(Model<float>& model, const std::string& input, std::ostream& out) {
  const PredictInput in = read_predict_input(input, schema_.get(), data_);
  const size_t N = in.x.shape()[0];
  if (N == 0) throw std::runtime_error(input + ": no row to score");
  const xt::xarray<float> y = multitask_outputs(as_multitask(model), in.x, in.cat);
  out << std::setprecision(6);
  for (size_t i = 0; i < N; ++i) {
    for (size_t k = 0; k < y.shape()[1]; ++k) out << (k ? "\t" : "") << y(i, k);
    out << "\n";
  }
  return N;
}

namespace {

const OptionSpec kTestFraction{"test_fraction",
                               "test-fraction",
                               "share of rows held out for test when the data has one file",
                               {},
                               0.01,
                               0.99};

std::unique_ptr<Task> make_multitask_task(const TaskSetup& s) {
  const MultiTaskOptions options = s.task_options.get<MultiTaskOptions>();
  const json& o = s.data_options;
  auto str = [&](const char* key) { return o.at(key).get<std::string>(); };
  std::unique_ptr<data::CsvSchema> schema;
  data::MultiTaskDataset ds;
  if (s.dataset == "synthetic") {
    const std::string generator =
        str("generator") == "auto" ? (s.model == "esmm" ? "esmm" : "mmoe") : str("generator");
    const int64_t train = o.at("train_rows"), test = o.at("test_rows");
    if (generator == "mmoe") {
      const data::MmoeSyntheticConfig d;
      check_size_in_memory("--dataset synthetic features",
                           {{"--train-rows + --test-rows",
                             double((train > 0 ? train : d.train) + (test > 0 ? test : d.test))},
                            {"--dim", o.at("dim").get<double>()}},
                           4, "a float32 feature");
    }
    if (generator == "esmm") {
      data::EsmmSyntheticConfig c;
      if (train > 0) c.train = train;
      if (test > 0) c.test = test;
      c.seed = s.data_seed;
      ds = data::make_esmm_synthetic(c).data;
    } else {
      data::MmoeSyntheticConfig c;
      c.d = o.at("dim");
      c.c = o.at("c");
      c.m = o.at("sine_terms");
      c.p = o.at("correlation");
      c.sines = data::parse_sine_params(str("sines"));
      if (train > 0) c.train = train;
      if (test > 0) c.test = test;
      c.seed = s.data_seed;
      ds = data::make_mmoe_synthetic(c);
    }
  } else if (s.dataset == "csv") {
    if (str("csv_train").empty())
      throw std::invalid_argument("--dataset csv needs --csv-train FILE");
    if (str("schema").empty()) throw std::invalid_argument("--dataset csv needs --schema FILE");
    schema = std::make_unique<data::CsvSchema>(data::read_csv_schema_file(str("schema")));
    ds = str("csv_test").empty()
             ? data::load_csv_dataset_split(*schema, str("csv_train"), o.at("test_fraction"),
                                            s.data_seed)
             : data::load_csv_dataset(*schema, str("csv_train"), str("csv_test"));
  } else if (s.dataset == "income") {
    schema = std::make_unique<data::CsvSchema>(data::income_schema());
    const std::string path =
        data_file("income", o, "income.csv", " (data/get_income.sh DIR writes it)");
    ds = data::load_csv_dataset_split(*schema, path, o.at("test_fraction"), s.data_seed);
  } else {
    schema = std::make_unique<data::CsvSchema>(data::census_income_schema());
    const std::string hint = " (UCI census-income, KDD)";
    const std::string train = data_file("census", o, "census-income.data", hint);
    const std::string test = data_file("census", o, "census-income.test", hint);
    ds = data::load_csv_dataset(*schema, train, test);
  }
  return std::make_unique<MultiTaskTask>(std::move(ds), options, std::move(schema));
}

// The MMoE generator's data: two regression tasks over --dim numeric features. (ESMM's generator
// has fixed vocabularies, and the files' shapes are known once read.)
ShapePlan plan_multitask_shape(const TaskSetup& s) {
  if (s.dataset != "synthetic") return {};
  const std::string generator = s.data_options.at("generator").get<std::string>();
  if (generator == "esmm" || (generator == "auto" && s.model == "esmm")) return {};
  data::MultiTaskDataset d;  // the shape of make_mmoe_synthetic's data, without its rows
  d.tasks = {{"task1", data::TaskKind::regression}, {"task2", data::TaskKind::regression}};
  json shape = multitask_shape(d);
  shape["n_numeric"] = s.data_options.at("dim").get<int64_t>();
  return {shape, {{"n_numeric", "--dim"}}};
}

GradcheckResult gradcheck_multitask(Model<double>& model, const json& shape, const json& options) {
  auto* m = dynamic_cast<MultiTaskModel<double>*>(&model);
  if (!m)
    throw std::invalid_argument("the multi-task task needs a multi-task model, not " +
                                model.name());
  std::vector<double> weights = options.get<MultiTaskOptions>().task_weights;
  return gradcheck_multitask_model(*m, tiny_multitask_batch(shape.get<MultiTaskConfig>()), weights);
}

}  // namespace

TaskEntry multitask_task_entry() {
  TaskEntry t;
  t.name = "multitask";
  t.summary = "multi-task learning: weighted per-task MSE or BCE; per-task MSE, AUC, logloss";
  t.options = {{"task_weights",
                "task-weights",
                "loss weight of each task, comma-separated (default: 1 each)",
                {},
                0,
                1e6}};
  t.defaults = json(MultiTaskOptions{});
  const data::MmoeSyntheticConfig mmoe;
  DatasetEntry syn{
      "synthetic",
      "the MMoE paper's generator with a controlled task correlation (ESMM's click and "
      "conversion generator for --model esmm)",
      {{"generator",
        "generator",
        "synthetic data: the MMoE paper's (mmoe) or ESMM's (esmm); auto picks esmm for --model "
        "esmm",
        {"auto", "mmoe", "esmm"}},
       {"correlation", "correlation", "task correlation p = cos(w1, w2)", {}, -1, 1},
       {"dim", "dim", "input dimension d", {}, 2, 1 << 20},
       {"c", "c", "scale c of w1 and w2", {}, 1e-9},
       {"sine_terms", "sine-terms", "number m of sine terms", {}, 0, 1000},
       {"sines",
        "sines",
        "sine frequencies and phases: alpha, beta ~ N(0, 1) (gaussian) or alpha_i = i, beta_i = "
        "i^2 (index)",
        {"gaussian", "index"}},
       {"train_rows", "train-rows", "training rows (0 = the generator's default)", {}, 0, 1e8},
       {"test_rows", "test-rows", "test rows (0 = the generator's default)", {}, 0, 1e8}},
      {{"generator", "auto"},
       {"correlation", mmoe.p},
       {"dim", mmoe.d},
       {"c", mmoe.c},
       {"sine_terms", int64_t(mmoe.m)},
       {"sines", "gaussian"},
       {"train_rows", mmoe.train},
       {"test_rows", mmoe.test}}};
  DatasetEntry csv{"csv",
                   "a CSV file with a schema file naming its feature and label columns "
                   "(data/tabular_csv.hpp)",
                   {path_option("schema", "schema", "schema file (see data/tabular_csv.hpp)"),
                    path_option("csv_train", "csv-train",
                                "training file (alone, it is split by --test-fraction)"),
                    path_option("csv_test", "csv-test", "test file"), kTestFraction},
                   {{"schema", ""}, {"csv_train", ""}, {"csv_test", ""}, {"test_fraction", 0.2}}};
  const OptionSpec data_dir = path_option("data_dir", "data-dir", "folder of the data files");
  DatasetEntry income{"income",
                      "the kernlab income survey: DIR/income.csv from data/get_income.sh; tasks "
                      "high income and never married",
                      {data_dir, kTestFraction},
                      {{"data_dir", ""}, {"test_fraction", 0.2}}};
  DatasetEntry census{"census",
                      "UCI census-income (KDD): DIR/census-income.data and DIR/census-income.test",
                      {data_dir},
                      {{"data_dir", ""}}};
  t.datasets = {syn, csv, income, census};
  t.tiny_shape = {
      {"tasks",
       {{{"name", "score"}, {"kind", "regression"}}, {{"name", "click"}, {"kind", "binary"}}}},
      {"n_numeric", 3},
      {"cat_vocab_sizes", {4, 3}}};
  t.tiny_data = {{"train_rows", 300}, {"test_rows", 100}, {"dim", 8}};
  t.make = make_multitask_task;
  t.plan_shape = plan_multitask_shape;
  t.gradcheck = gradcheck_multitask;
  t.bench_data = [](const json&, size_t batch_size) {
    return json{{"train_rows", std::max<size_t>(8 * batch_size, 2048)}, {"test_rows", 16}};
  };
  return t;
}

}  // namespace tinyrec::models
