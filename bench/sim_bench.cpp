// SIM's costs and its PyTorch twin's inputs (bench/README.md, bench/run_sim_bench.sh):
//
//   bench_sim_bench cost [reps] [batch]
//       cost per sample as the history grows (L = 100, 300, 1,000, 3,000, 10,000): scoring
//       (evaluation mode, nothing recorded) and a training step (forward, losses, backward) of SIM
//       with hard search, SIM with soft search (pooling the whole history in its auxiliary loss)
//       and DIN over the whole history. One JSON line per model, L and mode.
//   bench_sim_bench train [steps] [batch] [warmup]
//       training throughput, the twin's setting: hard search, K = 50, every history 1,000
//       behaviours (the long synthetic data at --hist-len-min = --hist-len-max = 1000), Adam.
//   bench_sim_bench dump CHECKPOINT OUT [rows]
//       the long synthetic data of `tinyrec train --model sim --dataset long --users 200
//       --hist-len-min 1000 --hist-len-max 1000` (seed 1); the model of CHECKPOINT scores the
//       first `rows` test samples; writes OUT/*.npy: each row's whole history before the
//       impression (padded), its time, candidate, short history, label and tinyrec's probability.
//   bench_sim_bench steps OUT [steps] [float|double]
//       ten (or `steps`) training steps of a small SIM from a saved start, for
//       bench/sim_train_parity.py: OUT/init, OUT/step_NN (each batch's rows, as `dump` writes
//       them), OUT/final; one JSON line with the losses. In float (through ClickTask::train_step)
//       or double.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/platform.hpp"
#include "data/sim_synthetic.hpp"
#include "models/click_task.hpp"
#include "models/din.hpp"
#include "models/sim.hpp"
#include "models/trainer.hpp"
#include "nn/checkpoint.hpp"
#include "nn/npy.hpp"

