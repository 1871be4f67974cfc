// Tests for the MMoE paper's synthetic data: task cosine, feature moments, label formula,
// determinism and the fall of the label correlation with p.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "data/mmoe_synthetic.hpp"

using namespace tinyrec::data;

namespace {

double norm(const std::vector<double>& v) {
  double s = 0.0;
  for (double e : v) s += e * e;
  return std::sqrt(s);
}

double column_var(const xt::xarray<float>& y, size_t col) {
  const double mean = label_mean(y, col);
  double s = 0.0;
  for (size_t i = 0; i < y.shape()[0]; ++i) s += (y(i, col) - mean) * (y(i, col) - mean);
  return s / static_cast<double>(y.shape()[0]);
}

}  // namespace

TEST_CASE("mmoe synthetic: cosine(w1, w2) equals p and |w_k| equals c") {
  for (double p : {1.0, 0.9, 0.5, 0.0, -0.3}) {
    MmoeSyntheticConfig cfg;
    cfg.p = p;
    cfg.c = 0.3;
    cfg.train = 10;
    cfg.test = 2;
    MmoeSyntheticReport rep;
    make_mmoe_synthetic(cfg, &rep);
    CAPTURE(p);
    CHECK(std::abs(rep.cosine_w1_w2 - p) < 1e-9);
    CHECK(std::abs(norm(rep.w1) - 0.3) < 1e-12);
    CHECK(std::abs(norm(rep.w2) - 0.3) < 1e-12);
    REQUIRE(rep.w1.size() == 100);
  }
}

TEST_CASE("mmoe synthetic: shapes, task kinds and x ~ N(0, I)") {
  MmoeSyntheticConfig cfg;  // d = 100, 10000 train rows
  const MultiTaskDataset ds = make_mmoe_synthetic(cfg);
  REQUIRE(ds.train_x.shape() == std::vector<size_t>{10000, 100});
  REQUIRE(ds.test_x.shape() == std::vector<size_t>{2000, 100});
  REQUIRE(ds.train_y.shape() == std::vector<size_t>{10000, 2});
  REQUIRE(ds.train_cat.shape() == std::vector<size_t>{10000, 0});
  REQUIRE(ds.tasks.size() == 2);
  CHECK(ds.tasks[0].kind == TaskKind::regression);
  CHECK(ds.tasks[1].name == "task2");
  CHECK(ds.numeric_names.size() == 100);

  // A column mean of N standard normals has sd 1/sqrt(N) and a column variance sd ~ sqrt(2/N).
  // With 100 columns, 4.5 sd bounds every column with probability ~0.9993.
  const double n = 10000.0;
  double worst_mean = 0.0, worst_var = 0.0, grand = 0.0;
  for (size_t j = 0; j < 100; ++j) {
    double s = 0.0, ss = 0.0;
    for (size_t i = 0; i < 10000; ++i) {
      s += ds.train_x(i, j);
      ss += static_cast<double>(ds.train_x(i, j)) * ds.train_x(i, j);
    }
    const double mean = s / n, var = ss / n - mean * mean;
    worst_mean = std::max(worst_mean, std::abs(mean));
    worst_var = std::max(worst_var, std::abs(var - 1.0));
    grand += s;
  }
  CHECK(worst_mean < 4.5 / std::sqrt(n));
  CHECK(worst_var < 4.5 * std::sqrt(2.0 / n));
  CHECK(std::abs(grand / (n * 100)) < 4.0 / std::sqrt(n * 100));
  // ...and not degenerate: the worst column deviates by more than a tenth of its sd.
  CHECK(worst_mean > 0.1 / std::sqrt(n));
}

