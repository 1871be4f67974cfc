// A seeded synthetic CTR data set for DIEN: users whose interest drifts along a ring of
// categories, so that what decides a click is where the behaviour sequence is heading, not what
// the history holds as a whole. The generative story is stated at the top of dien_synthetic.cpp.
#pragma once

#include <cstdint>

#include "data/ctr_dataset.hpp"

namespace tinyrec::data {

struct DienSyntheticConfig {
  int64_t users = 2000;
  int64_t items = 1000;  // item i belongs to category i mod cats, so items >= cats
  int64_t cats = 50;     // laid on a ring: category k sits between k-1 and k+1 (mod cats)
  int64_t hist_len_min = 5;
  int64_t hist_len_max = 40;
  int64_t samples_per_user = 10;
  int64_t gap_max =
      8;  // behaviours between a user's consecutive impressions: uniform in [1, gap_max]
  double test_fraction =
      0.2;  // share of USERS held out for test (their user id becomes unknown = 1)
  uint64_t seed = 1;
  // The interest walk: position x on the ring, velocity v (categories per behaviour) following
  // v' = drift_momentum * v + sqrt(1 - drift_momentum^2) * drift_speed * N(0, 1), x' = x + v'.
  double drift_speed = 0.5;      // the velocity's standard deviation (it is stationary)
  double drift_momentum = 0.9;   // how much of the velocity carries over to the next behaviour
  double interest_spread = 1.0;  // std of a behaviour's category around x, in categories
  double noise_rate = 0.1;       // share of behaviours whose category is uniform (stray clicks)
  double candidate_current_rate = 0.4;  // candidates drawn near the current interest
  double candidate_past_rate = 0.3;     // candidates of a category from the history's older half
  double click_slope = 1.5;   // click logit = click_slope * (click_radius - d), where d is the
  double click_radius = 2.0;  // ring distance from the candidate's category to the current x
};

// Throws std::invalid_argument naming the offending field when the config is inconsistent.
CtrDataset make_dien_synthetic(const DienSyntheticConfig& config);

}  // namespace tinyrec::data
