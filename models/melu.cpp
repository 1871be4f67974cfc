// MeLU's user preference estimator: feature embeddings, decision-making layers, and its
// registration.
#include "models/melu.hpp"

#include <cmath>
#include <stdexcept>

#include "nn/init.hpp"
#include "nn/init_scheme.hpp"

namespace tinyrec::models {

namespace {

void check_fields(const char* side, const std::vector<int64_t>& vocab,
                  const std::vector<size_t>& widths) {
  if (vocab.empty())
    throw std::invalid_argument(std::string("melu: no ") + side + " feature (the model needs one)");
  if (vocab.size() != widths.size())
    throw std::invalid_argument(std::string("melu: ") + std::to_string(vocab.size()) + " " + side +
                                " vocabularies but " + std::to_string(widths.size()) + " widths");
  for (size_t f = 0; f < vocab.size(); ++f)
    if (vocab[f] < 1 || widths[f] < 1)
      throw std::invalid_argument(std::string("melu: ") + side + " field " + std::to_string(f) +
                                  " has vocabulary " + std::to_string(vocab[f]) + " and width " +
                                  std::to_string(widths[f]));
}

}  // namespace

template <class T>
Melu<T>::Melu(const MeluConfig& c) : config_(c), rng_(c.seed) {
  check_fields("user", c.user_vocab_sizes, c.user_widths);
  check_fields("item", c.item_vocab_sizes, c.item_widths);
  if (c.embedding_dim == 0) throw std::invalid_argument("melu: embedding_dim must be positive");
  const size_t D = c.embedding_dim;
  auto tables = [&](const std::vector<int64_t>& vocab, const char* prefix,
                    std::vector<std::unique_ptr<nn::Embedding<T>>>& out) {
    for (size_t f = 0; f < vocab.size(); ++f) {
      out.push_back(std::make_unique<nn::Embedding<T>>(size_t(vocab[f]), D, rng_, 0,
                                                       nn::init::embedding_std(c.init)));
      this->register_module(std::string(prefix) + "." + std::to_string(f), *out.back());
    }
  };
  tables(c.user_vocab_sizes, "user_embeddings", user_tables_);
  tables(c.item_vocab_sizes, "item_embeddings", item_tables_);
  size_t in = (c.user_vocab_sizes.size() + c.item_vocab_sizes.size()) * D;
  std::vector<size_t> widths = c.hidden;
  widths.push_back(1);
  for (size_t l = 0; l < widths.size(); ++l) {
    if (widths[l] == 0) throw std::invalid_argument("melu: a hidden layer of 0 units");
    layers_.push_back(std::make_unique<nn::Linear<T>>(in, widths[l], rng_));
    nn::init::linear_(*layers_.back(), c.init, rng_);
    const bool last = l + 1 == widths.size();
    if (last) nn::init::constant_(layers_.back()->bias(), c.rating_mean);
    this->register_module(last ? "out" : "fc" + std::to_string(l + 1), *layers_.back());
    in = widths[l];
  }
}

template <class T>
void Melu<T>::embed(const std::vector<std::unique_ptr<nn::Embedding<T>>>& tables,
                    const std::vector<xt::xarray<int64_t>>& ids,
                    const std::vector<xt::xarray<double>>& weights, Tensors<T>& parts) {
  if (ids.size() != tables.size())
    throw std::invalid_argument("melu: a batch with " + std::to_string(ids.size()) +
                                " fields for a model with " + std::to_string(tables.size()));
  for (size_t f = 0; f < tables.size(); ++f) {
    const Tensor<T> e = embedding(tables[f]->weight(), ids[f], 0);  // [n, D] or [n, w, D]
    if (ids[f].dimension() == 1) {
      parts.push_back(e);
    } else {
      // A bag: the mean of its ids' embeddings, as weights 1/count over the bag.
      const Tensor<T> w(xt::xarray<T>(xt::cast<T>(weights[f])));  // [n, w]
      parts.push_back(batched_weighted_sum(w, e));
    }
  }
}

template <class T>
Tensor<T> Melu<T>::features(const data::RatingBatch& batch) {
  Tensors<T> parts;
  embed(user_tables_, batch.user_ids, batch.user_weights, parts);
  embed(item_tables_, batch.item_ids, batch.item_weights, parts);
  return concat(parts, 1);
}

template <class T>
std::vector<Tensor<T>> Melu<T>::local_parameters() const {
  std::vector<Tensor<T>> theta;
  for (const auto& l : layers_) {
    theta.push_back(l->weight());
    theta.push_back(l->bias());
  }
  return theta;
}

template <class T>
Tensor<T> Melu<T>::decide(const Tensor<T>& x, const std::vector<Tensor<T>>& theta) {
  if (theta.size() != 2 * layers_.size())
    throw std::invalid_argument("melu: " + std::to_string(theta.size()) +
                                " decision-layer tensors for " +
                                std::to_string(2 * layers_.size()));
  Tensor<T> h = x;
  const size_t L = layers_.size();
  for (size_t l = 0; l + 1 < L; ++l) h = relu(matmul(h, theta[2 * l]) + theta[2 * l + 1]);
  const Tensor<T> y = matmul(h, theta[2 * L - 2]) + theta[2 * L - 1];  // ŷ = W_o x_2 + b_o
  return reshape(y, Shape{y.shape()[0]});
}

template class Melu<float>;
template class Melu<double>;

ModelEntry melu_registration() {
  ModelEntry e;
  e.name = "melu";
  e.paper = "Lee et al., KDD 2019 (arXiv 1908.00413)";
  e.task = "meta";
  e.summary = "MeLU: feature embeddings and decision layers, meta-learned with MAML per user";
  e.options = {
      {"embedding_dim", "embedding-dim", "embedding size per feature", {}, 1, 4096},
      {"hidden", "hidden", "units of the decision-making layers, comma-separated", {}, 1, 1e5},
      init_option()};
  e.defaults = pick(nlohmann::json(MeluConfig{}), e.options);
  MeluConfig tiny;
  tiny.embedding_dim = 3;
  tiny.hidden = {4, 3};
  e.tiny = pick(nlohmann::json(tiny), e.options);
  set_factories<Melu, MeluConfig>(e);
  return e;
}

}  // namespace tinyrec::models
