// Optimizers (SGD with momentum, Adagrad, Adam) that update parameters in place, and DIN's
// mini-batch aware regularization of embedding tables. Update rules follow torch.optim (1.13) so
// results can be compared number for number.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops.hpp"

namespace tinyrec::nn {

// Holds the parameters to train (handles: updates land in the model's own tensors).
template <class T>
class Optimizer {
 public:
  Optimizer(std::vector<Tensor<T>> params, double lr);
  virtual ~Optimizer() = default;

  // One update of every parameter whose gradient is defined (others are skipped and their state
  // is left as it is), with recording off.
  void step();
  void zero_grad();
  double lr() const { return lr_; }
  void set_lr(double lr);
  const std::vector<Tensor<T>>& params() const { return params_; }

  // What a checkpoint must keep to continue training exactly where it stopped: per-parameter
  // arrays by slot name ("m", "v", ...; an array is empty while its parameter has not been updated)
  // and per-parameter step counts. The pointers refer to the optimizer's own storage, so a loader
  // writes through them.
  struct StateSlots {
    std::vector<std::pair<std::string, std::vector<std::vector<T>>*>> arrays;
    std::vector<std::pair<std::string, std::vector<uint64_t>*>> counts;
  };
  virtual StateSlots state_slots() = 0;

 protected:
  // Updates the n values w of parameter `index` from its gradient g.
  virtual void update(size_t index, T* w, const T* g, size_t n) = 0;
  // Per-parameter state arrays, allocated (filled with `init`) on first use.
  std::vector<T>& state(std::vector<std::vector<T>>& slot, size_t index, T init = T(0));

  std::vector<Tensor<T>> params_;
  double lr_;
};

// w ← w − lr·d, d = g + wd·w; with momentum: buf ← momentum·buf + d (buf = d on the first
// step), d = buf.
template <class T>
class SGD : public Optimizer<T> {
 public:
  SGD(std::vector<Tensor<T>> params, double lr, double momentum = 0.0, double weight_decay = 0.0);

 protected:
  void update(size_t index, T* w, const T* g, size_t n) override;

 public:
  typename Optimizer<T>::StateSlots state_slots() override { return {{{"momentum", &buf_}}, {}}; }

 private:
  double momentum_, weight_decay_;
  std::vector<std::vector<T>> buf_;  // empty until the first update: then buf = d
};

// Duchi et al. (2011): s ← s + d², w ← w − lr·d / (√s + eps), d = g + wd·w. The accumulator
// starts at initial_accumulator (0.1 as TensorFlow's Adagrad, which the DIN-era code used;
// torch.optim.Adagrad's default is 0).
template <class T>
class Adagrad : public Optimizer<T> {
 public:
  Adagrad(std::vector<Tensor<T>> params, double lr = 0.01, double initial_accumulator = 0.1,
          double eps = 1e-10, double weight_decay = 0.0);

 protected:
  void update(size_t index, T* w, const T* g, size_t n) override;

 public:
  typename Optimizer<T>::StateSlots state_slots() override { return {{{"sum", &sum_}}, {}}; }

 private:
  double initial_accumulator_, eps_, weight_decay_;
  std::vector<std::vector<T>> sum_;
};

// Kingma & Ba (2015) with L2 weight decay added to the gradient (torch.optim.Adam, not AdamW):
// d = g + wd·w, m ← β1·m + (1 − β1)·d, v ← β2·v + (1 − β2)·d²,
// w ← w − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + eps), t counted per parameter.
template <class T>
class Adam : public Optimizer<T> {
 public:
  Adam(std::vector<Tensor<T>> params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
       double eps = 1e-8, double weight_decay = 0.0);

 protected:
  void update(size_t index, T* w, const T* g, size_t n) override;

 public:
  typename Optimizer<T>::StateSlots state_slots() override {
    return {{{"m", &m_}, {"v", &v_}}, {{"t", &t_}}};
  }

 private:
  double beta1_, beta2_, eps_, weight_decay_;
  std::vector<std::vector<T>> m_, v_;
  std::vector<uint64_t> t_;
};

// The optimizer a name selects ("adam", "adagrad" or "sgd"), with its defaults but for lr; throws
// std::invalid_argument naming the accepted names otherwise.
template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const std::string& name, std::vector<Tensor<T>> params,
                                             double lr);
const std::vector<std::string>& optimizer_names();

// DIN's mini-batch aware regularization (Zhou et al. 2018, Eq. 4) for one embedding table
// [N, D]: λ·Σ_j ‖w_j‖² / n_j over the UNIQUE ids j of this batch, padding_idx left out, where
// counts[j] = n_j is how often id j occurs in the whole training set. Built from index_select,
// square and sum, so add it to the loss and backward() does the rest: only the touched rows get
// a gradient, 2λ·w_j / n_j. Throws if an id in the batch has no count (n_j = 0 or out of range).
template <class T>
Tensor<T> mba_regularization(const Tensor<T>& table, const Ids& batch_ids,
                             const std::vector<int64_t>& counts, double lambda,
                             int64_t padding_idx = 0);

// Adds how often each id occurs in `ids` to counts[id] (ids must lie in [0, counts.size())):
// run it over every id column of the training set to get the n_j of mba_regularization.
void count_ids(const Ids& ids, std::vector<int64_t>& counts);

}  // namespace tinyrec::nn
