// Prediction checked by value: what a task's predict prints for rows of its test split is what its
// evaluation computes for them — the same batch through the same forward, so the same bits, then
// printed as predict prints (six significant digits). For the multi-task reader also its paths:
// columns found by name, the training statistics, missing values and unknown categories, and every
// error it names.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/ops.hpp"
#include "data/amazon_reader.hpp"
#include "data/din_synthetic.hpp"
#include "data/esmm_synthetic.hpp"
#include "data/multitask_dataset.hpp"
#include "data/tabular_csv.hpp"
#include "models/click_task.hpp"
#include "models/multitask_task.hpp"
#include "models/registry.hpp"
#include "models/trainer.hpp"
#include "nn/metrics.hpp"
#include "tests/test_support.hpp"

using namespace tinyrec;
using tinyrec_test::TempDir;
namespace fs = std::filesystem;

namespace {

// A value as predict writes it: std::ostream's default notation at six significant digits.
std::string printed(float v) {
  std::ostringstream os;
  os << std::setprecision(6) << v;
  return os.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<size_t> rows_from(size_t first, size_t end) {
  std::vector<size_t> rows;
  for (size_t i = first; i < end; ++i) rows.push_back(i);
  return rows;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

size_t distinct(const std::vector<std::string>& v) {
  return std::set<std::string>(v.begin(), v.end()).size();
}

// ---- click ----

models::CtrModel<float>& as_ctr(models::Model<float>& m) {
  auto* c = dynamic_cast<models::CtrModel<float>*>(&m);
  REQUIRE(c != nullptr);
  return *c;
}

// Click probabilities of samples[rows] as one batch of ClickTask's evaluation builds it: each
// history cut to max_len (the most recent kept) and padded to max_len, the model in evaluation
// mode, the logistic of its logit.
std::vector<float> click_probabilities(models::CtrModel<float>& m,
                                       const std::vector<data::CtrSample>& samples,
                                       const std::vector<size_t>& rows, size_t max_len) {
  return models::in_eval_mode(m, [&] {
    data::CtrBatch b;
    data::fill_ctr_batch(samples, rows, max_len, false, b);
    const Tensor<float> p = sigmoid(m.forward(b));
    return std::vector<float>(p.data(), p.data() + p.numel());
  });
}

std::string joined(const std::vector<std::string>& tokens) {
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) out += (i ? "\x02" : "") + tokens[i];
  return out;
}

// One line of the Amazon format: label, user, item, category, history items, history categories.
std::string amazon_line(int label, const std::string& user, const std::string& item,
                        const std::string& cat, const std::vector<std::string>& hist_items,
                        const std::vector<std::string>& hist_cats) {
  return std::to_string(label) + "\t" + user + "\t" + item + "\t" + cat + "\t" +
         joined(hist_items) + "\t" + joined(hist_cats) + "\n";
}

// A sample of data born with dense ids, written as predict reads such data: the ids themselves.
std::string amazon_line(const data::CtrSample& s) {
  std::vector<std::string> items, cats;
  for (int64_t i : s.hist_items) items.push_back(std::to_string(i));
  for (int64_t c : s.hist_cats) cats.push_back(std::to_string(c));
  return amazon_line(s.label == 1.0f ? 1 : 0, std::to_string(s.user), std::to_string(s.item),
                     std::to_string(s.cat), items, cats);
}

}  // namespace

TEST_CASE(
    "click predict: DIN prints the probabilities evaluation computes for the same test samples") {
  data::DinSyntheticConfig s;
  s.users = 40;
  s.items = 30;
  s.cats = 5;
  s.samples_per_user = 3;
  s.hist_len_min = 2;
  s.hist_len_max = 12;
  s.test_fraction = 0.25;
  s.seed = 3;
  models::ClickOptions o;
  o.max_len = 6;
  models::ClickTask task(data::make_din_synthetic(s), o);
  const std::vector<data::CtrSample>& test = task.data().test;
  // Evaluation at a batch size of n scores the first n test samples as one batch: a file of just
  // those n is one batch of predict's, the same rows in the same order, so the same arithmetic.
  const size_t n = 8;
  REQUIRE(test.size() > 2 * n);
  size_t long_row = n;
  for (size_t i = 0; i < n && long_row == n; ++i)
    if (test[i].hist_items.size() > o.max_len) long_row = i;
  REQUIRE(long_row < n);  // a history the batcher cuts

  const models::ModelEntry& e = models::find_model("din");
  auto model = e.make_float(models::model_config(e, e.tiny, task.model_shape(), 11));
  models::TrainOptions t;
  t.epochs = 1;
  t.batch_size = 16;
  t.eval_batch_size = n;
  models::Trainer(task, *model, t).fit();

  TempDir dir("tinyrec_predict", "click_ids");
  fs::create_directories(dir.path);
  const fs::path input = dir.path / "samples.txt";
  std::string text;
  for (size_t i = 0; i < n; ++i) text += amazon_line(test[i]);
  write_file(input, text);
  std::ostringstream out;
  CHECK(task.predict(*model, input.string(), out) == n);
  const std::vector<std::string> lines = lines_of(out.str());
  REQUIRE(lines.size() == n);

  models::CtrModel<float>& din = as_ctr(*model);
  const std::vector<float> want = click_probabilities(din, test, rows_from(0, n), o.max_len);
  const xt::xarray<float> scored = task.test_outputs(*model, n);  // evaluation's own scores
  for (size_t i = 0; i < n; ++i) {
    CAPTURE(i);
    CHECK(scored(i, 0) == want[i]);
    CHECK(lines[i] == printed(want[i]));
  }
  CHECK(distinct(lines) == n);  // a sample scored in another's place would show

  // evaluate's metrics are of exactly these scores: its logloss from the batches rebuilt here.
  std::vector<float> all, labels;
  for (size_t first = 0; first < test.size(); first += n) {
    const std::vector<float> p = click_probabilities(
        din, test, rows_from(first, std::min(first + n, test.size())), o.max_len);
    all.insert(all.end(), p.begin(), p.end());
  }
  for (const auto& sample : test) labels.push_back(sample.label);
  CHECK(task.evaluate(*model, n).at("logloss").get<double>() == metrics::logloss(all, labels));

  // The cut matters to the score: had the oldest behaviours been kept, the line would differ.
  std::vector<data::CtrSample> oldest(test.begin(), test.begin() + std::ptrdiff_t(n));
  oldest[long_row].hist_items.resize(o.max_len);
  oldest[long_row].hist_cats.resize(o.max_len);
  CHECK(printed(click_probabilities(din, oldest, rows_from(0, n), o.max_len)[long_row]) !=
        lines[long_row]);
}

TEST_CASE("click predict: Amazon tokens map through the training vocabularies as evaluation's do") {
  // Items i0..i23 in categories c0..c3; twelve users with three training lines each.
  auto cat_of = [](int j) { return "c" + std::to_string(j % 4); };
  std::string train;
  for (int u = 0; u < 12; ++u)
    for (int k = 0; k < 3; ++k) {
      std::vector<std::string> items, cats;
      for (int t = 0; t < 2 + (u + k) % 7; ++t) {
        const int j = (5 * u + 3 * k + 7 * t) % 24;
        items.push_back("i" + std::to_string(j));
        cats.push_back(cat_of(j));
      }
      const int j = (11 * u + 5 * k) % 24;
      train += amazon_line((u + k) % 2, "u" + std::to_string(u), "i" + std::to_string(j), cat_of(j),
                           items, cats);
    }
  // Test lines: known and unseen users and items, histories longer than max_len (their oldest
  // tokens unseen anywhere), a short one and an empty one.
  const std::string test_lines =
      amazon_line(1, "u1", "i3", "c3", {"x1", "x2", "i4", "i9", "i13", "i2", "i7"},
                  {"c0", "c1", "c0", "c1", "c1", "c2", "c3"}) +
      amazon_line(0, "u99", "i10", "c2", {"i0", "x3", "i22", "i5", "i6", "i11", "i19", "i20"},
                  {"c0", "c9", "c2", "c1", "c2", "c3", "c3", "c0"}) +
      amazon_line(1, "u5", "i99", "c1", {"i8", "i17"}, {"c0", "c1"}) +
      amazon_line(0, "u7", "i14", "c2", {}, {}) +
      amazon_line(0, "u2", "i21", "c1", {"i1", "i12", "i15", "i16", "i18", "i23", "i3", "i4", "i7"},
                  {"c1", "c0", "c3", "c0", "c2", "c3", "c3", "c0", "c3"}) +
      amazon_line(1, "u11", "i6", "c2", {"i6", "i2", "i9", "i10", "i11"},
                  {"c2", "c2", "c1", "c2", "c3"});
  const size_t n = 6, max_len = 4;
  TempDir dir("tinyrec_predict", "click_amazon");
  fs::create_directories(dir.path);
  write_file(dir.path / "train", train);
  write_file(dir.path / "test", test_lines);
  models::ClickOptions o;
  o.max_len = max_len;
  models::ClickTask task(
      data::read_amazon((dir.path / "train").string(), (dir.path / "test").string(), max_len), o);
  const std::vector<data::CtrSample>& test = task.data().test;
  REQUIRE(test.size() == n);
  // Evaluation's samples were cut as the file was read; predict reads whole histories and leaves
  // the cut to the batcher.
  CHECK(test[0].hist_items.size() == max_len);
  CHECK(test[1].user == data::kUnknownId);
  CHECK(test[2].item == data::kUnknownId);

  for (const std::string& name : models::models_of_task("click")) {
    CAPTURE(name);
    const models::ModelEntry& e = models::find_model(name);
    auto model = e.make_float(models::model_config(e, e.tiny, task.model_shape(), 5));
    std::ostringstream out;
    // The test file itself is a file to score.
    CHECK(task.predict(*model, (dir.path / "test").string(), out) == n);
    const std::vector<std::string> lines = lines_of(out.str());
    REQUIRE(lines.size() == n);
    const std::vector<float> want =
        click_probabilities(as_ctr(*model), test, rows_from(0, n), max_len);
    const xt::xarray<float> scored = task.test_outputs(*model, n);
    for (size_t i = 0; i < n; ++i) {
      CAPTURE(i);
      CHECK(scored(i, 0) == want[i]);
      CHECK(lines[i] == printed(want[i]));
    }
    CHECK(distinct(lines) == n);
  }
}

// ---- multi-task ----

namespace {

const char* const kCities[] = {"Oslo", "Lima", "Berlin", "Quito"};
const char* const kPlans[] = {"free", "pro", "team"};

// Row i of a small shop table: age, city, a large number whose decimals a float cannot hold
// (30000010.3 to 30000099.3: floats there are 2 apart), plan, and the labels clicked (binary)
// and spend (regression). A few fields are missing or unseen in training.
std::vector<std::string> shop_row(int i) {
  std::vector<std::string> f = {"r" + std::to_string(i),
                                std::to_string(18 + (7 * i) % 50),
                                kCities[(3 * i + i / 4) % 4],
                                "300000" + std::to_string(10 + (37 * i) % 90) + ".3",
                                kPlans[(2 * i + i / 5) % 3],
                                (5 * i) % 7 < 3 ? "1" : "0",
                                std::to_string(i % 9) + "." + std::to_string(i % 10)};
  if (i == 13) f[1] = "?";
  if (i == 21) f[4] = "";
  if (i == 50) f[2] = "Tokyo";
  if (i == 53) f[3] = "?";
  return f;
}

const std::vector<std::string> kShopColumns = {"id",   "age",     "city", "big",
                                               "plan", "clicked", "spend"};

std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t j = 0; j < fields.size(); ++j) out += (j ? "," : "") + fields[j];
  return out + "\n";
}

