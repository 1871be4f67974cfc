// The Base model and DIN; see din.hpp for the paper's equations and where its code differs.
#include "models/din.hpp"

#include "autograd/ops.hpp"
#include "nn/init_scheme.hpp"

namespace tinyrec::models {

namespace {

nn::Activation activation_of(const CtrConfig& c) {
  return nn::parse_activation(c.activation);
}

// The head shared by both models: MLP 200-80 then one logit.
std::vector<size_t> head_sizes(const CtrConfig& c) {
  std::vector<size_t> sizes = c.mlp;
  sizes.push_back(1);
  return sizes;
}

// The batch's 0/1 padding mask in the model's scalar type.
template <class T>
Tensor<T> mask_of(const data::CtrBatch& b) {
  return Tensor<T>(xt::xarray<T>(xt::cast<T>(b.mask)));
}

}  // namespace

template <class T>
GoodsEmbedding<T>::GoodsEmbedding(const CtrConfig& c, std::mt19937_64& rng)
    : items_(size_t(c.n_items), c.item_dim, rng), cats_(size_t(c.n_cats), c.cat_dim, rng) {
  this->register_module("item", items_);
  this->register_module("cat", cats_);
}

template <class T>
Tensor<T> GoodsEmbedding<T>::operator()(const Ids& items, const Ids& cats) {
  return embedding_concat<T>({items_.weight(), cats_.weight()}, {&items, &cats},
                             {items_.padding_idx(), cats_.padding_idx()});
}

template <class T>
std::vector<EmbeddingUse<T>> GoodsEmbedding<T>::uses(const data::CtrBatch& b,
                                                     const CtrConfig& c) const {
  return {{items_.weight(), &b.hist_items, &c.item_counts},
          {items_.weight(), &b.item, &c.item_counts},
          {cats_.weight(), &b.hist_cats, &c.cat_counts},
          {cats_.weight(), &b.cat, &c.cat_counts}};
}

template <class T>
BaseModel<T>::BaseModel(const CtrConfig& c)
    : config_(c),
      rng_(c.seed),
      embed_(c, rng_),
      mlp_(2 * embed_.dim(), head_sizes(c), rng_, activation_of(c), 0.0, false, false) {
  this->register_module("embedding", embed_);
  this->register_module("mlp", mlp_);
  nn::init::apply_scheme(*this, c.init, rng_);
}

template <class T>
Tensor<T> BaseModel<T>::forward(const data::CtrBatch& b) {
  Tensor<T> e_a = embed_(b.item, b.cat);  // [B, D]
  // A slot the mask leaves out reads the zero padding row, whatever ids it holds, so the sum
  // below runs over the user's behaviours only.
  const auto kept = xt::not_equal(b.mask, 0.0f);
  const xt::xarray<int64_t> items = xt::where(kept, b.hist_items, int64_t(0)),
                            cats = xt::where(kept, b.hist_cats, int64_t(0));
  Tensor<T> e = embed_(items, cats);  // [B, L, D]; rows left out are zero
  Tensor<T> v_U = sum(e, {1});        // Σ_j e_j  [B, D]
  if (config_.pooling == "mean") {
    Tensor<T> n = clamp(sum(mask_of<T>(b), {1}, true), T(1), T(1e9));  // behaviours per user
    v_U = v_U / n;
  }
  Tensor<T> logit = mlp_.forward(concat<T>({e_a, v_U}, 1));  // [B, 1]
  return reshape(logit, Shape{b.size});
}

template <class T>
DIN<T>::DIN(const CtrConfig& c)
    : config_(c),
      rng_(c.seed),
      embed_(c, rng_),
      activation_unit_(embed_.dim(), rng_, c.attention, activation_of(c), c.attention_softmax),
      mlp_(2 * embed_.dim(), head_sizes(c), rng_, activation_of(c), 0.0, false, false) {
  this->register_module("embedding", embed_);
  this->register_module("attention", activation_unit_);
  this->register_module("mlp", mlp_);
  nn::init::apply_scheme(*this, c.init, rng_);
}

template <class T>
Tensor<T> DIN<T>::forward(const data::CtrBatch& b) {
  Tensor<T> v_A = embed_(b.item, b.cat);                     // candidate ad, [B, D]
  Tensor<T> e = embed_(b.hist_items, b.hist_cats);           // behaviours e_j, [B, L, D]
  w_ = activation_unit_.forward(v_A, e, mask_of<T>(b));      // w_j = a(e_j, v_A), [B, L]
  Tensor<T> v_U = nn::weighted_sum(w_, e);                   // eq. 3: Σ_j w_j e_j, [B, D]
  Tensor<T> logit = mlp_.forward(concat<T>({v_A, v_U}, 1));  // [B, 1]
  return reshape(logit, Shape{b.size});
}

namespace {

// Settings both models share.
const OptionSpec kItemDim{"item_dim", "item-dim", "item embedding size", {}, 1, 4096};
const OptionSpec kCatDim{"cat_dim", "cat-dim", "category embedding size", {}, 1, 4096};
const OptionSpec kMlp{"mlp", "mlp", "hidden units of the final MLP, comma-separated", {}, 1, 1e5};
const OptionSpec kActivation{
    "activation", "activation", "activation of the MLPs", {"prelu", "dice", "relu", "sigmoid"}};

ModelEntry ctr_entry(const std::string& name, const std::string& summary, Options options) {
  ModelEntry e;
  e.name = name;
  e.paper = "Zhou et al., Deep Interest Network for Click-Through Rate Prediction, KDD 2018";
  e.task = "click";
  e.summary = summary;
  e.options = std::move(options);
  e.defaults = pick(nlohmann::json(CtrConfig{}), e.options);
  CtrConfig tiny;
  tiny.item_dim = 3;
  tiny.cat_dim = 2;
  tiny.mlp = {6, 4};
  tiny.attention = {5, 3};
  e.tiny = pick(nlohmann::json(tiny), e.options);
  return e;
}

}  // namespace

ModelEntry base_registration() {
  ModelEntry e = ctr_entry("base", "the paper's Base model: embedding & MLP with sum pooling",
                           {kItemDim,
                            kCatDim,
                            kMlp,
                            kActivation,
                            init_option(),
                            {"pooling",
                             "pooling",
                             "pooling of the behaviours: sum (paper) or mean (DIN repository)",
                             {"sum", "mean"}}});
  set_factories<BaseModel, CtrConfig>(e);
  return e;
}

ModelEntry din_registration() {
  ModelEntry e = ctr_entry(
      "din", "DIN: the candidate's local activation unit weighs the behaviours",
      {kItemDim,
       kCatDim,
       kMlp,
       kActivation,
       init_option(),
       {"attention",
        "attention",
        "hidden units of the local activation unit, comma-separated",
        {},
        1,
        1e5},
       {"attention_softmax", "softmax",
        "normalise attention weights with a masked softmax (the authors' demo code) instead of "
        "the paper's unnormalised weights"}});
  set_factories<DIN, CtrConfig>(e);
  return e;
}

template class GoodsEmbedding<float>;
template class GoodsEmbedding<double>;
template class BaseModel<float>;
template class BaseModel<double>;
template class DIN<float>;
template class DIN<double>;

}  // namespace tinyrec::models
