// Synthetic impression -> click -> conversion data for ESMM (Ma et al., SIGIR 2018): two binary
// tasks over all impressions, "ctr" and "ctcvr", plus the true pCTR/pCVR to measure CVR everywhere.
#pragma once

#include <cstdint>

#include "data/multitask_dataset.hpp"

namespace tinyrec::data {

// The generative story, all drawn from one seed:
//
//   Users u have taste vectors p_u and items i profile vectors q_i, both N(0, I / sqrt(k)) so that
//   the affinity <p_u, q_i> has unit variance. Each item has a click appeal a_i ~ N(0, 1) (how
//   enticing its picture and title are), a conversion quality v_i = rho a_i + sqrt(1 - rho^2) xi_i
//   (rho = appeal_cvr_corr; negative rho = "clickbait": appealing items disappoint), a category c_i
//   (uniform), and a log-popularity pi_i ~ N(0, popularity_sd^2). Categories have separate click
//   and conversion effects e_c, g_c ~ N(0, 0.5^2); dense context weights w_ctr, w_cvr ~ N(0,
//   0.5^2).
//
//   An impression draws a user uniformly, an item with probability proportional to exp(pi_i), and
//   dense context features z ~ N(0, I). Then
//       pCTR = sigmoid(b_ctr + affinity <p_u, q_i> + a_i + e_c + w_ctr^T z)
//       pCVR = sigmoid(b_cvr + affinity <p_u, q_i> + v_i + g_c + w_cvr^T z)
//   with b_ctr, b_cvr set by bisection so that the mean pCTR and mean pCVR over all generated
//   impressions equal `ctr` and `cvr`. click ~ Bernoulli(pCTR); convert ~ Bernoulli(pCVR) is drawn
//   for every impression (what the user would do had they clicked); the observed conversion is
//   click AND convert, so a conversion always implies a click.
//
// The two functions are related (shared affinity, correlated item terms) but different. Clicked
// impressions over-represent high affinity and high appeal, so pCVR among clicks differs from pCVR
// over all impressions: a CVR model fitted to clicked rows alone meets sample selection bias when
// it is used on every impression, which is what ESMM's CTCVR = CTR x CVR decomposition avoids.
struct EsmmSyntheticConfig {
  int64_t users = 2000, items = 1000, categories = 20;
  int64_t dense = 4;       // dense context features
  int64_t latent_dim = 4;  // k, size of p_u and q_i
  int64_t train = 100000, test = 20000;
  double ctr = 0.05;  // mean pCTR over all impressions
  double cvr =
      0.10;  // mean pCVR over all impressions (conversion rate had every impression clicked)
  double affinity = 1.0;
  double appeal_cvr_corr = -0.3;  // rho
  double popularity_sd = 1.0;
  uint64_t seed = 1;
};

struct EsmmSyntheticReport {
  double ctr_bias = 0.0, cvr_bias = 0.0;  // calibrated b_ctr, b_cvr
  // On the train split:
  double click_rate = 0.0;         // share of impressions clicked
  double ctcvr_rate = 0.0;         // share of impressions clicked and converted
  double cvr_given_click = 0.0;    // observed conversions / clicks
  double mean_pcvr = 0.0;          // true pCVR averaged over all impressions
  double mean_pcvr_clicked = 0.0;  // true pCVR averaged over clicked impressions
};

struct EsmmSyntheticData {
  // Tasks "ctr" (click) and "ctcvr" (click and conversion), binary, over all impressions.
  // Categorical columns user_id, item_id, category_id (ids from 1; vocab sizes users + 1, ...);
  // numeric columns dense0..dense{n-1}.
  MultiTaskDataset data;
  xt::xarray<float> train_pctr, train_pcvr, test_pctr, test_pcvr;  // [N] true probabilities
  xt::xarray<float> train_convert, test_convert;  // [N] conversion had the impression been clicked
  EsmmSyntheticReport report;
};

// Throws std::invalid_argument for a rate outside (0, 1), |rho| > 1, a count below 1 (dense and
// split sizes may be 0) or a negative scale.
EsmmSyntheticData make_esmm_synthetic(const EsmmSyntheticConfig& cfg);

}  // namespace tinyrec::data
