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
//       impression (padded), its time, candidate, short history and tinyrec's probability.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

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
            "\"history\":%zu,\"batch_size\":%zu,\"us_per_sample\":%.3f}\n",
            k.name, mode, L, B, 1e6 * s / double(B));
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
      "\"batch_size\":%zu,\"steps\":%zu,\"samples_per_second\":%.1f,\"ms_per_step\":%.3f}\n",
      B, steps, double(B * steps) / seconds, 1e3 * seconds / double(steps));
  return 0;
}

template <class V>
xt::xarray<V> rows_of(const std::vector<std::vector<V>>& rows, size_t width) {
  xt::xarray<V> a = xt::zeros<V>({rows.size(), width});
  for (size_t i = 0; i < rows.size(); ++i) std::copy(rows[i].begin(), rows[i].end(), &a(i, 0));
  return a;
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
  xt::xarray<float> prob = xt::zeros<float>({samples.size()});
  for (size_t i = 0; i < samples.size(); ++i) {
    lengths(i) = int64_t(samples[i].timeline_end);
    item(i) = samples[i].item;
    cat(i) = samples[i].cat;
    now(i) = samples[i].time;
    prob(i) = p[i];
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
  nn::save_npy(path("probability.npy"), prob);
  std::printf("{\"rows\":%zu,\"history\":%zu,\"out\":\"%s\"}\n", samples.size(), longest,
              out.c_str());
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
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_sim_bench: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: bench_sim_bench cost [reps] [batch] | train [steps] [batch] [warmup] | "
               "dump CHECKPOINT OUT [rows]\n");
  return 2;
}
