// The three click-log readers and their date parsing.
#include "data/session_readers.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <stdexcept>
#include <unordered_map>

namespace tinyrec::data {

namespace {

// One field of a line and the 1-based column where it starts.
struct Field {
  std::string text;
  size_t column = 1;
};

class Reader {
 public:
  Reader(const char* what, const std::string& path) : what_(what), path_(path), in_(path) {
    if (!in_) throw std::runtime_error(std::string(what) + ": cannot open " + path);
  }
  // The next non-empty line split at `sep`; false at the end of the file. A field opening with
  // '"' runs to the next '"' ("" inside stands for one quote).
  bool next(char sep, std::vector<Field>& fields) {
    std::string line;
    while (std::getline(in_, line)) {
      ++line_no_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      split(line, sep, fields);
      return true;
    }
    return false;
  }
  [[noreturn]] void fail(size_t column, const std::string& msg) const {
    throw std::runtime_error(std::string(what_) + ": " + path_ + ":" + std::to_string(line_no_) +
                             ":" + std::to_string(column) + ": " + msg);
  }
  void expect_fields(const std::vector<Field>& f, size_t n, const char* layout) const {
    if (f.size() != n)
      fail(f.size() > n ? f[n].column : f.back().column + f.back().text.size(),
           "expected " + std::to_string(n) + " fields (" + layout + "), found " +
               std::to_string(f.size()));
  }
  int64_t integer(const Field& f, const char* name) const {
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(f.text.data(), f.text.data() + f.text.size(), v);
    if (f.text.empty() || ec != std::errc() || end != f.text.data() + f.text.size())
      fail(f.column, std::string(name) + ": expected an integer, got \"" + f.text + "\"");
    return v;
  }
  void non_empty(const Field& f, const char* name) const {
    if (f.text.empty()) fail(f.column, std::string(name) + " is empty");
  }
  size_t line() const { return line_no_; }

 private:
  void split(const std::string& s, char sep, std::vector<Field>& out) const {
    out.clear();
    size_t i = 0;
    for (;;) {
      Field f;
      f.column = i + 1;
      if (i < s.size() && s[i] == '"') {
        ++i;
        for (;;) {
          if (i >= s.size()) fail(f.column, "unterminated quoted field");
          if (s[i] == '"') {
            if (i + 1 < s.size() && s[i + 1] == '"') {
              f.text.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          f.text.push_back(s[i++]);
        }
        if (i < s.size() && s[i] != sep) fail(i + 1, "unexpected character after a closing quote");
      } else {
        const size_t end = std::min(s.find(sep, i), s.size());
        f.text = s.substr(i, end - i);
        i = end;
      }
      out.push_back(std::move(f));
      if (i >= s.size()) return;
      ++i;
    }
  }

  const char* what_;
  std::string path_;
  std::ifstream in_;
  size_t line_no_ = 0;
};

// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t digits(const std::string& s, size_t at, size_t n, const std::string& whole) {
  int64_t v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i])))
      throw std::invalid_argument("\"" + whole + "\" is not a date (YYYY-MM-DD)");
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

double day_seconds(const std::string& s, const std::string& whole) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-')
    throw std::invalid_argument("\"" + whole + "\" is not a date (YYYY-MM-DD)");
  const int64_t y = digits(s, 0, 4, whole), m = digits(s, 5, 2, whole), d = digits(s, 8, 2, whole);
  if (m < 1 || m > 12 || d < 1 || d > 31)
    throw std::invalid_argument("\"" + whole + "\" has no such month or day");
  return double(days_from_civil(y, m, d)) * 86400.0;
}

}  // namespace

double parse_day(const std::string& text) {
  if (text.size() != 10) throw std::invalid_argument("\"" + text + "\" is not a date (YYYY-MM-DD)");
  return day_seconds(text, text);
}

double parse_iso_time(const std::string& text) {
  const std::string bad = "\"" + text + "\" is not an ISO 8601 time (YYYY-MM-DDTHH:MM:SS.fffZ)";
  std::string s = text;
  if (!s.empty() && s.back() == 'Z') s.pop_back();
  if (s.size() < 19 || s[10] != 'T' || s[13] != ':' || s[16] != ':')
    throw std::invalid_argument(bad);
  double t = day_seconds(s.substr(0, 10), text);
  int64_t hms[3];
  for (int k = 0; k < 3; ++k) {
    const size_t at = 11 + 3 * size_t(k);
    if (!std::isdigit(static_cast<unsigned char>(s[at])) ||
        !std::isdigit(static_cast<unsigned char>(s[at + 1])))
      throw std::invalid_argument(bad);
    hms[k] = (s[at] - '0') * 10 + (s[at + 1] - '0');
  }
  if (hms[0] > 23 || hms[1] > 59 || hms[2] > 60) throw std::invalid_argument(bad);
  t += double(hms[0] * 3600 + hms[1] * 60 + hms[2]);
  if (s.size() > 19) {
    if (s[19] != '.' || s.size() == 20) throw std::invalid_argument(bad);
    double scale = 0.1;
    for (size_t i = 20; i < s.size(); ++i, scale /= 10) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) throw std::invalid_argument(bad);
      t += (s[i] - '0') * scale;
    }
  }
  return t;
}

