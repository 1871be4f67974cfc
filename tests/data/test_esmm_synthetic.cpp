// Tests for ESMM's synthetic impression -> click -> conversion data: label logic, calibrated rates,
// the selection effect the data is built to show, feature ids, and determinism.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "data/esmm_synthetic.hpp"

using namespace tinyrec::data;

namespace {

EsmmSyntheticConfig small_config() {
  EsmmSyntheticConfig cfg;
  cfg.users = 300;
  cfg.items = 200;
  cfg.categories = 8;
  cfg.train = 30000;
  cfg.test = 5000;
  return cfg;
}

double mean(const xt::xarray<float>& a) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a.data()[i];
  return s / static_cast<double>(a.size());
}

}  // namespace

TEST_CASE("esmm synthetic: a conversion implies a click, and ctcvr = click AND convert") {
  const EsmmSyntheticData d = make_esmm_synthetic(small_config());
  const MultiTaskDataset& ds = d.data;
  REQUIRE(ds.tasks.size() == 2);
  CHECK(ds.tasks[0].name == "ctr");
  CHECK(ds.tasks[1].name == "ctcvr");
  CHECK(ds.tasks[1].kind == TaskKind::binary);
  size_t conversions = 0, clicked_non_converters = 0, bad_click = 0, bad_ctcvr = 0;
  for (const auto* split : {&ds.train_y, &ds.test_y}) {
    const auto& y = *split;
    const auto& convert = split == &ds.train_y ? d.train_convert : d.test_convert;
    REQUIRE(convert.size() == y.shape()[0]);
    for (size_t r = 0; r < y.shape()[0]; ++r) {
      const float click = y(r, 0), ctcvr = y(r, 1);
      bad_click += !(click == 0.0f || click == 1.0f);
      bad_ctcvr += ctcvr > click || ctcvr != click * convert(r);
      conversions += ctcvr == 1.0f;
      clicked_non_converters += click == 1.0f && ctcvr == 0.0f;
    }
  }
  CHECK(bad_click == 0);
  CHECK(bad_ctcvr == 0);
  CHECK(conversions > 0);
  CHECK(clicked_non_converters > 0);
}

TEST_CASE("esmm synthetic: rates match the calibrated targets within binomial tolerance") {
  const EsmmSyntheticConfig cfg = small_config();
  const EsmmSyntheticData d = make_esmm_synthetic(cfg);
  const EsmmSyntheticReport& rep = d.report;
  // The intercepts make the mean true probabilities over all 35000 impressions hit the targets.
  const double n_all = 35000.0;
  const double mean_pctr = (mean(d.train_pctr) * 30000 + mean(d.test_pctr) * 5000) / n_all;
  const double mean_pcvr = (mean(d.train_pcvr) * 30000 + mean(d.test_pcvr) * 5000) / n_all;
  CHECK(mean_pctr == doctest::Approx(cfg.ctr).epsilon(1e-5));
  CHECK(mean_pcvr == doctest::Approx(cfg.cvr).epsilon(1e-5));

  // Observed rates on train against the true probabilities of the same rows: a sum of N
  // independent Bernoullis has sd <= sqrt(sum p(1 - p)) <= sqrt(N * mean p); 4 sd tolerance.
  const double n = 30000.0;
  double sum_pctr = 0.0, sum_pctcvr = 0.0;
  for (size_t r = 0; r < 30000; ++r) {
    sum_pctr += d.train_pctr(r);
    sum_pctcvr += d.train_pctr(r) * d.train_pcvr(r);
  }
  CHECK(std::abs(rep.click_rate * n - sum_pctr) < 4.0 * std::sqrt(sum_pctr));
  CHECK(std::abs(rep.ctcvr_rate * n - sum_pctcvr) < 4.0 * std::sqrt(sum_pctcvr));
  CHECK(rep.click_rate == doctest::Approx(label_mean(d.data.train_y, 0)));
  CHECK(rep.ctcvr_rate == doctest::Approx(label_mean(d.data.train_y, 1)));
  // Every impression's counterfactual conversion follows pCVR.
  const double sum_pcvr = mean(d.train_pcvr) * n;
  CHECK(std::abs(mean(d.train_convert) * n - sum_pcvr) < 4.0 * std::sqrt(sum_pcvr));
  CHECK(rep.mean_pcvr == doctest::Approx(mean(d.train_pcvr)));

  // Selection: clicks favour impressions with high pCVR (shared affinity outweighs rho = -0.3), so
  // the click-weighted mean pCVR, sum pCTR pCVR / sum pCTR, exceeds the plain mean by a clear
  // margin.
  const double pcvr_among_clicks = sum_pctcvr / sum_pctr;
  CHECK(pcvr_among_clicks > rep.mean_pcvr + 0.03);
  // ...and what is observed on clicked rows agrees with it: the conversions among the clicks have
  // sd about sqrt(sum pCTR pCVR) and the click count sd about sqrt(sum pCTR).
  CHECK(std::abs(rep.cvr_given_click - pcvr_among_clicks) <
        4.0 * std::sqrt(sum_pctcvr) / (rep.click_rate * n) + 4.0 * std::sqrt(sum_pctr) / n);
  CHECK(rep.mean_pcvr_clicked > rep.mean_pcvr + 0.03);
}

