// Schema-driven CSV reading into MultiTaskDataset: field splitting, the schema text format,
// standardisation with train statistics, train-built vocabularies, and the two ready recipes.
#include "data/tabular_csv.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace tinyrec::data {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

void trim_in_place(std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_blank(s[b])) ++b;
  while (e > b && is_blank(s[e - 1])) --e;
  if (b > 0 || e < s.size()) s = s.substr(b, e - b);
}

bool all_blank(const std::string& s) {
  for (char c : s)
    if (!is_blank(c)) return false;
  return true;
}

// Splits `line` into fields[0..count), reusing the strings of `fields` across calls so that reading
// a large file does not allocate per field. Returns false and sets `error` on a malformed quote.
bool split_fields(const std::string& line, char delim, std::vector<std::string>& fields,
                  size_t& count, std::string& error) {
  count = 0;
  const size_t n = line.size();
  size_t i = 0;
  while (true) {
    if (count == fields.size()) fields.emplace_back();
    std::string& f = fields[count++];
    f.clear();
    size_t j = i;
    while (j < n && line[j] != delim && is_blank(line[j])) ++j;
    if (j < n && line[j] == '"') {
      bool closed = false;
      for (++j; j < n; ++j) {
        if (line[j] != '"') {
          f.push_back(line[j]);
        } else if (j + 1 < n && line[j + 1] == '"') {
          f.push_back('"');
          ++j;
        } else {
          closed = true;
          ++j;
          break;
        }
      }
      if (!closed) {
        error = "unterminated quote in field " + std::to_string(count);
        return false;
      }
      while (j < n && line[j] != delim && is_blank(line[j])) ++j;
      if (j < n && line[j] != delim) {
        error = "text after the closing quote of field " + std::to_string(count);
        return false;
      }
      trim_in_place(f);
    } else {
      size_t k = line.find(delim, i);
      if (k == std::string::npos) k = n;
      size_t e = k;
      while (e > j && is_blank(line[e - 1])) --e;
      f.assign(line, j, e - j);
      j = k;
    }
    if (j >= n) break;
    i = j + 1;
  }
  return true;
}

// ---- schema text format ----------------------------------------------------------------------

// Splits a schema line at blanks outside quotes, stopping at '#' outside quotes. Quotes are kept
// in the tokens; unquote() and list_items() remove them.
std::vector<std::string> tokenize(const std::string& line, bool& unterminated) {
  std::vector<std::string> tokens;
  std::string cur;
  bool in_quote = false, have = false;
  for (char c : line) {
    if (c == '"') {
      in_quote = !in_quote;
      cur.push_back(c);
      have = true;
    } else if (!in_quote && c == '#') {
      break;
    } else if (!in_quote && (is_blank(c) || c == '\r')) {
      if (have) tokens.push_back(cur);
      cur.clear();
      have = false;
    } else {
      cur.push_back(c);
      have = true;
    }
  }
  if (have) tokens.push_back(cur);
  unterminated = in_quote;
  return tokens;
}

struct Item {
  std::string text;
  bool quoted = false;
};

// Splits a token at commas outside quotes and removes the quotes ("" inside quotes is one quote).
std::vector<Item> list_items(const std::string& token) {
  std::vector<Item> items(1);
  bool in_quote = false;
  for (size_t i = 0; i < token.size(); ++i) {
    const char c = token[i];
    if (c == '"') {
      if (in_quote && i + 1 < token.size() && token[i + 1] == '"') {
        items.back().text.push_back('"');
        ++i;
      } else {
        in_quote = !in_quote;
        items.back().quoted = true;
      }
    } else if (c == ',' && !in_quote) {
      items.emplace_back();
    } else {
      items.back().text.push_back(c);
    }
  }
  return items;
}

std::string unquote(const std::string& token) {
  std::string out;
  bool in_quote = false;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] != '"') {
      out.push_back(token[i]);
    } else if (in_quote && i + 1 < token.size() && token[i + 1] == '"') {
      out.push_back('"');
      ++i;
    } else {
      in_quote = !in_quote;
    }
  }
  return out;
}

