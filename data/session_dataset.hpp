// Sessions for next-item prediction (STAMP and the session-based recommenders after GRU4Rec): the
// clicks of anonymous visits as item ids, the prefix cases that train and test a model, the one
// preprocessing protocol the papers share, and batching.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

namespace tinyrec::data {

using Session = std::vector<int64_t>;  // item ids, oldest click first; ids >= 1 (0 pads)

// "Every session prefix predicts its next item": the clicks session[0, end) predict session[end].
struct SessionCase {
  uint32_t session = 0;
  uint32_t end = 0;
};

struct SessionDataset {
  std::string name;
  int64_t n_items = 1;                  // item ids 1..n_items-1; 0 is padding
  std::vector<std::string> item_names;  // the data's own token of each id ([0] = "<pad>")
  std::vector<Session> train_sessions, test_sessions;
  std::vector<SessionCase> train, test;
  std::vector<int64_t> item_counts;  // clicks of each id in the training sessions
};

// The cases of `sessions`: every prefix (end = 1 .. length−1), or with last_only only the whole
// session but its last click (end = length−1).
std::vector<SessionCase> session_cases(const std::vector<Session>& sessions,
                                       bool last_only = false);
// Fills the cases and item_counts of `d` from its sessions. Throws std::invalid_argument naming
// the split and session of an id outside 1..n_items−1 or a session shorter than 2.
void finish_session_dataset(SessionDataset& d, bool last_only = false);

// One click of a raw log: its time in seconds (any origin) and the data's item token. `line` is
// the line of the file it came from (for messages).
struct RawClick {
  double time = 0;
  std::string item;
};
struct RawSession {
  std::string key;
  std::vector<RawClick> clicks;  // in file order
};

// The preprocessing of the STAMP paper (after GRU4Rec and NARM), in this order:
//  1. each session's clicks sorted by time (stable: equal times keep file order) — DIGINETICA's
//     published numbers changed when this step was found missing from a popular script;
//  2. sessions of length 1 dropped; items clicked fewer than min_item_count times (over the
//     remaining sessions) dropped; sessions left shorter than 2 dropped;
//  3. test split by time: the sessions whose last click lies within the final test_days of the
//     data (or, when test_fraction > 0, the most recent test_fraction of sessions by last click);
//  4. train_fraction < 1 keeps only the most recent share of the training sessions (by last click):
//     YOOCHOOSE 1/64 and 1/4;
//  5. item ids 1, 2, ... in order of first appearance along the training sessions sorted by time;
//     test clicks on items absent from training dropped, and test sessions left shorter than 2
//     dropped;
//  6. every prefix a case.
struct SessionProtocol {
  size_t min_item_count = 5;
  double test_days = 1;
  double test_fraction = 0;  // > 0: split by share of sessions instead of days
  double train_fraction = 1;
};
SessionDataset preprocess_sessions(const std::string& name, std::vector<RawSession> raw,
                                   const SessionProtocol& protocol);

// A batch of cases: the most recent max_len clicks of each prefix, right-aligned so that x_t, the
// last click, is always column L−1 (positions before a short prefix hold 0).
struct SessionBatch {
  size_t size = 0, len = 0;
  xt::xarray<int64_t> items;    // [B, L]
  std::vector<size_t> lengths;  // clicks of each row, 1..L
  xt::xarray<int64_t> targets;  // [B], item ids
};
void fill_session_batch(const std::vector<Session>& sessions, const std::vector<SessionCase>& cases,
                        const std::vector<size_t>& rows, size_t max_len, SessionBatch& out);

}  // namespace tinyrec::data
