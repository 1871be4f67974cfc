// `tinyrec bench`: time training steps of a model on generated data and print one JSON line.
// bench/ compares that line with a PyTorch twin of the same model.
#include <chrono>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/multitask_commands.hpp"
#include "cli/options.hpp"
#include "data/din_synthetic.hpp"

namespace tinyrec::cli {

void add_bench_command(CLI::App& app) {
  struct Args {
    CommonFlags common;
    CtrFlags ctr;
    MultiTaskFlags multitask;
    size_t steps = 200, warmup = 20;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Time training steps on generated data (every history full length); prints JSON");
  add_common_flags(*cmd, a->common);
  add_ctr_flags(*cmd, a->ctr);
  add_multitask_flags(*cmd, a->multitask);
  cmd->add_option("--steps", a->steps, "Timed steps")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--warmup", a->warmup, "Untimed steps first")->capture_default_str();
  cmd->callback([a] {
    if (is_multitask_model(a->common.model))
      return run_multitask_bench(a->common.model, a->common.batch_size, a->steps, a->warmup);
    const models::TrainOptions options = ctr_train_options(a->common, a->ctr);
    const size_t B = options.batch_size, L = options.max_len;
    data::DinSyntheticConfig s = a->ctr.synthetic;
    s.hist_len_min = s.hist_len_max = int64_t(L);
    s.users = int64_t(std::max<size_t>(B * 4 / 10 + 1, 50));
    s.test_fraction = 0.1;
    data::CtrDataset ds = data::make_din_synthetic(s);
    fit_config_to_data(a->ctr.config, ds);
    auto model = models::make_ctr_model<float>(a->common.model, a->ctr.config);
    models::CtrTrainer trainer(*model, options);
    data::CtrBatcher batches(ds.train, B, L, true, 1);
    data::CtrBatch batch;
    auto next = [&] {
      if (!batches.next(batch) || batch.size != B) {
        batches.start_epoch();
        batches.next(batch);
      }
    };
    for (size_t i = 0; i < a->warmup; ++i) next(), trainer.step(batch);
    double seconds = 0;
    for (size_t i = 0; i < a->steps; ++i) {
      next();
      const auto t0 = std::chrono::steady_clock::now();
      trainer.step(batch);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    std::cout << "{\"model\": \"" << a->common.model << "\", \"batch_size\": " << B
              << ", \"max_len\": " << L << ", \"steps\": " << a->steps
              << ", \"samples_per_second\": " << double(B * a->steps) / seconds
              << ", \"ms_per_step\": " << 1e3 * seconds / double(a->steps) << "}\n";
  });
}

}  // namespace tinyrec::cli