TEST_CASE("mmoe synthetic: labels follow y_k = w_k.x + sum sin(alpha_i w_k.x + beta_i)") {
  for (auto sines : {MmoeSyntheticConfig::gaussian, MmoeSyntheticConfig::index}) {
    MmoeSyntheticConfig cfg;
    cfg.d = 7;
    cfg.m = 3;
    cfg.c = 0.8;
    cfg.p = 0.6;
    cfg.noise_var = 0.0;
    cfg.train = 5;
    cfg.test = 3;
    cfg.sines = sines;
    MmoeSyntheticReport rep;
    const MultiTaskDataset ds = make_mmoe_synthetic(cfg, &rep);
    if (sines == MmoeSyntheticConfig::index) {
      CHECK(rep.alpha == std::vector<double>{1, 2, 3});
      CHECK(rep.beta == std::vector<double>{1, 4, 9});
    } else {
      CHECK(rep.alpha != std::vector<double>{1, 2, 3});
    }
    for (const auto* split : {&ds.train_x, &ds.test_x}) {
      const auto& x = *split;
      const auto& y = split == &ds.train_x ? ds.train_y : ds.test_y;
      for (size_t r = 0; r < x.shape()[0]; ++r) {
        for (size_t k = 0; k < 2; ++k) {
          const auto& w = k == 0 ? rep.w1 : rep.w2;
          double z = 0.0;
          for (size_t j = 0; j < 7; ++j) z += w[j] * x(r, j);
          double expect = z;
          for (size_t i = 0; i < 3; ++i) expect += std::sin(rep.alpha[i] * z + rep.beta[i]);
          CHECK(y(r, k) == doctest::Approx(expect).epsilon(1e-5));
        }
      }
    }
  }
}

TEST_CASE("mmoe synthetic: same seed same data, other seed other data") {
  MmoeSyntheticConfig cfg;
  cfg.d = 20;
  cfg.train = 300;
  cfg.test = 50;
  const MultiTaskDataset a = make_mmoe_synthetic(cfg), b = make_mmoe_synthetic(cfg);
  CHECK(a.train_x == b.train_x);
  CHECK(a.train_y == b.train_y);
  CHECK(a.test_x == b.test_x);
  CHECK(a.test_y == b.test_y);
  cfg.seed = 2;
  const MultiTaskDataset c = make_mmoe_synthetic(cfg);
  CHECK(c.train_x != a.train_x);
  CHECK(c.train_y != a.train_y);
}

TEST_CASE("mmoe synthetic: label correlation falls with p") {
  const double n = 10000.0;
  std::vector<double> corr;
  for (double p : {1.0, 0.9, 0.5, 0.0}) {
    MmoeSyntheticConfig cfg;
    cfg.p = p;
    cfg.test = 0;
    MmoeSyntheticReport rep;
    const MultiTaskDataset ds = make_mmoe_synthetic(cfg, &rep);
    CHECK(rep.label_correlation == doctest::Approx(label_correlation(ds.train_y, 0, 1)));
    corr.push_back(rep.label_correlation);
    if (p == 1.0) {
      // y1 - y2 = eps1 - eps2, so 1 - corr = noise_var / var(y) up to the sample covariance of the
      // two noises, whose sd is noise_var / sqrt(N); 5 sd of that is the tolerance.
      const double var_y = column_var(ds.train_y, 0);
      CHECK(std::abs((1.0 - corr.back()) - cfg.noise_var / var_y) <
            5.0 * cfg.noise_var / std::sqrt(n) / var_y);
    }
    if (p == 0.0) {
      // w1.x and w2.x are then independent, so are y1 and y2: the sample Pearson has sd 1/sqrt(N).
      CHECK(std::abs(corr.back()) < 4.0 / std::sqrt(n));
    }
  }
  CHECK(corr[0] > corr[1] + 0.02);
  CHECK(corr[1] > corr[2] + 0.1);
  CHECK(corr[2] > corr[3] + 0.1);
}

TEST_CASE("mmoe synthetic: bad settings are refused with the accepted range") {
  MmoeSyntheticConfig cfg;
  cfg.p = 1.5;
  CHECK_THROWS_WITH_AS(make_mmoe_synthetic(cfg), doctest::Contains("p must lie in [-1, 1]"),
                       std::invalid_argument);
  cfg = MmoeSyntheticConfig{};
  cfg.d = 1;
  CHECK_THROWS_AS(make_mmoe_synthetic(cfg), std::invalid_argument);
  CHECK(parse_sine_params("index") == MmoeSyntheticConfig::index);
  CHECK_THROWS_WITH_AS(parse_sine_params("uniform"), doctest::Contains("gaussian, index"),
                       std::invalid_argument);
}