// Rows [first, end) of the shop table, with the header when `header`.
std::string shop_csv(int first, int end, bool header = true) {
  std::string out = header ? csv_line(kShopColumns) : "";
  for (int i = first; i < end; ++i) out += csv_line(shop_row(i));
  return out;
}

data::CsvSchema shop_schema() {
  data::CsvSchema s;
  s.name = "shop";
  s.numeric = {"age", "big"};
  s.categorical = {"city", "plan"};
  s.labels = {{"clicked", data::TaskKind::binary, "", {}},
              {"spend", data::TaskKind::regression, "", {}}};
  return s;
}

constexpr int kTrainRows = 48, kTestRows = 10;

models::MultiTaskModel<float>& as_multitask(models::Model<float>& m) {
  auto* mt = dynamic_cast<models::MultiTaskModel<float>*>(&m);
  REQUIRE(mt != nullptr);
  return *mt;
}

// A multi-task task on the shop table (48 training rows, 10 test rows, read from files) with an
// MMoE at its tiny size, trained for an epoch.
struct Shop {
  TempDir dir;
  std::unique_ptr<models::MultiTaskTask> task;
  std::unique_ptr<models::Model<float>> model;

  Shop(const std::string& tag, const data::CsvSchema& schema = shop_schema(), bool header = true)
      : dir("tinyrec_predict", tag) {
    fs::create_directories(dir.path);
    write_file(dir.path / "train.csv", shop_csv(0, kTrainRows, header));
    write_file(dir.path / "test.csv", shop_csv(kTrainRows, kTrainRows + kTestRows, header));
    task = std::make_unique<models::MultiTaskTask>(
        data::load_csv_dataset(schema, path("train.csv"), path("test.csv")),
        models::MultiTaskOptions{}, std::make_unique<data::CsvSchema>(schema));
    const models::ModelEntry& e = models::find_model("mmoe");
    model = e.make_float(models::model_config(e, e.tiny, task->model_shape(), 5));
    models::TrainOptions t;
    t.epochs = 1;
    t.batch_size = 16;
    t.eval_batch_size = kTestRows;
    models::Trainer(*task, *model, t).fit();
  }
  std::string path(const std::string& name) const { return (dir.path / name).string(); }
  const data::MultiTaskDataset& data() const { return task->data(); }
  // predict's lines for a file holding `text`.
  std::vector<std::string> predict(const std::string& name, const std::string& text) {
    write_file(dir.path / name, text);
    std::ostringstream out;
    task->predict(*model, path(name), out);
    return lines_of(out.str());
  }
};