// Appends the list items of tokens [first, end) to `out`; unquoted empty items (from ", ,") drop.
void append_list(const std::vector<std::string>& tokens, size_t first,
                 std::vector<std::string>& out) {
  for (size_t t = first; t < tokens.size(); ++t) {
    for (Item& item : list_items(tokens[t])) {
      if (!item.quoted) trim_in_place(item.text);
      if (!item.text.empty() || item.quoted) out.push_back(item.text);
    }
  }
}

std::vector<std::string> parse_list(const std::string& text) {
  bool unterminated = false;
  const std::vector<std::string> tokens = tokenize(text, unterminated);
  if (unterminated) throw std::invalid_argument("unterminated quote in list: " + text);
  std::vector<std::string> out;
  append_list(tokens, 0, out);
  return out;
}

char parse_delimiter(const std::string& text) {
  if (text == "comma") return ',';
  if (text == "tab" || text == "\\t") return '\t';
  if (text == "semicolon") return ';';
  if (text == "space") return ' ';
  if (text == "pipe") return '|';
  if (text.size() == 1 && text != "\"") return text[0];
  throw std::invalid_argument("bad delimiter '" + text +
                              "' (accepted values: one character, comma, tab, semicolon, space, "
                              "pipe)");
}

bool parse_yes_no(const std::string& text, const std::string& what) {
  if (text == "yes" || text == "true") return true;
  if (text == "no" || text == "false") return false;
  throw std::invalid_argument("bad " + what + " '" + text + "' (accepted values: yes, no)");
}

LabelSpec label_from_tokens(const std::vector<std::string>& tokens, size_t first) {
  if (tokens.size() < first + 2) {
    throw std::invalid_argument(
        "a label needs a column and a kind: COLUMN KIND [name=NAME] [positive=V1,V2,...]");
  }
  LabelSpec spec;
  spec.column = unquote(tokens[first]);
  spec.kind = parse_task_kind(unquote(tokens[first + 1]));
  for (size_t t = first + 2; t < tokens.size(); ++t) {
    const std::string& tok = tokens[t];
    if (tok.rfind("name=", 0) == 0) {
      spec.name = unquote(tok.substr(5));
    } else if (tok.rfind("positive=", 0) == 0) {
      append_list({tok.substr(9)}, 0, spec.positive_values);
      if (spec.positive_values.empty()) throw std::invalid_argument("positive= lists no value");
    } else {
      throw std::invalid_argument("unknown label option '" + tok +
                                  "' (accepted: name=NAME, positive=V1,V2,...)");
    }
  }
  if (spec.kind == TaskKind::regression && !spec.positive_values.empty()) {
    throw std::invalid_argument("label '" + spec.column +
                                "': positive= applies to binary labels only");
  }
  return spec;
}

// ---- reading ----------------------------------------------------------------------------------

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

// Rows of one or two files in a raw form: numbers as read (NaN = missing), categorical values as
// ids into per-column intern tables shared by both files (-1 = missing), labels as 0/1 or numbers.
struct RawTable {
  size_t rows = 0, dropped = 0;
  std::vector<float> num;
  std::vector<int32_t> cat;
  std::vector<float> lab;
  std::vector<std::unordered_map<std::string, int32_t>> intern;
  std::vector<std::vector<std::string>> values;
};

bool parse_number(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", '" : "'") + names[i] + "'";
  return out;
}

size_t resolve(const std::vector<std::string>& names, const std::string& column,
               const std::string& role, const std::string& path) {
  size_t found = names.size();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != column) continue;
    if (found != names.size()) {
      throw std::runtime_error(path + ": column '" + column + "' appears more than once");
    }
    found = i;
  }
  if (found == names.size()) {
    throw std::runtime_error(path + ": schema names " + role + " column '" + column +
                             "', which is not among the file's " + std::to_string(names.size()) +
                             " columns: " + join(names));
  }
  return found;
}

