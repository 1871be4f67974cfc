// Reads GroupLens ratings.csv and movies.csv and builds CTR samples by the DIN paper's MovieLens
// protocol (ratings >= 4 positive, history = earlier rated movies, first genre as category, user
// split).
#include "data/movielens_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tinyrec::data {

namespace {

class LineError {
 public:
  LineError(const std::string& path, size_t line) : path_(path), line_(line) {}
  [[noreturn]] void operator()(const std::string& what) const {
    throw std::runtime_error("movielens: " + path_ + ":" + std::to_string(line_) + ": " + what);
  }

 private:
  const std::string& path_;
  size_t line_;
};

// Splits one CSV record into `out`: comma-separated fields, a field opening with '"' runs to the
// matching '"', with "" standing for one quote. Records never span lines in these files.
void split_csv(std::string_view s, std::vector<std::string>& out, const LineError& fail) {
  out.clear();
  size_t i = 0;
  for (;;) {
    std::string field;
    const size_t column = out.size() + 1;
    if (i < s.size() && s[i] == '"') {
      ++i;
      for (;;) {
        if (i >= s.size()) fail("column " + std::to_string(column) + ": unterminated quoted field");
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(s[i++]);
      }
      if (i < s.size() && s[i] != ',')
        fail("column " + std::to_string(column) + ": unexpected character after closing quote");
    } else {
      const size_t end = std::min(s.find(',', i), s.size());
      field.assign(s.substr(i, end - i));
      if (field.find('"') != std::string::npos)
        fail("column " + std::to_string(column) + ": stray quote in unquoted field");
      i = end;
    }
    out.push_back(std::move(field));
    if (i >= s.size()) return;
    ++i;  // the comma
  }
}

int64_t parse_int(const std::string& s, size_t column, const char* name, const LineError& fail) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    fail("column " + std::to_string(column) + " (" + name + "): expected an integer, got \"" + s +
         "\"");
  return v;
}

double parse_rating(const std::string& s, const LineError& fail) {
  double v = 0.0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    fail("column 3 (rating): expected a number, got \"" + s + "\"");
  if (!(v >= 0.0 && v <= 5.0)) fail("column 3 (rating): must be between 0 and 5, got " + s);
  return v;
}

// Calls on_record(fields, fail) for every line after the header, whose fields must be `header`'s.
// The header is a CSV row like any other: R's write.csv and pandas with full quoting quote it.
template <class OnRecord>
void read_csv(const std::string& path, const std::string& header, size_t n_fields,
              OnRecord on_record) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("movielens: cannot open " + path);
  std::string line;
  std::vector<std::string> fields;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const LineError fail(path, line_no);
    std::string_view s(line);
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    if (line_no == 1) {
      if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);  // a UTF-8 byte order mark
      std::vector<std::string> got, expected;
      split_csv(s, got, fail);
      split_csv(header, expected, fail);
      if (got != expected)
        fail("expected the header \"" + header + "\", got \"" + std::string(s) + "\"");
      continue;
    }
    if (s.empty()) fail("empty line");
    split_csv(s, fields, fail);
    if (fields.size() != n_fields)
      fail("expected " + std::to_string(n_fields) + " comma-separated fields, got " +
           std::to_string(fields.size()));
    on_record(fields, fail);
  }
  if (in.bad()) throw std::runtime_error("movielens: error while reading " + path);
  if (line_no == 0) throw std::runtime_error("movielens: " + path + ": empty file, no header");
}

struct Rating {
  int64_t movie;
  int64_t timestamp;
  double rating;
};

}  // namespace

