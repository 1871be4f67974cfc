// SIM's General Search Unit: hard search through the category index, soft search by projected
// inner products with its auxiliary CTR loss. See sim_search.hpp.
#include "models/sim_search.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "autograd/ops.hpp"

namespace tinyrec::models {

void Retrieved::resize(size_t B, size_t K) {
  size = B;
  k = K;
  items.resize({B, K});
  cats.resize({B, K});
  gaps.resize({B, K});
  mask.resize({B, K});
  positions.resize(B * K);
}

void Retrieved::set_row(size_t b, const data::Timeline& t, int64_t now, const uint32_t* pos,
                        size_t n, int64_t buckets) {
  int64_t* it = items.data() + b * k;
  int64_t* ct = cats.data() + b * k;
  int64_t* gp = gaps.data() + b * k;
  float* m = mask.data() + b * k;
  uint32_t* ps = positions.data() + b * k;
  for (size_t j = 0; j < n; ++j) {
    it[j] = t.items[pos[j]];
    ct[j] = t.cats[pos[j]];
    gp[j] = data::time_gap_bucket(now - t.times[pos[j]], buckets);
    m[j] = 1.0f;
    ps[j] = pos[j];
  }
  for (size_t j = n; j < k; ++j) it[j] = ct[j] = gp[j] = 0, m[j] = 0.0f, ps[j] = 0;
}

size_t retrieved_width(const std::vector<data::LongRow>& rows, size_t k) {
  size_t longest = 1;
  for (const auto& r : rows) longest = std::max(longest, r.end);
  return std::min(k, longest);
}

void hard_search(const data::LongHistories& h, const std::vector<data::LongRow>& rows,
                 const Ids& cats, size_t k, int64_t buckets, Retrieved& out) {
  if (cats.size() != rows.size())
    throw std::invalid_argument("hard_search: " + std::to_string(rows.size()) + " rows but " +
                                std::to_string(cats.size()) + " candidate categories");
  k = retrieved_width(rows, k);
  out.resize(rows.size(), k);
  std::vector<uint32_t> found(k);
  for (size_t b = 0; b < rows.size(); ++b) {
    const data::LongRow& r = rows[b];
    const size_t n = h.find_category(r.timeline, cats.data()[b], r.end, k, found.data());
    out.set_row(b, h[r.timeline], r.now, found.data(), n, buckets);
  }
}

template <class T>
size_t top_k_positions(const T* scores, size_t n, size_t k, std::vector<uint32_t>& order,
                       uint32_t* out) {
  order.resize(n);
  std::iota(order.begin(), order.end(), uint32_t{0});
  if (n > k) {
    // Partial selection: the k best land in front, in no particular order; O(n) on average.
    // A NaN score (weights gone bad) ranks last, so the order stays strict and weak.
    const auto key = [scores](uint32_t i) {
      return std::isnan(scores[i]) ? -std::numeric_limits<T>::infinity() : scores[i];
    };
    const auto better = [&key](uint32_t a, uint32_t b) {
      const T ka = key(a), kb = key(b);
      return ka > kb || (ka == kb && a > b);
    };
    std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                     better);
    std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
    n = k;
  }
  std::copy(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), out);
  return n;
}

template size_t top_k_positions(const float*, size_t, size_t, std::vector<uint32_t>&, uint32_t*);
template size_t top_k_positions(const double*, size_t, size_t, std::vector<uint32_t>&, uint32_t*);

namespace {
std::vector<size_t> with_logit(std::vector<size_t> sizes) {
  sizes.push_back(1);
  return sizes;
}
}  // namespace

template <class T>
SoftSearch<T>::SoftSearch(size_t dim, size_t proj, const std::vector<size_t>& mlp,
                          nn::Activation activation, std::mt19937_64& rng)
    : w_a_(dim, proj, rng, false),
      w_b_(dim, proj, rng, false),
      aux_(2 * dim, with_logit(mlp), rng, activation, 0.0, false, false) {
  this->register_module("w_a", w_a_);
  this->register_module("w_b", w_b_);
  this->register_module("aux", aux_);
}

template <class T>
Tensor<T> SoftSearch<T>::query(const Tensor<T>& e_a) {
  return matmul(w_a_.forward(e_a), w_b_.weight(), false, true);  // (e_a W_a) W_bᵀ, [B, D]
}

