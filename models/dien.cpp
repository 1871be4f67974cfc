// DIEN; see dien.hpp for the paper's equations and where its code differs.
#include "models/dien.hpp"

#include <stdexcept>

#include "autograd/ops.hpp"
#include "nn/init_scheme.hpp"

namespace tinyrec::models {

namespace {

size_t embedding_dim(const CtrConfig& c) {
  return c.item_dim + c.cat_dim;
}

void check(const CtrConfig& c) {
  if (c.aux_loss != "inner" && c.aux_loss != "mlp")
    throw std::invalid_argument("dien: aux_loss '" + c.aux_loss + "'; accepted: inner, mlp");
  if (c.interest_attention != "bilinear" && c.interest_attention != "din")
    throw std::invalid_argument("dien: interest_attention '" + c.interest_attention +
                                "'; accepted: bilinear, din");
  // ⟨h_t, e_{t+1}⟩ and the DIN unit's [e_a, h_t, e_a − h_t, e_a ⊙ h_t] both need h_t and the
  // embeddings in one space.
  if ((c.aux_loss == "inner" || c.interest_attention == "din") && c.gru_hidden != embedding_dim(c))
    throw std::invalid_argument(
        "dien: --gru-hidden " + std::to_string(c.gru_hidden) +
        " must equal --item-dim + --cat-dim = " + std::to_string(embedding_dim(c)) +
        " for the inner-product auxiliary loss and the DIN attention");
}

std::vector<size_t> with_logit(std::vector<size_t> sizes) {
  sizes.push_back(1);
  return sizes;
}

}  // namespace

template <class T>
DIEN<T>::DIEN(const CtrConfig& c)
    : config_((check(c), c)),
      rng_(c.seed),
      embed_(c, rng_),
      extractor_(embedding_dim(c), c.gru_hidden, rng_),
      evolving_(c.gru_hidden, c.gru_hidden, rng_, nn::parse_attention_gru_kind(c.evolving)),
      mlp_(embedding_dim(c) + c.gru_hidden, with_logit(c.mlp), rng_,
           nn::parse_activation(c.activation), 0.0, false, false) {
  this->register_module("embedding", embed_);
  this->register_module("extractor", extractor_);
  if (c.interest_attention == "bilinear") {
    bilinear_ = std::make_unique<nn::BilinearAttention<T>>(c.gru_hidden, embedding_dim(c), rng_);
    this->register_module("attention", *bilinear_);
  } else {
    din_unit_ = std::make_unique<nn::LocalActivationUnit<T>>(
        c.gru_hidden, rng_, c.attention, nn::parse_activation(c.activation), true);
    this->register_module("attention", *din_unit_);
  }
  this->register_module("evolving", evolving_);
  if (c.aux_loss == "mlp") {
    aux_net_ = std::make_unique<nn::MLP<T>>(embedding_dim(c) + c.gru_hidden, with_logit(c.aux_mlp),
                                            rng_, nn::Activation::sigmoid, 0.0, false, false);
    this->register_module("aux", *aux_net_);
  }
  this->register_module("mlp", mlp_);
  nn::init::apply_scheme(*this, c.init, rng_);
}

template <class T>
Tensor<T> DIEN<T>::forward(const data::CtrBatch& b) {
  mask_ = Tensor<T>(xt::xarray<T>(xt::cast<T>(b.mask)));  // [B, L]
  Tensor<T> e_a = embed_(b.item, b.cat);                  // target ad, [B, D]
  e_ = embed_(b.hist_items, b.hist_cats);                 // behaviours e_t, [B, L, D]
  h_ = extractor_.states(e_, mask_);                      // interest states h_t, [B, L, H]
  a_ = bilinear_ ? bilinear_->forward(h_, e_a, mask_)     // a_t, [B, L]
                 : din_unit_->forward(e_a, h_, mask_);
  Tensor<T> h_T = evolving_.forward(h_, a_, mask_);          // h'(T), [B, H]
  Tensor<T> logit = mlp_.forward(concat<T>({e_a, h_T}, 1));  // [B, 1]
  return reshape(logit, Shape{b.size});
}

template <class T>
Tensor<T> DIEN<T>::auxiliary_loss(const data::CtrBatch& b) {
  if (config_.aux_weight == 0) return {};
  const size_t L = b.max_len;
  if (b.neg_items.dimension() != 2 || b.neg_items.shape() != b.hist_items.shape())
    throw std::invalid_argument("dien: the batch carries no negative samples " +
                                shape_str(b.neg_items.shape()) + " for histories " +
                                shape_str(b.hist_items.shape()));
  if (L < 2) return sum(h_) * T(0);  // no pair (h_t, e_{t+1}) in a history of one
  Tensor<T> negatives = embed_(b.neg_items, b.neg_cats);  // ê_t, [B, L, D]
  Tensor<T> m = slice(mask_, 1, 1, L);  // e_{t+1} is real (then so is h_t: padding is at the end)
  Tensor<T> pos, neg;
  if (aux_net_) {
    Tensor<T> h = slice(h_, 1, 0, L - 1);            // h_t, t < T
    Tensor<T> next = slice(e_, 1, 1, L);             // e_{t+1}
    Tensor<T> negative = slice(negatives, 1, 1, L);  // ê_{t+1}
    pos = sum(aux_net_->forward(concat<T>({h, next}, -1)), {2});
    neg = sum(aux_net_->forward(concat<T>({h, negative}, -1)), {2});
  } else {
    pos = shifted_inner_products(h_, e_, 1);  // ⟨h_t, e_{t+1}⟩, [B, L−1]
    neg = shifted_inner_products(h_, negatives, 1);
  }
  Tensor<T> log_likelihood = (logsigmoid(pos) + logsigmoid(-neg)) * m;
  return -sum(log_likelihood) / clamp(sum(m), T(1), T(1e30));
}

ModelEntry dien_registration() {
  ModelEntry e;
  e.name = "dien";
  e.paper =
      "Zhou et al., Deep Interest Evolution Network for Click-Through Rate Prediction, AAAI 2019";
  e.task = "click";
  e.summary = "DIEN: a GRU with an auxiliary loss extracts interests, an AUGRU follows them";
  e.options = {
      {"item_dim", "item-dim", "item embedding size", {}, 1, 4096},
      {"cat_dim", "cat-dim", "category embedding size", {}, 1, 4096},
      {"gru_hidden", "gru-hidden", "hidden size of both GRUs", {}, 1, 4096},
      {"mlp", "mlp", "hidden units of the final MLP, comma-separated", {}, 1, 1e5},
      {"activation", "activation", "activation of the MLPs", {"prelu", "dice", "relu", "sigmoid"}},
      init_option(),
      {"evolving",
       "evolving",
       "interest evolving GRU: the paper's AUGRU, the authors' VecAttGRUCell orientation, or the "
       "ablations AIGRU and AGRU",
       {"augru", "augru_vecatt", "aigru", "agru"}},
      {"interest_attention",
       "interest-attention",
       "attention over interest states: the paper's bilinear form or the authors' DIN unit with a "
       "masked softmax",
       {"bilinear", "din"}},
      {"attention",
       "attention",
       "hidden units of the DIN unit (--interest-attention din)",
       {},
       1,
       1e5},
      {"aux_loss",
       "aux-loss",
       "auxiliary loss: the paper's inner product or the authors' small network",
       {"inner", "mlp"}},
      {"aux_weight", "aux-weight", "weight alpha of the auxiliary loss (0 = none)", {}, 0, 1e6},
      {"aux_mlp",
       "aux-mlp",
       "hidden units of the authors' auxiliary network, comma-separated",
       {},
       1,
       1e5}};
  e.defaults = pick(nlohmann::json(CtrConfig{}), e.options);
  CtrConfig tiny;
  tiny.item_dim = 3;
  tiny.cat_dim = 2;
  tiny.gru_hidden = 5;
  tiny.mlp = {6, 4};
  tiny.attention = {5, 3};
  tiny.aux_mlp = {4, 3};
  e.tiny = pick(nlohmann::json(tiny), e.options);
  set_factories<DIEN, CtrConfig>(e);
  return e;
}

template class DIEN<float>;
template class DIEN<double>;

}  // namespace tinyrec::models
