// The training loop every model shares, and building a run from its configuration.
#include "models/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <stdexcept>

#include "autograd/atomic_file.hpp"
#include "autograd/limits.hpp"
#include "autograd/tape.hpp"
#include "data/batching.hpp"
#include "nn/checkpoint.hpp"

namespace tinyrec::models {

using nlohmann::json;

RunConfig resolve(const RunConfig& in) {
  RunConfig c = in;
  const ModelEntry& m = find_model(c.model);
  const TaskEntry& t = find_task(m.task);
  if (c.dataset.empty()) c.dataset = t.datasets.front().name;
  const DatasetEntry& d = find_dataset(t, c.dataset, c.model);
  c.model_options = merge_options("--model " + m.name, m.options, m.defaults, c.model_options);
  c.task_options = merge_options(t.name + " task", t.options, t.defaults, c.task_options);
  c.data_options = merge_options("--dataset " + d.name, d.options, d.defaults, c.data_options);
  const auto& optimizers = nn::optimizer_names();
  bool known = false;
  for (const auto& o : optimizers) known = known || o == c.train.optimizer;
  if (!known)
    throw std::invalid_argument("--optimizer: " + c.train.optimizer + " not in {" +
                                join_names(optimizers) + "}");
  if (c.train.epochs == 0 || c.train.batch_size == 0 || c.train.eval_batch_size == 0)
    throw std::invalid_argument("--epochs and --batch-size must be at least 1");
  if (!(c.train.lr > 0)) throw std::invalid_argument("--lr must be positive");
  return c;
}

json model_config(const ModelEntry& entry, const json& model_options, const json& shape,
                  uint64_t seed) {
  json config = entry.defaults;
  config.update(model_options);
  config.update(shape);
  config["seed"] = seed;
  return config;
}

namespace {

// How many float32 copies of each parameter training holds: the weights, their gradients (dense,
// embedding tables too) and the optimizer's state per value (Adam's two moments, Adagrad's sums;
// SGD without momentum, as --optimizer sgd runs, none).
double copies_in_training(const std::string& optimizer) {
  return 2.0 + (optimizer == "adam" ? 2.0 : optimizer == "adagrad" ? 1.0 : 0.0);
}

// A planned size up to this is probed as it is; a larger one through models with it this small.
constexpr double kProbeAsIs = 1e4;
constexpr double kProbeBase = 16;

// The model at the data's planned shape, measured before the data or the model are built. Its
// parameter count is linear in each of the data's sizes (a vocabulary is the rows of embedding
// tables, an input width the rows of a first layer), so it is measured from models whose large
// sizes are small: P = P(base) + Σ_i d_i (v_i − base_i), where d_i = P(base, size i one larger) −
// P(base) is what one more row of size i adds. Throws SizeLimitError when the weights of one size
// pass the limit of values.
struct PlannedCount {
  double total = 0;
  std::vector<double> value, per_row;  // per planned size
};

PlannedCount count_planned(const ModelEntry& entry, const RunConfig& c, const ShapePlan& plan) {
  auto count = [&](const json& shape) {
    return double(entry.make_float(model_config(entry, c.model_options, shape, c.model_seed))
                      ->parameter_count());
  };
  const size_t n = plan.sizes.size();
  PlannedCount p;
  p.value.resize(n);
  p.per_row.assign(n, 0);
  json base = plan.shape;
  for (size_t i = 0; i < n; ++i) {
    p.value[i] = plan.shape.at(plan.sizes[i].key).get<double>();
    if (p.value[i] > kProbeAsIs) base[plan.sizes[i].key] = kProbeBase;
  }
  const double base_count = count(base);
  p.total = base_count;
  for (size_t i = 0; i < n; ++i) {
    if (p.value[i] <= kProbeAsIs) continue;
    const ShapePlan::Size& size = plan.sizes[i];
    json more = base;
    more[size.key] = kProbeBase + 1;
    p.per_row[i] = count(more) - base_count;
    check_size("the weights with a row per " + size.key,
               {{size.key + " (" + size.flag + ")", p.value[i]}, {"values per row", p.per_row[i]}});
    p.total += p.per_row[i] * (p.value[i] - kProbeBase);
  }
  return p;
}

// Also throws SizeLimitError when training the planned model (`training`), or holding its
// weights, needs more memory than the process may use.
void check_planned_model(const ModelEntry& entry, const RunConfig& c, const ShapePlan& plan,
                         bool training) {
  const PlannedCount p = count_planned(entry, c, plan);
  const double copies = training ? copies_in_training(c.train.optimizer) : 1.0;
  const double bytes = p.total * double(sizeof(float)) * copies;
  const MemoryBudget budget = memory_budget();
  if (bytes <= budget.bytes) return;
  size_t named = plan.sizes.size();  // the size whose weights hold the most values
  double largest = 0;
  for (size_t i = 0; i < plan.sizes.size(); ++i)
    if (p.per_row[i] * p.value[i] > largest) largest = p.per_row[i] * p.value[i], named = i;
  std::ostringstream os;
  os.precision(3);
  os << "in memory: " << p.total << " parameters";
  if (named < plan.sizes.size())
    os << ", " << largest << " of them in the weights with a row per " << plan.sizes[named].key
       << " " << std::llround(p.value[named]) << " (" << plan.sizes[named].flag << ")";
  if (training)
    os << ", held " << copies << " times over to train with --optimizer " << c.train.optimizer
       << " (weights, gradients" << (copies > 2 ? " and the optimizer's state" : "") << ")";
  os << ": " << bytes_text(bytes) << ", more than the " << bytes_text(budget.bytes)
     << " this process may use (" << budget.source << ")";
  throw SizeLimitError(os.str());
}

// "--users 1000000, --samples-per-user 50, ...": the numbers a data set was asked for.
std::string data_sizes(const DatasetEntry& d, const json& options) {
  std::string list;
  for (const auto& spec : d.options) {
    const json& v = options.at(spec.key);
    if (v.is_number()) list += (list.empty() ? "" : ", ") + ("--" + spec.flag + " " + v.dump());
  }
  return list;
}

}  // namespace

Run build_run(const RunConfig& config, bool training) {
  Run run;
  run.config = resolve(config);
  run.entry = &find_model(run.config.model);
  const TaskEntry& task = find_task(run.entry->task);
  const TaskSetup setup{run.config.model, run.config.task_options, run.config.dataset,
                        run.config.data_options, run.config.data_seed};
  // A layer's sizes come from the model's settings and the data's vocabularies: a model that does
  // not fit names them all.
  auto sizes = [&](const json& shape) {
    std::string list;
    for (const auto& spec : run.entry->options) {
      const json& v = run.config.model_options.at(spec.key);
      if (v.is_number() || v.is_array())
        list += (list.empty() ? "" : ", ") + ("--" + spec.flag + " " + v.dump());
    }
    for (const auto& [key, v] : shape.items())
      if (v.is_number()) list += (list.empty() ? "" : ", ") + key + " " + v.dump();
    return " (its sizes: " + list + ")";
  };
  const std::string what = "--model " + run.config.model + " does not fit";
  auto fits = [&](const json& shape, const auto& build) {
    try {
      build();
    } catch (const SizeLimitError& e) {
      const std::string m = e.what();
      throw SizeLimitError(what + (m.rfind("in memory", 0) == 0 ? " " : ": ") + m + sizes(shape));
    } catch (const std::bad_alloc&) {
      throw std::runtime_error(what + " in memory" + sizes(shape));
    }
  };
  // First from the data's options alone, so that neither the data nor a model that cannot fit is
  // ever built.
  if (task.plan_shape) {
    const ShapePlan plan = task.plan_shape(setup);
    if (!plan.shape.is_null())
      fits(plan.shape, [&] { check_planned_model(*run.entry, run.config, plan, training); });
  }
  try {
    run.task = task.make(setup);
  } catch (const std::bad_alloc&) {
    const DatasetEntry& d = find_dataset(task, run.config.dataset, run.config.model);
    throw std::runtime_error("out of memory building --dataset " + d.name + " with " +
                             data_sizes(d, run.config.data_options) + "; lower its sizes");
  }
  const json shape = run.task->model_shape();
  fits(shape, [&] {
    run.model = run.entry->make_float(
        model_config(*run.entry, run.config.model_options, shape, run.config.model_seed));
  });
  return run;
}

double planned_parameter_count(const RunConfig& config) {
  const RunConfig c = resolve(config);
  const ModelEntry& entry = find_model(c.model);
  const TaskEntry& task = find_task(entry.task);
  if (!task.plan_shape) return -1;
  const ShapePlan plan =
      task.plan_shape({c.model, c.task_options, c.dataset, c.data_options, c.data_seed});
  return plan.shape.is_null() ? -1 : count_planned(entry, c, plan).total;
}

void check_resumable(const RunConfig& saved, const RunConfig& config) {
  RunConfig before = saved;
  before.train.epochs = config.train.epochs;
  std::string changed;
  for (const auto& op : json::diff(json(resolve(before)), json(resolve(config)))) {
    std::string path = op.at("path").get<std::string>().substr(1);  // "/train/lr" -> "train.lr"
    std::replace(path.begin(), path.end(), '/', '.');
    changed += (changed.empty() ? "" : ", ") + path;
  }
  if (!changed.empty())
    throw std::invalid_argument(
        "only --epochs may change when resuming; these settings differ from the run's: " + changed);
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Running sums of the loss terms, weighted by rows.
struct LossSums {
  LossValues sums;
  size_t rows = 0;
  void add(const LossValues& values, size_t n) {
    if (sums.empty())
      for (const auto& [name, v] : values) sums.emplace_back(name, 0.0);
    for (size_t k = 0; k < values.size() && k < sums.size(); ++k)
      sums[k].second += values[k].second * double(n);
    rows += n;
  }
  LossValues means() const {
    LossValues out = sums;
    for (auto& [name, v] : out) v = rows ? v / double(rows) : 0.0;
    return out;
  }
  void clear() {
    for (auto& [name, v] : sums) v = 0.0;
    rows = 0;
  }
};

}  // namespace

struct Trainer::State {
  Task& task;
  Model<float>& model;
  TrainOptions options;
  std::unique_ptr<nn::Optimizer<float>> optimizer;
  data::BatchOrder order;
  TrainReport report;
  size_t epochs_done = 0;
  double train_seconds = 0;  // training time of the finished epochs, evaluation excluded
  size_t train_rows = 0;
};

Trainer::Trainer(Task& task, Model<float>& model, const TrainOptions& options)
    : state_(new State{task, model, options,
                       nn::make_optimizer<float>(options.optimizer, model.parameters(), options.lr),
                       data::BatchOrder(task.train_size(), options.batch_size, true, options.seed),
                       TrainReport{}}) {}

Trainer::~Trainer() = default;

nn::Optimizer<float>& Trainer::optimizer() {
  return *state_->optimizer;
}

const TrainReport& Trainer::report() const {
  return state_->report;
}

size_t Trainer::epochs_done() const {
  return state_->epochs_done;
}

LossValues Trainer::step(const std::vector<size_t>& rows) {
  return state_->task.train_step(state_->model, *state_->optimizer, rows);
}

namespace {

std::string losses_text(const LossValues& values) {
  std::ostringstream os;
  os.precision(6);
  for (const auto& [name, v] : values) os << (os.tellp() > 0 ? ", " : "") << name << " " << v;
  return os.str();
}

}  // namespace

TrainReport Trainer::fit(const TrainCallbacks& callbacks) {
  State& s = *state_;
  const TrainOptions& o = s.options;
  if (s.task.train_size() == 0) throw std::invalid_argument("the training split is empty");
  const size_t batches = s.order.num_batches();
  const size_t steps = o.steps_per_epoch > 0 ? std::min(batches, o.steps_per_epoch) : batches;
  TrainReport& report = s.report;
  LossSums since_point;
  auto add_point = [&](bool end_of_epoch) {
    CurvePoint p;
    p.step = report.steps;
    p.epoch = double(report.steps) / double(steps);
    p.train = since_point.means();
    try {
      p.test = s.task.evaluate(s.model, o.eval_batch_size);
    } catch (const std::bad_alloc&) {
      throw std::runtime_error("training stopped after step " + std::to_string(report.steps) +
                               ": out of memory evaluating on the test split; lower the sizes of "
                               "the data or the model");
    }
    since_point.clear();
    report.curve.push_back(p);
    if (callbacks.on_point) callbacks.on_point(report.curve.back(), end_of_epoch);
  };
  std::vector<size_t> rows;
  LossValues last_finite;
  size_t last_epoch = 0, last_step = 0;
  for (size_t epoch = s.epochs_done + 1; epoch <= o.epochs; ++epoch) {
    s.order.start_epoch();
    LossSums epoch_sums;
    size_t step = 0;
    double epoch_seconds = 0;
    while (step < steps && s.order.next(rows)) {
      const auto t0 = std::chrono::steady_clock::now();
      LossValues loss;
      // Where a fault stopped the run, and the last loss that was still finite.
      auto stopped = [&](const std::exception& e) {
        std::string msg = "training stopped at epoch " + std::to_string(epoch) + ", step " +
                          std::to_string(step + 1) + ": " + e.what();
        if (!last_finite.empty())
          msg += "; the last finite loss was " + losses_text(last_finite) + " (epoch " +
                 std::to_string(last_epoch) + ", step " + std::to_string(last_step) + ")";
        return msg;
      };
      try {
        loss = s.task.train_step(s.model, *s.optimizer, rows);
      } catch (const NonFiniteLoss& e) {
        throw NonFiniteLoss(stopped(e));
      } catch (const AnomalyError& e) {  // anomaly mode named the op (autograd/tape.hpp)
        throw AnomalyError(stopped(e));
      } catch (const std::bad_alloc&) {
        // Sizes checked up front (autograd/limits.hpp) can still add up to more than the memory
        // there is, mostly through the batch.
        throw std::runtime_error(stopped(std::runtime_error(
            "out of memory in a batch of " + std::to_string(rows.size()) + " rows (--batch-size " +
            std::to_string(o.batch_size) + "); lower --batch-size or the model's sizes")));
      }
      epoch_seconds += seconds_since(t0);
      ++step;
      ++report.steps;
      epoch_sums.add(loss, rows.size());
      since_point.add(loss, rows.size());
      last_finite = std::move(loss), last_epoch = epoch, last_step = step;  // no copy per step
      if (callbacks.on_step)
        callbacks.on_step(
            {epoch, step, steps, epoch_sums.means(), double(epoch_sums.rows) / epoch_seconds});
      if (o.eval_every > 0 && report.steps % o.eval_every == 0 && step < steps) add_point(false);
    }
    s.train_seconds += epoch_seconds;
    s.train_rows += epoch_sums.rows;
    add_point(true);
    s.epochs_done = epoch;
    report.test = report.curve.back().test;
    report.samples_per_second = double(s.train_rows) / s.train_seconds;
    if (callbacks.on_epoch_end) callbacks.on_epoch_end(epoch);
  }
  return report;
}

namespace {

namespace fs = std::filesystem;

std::string generator_text(const std::mt19937_64& g) {
  std::ostringstream os;
  os << g;
  return os.str();
}

std::mt19937_64 parse_generator(const std::string& text, const std::string& where) {
  std::istringstream is(text);
  std::mt19937_64 g;
  is >> g;
  std::string rest;
  if (is.fail() || (is >> rest))
    throw std::runtime_error(where + " is not the state of a 64-bit Mersenne Twister");
  return g;
}

// Every generator a run draws from while training, by name.
std::vector<std::pair<std::string, std::mt19937_64*>> run_generators(Task& task,
                                                                     Model<float>& model) {
  std::vector<std::pair<std::string, std::mt19937_64*>> out;
  for (const auto& [name, g] : task.generators()) out.emplace_back("task." + name, g);
  for (const auto& [name, g] : model.named_generators()) out.emplace_back("model." + name, g);
  return out;
}

}  // namespace

void Trainer::save_state(const std::string& dir) const {
  const State& s = *state_;
  json curve = json::array();
  for (const auto& p : s.report.curve)
    curve.push_back({{"step", p.step}, {"epoch", p.epoch}, {"train", p.train}, {"test", p.test}});
  json generators = json::object();
  generators["batch_order"] = generator_text(s.order.generator());
  for (const auto& [name, g] : run_generators(s.task, s.model))
    generators[name] = generator_text(*g);
  const json state = {{"format", "tinyrec-train-state"},
                      {"version", 1},
                      {"optimizer", s.options.optimizer},
                      {"epochs_done", s.epochs_done},
                      {"steps", s.report.steps},
                      {"steps_per_epoch", s.order.num_batches()},
                      {"train_seconds", s.train_seconds},
                      {"train_rows", s.train_rows},
                      {"curve", curve},
                      {"generators", generators}};
  std::error_code ec;
  fs::create_directories(dir, ec);
  write_text_atomically((fs::path(dir) / "train_state.json").string(), state.dump(2) + "\n");
  nn::save_optimizer_state(*s.optimizer, s.model.named_parameters(),
                           (fs::path(dir) / "optimizer").string());
}

void Trainer::load_state(const std::string& dir) {
  State& s = *state_;
  const fs::path path = fs::path(dir) / "train_state.json";
  json state;
  {
    std::ifstream f(path);
    if (!f) throw std::runtime_error("cannot open " + path.string());
    try {
      state = json::parse(f);
    } catch (const json::exception& e) {
      throw std::runtime_error(path.string() + ": not valid JSON: " + e.what());
    }
  }
  const std::string where = path.string();
  try {
    if (state.value("format", "") != "tinyrec-train-state" || state.value("version", 0) != 1)
      throw std::runtime_error(
          "not a tinyrec training state (format tinyrec-train-state, version 1)");
    if (state.at("optimizer").get<std::string>() != s.options.optimizer)
      throw std::runtime_error("saved with optimizer " + state.at("optimizer").get<std::string>() +
                               ", resumed with " + s.options.optimizer);
    if (state.at("steps_per_epoch").get<size_t>() != s.order.num_batches())
      throw std::runtime_error(
          "saved with " + state.at("steps_per_epoch").dump() + " steps per epoch, this run has " +
          std::to_string(s.order.num_batches()) + " (another data set or batch size)");
    const json& generators = state.at("generators");
    auto mine = run_generators(s.task, s.model);
    if (generators.size() != mine.size() + 1)
      throw std::runtime_error("holds " + std::to_string(generators.size()) +
                               " generator states, this run has " +
                               std::to_string(mine.size() + 1));
    // Parse everything before changing anything, so a bad file leaves the trainer as it was.
    const std::mt19937_64 order = parse_generator(generators.at("batch_order").get<std::string>(),
                                                  where + ": generators.batch_order");
    std::vector<std::mt19937_64> values;
    for (const auto& [name, g] : mine) {
      if (!generators.contains(name))
        throw std::runtime_error("has no state for the generator " + name);
      values.push_back(
          parse_generator(generators.at(name).get<std::string>(), where + ": generators." + name));
    }
    TrainReport report;
    for (const auto& p : state.at("curve")) {
      CurvePoint c;
      c.step = p.at("step").get<size_t>();
      c.epoch = p.at("epoch").get<double>();
      c.train = p.at("train").get<LossValues>();
      c.test = p.at("test");
      report.curve.push_back(std::move(c));
    }
    report.steps = state.at("steps").get<size_t>();
    const size_t epochs_done = state.at("epochs_done").get<size_t>();
    if (epochs_done == 0 || report.curve.empty())
      throw std::runtime_error("records no finished epoch");
    nn::load_optimizer_state(*s.optimizer, s.model.named_parameters(),
                             (fs::path(dir) / "optimizer").string());
    s.order.set_generator(order);
    for (size_t k = 0; k < mine.size(); ++k) *mine[k].second = values[k];
    s.train_seconds = state.at("train_seconds").get<double>();
    s.train_rows = state.at("train_rows").get<size_t>();
    report.test = report.curve.back().test;
    report.samples_per_second = s.train_seconds > 0 ? double(s.train_rows) / s.train_seconds : 0;
    s.report = std::move(report);
    s.epochs_done = epochs_done;
  } catch (const json::exception& e) {
    throw std::runtime_error(where + ": " + e.what());
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    if (m.rfind(where, 0) == 0 || m.rfind("load_optimizer_state", 0) == 0) throw;
    throw std::runtime_error(where + ": " + m);
  }
}

}  // namespace tinyrec::models
