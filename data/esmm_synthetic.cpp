// Generator for ESMM's impression -> click -> conversion data (story in esmm_synthetic.hpp).
#include "data/esmm_synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace tinyrec::data {

namespace {

void validate(const EsmmSyntheticConfig& cfg) {
  auto fail = [](const std::string& what) {
    throw std::invalid_argument("make_esmm_synthetic: " + what);
  };
  if (cfg.users < 1 || cfg.items < 1 || cfg.categories < 1 || cfg.latent_dim < 1) {
    fail("users, items, categories and latent_dim must be at least 1");
  }
  if (cfg.dense < 0 || cfg.train < 0 || cfg.test < 0) fail("dense, train and test must be >= 0");
  if (!(cfg.ctr > 0.0 && cfg.ctr < 1.0))
    fail("ctr must lie in (0, 1), got " + std::to_string(cfg.ctr));
  if (!(cfg.cvr > 0.0 && cfg.cvr < 1.0))
    fail("cvr must lie in (0, 1), got " + std::to_string(cfg.cvr));
  if (!(cfg.appeal_cvr_corr >= -1.0 && cfg.appeal_cvr_corr <= 1.0)) {
    fail("appeal_cvr_corr must lie in [-1, 1], got " + std::to_string(cfg.appeal_cvr_corr));
  }
  if (!(cfg.affinity >= 0.0) || !(cfg.popularity_sd >= 0.0)) {
    fail("affinity and popularity_sd must be >= 0");
  }
}

double sigmoid(double s) {
  return 1.0 / (1.0 + std::exp(-s));
}

// The intercept b with mean(sigmoid(b + s)) = target; the mean rises with b, so bisection
// converges.
double calibrate(const std::vector<double>& scores, double target) {
  if (scores.empty()) return std::log(target / (1.0 - target));
  double lo = -60.0, hi = 60.0;
  for (int it = 0; it < 100 && hi - lo > 1e-13; ++it) {
    const double mid = 0.5 * (lo + hi);
    double sum = 0.0;
    for (double s : scores) sum += sigmoid(mid + s);
    (sum / static_cast<double>(scores.size()) < target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

EsmmSyntheticData make_esmm_synthetic(const EsmmSyntheticConfig& cfg) {
  validate(cfg);
  std::mt19937_64 rng(cfg.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  const size_t n_users = cfg.users, n_items = cfg.items, n_cat = cfg.categories;
  const size_t k = cfg.latent_dim, nd = cfg.dense;
  const size_t n_train = cfg.train, n = cfg.train + cfg.test;

  // World: latent vectors and item / category / context effects.
  const double latent_sd = 1.0 / std::sqrt(std::sqrt(static_cast<double>(k)));
  std::vector<double> p(n_users * k), q(n_items * k);
  for (double& e : p) e = latent_sd * normal(rng);
  for (double& e : q) e = latent_sd * normal(rng);
  const double rho = cfg.appeal_cvr_corr, rho_c = std::sqrt(1.0 - rho * rho);
  std::vector<double> appeal(n_items), quality(n_items), cum_pop(n_items);
  std::vector<int64_t> category(n_items);
  double total_pop = 0.0;
  for (size_t i = 0; i < n_items; ++i) {
    appeal[i] = normal(rng);
    quality[i] = rho * appeal[i] + rho_c * normal(rng);
    category[i] = static_cast<int64_t>(rng() % n_cat);
    total_pop += std::exp(cfg.popularity_sd * normal(rng));
    cum_pop[i] = total_pop;
  }
  std::vector<double> e_cat(n_cat), g_cat(n_cat), w_ctr(nd), w_cvr(nd);
  for (double& e : e_cat) e = 0.5 * normal(rng);
  for (double& e : g_cat) e = 0.5 * normal(rng);
  for (double& e : w_ctr) e = 0.5 * normal(rng);
  for (double& e : w_cvr) e = 0.5 * normal(rng);

  // Impressions: features and the two logits without their intercepts.
  std::vector<int64_t> user(n), item(n);
  std::vector<float> z(n * nd);
  std::vector<double> s_ctr(n), s_cvr(n);
  for (size_t r = 0; r < n; ++r) {
    const size_t u = static_cast<size_t>(rng() % n_users);
    const size_t i = static_cast<size_t>(
        std::upper_bound(cum_pop.begin(), cum_pop.end(), uniform01(rng) * total_pop) -
        cum_pop.begin());
    const size_t it = std::min(i, n_items - 1);  // the draw times total can round up to total
    user[r] = static_cast<int64_t>(u);
    item[r] = static_cast<int64_t>(it);
    double aff = 0.0;
    for (size_t j = 0; j < k; ++j) aff += p[u * k + j] * q[it * k + j];
    double ctx_ctr = 0.0, ctx_cvr = 0.0;
    for (size_t j = 0; j < nd; ++j) {
      const double zj = normal(rng);
      z[r * nd + j] = static_cast<float>(zj);
      ctx_ctr += w_ctr[j] * zj;
      ctx_cvr += w_cvr[j] * zj;
    }
    const size_t c = static_cast<size_t>(category[it]);
    s_ctr[r] = cfg.affinity * aff + appeal[it] + e_cat[c] + ctx_ctr;
    s_cvr[r] = cfg.affinity * aff + quality[it] + g_cat[c] + ctx_cvr;
  }

  EsmmSyntheticData out;
  EsmmSyntheticReport& rep = out.report;
  rep.ctr_bias = calibrate(s_ctr, cfg.ctr);
  rep.cvr_bias = calibrate(s_cvr, cfg.cvr);

  MultiTaskDataset& ds = out.data;
  ds.name = "esmm_synthetic";
  ds.tasks = {{"ctr", TaskKind::binary}, {"ctcvr", TaskKind::binary}};
  ds.categorical_names = {"user_id", "item_id", "category_id"};
  ds.cat_vocab_sizes = {cfg.users + 1, cfg.items + 1, cfg.categories + 1};
  for (size_t j = 0; j < nd; ++j) ds.numeric_names.push_back("dense" + std::to_string(j));

  auto fill = [&](size_t begin, size_t end, xt::xarray<float>& x, xt::xarray<int64_t>& cat,
                  xt::xarray<float>& y, xt::xarray<float>& pctr, xt::xarray<float>& pcvr,
                  xt::xarray<float>& convert) {
    const size_t m = end - begin;
    x.resize({m, nd});
    cat.resize({m, size_t{3}});
    y.resize({m, size_t{2}});
    pctr.resize({m});
    pcvr.resize({m});
    convert.resize({m});
    for (size_t a = 0; a < m; ++a) {
      const size_t r = begin + a;
      for (size_t j = 0; j < nd; ++j) x.data()[a * nd + j] = z[r * nd + j];
      cat.data()[a * 3 + 0] = user[r] + 1;
      cat.data()[a * 3 + 1] = item[r] + 1;
      cat.data()[a * 3 + 2] = category[static_cast<size_t>(item[r])] + 1;
      const double pc = sigmoid(rep.ctr_bias + s_ctr[r]);
      const double pv = sigmoid(rep.cvr_bias + s_cvr[r]);
      const bool click = uniform01(rng) < pc;
      const bool conv = uniform01(rng) < pv;
      pctr.data()[a] = static_cast<float>(pc);
      pcvr.data()[a] = static_cast<float>(pv);
      convert.data()[a] = conv ? 1.0f : 0.0f;
      y.data()[a * 2 + 0] = click ? 1.0f : 0.0f;
      y.data()[a * 2 + 1] = click && conv ? 1.0f : 0.0f;
    }
  };
  fill(0, n_train, ds.train_x, ds.train_cat, ds.train_y, out.train_pctr, out.train_pcvr,
       out.train_convert);
  fill(n_train, n, ds.test_x, ds.test_cat, ds.test_y, out.test_pctr, out.test_pcvr,
       out.test_convert);

  double clicks = 0.0, conversions = 0.0, pcvr_sum = 0.0, pcvr_clicked = 0.0;
  for (size_t r = 0; r < n_train; ++r) {
    const bool click = ds.train_y.data()[r * 2] > 0.5f;
    clicks += click;
    conversions += ds.train_y.data()[r * 2 + 1];
    pcvr_sum += out.train_pcvr.data()[r];
    if (click) pcvr_clicked += out.train_pcvr.data()[r];
  }
  if (n_train > 0) {
    rep.click_rate = clicks / static_cast<double>(n_train);
    rep.ctcvr_rate = conversions / static_cast<double>(n_train);
    rep.mean_pcvr = pcvr_sum / static_cast<double>(n_train);
  }
  if (clicks > 0) {
    rep.cvr_given_click = conversions / clicks;
    rep.mean_pcvr_clicked = pcvr_clicked / clicks;
  }
  return out;
}

}  // namespace tinyrec::data