// The model's outputs for rows [first, first + n) of (x, cat) as one batch of evaluation's: the
// logistic of the logit for a binary task (written as predict writes it), the value for a
// regression task; each row as predict prints it, and the logits.
struct Outputs {
  std::vector<std::string> lines;
  std::vector<std::vector<float>> logits;  // [row][task]
};

Outputs multitask_lines(models::MultiTaskModel<float>& m, const xt::xarray<float>& x,
                        const xt::xarray<int64_t>& cat, size_t first, size_t n) {
  return models::in_eval_mode(m, [&] {
    data::MultiTaskBatch b;
    const xt::xarray<float> no_labels = xt::zeros<float>({x.shape()[0], size_t(0)});
    data::fill_multitask_batch(x, cat, no_labels, rows_from(first, first + n), b);
    const std::vector<Tensor<float>> y = m.forward(b);
    Outputs o;
    for (size_t i = 0; i < n; ++i) {
      std::string line;
      o.logits.emplace_back();
      for (size_t k = 0; k < y.size(); ++k) {
        const float v = y[k].data()[i];
        const bool binary = m.tasks()[k].kind == data::TaskKind::binary;
        line += (k ? "\t" : "") + printed(binary ? 1.0f / (1.0f + std::exp(-v)) : v);
        o.logits.back().push_back(v);
      }
      o.lines.push_back(line);
    }
    return o;
  });
}

}  // namespace