void read_file(const CsvSchema& s, const std::string& path, RawTable& t) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open '" + path + "'");
  const std::unordered_set<std::string> missing(s.missing.begin(), s.missing.end());
  std::vector<std::unordered_set<std::string>> positive;
  for (const LabelSpec& l : s.labels)
    positive.emplace_back(l.positive_values.begin(), l.positive_values.end());

  std::vector<std::string> names;
  std::vector<size_t> num_idx, cat_idx, lab_idx;
  std::vector<std::string> fields;
  size_t count = 0;
  std::string line, error;
  std::vector<float> num_row(s.numeric.size()), lab_row(s.labels.size());
  size_t line_no = 0;
  bool resolved = false;

  auto where = [&](const std::string& column) {
    std::string w = path + ":" + std::to_string(line_no);
    return column.empty() ? w : w + ": column '" + column + "'";
  };

  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (all_blank(line)) continue;
    if (!split_fields(line, s.delimiter, fields, count, error)) {
      throw std::runtime_error(where("") + ": " + error);
    }
    if (!resolved) {
      if (s.header) {
        names.assign(fields.begin(), fields.begin() + count);
      } else if (!s.columns.empty()) {
        names = s.columns;
      } else {
        for (size_t i = 0; i < count; ++i) names.push_back(std::to_string(i + 1));
      }
      for (const auto& c : s.numeric) num_idx.push_back(resolve(names, c, "numeric", path));
      for (const auto& c : s.categorical) cat_idx.push_back(resolve(names, c, "categorical", path));
      for (const auto& l : s.labels) lab_idx.push_back(resolve(names, l.column, "label", path));
      resolved = true;
      if (s.header) continue;
    }
    if (count != names.size()) {
      std::string msg = where("") + ": expected " + std::to_string(names.size()) + " fields, got " +
                        std::to_string(count);
      msg += count < names.size() ? "; column '" + names[count] + "' is missing"
                                  : "; extra field after the last column '" + names.back() + "'";
      throw std::runtime_error(msg);
    }

    for (size_t k = 0; k < num_idx.size(); ++k) {
      const std::string& v = fields[num_idx[k]];
      double x = 0.0;
      if (missing.count(v)) {
        num_row[k] = kMissing;
      } else if (parse_number(v, x)) {
        num_row[k] = static_cast<float>(x);
        if (!std::isfinite(num_row[k]))
          throw std::runtime_error(where(s.numeric[k]) + ": '" + v +
                                   "' is beyond the range of a float");
      } else {
        throw std::runtime_error(where(s.numeric[k]) + ": expected a number, got '" + v + "'");
      }
    }
    bool label_missing = false;
    for (size_t k = 0; k < lab_idx.size(); ++k) {
      const std::string& v = fields[lab_idx[k]];
      const LabelSpec& spec = s.labels[k];
      double x = 0.0;
      if (missing.count(v)) {
        label_missing = true;
      } else if (spec.kind == TaskKind::binary && !spec.positive_values.empty()) {
        lab_row[k] = positive[k].count(v) ? 1.0f : 0.0f;
      } else if (!parse_number(v, x)) {
        throw std::runtime_error(where(spec.column) + ": expected a number, got '" + v + "'");
      } else if (spec.kind == TaskKind::binary && x != 0.0 && x != 1.0) {
        throw std::runtime_error(
            where(spec.column) +
            ": a binary label must be 0 or 1 (or give positive values), got '" + v + "'");
      } else {
        lab_row[k] = static_cast<float>(x);
        if (!std::isfinite(lab_row[k]))
          throw std::runtime_error(where(spec.column) + ": '" + v +
                                   "' is beyond the range of a float");
      }
    }
    if (label_missing) {
      ++t.dropped;
      continue;
    }
    t.num.insert(t.num.end(), num_row.begin(), num_row.end());
    t.lab.insert(t.lab.end(), lab_row.begin(), lab_row.end());
    for (size_t k = 0; k < cat_idx.size(); ++k) {
      const std::string& v = fields[cat_idx[k]];
      if (missing.count(v)) {
        t.cat.push_back(-1);
        continue;
      }
      auto it = t.intern[k].find(v);
      if (it == t.intern[k].end()) {
        it = t.intern[k].emplace(v, static_cast<int32_t>(t.values[k].size())).first;
        t.values[k].push_back(v);
      }
      t.cat.push_back(it->second);
    }
    ++t.rows;
  }
  if (!resolved) throw std::runtime_error(path + ": the file is empty");
}

