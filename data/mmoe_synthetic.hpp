// The MMoE paper's synthetic two-task regression data with controllable task relatedness
// (Ma et al., KDD 2018, section 4), generated from one seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/multitask_dataset.hpp"

namespace tinyrec::data {

// The recipe (paper section 4):
//   1. u1, u2 orthogonal unit vectors in R^d (two Gaussian draws, Gram-Schmidt);
//   2. w1 = c u1,  w2 = c (p u1 + sqrt(1 - p^2) u2)   -> cosine(w1, w2) = p;
//   3. x ~ N(0, I_d);
//   4. y_k = w_k^T x + sum_{i=1..m} sin(alpha_i w_k^T x + beta_i) + eps_k,  eps_k ~ N(0,
//   noise_var).
// The paper fixes neither c, m nor alpha/beta. `gaussian` draws alpha_i, beta_i ~ N(0, 1) once from
// the seed (shared by both tasks). `index` uses alpha_i = i, beta_i = i^2 as one public generator
// does; its fast sines dominate the labels, no model fits them and the paper's picture
// (shared-bottom degrading as p falls, MMoE staying flat) does not appear, so it is not the
// default.
struct MmoeSyntheticConfig {
  enum SineParams { gaussian, index };
  int64_t d = 100;
  double c = 1.0;
  int m = 10;
  double p = 0.5;  // task correlation = cosine(w1, w2), in [-1, 1]
  int64_t train = 10000, test = 2000;
  double noise_var = 0.01;
  uint64_t seed = 1;
  SineParams sines = gaussian;
};

struct MmoeSyntheticReport {
  std::vector<double> w1, w2;       // [d] the two tasks' weight vectors
  std::vector<double> alpha, beta;  // [m] the sine frequencies and phases
  double cosine_w1_w2 = 0.0;
  double label_correlation = 0.0;  // Pearson between y1 and y2 on the train split
};

// Tasks "task1", "task2" (both regression); x is [N, d] with no categorical columns (cat is [N,
// 0]). Throws std::invalid_argument for d < 2, m < 0, |p| > 1, c <= 0, noise_var < 0 or a split <
// 0.
MultiTaskDataset make_mmoe_synthetic(const MmoeSyntheticConfig& cfg,
                                     MmoeSyntheticReport* report = nullptr);

// "gaussian" / "index"; the parser throws std::invalid_argument naming the accepted values.
MmoeSyntheticConfig::SineParams parse_sine_params(const std::string& text);

}  // namespace tinyrec::data
