// A task is what differs between kinds of problem — click prediction, multi-task learning, and
// next-item prediction or meta-learning as they arrive. It owns a loaded data set and knows how
// to batch it, which loss terms a model is trained on, how to evaluate and how to predict. The
// trainer (models/trainer.hpp) and the command line are the same for every task.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <xtensor/xarray.hpp>

#include "models/model.hpp"
#include "nn/optim.hpp"

namespace tinyrec::models {

// The loss turned NaN or infinite; nothing was updated.
struct NonFiniteLoss : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Task {
 public:
  virtual ~Task() = default;

  // One line about the data: its name and sizes.
  virtual std::string describe() const = 0;
  // The model settings the data fixes (vocabulary sizes, the tasks' labels, ...), merged into the
  // model's configuration before it is built.
  virtual nlohmann::json model_shape() const = 0;
  // The training rows the trainer batches over.
  virtual size_t train_size() const = 0;

  // The training objective's terms on training rows `rows`, recorded for backward.
  virtual LossTerms<float> loss_terms(Model<float>& model, const std::vector<size_t>& rows) = 0;
  // One optimizer step: the terms, a check that each is finite (else NonFiniteLoss naming it,
  // with nothing updated), backward of Σ weight·term and the update. Returns each term's value.
  // Meta-learning overrides it.
  virtual LossValues train_step(Model<float>& model, nn::Optimizer<float>& optimizer,
                                const std::vector<size_t>& rows);
  // The generators a training step draws from (negative samples, ...), by name: a checkpoint
  // keeps their states, so a resumed run draws what an uninterrupted one would.
  virtual std::vector<std::pair<std::string, std::mt19937_64*>> generators() { return {}; }

  // Metrics on the test split, in evaluation mode (the model's mode is restored).
  virtual nlohmann::json evaluate(Model<float>& model, size_t batch_size) = 0;
  // The few numbers of `metrics` worth a progress line: "AUC 0.9012 GAUC 0.9056".
  virtual std::string summarize(const nlohmann::json& metrics) const = 0;
  // The model's raw outputs on the test split, [N, outputs] (a reloaded model must match them).
  virtual xt::xarray<float> test_outputs(Model<float>& model, size_t batch_size) = 0;
  // Scores each record of `input` and writes one line per record to `out`; returns the number of
  // records. Throws std::runtime_error naming the file and line of a malformed record, and when the
  // file holds no record at all.
  virtual size_t predict(Model<float>& model, const std::string& input, std::ostream& out) = 0;
};

// Runs `fn` in evaluation mode without recording, restoring the model's mode afterwards (also when
// `fn` throws).
template <class T, class Fn>
auto in_eval_mode(nn::Module<T>& model, Fn&& fn) {
  struct Restore {
    nn::Module<T>& m;
    bool was;
    ~Restore() { m.train(was); }
  } restore{model, model.is_training()};
  NoGradGuard no_grad;
  model.eval();
  return fn();
}

}  // namespace tinyrec::models
