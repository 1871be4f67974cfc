// The click-prediction task: its loss terms, metrics, prediction and data sets.
#include "models/click_task.hpp"

#include <filesystem>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "autograd/limits.hpp"
#include "autograd/ops.hpp"
#include "data/amazon_reader.hpp"
#include "data/dien_synthetic.hpp"
#include "data/din_synthetic.hpp"
#include "data/movielens_reader.hpp"
#include "data/sim_synthetic.hpp"
#include "nn/metrics.hpp"
#include "nn/optim.hpp"

namespace tinyrec::data {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DinSyntheticConfig, users, items, cats,
                                                samples_per_user, hist_len_min, hist_len_max,
                                                test_fraction)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DienSyntheticConfig, users, items, cats,
                                                samples_per_user, hist_len_min, hist_len_max,
                                                test_fraction, drift_speed, drift_momentum,
                                                noise_rate)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SimSyntheticConfig, users, items, cats, interests,
                                                hist_len_min, hist_len_max, samples_per_user,
                                                gap_max, test_fraction, session_mean, churn,
                                                within_session_s, between_sessions_s,
                                                candidate_current_rate, candidate_dropped_rate,
                                                click_current, click_other)
}  // namespace tinyrec::data

namespace tinyrec::models {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The DIN paper's eq. 6 penalty, once per table over every id the batch looks up in it.
template <class T>
Tensor<T> mba_penalty(const std::vector<EmbeddingUse<T>>& uses, double lambda) {
  std::map<Node<T>*, std::pair<const EmbeddingUse<T>*, std::vector<int64_t>>> by_table;
  for (const auto& u : uses) {
    auto& entry = by_table[u.table.node()];
    entry.first = &u;
    entry.second.insert(entry.second.end(), u.ids->begin(), u.ids->end());
  }
  Tensor<T> total;
  for (auto& [node, entry] : by_table) {
    Ids ids = Ids::from_shape({entry.second.size()});
    std::copy(entry.second.begin(), entry.second.end(), ids.begin());
    Tensor<T> p = nn::mba_regularization(entry.first->table, ids, *entry.first->counts, lambda);
    total = total.defined() ? total + p : p;
  }
  return total;
}

std::string fmt(const json& v) {
  if (!v.is_number()) return "n/a";
  std::ostringstream os;
  os << std::fixed << std::setprecision(4) << v.get<double>();
  return os.str();
}

CtrModel<float>& as_ctr(Model<float>& model) {
  auto* m = dynamic_cast<CtrModel<float>*>(&model);
  if (!m) throw std::invalid_argument("the click task needs a click model, not " + model.name());
  return *m;
}

}  // namespace

template <class T>
LossTerms<T> click_loss_terms(CtrModel<T>& model, const data::CtrBatch& batch, double mba_lambda) {
  const Tensor<T> labels(xt::xarray<T>(xt::cast<T>(batch.label)));
  LossTerms<T> terms{{"click", bce_with_logits(model.forward(batch), labels)}};
  if (Tensor<T> aux = model.auxiliary_loss(batch); aux.defined())
    terms.push_back({"aux", aux, model.auxiliary_weight()});
  if (mba_lambda > 0)
    terms.push_back({"mba", mba_penalty(model.embedding_uses(batch), mba_lambda)});
  return terms;
}

template LossTerms<float> click_loss_terms(CtrModel<float>&, const data::CtrBatch&, double);
template LossTerms<double> click_loss_terms(CtrModel<double>&, const data::CtrBatch&, double);

json ctr_shape(const data::CtrDataset& d) {
  return {{"n_items", d.n_items},
          {"n_cats", d.n_cats},
          {"item_counts", IdCounts(d.item_counts)},
          {"cat_counts", IdCounts(d.cat_counts)}};
}

data::CtrBatch tiny_ctr_batch(const CtrConfig& c) {
  if (c.n_items < 9 || c.n_cats < 3)
    throw std::invalid_argument("tiny_ctr_batch: needs n_items >= 9 and n_cats >= 3");
  const std::vector<std::vector<int64_t>> hist = {{2, 5, 3, 8}, {4, 6}, {7}};
  std::vector<data::CtrSample> samples;
  auto cat_of = [&](int64_t item) { return 2 + item % (c.n_cats - 2); };
  for (size_t i = 0; i < hist.size(); ++i) {
    data::CtrSample s;
    s.user = s.user_key = int64_t(2 + i);
    s.item = int64_t(3 + 2 * i);
    s.cat = cat_of(s.item);
    s.label = float(i % 2);
    s.hist_items = hist[i];
    for (int64_t item : hist[i]) s.hist_cats.push_back(cat_of(item));
    samples.push_back(s);
  }
  data::CtrBatch b;
  data::fill_ctr_batch(samples, {0, 1, 2}, 4, false, b);
  // A fixed negative for every real position: another item of 2..8, never the clicked one.
  b.neg_items = xt::zeros<int64_t>({size_t(3), size_t(4)});
  b.neg_cats = xt::zeros<int64_t>({size_t(3), size_t(4)});
  for (size_t i = 0; i < 3; ++i)
    for (size_t t = 0; t < hist[i].size(); ++t) {
      b.neg_items(i, t) = 2 + (hist[i][t] - 2 + 3) % 7;
      b.neg_cats(i, t) = cat_of(b.neg_items(i, t));
    }
  return b;
}

