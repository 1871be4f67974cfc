// The seeded session generator; see session_synthetic.hpp for the process.
#include "data/session_synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "data/batching.hpp"

namespace tinyrec::data {

namespace {

// A draw from cumulative weights `cum` (ending at the total).
size_t draw(const std::vector<double>& cum, std::mt19937_64& rng) {
  const double u = uniform01(rng) * cum.back();
  return size_t(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
}

}  // namespace

SessionDataset make_session_synthetic(const SessionSyntheticConfig& c) {
  auto need = [](bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("synthetic sessions: ") + what);
  };
  need(c.items >= 2 && c.intents >= 1 && c.items >= 2 * c.intents,
       "need items >= 2 and at least 2 items per intent");
  need(c.followers >= 1, "--followers must be at least 1");
  need(c.threads >= 1 && c.switch_prob >= 0 && c.switch_prob <= 1,
       "need --threads >= 1 and --switch in [0, 1]");
  need(c.len_min >= 2 && c.len_max >= c.len_min, "need 2 <= len-min <= len-max");
  need(c.follow >= 0 && c.noise >= 0 && c.repeat >= 0 && c.follow + c.noise + c.repeat <= 1,
       "--follow, --noise and --repeat must be probabilities summing to at most 1");
  need(c.sessions >= 2 && c.test_fraction > 0 && c.test_fraction < 1,
       "need 2 or more sessions and a test fraction in (0, 1)");
  std::mt19937_64 rng(c.seed);
  const auto topics = size_t(c.intents);
  std::vector<std::vector<int64_t>> members(topics);
  for (int64_t i = 1; i <= c.items; ++i) members[size_t(i - 1) % topics].push_back(i);
  std::vector<std::vector<double>> cum(topics);
  for (size_t z = 0; z < topics; ++z) {
    shuffle_in_place(members[z], rng);  // rank = position: a seeded popularity order
    double total = 0;
    for (size_t r = 0; r < members[z].size(); ++r) cum[z].push_back(total += 1.0 / double(r + 1));
  }
  std::vector<std::vector<int64_t>> followers(size_t(c.items) + 1);
  for (int64_t i = 1; i <= c.items; ++i) {
    const size_t z = size_t(i - 1) % topics;
    while (int64_t(followers[size_t(i)].size()) < c.followers) {
      const int64_t f = members[z][draw(cum[z], rng)];
      if (f != i) followers[size_t(i)].push_back(f);
    }
  }
  SessionDataset d;
  d.name = "synthetic sessions";
  d.n_items = c.items + 1;
  const auto n_test = std::max<int64_t>(1, std::llround(c.test_fraction * double(c.sessions)));
  for (int64_t s = 0; s < c.sessions; ++s) {
    const auto k = size_t(c.threads);
    std::vector<size_t> z(k);  // the session's intents, one per thread
    for (auto& t : z) t = size_t(uniform_below(rng, c.intents));
    const int64_t len = c.len_min + uniform_below(rng, c.len_max - c.len_min + 1);
    size_t cur = 0;                               // the thread the user is on
    std::vector<std::vector<int64_t>> wanted(k);  // each thread's clicks that were not stray
    Session clicks{members[z[0]][draw(cum[z[0]], rng)]};
    wanted[0].push_back(clicks[0]);
    bool stray = false;  // whether the previous click strayed
    while (int64_t(clicks.size()) < len) {
      bool moved = false;
      if (k > 1 && uniform01(rng) < c.switch_prob) {
        cur = (cur + 1 + size_t(uniform_below(rng, int64_t(k) - 1))) % k;
        moved = true;
      }
      const double u = uniform01(rng);
      int64_t next = 0;
      if (u < c.noise) {
        next = 1 + uniform_below(rng, c.items);
        stray = true;
      } else if (u < c.noise + c.follow && !moved) {  // a follower of a stray click strays too
        const auto& f = followers[size_t(clicks.back())];
        next = f[size_t(uniform_below(rng, int64_t(f.size())))];
      } else if (u < c.noise + c.follow + c.repeat && !wanted[cur].empty()) {
        next = wanted[cur][size_t(uniform_below(rng, int64_t(wanted[cur].size())))];
        stray = false;
      } else {
        next = members[z[cur]][draw(cum[z[cur]], rng)];
        stray = false;
      }
      if (!stray) wanted[cur].push_back(next);
      clicks.push_back(next);
    }
    (s < c.sessions - n_test ? d.train_sessions : d.test_sessions).push_back(std::move(clicks));
  }
  finish_session_dataset(d, c.last_only);
  return d;
}

}  // namespace tinyrec::data
