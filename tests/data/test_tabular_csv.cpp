// Tests for the schema-driven CSV reader (fixtures tests/data/fixtures/mt_*), the schema format,
// the census-income and kernlab income recipes, and the multi-task batcher.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "data/batching.hpp"
#include "data/multitask_dataset.hpp"
#include "data/tabular_csv.hpp"
#include "tests/test_support.hpp"

using namespace tinyrec::data;

namespace {

std::string fixture(const std::string& name) {
  return std::string(TINYREC_SOURCE_DIR) + "/tests/data/fixtures/" + name;
}

CsvSchema small_schema() {
  CsvSchema s;
  s.name = "small";
  s.numeric = {"age", "height"};
  s.categorical = {"city"};
  s.labels = {{"income, bracket", TaskKind::binary, "rich", {">50K", ">50K."}},
              {"married", TaskKind::binary, "", {}},
              {"score", TaskKind::regression, "score_reg", {}}};
  return s;
}

xt::xarray<int64_t> id_column(const std::vector<int64_t>& ids) {
  xt::xarray<int64_t> out = xt::zeros<int64_t>({ids.size(), size_t{1}});
  for (size_t i = 0; i < ids.size(); ++i) out(i, 0) = ids[i];
  return out;
}

// Population standard deviation of {30, 40, 50} and of {1.5, 2.5, 3.5}.
const double kAgeSd = std::sqrt(200.0 / 3.0);
const double kHeightSd = std::sqrt(2.0 / 3.0);

void check_schemas_equal(const CsvSchema& a, const CsvSchema& b) {
  CHECK(a.name == b.name);
  CHECK(a.numeric == b.numeric);
  CHECK(a.categorical == b.categorical);
  CHECK(a.delimiter == b.delimiter);
  CHECK(a.header == b.header);
  CHECK(a.columns == b.columns);
  CHECK(a.missing == b.missing);
  REQUIRE(a.labels.size() == b.labels.size());
  for (size_t i = 0; i < a.labels.size(); ++i) {
    CHECK(a.labels[i].column == b.labels[i].column);
    CHECK(a.labels[i].kind == b.labels[i].kind);
    CHECK(a.labels[i].name == b.labels[i].name);
    CHECK(a.labels[i].positive_values == b.labels[i].positive_values);
  }
}

}  // namespace