TEST_CASE("multitask predict: MMoE prints the outputs evaluation computes for the same test rows") {
  Shop shop("mt_value");
  const data::MultiTaskDataset& ds = shop.data();
  REQUIRE(ds.num_test() == size_t(kTestRows));
  // The large column's values are not floats, and the reader rounds them to floats before
  // standardising: for these rows that changes the encoded input, so predict must round too.
  bool rounding_matters = false;
  for (size_t i = 0; i < size_t(kTestRows); ++i) {
    const std::string v = shop_row(kTrainRows + int(i))[3];
    if (v != "?")
      rounding_matters =
          rounding_matters ||
          ds.test_x(i, 1) != float((std::stod(v) - ds.numeric_mean[1]) / ds.numeric_std[1]);
  }
  CHECK(rounding_matters);
  // The test file is itself a file to score (its label columns unread).
  const std::vector<std::string> lines =
      shop.predict("in.csv", shop_csv(kTrainRows, kTrainRows + kTestRows));
  auto& m = as_multitask(*shop.model);
  const Outputs want = multitask_lines(m, ds.test_x, ds.test_cat, 0, kTestRows);
  CHECK(lines == want.lines);
  CHECK(distinct(lines) == size_t(kTestRows));
  // Evaluation at a batch size of 10 computes these logits, and its metrics are theirs.
  const xt::xarray<float> logits = shop.task->test_outputs(*shop.model, kTestRows);
  std::vector<float> click_logit, click, spend, spend_true;
  for (size_t i = 0; i < size_t(kTestRows); ++i) {
    CAPTURE(i);
    CHECK(logits(i, 0) == want.logits[i][0]);
    CHECK(logits(i, 1) == want.logits[i][1]);
    click_logit.push_back(want.logits[i][0]);
    click.push_back(ds.test_y(i, 0));
    spend.push_back(want.logits[i][1]);
    spend_true.push_back(ds.test_y(i, 1));
  }
  const nlohmann::json metrics = shop.task->evaluate(*shop.model, kTestRows);
  CHECK(metrics.at("tasks").at("clicked").at("logloss").get<double>() ==
        metrics::logloss_from_logits(click_logit, click));
  CHECK(metrics.at("tasks").at("spend").at("mse").get<double>() == metrics::mse(spend, spend_true));

  // Columns are found by name: another order, and a column the model does not read, change nothing.
  std::string shuffled = "spend,note,plan,big,clicked,city,age,id\n";
  for (int i = kTrainRows; i < kTrainRows + kTestRows; ++i) {
    const std::vector<std::string> f = shop_row(i);
    shuffled += csv_line({f[6], "\"a, b\"", f[4], f[3], f[5], f[2], f[1], f[0]});
  }
  CHECK(shop.predict("shuffled.csv", shuffled) == lines);
}