RawTable make_table(const CsvSchema& s) {
  RawTable t;
  t.intern.resize(s.categorical.size());
  t.values.resize(s.categorical.size());
  return t;
}

MultiTaskDataset build_dataset(const CsvSchema& s, const RawTable& t,
                               const std::vector<size_t>& train, const std::vector<size_t>& test) {
  const size_t dn = s.numeric.size(), dc = s.categorical.size(), dl = s.labels.size();
  MultiTaskDataset ds;
  ds.name = s.name;
  for (const LabelSpec& l : s.labels)
    ds.tasks.push_back({l.name.empty() ? l.column : l.name, l.kind});
  ds.numeric_names = s.numeric;
  ds.categorical_names = s.categorical;

  ds.numeric_mean.assign(dn, 0.0);
  ds.numeric_std.assign(dn, 1.0);
  for (size_t k = 0; k < dn; ++k) {
    double sum = 0.0;
    size_t n = 0;
    for (size_t r : train) {
      const float v = t.num[r * dn + k];
      if (!std::isnan(v)) sum += v, ++n;
    }
    if (n == 0) continue;
    const double mean = sum / static_cast<double>(n);
    double ss = 0.0;
    for (size_t r : train) {
      const float v = t.num[r * dn + k];
      if (!std::isnan(v)) ss += (v - mean) * (v - mean);
    }
    const double sd = std::sqrt(ss / static_cast<double>(n));
    ds.numeric_mean[k] = mean;
    // A constant column would otherwise be divided by rounding noise.
    ds.numeric_std[k] = sd > 1e-12 * (1.0 + std::abs(mean)) ? sd : 1.0;
  }

  std::vector<std::vector<int64_t>> remap(dc);
  ds.categorical_values.resize(dc);
  for (size_t k = 0; k < dc; ++k) {
    std::vector<char> seen(t.values[k].size(), 0);
    for (size_t r : train) {
      const int32_t id = t.cat[r * dc + k];
      if (id >= 0) seen[id] = 1;
    }
    std::vector<int32_t> local;
    for (size_t id = 0; id < seen.size(); ++id)
      if (seen[id]) local.push_back(static_cast<int32_t>(id));
    std::sort(local.begin(), local.end(),
              [&](int32_t a, int32_t b) { return t.values[k][a] < t.values[k][b]; });
    remap[k].assign(t.values[k].size(), 0);
    ds.categorical_values[k] = {""};
    for (size_t i = 0; i < local.size(); ++i) {
      remap[k][local[i]] = static_cast<int64_t>(i + 1);
      ds.categorical_values[k].push_back(t.values[k][local[i]]);
    }
    ds.cat_vocab_sizes.push_back(static_cast<int64_t>(local.size() + 1));
  }

  auto fill = [&](const std::vector<size_t>& rows, xt::xarray<float>& x, xt::xarray<int64_t>& cat,
                  xt::xarray<float>& y) {
    const size_t n = rows.size();
    x.resize({n, dn});
    cat.resize({n, dc});
    y.resize({n, dl});
    float* xp = x.data();
    int64_t* cp = cat.data();
    float* yp = y.data();
    for (size_t i = 0; i < n; ++i) {
      const size_t r = rows[i];
      for (size_t k = 0; k < dn; ++k) {
        const float v = t.num[r * dn + k];
        xp[i * dn + k] =
            std::isnan(v) ? 0.0f : static_cast<float>((v - ds.numeric_mean[k]) / ds.numeric_std[k]);
      }
      for (size_t k = 0; k < dc; ++k) {
        const int32_t id = t.cat[r * dc + k];
        cp[i * dc + k] = id < 0 ? 0 : remap[k][id];
      }
      for (size_t k = 0; k < dl; ++k) yp[i * dl + k] = t.lab[r * dl + k];
    }
  };
  fill(train, ds.train_x, ds.train_cat, ds.train_y);
  fill(test, ds.test_x, ds.test_cat, ds.test_y);
  return ds;
}

}  // namespace

