// Flag registration and CTR data loading for the command line.
#include "cli/options.hpp"

#include <algorithm>
#include <filesystem>

#include "data/amazon_reader.hpp"
#include "data/movielens_reader.hpp"
#include "models/multitask_model.hpp"

namespace tinyrec::cli {

namespace fs = std::filesystem;

namespace {
std::vector<std::string> all_model_names() {
  std::vector<std::string> names = models::ctr_model_names();
  for (const auto& n : models::multitask_model_names()) names.push_back(n);
  return names;
}
}  // namespace

bool is_ctr_model(const std::string& name) {
  const auto& names = models::ctr_model_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

void add_common_flags(CLI::App& app, CommonFlags& c) {
  app.add_option("--model", c.model, "Model")
      ->check(CLI::IsMember(all_model_names()))
      ->capture_default_str();
  app.add_option("--dataset", c.dataset, "Data set: base/din: synthetic, amazon or movielens")
      ->check(CLI::IsMember({"synthetic", "amazon", "movielens"}))
      ->capture_default_str();
  app.add_option("--data-dir", c.data_dir,
                 "Folder of the data files: amazon: local_train_splitByUser and "
                 "local_test_splitByUser; movielens: ratings.csv and movies.csv "
                 "(data/get_movielens.sh makes them)");
  app.add_option("--epochs", c.epochs, "Training epochs")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--batch-size", c.batch_size, "Mini-batch size")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--lr", c.lr, "Learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--seed", c.seed, "Seed of the batch order")->capture_default_str();
  app.add_option("--data-seed", c.data_seed, "Seed of the synthetic data and of the user split")
      ->capture_default_str();
  app.add_option("--test-fraction", c.test_fraction, "Share of users (rows) held out for test")
      ->check(CLI::Range(0.01, 0.99))
      ->capture_default_str();
  app.add_option("--out", c.out, "Output folder (metrics.json, curve.csv, curve.svg, checkpoint/)")
      ->capture_default_str();
  app.add_flag("--quiet", c.quiet, "No progress bar");
}

void add_ctr_flags(CLI::App& app, CtrFlags& f) {
  auto& c = f.config;
  auto& t = f.train;
  auto& s = f.synthetic;
  app.add_option("--max-len", t.max_len, "base/din: behaviours kept per history (the most recent)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--activation", c.activation, "base/din: activation of the MLPs")
      ->check(CLI::IsMember({"prelu", "dice", "relu", "sigmoid"}))
      ->capture_default_str();
  app.add_flag("--softmax", c.attention_softmax,
               "din: normalise attention weights with a masked softmax (the authors' demo code) "
               "instead of the paper's unnormalised weights");
  app.add_option("--pooling", c.pooling, "base: pooling of the behaviours")
      ->check(CLI::IsMember({"sum", "mean"}))
      ->capture_default_str();
  app.add_option("--item-dim", c.item_dim, "base/din: item embedding size")->capture_default_str();
  app.add_option("--cat-dim", c.cat_dim, "base/din: category embedding size")
      ->capture_default_str();
  app.add_option("--model-seed", c.seed, "Seed of the parameter initialisation")
      ->capture_default_str();
  app.add_option("--optimizer", t.optimizer, "base/din: optimizer")
      ->check(CLI::IsMember({"adam", "adagrad", "sgd"}))
      ->capture_default_str();
  app.add_option("--mba-lambda", t.mba_lambda,
                 "base/din: mini-batch aware regularization strength on the embeddings (0 = off)")
      ->capture_default_str();
  app.add_option("--users", s.users, "base/din synthetic: number of users")->capture_default_str();
  app.add_option("--items", s.items, "base/din synthetic: number of items")->capture_default_str();
  app.add_option("--cats", s.cats, "base/din synthetic: number of categories")
      ->capture_default_str();
  app.add_option("--samples-per-user", s.samples_per_user,
                 "base/din synthetic: impressions per user")
      ->capture_default_str();
}

models::TrainOptions ctr_train_options(const CommonFlags& common, const CtrFlags& ctr) {
  models::TrainOptions t = ctr.train;
  t.epochs = common.epochs;
  t.batch_size = common.batch_size;
  t.lr = common.lr;
  t.seed = common.seed;
  return t;
}

namespace {
std::string need_file(const CommonFlags& c, const std::string& name) {
  if (c.data_dir.empty())
    throw std::invalid_argument("--dataset " + c.dataset + " needs --data-dir DIR holding " + name);
  const fs::path p = fs::path(c.data_dir) / name;
  if (!fs::exists(p))
    throw std::invalid_argument(
        "--data-dir " + c.data_dir + ": missing " + p.string() +
        (c.dataset == "movielens" ? " (data/get_movielens.sh DIR makes it)" : ""));
  return p.string();
}
}  // namespace

data::CtrDataset load_ctr_data(const CommonFlags& c, const CtrFlags& f) {
  if (c.dataset == "synthetic") {
    data::DinSyntheticConfig s = f.synthetic;
    s.test_fraction = c.test_fraction;
    s.seed = c.data_seed;
    return data::make_din_synthetic(s);
  }
  if (c.dataset == "amazon") {
    const std::string train = need_file(c, "local_train_splitByUser");
    const std::string test = need_file(c, "local_test_splitByUser");
    return data::read_amazon(train, test, f.train.max_len);
  }
  if (c.dataset == "movielens") {
    const std::string ratings = need_file(c, "ratings.csv");
    const std::string movies = need_file(c, "movies.csv");
    return data::read_movielens(ratings, movies, c.test_fraction, c.data_seed, f.train.max_len);
  }
  throw std::invalid_argument("--dataset " + c.dataset + " is not a data set of " + c.model +
                              "; accepted: synthetic, amazon, movielens");
}

void fit_config_to_data(models::CtrConfig& c, const data::CtrDataset& data) {
  c.n_items = data.n_items;
  c.n_cats = data.n_cats;
  c.item_counts = data.item_counts;
  c.cat_counts = data.cat_counts;
}

}  // namespace tinyrec::cli
