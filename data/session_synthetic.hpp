// Seeded synthetic sessions, the next-item task's built-in data: every session has a general
// intent (one of `intents` topics) and a strong pull from its last click, the two things STAMP's
// m_s / m_a and m_t are built to capture, plus stray clicks that a plain mean of the session
// cannot tell from the clicks the user comes back to.
//
// Items 1..items are dealt round-robin into topics; inside a topic a seeded Zipf law (weight
// 1/rank) decides popularity, and every item has `followers` items of its own topic, drawn by that
// popularity (its "accessories"). A session draws its intent z uniformly and its length uniformly
// in [len_min, len_max]; its first click is a popular item of z, and each later click is
//   - with probability `noise`  a stray click: any item, uniformly;
//   - with probability `follow` a follower of the previous click, uniformly among them;
//   - with probability `repeat` a return to one of the session's earlier wanted clicks, uniformly
//     (a wanted click is any click since the last return or intent draw that did not stray: the
//     followers of a stray click stray too);
//   - otherwise another item of z, by popularity.
// Sessions are made in order; the last test_fraction of them are the test split (the "last days").
#pragma once

#include <cstdint>

#include "data/session_dataset.hpp"

namespace tinyrec::data {

struct SessionSyntheticConfig {
  int64_t sessions = 12000;
  int64_t items = 300;
  int64_t intents = 10;
  int64_t followers = 3;
  int64_t len_min = 6, len_max = 20;
  double follow = 0.1;
  double noise = 0.2;
  double repeat = 0.6;
  int64_t threads = 3;
  double switch_prob = 0.3;
  double test_fraction = 0.1;
  bool last_only = false;  // one case per session (its last click) instead of every prefix
  uint64_t seed = 1;
};

// Throws std::invalid_argument naming the setting that is out of range.
SessionDataset make_session_synthetic(const SessionSyntheticConfig& config);

}  // namespace tinyrec::data