std::vector<std::string> split_csv_line(const std::string& line, char delimiter) {
  std::vector<std::string> fields;
  size_t count = 0;
  std::string error;
  if (!split_fields(line, delimiter, fields, count, error)) throw std::runtime_error(error);
  fields.resize(count);
  return fields;
}

LabelSpec parse_label_spec(const std::string& text) {
  bool unterminated = false;
  const std::vector<std::string> tokens = tokenize(text, unterminated);
  if (unterminated) throw std::invalid_argument("unterminated quote in label: " + text);
  return label_from_tokens(tokens, 0);
}

void validate_csv_schema(const CsvSchema& s) {
  if (s.labels.empty()) throw std::invalid_argument("the schema has no label column");
  std::unordered_map<std::string, std::string> role;
  auto claim = [&](const std::string& column, const std::string& what) {
    if (column.empty())
      throw std::invalid_argument("the schema has an empty " + what + " column name");
    auto [it, fresh] = role.emplace(column, what);
    if (!fresh) {
      throw std::invalid_argument("column '" + column + "' is used twice in the schema (as " +
                                  it->second + " and as " + what + ")");
    }
  };
  for (const auto& c : s.numeric) claim(c, "numeric");
  for (const auto& c : s.categorical) claim(c, "categorical");
  for (const auto& l : s.labels) claim(l.column, "label");
  if (s.delimiter == '"') throw std::invalid_argument("the delimiter cannot be a double quote");
}

CsvSchema parse_csv_schema(const std::string& text, const std::string& origin) {
  CsvSchema s;
  s.missing.clear();
  bool missing_given = false;
  std::istringstream in(text);
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string where = origin + ":" + std::to_string(line_no) + ": ";
    bool unterminated = false;
    const std::vector<std::string> tok = tokenize(line, unterminated);
    if (unterminated) throw std::invalid_argument(where + "unterminated quote");
    if (tok.empty()) continue;
    const std::string& key = tok[0];
    try {
      auto need_value = [&]() {
        if (tok.size() != 2) throw std::invalid_argument("'" + key + "' takes exactly one value");
        return unquote(tok[1]);
      };
      if (key == "name") {
        s.name = need_value();
      } else if (key == "delimiter") {
        s.delimiter = parse_delimiter(need_value());
      } else if (key == "header") {
        s.header = parse_yes_no(need_value(), "header");
      } else if (key == "columns") {
        append_list(tok, 1, s.columns);
      } else if (key == "numeric") {
        append_list(tok, 1, s.numeric);
      } else if (key == "categorical") {
        append_list(tok, 1, s.categorical);
      } else if (key == "missing") {
        append_list(tok, 1, s.missing);
        missing_given = true;
      } else if (key == "label") {
        s.labels.push_back(label_from_tokens(tok, 1));
      } else {
        throw std::invalid_argument("unknown directive '" + key +
                                    "' (accepted: name, delimiter, header, columns, numeric, "
                                    "categorical, label, missing)");
      }
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(where + e.what());
    }
  }
  if (!missing_given) s.missing = CsvSchema{}.missing;
  try {
    validate_csv_schema(s);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(origin + ": " + e.what());
  }
  return s;
}

CsvSchema read_csv_schema_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open schema file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_csv_schema(text.str(), path);
}

CsvSchema csv_schema_from_flags(const std::string& numeric, const std::string& categorical,
                                const std::vector<std::string>& labels,
                                const std::string& delimiter, bool header) {
  CsvSchema s;
  s.numeric = parse_list(numeric);
  s.categorical = parse_list(categorical);
  for (const std::string& l : labels) s.labels.push_back(parse_label_spec(l));
  s.delimiter = parse_delimiter(delimiter);
  s.header = header;
  validate_csv_schema(s);
  return s;
}

