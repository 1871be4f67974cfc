// Sessions for next-item prediction: the YOOCHOOSE, DIGINETICA and MovieLens readers on fixture
// files in the real formats, the STAMP paper's preprocessing step by step, malformed lines named
// by file, line and column, the seeded generator, prefix cases and batching.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/session_dataset.hpp"
#include "data/session_readers.hpp"
#include "data/session_synthetic.hpp"

using namespace tinyrec::data;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& name) {
  return std::string(TINYREC_SOURCE_DIR) + "/tests/data/fixtures/" + name;
}

// Writes `text` to a scratch file and returns its path.
std::string scratch_file(const std::string& name, const std::string& text) {
  const fs::path p =
      fs::temp_directory_path() / ("tinyrec_sessions_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

template <class Fn>
std::string runtime_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

// The sessions of a split spelled in the data's own item tokens.
std::vector<std::vector<std::string>> tokens(const SessionDataset& d,
                                             const std::vector<Session>& sessions) {
  std::vector<std::vector<std::string>> out;
  for (const Session& s : sessions) {
    out.emplace_back();
    for (int64_t id : s) out.back().push_back(d.item_names.at(size_t(id)));
  }
  return out;
}

using Tokens = std::vector<std::vector<std::string>>;

}  // namespace

TEST_CASE("dates: YOOCHOOSE's ISO times with a trailing Z and DIGINETICA's days") {
  CHECK(parse_day("1970-01-01") == 0);
  CHECK(parse_day("2016-05-09") == 16930.0 * 86400);
  CHECK(parse_iso_time("2014-04-07T10:51:09.277Z") ==
        doctest::Approx(16167.0 * 86400 + 10 * 3600 + 51 * 60 + 9.277));
  CHECK(parse_iso_time("2014-04-07T10:51:09Z") == 16167.0 * 86400 + 39069);
  CHECK(parse_iso_time("2014-04-07T10:51:09") == 16167.0 * 86400 + 39069);
  CHECK_THROWS_AS(parse_iso_time("2014-04-07 10:51:09.277Z"), std::invalid_argument);
  CHECK_THROWS_AS(parse_iso_time("2014-04-07T10:51:09.Z"), std::invalid_argument);
  CHECK_THROWS_AS(parse_iso_time("2014-13-07T10:51:09Z"), std::invalid_argument);
  CHECK_THROWS_AS(parse_day("2016-5-9"), std::invalid_argument);
}

TEST_CASE("yoochoose: the fixture read, time order restored, preprocessed as in the paper") {
  const std::vector<RawSession> raw =
      read_yoochoose_clicks(fixture("yoochoose/yoochoose-clicks.dat"));
  REQUIRE(raw.size() == 9);
  CHECK(raw[1].key == "2");
  REQUIRE(raw[1].clicks.size() == 4);
  CHECK(raw[1].clicks[0].item == "214536506");  // the file lists session 2 out of time order

  const SessionDataset d = preprocess_sessions("yoochoose", raw, SessionProtocol{});
  // Session 3 (one click) goes; 214662742 (2 clicks) goes, and session 4 with it; 214718203 has
  // 5 clicks but only on the test day, so it leaves the test sessions, and sessions 8 and 9 with
  // it. Session 2 comes out in time order.
  const std::string A = "214536502", B = "214536500", C = "214536506", D = "214577561";
  CHECK(tokens(d, d.train_sessions) == Tokens{{A, B, C, D}, {A, B, C, D}, {D, A, B}, {C, D, B}});
  CHECK(tokens(d, d.test_sessions) == Tokens{{A, B, D, C}});
  CHECK(d.n_items == 5);
  CHECK(d.item_names == std::vector<std::string>{"<pad>", A, B, C, D});
  CHECK(d.train.size() == 10);  // every prefix: 3 + 3 + 2 + 2
  CHECK(d.test.size() == 3);
  CHECK(d.item_counts == std::vector<int64_t>{0, 3, 4, 3, 4});

  // 1/4: the most recent quarter of the training sessions (one: session 6); ids follow it, and
  // the test session loses A, which that quarter never saw.
  SessionProtocol quarter;
  quarter.train_fraction = 0.25;
  const SessionDataset q = preprocess_sessions("yoochoose 1/4", raw, quarter);
  CHECK(tokens(q, q.train_sessions) == Tokens{{C, D, B}});
  CHECK(tokens(q, q.test_sessions) == Tokens{{B, D, C}});
  CHECK(q.train_sessions == std::vector<Session>{{1, 2, 3}});
}

TEST_CASE("diginetica: semicolons, NA users, day dates; clicks sorted by timeframe") {
  const std::vector<RawSession> raw =
      read_diginetica_views(fixture("diginetica/train-item-views.csv"));
  REQUIRE(raw.size() == 7);
  CHECK(raw[0].clicks[0].item == "81766");  // file order: the view at 526,309 ms comes first
  SessionProtocol p;
  p.test_days = 7;
  const SessionDataset d = preprocess_sessions("diginetica", raw, p);
  const std::string A = "81766", B = "31331", C = "32118", D = "9654";
  // Session 1 in time order is B, C, A — the order a sort by day alone would not restore; session
  // 3 (one view) and item 11111 (two views) are dropped; sessions 6 and 7 fall in the last week.
  CHECK(tokens(d, d.train_sessions) == Tokens{{B, C, A}, {C, D, A, B}, {D, B, A}, {B, D, C, A}});
  CHECK(tokens(d, d.test_sessions) == Tokens{{A, B, C, D}, {D, C}});
  CHECK(d.train_sessions[0] == Session{1, 2, 3});
  CHECK(d.test.size() == 4);
}

TEST_CASE("movielens sessions: each user's ratings cut at pauses, the latest sessions for test") {
  const std::vector<RawSession> raw = read_movielens_sessions(fixture("session_ratings.csv"), 1.0);
  REQUIRE(raw.size() == 5);  // user 1: two sessions; user 2: two; user 3: one
  SessionProtocol p;
  p.min_item_count = 1;
  p.test_fraction = 0.25;
  const SessionDataset d = preprocess_sessions("movielens", raw, p);
  CHECK(tokens(d, d.train_sessions) == Tokens{{"30", "20"}, {"10", "20", "30"}, {"40", "50"}});
  CHECK(tokens(d, d.test_sessions) == Tokens{{"40", "50"}});
  // A longer gap joins user 1's ratings into one session.
  const std::vector<RawSession> joined =
      read_movielens_sessions(fixture("session_ratings.csv"), 10.0);
  CHECK(joined.size() == 3);
  CHECK_THROWS_AS(read_movielens_sessions(fixture("session_ratings.csv"), 0),
                  std::invalid_argument);
}

TEST_CASE("session readers: a malformed line names the file, line and column") {
  const std::string bad_time =
      scratch_file("yc_time.dat",
                   "1,2014-04-07T10:51:09.277Z,214536502,0\n1,2014-04-07 10:52:00Z,214536500,0\n");
  const std::string msg = runtime_error_of([&] { read_yoochoose_clicks(bad_time); });
  CHECK(msg.find("yoochoose: " + bad_time + ":2:3: ") != std::string::npos);
  CHECK(msg.find("not an ISO 8601 time") != std::string::npos);

  const std::string bad_item =
      scratch_file("yc_item.dat", "1,2014-04-07T10:51:09.277Z,2145x6502,0\n");
  CHECK(runtime_error_of([&] {
          read_yoochoose_clicks(bad_item);
        }).find(bad_item + ":1:28: item_id: expected an integer, got \"2145x6502\"") !=
        std::string::npos);

  const std::string missing =
      scratch_file("yc_fields.dat", "1,2014-04-07T10:51:09.277Z,214536502\n");
  CHECK(runtime_error_of([&] { read_yoochoose_clicks(missing); }).find(missing + ":1:") !=
        std::string::npos);
  CHECK(runtime_error_of([&] {
          read_yoochoose_clicks(missing);
        }).find("expected 4 fields (session_id,timestamp,item_id,category), found 3") !=
        std::string::npos);

  const std::string commas = scratch_file(
      "dg_commas.csv", "sessionId;userId;itemId;timeframe;eventdate\n1,NA,81766,0,2016-01-01\n");
  CHECK(runtime_error_of([&] {
          read_diginetica_views(commas);
        }).find("diginetica: " + commas + ":2:") != std::string::npos);

  const std::string bad_day = scratch_file(
      "dg_day.csv", "sessionId;userId;itemId;timeframe;eventdate\n1;NA;81766;0;2016/01/01\n");
  const std::string day_msg = runtime_error_of([&] { read_diginetica_views(bad_day); });
  CHECK(day_msg.find(bad_day + ":2:14: ") != std::string::npos);
  CHECK(day_msg.find("not a date") != std::string::npos);

  const std::string no_header = scratch_file("dg_header.csv", "1;NA;81766;0;2016-01-01\n");
  CHECK(runtime_error_of([&] {
          read_diginetica_views(no_header);
        }).find(no_header + ":1:1: expected the header") != std::string::npos);

  const std::string ml_bad =
      scratch_file("ml_bad.csv", "userId,movieId,rating,timestamp\n1,10,4.0,1000\n1,10,4.0,soon\n");
  CHECK(runtime_error_of([&] {
          read_movielens_sessions(ml_bad, 1);
        }).find("movielens: " + ml_bad + ":3:10: timestamp: expected an integer") !=
        std::string::npos);

  CHECK(runtime_error_of([] {
          read_yoochoose_clicks("/no/such/file.dat");
        }).find("cannot open /no/such/file.dat") != std::string::npos);
}

TEST_CASE("preprocessing: nothing left, or no test split, is an error") {
  std::vector<RawSession> raw = {{"a", {{0, "x"}, {1, "y"}}}, {"b", {{2, "x"}}}};
  CHECK(runtime_error_of([&] {
          preprocess_sessions("tiny", raw, SessionProtocol{});
        }).find("tiny: no session of 2 or more clicks left") != std::string::npos);
  SessionProtocol keep_all;
  keep_all.min_item_count = 1;
  keep_all.test_days = 1e-9;  // the last session alone, whose items training never saw
  raw.push_back({"c", {{4, "z"}, {5, "w"}}});
  CHECK(runtime_error_of([&] {
          preprocess_sessions("tiny", raw, keep_all);
        }).find("test split is empty") != std::string::npos);
}

TEST_CASE("session cases and batches: every prefix, right-aligned, the most recent max_len") {
  const std::vector<Session> sessions = {{5, 6, 7, 8}, {9, 5}};
  const std::vector<SessionCase> cases = session_cases(sessions);
  REQUIRE(cases.size() == 4);
  CHECK(cases[0].end == 1);
  CHECK(cases[2].end == 3);
  CHECK(cases[3].session == 1);
  CHECK(session_cases(sessions, true).size() == 2);

  SessionBatch b;
  fill_session_batch(sessions, cases, {2, 3, 0}, 2, b);
  CHECK(b.len == 2);
  CHECK(b.lengths == std::vector<size_t>{2, 1, 1});
  CHECK(b.items == xt::xarray<int64_t>{{6, 7}, {0, 9}, {0, 5}});
  CHECK(b.targets == xt::xarray<int64_t>{8, 5, 6});
  fill_session_batch(sessions, cases, {2}, 50, b);
  CHECK(b.items == xt::xarray<int64_t>{{5, 6, 7}});
}

TEST_CASE("synthetic sessions: seeded, in range, and sessions return to their own clicks") {
  SessionSyntheticConfig c;
  c.sessions = 2000;
  c.items = 200;
  const SessionDataset a = make_session_synthetic(c), b = make_session_synthetic(c);
  CHECK(a.train_sessions == b.train_sessions);
  CHECK(a.test_sessions.size() == 200);
  CHECK(a.n_items == 201);
  c.seed = 2;
  CHECK(make_session_synthetic(c).train_sessions != a.train_sessions);
  size_t shortest = 100, longest = 0, clicks = 0, returns = 0;
  for (const Session& s : a.train_sessions) {
    shortest = std::min(shortest, s.size());
    longest = std::max(longest, s.size());
    for (size_t i = 1; i < s.size(); ++i, ++clicks)
      returns += std::find(s.begin(), s.begin() + long(i), s[i]) != s.begin() + long(i);
  }
  CHECK(shortest == 6);
  CHECK(longest == 20);
  // repeat = 0.6 of the clicks go back to an earlier click, less the returns asked of a thread not
  // visited yet (nothing to return to: an intent draw instead), plus a few draws that land on an
  // earlier click by chance; uniform clicks over 200 items would return less than 5 % of the time.
  CHECK(double(returns) / double(clicks) > 0.45);
  CHECK(double(returns) / double(clicks) < 0.65);
  c.noise = 0.8;
  CHECK_THROWS_AS(make_session_synthetic(c), std::invalid_argument);
}
