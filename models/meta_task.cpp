// The meta-learning task: the meta-batch training step, cold-start evaluation before and after the
// local update, prediction for new users, and its data sets.
#include "models/meta_task.hpp"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "autograd/limits.hpp"
#include "autograd/ops.hpp"
#include "nn/metrics.hpp"

namespace tinyrec::data {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MeluSyntheticConfig, users, items, rank,
                                                feature_share, taste_scale, quality_scale, noise,
                                                min_ratings, max_ratings)
}  // namespace tinyrec::data

namespace tinyrec::models {

using nlohmann::json;

namespace {

MetaModel<float>& as_meta(Model<float>& model) {
  auto* m = dynamic_cast<MetaModel<float>*>(&model);
  if (!m)
    throw std::invalid_argument("the meta-learning task needs a meta-learning model, not " +
                                model.name());
  return *m;
}

LocalUpdate local_update_of(const MetaOptions& o, size_t steps) {
  LocalUpdate u;
  u.steps = steps;
  u.lr = o.local_lr;
  u.first_order = o.first_order;
  return u;
}

std::vector<int64_t> joined(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}
std::vector<float> joined(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::string fmt(const json& v) {
  if (!v.is_number()) return "n/a";
  std::ostringstream os;
  os << std::fixed << std::setprecision(4) << v.get<double>();
  return os.str();
}

}  // namespace

json meta_shape(const data::MetaDataset& d) {
  json s;
  for (const auto& [side, table] :
       {std::pair<const char*, const data::FeatureTable*>{"user", &d.users}, {"item", &d.items}}) {
    std::vector<int64_t> vocab;
    std::vector<size_t> widths;
    for (const auto& f : table->fields) {
      vocab.push_back(f.vocab);
      widths.push_back(f.width);
    }
    s[std::string(side) + "_vocab_sizes"] = vocab;
    s[std::string(side) + "_widths"] = widths;
  }
  double sum = 0;
  size_t n = 0;
  for (const auto& t : d.train) {
    for (float r : t.support_ratings) sum += r;
    for (float r : t.query_ratings) sum += r;
    n += t.support_ratings.size() + t.query_ratings.size();
  }
  s["rating_mean"] = n ? sum / double(n) : 0.0;
  return s;
}

template <class T>
Tensor<T> meta_loss(MetaModel<T>& model, const data::MetaDataset& data,
                    const std::vector<data::RatingTask>& tasks, const MetaOptions& o) {
  const bool adapt = o.training == "maml" && o.local_steps > 0;
  const LocalUpdate update = local_update_of(o, o.local_steps);
  data::RatingBatch support, query;
  Tensor<T> total;
  for (const data::RatingTask& t : tasks) {
    Tensor<T> loss;
    if (adapt) {
      data::fill_rating_batch(data, t.user, t.support_items, t.support_ratings, support);
      data::fill_rating_batch(data, t.user, t.query_items, t.query_ratings, query);
      loss = query_loss(model, support, query, update);  // L_Q(θ')
    } else {
      data::fill_rating_batch(data, t.user, joined(t.support_items, t.query_items),
                              joined(t.support_ratings, t.query_ratings), query);
      loss = mse_loss(model.forward(query), rating_tensor<T>(query));
    }
    total = total.defined() ? total + loss : loss;  // Σ over the users of the meta-batch
  }
  if (!total.defined()) throw std::invalid_argument("meta_loss: no task");
  return total;
}

template Tensor<float> meta_loss(MetaModel<float>&, const data::MetaDataset&,
                                 const std::vector<data::RatingTask>&, const MetaOptions&);
template Tensor<double> meta_loss(MetaModel<double>&, const data::MetaDataset&,
                                  const std::vector<data::RatingTask>&, const MetaOptions&);

data::MetaDataset tiny_meta_dataset(const json& shape) {
  data::MetaDataset d;
  d.name = "tiny";
  auto fields = [&](const char* side, data::FeatureTable& table, size_t rows) {
    const auto vocab = shape.at(std::string(side) + "_vocab_sizes").get<std::vector<int64_t>>();
    const auto widths = shape.at(std::string(side) + "_widths").get<std::vector<size_t>>();
    for (size_t f = 0; f < vocab.size(); ++f)
      table.fields.push_back({side + std::to_string(f), vocab[f], widths[f]});
    table.ids = xt::zeros<int64_t>({rows, table.columns()});
    size_t col = 0;
    for (size_t f = 0; f < vocab.size(); ++f) {
      for (size_t r = 0; r < rows; ++r)
        for (size_t j = 0; j < widths[f];
             ++j)  // varied ids; a bag's last slot is padded on odd rows
          table.ids(r, col + j) = (j + 1 == widths[f] && widths[f] > 1 && r % 2 == 1)
                                      ? 0
                                      : int64_t(1 + (r + 2 * j + f) % size_t(vocab[f] - 1));
      col += widths[f];
    }
  };
  fields("user", d.users, 2);
  fields("item", d.items, 6);
  for (size_t i = 0; i < 6; ++i) d.item_keys.push_back(std::to_string(i));
  d.train = {{0, {0, 1, 2}, {3, 4}, {4.0f, 2.5f, 3.0f}, {1.5f, 5.0f}},
             {1, {5, 3, 1}, {0, 2}, {2.0f, 4.5f, 3.5f}, {3.0f, 1.0f}}};
  d.test = d.train;
  d.split = "users";
  return d;
}

GradcheckResult gradcheck_meta_model(MetaModel<double>& model, const data::MetaDataset& data,
                                     const MetaOptions& options) {
  model.train();
  const std::vector<Tensor<double>> params = model.parameters();
  data::RatingBatch rows;
  const data::RatingTask& t = data.train.front();
  data::fill_rating_batch(data, t.user, joined(t.support_items, t.query_items), {}, rows);
  auto outputs = [&](const std::vector<Tensor<double>>&) { return model.forward(rows); };
  // The meta-gradient is checked as the derivative of the query loss after the local update, so
  // the local update must be differentiated through: second order, whatever the run uses.
  MetaOptions second = options;
  second.first_order = false;
  second.training = "maml";
  if (second.local_steps == 0) second.local_steps = 1;
  auto loss = [&](const std::vector<Tensor<double>>&) {
    return meta_loss(model, data, data.train, second);
  };
  const GradcheckResult on_outputs = gradcheck(outputs, params);
  if (!on_outputs.ok) return on_outputs;
  const GradcheckResult on_loss = gradcheck(loss, params);
  return !on_loss.ok || on_loss.worst_rel_error > on_outputs.worst_rel_error ? on_loss : on_outputs;
}

MetaTask::MetaTask(data::MetaDataset data, const MetaOptions& options)
    : data_(std::move(data)), options_(options) {
  if (options.training != "maml" && options.training != "global")
    throw std::invalid_argument("--training: " + options.training + " not in {maml, global}");
  if (!(options.local_lr >= 0) || !std::isfinite(options.local_lr))
    throw std::invalid_argument("--local-lr must be a finite number >= 0");
}

std::string MetaTask::describe() const {
  size_t ratings = 0;
  for (const auto* set : {&data_.train, &data_.test})
    for (const auto& t : *set) ratings += t.support_items.size() + t.query_items.size();
  return data_.name + " (" + std::to_string(data_.train.size()) + " training tasks / " +
         std::to_string(data_.test.size()) + " test tasks, cold-start " + data_.split + ", " +
         std::to_string(ratings) + " ratings, " + std::to_string(data_.items.size()) + " items)";
}

LossTerms<float> MetaTask::loss_terms(Model<float>& model, const std::vector<size_t>& rows) {
  std::vector<data::RatingTask> tasks;
  for (size_t r : rows) tasks.push_back(data_.train.at(r));
  const bool adapt = options_.training == "maml" && options_.local_steps > 0;
  return {{adapt ? "query" : "ratings", meta_loss(as_meta(model), data_, tasks, options_)}};
}

LossValues MetaTask::train_step(Model<float>& model, nn::Optimizer<float>& optimizer,
                                const std::vector<size_t>& rows) {
  model.train();
  const LossTerms<float> terms = loss_terms(model, rows);
  const double mean = terms[0].value.item() / double(rows.size());
  if (!std::isfinite(mean)) {
    std::ostringstream os;
    os << "the " << terms[0].name << " loss is " << mean << " (try a lower --lr or --local-lr)";
    throw NonFiniteLoss(os.str());
  }
  optimizer.zero_grad();
  backward(terms[0].value);  // the global update: through every user's local update
  optimizer.step();
  return {{terms[0].name, mean}};
}

namespace {

// Predictions of every test user's query set before and after the local update.
struct TestPredictions {
  std::vector<std::vector<double>> before, after;  // per user
};

TestPredictions predict_test(MetaModel<float>& model, const data::MetaDataset& data,
                             const MetaOptions& o, size_t steps) {
  TestPredictions p;
  data::RatingBatch support, query;
  for (const data::RatingTask& t : data.test) {
    data::fill_rating_batch(data, t.user, t.support_items, t.support_ratings, support);
    data::fill_rating_batch(data, t.user, t.query_items, t.query_ratings, query);
    p.before.push_back(adapted_predictions(model, support, query, local_update_of(o, 0)));
    p.after.push_back(steps == 0
                          ? p.before.back()
                          : adapted_predictions(model, support, query, local_update_of(o, steps)));
  }
  return p;
}

json rating_metrics(const std::vector<std::vector<double>>& pred,
                    const std::vector<data::RatingTask>& tasks) {
  std::vector<float> all_pred, all_true;
  double ndcg = 0;
  for (size_t u = 0; u < tasks.size(); ++u) {
    const std::vector<float> p(pred[u].begin(), pred[u].end());
    all_pred.insert(all_pred.end(), p.begin(), p.end());
    all_true.insert(all_true.end(), tasks[u].query_ratings.begin(), tasks[u].query_ratings.end());
    ndcg += metrics::ndcg_at_k(p, tasks[u].query_ratings, 3);
  }
  return {{"mae", metrics::mae(all_pred, all_true)},
          {"rmse", metrics::rmse(all_pred, all_true)},
          {"ndcg@3", ndcg / double(tasks.size())}};
}

}  // namespace

json MetaTask::evaluate_with_steps(Model<float>& model, size_t steps) {
  MetaModel<float>& m = as_meta(model);
  const TestPredictions p =
      in_eval_mode(m, [&] { return predict_test(m, data_, options_, steps); });
  size_t ratings = 0;
  for (const auto& t : data_.test) ratings += t.query_items.size();
  return {{"before", rating_metrics(p.before, data_.test)},
          {"after", rating_metrics(p.after, data_.test)},
          {"local_steps", steps},
          {"users", data_.test.size()},
          {"ratings", ratings}};
}

json MetaTask::evaluate(Model<float>& model, size_t) {
  return evaluate_with_steps(model, options_.local_steps);
}

std::string MetaTask::summarize(const json& m) const {
  const json &a = m.at("after"), &b = m.at("before");
  return "MAE " + fmt(a.at("mae")) + " RMSE " + fmt(a.at("rmse")) + " nDCG@3 " +
         fmt(a.at("ndcg@3")) + " after " + std::to_string(m.at("local_steps").get<size_t>()) +
         " local steps (before: MAE " + fmt(b.at("mae")) + ")";
}

xt::xarray<float> MetaTask::test_outputs(Model<float>& model, size_t) {
  MetaModel<float>& m = as_meta(model);
  const TestPredictions p =
      in_eval_mode(m, [&] { return predict_test(m, data_, options_, options_.local_steps); });
  size_t n = 0;
  for (const auto& u : p.before) n += u.size();
  xt::xarray<float> out = xt::xarray<float>::from_shape({n, size_t(2)});
  size_t row = 0;
  for (size_t u = 0; u < p.before.size(); ++u)
    for (size_t j = 0; j < p.before[u].size(); ++j, ++row) {
      out(row, 0) = float(p.before[u][j]);
      out(row, 1) = float(p.after[u][j]);
    }
  return out;
}

size_t MetaTask::predict(Model<float>& model, const std::string& input, std::ostream& out) {
  std::ifstream in(input);
  if (!in) throw std::runtime_error("cannot open " + input);
  std::map<std::string, int64_t> item_row;
  for (size_t i = 0; i < data_.item_keys.size(); ++i) item_row[data_.item_keys[i]] = int64_t(i);
  struct NewUser {
    std::string key;
    std::vector<int64_t> support_items, score_items;
    std::vector<float> support_ratings;
  };
  std::vector<NewUser> users;
  std::map<std::string, size_t> user_of;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto fail = [&](const std::string& what) {
      throw std::runtime_error(input + ":" + std::to_string(line_no) + ": " + what);
    };
    if (line_no == 1) {
      if (line != "user,item,rating") fail("expected the header \"user,item,rating\"");
      continue;
    }
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, ',')) f.push_back(field);
    if (!line.empty() && line.back() == ',') f.push_back("");
    if (f.size() != 3)
      fail("expected 3 comma-separated fields (user,item,rating), got " + std::to_string(f.size()));
    if (f[0].empty()) fail("column 1 (user): empty");
    const auto it = item_row.find(f[1]);
    if (it == item_row.end()) fail("column 2 (item): " + f[1] + " is not an item of " + data_.name);
    auto [pos, added] = user_of.emplace(f[0], users.size());
    if (added) users.push_back({f[0], {}, {}, {}});
    NewUser& u = users[pos->second];
    if (f[2].empty()) {
      u.score_items.push_back(it->second);
      continue;
    }
    double r = 0;
    size_t used = 0;
    try {
      r = std::stod(f[2], &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != f[2].size() || !std::isfinite(r))
      fail("column 3 (rating): '" + f[2] + "' is not a number");
    u.support_items.push_back(it->second);
    u.support_ratings.push_back(float(r));
  }
  if (line_no == 0) throw std::runtime_error(input + ": empty file, no header");
  // A new user's features: what every user of the data set shares (MovieLens's one constant
  // feature), otherwise unknown (id 0).
  data::MetaDataset d = data_;
  const size_t cols = d.users.columns(), n_users = d.users.size();
  xt::xarray<int64_t> ids = xt::zeros<int64_t>({n_users + 1, cols});
  for (size_t r = 0; r < n_users; ++r)
    for (size_t c = 0; c < cols; ++c) ids(r, c) = d.users.ids(r, c);
  for (size_t c = 0; c < cols; ++c) {
    bool same = n_users > 0;
    for (size_t r = 1; r < n_users && same; ++r) same = d.users.ids(r, c) == d.users.ids(0, c);
    ids(n_users, c) = same ? d.users.ids(0, c) : 0;
  }
  d.users.ids = std::move(ids);
  MetaModel<float>& m = as_meta(model);
  size_t scored = 0;
  data::RatingBatch support, query;
  out << std::setprecision(6);
  for (const NewUser& u : users) {
    if (u.score_items.empty()) continue;
    const int64_t row = int64_t(n_users);
    data::fill_rating_batch(d, row, u.support_items, u.support_ratings, support);
    data::fill_rating_batch(d, row, u.score_items, {}, query);
    const size_t steps = u.support_items.empty() ? 0 : options_.local_steps;
    const std::vector<double> y = in_eval_mode(m, [&] {
      return adapted_predictions(m, support, query, local_update_of(options_, steps));
    });
    for (size_t j = 0; j < y.size(); ++j)
      out << u.key << "\t" << d.item_keys[size_t(u.score_items[j])] << "\t" << y[j] << "\n";
    scored += y.size();
  }
  if (scored == 0)
    throw std::runtime_error(input + ": no row to score (rows with an empty rating)");
  return scored;
}

