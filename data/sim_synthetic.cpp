// The seeded synthetic data set for SIM: long lives of behaviour, interests that come and go.
//
// Generative story (all draws from one std::mt19937_64 seeded with `seed`, in the order written;
// Exp(m) is an exponential draw of mean m, −m·log(1 − u)):
//
//   Catalogue. Item i (i = 0 .. items-1) has id i+2 and belongs to category i mod cats, whose id is
//   (i mod cats)+2.
//
//   For each user u = 0 .. users-1:
//     1. The clock starts at a time uniform in [0, 10^7) seconds. The user holds `interests`
//        current interests: distinct categories drawn uniformly.
//     2. Behaviours come in sessions. A session opens after Exp(between_sessions_s) seconds on one
//        current interest chosen uniformly; each further behaviour of it follows after
//        Exp(within_session_s) seconds, and after each behaviour the session goes on with
//        probability 1 − 1/session_mean. Every behaviour is an item uniform in the session's
//        category. When a session closes, with probability churn one current interest, chosen
//        uniformly, is dropped (it joins the user's dropped interests) and a category uniform among
//        those not current takes its place (leaving the dropped ones if it was there).
//     3. The life starts with n behaviours, n uniform in [hist_len_min, hist_len_max]. Then for
//     each
//        of the user's samples_per_user impressions:
//        a. For every impression but the first, g more behaviours, g uniform in [1, gap_max].
//        b. The impression is shown Exp(within_session_s) seconds after the last behaviour; its
//           history is the whole life so far (the sample points into the user's timeline) and
//           the sample keeps its last `window` behaviours as its own short history.
//        c. Candidate: with probability candidate_current_rate a current interest (uniform); with
//           probability candidate_dropped_rate a dropped interest (uniform; a uniform category if
//           none was dropped yet); otherwise a category uniform over all cats. The item is uniform
//           in the category.
//        d. Clicked with probability click_current if the candidate's category is a current
//           interest, click_other otherwise.
//
//   Split by user, as the other generators (data::split_users): test users are unseen in training.
//   Every user's whole life is one timeline of data::LongHistories (ids a training user never saw
//   become the unknown id 1 in the test users' timelines); item and category counts include the
//   training users' timelines.
//
// Why this is the situation SIM was built for: a user holds 8 interests and a session of about 15
// behaviours visits one, so the last 50 behaviours (about three sessions) show about three of them.
// A model that sees the last 50 tells a current interest that happens to be in the window from
// everything else, and nothing more: about half the clicks fall on categories the window lacks. The
// whole history holds every current interest — and every dropped one too, which is clicked no more
// often than a stranger. What tells them apart is WHEN the category was last visited: days ago for
// a current interest, months ago for a dropped one. Search by category finds the behaviours; the
// time-gap embedding tells how long ago they were.
//
// With the defaults about 43% of impressions are clicks. On the test split, ranking by how often
// the candidate's category occurs in the last 50 behaviours scores an AUC of 0.66; by how many
// seconds ago it was last visited anywhere in the history, 0.86 (tests/data/test_long_history.cpp
// measures both on a smaller copy).
#include "data/sim_synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace tinyrec::data {

namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("sim_synthetic: " + what);
}

void validate(const SimSyntheticConfig& c) {
  require(c.users >= 2, "users must be at least 2, got " + std::to_string(c.users));
  require(c.cats >= 2, "cats must be at least 2, got " + std::to_string(c.cats));
  require(c.items >= c.cats, "items (" + std::to_string(c.items) + ") must be at least cats (" +
                                 std::to_string(c.cats) + ")");
  require(c.interests >= 1 && c.interests < c.cats,
          "interests must be in [1, cats), got " + std::to_string(c.interests));
  require(c.hist_len_min >= 1 && c.hist_len_min <= c.hist_len_max,
          "need 1 <= hist_len_min <= hist_len_max, got " + std::to_string(c.hist_len_min) +
              " and " + std::to_string(c.hist_len_max));
  require(c.samples_per_user >= 1,
          "samples_per_user must be at least 1, got " + std::to_string(c.samples_per_user));
  require(c.gap_max >= 1, "gap_max must be at least 1, got " + std::to_string(c.gap_max));
  require(c.test_fraction >= 0.0 && c.test_fraction < 1.0,
          "test_fraction must be in [0, 1), got " + std::to_string(c.test_fraction));
  require(std::llround(c.test_fraction * static_cast<double>(c.users)) < c.users,
          "test_fraction " + std::to_string(c.test_fraction) + " of " + std::to_string(c.users) +
              " users leaves no training user");
  require(c.session_mean >= 1.0, "session_mean must be at least 1");
  require(c.churn >= 0.0 && c.churn <= 1.0, "churn must be in [0, 1]");
  require(c.within_session_s >= 0.0 && c.between_sessions_s >= 0.0,
          "within_session_s and between_sessions_s must be >= 0");
  require(c.candidate_current_rate >= 0.0 && c.candidate_dropped_rate >= 0.0 &&
              c.candidate_current_rate + c.candidate_dropped_rate <= 1.0,
          "candidate_current_rate and candidate_dropped_rate must be >= 0 with a sum <= 1");
  require(c.click_current >= 0.0 && c.click_current <= 1.0 && c.click_other >= 0.0 &&
              c.click_other <= 1.0,
          "click_current and click_other must be probabilities");
  require(c.window >= 1, "window must be at least 1");
}

}  // namespace