namespace {

// Sessions in order of their first line.
struct SessionCollector {
  std::unordered_map<std::string, size_t> index;
  std::vector<RawSession> sessions;
  void add(const std::string& key, double time, const std::string& item) {
    auto [it, added] = index.emplace(key, sessions.size());
    if (added) sessions.push_back({key, {}});
    sessions[it->second].clicks.push_back({time, item});
  }
};

template <class Parse>
double checked_time(const Reader& r, const Field& f, Parse parse) {
  try {
    return parse(f.text);
  } catch (const std::invalid_argument& e) {
    r.fail(f.column, e.what());
  }
}

}  // namespace

std::vector<RawSession> read_yoochoose_clicks(const std::string& path) {
  Reader r("yoochoose", path);
  SessionCollector out;
  std::vector<Field> f;
  while (r.next(',', f)) {
    r.expect_fields(f, 4, "session_id,timestamp,item_id,category");
    r.integer(f[0], "session_id");
    const double t = checked_time(r, f[1], parse_iso_time);
    r.integer(f[2], "item_id");
    out.add(f[0].text, t, f[2].text);
  }
  if (out.sessions.empty()) throw std::runtime_error("yoochoose: " + path + " holds no click");
  return std::move(out.sessions);
}

std::vector<RawSession> read_diginetica_views(const std::string& path) {
  Reader r("diginetica", path);
  SessionCollector out;
  std::vector<Field> f;
  bool header = true;
  while (r.next(';', f)) {
    if (header) {
      header = false;
      if (f.size() == 5 && f[0].text == "sessionId") continue;
      r.fail(1, "expected the header sessionId;userId;itemId;timeframe;eventdate");
    }
    r.expect_fields(f, 5, "sessionId;userId;itemId;timeframe;eventdate");
    r.integer(f[0], "sessionId");
    r.integer(f[2], "itemId");
    const int64_t ms = r.integer(f[3], "timeframe");
    if (ms < 0) r.fail(f[3].column, "timeframe: negative");
    const double day = checked_time(r, f[4], parse_day);
    out.add(f[0].text, day + double(ms) / 1000.0, f[2].text);
  }
  if (out.sessions.empty()) throw std::runtime_error("diginetica: " + path + " holds no view");
  return std::move(out.sessions);
}

std::vector<RawSession> read_movielens_sessions(const std::string& path, double gap_hours) {
  if (!(gap_hours > 0)) throw std::invalid_argument("--session-gap must be positive");
  Reader r("movielens", path);
  std::vector<Field> f;
  bool header = true;
  std::unordered_map<std::string, size_t> user_index;
  std::vector<std::vector<RawClick>> users;
  std::vector<std::string> user_keys;
  while (r.next(',', f)) {
    if (header) {
      header = false;
      if (f.size() == 4 && f[0].text == "userId") continue;
      r.fail(1, "expected the header userId,movieId,rating,timestamp");
    }
    r.expect_fields(f, 4, "userId,movieId,rating,timestamp");
    r.integer(f[0], "userId");
    r.integer(f[1], "movieId");
    const int64_t t = r.integer(f[3], "timestamp");
    auto [it, added] = user_index.emplace(f[0].text, users.size());
    if (added) users.emplace_back(), user_keys.push_back(f[0].text);
    users[it->second].push_back({double(t), f[1].text});
  }
  if (users.empty()) throw std::runtime_error("movielens: " + path + " holds no rating");
  std::vector<RawSession> out;
  const double gap = gap_hours * 3600.0;
  for (size_t u = 0; u < users.size(); ++u) {
    std::vector<RawClick>& clicks = users[u];
    std::stable_sort(clicks.begin(), clicks.end(),
                     [](const RawClick& a, const RawClick& b) { return a.time < b.time; });
    for (size_t i = 0; i < clicks.size(); ++i) {
      if (i == 0 || clicks[i].time - clicks[i - 1].time > gap)
        out.push_back({user_keys[u] + "/" + std::to_string(out.size()), {}});
      out.back().clicks.push_back(clicks[i]);
    }
  }
  return out;
}

}  // namespace tinyrec::data