TEST_CASE(
    "multitask predict: training statistics; missing values and unknown categories as in "
    "training") {
  Shop shop("mt_paths");
  const data::MultiTaskDataset& ds = shop.data();
  // The training statistics by hand: the population mean and deviation of the training values
  // (row 13's missing age left out), each value first rounded to a float as the reader stores it.
  auto stats = [&](size_t column) {
    double sum = 0, ss = 0;
    size_t n = 0;
    std::vector<double> values;
    for (int i = 0; i < kTrainRows; ++i) {
      const std::string v = shop_row(i)[column];
      if (v == "?") continue;
      values.push_back(double(float(std::stod(v))));
      sum += values.back(), ++n;
    }
    const double mean = sum / double(n);
    for (double v : values) ss += (v - mean) * (v - mean);
    return std::pair<double, double>(mean, std::sqrt(ss / double(n)));
  };
  const auto [age_mean, age_sd] = stats(1);
  const auto [big_mean, big_sd] = stats(3);
  CHECK(ds.numeric_mean == std::vector<double>{age_mean, big_mean});
  // The sum of squares may differ in its last bit: the compiler is free to fuse its multiply-adds
  // (-march=native allows FMA) in one loop and not in the other.
  REQUIRE(ds.numeric_std.size() == 2);
  CHECK(ds.numeric_std[0] == doctest::Approx(age_sd).epsilon(1e-14));
  CHECK(ds.numeric_std[1] == doctest::Approx(big_sd).epsilon(1e-14));
  CHECK(age_sd > 10);  // a spread the predictions can tell from no standardising at all
  // Ids 1.. in sorted order of the training values; 0 for unknown and missing ones.
  CHECK(ds.categorical_values[0] ==
        std::vector<std::string>{"", "Berlin", "Lima", "Oslo", "Quito"});
  CHECK(ds.categorical_values[1] == std::vector<std::string>{"", "free", "pro", "team"});

  const std::vector<std::string> lines = shop.predict("in.csv",
                                                      "age,big,city,plan\n"
                                                      "47,30000031.3,Lima,pro\n"
                                                      "?,30000031.3,Lima,pro\n"
                                                      ",30000031.3,Lima,pro\n"
                                                      "47,30000031.3,Tokyo,pro\n"
                                                      "47,30000031.3,?,pro\n"
                                                      "47,30000031.3,Lima,\n"
                                                      "47,?,Lima,pro\n"
                                                      "80,29999999.7,Quito,team\n");
  // What the rows are once encoded, by hand: (value − training mean) / training deviation, the
  // large values first rounded to floats (30000031.3 to 30000032, 29999999.7 to 30000000), a
  // missing value at the mean (0); a category's id, 0 when missing or never seen in training.
  // The deviations are the reader's own, checked against the hand's above to the last bits.
  auto z = [&](double v, size_t column) {
    return float((v - ds.numeric_mean[column]) / ds.numeric_std[column]);
  };
  const float age47 = z(47, 0), big31 = z(30000032, 1);
  const xt::xarray<float> x = {
      {age47, big31}, {0, big31},     {0, big31}, {age47, big31},
      {age47, big31}, {age47, big31}, {age47, 0}, {z(80, 0), z(30000000, 1)}};
  const xt::xarray<int64_t> cat = {{2, 2}, {2, 2}, {2, 2}, {0, 2}, {0, 2}, {2, 0}, {2, 2}, {4, 3}};
  CHECK(lines == multitask_lines(as_multitask(*shop.model), x, cat, 0, 8).lines);
  // The same in the lines themselves: "?" and "" are one missing value, an unseen city is as good
  // as a missing one, and each feature does move the prediction.
  REQUIRE(lines.size() == 8);
  CHECK(lines[1] == lines[2]);
  CHECK(lines[3] == lines[4]);
  for (size_t i : {1, 3, 5, 6}) CHECK(lines[i] != lines[0]);
}