GradcheckResult gradcheck_click_model(CtrModel<double>& model, const data::CtrBatch& batch,
                                      double mba_lambda) {
  model.train();
  const std::vector<Tensor<double>> params = model.parameters();
  auto logits = [&](const std::vector<Tensor<double>>&) { return model.forward(batch); };
  auto loss = [&](const std::vector<Tensor<double>>&) {
    return total_loss(click_loss_terms(model, batch, mba_lambda));
  };
  const GradcheckResult on_logits = gradcheck(logits, params);
  if (!on_logits.ok) return on_logits;
  const GradcheckResult on_loss = gradcheck(loss, params);
  return !on_loss.ok || on_loss.worst_rel_error > on_logits.worst_rel_error ? on_loss : on_logits;
}

ClickTask::ClickTask(data::CtrDataset data, const ClickOptions& options, uint64_t negative_seed)
    : data_(std::move(data)), options_(options), negative_rng_(negative_seed) {
  if (options.max_len == 0) throw std::invalid_argument("--max-len must be at least 1");
  data::check_ctr_samples(data_.train);
  data::check_ctr_samples(data_.test);
}

std::string ClickTask::describe() const {
  return data_.name + " (" + std::to_string(data_.train.size()) + " train / " +
         std::to_string(data_.test.size()) + " test samples, " + std::to_string(data_.n_items) +
         " items, " + std::to_string(data_.n_cats) + " categories)";
}

LossTerms<float> ClickTask::loss_terms(Model<float>& model, const std::vector<size_t>& rows) {
  CtrModel<float>& m = as_ctr(model);
  data::fill_ctr_batch(data_.train, rows, options_.max_len, false, batch_);
  if (m.uses_negatives()) {
    if (!negatives_) negatives_ = std::make_unique<data::NegativeSampler>(data_);
    data::fill_negatives(*negatives_, batch_, negative_rng_, batch_.neg_items, batch_.neg_cats);
  }
  if (m.uses_long_histories() && data_.histories)
    data::fill_long_rows(data_.train, rows, *data_.histories, batch_);
  return click_loss_terms(m, batch_, options_.mba_lambda);
}

std::vector<float> ClickTask::probabilities(CtrModel<float>& model,
                                            const std::vector<data::CtrSample>& samples,
                                            size_t batch_size) const {
  return in_eval_mode(model, [&] {
    std::vector<float> scores;
    scores.reserve(samples.size());
    data::BatchOrder order(samples.size(), batch_size, false, 0);
    std::vector<size_t> rows;
    data::CtrBatch batch;
    // Samples read for prediction point into no timeline; SIM then searches their own histories.
    const bool whole = model.uses_long_histories() && data_.histories && !samples.empty() &&
                       samples.front().timeline >= 0;
    while (order.next(rows)) {
      data::fill_ctr_batch(samples, rows, options_.max_len, false, batch);
      if (whole) data::fill_long_rows(samples, rows, *data_.histories, batch);
      const Tensor<float> p = sigmoid(model.forward(batch));
      scores.insert(scores.end(), p.data(), p.data() + p.numel());
    }
    return scores;
  });
}

json ClickTask::evaluate(Model<float>& model, size_t batch_size) {
  const std::vector<float> p = probabilities(as_ctr(model), data_.test, batch_size);
  std::vector<float> labels;
  std::vector<int64_t> users;
  for (const auto& s : data_.test) labels.push_back(s.label), users.push_back(s.user_key);
  return {{"auc", metrics::auc_or_nan(p, labels)},
          {"gauc", metrics::gauc_or_nan(p, labels, users)},
          {"logloss", metrics::logloss(p, labels)},
          {"samples", data_.test.size()}};
}

std::string ClickTask::summarize(const json& m) const {
  return "AUC " + fmt(m.at("auc")) + " GAUC " + fmt(m.at("gauc")) + " logloss " +
         fmt(m.at("logloss"));
}