TEST_CASE("split_csv_line: quotes, embedded delimiters, doubled quotes and surrounding spaces") {
  CHECK(split_csv_line(R"(a, "b, c" ,"d ""e""",)", ',') ==
        std::vector<std::string>{"a", "b, c", "d \"e\"", ""});
  CHECK(split_csv_line(" 73, Not in universe, - 50000.", ',') ==
        std::vector<std::string>{"73", "Not in universe", "- 50000."});
  CHECK(split_csv_line("x\ty z\t", '\t') == std::vector<std::string>{"x", "y z", ""});
  CHECK(split_csv_line("", ',') == std::vector<std::string>{""});
  CHECK_THROWS_WITH_AS(split_csv_line(R"(1,"abc,2)", ','), "unterminated quote in field 2",
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(split_csv_line(R"(1,"abc"x,2)", ','),
                       "text after the closing quote of field 2", std::runtime_error);
}

TEST_CASE("csv: train/test files give exact standardised values, vocabularies and labels") {
  CsvLoadReport rep;
  const MultiTaskDataset ds = load_csv_dataset(small_schema(), fixture("mt_small_train.csv"),
                                               fixture("mt_small_test.csv"), &rep);
  CHECK(rep.train_rows == 4);
  CHECK(rep.test_rows == 3);
  CHECK(rep.dropped_missing_label == 1);  // row id 5: married is '?'
  CHECK(ds.name == "small");
  REQUIRE(ds.tasks.size() == 3);
  CHECK(ds.tasks[0].name == "rich");
  CHECK(ds.tasks[1].name == "married");  // empty name -> column name
  CHECK(ds.tasks[2].name == "score_reg");
  CHECK(ds.tasks[2].kind == TaskKind::regression);
  CHECK(ds.numeric_names == std::vector<std::string>{"age", "height"});
  CHECK(ds.categorical_names == std::vector<std::string>{"city"});

  // age {30, 40, ?, 50}: mean 40; height {1.5, ?, 2.5, 3.5}: mean 2.5; '?' -> 0 (the mean).
  CHECK(ds.numeric_mean[0] == doctest::Approx(40.0));
  CHECK(ds.numeric_std[0] == doctest::Approx(kAgeSd));
  CHECK(ds.numeric_mean[1] == doctest::Approx(2.5));
  CHECK(ds.numeric_std[1] == doctest::Approx(kHeightSd));
  REQUIRE(ds.train_x.shape() == std::vector<size_t>{4, 2});
  const std::vector<double> age = {-10 / kAgeSd, 0, 0, 10 / kAgeSd};
  const std::vector<double> height = {-1 / kHeightSd, 0, 0, 1 / kHeightSd};
  for (size_t i = 0; i < 4; ++i) {
    CHECK(ds.train_x(i, 0) == doctest::Approx(age[i]));
    CHECK(ds.train_x(i, 1) == doctest::Approx(height[i]));
  }
  // Test rows use the train statistics: age {60, ?, 40}, height {2.5, 4.0, ?}.
  CHECK(ds.test_x(0, 0) == doctest::Approx(20 / kAgeSd));
  CHECK(ds.test_x(1, 0) == 0.0f);
  CHECK(ds.test_x(2, 0) == doctest::Approx(0.0));
  CHECK(ds.test_x(0, 1) == doctest::Approx(0.0));
  CHECK(ds.test_x(1, 1) == doctest::Approx(1.5 / kHeightSd));
  CHECK(ds.test_x(2, 1) == 0.0f);

  // Vocabulary from train rows only, sorted; "Rome" appears only in the dropped row and in test.
  CHECK(ds.cat_vocab_sizes == std::vector<int64_t>{3});
  CHECK(ds.categorical_values[0] == std::vector<std::string>{"", "Berlin", "Paris, France"});
  CHECK(ds.train_cat == id_column({2, 1, 2, 0}));
  CHECK(ds.test_cat == id_column({0, 1, 2}));

  CHECK(ds.train_y == xt::xarray<float>{{1, 1, 2.5f}, {0, 0, -1}, {1, 0, 0.5f}, {0, 1, 4}});
  // Test header is in another order; " >50K " is trimmed before matching.
  CHECK(ds.test_y == xt::xarray<float>{{1, 1, 3}, {0, 0, 1}, {1, 1, 0}});
}

TEST_CASE("csv: malformed rows name the file, the line and the column") {
  CsvSchema s;
  s.numeric = {"a"};
  s.categorical = {"b"};
  s.labels = {{"y", TaskKind::binary, "", {}}};
  const std::string bad_fields = fixture("mt_bad_fields.csv");
  CHECK_THROWS_WITH_AS(load_csv_dataset_split(s, bad_fields, 0.0, 1),
                       (bad_fields + ":3: expected 3 fields, got 2; column 'y' is missing").c_str(),
                       std::runtime_error);
  const std::string bad_number = fixture("mt_bad_number.csv");  // line 4 is blank
  CHECK_THROWS_WITH_AS(load_csv_dataset_split(s, bad_number, 0.0, 1),
                       (bad_number + ":5: column 'a': expected a number, got 'abc'").c_str(),
                       std::runtime_error);
  // Finite as a double, infinite as the float stored: refused, not kept as inf.
  {
    const tinyrec_test::TempDir dir("tinyrec_csv_test", "float_range");
    std::filesystem::create_directories(dir.path);
    const std::string big = (dir.path / "big.csv").string();
    std::ofstream(big) << "a,b,y\n1.5,x,1\n2e39,x,0\n";
    CHECK_THROWS_WITH_AS(load_csv_dataset_split(s, big, 0.0, 1),
                         (big + ":3: column 'a': '2e39' is beyond the range of a float").c_str(),
                         std::runtime_error);
    CsvSchema regression = s;
    regression.labels = {{"y", TaskKind::regression, "", {}}};
    std::ofstream(big) << "a,b,y\n1.5,x,1\n2,x,-1e40\n";
    CHECK_THROWS_WITH_AS(load_csv_dataset_split(regression, big, 0.0, 1),
                         (big + ":3: column 'y': '-1e40' is beyond the range of a float").c_str(),
                         std::runtime_error);
  }
  const std::string bad_quote = fixture("mt_bad_quote.csv");
  CHECK_THROWS_WITH_AS(load_csv_dataset_split(s, bad_quote, 0.0, 1),
                       (bad_quote + ":3: unterminated quote in field 2").c_str(),
                       std::runtime_error);
  const std::string bad_binary = fixture("mt_bad_binary.csv");
  const std::string binary_msg = bad_binary + ":3: column 'y': a binary label must be 0 or 1";
  CHECK_THROWS_WITH_AS(load_csv_dataset_split(s, bad_binary, 0.0, 1),
                       doctest::Contains(binary_msg.c_str()), std::runtime_error);
  CHECK_THROWS_WITH_AS(load_csv_dataset_split(s, fixture("mt_no_such_file.csv"), 0.0, 1),
                       doctest::Contains("cannot open"), std::runtime_error);
}

TEST_CASE("csv: an unknown column is named along with the file's columns") {
  CsvSchema s = small_schema();
  s.numeric.push_back("weight");
  const std::string path = fixture("mt_small_train.csv");
  CHECK_THROWS_WITH_AS(load_csv_dataset(s, path, fixture("mt_small_test.csv")),
                       (path + ": schema names numeric column 'weight', which is not among the "
                               "file's 7 columns: 'id', 'age', 'city', 'income, bracket', "
                               "'height', 'married', 'score'")
                           .c_str(),
                       std::runtime_error);
}

TEST_CASE("csv: a seeded fraction split is a deterministic partition using train statistics") {
  const CsvSchema s = small_schema();
  CsvLoadReport rep;
  const MultiTaskDataset a = load_csv_dataset_split(s, fixture("mt_small_train.csv"), 0.5, 7, &rep);
  const MultiTaskDataset b = load_csv_dataset_split(s, fixture("mt_small_train.csv"), 0.5, 7);
  CHECK(rep.train_rows == 2);
  CHECK(rep.test_rows == 2);
  CHECK(rep.dropped_missing_label == 1);
  CHECK(a.train_y == b.train_y);
  CHECK(a.test_x == b.test_x);
  std::multiset<float> scores;
  for (size_t i = 0; i < 2; ++i) scores.insert({a.train_y(i, 2), a.test_y(i, 2)});
  CHECK(scores == std::multiset<float>{-1.0f, 0.5f, 2.5f, 4.0f});
  // Each split keeps the file's order: the score column identifies rows (2.5, -1, 0.5, 4).
  const std::vector<float> file_order = {2.5f, -1.0f, 0.5f, 4.0f};
  auto pos = [&](float v) { return std::find(file_order.begin(), file_order.end(), v); };
  CHECK(pos(a.train_y(0, 2)) < pos(a.train_y(1, 2)));
  CHECK(pos(a.test_y(0, 2)) < pos(a.test_y(1, 2)));
  // Statistics come from the two train rows alone: their non-missing standardised ages average 0.
  double sum = 0.0;
  int n = 0;
  for (size_t i = 0; i < 2; ++i) {
    const float score = a.train_y(i, 2);
    if (score != 0.5f) sum += a.train_x(i, 0), ++n;  // the 0.5 row's age is '?'
  }
  CHECK(n >= 1);
  CHECK(sum / n == doctest::Approx(0.0).epsilon(1e-6));
  CHECK_THROWS_WITH_AS(load_csv_dataset_split(s, fixture("mt_small_train.csv"), 1.0, 7),
                       doctest::Contains("test_fraction must lie in [0, 1)"),
                       std::invalid_argument);
}

TEST_CASE("csv schema file, flags and label spec parse to the same schema") {
  const CsvSchema from_file = read_csv_schema_file(fixture("mt_schema.txt"));
  check_schemas_equal(from_file, small_schema());
  const CsvSchema from_flags =
      csv_schema_from_flags("age, height", "city",
                            {R"("income, bracket" binary name=rich positive=">50K",">50K.")",
                             "married binary", "score regression name=score_reg"},
                            "comma", true);
  CsvSchema expect = small_schema();
  expect.name = "csv";
  check_schemas_equal(from_flags, expect);

  const CsvSchema parsed = parse_csv_schema(
      "header no\ndelimiter tab\ncolumns a, \"b c\"\ncolumns y\nnumeric a\n"
      "categorical \"b c\"\nlabel y binary positive=\"yes, sure\",ok\nmissing NA\n",
      "inline");
  CHECK(parsed.header == false);
  CHECK(parsed.delimiter == '\t');
  CHECK(parsed.columns == std::vector<std::string>{"a", "b c", "y"});
  CHECK(parsed.categorical == std::vector<std::string>{"b c"});
  CHECK(parsed.labels[0].positive_values == std::vector<std::string>{"yes, sure", "ok"});
  CHECK(parsed.missing == std::vector<std::string>{"NA"});

  CHECK_THROWS_WITH_AS(parse_csv_schema("numeric a\nlabel y binary\nfeature z\n", "s.txt"),
                       doctest::Contains("s.txt:3: unknown directive 'feature'"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(
      parse_csv_schema("label y binomial\n", "s.txt"),
      "s.txt:1: unknown task kind 'binomial' (accepted values: regression, binary)",
      std::invalid_argument);
  CHECK_THROWS_WITH_AS(parse_csv_schema("numeric a\ncategorical a\nlabel y binary\n", "s.txt"),
                       doctest::Contains("column 'a' is used twice"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(parse_csv_schema("numeric a\n", "s.txt"),
                       "s.txt: the schema has no label column", std::invalid_argument);
  CHECK_THROWS_WITH_AS(parse_csv_schema("delimiter ab\nlabel y binary\n", "s.txt"),
                       doctest::Contains("accepted values: one character, comma, tab"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(parse_label_spec("y regression positive=1"),
                       doctest::Contains("positive= applies to binary labels only"),
                       std::invalid_argument);
}

TEST_CASE("csv: a header-less file reads columns by schema names or by position") {
  CsvSchema s;
  s.header = false;
  s.numeric = {"2"};
  s.labels = {{"3", TaskKind::regression, "", {}}};
  // mt_bad_fields.csv's first two rows are well formed; its third is short.
  const std::string path = fixture("mt_bad_fields.csv");
  const std::string msg = path + ":1: column '2': expected a number, got 'b'";
  CHECK_THROWS_WITH_AS(load_csv_dataset_split(s, path, 0.0, 1), doctest::Contains(msg.c_str()),
                       std::runtime_error);
}

TEST_CASE("census-income recipe reads the UCI layout") {
  const CsvSchema s = census_income_schema();
  REQUIRE(s.columns.size() == 42);
  CHECK(s.numeric.size() == 7);
  CHECK(s.categorical.size() == 32);
  CHECK(std::find(s.categorical.begin(), s.categorical.end(), "marital stat") ==
        s.categorical.end());
  CsvLoadReport rep;
  const MultiTaskDataset ds =
      load_csv_dataset(s, fixture("mt_census_sample.data"), fixture("mt_census_sample.test"), &rep);
  CHECK(rep.train_rows == 4);
  CHECK(rep.test_rows == 1);
  CHECK(ds.tasks[0].name == "income_50k");
  CHECK(ds.tasks[1].name == "never_married");
  CHECK(ds.train_y == xt::xarray<float>{{0, 0}, {1, 0}, {0, 1}, {0, 1}});
  CHECK(ds.test_y == xt::xarray<float>{{1, 1}});
  // age {58, 45, 23, 9}: mean 33.75, population variance 360.6875.
  const double sd = std::sqrt(360.6875);
  CHECK(ds.train_x(0, 0) == doctest::Approx((58 - 33.75) / sd));
  CHECK(ds.test_x(0, 0) == doctest::Approx((40 - 33.75) / sd));
  // education: sorted train values; the test row's doctorate is unseen.
  const size_t edu = 3;  // class of worker, industry, occupation recodes come first
  REQUIRE(ds.categorical_names[edu] == "education");
  CHECK(ds.categorical_values[edu] ==
        std::vector<std::string>{"", "Bachelors degree(BA AB BS)", "Children",
                                 "Masters degree(MA MS MEng MEd MSW MBA)",
                                 "Some college but no degree"});
  CHECK(ds.train_cat(0, edu) == 4);
  CHECK(ds.train_cat(3, edu) == 2);
  CHECK(ds.test_cat(0, edu) == 0);
  // '?' in "migration code-change in msa" is missing; the field before ", 0" was trimmed.
  const auto col = [&](const std::string& name) {
    return static_cast<size_t>(
        std::find(ds.categorical_names.begin(), ds.categorical_names.end(), name) -
        ds.categorical_names.begin());
  };
  CHECK(ds.train_cat(2, col("migration code-change in msa")) == 0);
  CHECK(ds.categorical_values[col("citizenship")][1] == "Foreign born- Not a citizen of U S");
}

TEST_CASE("kernlab income recipe reads get_income.sh's CSV") {
  CsvLoadReport rep;
  const MultiTaskDataset ds =
      load_csv_dataset_split(income_schema(), fixture("mt_income_sample.csv"), 0.0, 1, &rep);
  CHECK(rep.train_rows == 5);
  CHECK(rep.dropped_missing_label == 1);  // MARITAL.STATUS is NA
  CHECK(ds.tasks[0].name == "high_income");
  CHECK(ds.train_y == xt::xarray<float>{{1, 0}, {0, 1}, {1, 1}, {0, 0}, {0, 0}});
  CHECK(ds.train_x.shape() == std::vector<size_t>{5, 0});
  REQUIRE(ds.categorical_names.back() == "LANGUAGE");
  CHECK(ds.categorical_values.back() == std::vector<std::string>{"", "English", "Spanish"});
  CHECK(ds.train_cat(0, 11) == 0);  // NA
  CHECK(ds.train_cat(4, 11) == 2);
  CHECK(ds.categorical_values[3][5] == "Student, HS or College");  // OCCUPATION, quoted comma
}

TEST_CASE("label_mean and label_correlation") {
  const xt::xarray<float> y = {{1, 2, 5}, {0, 4, 5}, {1, 6, 5}, {0, 8, 5}};
  CHECK(label_mean(y, 0) == doctest::Approx(0.5));
  CHECK(label_mean(y, 1) == doctest::Approx(5.0));
  // column 0 against column 1: deviations (.5,-.5,.5,-.5) and (-3,-1,1,3): r = -2 / sqrt(1 * 20).
  CHECK(label_correlation(y, 0, 1) == doctest::Approx(-2.0 / std::sqrt(20.0)));
  CHECK(label_correlation(y, 1, 1) == doctest::Approx(1.0));
  CHECK(label_correlation(y, 0, 2) == 0.0);  // constant column
  CHECK_THROWS_AS(label_mean(y, 3), std::invalid_argument);
}

TEST_CASE("batcher: full cover, smaller last batch, seeded order, reused buffers") {
  const size_t n = 10;
  xt::xarray<float> x = xt::zeros<float>({n, size_t{2}});
  xt::xarray<int64_t> cat = xt::zeros<int64_t>({n, size_t{1}});
  xt::xarray<float> y = xt::zeros<float>({n, size_t{1}});
  for (size_t i = 0; i < n; ++i) {
    x(i, 0) = static_cast<float>(i);
    x(i, 1) = static_cast<float>(10 * i);
    cat(i, 0) = static_cast<int64_t>(100 + i);
    y(i, 0) = static_cast<float>(i) / 2;
  }

  MultiTaskBatcher plain(x, cat, y, 4, false, 1);
  CHECK(plain.num_batches() == 3);
  MultiTaskBatch b;
  std::vector<size_t> sizes, rows;
  while (plain.next(b)) {
    sizes.push_back(b.size);
    for (size_t r = 0; r < b.size; ++r) {
      rows.push_back(b.rows[r]);
      CHECK(b.x(r, 1) == 10.0f * b.rows[r]);
      CHECK(b.cat(r, 0) == static_cast<int64_t>(100 + b.rows[r]));
      CHECK(b.y(r, 0) == b.rows[r] / 2.0f);
    }
  }
  CHECK(sizes == std::vector<size_t>{4, 4, 2});
  CHECK(b.x.shape() == std::vector<size_t>{2, 2});
  CHECK(rows == std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK_FALSE(plain.next(b));

  auto epochs = [&](uint64_t seed) {
    MultiTaskBatcher shuffled(x, cat, y, 4, true, seed);
    std::vector<std::vector<size_t>> orders;
    MultiTaskBatch batch;
    for (int e = 0; e < 3; ++e) {
      if (e) shuffled.start_epoch();
      std::vector<size_t> order;
      const float* first_buffer = nullptr;
      while (shuffled.next(batch)) {
        if (batch.size == 4 && !first_buffer) first_buffer = batch.x.data();
        if (batch.size == 4) CHECK(batch.x.data() == first_buffer);  // no reallocation
        for (size_t r = 0; r < batch.size; ++r) {
          order.push_back(batch.rows[r]);
          CHECK(batch.x(r, 0) == static_cast<float>(batch.rows[r]));
        }
      }
      orders.push_back(order);
    }
    return orders;
  };
  const auto a = epochs(5), again = epochs(5), other = epochs(6);
  CHECK(a == again);
  CHECK(a != other);
  CHECK(a[0] != a[1]);  // each epoch reshuffles
  // The one batching rule: the epochs of a BatchOrder of the same rows, batch size and seed.
  BatchOrder order(n, 4, true, 5);
  for (const auto& epoch : a) {
    order.start_epoch();
    CHECK(epoch == order.order());
  }
  for (const auto& order : a) {
    std::vector<size_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  }
  CHECK_THROWS_AS(MultiTaskBatcher(x, cat, y, 0, false, 1), std::invalid_argument);

  // fill_multitask_batch: any rows, in the order given; labels may have no column (prediction).
  MultiTaskBatch picked;
  fill_multitask_batch(x, cat, y, {7, 2, 7}, picked);
  CHECK(picked.size == 3);
  CHECK(picked.rows == std::vector<size_t>{7, 2, 7});
  CHECK(picked.x == xt::xarray<float>{{7, 70}, {2, 20}, {7, 70}});
  REQUIRE(picked.cat.shape() == std::vector<size_t>{3, 1});
  CHECK(picked.cat(0, 0) == 107);
  CHECK(picked.cat(1, 0) == 102);
  CHECK(picked.cat(2, 0) == 107);
  REQUIRE(picked.y.shape() == std::vector<size_t>{3, 1});
  CHECK(picked.y(0, 0) == 3.5f);
  CHECK(picked.y(1, 0) == 1.0f);
  CHECK(picked.y(2, 0) == 3.5f);
  const xt::xarray<float> no_labels = xt::zeros<float>({n, size_t{0}});
  fill_multitask_batch(x, cat, no_labels, {1, 0}, picked);
  CHECK(picked.size == 2);
  CHECK(picked.y.shape() == std::vector<size_t>{2, 0});
  CHECK(picked.x == xt::xarray<float>{{1, 10}, {0, 0}});
  const xt::xarray<float> short_y = xt::zeros<float>({size_t{3}, size_t{1}});
  CHECK_THROWS_WITH_AS(MultiTaskBatcher(x, cat, short_y, 4, false, 1),
                       doctest::Contains("x [10, 2], cat [10, 1], y [3, 1]"),
                       std::invalid_argument);
}