TEST_CASE("multitask predict: each error of the input file names the file and the line") {
  Shop shop("mt_errors");
  auto predict = [&](const std::string& text) {
    const fs::path p = shop.dir.path / "bad.csv";
    write_file(p, text);
    std::ostringstream out;
    shop.task->predict(*shop.model, p.string(), out);
  };
  const std::string bad = shop.path("bad.csv");
  auto error = [&](const std::string& text, const std::string& what) {
    CAPTURE(text);
    CHECK_THROWS_WITH_AS(predict(text), doctest::Contains(what.c_str()), std::runtime_error);
  };
  {
    std::ostringstream out;
    CHECK_THROWS_WITH_AS(shop.task->predict(*shop.model, shop.path("none.csv"), out),
                         ("--input: cannot open " + shop.path("none.csv")).c_str(),
                         std::runtime_error);
  }
  error("", bad + ": empty file (expected a header line)");
  error("age,city,plan\n47,Lima,pro\n",
        bad + ": no column 'big' (the model reads it); columns: age, city, plan");
  error("age,big,city,plan\n", bad + ": no row to score");
  error("age,big,city,plan\n47,30000031.3,Lima,pro\n\n47,30000031.3,Lima\n",
        bad + ":4: 3 fields, expected 4");
  error("age,big,city,plan\n47,30000031.3,Lima,pro,x\n", bad + ":2: 5 fields, expected 4");
  for (const char* v : {"forty", "47abc", "NA", "inf", "nan", "1e999"})
    error(std::string("age,big,city,plan\n1,2,Lima,pro\n") + v + ",3,Oslo,free\n",
          bad + ":3: column 'age': '" + v + "' is not a number");
  // Finite as a double, infinite as the float the model reads: refused, not fed as inf.
  error("age,big,city,plan\n1e39,3,Oslo,free\n",
        bad + ":2: column 'age': '1e39' is beyond the range of a float");
  error("age,big,city,plan\n47,30000031.3,\"Lima,pro\n", bad + ":2: unterminated quote in field 3");
  error("age,\"big,city,plan\n", bad + ":1: unterminated quote in field 2");
  error("age,big,city,plan\n47,\"30000031.3\"x,Lima,pro\n",
        bad + ":2: text after the closing quote of field 2");
}