CtrDataset read_movielens(const std::string& ratings_csv, const std::string& movies_csv,
                          double test_user_fraction, uint64_t seed, size_t max_len) {
  if (!(test_user_fraction >= 0.0 && test_user_fraction < 1.0))
    throw std::invalid_argument("read_movielens: test_user_fraction must be in [0, 1), got " +
                                std::to_string(test_user_fraction));

  std::unordered_map<int64_t, std::string> genre_of;  // movieId -> first genre
  read_csv(movies_csv, "movieId,title,genres", 3,
           [&](const std::vector<std::string>& f, const LineError& fail) {
             const int64_t movie = parse_int(f[0], 1, "movieId", fail);
             const std::string& genres = f[2];
             if (genres.empty()) fail("column 3 (genres): empty");
             const std::string first = genres.substr(0, genres.find('|'));
             if (first.empty()) fail("column 3 (genres): empty first genre in \"" + genres + "\"");
             if (!genre_of.emplace(movie, first).second) fail("movieId " + f[0] + " listed twice");
           });

  std::map<int64_t, std::vector<Rating>> by_user;  // ordered: users ascending
  read_csv(ratings_csv, "userId,movieId,rating,timestamp", 4,
           [&](const std::vector<std::string>& f, const LineError& fail) {
             const int64_t user = parse_int(f[0], 1, "userId", fail);
             const int64_t movie = parse_int(f[1], 2, "movieId", fail);
             const double rating = parse_rating(f[2], fail);
             const int64_t timestamp = parse_int(f[3], 4, "timestamp", fail);
             if (genre_of.find(movie) == genre_of.end())
               fail("movieId " + f[1] + " is not in " + movies_csv);
             by_user[user].push_back({movie, timestamp, rating});
           });

  // Split users (ascending userId, then shuffled by the seed).
  std::vector<int64_t> users;
  users.reserve(by_user.size());
  for (const auto& [user, ratings] : by_user) users.push_back(user);
  std::mt19937_64 rng(seed);
  shuffle_in_place(users, rng);
  const auto n_test =
      static_cast<size_t>(std::llround(test_user_fraction * static_cast<double>(users.size())));
  if (n_test > 0 && n_test == users.size())
    throw std::invalid_argument("read_movielens: test_user_fraction " +
                                std::to_string(test_user_fraction) + " of " +
                                std::to_string(users.size()) + " users leaves no training user");
  std::unordered_map<int64_t, bool> is_test;
  for (size_t i = 0; i < users.size(); ++i) is_test[users[i]] = i < n_test;

  CtrDataset ds;
  ds.name = "movielens";
  Vocabulary& user_vocab = ds.vocab.users;  // keyed by userId, movieId and genre name
  Vocabulary& movie_vocab = ds.vocab.items;
  Vocabulary& genre_vocab = ds.vocab.cats;
  std::vector<int64_t> movie_ids, genre_ids;  // one user's timeline, as dense ids
  int64_t next_test_key = 0;                  // test users' user_key, after the train users' ids
  auto histories = std::make_shared<LongHistories>();
  // Train users first so the vocabularies are complete before test ids are looked up.
  for (const bool test : {false, true}) {
    for (auto& [user, ratings] : by_user) {
      if (is_test[user] != test || ratings.size() < 2) continue;
      std::stable_sort(ratings.begin(), ratings.end(),
                       [](const Rating& a, const Rating& b) { return a.timestamp < b.timestamp; });
      const int64_t user_id = test ? kUnknownId : user_vocab.add(std::to_string(user));
      if (test && next_test_key == 0) next_test_key = user_vocab.size();
      const int64_t user_key = test ? next_test_key++ : user_id;
      movie_ids.clear();
      genre_ids.clear();
      for (const Rating& r : ratings) {
        const std::string key = std::to_string(r.movie);
        const std::string& genre = genre_of.at(r.movie);
        movie_ids.push_back(test ? movie_vocab.find(key) : movie_vocab.add(key));
        genre_ids.push_back(test ? genre_vocab.find(genre) : genre_vocab.add(genre));
      }
      Timeline life;
      life.items = movie_ids;
      life.cats = genre_ids;
      for (const Rating& r : ratings) life.times.push_back(r.timestamp);
      const auto timeline = static_cast<int64_t>(histories->add(std::move(life)));
      auto& dst = test ? ds.test : ds.train;
      for (size_t k = 1; k < ratings.size(); ++k) {
        const size_t from = (max_len > 0 && k > max_len) ? k - max_len : 0;
        CtrSample s;
        s.user = user_id;
        s.user_key = user_key;
        s.item = movie_ids[k];
        s.cat = genre_ids[k];
        s.hist_items.assign(movie_ids.begin() + static_cast<std::ptrdiff_t>(from),
                            movie_ids.begin() + static_cast<std::ptrdiff_t>(k));
        s.hist_cats.assign(genre_ids.begin() + static_cast<std::ptrdiff_t>(from),
                           genre_ids.begin() + static_cast<std::ptrdiff_t>(k));
        s.label = ratings[k].rating >= 4.0 ? 1.0f : 0.0f;
        s.timeline = timeline;
        s.timeline_end = k;
        s.time = ratings[k].timestamp;
        dst.push_back(std::move(s));
      }
    }
  }
  if (ds.train.empty())
    throw std::runtime_error("movielens: " + ratings_csv +
                             ": no training samples (every user needs two ratings to make one)");
  ds.n_users = user_vocab.size();
  ds.n_items = movie_vocab.size();
  ds.n_cats = genre_vocab.size();
  count_train_ids(ds);
  ds.histories = std::move(histories);
  return ds;
}

namespace {

// "Toy Story (1995)" -> 1995; a title without a trailing "(YYYY)" -> 0.
int title_year(std::string_view title) {
  while (!title.empty() && title.back() == ' ') title.remove_suffix(1);
  if (title.size() < 6 || title.back() != ')' || title[title.size() - 6] != '(') return 0;
  int year = 0;
  const char* first = title.data() + title.size() - 5;
  const auto [end, ec] = std::from_chars(first, first + 4, year);
  return ec == std::errc() && end == first + 4 ? year : 0;
}

}  // namespace

MovieLensRecords read_movielens_records(const std::string& ratings_csv,
                                        const std::string& movies_csv) {
  MovieLensRecords out;
  std::unordered_map<int64_t, size_t> known;
  read_csv(movies_csv, "movieId,title,genres", 3,
           [&](const std::vector<std::string>& f, const LineError& fail) {
             MovieLensMovie m;
             m.movie = parse_int(f[0], 1, "movieId", fail);
             if (!known.emplace(m.movie, out.movies.size()).second)
               fail("movieId " + f[0] + " listed twice");
             m.year = title_year(f[1]);
             const std::string& genres = f[2];
             if (genres.empty()) fail("column 3 (genres): empty");
             if (genres != "(no genres listed)") {
               size_t from = 0;
               for (;;) {
                 const size_t bar = std::min(genres.find('|', from), genres.size());
                 if (bar == from) fail("column 3 (genres): empty genre in \"" + genres + "\"");
                 m.genres.push_back(genres.substr(from, bar - from));
                 if (bar == genres.size()) break;
                 from = bar + 1;
               }
             }
             out.movies.push_back(std::move(m));
           });
  read_csv(ratings_csv, "userId,movieId,rating,timestamp", 4,
           [&](const std::vector<std::string>& f, const LineError& fail) {
             MovieLensRating r;
             r.user = parse_int(f[0], 1, "userId", fail);
             r.movie = parse_int(f[1], 2, "movieId", fail);
             r.rating = parse_rating(f[2], fail);
             r.timestamp = parse_int(f[3], 4, "timestamp", fail);
             if (known.find(r.movie) == known.end())
               fail("movieId " + f[1] + " is not in " + movies_csv);
             out.ratings.push_back(r);
           });
  return out;
}

}  // namespace tinyrec::data
