// Optimizer steps as plain loops over the parameters' values, and DIN's mini-batch aware
// regularization.
#include "nn/optim.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tinyrec::nn {

template <class T>
Optimizer<T>::Optimizer(std::vector<Tensor<T>> params, double lr) : params_(std::move(params)) {
  for (size_t i = 0; i < params_.size(); ++i)
    if (!params_[i].defined())
      throw std::invalid_argument("Optimizer: parameter " + std::to_string(i) + " is undefined");
  set_lr(lr);
}

template <class T>
void Optimizer<T>::set_lr(double lr) {
  if (!(lr >= 0))
    throw std::invalid_argument("Optimizer: lr must be >= 0, got " + std::to_string(lr));
  lr_ = lr;
}

template <class T>
void Optimizer<T>::step() {
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor<T>& p = params_[i];
    const Tensor<T> g = p.grad();
    if (!g.defined()) continue;
    if (g.shape() != p.shape())
      throw std::logic_error("Optimizer: gradient of shape " + shape_str(g.shape()) +
                             " for parameter " + std::to_string(i) + " of shape " +
                             shape_str(p.shape()));
    update(i, p.data(), g.data(), p.numel());
  }
}

template <class T>
void Optimizer<T>::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

template <class T>
std::vector<T>& Optimizer<T>::state(std::vector<std::vector<T>>& slot, size_t index, T init) {
  if (slot.size() != params_.size()) slot.resize(params_.size());
  std::vector<T>& s = slot[index];
  if (s.empty()) s.assign(params_[index].numel(), init);
  return s;
}

// ---- SGD ----

template <class T>
SGD<T>::SGD(std::vector<Tensor<T>> params, double lr, double momentum, double weight_decay)
    : Optimizer<T>(std::move(params), lr), momentum_(momentum), weight_decay_(weight_decay) {
  if (!(momentum >= 0)) throw std::invalid_argument("SGD: momentum must be >= 0");
  if (!(weight_decay >= 0)) throw std::invalid_argument("SGD: weight_decay must be >= 0");
}

namespace {

// The update loops, over arrays that do not overlap (a parameter, its gradient and its optimizer
// state each own their storage): written so the compiler vectorises them.

template <class T>
void sgd_plain(T* __restrict w, const T* __restrict g, size_t n, T lr, T wd) {
  for (size_t k = 0; k < n; ++k) w[k] -= lr * (g[k] + wd * w[k]);
}

template <class T>
void sgd_momentum(T* __restrict w, T* __restrict buf, const T* __restrict g, size_t n, T lr, T wd,
                  T mu, bool first) {
  if (first) {
    for (size_t k = 0; k < n; ++k) {
      const T d = g[k] + wd * w[k];
      buf[k] = d;
      w[k] -= lr * buf[k];
    }
    return;
  }
  for (size_t k = 0; k < n; ++k) {
    const T d = g[k] + wd * w[k];
    buf[k] = mu * buf[k] + d;
    w[k] -= lr * buf[k];
  }
}

template <class T>
void adagrad_update(T* __restrict w, T* __restrict s, const T* __restrict g, size_t n, T lr, T wd,
                    T eps) {
  for (size_t k = 0; k < n; ++k) {
    const T d = g[k] + wd * w[k];
    s[k] += d * d;
    w[k] -= lr * d / (std::sqrt(s[k]) + eps);
  }
}

template <class T>
void adam_update(T* __restrict w, T* __restrict m, T* __restrict v, const T* __restrict g, size_t n,
                 T b1, T b2, T wd, T eps, T step, T c2_sqrt) {
  for (size_t k = 0; k < n; ++k) {
    const T d = g[k] + wd * w[k];
    m[k] = b1 * m[k] + (T(1) - b1) * d;
    v[k] = b2 * v[k] + (T(1) - b2) * d * d;
    w[k] -= step * m[k] / (std::sqrt(v[k]) / c2_sqrt + eps);
  }
}

}  // namespace

template <class T>
void SGD<T>::update(size_t index, T* w, const T* g, size_t n) {
  const T lr = static_cast<T>(this->lr_), wd = static_cast<T>(weight_decay_);
  const T mu = static_cast<T>(momentum_);
  if (momentum_ == 0) {
    sgd_plain(w, g, n, lr, wd);
    return;
  }
  const bool first = buf_.size() <= index || buf_[index].empty();
  std::vector<T>& buf = this->state(buf_, index);
  sgd_momentum(w, buf.data(), g, n, lr, wd, mu, first);
}

// ---- Adagrad ----

template <class T>
Adagrad<T>::Adagrad(std::vector<Tensor<T>> params, double lr, double initial_accumulator,
                    double eps, double weight_decay)
    : Optimizer<T>(std::move(params), lr),
      initial_accumulator_(initial_accumulator),
      eps_(eps),
      weight_decay_(weight_decay) {
  if (!(initial_accumulator >= 0))
    throw std::invalid_argument("Adagrad: initial_accumulator must be >= 0");
  if (!(eps >= 0)) throw std::invalid_argument("Adagrad: eps must be >= 0");
  if (!(weight_decay >= 0)) throw std::invalid_argument("Adagrad: weight_decay must be >= 0");
}

template <class T>
void Adagrad<T>::update(size_t index, T* w, const T* g, size_t n) {
  const T lr = static_cast<T>(this->lr_), wd = static_cast<T>(weight_decay_);
  const T eps = static_cast<T>(eps_);
  std::vector<T>& s = this->state(sum_, index, static_cast<T>(initial_accumulator_));
  adagrad_update(w, s.data(), g, n, lr, wd, eps);
}