TEST_CASE("multitask predict: ESMM on generated ids prints the test rows' evaluation outputs") {
  data::EsmmSyntheticConfig c;
  c.users = 30;
  c.items = 40;
  c.categories = 5;
  c.train = 200;
  c.test = 12;
  c.ctr = 0.3;
  c.cvr = 0.3;
  c.seed = 2;
  models::MultiTaskTask task(data::make_esmm_synthetic(c).data, models::MultiTaskOptions{});
  const data::MultiTaskDataset& ds = task.data();
  const models::ModelEntry& e = models::find_model("esmm");
  auto model = e.make_float(models::model_config(e, e.tiny, task.model_shape(), 3));
  const size_t n = ds.num_test();
  // The generated data holds its features as they are (no statistics) and its ids themselves; a
  // float written to 17 digits reads back as the same float.
  std::ostringstream text;
  for (const auto& name : ds.categorical_names) text << name << ",";
  for (size_t j = 0; j < ds.numeric_names.size(); ++j)
    text << (j ? "," : "") << ds.numeric_names[j];
  text << "\n" << std::setprecision(17);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < ds.categorical_names.size(); ++j) text << ds.test_cat(i, j) << ",";
    for (size_t j = 0; j < ds.numeric_names.size(); ++j)
      text << (j ? "," : "") << double(ds.test_x(i, j));
    text << "\n";
  }
  TempDir dir("tinyrec_predict", "mt_esmm");
  fs::create_directories(dir.path);
  const std::string input = (dir.path / "in.csv").string();
  write_file(input, text.str());
  std::ostringstream out;
  CHECK(task.predict(*model, input, out) == n);
  const std::vector<std::string> lines = lines_of(out.str());
  auto& m = as_multitask(*model);
  CHECK(lines == multitask_lines(m, ds.test_x, ds.test_cat, 0, n).lines);
  CHECK(distinct(lines) == n);

  // An id outside a column's vocabulary, or no id at all, is named with the vocabulary's range.
  const std::string users = std::to_string(ds.cat_vocab_sizes[0]);
  const std::string header = text.str().substr(0, text.str().find('\n') + 1);
  for (const std::string& v : {users, std::string("-1"), std::string("2x"), std::string("")}) {
    CAPTURE(v);
    write_file(input, header + v + ",1,1,0,0,0,0\n");
    CHECK_THROWS_WITH_AS(
        task.predict(*model, input, out),
        (input + ":2: column 'user_id': '" + v + "' is not an id in [0, " + users + ")").c_str(),
        std::runtime_error);
  }
}

TEST_CASE(
    "multitask predict: a header-less schema reads files by its column names or by position") {
  SUBCASE("named columns") {
    data::CsvSchema s = shop_schema();
    s.header = false;
    s.columns = kShopColumns;
    Shop shop("mt_named", s, false);
    const std::vector<std::string> lines =
        shop.predict("in.csv", shop_csv(kTrainRows, kTrainRows + kTestRows, false));
    const data::MultiTaskDataset& ds = shop.data();
    CHECK(lines ==
          multitask_lines(as_multitask(*shop.model), ds.test_x, ds.test_cat, 0, kTestRows).lines);
  }
  SUBCASE("columns by position") {
    data::CsvSchema s;
    s.header = false;
    s.numeric = {"2", "4"};
    s.categorical = {"3", "5"};
    s.labels = {{"6", data::TaskKind::binary, "clicked", {}},
                {"7", data::TaskKind::regression, "spend", {}}};
    Shop shop("mt_position", s, false);
    const std::vector<std::string> lines =
        shop.predict("in.csv", shop_csv(kTrainRows, kTrainRows + kTestRows, false));
    const data::MultiTaskDataset& ds = shop.data();
    CHECK(lines ==
          multitask_lines(as_multitask(*shop.model), ds.test_x, ds.test_cat, 0, kTestRows).lines);
    // The first line fixes the number of columns, as in training.
    std::ostringstream out;
    write_file(shop.dir.path / "short.csv", shop_csv(50, 52, false) + "r,1,Oslo,2,pro,1\n");
    CHECK_THROWS_WITH_AS(shop.task->predict(*shop.model, shop.path("short.csv"), out),
                         (shop.path("short.csv") + ":3: 6 fields, expected 7").c_str(),
                         std::runtime_error);
    write_file(shop.dir.path / "empty.csv", "\n\n");
    CHECK_THROWS_WITH_AS(shop.task->predict(*shop.model, shop.path("empty.csv"), out),
                         (shop.path("empty.csv") + ": empty file").c_str(), std::runtime_error);
  }
}