namespace {

data::TaskSplit task_split(const MetaOptions& o, const json& d, uint64_t seed) {
  data::TaskSplit s;
  s.split = d.at("split").get<std::string>();
  s.test_fraction = d.at("test_fraction").get<double>();
  s.query_size = o.query_size;
  s.support_size = o.support_size;
  s.seed = seed;
  return s;
}

std::unique_ptr<Task> make_meta_task(const TaskSetup& s) {
  const MetaOptions options = s.task_options.get<MetaOptions>();
  const json& o = s.data_options;
  data::MetaDataset ds;
  if (s.dataset == "synthetic") {
    check_size_in_memory("--dataset synthetic ratings",
                         {{"--users", o.at("users").get<double>()},
                          {"--max-ratings", o.at("max_ratings").get<double>()}},
                         12, "an item id and a rating");
    data::MeluSyntheticConfig c = o.get<data::MeluSyntheticConfig>();
    c.seed = s.data_seed;
    data::TaskSplit split = task_split(options, o, s.data_seed);
    split.max_ratings = size_t(c.max_ratings);
    split.min_ratings = size_t(c.min_ratings);
    ds = data::make_melu_synthetic(c, split);
  } else {
    const std::string hint = " (data/get_movielens.sh DIR writes it)";
    const std::string ratings = data_file("movielens", o, "ratings.csv", hint);
    const std::string movies = data_file("movielens", o, "movies.csv", hint);
    ds = data::read_movielens_tasks(ratings, movies, task_split(options, o, s.data_seed));
  }
  return std::make_unique<MetaTask>(std::move(ds), options);
}

GradcheckResult gradcheck_meta(Model<double>& model, const json& shape, const json& options) {
  auto* m = dynamic_cast<MetaModel<double>*>(&model);
  if (!m)
    throw std::invalid_argument("the meta-learning task needs a meta-learning model, not " +
                                model.name());
  return gradcheck_meta_model(*m, tiny_meta_dataset(shape), options.get<MetaOptions>());
}

}  // namespace

