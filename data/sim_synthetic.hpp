// A seeded synthetic CTR data set for SIM: users with very long behaviour histories (1,000 to
// 10,000 behaviours, with timestamps) whose clicks depend on interests that the last few dozen
// behaviours often do not show. The generative story is stated at the top of sim_synthetic.cpp.
#pragma once

#include <cstdint>

#include "data/ctr_dataset.hpp"

namespace tinyrec::data {

struct SimSyntheticConfig {
  int64_t users = 1000;
  int64_t items = 1000;  // item i belongs to category i mod cats, so items >= cats
  int64_t cats = 100;
  int64_t interests = 8;         // current interests per user (distinct categories), < cats
  int64_t hist_len_min = 1000;   // behaviours before a user's first impression: uniform in
  int64_t hist_len_max = 10000;  // [hist_len_min, hist_len_max]
  int64_t samples_per_user = 40;
  int64_t gap_max = 20;        // behaviours between a user's impressions: uniform in [1, gap_max]
  double test_fraction = 0.2;  // share of USERS held out for test
  uint64_t seed = 1;
  double session_mean = 15;      // behaviours per session (geometric)
  double churn = 0.02;           // per session: chance that one interest is dropped for a new one
  double within_session_s = 60;  // mean seconds between behaviours of a session (exponential)
  double between_sessions_s = 28800;     // mean seconds between sessions (exponential; 8 hours)
  double candidate_current_rate = 0.45;  // candidates of a current interest
  double candidate_dropped_rate = 0.2;   // candidates of an interest the user dropped
  double click_current = 0.8;            // click probability of a candidate of a current interest
  double click_other = 0.08;             // of any other candidate
  size_t window = 50;                    // recent behaviours stored in each sample's own history
};

// Throws std::invalid_argument naming the offending field when the config is inconsistent.
CtrDataset make_sim_synthetic(const SimSyntheticConfig& config);

}  // namespace tinyrec::data