namespace {

using namespace tinyrec;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Seconds per call of `fn`, the median of `reps` repetitions of at least 0.2 s each.
double time_it(const std::function<void()>& fn, int reps) {
  fn();  // warm caches and the allocator
  std::vector<double> per_call;
  for (int r = 0; r < reps; ++r) {
    size_t n = 0;
    const Clock::time_point t0 = Clock::now();
    do fn(), ++n;
    while (seconds_since(t0) < 0.2);
    per_call.push_back(seconds_since(t0) / double(n));
  }
  return median(per_call);
}

// The long synthetic data with every history exactly L behaviours (one impression per user).
data::CtrDataset data_of_length(size_t L, size_t users, size_t window) {
  data::SimSyntheticConfig c;
  c.users = int64_t(users);
  c.samples_per_user = 1;
  c.hist_len_min = c.hist_len_max = int64_t(L);
  c.test_fraction = 0;
  c.window = window;
  return data::make_sim_synthetic(c);
}

int cost(int reps, size_t B) {
  for (size_t L : {100, 300, 1000, 3000, 10000}) {
    const data::CtrDataset ds = data_of_length(L, B, L);
    std::vector<size_t> rows(B);
    for (size_t i = 0; i < B; ++i) rows[i] = i;
    data::CtrBatch recent, whole;  // SIM: 50 recent behaviours + the timelines; DIN: all L
    data::fill_ctr_batch(ds.train, rows, 50, false, recent);
    data::fill_long_rows(ds.train, rows, *ds.histories, recent);
    data::fill_ctr_batch(ds.train, rows, L, false, whole);
    models::CtrConfig c = models::ctr_shape(ds).get<models::CtrConfig>();
    models::SIM<float> hard(c);
    c.search = "soft";
    models::SIM<float> soft(c);
    models::DIN<float> din(c);
    struct Case {
      const char* name;
      models::CtrModel<float>& model;
      const data::CtrBatch& batch;
    };
    for (const Case& k : {Case{"sim_hard", hard, recent}, Case{"sim_soft", soft, recent},
                          Case{"din_whole_history", din, whole}}) {
      const double infer = time_it(
          [&] { models::in_eval_mode(k.model, [&] { return k.model.forward(k.batch); }); }, reps);
      const double train = time_it(
          [&] {
            k.model.train();
            k.model.zero_grad();
            backward(models::total_loss(models::click_loss_terms(k.model, k.batch, 0.0)));
          },
          reps);
      for (auto [mode, s] : {std::pair{"inference", infer}, std::pair{"training", train}})
        std::printf(
            "{\"bench\":\"sim_cost\",\"impl\":\"tinyrec\",\"model\":\"%s\",\"mode\":\"%s\","
            "\"history\":%zu,\"batch_size\":%zu,\"us_per_sample\":%.3f,%s}\n",
            k.name, mode, L, B, 1e6 * s / double(B), platform_json_members().c_str());
      std::fflush(stdout);
    }
  }
  return 0;
}

int train(size_t steps, size_t B, size_t warmup) {
  data::SimSyntheticConfig c;
  c.users = 400;
  c.samples_per_user = 8;
  c.hist_len_min = c.hist_len_max = 1000;
  c.test_fraction = 0.1;
  models::ClickTask task(data::make_sim_synthetic(c), models::ClickOptions{50, 0.0});
  models::SIM<float> sim(task.model_shape().get<models::CtrConfig>());
  models::TrainOptions t;
  t.batch_size = B;
  models::Trainer trainer(task, sim, t);
  data::BatchOrder order(task.train_size(), B, true, 1);
  std::vector<size_t> rows;
  auto next = [&] {
    if (!order.next(rows) || rows.size() != B) order.start_epoch(), order.next(rows);
  };
  for (size_t i = 0; i < warmup; ++i) next(), trainer.step(rows);
  double seconds = 0;
  for (size_t i = 0; i < steps; ++i) {
    next();
    const Clock::time_point t0 = Clock::now();
    trainer.step(rows);
    seconds += seconds_since(t0);
  }
  std::printf(
      "{\"model\":\"sim\",\"impl\":\"tinyrec\",\"search\":\"hard\",\"top_k\":50,\"history\":1000,"
      "\"batch_size\":%zu,\"steps\":%zu,\"samples_per_second\":%.1f,\"ms_per_step\":%.3f,%s}\n",
      B, steps, double(B * steps) / seconds, 1e3 * seconds / double(steps),
      platform_json_members().c_str());
  return 0;
}

template <class V>
xt::xarray<V> rows_of(const std::vector<std::vector<V>>& rows, size_t width) {
  xt::xarray<V> a = xt::zeros<V>({rows.size(), width});
  for (size_t i = 0; i < rows.size(); ++i) std::copy(rows[i].begin(), rows[i].end(), &a(i, 0));
  return a;
}

// Writes each sample's row as the twin reads it (bench/sim_torch.py, Rows): its whole history
// before the impression (padded), the impression's time, candidate and short history.
void save_rows(const data::CtrDataset& ds, const std::vector<data::CtrSample>& samples,
               const std::string& out) {
  std::vector<std::vector<int64_t>> items, cats, times, window_items, window_cats;
  size_t longest = 1;
  for (const data::CtrSample& s : samples) {
    const data::Timeline& t = (*ds.histories)[size_t(s.timeline)];
    const auto end = std::ptrdiff_t(s.timeline_end);
    items.emplace_back(t.items.begin(), t.items.begin() + end);
    cats.emplace_back(t.cats.begin(), t.cats.begin() + end);
    times.emplace_back(t.times.begin(), t.times.begin() + end);
    window_items.push_back(s.hist_items);
    window_cats.push_back(s.hist_cats);
    longest = std::max(longest, s.timeline_end);
  }
  std::filesystem::create_directories(out);
  auto path = [&](const char* name) { return (std::filesystem::path(out) / name).string(); };
  xt::xarray<int64_t> lengths = xt::zeros<int64_t>({samples.size()});
  xt::xarray<int64_t> item = lengths, cat = lengths, now = lengths;
  xt::xarray<float> label = xt::zeros<float>({samples.size()});
  for (size_t i = 0; i < samples.size(); ++i) {
    lengths(i) = int64_t(samples[i].timeline_end);
    item(i) = samples[i].item;
    cat(i) = samples[i].cat;
    now(i) = samples[i].time;
    label(i) = samples[i].label;
  }
  nn::save_npy(path("history_items.npy"), rows_of(items, longest));
  nn::save_npy(path("history_cats.npy"), rows_of(cats, longest));
  nn::save_npy(path("history_times.npy"), rows_of(times, longest));
  nn::save_npy(path("history_lengths.npy"), lengths);
  nn::save_npy(path("window_items.npy"), rows_of(window_items, 50));
  nn::save_npy(path("window_cats.npy"), rows_of(window_cats, 50));
  nn::save_npy(path("item.npy"), item);
  nn::save_npy(path("cat.npy"), cat);
  nn::save_npy(path("now.npy"), now);
  nn::save_npy(path("label.npy"), label);
}

int dump(const std::string& checkpoint, const std::string& out, size_t n) {
  data::SimSyntheticConfig c;
  c.users = 200;
  c.hist_len_min = c.hist_len_max = 1000;
  models::ClickTask task(data::make_sim_synthetic(c), models::ClickOptions{50, 0.0});
  const nlohmann::json config =
      nlohmann::json::parse(std::ifstream(std::filesystem::path(checkpoint) / "config.json"));
  models::CtrConfig mc = task.model_shape().get<models::CtrConfig>();
  nlohmann::json options = mc;
  options.update(config.at("model_options"));
  mc = options.get<models::CtrConfig>();
  models::SIM<float> sim(mc);
  nn::load_checkpoint(sim, checkpoint);
  const data::CtrDataset& ds = task.data();
  std::vector<data::CtrSample> samples(
      ds.test.begin(), ds.test.begin() + std::ptrdiff_t(std::min(n, ds.test.size())));
  const std::vector<float> p = task.probabilities(sim, samples, 256);
  save_rows(ds, samples, out);
  xt::xarray<float> prob = xt::zeros<float>({samples.size()});
  std::copy(p.begin(), p.end(), prob.begin());
  nn::save_npy((std::filesystem::path(out) / "probability.npy").string(), prob);
  std::printf("{\"rows\":%zu,\"out\":\"%s\"}\n", samples.size(), out.c_str());
  return 0;
}

// One training step as Task::train_step takes it, in T: the click task's batch (recent window
// and whole timelines) and loss terms, then zero_grad, backward, step. The float run goes through
// ClickTask::train_step itself; double exists because train_step is float only.
template <class T>
double step_of(models::ClickTask& task, models::SIM<T>& sim, nn::Optimizer<T>& optimizer,
               const std::vector<size_t>& rows, data::CtrBatch& batch) {
  if constexpr (std::is_same_v<T, float>) {
    return task.train_step(sim, optimizer, rows).front().second;
  } else {
    sim.train();
    data::fill_ctr_batch(task.data().train, rows, 50, false, batch);
    data::fill_long_rows(task.data().train, rows, *task.data().histories, batch);
    const Tensor<T> loss = models::total_loss(models::click_loss_terms(sim, batch, 0.0));
    const double value = loss.item();
    optimizer.zero_grad();
    backward(loss);
    optimizer.step();
    return value;
  }
}

// Training steps from a saved start, so that the twin can take the same ones
// (bench/sim_train_parity.py). A small SIM (hard search, K = 50) on a small long synthetic data
// set: the initial weights go to OUT/init, each batch's rows (as `dump` writes them, with the
// labels) to OUT/step_NN, the weights after the last step to OUT/final. The steps are the click
// task's with the optimizer the trainer would make (Adam).
template <class T>
int steps(const std::string& out, size_t n_steps) {
  constexpr size_t kBatch = 16;
  constexpr double kLr = 0.01;  // large enough that ten steps move the weights well past 1e-4
  data::SimSyntheticConfig c;
  c.users = 24;
  c.samples_per_user = 4;
  c.hist_len_min = 200;
  c.hist_len_max = 400;
  c.test_fraction = 0;
  models::ClickTask task(data::make_sim_synthetic(c), models::ClickOptions{50, 0.0});
  const models::CtrConfig mc = task.model_shape().get<models::CtrConfig>();
  models::SIM<T> sim(mc);
  auto save = [&](const char* name) {
    const std::filesystem::path dir = std::filesystem::path(out) / name;
    std::filesystem::create_directories(dir);
    nn::save_checkpoint(sim, dir.string());
    std::ofstream(dir / "config.json")
        << nlohmann::json{{"model", "sim"}, {"model_options", mc}}.dump(2) << "\n";
  };
  save("init");
  models::TrainOptions t;
  const auto optimizer = nn::make_optimizer<T>(t.optimizer, sim.parameters(), kLr);
  data::BatchOrder order(task.train_size(), kBatch, true, t.seed);
  std::vector<size_t> rows;
  data::CtrBatch batch;
  nlohmann::json losses = nlohmann::json::array();
  for (size_t step = 0; step < n_steps; ++step) {
    if (!order.next(rows) || rows.size() != kBatch) order.start_epoch(), order.next(rows);
    std::vector<data::CtrSample> samples;
    for (size_t r : rows) samples.push_back(task.data().train[r]);
    char name[32];
    std::snprintf(name, sizeof name, "step_%02zu", step);
    save_rows(task.data(), samples, (std::filesystem::path(out) / name).string());
    losses.push_back(step_of(task, sim, *optimizer, rows, batch));
  }
  save("final");
  const nlohmann::json report = {
      {"model", "sim"},           {"dtype", std::is_same_v<T, float> ? "float32" : "float64"},
      {"search", mc.search},      {"top_k", mc.top_k},
      {"optimizer", t.optimizer}, {"lr", kLr},
      {"batch_size", kBatch},     {"losses", losses}};
  std::printf("%s\n", report.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tinyrec::tune_allocator();
  const std::string mode = argc > 1 ? argv[1] : "";
  auto arg = [&](int i, size_t fallback) {
    return argc > i ? size_t(std::strtoull(argv[i], nullptr, 10)) : fallback;
  };
  try {
    if (mode == "cost") return cost(int(arg(2, 3)), arg(3, 32));
    if (mode == "train") return train(arg(2, 100), arg(3, 128), arg(4, 10));
    if (mode == "dump" && argc >= 4) return dump(argv[2], argv[3], arg(4, 512));
    if (mode == "steps" && argc >= 3) {
      const std::string dtype = argc > 4 ? argv[4] : "float";
      if (dtype == "float") return steps<float>(argv[2], arg(3, 10));
      if (dtype == "double") return steps<double>(argv[2], arg(3, 10));
      throw std::invalid_argument("steps: dtype '" + dtype + "'; accepted: float, double");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_sim_bench: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: bench_sim_bench cost [reps] [batch] | train [steps] [batch] [warmup] | "
               "dump CHECKPOINT OUT [rows] | steps OUT [steps] [float|double]\n");
  return 2;
}