xt::xarray<float> ClickTask::test_outputs(Model<float>& model, size_t batch_size) {
  const std::vector<float> p = probabilities(as_ctr(model), data_.test, batch_size);
  xt::xarray<float> out = xt::xarray<float>::from_shape({p.size(), size_t(1)});
  std::copy(p.begin(), p.end(), out.data());
  return out;
}

size_t ClickTask::predict(Model<float>& model, const std::string& input, std::ostream& out) {
  // Data read from files map tokens through their vocabularies; generated data holds dense ids.
  const bool from_files = data_.vocab.items.size() > data::kFirstRealId;
  const std::vector<data::CtrSample> samples =
      data::read_samples_for_prediction(input, from_files ? &data_ : nullptr);
  if (samples.empty()) throw std::runtime_error(input + ": no record to score");
  out << std::setprecision(6);
  for (float p : probabilities(as_ctr(model), samples, 1024)) out << p << "\n";
  return samples.size();
}

namespace {

const OptionSpec kDataDir = path_option("data_dir", "data-dir", "folder of the data files");
const OptionSpec kTestFraction{
    "test_fraction", "test-fraction", "share of users held out for test", {}, 0.01, 0.99};

std::unique_ptr<Task> make_click_task(const TaskSetup& s) {
  const ClickOptions options = s.task_options.get<ClickOptions>();
  const json& o = s.data_options;
  data::CtrDataset ds;
  if (s.dataset == "synthetic" || s.dataset == "drifting" || s.dataset == "long") {
    // Every impression stores its own history (at most --hist-len-max, or --max-len of the long
    // data's): refused here, before the generator allocates them.
    const double len =
        s.dataset == "long" ? double(options.max_len) : o.at("hist_len_max").get<double>();
    check_size_in_memory("--dataset " + s.dataset + " histories",
                         {{"--users", o.at("users").get<double>()},
                          {"--samples-per-user", o.at("samples_per_user").get<double>()},
                          {s.dataset == "long" ? "--max-len" : "--hist-len-max", len}},
                         16, "an item and a category id");
    if (s.dataset == "long")
      check_size_in_memory("--dataset long whole histories",
                           {{"--users", o.at("users").get<double>()},
                            {"--hist-len-max", o.at("hist_len_max").get<double>()}},
                           24, "an item, a category and a time");
  }
  if (s.dataset == "synthetic") {
    data::DinSyntheticConfig c = o.get<data::DinSyntheticConfig>();
    c.seed = s.data_seed;
    ds = data::make_din_synthetic(c);
  } else if (s.dataset == "drifting") {
    data::DienSyntheticConfig c = o.get<data::DienSyntheticConfig>();
    c.seed = s.data_seed;
    ds = data::make_dien_synthetic(c);
  } else if (s.dataset == "long") {
    data::SimSyntheticConfig c = o.get<data::SimSyntheticConfig>();
    c.seed = s.data_seed;
    c.window = options.max_len;
    ds = data::make_sim_synthetic(c);
  } else if (s.dataset == "amazon") {
    // One statement each, so the first missing file is the one named.
    const std::string train = data_file("amazon", o, "local_train_splitByUser");
    const std::string test = data_file("amazon", o, "local_test_splitByUser");
    ds = data::read_amazon(train, test, options.max_len);
  } else {
    const std::string hint = " (data/get_movielens.sh DIR writes it)";
    const std::string ratings = data_file("movielens", o, "ratings.csv", hint);
    const std::string movies = data_file("movielens", o, "movies.csv", hint);
    ds = data::read_movielens(ratings, movies, o.at("test_fraction").get<double>(), s.data_seed,
                              options.max_len);
  }
  return std::make_unique<ClickTask>(std::move(ds), options, s.data_seed);
}

// The generated data sets' vocabularies: --items and --cats, with the padding and unknown ids.
ShapePlan plan_click_shape(const TaskSetup& s) {
  if (s.dataset != "synthetic" && s.dataset != "drifting" && s.dataset != "long") return {};
  const json& o = s.data_options;
  return {{{"n_items", o.at("items").get<int64_t>() + data::kFirstRealId},
           {"n_cats", o.at("cats").get<int64_t>() + data::kFirstRealId}},
          {{"n_items", "--items"}, {"n_cats", "--cats"}}};
}

GradcheckResult gradcheck_click(Model<double>& model, const json& shape, const json& options) {
  auto* m = dynamic_cast<CtrModel<double>*>(&model);
  if (!m) throw std::invalid_argument("the click task needs a click model, not " + model.name());
  return gradcheck_click_model(*m, tiny_ctr_batch(shape.get<CtrConfig>()),
                               options.get<ClickOptions>().mba_lambda);
}

}  // namespace