MultiTaskDataset load_csv_dataset(const CsvSchema& schema, const std::string& train_path,
                                  const std::string& test_path, CsvLoadReport* report) {
  validate_csv_schema(schema);
  RawTable t = make_table(schema);
  read_file(schema, train_path, t);
  const size_t n_train = t.rows;
  read_file(schema, test_path, t);
  std::vector<size_t> train(n_train), test(t.rows - n_train);
  for (size_t i = 0; i < train.size(); ++i) train[i] = i;
  for (size_t i = 0; i < test.size(); ++i) test[i] = n_train + i;
  if (report) *report = {train.size(), test.size(), t.dropped};
  return build_dataset(schema, t, train, test);
}

MultiTaskDataset load_csv_dataset_split(const CsvSchema& schema, const std::string& path,
                                        double test_fraction, uint64_t seed,
                                        CsvLoadReport* report) {
  if (!(test_fraction >= 0.0 && test_fraction < 1.0)) {
    throw std::invalid_argument("test_fraction must lie in [0, 1), got " +
                                std::to_string(test_fraction));
  }
  validate_csv_schema(schema);
  RawTable t = make_table(schema);
  read_file(schema, path, t);
  std::vector<size_t> order(t.rows);
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  shuffle_in_place(order, rng);
  const size_t n_test =
      static_cast<size_t>(std::llround(test_fraction * static_cast<double>(t.rows)));
  std::vector<size_t> test(order.begin(), order.begin() + n_test);
  std::vector<size_t> train(order.begin() + n_test, order.end());
  std::sort(test.begin(), test.end());
  std::sort(train.begin(), train.end());
  if (report) *report = {train.size(), test.size(), t.dropped};
  return build_dataset(schema, t, train, test);
}

CsvSchema census_income_schema() {
  CsvSchema s;
  s.name = "census-income";
  s.header = false;
  s.missing = {"?", ""};
  s.columns = {"age",
               "class of worker",
               "detailed industry recode",
               "detailed occupation recode",
               "education",
               "wage per hour",
               "enroll in edu inst last wk",
               "marital stat",
               "major industry code",
               "major occupation code",
               "race",
               "hispanic origin",
               "sex",
               "member of a labor union",
               "reason for unemployment",
               "full or part time employment stat",
               "capital gains",
               "capital losses",
               "dividends from stocks",
               "tax filer stat",
               "region of previous residence",
               "state of previous residence",
               "detailed household and family stat",
               "detailed household summary in household",
               "instance weight",
               "migration code-change in msa",
               "migration code-change in reg",
               "migration code-move within reg",
               "live in this house 1 year ago",
               "migration prev res in sunbelt",
               "num persons worked for employer",
               "family members under 18",
               "country of birth father",
               "country of birth mother",
               "country of birth self",
               "citizenship",
               "own business or self employed",
               "fill inc questionnaire for veteran's admin",
               "veterans benefits",
               "weeks worked in year",
               "year",
               "income"};
  s.numeric = {"age",
               "wage per hour",
               "capital gains",
               "capital losses",
               "dividends from stocks",
               "num persons worked for employer",
               "weeks worked in year"};
  std::unordered_set<std::string> not_categorical(s.numeric.begin(), s.numeric.end());
  not_categorical.insert({"instance weight", "marital stat", "income"});
  for (const std::string& c : s.columns)
    if (!not_categorical.count(c)) s.categorical.push_back(c);
  s.labels = {{"income", TaskKind::binary, "income_50k", {"50000+.", "50000+"}},
              {"marital stat", TaskKind::binary, "never_married", {"Never married"}}};
  return s;
}

CsvSchema income_schema() {
  CsvSchema s;
  s.name = "kernlab-income";
  s.header = true;
  s.missing = {"NA", ""};
  s.categorical = {"SEX",         "AGE",          "EDUCATION",      "OCCUPATION",
                   "AREA",        "DUAL.INCOMES", "HOUSEHOLD.SIZE", "UNDER18",
                   "HOUSEHOLDER", "HOME.TYPE",    "ETHNIC.CLASS",   "LANGUAGE"};
  s.labels = {{"INCOME", TaskKind::binary, "high_income", {"[50.000-75.000)", "[75.000-"}},
              {"MARITAL.STATUS", TaskKind::binary, "never_married", {"Single"}}};
  return s;
}

}  // namespace tinyrec::data
