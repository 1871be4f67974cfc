// SIM; see sim.hpp for the paper's equations and sim_search.hpp for the General Search Unit.
#include "models/sim.hpp"

#include <stdexcept>

#include "autograd/ops.hpp"
#include "nn/init_scheme.hpp"

namespace tinyrec::models {

namespace {

void check(const CtrConfig& c) {
  if (c.search != "hard" && c.search != "soft")
    throw std::invalid_argument("sim: search '" + c.search + "'; accepted: hard, soft");
  if (c.top_k == 0) throw std::invalid_argument("sim: --top-k must be at least 1");
  if (c.time_buckets < 2) throw std::invalid_argument("sim: --time-buckets must be at least 2");
}

std::vector<size_t> with_logit(std::vector<size_t> sizes) {
  sizes.push_back(1);
  return sizes;
}

size_t embedding_dim(const CtrConfig& c) {
  return c.item_dim + c.cat_dim;
}

}  // namespace

template <class T>
SIM<T>::SIM(const CtrConfig& c)
    : config_((check(c), c)),
      rng_(c.seed),
      embed_(c, rng_),
      time_(c.time_buckets, c.time_dim, rng_),
      esu_(embedding_dim(c), embedding_dim(c) + c.time_dim, c.heads, c.head_dim, rng_),
      short_term_(embedding_dim(c), rng_, c.attention, nn::parse_activation(c.activation)),
      mlp_(2 * embedding_dim(c) + esu_.out_features(), with_logit(c.mlp), rng_,
           nn::parse_activation(c.activation), 0.0, false, false) {
  this->register_module("embedding", embed_);
  this->register_module("time", time_);
  if (c.search == "soft") {
    soft_ = std::make_unique<SoftSearch<T>>(embedding_dim(c), c.soft_dim, c.mlp,
                                            nn::parse_activation(c.activation), rng_);
    this->register_module("gsu", *soft_);
  }
  this->register_module("esu", esu_);
  this->register_module("short_term", short_term_);
  this->register_module("mlp", mlp_);
  nn::init::apply_scheme(*this, c.init, rng_);
}

template <class T>
const data::LongHistories& SIM<T>::histories(const data::CtrBatch& b) {
  if (b.histories) {
    if (b.long_rows.size() != b.size)
      throw std::invalid_argument("sim: the batch has " + std::to_string(b.size) + " rows but " +
                                  std::to_string(b.long_rows.size()) + " long-history rows");
    return *b.histories;
  }
  window_ = data::histories_from_window(b, window_rows_);
  return window_;
}

template <class T>
void SIM<T>::search(const data::CtrBatch& b, Retrieved& out) {
  const data::LongHistories& h = histories(b);
  const auto& rows = b.histories ? b.long_rows : window_rows_;
  const auto buckets = static_cast<int64_t>(config_.time_buckets);
  if (soft_) {
    Tensor<T> e_a;
    {
      NoGradGuard no_grad;  // the choice of K carries no gradient
      e_a = embed_(b.item, b.cat);
    }
    soft_->search(embed_, e_a, h, rows, config_.top_k, buckets, out);
  } else {
    hard_search(h, rows, b.cat, config_.top_k, buckets, out);
  }
}

template <class T>
Tensor<T> SIM<T>::forward(const data::CtrBatch& b) {
  search(b, retrieved_);
  return forward_retrieved(b, retrieved_);
}

template <class T>
Tensor<T> SIM<T>::forward_retrieved(const data::CtrBatch& b, const Retrieved& r) {
  if (r.size != b.size)
    throw std::invalid_argument("sim: " + std::to_string(r.size) +
                                " retrieved rows for a batch of " + std::to_string(b.size));
  e_a_ = embed_(b.item, b.cat);  // the candidate, [B, D]
  // Short-term interest: DIN over the recent behaviours.
  Tensor<T> e = embed_(b.hist_items, b.hist_cats);  // [B, L, D]
  Tensor<T> mask(xt::xarray<T>(xt::cast<T>(b.mask)));
  Tensor<T> u_st = nn::weighted_sum(short_term_.forward(e_a_, e, mask), e);  // [B, D]
  // Exact Search Unit over the K retrieved behaviours, each with its time gap.
  Tensor<T> z = concat<T>({embed_(r.items, r.cats), time_.forward(r.gaps)}, -1);  // [B, K, D+Dt]
  Tensor<T> u_lt = esu_.forward(e_a_, z, Tensor<T>(xt::xarray<T>(xt::cast<T>(r.mask))));
  Tensor<T> logit = mlp_.forward(concat<T>({e_a_, u_st, u_lt}, 1));  // [B, 1]
  return reshape(logit, Shape{b.size});
}

template <class T>
Tensor<T> SIM<T>::auxiliary_loss(const data::CtrBatch& b) {
  if (!soft_ || config_.aux_weight == 0) return {};
  const data::LongHistories& h = b.histories ? *b.histories : window_;
  const auto& rows = b.histories ? b.long_rows : window_rows_;
  return soft_->auxiliary_loss(embed_, e_a_, h, rows, b.label, config_.soft_sample, rng_,
                               aux_items_, aux_cats_);
}

template <class T>
std::vector<EmbeddingUse<T>> SIM<T>::embedding_uses(const data::CtrBatch& b) const {
  std::vector<EmbeddingUse<T>> uses = embed_.uses(b, config_);
  uses.push_back({embed_.item_table(), &retrieved_.items, &config_.item_counts});
  uses.push_back({embed_.cat_table(), &retrieved_.cats, &config_.cat_counts});
  if (soft_ && aux_items_.size() > 0) {
    uses.push_back({embed_.item_table(), &aux_items_, &config_.item_counts});
    uses.push_back({embed_.cat_table(), &aux_cats_, &config_.cat_counts});
  }
  return uses;
}

ModelEntry sim_registration() {
  ModelEntry e;
  e.name = "sim";
  e.paper =
      "Pi et al., Search-based User Interest Modeling with Lifelong Sequential Behavior Data for "
      "Click-Through Rate Prediction, CIKM 2020";
  e.task = "click";
  e.summary =
      "SIM: a search over the whole history picks K behaviours, time-aware attention reads them";
  e.options = {
      {"item_dim", "item-dim", "item embedding size", {}, 1, 4096},
      {"cat_dim", "cat-dim", "category embedding size", {}, 1, 4096},
      {"mlp",
       "mlp",
       "hidden units of the final MLP (and the soft search's auxiliary one)",
       {},
       1,
       1e5},
      {"activation", "activation", "activation of the MLPs", {"prelu", "dice", "relu", "sigmoid"}},
      init_option(),
      {"attention",
       "attention",
       "hidden units of the short-term interest's DIN unit, comma-separated",
       {},
       1,
       1e5},
      {"search",
       "search",
       "General Search Unit: hard (the candidate's category, through the index) or soft (top K "
       "of projected inner products, with an auxiliary CTR loss)",
       {"hard", "soft"}},
      {"top_k", "top-k", "behaviours the search keeps (K)", {}, 1, 1e5},
      {"soft_dim", "soft-dim", "the soft search's projection size", {}, 1, 4096},
      {"soft_sample",
       "soft-sample",
       "behaviours the soft search's auxiliary loss pools per sample, drawn at random (0 = the "
       "whole history)",
       {},
       0,
       1e7},
      {"aux_weight", "aux-weight", "weight alpha of the soft search's auxiliary loss", {}, 0, 1e6},
      {"heads", "heads", "attention heads of the Exact Search Unit", {}, 1, 256},
      {"head_dim", "head-dim", "projection size of each head", {}, 1, 4096},
      {"time_buckets",
       "time-buckets",
       "time-gap buckets (doubling widths; 0 is padding)",
       {},
       2,
       64},
      {"time_dim", "time-dim", "time-gap embedding size", {}, 1, 4096}};
  e.defaults = pick(nlohmann::json(CtrConfig{}), e.options);
  CtrConfig tiny;
  tiny.item_dim = 3;
  tiny.cat_dim = 2;
  tiny.mlp = {6, 4};
  tiny.attention = {5, 3};
  tiny.top_k = 2;
  tiny.soft_dim = 3;
  tiny.heads = 2;
  tiny.head_dim = 3;
  tiny.time_buckets = 6;
  tiny.time_dim = 2;
  e.tiny = pick(nlohmann::json(tiny), e.options);
  set_factories<SIM, CtrConfig>(e);
  return e;
}

template class SIM<float>;
template class SIM<double>;

}  // namespace tinyrec::models