TaskEntry click_task_entry() {
  TaskEntry t;
  t.name = "click";
  t.summary = "click prediction: binary cross-entropy; AUC, GAUC, logloss";
  t.options = {{"max_len", "max-len", "behaviours kept per history (the most recent)", {}, 1, 1e6},
               {"mba_lambda",
                "mba-lambda",
                "mini-batch aware regularization strength on the embeddings (0 = off)",
                {},
                0}};
  t.defaults = json(ClickOptions{});
  const data::DinSyntheticConfig synthetic;
  DatasetEntry syn{"synthetic",
                   "seeded users with a few interest categories (data/din_synthetic.hpp)",
                   {{"users", "users", "number of users", {}, 2, 1e7},
                    {"items", "items", "number of items", {}, 2, 1e8},
                    {"cats", "cats", "number of categories", {}, 1, 1e6},
                    {"samples_per_user", "samples-per-user", "impressions per user", {}, 1, 1e5},
                    {"hist_len_min", "hist-len-min", "shortest history", {}, 1, 1e6},
                    {"hist_len_max", "hist-len-max", "longest history", {}, 1, 1e6},
                    kTestFraction},
                   {}};
  syn.defaults = pick(json(synthetic), syn.options);
  DatasetEntry amazon{"amazon",
                      "the DIN/DIEN repositories' Amazon files: DIR/local_train_splitByUser and "
                      "DIR/local_test_splitByUser",
                      {kDataDir},
                      {{"data_dir", ""}}};
  DatasetEntry movielens{"movielens",
                         "MovieLens ratings.csv and movies.csv in DIR (data/get_movielens.sh); "
                         "ratings >= 4 positive, split by user; whole timed histories for SIM",
                         {kDataDir, kTestFraction},
                         {{"data_dir", ""}, {"test_fraction", 0.2}}};
  const data::DienSyntheticConfig drift;
  DatasetEntry drifting{
      "drifting",
      "seeded users whose interest drifts along a ring of categories; clicks follow the current "
      "interest (data/dien_synthetic.hpp)",
      {syn.options[0],
       syn.options[1],
       syn.options[2],
       syn.options[3],
       syn.options[4],
       syn.options[5],
       kTestFraction,
       {"drift_speed", "drift-speed", "how fast interests move along the ring", {}, 0, 100},
       {"drift_momentum", "drift-momentum", "how steadily they keep their direction", {}, 0, 1},
       {"noise_rate", "noise-rate", "share of stray behaviours", {}, 0, 1}},
      {}};
  drifting.defaults = pick(json(drift), drifting.options);
  const data::SimSyntheticConfig lives;
  DatasetEntry long_histories{
      "long",
      "seeded users with 1,000 to 10,000 timed behaviours whose interests come and go; whole "
      "histories for SIM, the last --max-len for the others (data/sim_synthetic.hpp)",
      {syn.options[0],
       syn.options[1],
       syn.options[2],
       {"interests", "interests", "current interests per user", {}, 1, 1e5},
       syn.options[3],
       {"hist_len_min",
        "hist-len-min",
        "behaviours before the first impression, at least",
        {},
        1,
        1e6},
       {"hist_len_max",
        "hist-len-max",
        "behaviours before the first impression, at most",
        {},
        1,
        1e6},
       kTestFraction,
       {"churn",
        "churn",
        "chance per session that the user drops an interest for a new one",
        {},
        0,
        1}},
      {}};
  long_histories.defaults = pick(json(lives), long_histories.options);
  t.datasets = {syn, drifting, long_histories, amazon, movielens};
  t.tiny_shape = {{"n_items", 9},
                  {"n_cats", 5},
                  {"item_counts", {0, 0, 3, 1, 2, 4, 1, 1, 2}},
                  {"cat_counts", {0, 0, 5, 3, 2}}};
  t.tiny_data = {{"users", 60}, {"items", 40}, {"cats", 5}, {"samples_per_user", 4}};
  t.make = make_click_task;
  t.plan_shape = plan_click_shape;
  t.gradcheck = gradcheck_click;
  t.bench_data = [](const json& task_options, size_t batch_size) {
    const auto L = int64_t(task_options.get<ClickOptions>().max_len);
    return json{{"hist_len_min", L},
                {"hist_len_max", L},
                {"users", std::max<int64_t>(int64_t(batch_size) * 4 / 10 + 1, 50)},
                {"test_fraction", 0.1}};
  };
  return t;
}

}  // namespace tinyrec::models
