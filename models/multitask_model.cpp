// The multi-task family's shared layers and the registry of its models.
#include "models/multitask_model.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/ops.hpp"
#include "models/esmm.hpp"
#include "models/mmoe.hpp"
#include "models/ple.hpp"
#include "nn/init.hpp"

namespace tinyrec::models {

namespace {

std::vector<size_t> with_output(std::vector<size_t> hidden) {
  hidden.push_back(1);
  return hidden;
}

}  // namespace

template <class T>
void init_linear(nn::Linear<T>& layer, const std::string& scheme, std::mt19937_64& rng,
                 size_t fan_out) {
  const double in = double(layer.in_features());
  if (scheme == "torch") {
    const double bound = 1.0 / std::sqrt(in);
    nn::init::uniform_(layer.weight(), rng, -bound, bound);
    if (layer.bias().defined()) nn::init::uniform_(layer.bias(), rng, -bound, bound);
  } else if (scheme == "glorot") {
    const double out = double(fan_out ? fan_out : layer.out_features());
    const double bound = std::sqrt(6.0 / (in + out));
    nn::init::uniform_(layer.weight(), rng, -bound, bound);
    if (layer.bias().defined()) nn::init::zeros_(layer.bias());
  } else {
    throw std::invalid_argument("unknown initialisation '" + scheme + "'; accepted: torch, glorot");
  }
}

template <class T>
MultiTaskInput<T>::MultiTaskInput(const MultiTaskConfig& c, std::mt19937_64& rng)
    : n_numeric_(c.n_numeric), dim_(c.embedding_dim) {
  if (c.input_width() == 0)
    throw std::invalid_argument("multi-task input: no numeric and no categorical column");
  for (size_t j = 0; j < c.cat_vocab_sizes.size(); ++j) {
    if (c.cat_vocab_sizes[j] < 1)
      throw std::invalid_argument("multi-task input: categorical column " + std::to_string(j) +
                                  " has vocabulary size " + std::to_string(c.cat_vocab_sizes[j]));
    tables_.push_back(
        std::make_unique<nn::Embedding<T>>(size_t(c.cat_vocab_sizes[j]), dim_, rng, 0));
    this->register_module("embeddings." + std::to_string(j), *tables_.back());
  }
}

template <class T>
Tensor<T> MultiTaskInput<T>::forward(const data::MultiTaskBatch& b) {
  const size_t n_cat = tables_.size();
  if (b.x.dimension() != 2 || b.x.shape()[1] != n_numeric_ || b.cat.dimension() != 2 ||
      b.cat.shape()[1] != n_cat)
    throw std::invalid_argument("multi-task input: the model expects " +
                                std::to_string(n_numeric_) + " numeric and " +
                                std::to_string(n_cat) + " categorical columns, the batch has x " +
                                shape_str(b.x.shape()) + " and cat " + shape_str(b.cat.shape()));
  Tensor<T> x(xt::xarray<T>(xt::cast<T>(b.x)));  // [B, n_numeric]
  if (n_cat == 0) return x;
  Tensors<T> parts;
  if (n_numeric_ > 0) parts.push_back(x);
  Ids column = Ids::from_shape({b.size});
  for (size_t j = 0; j < n_cat; ++j) {
    for (size_t i = 0; i < b.size; ++i) {
      const int64_t id = b.cat(i, j);
      if (id < 0 || id >= int64_t(tables_[j]->num_embeddings()))
        throw std::invalid_argument("multi-task input: categorical column " + std::to_string(j) +
                                    " has id " + std::to_string(id) +
                                    " outside its vocabulary [0, " +
                                    std::to_string(tables_[j]->num_embeddings()) + ")");
      column(i) = id;
    }
    parts.push_back(tables_[j]->forward(column));  // [B, D]
  }
  return parts.size() == 1 ? parts[0] : concat(parts, 1);
}

template <class T>
Experts<T>::Experts(size_t in, size_t n, size_t units, const std::string& init,
                    std::mt19937_64& rng)
    : in_(in), n_(n), units_(units), linear_(in, n * units, rng) {
  if (n == 0 || units == 0)
    throw std::invalid_argument("Experts: need at least one expert of at least one unit");
  init_linear(linear_, init, rng, units);  // each expert is an [in, units] layer
  this->register_module("linear", linear_);
}

template <class T>
Tensor<T> Experts<T>::forward(const Tensor<T>& x) {
  const size_t b = x.shape()[0];
  return reshape(relu(linear_.forward(x)), Shape{b, n_, units_});  // f_i(x), [B, n, units]
}

template <class T>
Gate<T>::Gate(size_t in, size_t n, const std::string& init, std::mt19937_64& rng)
    : linear_(in, n, rng) {
  init_linear(linear_, init, rng);
  this->register_module("linear", linear_);
}

template <class T>
Tensor<T> Gate<T>::forward(const Tensor<T>& x) {
  return softmax(linear_.forward(x), 1);
}

// The mixture Σ_i g_i f_i as three small ops closed under differentiation, each one plain loop
// over a batch row: mix (the mixture), contract (its gradient for the gate) and outer (its
// gradient for the experts). Every backward is written with these same recorded ops, so they
// differentiate to any order. Built from broadcast mul and sum they cost ~40% of an MMoE training
// step at batch 128; as nn::weighted_sum's batched matmul, B tiny gemm calls per use.
namespace {

template <class T>
Tensor<T> expert_contract(const Tensor<T>& a, const Tensor<T>& f);
template <class T>
Tensor<T> expert_outer(const Tensor<T>& g, const Tensor<T>& a);

// y[b, u] = Σ_i g[b, i]·f[b, i, u]:  [B, n], [B, n, U] -> [B, U].
template <class T>
Tensor<T> expert_mix(const Tensor<T>& g, const Tensor<T>& f) {
  const size_t B = f.shape()[0], n = f.shape()[1], U = f.shape()[2];
  xt::xarray<T> y = xt::zeros<T>({B, U});
  const T *pg = g.data(), *pf = f.data();
  T* py = y.data();
  for (size_t b = 0; b < B; ++b)
    for (size_t i = 0; i < n; ++i) {
      const T gi = pg[b * n + i];
      const T* row = pf + (b * n + i) * U;
      for (size_t u = 0; u < U; ++u) py[b * U + u] += gi * row[u];
    }
  Tensor<T> out(std::move(y));
  if (should_record(g, f))
    record(out, [g, f](const Tensor<T>&, const Tensor<T>& dy) {
      if (g.requires_grad()) accumulate(g, expert_contract(dy, f));  // Σ_u dy_u f_iu
      if (f.requires_grad()) accumulate(f, expert_outer(g, dy));     // g_i dy_u
    });
  return out;
}

// c[b, i] = Σ_u a[b, u]·f[b, i, u]:  [B, U], [B, n, U] -> [B, n].
template <class T>
Tensor<T> expert_contract(const Tensor<T>& a, const Tensor<T>& f) {
  const size_t B = f.shape()[0], n = f.shape()[1], U = f.shape()[2];
  xt::xarray<T> c = xt::xarray<T>::from_shape({B, n});
  const T *pa = a.data(), *pf = f.data();
  T* pc = c.data();
  for (size_t b = 0; b < B; ++b)
    for (size_t i = 0; i < n; ++i) {
      const T* row = pf + (b * n + i) * U;
      T s = 0;
      for (size_t u = 0; u < U; ++u) s += pa[b * U + u] * row[u];
      pc[b * n + i] = s;
    }
  Tensor<T> out(std::move(c));
  if (should_record(a, f))
    record(out, [a, f](const Tensor<T>&, const Tensor<T>& dc) {
      if (a.requires_grad()) accumulate(a, expert_mix(dc, f));    // Σ_i dc_i f_iu
      if (f.requires_grad()) accumulate(f, expert_outer(dc, a));  // dc_i a_u
    });
  return out;
}

// o[b, i, u] = g[b, i]·a[b, u]:  [B, n], [B, U] -> [B, n, U].
template <class T>
Tensor<T> expert_outer(const Tensor<T>& g, const Tensor<T>& a) {
  const size_t B = g.shape()[0], n = g.shape()[1], U = a.shape()[1];
  xt::xarray<T> o = xt::xarray<T>::from_shape({B, n, U});
  const T *pg = g.data(), *pa = a.data();
  T* po = o.data();
  for (size_t b = 0; b < B; ++b)
    for (size_t i = 0; i < n; ++i) {
      const T gi = pg[b * n + i];
      T* row = po + (b * n + i) * U;
      for (size_t u = 0; u < U; ++u) row[u] = gi * pa[b * U + u];
    }
  Tensor<T> out(std::move(o));
  if (should_record(g, a))
    record(out, [g, a](const Tensor<T>&, const Tensor<T>& dout) {
      if (g.requires_grad()) accumulate(g, expert_contract(a, dout));  // Σ_u a_u dO_iu
      if (a.requires_grad()) accumulate(a, expert_mix(g, dout));       // Σ_i g_i dO_iu
    });
  return out;
}

}  // namespace

template <class T>
Tensor<T> mix_experts(const Tensor<T>& gate, const Tensor<T>& experts) {
  if (gate.dim() != 2 || experts.dim() != 3 || gate.shape()[0] != experts.shape()[0] ||
      gate.shape()[1] != experts.shape()[1])
    throw std::invalid_argument("mix_experts: gate " + shape_str(gate.shape()) + " and experts " +
                                shape_str(experts.shape()) + " must be [B, n] and [B, n, U]");
  return expert_mix(gate, experts);
}

template <class T>
Tower<T>::Tower(size_t in, const std::vector<size_t>& hidden, const std::string& init,
                std::mt19937_64& rng)
    : mlp_(in, with_output(hidden), rng, nn::Activation::relu, 0.0, false, false) {
  for (size_t i = 0; i < mlp_.size(); ++i)
    if (auto* linear = dynamic_cast<nn::Linear<T>*>(&mlp_[i])) init_linear(*linear, init, rng);
  this->register_module("mlp", mlp_);
}

template <class T>
Tensor<T> Tower<T>::forward(const Tensor<T>& x) {
  return reshape(mlp_.forward(x), Shape{x.shape()[0]});
}

template <class T>
MultiTaskModel<T>::MultiTaskModel(const MultiTaskConfig& c) : config_(c), rng_(c.seed) {
  if (c.tasks.empty()) throw std::invalid_argument("multi-task model: the config has no task");
  if (c.init != "torch" && c.init != "glorot")
    throw std::invalid_argument("multi-task model: unknown initialisation '" + c.init +
                                "'; accepted: torch, glorot");
}

const std::vector<std::string>& multitask_model_names() {
  static const std::vector<std::string> names{"shared_bottom", "omoe", "mmoe", "ple", "esmm"};
  return names;
}

template <class T>
std::unique_ptr<MultiTaskModel<T>> make_multitask_model(const std::string& name,
                                                        const MultiTaskConfig& config) {
  if (name == "shared_bottom") return std::make_unique<SharedBottom<T>>(config);
  if (name == "omoe") return std::make_unique<MixtureOfExperts<T>>(config, false);
  if (name == "mmoe") return std::make_unique<MixtureOfExperts<T>>(config, true);
  if (name == "ple") return std::make_unique<PLE<T>>(config);
  if (name == "esmm") return std::make_unique<ESMM<T>>(config);
  std::string accepted;
  for (const auto& n : multitask_model_names()) accepted += (accepted.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown multi-task model '" + name + "'; accepted: " + accepted);
}

#define TINYREC_INSTANTIATE_MULTITASK(T)                                                   \
  template class MultiTaskInput<T>;                                                        \
  template class Experts<T>;                                                               \
  template class Gate<T>;                                                                  \
  template class Tower<T>;                                                                 \
  template class MultiTaskModel<T>;                                                        \
  template void init_linear(nn::Linear<T>&, const std::string&, std::mt19937_64&, size_t); \
  template Tensor<T> mix_experts(const Tensor<T>&, const Tensor<T>&);                      \
  template std::unique_ptr<MultiTaskModel<T>> make_multitask_model(const std::string&,     \
                                                                   const MultiTaskConfig&);
TINYREC_INSTANTIATE_MULTITASK(float)
TINYREC_INSTANTIATE_MULTITASK(double)

}  // namespace tinyrec::models
