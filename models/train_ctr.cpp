// The CTR training loop: shuffled mini-batches, click loss (+ auxiliary loss, + mini-batch aware
// regularization), backward, optimizer step; the paper's metrics on the test split per epoch.
#include "models/train_ctr.hpp"

#include <chrono>
#include <cmath>
#include <map>
#include <stdexcept>

#include "autograd/ops.hpp"
#include "nn/metrics.hpp"
#include "nn/optim.hpp"

namespace tinyrec::models {

namespace {

std::unique_ptr<nn::Optimizer<float>> make_optimizer(const std::string& name,
                                                     const std::vector<Tensor<float>>& params,
                                                     double lr) {
  if (name == "adam") return std::make_unique<nn::Adam<float>>(params, lr);
  if (name == "adagrad") return std::make_unique<nn::Adagrad<float>>(params, lr);
  if (name == "sgd") return std::make_unique<nn::SGD<float>>(params, lr);
  throw std::invalid_argument("unknown optimizer '" + name + "'; accepted: adam, adagrad, sgd");
}

// The DIN paper's eq. 6 penalty, once per table over every id the batch looks up in it.
Tensor<float> mba_penalty(const std::vector<EmbeddingUse<float>>& uses, float lambda) {
  std::map<Node<float>*, std::pair<const EmbeddingUse<float>*, std::vector<int64_t>>> by_table;
  for (const auto& u : uses) {
    auto& entry = by_table[u.table.node()];
    entry.first = &u;
    entry.second.insert(entry.second.end(), u.ids->begin(), u.ids->end());
  }
  Tensor<float> total;
  for (auto& [node, entry] : by_table) {
    Ids ids = Ids::from_shape({entry.second.size()});
    std::copy(entry.second.begin(), entry.second.end(), ids.begin());
    Tensor<float> p = nn::mba_regularization(entry.first->table, ids, *entry.first->counts, lambda);
    total = total.defined() ? total + p : p;
  }
  return total;
}

}  // namespace

struct CtrTrainer::State {
  CtrModel<float>& model;
  TrainOptions options;
  std::unique_ptr<nn::Optimizer<float>> optimizer;
  Tensor<float> labels;
};

CtrTrainer::CtrTrainer(CtrModel<float>& model, const TrainOptions& options)
    : state_(new State{
          model, options, make_optimizer(options.optimizer, model.parameters(), options.lr), {}}) {}

CtrTrainer::~CtrTrainer() = default;

double CtrTrainer::step(const data::CtrBatch& batch) {
  State& s = *state_;
  s.model.train();
  const Tensor<float> labels(batch.label);
  Tensor<float> click_loss = bce_with_logits(s.model.forward(batch), labels);
  Tensor<float> loss = click_loss;
  if (Tensor<float> aux = s.model.auxiliary_loss(batch); aux.defined()) loss = loss + aux;
  if (s.options.mba_lambda > 0)
    loss = loss + mba_penalty(s.model.embedding_uses(batch), float(s.options.mba_lambda));
  const double value = click_loss.item();
  if (!std::isfinite(loss.item()))
    throw std::runtime_error("training stopped: the loss is " + std::to_string(loss.item()) +
                             " (try a lower --lr)");
  s.optimizer->zero_grad();
  backward(loss);
  s.optimizer->step();
  return value;
}

std::vector<float> predict_ctr(CtrModel<float>& model, const std::vector<data::CtrSample>& samples,
                               size_t max_len, size_t batch_size) {
  NoGradGuard no_grad;
  model.eval();
  std::vector<float> scores;
  scores.reserve(samples.size());
  data::CtrBatcher batches(samples, batch_size, max_len, false, 0);
  data::CtrBatch batch;
  while (batches.next(batch)) {
    const Tensor<float> p = sigmoid(model.forward(batch));
    scores.insert(scores.end(), p.data(), p.data() + p.numel());
  }
  return scores;
}

CtrMetrics evaluate_ctr(CtrModel<float>& model, const std::vector<data::CtrSample>& samples,
                        size_t max_len, size_t batch_size) {
  const std::vector<float> scores = predict_ctr(model, samples, max_len, batch_size);
  std::vector<float> labels;
  std::vector<int64_t> users;
  for (const auto& s : samples) labels.push_back(s.label), users.push_back(s.user_key);
  CtrMetrics m;
  m.samples = samples.size();
  m.auc = metrics::auc(scores, labels);
  m.gauc = metrics::gauc(scores, labels, users);
  m.logloss = metrics::logloss(scores, labels);
  return m;
}

TrainReport train_ctr(CtrModel<float>& model, const data::CtrDataset& data,
                      const TrainOptions& options, const StepCallback& on_step,
                      const EpochCallback& on_epoch) {
  if (data.train.empty() || data.test.empty())
    throw std::invalid_argument("train_ctr: the data set '" + data.name +
                                "' has an empty train or test split");
  CtrTrainer trainer(model, options);
  data::CtrBatcher batches(data.train, options.batch_size, options.max_len, true, options.seed);
  data::CtrBatch batch;
  TrainReport report;
  double total_seconds = 0;
  size_t total_samples = 0;
  for (size_t epoch = 1; epoch <= options.epochs; ++epoch) {
    batches.start_epoch();
    const size_t steps = batches.num_batches();
    double loss_sum = 0;
    size_t seen = 0, step = 0;
    const auto t0 = std::chrono::steady_clock::now();
    while (batches.next(batch)) {
      double loss = 0;
      try {
        loss = trainer.step(batch);
      } catch (const std::runtime_error& e) {
        throw std::runtime_error("epoch " + std::to_string(epoch) + ", step " +
                                 std::to_string(step + 1) + ": " + e.what());
      }
      loss_sum += loss * double(batch.size);
      seen += batch.size;
      ++step;
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (on_step) on_step(step, steps, loss_sum / double(seen), double(seen) / seconds);
    }
    const double epoch_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    total_seconds += epoch_seconds;
    total_samples += seen;
    EpochRecord record;
    record.epoch = epoch;
    record.train_loss = loss_sum / double(seen);
    record.test = evaluate_ctr(model, data.test, options.max_len, options.eval_batch_size);
    record.samples_per_second = double(seen) / epoch_seconds;
    report.epochs.push_back(record);
    if (on_epoch) on_epoch(record);
  }
  report.samples_per_second = double(total_samples) / total_seconds;
  return report;
}

}  // namespace tinyrec::models
