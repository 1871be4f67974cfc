// Ten MeLU meta-training steps, written out so that the PyTorch twin can take the same ones
// (bench/melu_train_parity.py). A small MeLU on the synthetic cold-start users: the initial weights
// go to OUT/init (a checkpoint with its config.json), each meta-batch's rows — exactly what the
// model reads: per field the ids and a bag's weights, the ratings, per user the row counts — to
// OUT/step_NN, and the weights after the last step to OUT/final. The steps are the task's own
// train_step (local update per user, query losses through it, one Adam step), with the optimizer
// the trainer would make. Prints one JSON line: the settings and each step's mean query loss.
// Usage: bench_melu_steps OUT [--first-order]
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/tensor.hpp"
#include "data/batching.hpp"
#include "models/meta_task.hpp"
#include "models/trainer.hpp"
#include "nn/checkpoint.hpp"
#include "nn/npy.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace tinyrec;

namespace {

constexpr size_t kSteps = 10, kUsers = 8;
constexpr double kLr = 0.01;

void save_weights(const models::Run& run, const fs::path& dir) {
  nn::save_checkpoint(*run.model, dir.string());
  std::ofstream(dir / "config.json") << json(run.config).dump(2) << "\n";
}

// Appends one user's rows to the meta-batch's arrays (concatenated along the rows).
struct Rows {
  std::vector<std::vector<int64_t>> user_ids, item_ids;
  std::vector<std::vector<double>> item_weights;
  std::vector<size_t> item_widths;
  std::vector<double> ratings;
  std::vector<int64_t> sizes;

  void add(const data::RatingBatch& b) {
    user_ids.resize(b.user_ids.size());
    item_ids.resize(b.item_ids.size());
    item_weights.resize(b.item_ids.size());
    item_widths.resize(b.item_ids.size());
    for (size_t f = 0; f < b.user_ids.size(); ++f)
      user_ids[f].insert(user_ids[f].end(), b.user_ids[f].begin(), b.user_ids[f].end());
    for (size_t f = 0; f < b.item_ids.size(); ++f) {
      item_widths[f] = b.item_ids[f].dimension() == 1 ? 0 : b.item_ids[f].shape()[1];
      item_ids[f].insert(item_ids[f].end(), b.item_ids[f].begin(), b.item_ids[f].end());
      if (item_widths[f] > 0)
        item_weights[f].insert(item_weights[f].end(), b.item_weights[f].begin(),
                               b.item_weights[f].end());
    }
    ratings.insert(ratings.end(), b.ratings.begin(), b.ratings.end());
    sizes.push_back(int64_t(b.size));
  }

  template <class T>
  static xt::xarray<T> array(const std::vector<T>& v, size_t width) {
    xt::xarray<T> a = width == 0 ? xt::xarray<T>::from_shape({v.size()})
                                 : xt::xarray<T>::from_shape({v.size() / width, width});
    std::copy(v.begin(), v.end(), a.begin());
    return a;
  }

  void save(const fs::path& dir, const std::string& set) const {
    const std::string p = (dir / set).string();
    for (size_t f = 0; f < user_ids.size(); ++f)
      nn::save_npy(p + "_user" + std::to_string(f) + ".npy", array(user_ids[f], 0));
    for (size_t f = 0; f < item_ids.size(); ++f) {
      nn::save_npy(p + "_item" + std::to_string(f) + ".npy", array(item_ids[f], item_widths[f]));
      if (item_widths[f] > 0)
        nn::save_npy(p + "_item" + std::to_string(f) + "_weights.npy",
                     array(item_weights[f], item_widths[f]));
    }
    nn::save_npy(p + "_ratings.npy", array(ratings, 0));
    nn::save_npy(p + "_sizes.npy", array(sizes, 0));
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || (argc == 3 && std::string(argv[2]) != "--first-order") || argc > 3) {
    std::fprintf(stderr, "usage: bench_melu_steps OUT [--first-order]\n");
    return 2;
  }
  const fs::path out = argv[1];
  const bool first_order = argc == 3;
  models::RunConfig config;
  config.model = "melu";
  config.model_options = {{"embedding_dim", 8}, {"hidden", {16, 12}}};
  config.data_options = {{"users", 200}, {"items", 120}};
  config.task_options = {{"first_order", first_order}};
  config.train.batch_size = kUsers;
  config.train.lr = kLr;
  models::Run run = models::build_run(config);
  auto& task = dynamic_cast<models::MetaTask&>(*run.task);
  const data::MetaDataset& ds = task.data();

  fs::create_directories(out);
  save_weights(run, out / "init");
  const auto optimizer =
      nn::make_optimizer<float>(run.config.train.optimizer, run.model->parameters(), kLr);
  data::BatchOrder order(task.train_size(), kUsers, true, run.config.train.seed);
  std::vector<size_t> users;
  json losses = json::array();
  for (size_t step = 0; step < kSteps; ++step) {
    if (!order.next(users)) {
      order.start_epoch();
      order.next(users);
    }
    Rows support, query;
    data::RatingBatch batch;
    for (size_t u : users) {
      const data::RatingTask& t = ds.train.at(u);
      data::fill_rating_batch(ds, t.user, t.support_items, t.support_ratings, batch);
      support.add(batch);
      data::fill_rating_batch(ds, t.user, t.query_items, t.query_ratings, batch);
      query.add(batch);
    }
    char name[16];
    std::snprintf(name, sizeof name, "step_%02zu", step);
    fs::create_directories(out / name);
    support.save(out / name, "support");
    query.save(out / name, "query");
    losses.push_back(task.train_step(*run.model, *optimizer, users).front().second);
  }
  save_weights(run, out / "final");
  const json report = {{"model", "melu"},
                       {"first_order", first_order},
                       {"local_lr", run.config.task_options.at("local_lr")},
                       {"local_steps", run.config.task_options.at("local_steps")},
                       {"lr", kLr},
                       {"users_per_step", kUsers},
                       {"query_losses", losses}};
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
