// Seeded synthetic sessions, the next-item task's built-in data: a session pursues a few intents
// (topics of the catalogue) side by side and feels a strong pull from its last click — what
// STAMP's m_s / m_a and m_t are built to capture — with stray clicks mixed in.
//
// Items 1..items are dealt round-robin into `intents` topics; inside a topic a seeded Zipf law
// (weight 1/rank) decides popularity, and every item has `followers` items of its own topic,
// drawn by that popularity (its "accessories"). A session draws `threads` intents uniformly (one
// per thread) and its length uniformly in [len_min, len_max]; its first click is a popular item of
// thread 0's intent. Before each later click the visitor moves to another thread with probability
// `switch_prob`; the click is then
//   - with probability `noise`  a stray click: any item, uniformly;
//   - with probability `follow` a follower of the previous click (not right after a move);
//   - with probability `repeat` a return to one of the current thread's earlier clicks that did
//     not stray (a follower of a stray click strays too), uniformly — or, on a thread with none
//     yet, an intent draw;
//   - otherwise an item of the current thread's intent, by popularity.
// The last click says which thread the visitor is on; attention driven by it can pick out that
// thread's clicks, where the session mean blurs every thread and the stray clicks together.
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
