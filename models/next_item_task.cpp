// The next-item task: its loss, ranking metrics and baselines, prediction and data sets.
#include "models/next_item_task.hpp"

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "autograd/limits.hpp"
#include "data/batching.hpp"
#include "data/session_readers.hpp"
#include "data/session_synthetic.hpp"
#include "nn/metrics.hpp"

namespace tinyrec::data {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SessionSyntheticConfig, sessions, items, intents,
                                                followers, len_min, len_max, follow, noise, repeat,
                                                threads, switch_prob, test_fraction, last_only)
}  // namespace tinyrec::data

namespace tinyrec::models {

using nlohmann::json;

namespace {

SessionModel<float>& as_session(Model<float>& model) {
  auto* m = dynamic_cast<SessionModel<float>*>(&model);
  if (!m)
    throw std::invalid_argument("the next-item task needs a session model, not " + model.name());
  return *m;
}

// Item ids are 1..N−1 and score columns 0..N−2.
xt::xarray<int64_t> score_columns(const xt::xarray<int64_t>& targets) {
  xt::xarray<int64_t> cols = targets - int64_t(1);
  return cols;
}

std::string fmt(const json& v) {
  if (!v.is_number()) return "n/a";
  std::ostringstream os;
  os << std::fixed << std::setprecision(4) << v.get<double>();
  return os.str();
}

// Evaluation and prediction score at most this many cases at a time: a row of scores over 40,000
// items is 160 kB, so 256 rows stay at 40 MB whatever --eval-batch-size says.
constexpr size_t kScoreRows = 256;

}  // namespace

template <class T>
Tensor<T> next_item_loss(SessionModel<T>& model, const data::SessionBatch& batch) {
  return softmax_cross_entropy(model.scores(batch), score_columns(batch.targets));
}

template Tensor<float> next_item_loss(SessionModel<float>&, const data::SessionBatch&);
template Tensor<double> next_item_loss(SessionModel<double>&, const data::SessionBatch&);

json ranking_metrics(const std::vector<size_t>& ranks) {
  if (ranks.empty()) throw std::invalid_argument("ranking_metrics: no test case");
  return {{"recall@10", metrics::recall_at_k(ranks, 10)},
          {"mrr@10", metrics::mrr_at_k(ranks, 10)},
          {"recall@20", metrics::recall_at_k(ranks, 20)},
          {"mrr@20", metrics::mrr_at_k(ranks, 20)},
          {"cases", ranks.size()}};
}

std::vector<size_t> popularity_ranks(const data::SessionDataset& d) {
  std::vector<int64_t> sorted(d.item_counts.begin() + 1, d.item_counts.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<size_t> ranks;
  for (const data::SessionCase& c : d.test) {
    const int64_t pop = d.item_counts[size_t(d.test_sessions[c.session][c.end])];
    ranks.push_back(size_t(sorted.end() - std::lower_bound(sorted.begin(), sorted.end(), pop)));
  }
  return ranks;
}

std::vector<size_t> last_item_ranks(const data::SessionDataset& d) {
  // score_j = F[a][j]·(P + 1) + pop_j for last click a, where F counts the training transitions
  // a → j and P is the largest popularity: transitions first, popularity breaks ties.
  std::vector<std::unordered_map<int64_t, int64_t>> follows(size_t(d.n_items));
  for (const data::Session& s : d.train_sessions)
    for (size_t i = 1; i < s.size(); ++i) ++follows[size_t(s[i - 1])][s[i]];
  const std::vector<int64_t>& pop = d.item_counts;
  std::vector<int64_t> sorted(pop.begin() + 1, pop.end());
  std::sort(sorted.begin(), sorted.end());
  auto at_least = [&](int64_t p) {  // items with popularity >= p
    return size_t(sorted.end() - std::lower_bound(sorted.begin(), sorted.end(), p));
  };
  const int64_t big = *std::max_element(pop.begin(), pop.end()) + 1;
  std::vector<size_t> ranks;
  for (const data::SessionCase& c : d.test) {
    const data::Session& s = d.test_sessions[c.session];
    const int64_t t = s[c.end];
    const auto& f = follows[size_t(s[c.end - 1])];
    const auto hit = f.find(t);
    size_t rank = 0;
    if (hit != f.end()) {
      const int64_t mine = hit->second * big + pop[size_t(t)];
      for (const auto& [j, n] : f) rank += n * big + pop[size_t(j)] >= mine;
    } else {
      size_t followers_as_popular = 0;
      for (const auto& [j, n] : f) followers_as_popular += pop[size_t(j)] >= pop[size_t(t)];
      rank = f.size() + at_least(pop[size_t(t)]) - followers_as_popular;
    }
    ranks.push_back(rank);
  }
  return ranks;
}

data::SessionBatch tiny_session_batch() {
  const std::vector<data::Session> sessions = {{2, 5, 3, 8, 4}, {6, 1, 7}, {8, 3}};
  const std::vector<data::SessionCase> cases = {{0, 4}, {1, 2}, {2, 1}};
  data::SessionBatch b;
  data::fill_session_batch(sessions, cases, {0, 1, 2}, 50, b);
  return b;
}

GradcheckResult gradcheck_session_model(SessionModel<double>& model,
                                        const data::SessionBatch& batch) {
  model.train();
  const std::vector<Tensor<double>> params = model.parameters();
  auto scores = [&](const std::vector<Tensor<double>>&) { return model.scores(batch); };
  auto loss = [&](const std::vector<Tensor<double>>&) { return next_item_loss(model, batch); };
  const GradcheckResult on_scores = gradcheck(scores, params);
  if (!on_scores.ok) return on_scores;
  const GradcheckResult on_loss = gradcheck(loss, params);
  return !on_loss.ok || on_loss.worst_rel_error > on_scores.worst_rel_error ? on_loss : on_scores;
}

NextItemTask::NextItemTask(data::SessionDataset data, const NextItemOptions& options)
    : data_(std::move(data)), options_(options) {
  if (options.max_len == 0) throw std::invalid_argument("--max-len must be at least 1");
  if (options.top_k == 0) throw std::invalid_argument("--top-k must be at least 1");
  if (data_.train.empty()) throw std::invalid_argument(data_.name + ": no training case");
  if (data_.test.empty()) throw std::invalid_argument(data_.name + ": no test case");
}

std::string NextItemTask::describe() const {
  return data_.name + " (" + std::to_string(data_.train_sessions.size()) + " train / " +
         std::to_string(data_.test_sessions.size()) + " test sessions, " +
         std::to_string(data_.train.size()) + " / " + std::to_string(data_.test.size()) +
         " cases, " + std::to_string(data_.n_items - 1) + " items)";
}

LossTerms<float> NextItemTask::loss_terms(Model<float>& model, const std::vector<size_t>& rows) {
  data::fill_session_batch(data_.train_sessions, data_.train, rows, options_.max_len, batch_);
  return {{"next", next_item_loss(as_session(model), batch_)}};
}

std::vector<size_t> NextItemTask::test_ranks(SessionModel<float>& model, size_t batch_size) const {
  return in_eval_mode(model, [&] {
    std::vector<size_t> ranks;
    ranks.reserve(data_.test.size());
    data::BatchOrder order(data_.test.size(), std::min(batch_size, kScoreRows), false, 0);
    std::vector<size_t> rows;
    data::SessionBatch b;
    const size_t n = size_t(data_.n_items - 1);
    while (order.next(rows)) {
      data::fill_session_batch(data_.test_sessions, data_.test, rows, options_.max_len, b);
      const Tensor<float> s = model.scores(b);
      for (size_t r = 0; r < b.size; ++r)
        ranks.push_back(metrics::rank_of(s.data() + r * n, n, size_t(b.targets(r) - 1)));
    }
    return ranks;
  });
}

json NextItemTask::evaluate(Model<float>& model, size_t batch_size) {
  json m = ranking_metrics(test_ranks(as_session(model), batch_size));
  if (baselines_.is_null())
    baselines_ = {{"popularity", ranking_metrics(popularity_ranks(data_))},
                  {"last_item", ranking_metrics(last_item_ranks(data_))}};
  m["baselines"] = baselines_;
  return m;
}

std::string NextItemTask::summarize(const json& m) const {
  return "Recall@20 " + fmt(m.at("recall@20")) + " MRR@20 " + fmt(m.at("mrr@20")) + " Recall@10 " +
         fmt(m.at("recall@10")) + " MRR@10 " + fmt(m.at("mrr@10"));
}

xt::xarray<float> NextItemTask::test_outputs(Model<float>& model, size_t) {
  SessionModel<float>& m = as_session(model);
  return in_eval_mode(m, [&] {
    std::vector<size_t> rows(std::min(kScoreRows, data_.test.size()));
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    data::SessionBatch b;
    data::fill_session_batch(data_.test_sessions, data_.test, rows, options_.max_len, b);
    return xt::xarray<float>(m.scores(b).value());
  });
}

size_t NextItemTask::predict(Model<float>& model, const std::string& input, std::ostream& out) {
  SessionModel<float>& m = as_session(model);
  std::ifstream in(input);
  if (!in) throw std::runtime_error("cannot open " + input);
  std::unordered_map<std::string, int64_t> ids;
  for (int64_t i = 1; i < data_.n_items; ++i) ids.emplace(data_.item_names[size_t(i)], i);
  // Every session is read (and checked) before any is scored.
  std::vector<data::Session> sessions;
  std::string line;
  for (size_t line_no = 1; std::getline(in, line); ++line_no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    data::Session s;
    for (size_t i = 0; i < line.size();) {
      if (line[i] == ' ' || line[i] == '\t' || line[i] == ',') {
        ++i;
        continue;
      }
      const size_t end = std::min(line.find_first_of(" \t,", i), line.size());
      const std::string token = line.substr(i, end - i);
      const auto it = ids.find(token);
      if (it == ids.end())
        throw std::runtime_error(input + ":" + std::to_string(line_no) + ":" +
                                 std::to_string(i + 1) + ": item \"" + token +
                                 "\" is not one of the model's items");
      s.push_back(it->second);
      i = end;
    }
    if (s.empty()) continue;
    s.push_back(1);  // a placeholder target: the case is the whole line
    sessions.push_back(std::move(s));
  }
  if (sessions.empty()) throw std::runtime_error(input + ": no session to score");
  const std::vector<data::SessionCase> cases = data::session_cases(sessions, true);
  const size_t n = size_t(data_.n_items - 1), k = std::min(options_.top_k, n);
  out << std::setprecision(9);  // every float score exactly, for checks against a twin
  in_eval_mode(m, [&] {
    data::BatchOrder order(cases.size(), kScoreRows, false, 0);
    std::vector<size_t> rows, best(n);
    data::SessionBatch b;
    while (order.next(rows)) {
      data::fill_session_batch(sessions, cases, rows, options_.max_len, b);
      const Tensor<float> s = m.scores(b);
      for (size_t r = 0; r < b.size; ++r) {
        const float* row = s.data() + r * n;
        for (size_t j = 0; j < n; ++j) best[j] = j;
        // Highest score first; equal scores by item id, so the output is deterministic.
        std::partial_sort(
            best.begin(), best.begin() + long(k), best.end(),
            [&](size_t a, size_t c) { return row[a] > row[c] || (row[a] == row[c] && a < c); });
        for (size_t j = 0; j < k; ++j)
          out << (j ? " " : "") << data_.item_names[best[j] + 1] << ':' << row[best[j]];
        out << "\n";
      }
    }
    return 0;
  });
  return sessions.size();
}

namespace {

const OptionSpec kDataDir = path_option("data_dir", "data-dir", "folder of the data files");
const OptionSpec kMinItemCount{"min_item_count",
                               "min-item-count",
                               "items clicked fewer times are dropped (the paper: 5)",
                               {},
                               1,
                               1e9};
const OptionSpec kTestDays{
    "test_days", "test-days", "sessions ending in the data's last DAYS days are the test split",
    {},          1e-6,        1e5};

// The generated sessions' catalogue: --items, with the padding id 0.
ShapePlan plan_next_item_shape(const TaskSetup& s) {
  if (s.dataset != "synthetic") return {};
  return {{{"n_items", s.data_options.at("items").get<int64_t>() + 1}}, {{"n_items", "--items"}}};
}

std::unique_ptr<Task> make_next_item_task(const TaskSetup& s) {
  const NextItemOptions options = s.task_options.get<NextItemOptions>();
  const json& o = s.data_options;
  data::SessionDataset ds;
  data::SessionProtocol p;
  if (s.dataset != "synthetic") p.min_item_count = o.at("min_item_count").get<size_t>();
  if (s.dataset == "synthetic") {
    check_size_in_memory("--dataset synthetic clicks",
                         {{"--sessions", o.at("sessions").get<double>()},
                          {"--len-max", o.at("len_max").get<double>()}},
                         8, "an item id");
    data::SessionSyntheticConfig c = o.get<data::SessionSyntheticConfig>();
    c.seed = s.data_seed;
    ds = data::make_session_synthetic(c);
  } else if (s.dataset == "yoochoose") {
    const std::string f = o.at("fraction").get<std::string>();
    p.test_days = o.at("test_days").get<double>();
    p.train_fraction = f == "1/64" ? 1.0 / 64 : f == "1/4" ? 0.25 : 1.0;
    ds = data::preprocess_sessions(
        "yoochoose " + f,
        data::read_yoochoose_clicks(data_file("yoochoose", o, "yoochoose-clicks.dat")), p);
  } else if (s.dataset == "diginetica") {
    p.test_days = o.at("test_days").get<double>();
    ds = data::preprocess_sessions(
        "diginetica",
        data::read_diginetica_views(data_file("diginetica", o, "train-item-views.csv")), p);
  } else {
    p.test_fraction = o.at("test_fraction").get<double>();
    const std::string ratings =
        data_file("movielens", o, "ratings.csv", " (data/get_movielens.sh DIR writes it)");
    ds = data::preprocess_sessions(
        "movielens sessions",
        data::read_movielens_sessions(ratings, o.at("session_gap").get<double>()), p);
  }
  return std::make_unique<NextItemTask>(std::move(ds), options);
}

GradcheckResult gradcheck_next_item(Model<double>& model, const json&, const json&) {
  auto* m = dynamic_cast<SessionModel<double>*>(&model);
  if (!m)
    throw std::invalid_argument("the next-item task needs a session model, not " + model.name());
  return gradcheck_session_model(*m, tiny_session_batch());
}

}  // namespace

TaskEntry next_item_task_entry() {
  TaskEntry t;
  t.name = "next_item";
  t.summary = "next-item prediction: softmax cross-entropy over every item; Recall@K, MRR@K";
  t.options = {
      {"max_len", "max-len", "clicks kept per session prefix (the most recent)", {}, 1, 1e6},
      {"top_k", "top-k", "items `predict` prints per session", {}, 1, 1e6}};
  t.defaults = json(NextItemOptions{});
  const data::SessionSyntheticConfig syn_defaults;
  DatasetEntry syn{
      "synthetic",
      "seeded sessions: a general intent, a strong pull from the last click, stray clicks "
      "(data/session_synthetic.hpp)",
      {{"sessions", "sessions", "number of sessions", {}, 2, 1e8},
       {"items", "items", "number of items", {}, 2, 1e8},
       {"intents", "intents", "number of session intents (topics)", {}, 1, 1e6},
       {"followers", "followers", "items that tend to follow each item", {}, 1, 1000},
       {"len_min", "len-min", "shortest session", {}, 2, 1e4},
       {"len_max", "len-max", "longest session", {}, 2, 1e4},
       {"follow", "follow", "probability that a click follows the previous one", {}, 0, 1},
       {"noise", "noise", "probability of a stray click", {}, 0, 1},
       {"repeat", "repeat", "probability of a return to an earlier wanted click", {}, 0, 1},
       {"threads", "threads", "intents each session pursues side by side", {}, 1, 100},
       {"switch_prob",
        "switch",
        "probability of moving to another thread before a click",
        {},
        0,
        1},
       {"test_fraction",
        "test-fraction",
        "share of sessions (the last) held out for test",
        {},
        0.001,
        0.999},
       {"last_only", "last-only", "one case per session, its last click, instead of every prefix"}},
      {}};
  syn.defaults = pick(json(syn_defaults), syn.options);
  DatasetEntry yoochoose{
      "yoochoose",
      "YOOCHOOSE clicks (RecSys Challenge 2015): DIR/yoochoose-clicks.dat, with the STAMP "
      "paper's preprocessing; --fraction keeps the most recent 1/64 or 1/4 of the training "
      "sessions",
      {kDataDir,
       kMinItemCount,
       kTestDays,
       {"fraction",
        "fraction",
        "most recent share of the training sessions kept",
        {"1/64", "1/4", "1"}}},
      {{"data_dir", ""}, {"min_item_count", 5}, {"test_days", 1.0}, {"fraction", "1/64"}}};
  DatasetEntry diginetica{
      "diginetica",
      "DIGINETICA views (CIKM Cup 2016): DIR/train-item-views.csv, with the STAMP paper's "
      "preprocessing and the clicks of each session in time order",
      {kDataDir, kMinItemCount, kTestDays},
      {{"data_dir", ""}, {"min_item_count", 5}, {"test_days", 7.0}}};
  DatasetEntry movielens{
      "movielens",
      "MovieLens DIR/ratings.csv (data/get_movielens.sh): each user's ratings cut into sessions "
      "at pauses longer than --session-gap hours; the most recent sessions are the test split",
      {kDataDir,
       kMinItemCount,
       {"session_gap", "session-gap", "hours of pause that end a session", {}, 1e-6, 1e6},
       {"test_fraction",
        "test-fraction",
        "share of sessions (the most recent) held out",
        {},
        0.001,
        0.999}},
      {{"data_dir", ""}, {"min_item_count", 5}, {"session_gap", 1.0}, {"test_fraction", 0.1}}};
  t.datasets = {syn, yoochoose, diginetica, movielens};
  t.tiny_shape = {{"n_items", 9}};
  t.tiny_data = {{"sessions", 300}, {"items", 40}, {"intents", 4}};
  t.make = make_next_item_task;
  t.plan_shape = plan_next_item_shape;
  t.gradcheck = gradcheck_next_item;
  t.bench_data = [](const json& task_options, size_t batch_size) {
    const auto L = int64_t(task_options.get<NextItemOptions>().max_len);
    return json{
        {"items", 40000},       {"intents", 200},
        {"len_min", L + 1},     {"len_max", L + 1},
        {"last_only", true},    {"sessions", std::max<int64_t>(int64_t(batch_size) * 8, 2000)},
        {"test_fraction", 0.01}};
  };
  return t;
}

}  // namespace tinyrec::models