template <class T>
void SoftSearch<T>::scores(const GoodsEmbedding<T>& embed, const T* q, const data::Timeline& t,
                           size_t end, std::vector<T>& r) const {
  const Tensor<T>& items = embed.item_table();
  const Tensor<T>& cats = embed.cat_table();
  const size_t di = items.shape()[1], dc = cats.shape()[1];
  const T* qi = q;
  const T* qc = q + di;
  r.resize(end);
  for (size_t p = 0; p < end; ++p) {
    const T* ei = items.data() + static_cast<size_t>(t.items[p]) * di;
    const T* ec = cats.data() + static_cast<size_t>(t.cats[p]) * dc;
    T s = 0;
    for (size_t d = 0; d < di; ++d) s += ei[d] * qi[d];
    for (size_t d = 0; d < dc; ++d) s += ec[d] * qc[d];
    r[p] = s;
  }
}

template <class T>
void SoftSearch<T>::search(const GoodsEmbedding<T>& embed, const Tensor<T>& e_a,
                           const data::LongHistories& h, const std::vector<data::LongRow>& rows,
                           size_t k, int64_t buckets, Retrieved& out) {
  const size_t B = rows.size(), D = embed.dim();
  if (e_a.dim() != 2 || e_a.shape()[0] != B || e_a.shape()[1] != D)
    throw std::invalid_argument("SoftSearch: candidates " + shape_str(e_a.shape()) + " for " +
                                std::to_string(B) + " rows of dimension " + std::to_string(D));
  Tensor<T> q;
  {
    NoGradGuard no_grad;
    q = query(e_a);
  }
  k = retrieved_width(rows, k);
  out.resize(B, k);
  picked_.resize(k);
  for (size_t b = 0; b < B; ++b) {
    const data::LongRow& row = rows[b];
    const data::Timeline& t = h[row.timeline];
    scores(embed, q.data() + b * D, t, row.end, r_);
    const size_t n = top_k_positions(r_.data(), row.end, k, order_, picked_.data());
    out.set_row(b, t, row.now, picked_.data(), n, buckets);
  }
}

template <class T>
Tensor<T> SoftSearch<T>::auxiliary_loss(GoodsEmbedding<T>& embed, const Tensor<T>& e_a,
                                        const data::LongHistories& h,
                                        const std::vector<data::LongRow>& rows,
                                        const xt::xarray<float>& labels, size_t sample,
                                        std::mt19937_64& rng, Ids& ids_items, Ids& ids_cats) {
  const size_t B = rows.size();
  auto pooled = [&](const data::LongRow& r) {
    return sample > 0 ? std::min(sample, r.end) : r.end;
  };
  size_t L = 1;
  for (const auto& r : rows) L = std::max(L, pooled(r));
  ids_items = xt::zeros<int64_t>({B, L});
  ids_cats = xt::zeros<int64_t>({B, L});
  for (size_t b = 0; b < B; ++b) {
    const data::LongRow& r = rows[b];
    const data::Timeline& t = h[r.timeline];
    const size_t n = pooled(r);
    order_.resize(r.end);
    std::iota(order_.begin(), order_.end(), uint32_t{0});
    if (n < r.end) {  // a uniform sub-sequence of n behaviours: a partial Fisher-Yates shuffle
      for (size_t i = 0; i < n; ++i)
        std::swap(order_[i], order_[i + static_cast<size_t>(rng() % (r.end - i))]);
      std::sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    for (size_t j = 0; j < n; ++j) {
      ids_items.data()[b * L + j] = t.items[order_[j]];
      ids_cats.data()[b * L + j] = t.cats[order_[j]];
    }
  }
  const size_t D = embed.dim();
  Tensor<T> e = embed(ids_items, ids_cats);  // e_i, [B, L, D]
  Tensor<T> r = reshape(matmul(e, reshape(query(e_a), Shape{B, D, 1})), Shape{B, L});  // r_i
  Tensor<T> u_r = batched_weighted_sum(r, e);  // U_r = Σ_i r_i e_i (padding: e_i = 0)
  Tensor<T> logit = reshape(aux_.forward(concat<T>({e_a, u_r}, 1)), Shape{B});
  return bce_with_logits(logit, Tensor<T>(xt::xarray<T>(xt::cast<T>(labels))));
}

template class SoftSearch<float>;
template class SoftSearch<double>;

}  // namespace tinyrec::models