TEST_CASE(
    "esmm synthetic: with rho = 1 and no shared affinity the selection still follows appeal") {
  // Without affinity and with quality = appeal, pCTR and pCVR rise together through a_i only.
  EsmmSyntheticConfig cfg = small_config();
  cfg.affinity = 0.0;
  cfg.appeal_cvr_corr = 1.0;
  const EsmmSyntheticData same = make_esmm_synthetic(cfg);
  cfg.appeal_cvr_corr = -1.0;
  const EsmmSyntheticData opposite = make_esmm_synthetic(cfg);
  CHECK(same.report.mean_pcvr_clicked > same.report.mean_pcvr);
  CHECK(opposite.report.mean_pcvr_clicked < opposite.report.mean_pcvr);
}

TEST_CASE("esmm synthetic: feature ids, vocabularies and dense features") {
  const EsmmSyntheticConfig cfg = small_config();
  const EsmmSyntheticData d = make_esmm_synthetic(cfg);
  const MultiTaskDataset& ds = d.data;
  CHECK(ds.categorical_names == std::vector<std::string>{"user_id", "item_id", "category_id"});
  CHECK(ds.cat_vocab_sizes == std::vector<int64_t>{301, 201, 9});
  REQUIRE(ds.train_cat.shape() == std::vector<size_t>{30000, 3});
  REQUIRE(ds.train_x.shape() == std::vector<size_t>{30000, 4});
  CHECK(ds.test_x.shape() == std::vector<size_t>{5000, 4});
  std::map<int64_t, int64_t> category_of;
  std::vector<int64_t> lowest(3, 1 << 30), highest(3, -1);
  bool consistent = true;
  for (size_t r = 0; r < 30000; ++r) {
    for (size_t c = 0; c < 3; ++c) {
      lowest[c] = std::min(lowest[c], ds.train_cat(r, c));
      highest[c] = std::max(highest[c], ds.train_cat(r, c));
    }
    auto [it, fresh] = category_of.emplace(ds.train_cat(r, 1), ds.train_cat(r, 2));
    if (!fresh && it->second != ds.train_cat(r, 2)) consistent = false;
  }
  // 30000 impressions over 300 users and 8 categories reach every id (items are skewed by
  // popularity, so only their range is checked).
  CHECK(lowest == std::vector<int64_t>{1, 1, 1});
  CHECK(highest[0] == 300);
  CHECK(highest[1] <= 200);
  CHECK(highest[2] == 8);
  CHECK(category_of.size() > 100);
  CHECK(consistent);  // an item keeps its category
  // Dense features are N(0, 1): 4.5 sd of a column mean of N draws is 4.5 / sqrt(N).
  for (size_t j = 0; j < 4; ++j) {
    double s = 0.0, ss = 0.0;
    for (size_t r = 0; r < 30000; ++r)
      s += ds.train_x(r, j), ss += ds.train_x(r, j) * ds.train_x(r, j);
    CHECK(std::abs(s / 30000) < 4.5 / std::sqrt(30000.0));
    CHECK(std::abs(ss / 30000 - 1.0) < 4.5 * std::sqrt(2.0 / 30000));
  }
}

TEST_CASE("esmm synthetic: same seed same data; other seed other data; bad settings refused") {
  EsmmSyntheticConfig cfg = small_config();
  cfg.train = 2000;
  cfg.test = 500;
  const EsmmSyntheticData a = make_esmm_synthetic(cfg), b = make_esmm_synthetic(cfg);
  CHECK(a.data.train_cat == b.data.train_cat);
  CHECK(a.data.train_x == b.data.train_x);
  CHECK(a.data.train_y == b.data.train_y);
  CHECK(a.data.test_y == b.data.test_y);
  CHECK(a.test_pcvr == b.test_pcvr);
  CHECK(a.test_convert == b.test_convert);
  cfg.seed = 9;
  const EsmmSyntheticData c = make_esmm_synthetic(cfg);
  CHECK(c.data.train_cat != a.data.train_cat);
  CHECK(c.train_pctr != a.train_pctr);

  cfg = small_config();
  cfg.ctr = 1.0;
  CHECK_THROWS_WITH_AS(make_esmm_synthetic(cfg), doctest::Contains("ctr must lie in (0, 1)"),
                       std::invalid_argument);
  cfg = small_config();
  cfg.appeal_cvr_corr = -2.0;
  CHECK_THROWS_AS(make_esmm_synthetic(cfg), std::invalid_argument);
  cfg = small_config();
  cfg.items = 0;
  CHECK_THROWS_AS(make_esmm_synthetic(cfg), std::invalid_argument);
}