CtrDataset make_sim_synthetic(const SimSyntheticConfig& c) {
  validate(c);
  std::mt19937_64 rng(c.seed);
  auto exponential = [&](double mean) { return -mean * std::log(1.0 - uniform01(rng)); };
  auto item_in = [&](int64_t cat) {  // 0-based category -> item id
    const int64_t per_cat = (c.items - cat + c.cats - 1) / c.cats;
    return cat + c.cats * uniform_below(rng, per_cat) + kFirstRealId;
  };

  std::vector<std::vector<CtrSample>> users(static_cast<size_t>(c.users));
  std::vector<Timeline> lives(users.size());
  std::vector<char> is_current(static_cast<size_t>(c.cats));
  for (size_t u = 0; u < users.size(); ++u) {
    Timeline& life = lives[u];
    double clock = 1e7 * uniform01(rng);
    // 1. Current interests.
    std::fill(is_current.begin(), is_current.end(), 0);
    std::vector<int64_t> current, dropped;
    while (static_cast<int64_t>(current.size()) < c.interests) {
      const int64_t k = uniform_below(rng, c.cats);
      if (!is_current[static_cast<size_t>(k)])
        is_current[static_cast<size_t>(k)] = 1, current.push_back(k);
    }
    // 2. One behaviour: opens a session when none is going on (closing the last one first).
    int64_t session_cat = -1;
    auto behave = [&] {
      if (session_cat >= 0 && uniform01(rng) < 1.0 / c.session_mean) {
        session_cat = -1;  // the session closes; an interest may be dropped
        if (uniform01(rng) < c.churn) {
          const auto j = static_cast<size_t>(uniform_below(rng, c.interests));
          int64_t fresh;
          do fresh = uniform_below(rng, c.cats);
          while (is_current[static_cast<size_t>(fresh)]);
          is_current[static_cast<size_t>(current[j])] = 0;
          dropped.push_back(current[j]);
          dropped.erase(std::remove(dropped.begin(), dropped.end(), fresh), dropped.end());
          is_current[static_cast<size_t>(fresh)] = 1;
          current[j] = fresh;
        }
      }
      if (session_cat < 0) {
        session_cat = current[static_cast<size_t>(uniform_below(rng, c.interests))];
        clock += exponential(c.between_sessions_s);
      } else {
        clock += exponential(c.within_session_s);
      }
      life.items.push_back(item_in(session_cat));
      life.cats.push_back(session_cat + kFirstRealId);
      life.times.push_back(static_cast<int64_t>(clock));
    };
    // 3. The life, with impressions.
    const int64_t n = c.hist_len_min + uniform_below(rng, c.hist_len_max - c.hist_len_min + 1);
    for (int64_t t = 0; t < n; ++t) behave();
    users[u].resize(static_cast<size_t>(c.samples_per_user));
    for (size_t k = 0; k < users[u].size(); ++k) {
      CtrSample& s = users[u][k];
      if (k > 0)
        for (int64_t g = 1 + uniform_below(rng, c.gap_max); g > 0; --g) behave();
      const size_t end = life.items.size();
      s.timeline = static_cast<int64_t>(u);
      s.timeline_end = end;
      s.time = static_cast<int64_t>(clock + exponential(c.within_session_s));
      const size_t from = end - std::min(end, c.window);
      s.hist_items.assign(life.items.begin() + static_cast<std::ptrdiff_t>(from), life.items.end());
      s.hist_cats.assign(life.cats.begin() + static_cast<std::ptrdiff_t>(from), life.cats.end());
      const double r = uniform01(rng);
      int64_t cat;
      if (r < c.candidate_current_rate)
        cat = current[static_cast<size_t>(uniform_below(rng, c.interests))];
      else if (r < c.candidate_current_rate + c.candidate_dropped_rate && !dropped.empty())
        cat = dropped[static_cast<size_t>(uniform_below(rng, int64_t(dropped.size())))];
      else
        cat = uniform_below(rng, c.cats);
      s.item = item_in(cat);
      s.cat = cat + kFirstRealId;
      const double p = is_current[static_cast<size_t>(cat)] ? c.click_current : c.click_other;
      s.label = uniform01(rng) < p ? 1.0f : 0.0f;
    }
  }

  CtrDataset ds = split_users(std::move(users), c.test_fraction, rng, "sim_synthetic",
                              c.items + kFirstRealId, c.cats + kFirstRealId);
  // Train users' timelines count; in test users' ones, ids no training user saw become unknown.
  std::vector<char> train_life(lives.size(), 0);
  for (const CtrSample& s : ds.train) train_life[static_cast<size_t>(s.timeline)] = 1;
  for (size_t u = 0; u < lives.size(); ++u)
    if (train_life[u]) {
      for (int64_t id : lives[u].items) ++ds.item_counts[static_cast<size_t>(id)];
      for (int64_t id : lives[u].cats) ++ds.cat_counts[static_cast<size_t>(id)];
    }
  auto histories = std::make_shared<LongHistories>();
  for (size_t u = 0; u < lives.size(); ++u) {
    if (!train_life[u]) {
      for (int64_t& id : lives[u].items)
        if (ds.item_counts[static_cast<size_t>(id)] == 0) id = kUnknownId;
      for (int64_t& id : lives[u].cats)
        if (ds.cat_counts[static_cast<size_t>(id)] == 0) id = kUnknownId;
    }
    histories->add(std::move(lives[u]));
  }
  ds.histories = std::move(histories);
  return ds;
}

}  // namespace tinyrec::data
