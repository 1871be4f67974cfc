// Prefix cases, the papers' preprocessing of click logs, and batching of sessions.
#include "data/session_dataset.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

namespace tinyrec::data {

std::vector<SessionCase> session_cases(const std::vector<Session>& sessions, bool last_only) {
  std::vector<SessionCase> cases;
  for (size_t s = 0; s < sessions.size(); ++s) {
    const size_t n = sessions[s].size();
    for (size_t end = last_only ? n - 1 : 1; end < n; ++end)
      cases.push_back({uint32_t(s), uint32_t(end)});
  }
  return cases;
}

void finish_session_dataset(SessionDataset& d, bool last_only) {
  auto check = [&](const std::vector<Session>& sessions, const char* split) {
    for (size_t s = 0; s < sessions.size(); ++s) {
      if (sessions[s].size() < 2)
        throw std::invalid_argument(d.name + ": " + split + " session " + std::to_string(s) +
                                    " has fewer than 2 clicks");
      for (int64_t id : sessions[s])
        if (id < 1 || id >= d.n_items)
          throw std::invalid_argument(d.name + ": " + split + " session " + std::to_string(s) +
                                      " holds item id " + std::to_string(id) + ", not in 1.." +
                                      std::to_string(d.n_items - 1));
    }
  };
  check(d.train_sessions, "train");
  check(d.test_sessions, "test");
  d.train = session_cases(d.train_sessions, last_only);
  d.test = session_cases(d.test_sessions, last_only);
  d.item_counts.assign(size_t(d.n_items), 0);
  for (const Session& s : d.train_sessions)
    for (int64_t id : s) ++d.item_counts[size_t(id)];
  if (d.item_names.size() != size_t(d.n_items)) {
    d.item_names.assign(size_t(d.n_items), "");
    d.item_names[0] = "<pad>";
    for (int64_t i = 1; i < d.n_items; ++i) d.item_names[size_t(i)] = std::to_string(i);
  }
}

namespace {

double last_time(const RawSession& s) {
  return s.clicks.back().time;
}

// Sessions ordered by their last click (ties: by key, so the order never depends on input order).
void sort_by_end(std::vector<RawSession>& sessions) {
  std::stable_sort(sessions.begin(), sessions.end(), [](const RawSession& a, const RawSession& b) {
    return last_time(a) != last_time(b) ? last_time(a) < last_time(b) : a.key < b.key;
  });
}

}  // namespace

SessionDataset preprocess_sessions(const std::string& name, std::vector<RawSession> raw,
                                   const SessionProtocol& p) {
  // 1. time order inside each session.
  for (RawSession& s : raw)
    std::stable_sort(s.clicks.begin(), s.clicks.end(),
                     [](const RawClick& a, const RawClick& b) { return a.time < b.time; });
  // 2. length-1 sessions, rare items, then sessions that became too short.
  raw.erase(std::remove_if(raw.begin(), raw.end(),
                           [](const RawSession& s) { return s.clicks.size() < 2; }),
            raw.end());
  std::unordered_map<std::string, size_t> support;
  for (const RawSession& s : raw)
    for (const RawClick& c : s.clicks) ++support[c.item];
  for (RawSession& s : raw)
    s.clicks.erase(
        std::remove_if(s.clicks.begin(), s.clicks.end(),
                       [&](const RawClick& c) { return support[c.item] < p.min_item_count; }),
        s.clicks.end());
  raw.erase(std::remove_if(raw.begin(), raw.end(),
                           [](const RawSession& s) { return s.clicks.size() < 2; }),
            raw.end());
  if (raw.empty()) throw std::runtime_error(name + ": no session of 2 or more clicks left");
  // 3. the test split by time.
  sort_by_end(raw);
  size_t first_test = raw.size();
  if (p.test_fraction > 0) {
    first_test = raw.size() - size_t(std::llround(p.test_fraction * double(raw.size())));
  } else {
    const double cut = last_time(raw.back()) - p.test_days * 86400.0;
    while (first_test > 0 && last_time(raw[first_test - 1]) > cut) --first_test;
  }
  // 4. the most recent share of the training sessions.
  const size_t kept = size_t(std::ceil(p.train_fraction * double(first_test)));
  const size_t first_train = first_test - std::min(kept, first_test);
  // 5. ids from the training sessions.
  SessionDataset d;
  d.name = name;
  d.item_names = {"<pad>"};
  std::unordered_map<std::string, int64_t> ids;
  for (size_t i = first_train; i < first_test; ++i) {
    Session s;
    for (const RawClick& c : raw[i].clicks) {
      auto [it, added] = ids.emplace(c.item, int64_t(d.item_names.size()));
      if (added) d.item_names.push_back(c.item);
      s.push_back(it->second);
    }
    d.train_sessions.push_back(std::move(s));
  }
  d.n_items = int64_t(d.item_names.size());
  for (size_t i = first_test; i < raw.size(); ++i) {
    Session s;
    for (const RawClick& c : raw[i].clicks)
      if (auto it = ids.find(c.item); it != ids.end()) s.push_back(it->second);
    if (s.size() >= 2) d.test_sessions.push_back(std::move(s));
  }
  if (d.train_sessions.empty()) throw std::runtime_error(name + ": the training split is empty");
  if (d.test_sessions.empty()) throw std::runtime_error(name + ": the test split is empty");
  // 6. the cases.
  finish_session_dataset(d);
  return d;
}

void fill_session_batch(const std::vector<Session>& sessions, const std::vector<SessionCase>& cases,
                        const std::vector<size_t>& rows, size_t max_len, SessionBatch& out) {
  out.size = rows.size();
  out.len = 1;
  out.lengths.resize(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    out.lengths[r] = std::min<size_t>(cases[rows[r]].end, max_len);
    out.len = std::max(out.len, out.lengths[r]);
  }
  out.items = xt::zeros<int64_t>({out.size, out.len});
  out.targets = xt::xarray<int64_t>::from_shape({out.size});
  for (size_t r = 0; r < rows.size(); ++r) {
    const SessionCase& c = cases[rows[r]];
    const Session& s = sessions[c.session];
    const size_t n = out.lengths[r];
    int64_t* row = out.items.data() + r * out.len + (out.len - n);
    std::copy(s.begin() + (c.end - n), s.begin() + c.end, row);
    out.targets(r) = s[c.end];
  }
}

}  // namespace tinyrec::data