// ---- Adam ----

template <class T>
Adam<T>::Adam(std::vector<Tensor<T>> params, double lr, double beta1, double beta2, double eps,
              double weight_decay)
    : Optimizer<T>(std::move(params), lr),
      beta1_(beta1),
      beta2_(beta2),
      eps_(eps),
      weight_decay_(weight_decay) {
  if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
    throw std::invalid_argument("Adam: beta1 and beta2 must be in [0, 1), got " +
                                std::to_string(beta1) + " and " + std::to_string(beta2));
  if (!(eps >= 0)) throw std::invalid_argument("Adam: eps must be >= 0");
  if (!(weight_decay >= 0)) throw std::invalid_argument("Adam: weight_decay must be >= 0");
  t_.assign(this->params_.size(), 0);
}

template <class T>
void Adam<T>::update(size_t index, T* w, const T* g, size_t n) {
  std::vector<T>& m = this->state(m_, index);
  std::vector<T>& v = this->state(v_, index);
  const uint64_t t = ++t_[index];
  // Bias corrections in double, as torch computes them in Python floats.
  const double c1 = 1.0 - std::pow(beta1_, static_cast<double>(t));
  const double c2 = 1.0 - std::pow(beta2_, static_cast<double>(t));
  const T step = static_cast<T>(this->lr_ / c1), c2_sqrt = static_cast<T>(std::sqrt(c2));
  const T b1 = static_cast<T>(beta1_), b2 = static_cast<T>(beta2_);
  const T wd = static_cast<T>(weight_decay_), eps = static_cast<T>(eps_);
  adam_update(w, m.data(), v.data(), g, n, b1, b2, wd, eps, step, c2_sqrt);
}

// ---- mini-batch aware regularization ----

template <class T>
Tensor<T> mba_regularization(const Tensor<T>& table, const Ids& batch_ids,
                             const std::vector<int64_t>& counts, double lambda,
                             int64_t padding_idx) {
  if (table.dim() != 2)
    throw std::invalid_argument("mba_regularization: the table must be 2-D [N, D], got " +
                                shape_str(table.shape()));
  const int64_t rows = static_cast<int64_t>(table.shape()[0]);
  std::vector<int64_t> unique(batch_ids.data(), batch_ids.data() + batch_ids.size());
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  unique.erase(std::remove(unique.begin(), unique.end(), padding_idx), unique.end());
  const size_t u = unique.size();
  if (u == 0) return Tensor<T>::scalar(T(0));
  Ids ids = Ids::from_shape({u});
  xt::xarray<T> inv_count = xt::xarray<T>::from_shape({u});
  for (size_t i = 0; i < u; ++i) {
    const int64_t j = unique[i];
    if (j < 0 || j >= rows)
      throw std::invalid_argument("mba_regularization: id " + std::to_string(j) +
                                  " is out of range for a table of " + std::to_string(rows) +
                                  " rows");
    if (static_cast<size_t>(j) >= counts.size() || counts[static_cast<size_t>(j)] <= 0)
      throw std::invalid_argument("mba_regularization: id " + std::to_string(j) +
                                  " occurs in the batch but has no training-set count (counts " +
                                  "has " + std::to_string(counts.size()) + " entries)");
    ids.data()[i] = j;
    inv_count.data()[i] = static_cast<T>(1.0 / static_cast<double>(counts[static_cast<size_t>(j)]));
  }
  Tensor<T> w = index_select(table, 0, ids);  // [U, D]
  Tensor<T> norms = sum(square(w), {1});      // [U]
  return sum(norms * Tensor<T>(std::move(inv_count))) * static_cast<T>(lambda);
}

void count_ids(const Ids& ids, std::vector<int64_t>& counts) {
  const int64_t* p = ids.data();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (p[i] < 0 || static_cast<size_t>(p[i]) >= counts.size())
      throw std::invalid_argument("count_ids: id " + std::to_string(p[i]) + " at position " +
                                  std::to_string(i) + " is outside [0, " +
                                  std::to_string(counts.size()) + ")");
    ++counts[static_cast<size_t>(p[i])];
  }
}

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names{"adam", "adagrad", "sgd"};
  return names;
}

template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const std::string& name, std::vector<Tensor<T>> params,
                                             double lr) {
  if (name == "adam") return std::make_unique<Adam<T>>(std::move(params), lr);
  if (name == "adagrad") return std::make_unique<Adagrad<T>>(std::move(params), lr);
  if (name == "sgd") return std::make_unique<SGD<T>>(std::move(params), lr);
  throw std::invalid_argument("unknown optimizer '" + name + "'; accepted: adam, adagrad, sgd");
}

#define TINYREC_INSTANTIATE_OPTIM(T)                                                               \
  template class Optimizer<T>;                                                                     \
  template class SGD<T>;                                                                           \
  template class Adagrad<T>;                                                                       \
  template class Adam<T>;                                                                          \
  template Tensor<T> mba_regularization(const Tensor<T>&, const Ids&, const std::vector<int64_t>&, \
                                        double, int64_t);                                          \
  template std::unique_ptr<Optimizer<T>> make_optimizer(const std::string&,                        \
                                                        std::vector<Tensor<T>>, double);
TINYREC_INSTANTIATE_OPTIM(float)
TINYREC_INSTANTIATE_OPTIM(double)

}  // namespace tinyrec::nn
