// STAMP and STMP; see stamp.hpp for the paper's equations and where its code differs.
#include "models/stamp.hpp"

#include "nn/init_scheme.hpp"

namespace tinyrec::models {

template <class T>
StampAttention<T>::StampAttention(size_t d, std::mt19937_64& rng)
    : w1_(d, d, rng, false), w2_(d, d, rng, false), w3_(d, d, rng, false), w0_(d, 1, rng, false) {
  this->register_module("w1", w1_);
  this->register_module("w2", w2_);
  this->register_module("w3", w3_);
  this->register_module("w0", w0_);
  b_a_ = this->register_parameter("b_a", Tensor<T>::zeros(Shape{d}));
}

template <class T>
Tensor<T> StampAttention<T>::forward(const Tensor<T>& x, const Tensor<T>& x_t, const Tensor<T>& m_s,
                                     const Tensor<T>& mask) {
  const size_t b = x.shape()[0], l = x.shape()[1], d = x.shape()[2];
  // W_2 x_t + W_3 m_s + b_a is the same for every click of a row: [B, 1, D], broadcast over L.
  Tensor<T> shared = reshape(w2_.forward(x_t) + w3_.forward(m_s) + b_a_, Shape{b, 1, d});
  Tensor<T> hidden = sigmoid(w1_.forward(x) + shared);          // [B, L, D]
  Tensor<T> alpha = reshape(w0_.forward(hidden), Shape{b, l});  // w_0ᵀ σ(·), eq. 7
  return alpha * mask;
}

template <class T>
STAMP<T>::STAMP(const StampConfig& c, bool attention)
    : config_(c),
      attention_(attention),
      rng_(c.seed),
      items_(size_t(c.n_items), c.edim, rng_, 0, c.init_std),
      mlp_s_(c.edim, c.edim, rng_),
      mlp_t_(c.edim, c.edim, rng_) {
  if (c.n_items < 2) throw std::invalid_argument("STAMP: needs at least one item besides padding");
  this->register_module("embedding", items_);
  if (attention_) {
    attention_net_ = std::make_unique<StampAttention<T>>(c.edim, rng_);
    this->register_module("attention", *attention_net_);
  }
  this->register_module("mlp_s", mlp_s_);
  this->register_module("mlp_t", mlp_t_);
  nn::init::apply_scheme(*this, c.init, rng_);
}

template <class T>
Tensor<T> STAMP<T>::query(const data::SessionBatch& b) {
  const size_t d = config_.edim;
  xt::xarray<T> mask = xt::zeros<T>({b.size, b.len});
  xt::xarray<T> inv_len = xt::xarray<T>::from_shape({b.size, size_t(1)});
  // Slots before a session's clicks look up the zero padding row, whatever ids they hold.
  xt::xarray<int64_t> ids = b.items;
  for (size_t r = 0; r < b.size; ++r) {
    for (size_t i = 0; i < b.len - b.lengths[r]; ++i) ids(r, i) = 0;
    for (size_t i = b.len - b.lengths[r]; i < b.len; ++i) mask(r, i) = T(1);
    inv_len(r, 0) = T(1) / T(b.lengths[r]);
  }
  Parts& p = parts_;
  p.x = items_.forward(ids);                                           // x_1..x_t, [B, L, D]
  p.m_s = sum(p.x, {1}) * Tensor<T>(std::move(inv_len));               // eq. 2
  p.m_t = reshape(slice(p.x, 1, b.len - 1, b.len), Shape{b.size, d});  // x_t: right-aligned
  if (attention_) {
    p.alpha = attention_net_->forward(p.x, p.m_t, p.m_s, Tensor<T>(std::move(mask)));  // eq. 7
    p.m_a = batched_weighted_sum(p.alpha, p.x);                                        // eq. 8
    if (config_.add_ms) p.m_a = p.m_a + p.m_s;  // the authors' code
  } else {
    p.alpha = Tensor<T>();
    p.m_a = p.m_s;  // STMP
  }
  p.h_s = tanh(mlp_s_.forward(p.m_a));  // eq. 9
  p.h_t = tanh(mlp_t_.forward(p.m_t));  // eq. 10
  return p.h_s * p.h_t;                 // eq. 11: ⟨h_s, h_t ⊙ x_i⟩ = ⟨h_s ⊙ h_t, x_i⟩
}

namespace {

const OptionSpec kEdim{"edim", "edim", "item embedding size (the paper: 100)", {}, 1, 4096};
const OptionSpec kInitStd{"init_std",
                          "init-std",
                          "the item embeddings start N(0, init-std²) under --init glorot (the "
                          "other schemes set their own)",
                          {},
                          1e-6,
                          10};

ModelEntry session_entry(const std::string& name, const std::string& summary, Options options) {
  ModelEntry e;
  e.name = name;
  e.paper =
      "Liu et al., STAMP: Short-Term Attention/Memory Priority Model for Session-based "
      "Recommendation, KDD 2018";
  e.task = "next_item";
  e.summary = summary;
  e.options = std::move(options);
  e.defaults = pick(nlohmann::json(StampConfig{}), e.options);
  StampConfig tiny;
  tiny.edim = 4;
  tiny.init_std = 0.5;  // larger than training's, so every path carries a visible gradient
  e.tiny = pick(nlohmann::json(tiny), e.options);
  return e;
}

}  // namespace

ModelEntry stamp_registration() {
  ModelEntry e = session_entry(
      "stamp", "STAMP: attention over the session, the last click, and a trilinear score",
      {kEdim,
       kInitStd,
       init_option(),
       {"add_ms", "add-ms",
        "feed m_a + m_s to the MLP cell, as the authors' code does (the paper: m_a alone)"}});
  set_factories<STAMP, StampConfig>(e);
  return e;
}

ModelEntry stmp_registration() {
  ModelEntry e =
      session_entry("stmp", "STMP: STAMP without attention (the session mean m_s in place of m_a)",
                    {kEdim, kInitStd, init_option()});
  set_factories<STMP, StampConfig>(e);
  return e;
}

template class StampAttention<float>;
template class StampAttention<double>;
template class STAMP<float>;
template class STAMP<double>;
template class STMP<float>;
template class STMP<double>;

}  // namespace tinyrec::models
