// A seeded synthetic CTR data set for the Base model and DIN: users with several latent interests,
// behaviour histories drawn from them, clicks decided by the part of the history that matches the
// candidate. The generative story is stated at the top of din_synthetic.cpp.
#pragma once

#include <cstdint>

#include "data/ctr_dataset.hpp"

namespace tinyrec::data {

struct DinSyntheticConfig {
  int64_t users = 2000;
  int64_t items = 1000;  // item i belongs to category i mod cats, so items >= cats
  int64_t cats = 50;
  int64_t interests_per_user = 3;  // distinct categories per user, <= cats
  int64_t hist_len_min = 5;
  int64_t hist_len_max = 40;
  int64_t samples_per_user = 10;
  double test_fraction =
      0.2;  // share of USERS held out for test (their user id becomes unknown = 1)
  uint64_t seed = 1;
  double noise_rate = 0.2;  // share of behaviours drawn outside the user's interests
  double candidate_interest_rate =
      0.5;                      // share of candidates drawn from one of the user's interests
  double click_slope = 1.2;     // click logit = click_slope * (m - click_midpoint), where
  double click_midpoint = 2.0;  // m = behaviours in the history sharing the candidate's category
};

// Throws std::invalid_argument naming the offending field when the config is inconsistent.
CtrDataset make_din_synthetic(const DinSyntheticConfig& config);

}  // namespace tinyrec::data
