// The multi-task family's shared layers and the registry of its models.
#include "models/multitask_model.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/ops.hpp"
#include "models/esmm.hpp"
#include "models/mmoe.hpp"
#include "models/ple.hpp"
#include "nn/init_scheme.hpp"

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
  nn::init::linear_(layer, scheme, rng, fan_out);
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
    tables_.push_back(std::make_unique<nn::Embedding<T>>(size_t(c.cat_vocab_sizes[j]), dim_, rng, 0,
                                                         nn::init::embedding_std(c.init)));
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

// The engine's batched weighted sum, not a broadcast product and sum: those generic loops took
// ~40% of an MMoE training step at batch 128. Checked here so that errors name mix_experts.
template <class T>
Tensor<T> mix_experts(const Tensor<T>& gate, const Tensor<T>& experts) {
  if (gate.dim() != 2 || experts.dim() != 3 || gate.shape()[0] != experts.shape()[0] ||
      gate.shape()[1] != experts.shape()[1])
    throw std::invalid_argument("mix_experts: gate " + shape_str(gate.shape()) + " and experts " +
                                shape_str(experts.shape()) + " must be [B, n] and [B, n, U]");
  return batched_weighted_sum(gate, experts);
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
  try {
    nn::init::check_scheme(c.init);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("multi-task model: ") + e.what());
  }
}

const OptionSpec kEmbeddingDimOption{
    "embedding_dim", "embedding-dim", "embedding size per categorical column", {}, 1, 4096};
const OptionSpec kExpertUnitsOption{
    "expert_units", "expert-units", "units of each expert (one ReLU layer)", {}, 1, 1e5};
const OptionSpec kTowerOption{
    "tower", "tower-units", "hidden units of each task tower, comma-separated", {}, 1, 1e5};
const OptionSpec kInitOption = init_option();

ModelEntry multitask_entry(const std::string& name, const std::string& paper,
                           const std::string& summary, Options options) {
  ModelEntry e;
  e.name = name;
  e.paper = paper;
  e.task = "multitask";
  e.summary = summary;
  e.options = std::move(options);
  e.defaults = pick(nlohmann::json(MultiTaskConfig{}), e.options);
  MultiTaskConfig tiny;
  tiny.embedding_dim = 2;
  tiny.n_experts = 3;
  tiny.expert_units = 4;
  tiny.tower = {3};
  tiny.bottom_units = 5;
  tiny.ple_specific = 1;
  tiny.ple_shared = 2;
  tiny.ple_levels = 2;
  tiny.esmm_tower = {4, 3};
  e.tiny = pick(nlohmann::json(tiny), e.options);
  return e;
}

#define TINYREC_INSTANTIATE_MULTITASK(T)                                                   \
  template class MultiTaskInput<T>;                                                        \
  template class Experts<T>;                                                               \
  template class Gate<T>;                                                                  \
  template class Tower<T>;                                                                 \
  template class MultiTaskModel<T>;                                                        \
  template void init_linear(nn::Linear<T>&, const std::string&, std::mt19937_64&, size_t); \
  template Tensor<T> mix_experts(const Tensor<T>&, const Tensor<T>&);
TINYREC_INSTANTIATE_MULTITASK(float)
TINYREC_INSTANTIATE_MULTITASK(double)

}  // namespace tinyrec::models
