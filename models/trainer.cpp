// The training loop every model shares, and building a run from its configuration.
#include "models/trainer.hpp"

#include <chrono>
#include <stdexcept>

#include "data/batching.hpp"

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

Run build_run(const RunConfig& config) {
  Run run;
  run.config = resolve(config);
  run.entry = &find_model(run.config.model);
  const TaskEntry& task = find_task(run.entry->task);
  run.task = task.make({run.config.model, run.config.task_options, run.config.dataset,
                        run.config.data_options, run.config.data_seed});
  run.model = run.entry->make_float(model_config(*run.entry, run.config.model_options,
                                                 run.task->model_shape(), run.config.model_seed));
  return run;
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
};

Trainer::Trainer(Task& task, Model<float>& model, const TrainOptions& options)
    : state_(new State{
          task, model, options,
          nn::make_optimizer<float>(options.optimizer, model.parameters(), options.lr)}) {}

Trainer::~Trainer() = default;

nn::Optimizer<float>& Trainer::optimizer() {
  return *state_->optimizer;
}

LossValues Trainer::step(const std::vector<size_t>& rows) {
  return state_->task.train_step(state_->model, *state_->optimizer, rows);
}

TrainReport Trainer::fit(const TrainCallbacks& callbacks) {
  State& s = *state_;
  const TrainOptions& o = s.options;
  if (s.task.train_size() == 0) throw std::invalid_argument("the training split is empty");
  data::BatchOrder order(s.task.train_size(), o.batch_size, true, o.seed);
  const size_t steps = order.num_batches();
  TrainReport report;
  double train_seconds = 0;
  size_t train_rows = 0;
  LossSums since_point;
  auto add_point = [&](bool end_of_epoch) {
    CurvePoint p;
    p.step = report.steps;
    p.epoch = double(report.steps) / double(steps);
    p.train = since_point.means();
    p.test = s.task.evaluate(s.model, o.eval_batch_size);
    since_point.clear();
    report.curve.push_back(p);
    if (callbacks.on_point) callbacks.on_point(report.curve.back(), end_of_epoch);
  };
  std::vector<size_t> rows;
  for (size_t epoch = 1; epoch <= o.epochs; ++epoch) {
    order.start_epoch();
    LossSums epoch_sums;
    size_t step = 0;
    double epoch_seconds = 0;
    while (order.next(rows)) {
      const auto t0 = std::chrono::steady_clock::now();
      LossValues loss;
      try {
        loss = s.task.train_step(s.model, *s.optimizer, rows);
      } catch (const NonFiniteLoss& e) {
        throw NonFiniteLoss("training stopped at epoch " + std::to_string(epoch) + ", step " +
                            std::to_string(step + 1) + ": " + e.what());
      }
      epoch_seconds += seconds_since(t0);
      ++step;
      ++report.steps;
      epoch_sums.add(loss, rows.size());
      since_point.add(loss, rows.size());
      if (callbacks.on_step)
        callbacks.on_step(
            {epoch, step, steps, epoch_sums.means(), double(epoch_sums.rows) / epoch_seconds});
      if (o.eval_every > 0 && report.steps % o.eval_every == 0 && step < steps) add_point(false);
    }
    train_seconds += epoch_seconds;
    train_rows += epoch_sums.rows;
    add_point(true);
  }
  report.test = report.curve.back().test;
  report.samples_per_second = double(train_rows) / train_seconds;
  return report;
}

}  // namespace tinyrec::models