TaskEntry meta_task_entry() {
  TaskEntry t;
  t.name = "meta";
  t.summary =
      "meta-learning for cold-start ratings: a task per user (support and query sets), MAML's "
      "local and global updates; MAE, RMSE, nDCG@3 before and after the local update";
  t.options = {
      {"local_steps",
       "local-steps",
       "local update steps per user (0: no local update)",
       {},
       0,
       1000},
      {"local_lr", "local-lr", "local update learning rate β", {}, 0, 1e6},
      {"first_order", "first-order",
       "first-order MAML (FOMAML): the local update's gradient taken as a constant in the global "
       "update, as the authors' code ends up doing"},
      {"support_size",
       "support-size",
       "support ratings per user (0: all but the query set)",
       {},
       0,
       1e6},
      {"query_size", "query-size", "query ratings per user", {}, 1, 1e6},
      {"training",
       "training",
       "maml (meta-training) or global (the global model trained on all ratings: with "
       "--local-steps it is fine-tuning without meta-training)",
       {"maml", "global"}}};
  t.defaults = json(MetaOptions{});
  const OptionSpec split{"split",
                         "split",
                         "cold-start users (test users never meta-trained) or items (test tasks "
                         "rate only items no training task holds)",
                         {"users", "items"}};
  const OptionSpec fraction{"test_fraction",
                            "test-fraction",
                            "share of users (--split users) or items (--split items) held out",
                            {},
                            0.01,
                            0.99};
  const data::MeluSyntheticConfig syn;
  DatasetEntry synthetic{
      "synthetic",
      "seeded cold-start users with their own tastes over item features (data/rating_tasks.hpp)",
      {{"users", "users", "number of users", {}, 2, 1e7},
       {"items", "items", "number of items", {}, 2, 1e8},
       {"rank", "rank", "size k of the taste vectors", {}, 1, 1000},
       {"feature_share",
        "feature-share",
        "share ρ of a taste that the user's features explain",
        {},
        0,
        1},
       {"noise", "noise", "rating noise σ", {}, 0, 10},
       {"min_ratings", "min-ratings", "fewest ratings per user", {}, 2, 1e6},
       {"max_ratings", "max-ratings", "most ratings per user", {}, 2, 1e6},
       split,
       fraction},
      {}};
  json syn_values = json(syn);
  syn_values["split"] = "users";
  syn_values["test_fraction"] = 0.25;
  synthetic.defaults = pick(syn_values, synthetic.options);
  DatasetEntry movielens{
      "movielens",
      "MovieLens ratings.csv and movies.csv in DIR (data/get_movielens.sh); "
      "users with 13 to 100 ratings, genres and year as item features",
      {path_option("data_dir", "data-dir", "folder of the data files"), split, fraction},
      {{"data_dir", ""}, {"split", "users"}, {"test_fraction", 0.2}}};
  t.datasets = {synthetic, movielens};
  t.tiny_shape = {{"user_vocab_sizes", {3, 4}},
                  {"user_widths", {1, 1}},
                  {"item_vocab_sizes", {5, 4}},
                  {"item_widths", {3, 1}}};
  t.tiny_data = {{"users", 120}, {"items", 80}};
  t.make = make_meta_task;
  t.gradcheck = gradcheck_meta;
  t.bench_data = [](const json&, size_t batch_size) {
    return json{{"users", std::max<size_t>(8 * batch_size, 400)}};
  };
  return t;
}

}  // namespace tinyrec::models
