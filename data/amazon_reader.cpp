// Reads the DIN/DIEN preprocessed Amazon files into CTR samples, building vocabularies from the
// train file and mapping what only the test file holds to the unknown id.
#include "data/amazon_reader.hpp"

#include <charconv>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace tinyrec::data {

namespace {

constexpr char kListSep = '\x02';
constexpr size_t kFields = 6;

// Where token ids come from: added to `build` (the train file), else looked up in `lookup` with
// unseen tokens becoming kUnknownId (the test file, files to score), else the tokens are dense ids
// already, written as non-negative integers. With `lookup`, `user_keys` (a copy of the trained user
// vocabulary) gives unseen users their own user_key.
struct TokenIds {
  CtrVocabularies* build = nullptr;
  const CtrVocabularies* lookup = nullptr;
  Vocabulary* user_keys = nullptr;
};

class LineError {
 public:
  LineError(const std::string& path, size_t line) : path_(path), line_(line) {}
  [[noreturn]] void operator()(const std::string& what) const {
    throw std::runtime_error("amazon: " + path_ + ":" + std::to_string(line_) + ": " + what);
  }

 private:
  const std::string& path_;
  size_t line_;
};

// Splits `s` on `sep` into `out` (cleared first); an empty `s` gives one empty piece.
void split(std::string_view s, char sep, std::vector<std::string_view>& out) {
  out.clear();
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(start));
      return;
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

// The tokens of one history field; an empty field is an empty history.
void split_history(std::string_view field, const char* what, const LineError& fail,
                   std::vector<std::string_view>& out) {
  out.clear();
  if (field.empty()) return;
  split(field, kListSep, out);
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i].empty())
      fail(std::string("empty token at position ") + std::to_string(i + 1) + " of the " + what);
}

// Reads one file into `out`.
void read_file(const std::string& path, TokenIds ids, size_t max_len, std::vector<CtrSample>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("amazon: cannot open " + path);
  static const char* const kNames[kFields] = {"label",    "user",          "item",
                                              "category", "history items", "history categories"};

  std::string line;
  std::vector<std::string_view> fields, hist_items, hist_cats;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const LineError fail(path, line_no);
    std::string_view s(line);
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);  // files written on Windows
    if (s.empty()) fail("empty line");

    split(s, '\t', fields);
    if (fields.size() != kFields)
      fail("expected 6 tab-separated fields, got " + std::to_string(fields.size()));
    for (size_t f = 1; f < 4; ++f)
      if (fields[f].empty()) fail(std::string("empty ") + kNames[f] + " field");

    CtrSample sample;
    if (fields[0] == "1") {
      sample.label = 1.0f;
    } else if (fields[0] == "0") {
      sample.label = 0.0f;
    } else {
      fail("label must be 0 or 1, got \"" + std::string(fields[0]) + "\"");
    }

    split_history(fields[4], kNames[4], fail, hist_items);
    split_history(fields[5], kNames[5], fail, hist_cats);
    if (hist_items.size() != hist_cats.size())
      fail("history has " + std::to_string(hist_items.size()) + " items but " +
           std::to_string(hist_cats.size()) + " categories");
    const size_t n = hist_items.size();
    const size_t from = (max_len > 0 && n > max_len) ? n - max_len : 0;  // keep the most recent

    auto id = [&](Vocabulary CtrVocabularies::*vocab, std::string_view token) -> int64_t {
      if (ids.build) return ((*ids.build).*vocab).add(token);
      if (ids.lookup) return ((*ids.lookup).*vocab).find(token);
      int64_t value = -1;
      const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
      if (ec != std::errc() || end != token.data() + token.size() || value < 0)
        fail("expected a non-negative integer id, got \"" + std::string(token) + "\"");
      return value;
    };
    const auto users = &CtrVocabularies::users, items = &CtrVocabularies::items,
               cats = &CtrVocabularies::cats;
    sample.user = id(users, fields[1]);
    sample.user_key = ids.user_keys ? ids.user_keys->add(fields[1]) : sample.user;
    sample.item = id(items, fields[2]);
    sample.hist_items.reserve(n - from);
    for (size_t t = from; t < n; ++t) sample.hist_items.push_back(id(items, hist_items[t]));
    sample.cat = id(cats, fields[3]);
    sample.hist_cats.reserve(n - from);
    for (size_t t = from; t < n; ++t) sample.hist_cats.push_back(id(cats, hist_cats[t]));
    out.push_back(std::move(sample));
  }
  if (in.bad()) throw std::runtime_error("amazon: error while reading " + path);
}

}  // namespace

CtrDataset read_amazon(const std::string& train_path, const std::string& test_path,
                       size_t max_len) {
  CtrDataset ds;
  ds.name = "amazon";
  read_file(train_path, TokenIds{&ds.vocab, nullptr}, max_len, ds.train);
  if (ds.train.empty()) throw std::runtime_error("amazon: " + train_path + ": no samples");
  Vocabulary user_keys = ds.vocab.users;
  read_file(test_path, TokenIds{nullptr, &ds.vocab, &user_keys}, max_len, ds.test);
  ds.n_users = ds.vocab.users.size();
  ds.n_items = ds.vocab.items.size();
  ds.n_cats = ds.vocab.cats.size();
  count_train_ids(ds);
  return ds;
}

std::vector<CtrSample> read_samples_for_prediction(const std::string& path,
                                                   const CtrDataset* trained) {
  std::vector<CtrSample> out;
  if (trained) {
    Vocabulary user_keys = trained->vocab.users;
    read_file(path, TokenIds{nullptr, &trained->vocab, &user_keys}, 0, out);
  } else {
    read_file(path, TokenIds{}, 0, out);
  }
  return out;
}

}  // namespace tinyrec::data
