// Generator for the MMoE paper's synthetic data (see mmoe_synthetic.hpp for the recipe).
#include "data/mmoe_synthetic.hpp"

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace tinyrec::data {

MmoeSyntheticConfig::SineParams parse_sine_params(const std::string& text) {
  if (text == "gaussian") return MmoeSyntheticConfig::gaussian;
  if (text == "index") return MmoeSyntheticConfig::index;
  throw std::invalid_argument("unknown sine parameters '" + text +
                              "' (accepted values: gaussian, index)");
}

namespace {

void validate(const MmoeSyntheticConfig& cfg) {
  auto fail = [](const std::string& what) {
    throw std::invalid_argument("make_mmoe_synthetic: " + what);
  };
  if (cfg.d < 2)
    fail("d must be at least 2 (two orthogonal directions), got " + std::to_string(cfg.d));
  if (cfg.m < 0) fail("m must be >= 0, got " + std::to_string(cfg.m));
  if (!(cfg.p >= -1.0 && cfg.p <= 1.0)) fail("p must lie in [-1, 1], got " + std::to_string(cfg.p));
  if (!(cfg.c > 0.0)) fail("c must be > 0, got " + std::to_string(cfg.c));
  if (!(cfg.noise_var >= 0.0)) fail("noise_var must be >= 0, got " + std::to_string(cfg.noise_var));
  if (cfg.train < 0 || cfg.test < 0) fail("train and test sizes must be >= 0");
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

void normalise(std::vector<double>& v) {
  const double norm = std::sqrt(dot(v, v));
  for (double& e : v) e /= norm;
}

// Fills rows of x ([n, d]) and y ([n, 2]); the draw order per row is x then eps1, eps2.
void fill_split(int64_t n, const std::vector<double>& w1, const std::vector<double>& w2,
                const std::vector<double>& alpha, const std::vector<double>& beta, double noise_sd,
                std::mt19937_64& rng, std::normal_distribution<double>& normal,
                xt::xarray<float>& x, xt::xarray<float>& y) {
  const size_t d = w1.size();
  x.resize({static_cast<size_t>(n), d});
  y.resize({static_cast<size_t>(n), 2});
  float* xp = x.data();
  float* yp = y.data();
  std::vector<double> row(d);
  for (int64_t r = 0; r < n; ++r) {
    double z1 = 0.0, z2 = 0.0;  // w_k^T x
    for (size_t j = 0; j < d; ++j) {
      row[j] = normal(rng);
      z1 += w1[j] * row[j];
      z2 += w2[j] * row[j];
      xp[r * d + j] = static_cast<float>(row[j]);
    }
    double y1 = z1, y2 = z2;
    for (size_t i = 0; i < alpha.size(); ++i) {
      y1 += std::sin(alpha[i] * z1 + beta[i]);
      y2 += std::sin(alpha[i] * z2 + beta[i]);
    }
    y1 += noise_sd * normal(rng);
    y2 += noise_sd * normal(rng);
    yp[r * 2 + 0] = static_cast<float>(y1);
    yp[r * 2 + 1] = static_cast<float>(y2);
  }
}

}  // namespace

MultiTaskDataset make_mmoe_synthetic(const MmoeSyntheticConfig& cfg, MmoeSyntheticReport* report) {
  validate(cfg);
  std::mt19937_64 rng(cfg.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  const size_t d = static_cast<size_t>(cfg.d);

  std::vector<double> u1(d), u2(d);
  for (double& e : u1) e = normal(rng);
  for (double& e : u2) e = normal(rng);
  normalise(u1);
  const double proj = dot(u2, u1);
  for (size_t j = 0; j < d; ++j) u2[j] -= proj * u1[j];
  normalise(u2);

  std::vector<double> w1(d), w2(d);
  const double q = std::sqrt(1.0 - cfg.p * cfg.p);
  for (size_t j = 0; j < d; ++j) {
    w1[j] = cfg.c * u1[j];
    w2[j] = cfg.c * (cfg.p * u1[j] + q * u2[j]);
  }

  std::vector<double> alpha(cfg.m), beta(cfg.m);
  for (int i = 0; i < cfg.m; ++i) {
    if (cfg.sines == MmoeSyntheticConfig::gaussian) {
      alpha[i] = normal(rng);
      beta[i] = normal(rng);
    } else {
      alpha[i] = i + 1;
      beta[i] = static_cast<double>(i + 1) * (i + 1);
    }
  }

  MultiTaskDataset ds;
  ds.name = "mmoe_synthetic";
  ds.tasks = {{"task1", TaskKind::regression}, {"task2", TaskKind::regression}};
  for (size_t j = 0; j < d; ++j) ds.numeric_names.push_back("x" + std::to_string(j));
  const double noise_sd = std::sqrt(cfg.noise_var);
  fill_split(cfg.train, w1, w2, alpha, beta, noise_sd, rng, normal, ds.train_x, ds.train_y);
  fill_split(cfg.test, w1, w2, alpha, beta, noise_sd, rng, normal, ds.test_x, ds.test_y);
  ds.train_cat.resize({static_cast<size_t>(cfg.train), size_t{0}});
  ds.test_cat.resize({static_cast<size_t>(cfg.test), size_t{0}});

  if (report) {
    report->cosine_w1_w2 = dot(w1, w2) / std::sqrt(dot(w1, w1) * dot(w2, w2));
    report->label_correlation = label_correlation(ds.train_y, 0, 1);
    report->w1 = std::move(w1);
    report->w2 = std::move(w2);
    report->alpha = std::move(alpha);
    report->beta = std::move(beta);
  }
  return ds;
}

}  // namespace tinyrec::data
