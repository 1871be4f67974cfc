// The multi-task training loop: shuffled mini-batches, Σ_k w_k L_k, backward, optimizer step; test
// metrics per task on a schedule; gate utilisation after training.
#include "models/train_multitask.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "autograd/ops.hpp"
#include "nn/metrics.hpp"
#include "nn/optim.hpp"

namespace tinyrec::models {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::unique_ptr<nn::Optimizer<float>> make_optimizer(const std::string& name,
                                                     const std::vector<Tensor<float>>& params,
                                                     double lr) {
  if (name == "adam") return std::make_unique<nn::Adam<float>>(params, lr);
  if (name == "adagrad") return std::make_unique<nn::Adagrad<float>>(params, lr);
  if (name == "sgd") return std::make_unique<nn::SGD<float>>(params, lr);
  throw std::invalid_argument("unknown optimizer '" + name + "'; accepted: adam, adagrad, sgd");
}

void check_weights(const std::vector<double>& w, size_t n_tasks) {
  if (!w.empty() && w.size() != n_tasks)
    throw std::invalid_argument("task weights: " + std::to_string(w.size()) + " given for " +
                                std::to_string(n_tasks) + " tasks");
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

template <class T>
std::vector<Tensor<T>> task_losses(const std::vector<Tensor<T>>& outputs,
                                   const xt::xarray<float>& y,
                                   const std::vector<data::TaskInfo>& tasks) {
  const size_t K = tasks.size();
  if (outputs.size() != K || y.dimension() != 2 || y.shape()[1] != K)
    throw std::invalid_argument("task_losses: " + std::to_string(outputs.size()) +
                                " outputs and labels " + shape_str(y.shape()) + " for " +
                                std::to_string(K) + " tasks");
  const size_t B = y.shape()[0];
  std::vector<Tensor<T>> losses;
  for (size_t k = 0; k < K; ++k) {
    xt::xarray<T> target = xt::xarray<T>::from_shape({B});
    for (size_t i = 0; i < B; ++i) target(i) = T(y(i, k));
    const Tensor<T> y_k(std::move(target));
    losses.push_back(tasks[k].kind == data::TaskKind::binary ? bce_with_logits(outputs[k], y_k)
                                                             : mse_loss(outputs[k], y_k));
  }
  return losses;
}

template <class T>
Tensor<T> weighted_loss(const std::vector<Tensor<T>>& losses, const std::vector<double>& w) {
  check_weights(w, losses.size());
  Tensor<T> total;
  for (size_t k = 0; k < losses.size(); ++k) {
    Tensor<T> term = w.empty() || w[k] == 1.0 ? losses[k] : losses[k] * T(w[k]);
    total = total.defined() ? total + term : term;
  }
  return total;
}

double MultiTaskEval::mean_loss() const {
  if (tasks.empty()) return kNaN;
  double s = 0;
  for (const auto& t : tasks) s += t.loss;
  return s / double(tasks.size());
}

struct MultiTaskTrainer::State {
  MultiTaskModel<float>& model;
  MultiTaskTrainOptions options;
  std::unique_ptr<nn::Optimizer<float>> optimizer;
};

MultiTaskTrainer::MultiTaskTrainer(MultiTaskModel<float>& model,
                                   const MultiTaskTrainOptions& options)
    : state_(new State{model, options,
                       make_optimizer(options.optimizer, model.parameters(), options.lr)}) {
  check_weights(options.task_weights, model.num_tasks());
}

MultiTaskTrainer::~MultiTaskTrainer() = default;

std::vector<double> MultiTaskTrainer::step(const data::MultiTaskBatch& batch) {
  State& s = *state_;
  s.model.train();
  const std::vector<Tensor<float>> losses =
      task_losses(s.model.forward(batch), batch.y, s.model.tasks());
  std::vector<double> values;
  for (size_t k = 0; k < losses.size(); ++k) {
    values.push_back(losses[k].item());
    if (!std::isfinite(values.back()))
      throw std::runtime_error("training stopped: the loss of task '" + s.model.tasks()[k].name +
                               "' is " + std::to_string(values.back()) + " (try a lower --lr)");
  }
  Tensor<float> loss = weighted_loss(losses, s.options.task_weights);
  s.optimizer->zero_grad();
  backward(loss);
  s.optimizer->step();
  return values;
}

xt::xarray<float> predict_multitask(MultiTaskModel<float>& model, const xt::xarray<float>& x,
                                    const xt::xarray<int64_t>& cat, size_t batch_size,
                                    bool logits) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const size_t N = x.shape()[0], K = model.num_tasks();
  const xt::xarray<float> no_labels = xt::zeros<float>({N, size_t(0)});
  data::MultiTaskBatcher batches(x, cat, no_labels, batch_size, false, 0);
  data::MultiTaskBatch batch;
  xt::xarray<float> out = xt::xarray<float>::from_shape({N, K});
  size_t row = 0;
  while (batches.next(batch)) {
    const std::vector<Tensor<float>> y = model.forward(batch);
    for (size_t k = 0; k < K; ++k) {
      const bool prob = !logits && model.tasks()[k].kind == data::TaskKind::binary;
      const float* p = y[k].data();
      for (size_t i = 0; i < batch.size; ++i)
        out(row + i, k) = prob ? 1.0f / (1.0f + std::exp(-p[i])) : p[i];
    }
    row += batch.size;
  }
  model.train(was_training);
  return out;
}

MultiTaskEval evaluate_multitask(MultiTaskModel<float>& model, const xt::xarray<float>& x,
                                 const xt::xarray<int64_t>& cat, const xt::xarray<float>& y,
                                 size_t batch_size) {
  const xt::xarray<float> out = predict_multitask(model, x, cat, batch_size, true);
  const size_t N = out.shape()[0];
  MultiTaskEval e;
  e.samples = N;
  for (size_t k = 0; k < model.num_tasks(); ++k) {
    std::vector<float> pred(N), target(N);
    for (size_t i = 0; i < N; ++i) pred[i] = out(i, k), target[i] = y(i, k);
    TaskMetrics m;
    m.name = model.tasks()[k].name;
    m.kind = model.tasks()[k].kind;
    if (m.kind == data::TaskKind::regression) {
      m.mse = m.loss = metrics::mse(pred, target);
      m.auc = m.logloss = kNaN;
    } else {
      m.mse = kNaN;
      m.logloss = m.loss = metrics::logloss_from_logits(pred, target);
      bool both = false;
      for (size_t i = 1; i < N && !both; ++i) both = target[i] != target[0];
      m.auc = both ? metrics::auc(pred, target) : kNaN;  // AUC needs both classes
    }
    e.tasks.push_back(m);
  }
  return e;
}

MultiTaskReport train_multitask(MultiTaskModel<float>& model, const data::MultiTaskDataset& data,
                                const MultiTaskTrainOptions& options,
                                const MultiTaskStepCallback& on_step,
                                const MultiTaskEpochCallback& on_epoch) {
  if (data.num_train() == 0 || data.num_test() == 0)
    throw std::invalid_argument("train_multitask: the data set '" + data.name +
                                "' has an empty train or test split");
  const size_t K = model.num_tasks();
  if (data.num_tasks() != K)
    throw std::invalid_argument("train_multitask: the data set '" + data.name + "' has " +
                                std::to_string(data.num_tasks()) + " tasks, the model " +
                                std::to_string(K));
  for (size_t k = 0; k < K; ++k)
    if (data.tasks[k].kind != model.tasks()[k].kind)
      throw std::invalid_argument("train_multitask: task '" + data.tasks[k].name + "' is " +
                                  data::to_string(data.tasks[k].kind) + " in the data but " +
                                  data::to_string(model.tasks()[k].kind) + " in the model");
  MultiTaskTrainer trainer(model, options);
  data::MultiTaskBatcher batches(data.train_x, data.train_cat, data.train_y, options.batch_size,
                                 true, options.seed);
  const size_t steps = batches.num_batches();
  data::MultiTaskBatch batch;
  MultiTaskReport report;
  double train_seconds = 0;
  size_t train_samples = 0;
  std::vector<double> since_sum(K, 0.0);  // loss·rows since the last curve point
  size_t since_rows = 0;
  auto add_point = [&] {
    CurvePoint p;
    p.step = report.steps;
    p.epoch = double(report.steps) / double(steps);
    for (size_t k = 0; k < K; ++k) p.train_loss.push_back(since_sum[k] / double(since_rows));
    const MultiTaskEval e =
        evaluate_multitask(model, data.test_x, data.test_cat, data.test_y, options.eval_batch_size);
    for (const auto& t : e.tasks) p.test_loss.push_back(t.loss);
    report.curve.push_back(p);
    since_sum.assign(K, 0.0);
    since_rows = 0;
    return e;
  };
  for (size_t epoch = 1; epoch <= options.epochs; ++epoch) {
    if (epoch > 1) batches.start_epoch();
    std::vector<double> sum(K, 0.0);
    size_t seen = 0, step = 0;
    double epoch_seconds = 0;
    while (batches.next(batch)) {
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<double> loss;
      try {
        loss = trainer.step(batch);
      } catch (const std::runtime_error& e) {
        throw std::runtime_error("epoch " + std::to_string(epoch) + ", step " +
                                 std::to_string(step + 1) + ": " + e.what());
      }
      epoch_seconds += seconds_since(t0);
      ++step;
      ++report.steps;
      seen += batch.size;
      since_rows += batch.size;
      for (size_t k = 0; k < K; ++k) {
        sum[k] += loss[k] * double(batch.size);
        since_sum[k] += loss[k] * double(batch.size);
      }
      if (on_step) {
        StepInfo info{epoch, step, steps, report.steps, {}, double(seen) / epoch_seconds};
        for (size_t k = 0; k < K; ++k) info.train_loss.push_back(sum[k] / double(seen));
        on_step(info);
      }
      if (options.eval_every > 0 && report.steps % options.eval_every == 0 && step < steps)
        add_point();
    }
    train_seconds += epoch_seconds;
    train_samples += seen;
    std::vector<double> epoch_loss;
    for (size_t k = 0; k < K; ++k) epoch_loss.push_back(sum[k] / double(seen));
    report.epochs.push_back(add_point());
    if (on_epoch) on_epoch(epoch, epoch_loss, report.epochs.back());
  }
  report.test = report.epochs.back();
  report.samples_per_second = double(train_samples) / train_seconds;
  return report;
}

std::vector<GateUtilisation> gate_utilisation(MultiTaskModel<float>& model,
                                              const xt::xarray<float>& x,
                                              const xt::xarray<int64_t>& cat, size_t batch_size) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const size_t N = x.shape()[0], K = model.num_tasks();
  const xt::xarray<float> no_labels = xt::zeros<float>({N, size_t(0)});
  data::MultiTaskBatcher batches(x, cat, no_labels, batch_size, false, 0);
  data::MultiTaskBatch batch;
  std::vector<std::vector<double>> sum(K), sum_sq(K);
  size_t rows = 0;
  while (batches.next(batch)) {
    model.forward(batch);
    const std::vector<Tensor<float>> g = model.gate_weights();
    if (g.empty()) break;
    for (size_t k = 0; k < K; ++k) {
      const size_t n = g[k].shape()[1];
      sum[k].resize(n, 0.0);
      sum_sq[k].resize(n, 0.0);
      const float* p = g[k].data();
      for (size_t i = 0; i < batch.size; ++i)
        for (size_t e = 0; e < n; ++e) {
          sum[k][e] += p[i * n + e];
          sum_sq[k][e] += double(p[i * n + e]) * p[i * n + e];
        }
    }
    rows += batch.size;
  }
  model.train(was_training);
  std::vector<GateUtilisation> out;
  if (rows == 0) return out;
  for (size_t k = 0; k < K; ++k) {
    GateUtilisation u{model.tasks()[k].name, model.gate_experts(k), {}, {}};
    for (size_t e = 0; e < sum[k].size(); ++e) {
      const double mean = sum[k][e] / double(rows);
      u.mean.push_back(mean);
      u.stddev.push_back(std::sqrt(std::max(0.0, sum_sq[k][e] / double(rows) - mean * mean)));
    }
    out.push_back(u);
  }
  return out;
}

template std::vector<Tensor<float>> task_losses(const std::vector<Tensor<float>>&,
                                                const xt::xarray<float>&,
                                                const std::vector<data::TaskInfo>&);
template std::vector<Tensor<double>> task_losses(const std::vector<Tensor<double>>&,
                                                 const xt::xarray<float>&,
                                                 const std::vector<data::TaskInfo>&);
template Tensor<float> weighted_loss(const std::vector<Tensor<float>>&, const std::vector<double>&);
template Tensor<double> weighted_loss(const std::vector<Tensor<double>>&,
                                      const std::vector<double>&);

}  // namespace tinyrec::models
