// `tinyrec bench`: time training steps of any registered model on its synthetic data at the
// model's default sizes and print one JSON line, with the processor, the instruction set of the
// build and OpenBLAS's kernel (autograd/platform.hpp). bench/ compares that line with PyTorch
// twins.
#include <chrono>
#include <iostream>
#include <memory>

#include "autograd/platform.hpp"
#include "cli/commands.hpp"
#include "data/batching.hpp"

namespace tinyrec::cli {

void add_bench_command(CLI::App& app, const Prescan& scan) {
  struct Args {
    std::unique_ptr<RunFlags> flags;
    size_t steps = 200, warmup = 20;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Time training steps on synthetic data (every history full length); prints JSON");
  cmd->add_option("--steps", a->steps, "Timed steps")
      ->check(whole_number_in(1, 1000000000))
      ->capture_default_str();
  cmd->add_option("--warmup", a->warmup, "Untimed steps first")->capture_default_str();
  if (scan.subcommand == "bench") a->flags = std::make_unique<RunFlags>(*cmd, scan, true);
  cmd->callback([a] {
    models::RunConfig config = a->flags->config();
    const models::TaskEntry& task = models::find_task(models::find_model(config.model).task);
    const size_t B = config.train.batch_size;
    config.data_options.update(task.bench_data(config.task_options, B));
    models::Run run = models::build_run(config);
    models::Trainer trainer(*run.task, *run.model, run.config.train);
    data::BatchOrder order(run.task->train_size(), B, true, run.config.train.seed);
    std::vector<size_t> rows;
    auto next = [&] {  // full batches only
      if (!order.next(rows) || rows.size() != B) {
        order.start_epoch();
        order.next(rows);
      }
    };
    for (size_t i = 0; i < a->warmup; ++i) next(), trainer.step(rows);
    double seconds = 0;
    for (size_t i = 0; i < a->steps; ++i) {
      next();
      const auto t0 = std::chrono::steady_clock::now();
      trainer.step(rows);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    nlohmann::json out{{"model", run.config.model},
                       {"impl", "tinyrec"},
                       {"batch_size", B},
                       {"steps", a->steps},
                       {"parameters", run.model->parameter_count()},
                       {"samples_per_second", double(B * a->steps) / seconds},
                       {"ms_per_step", 1e3 * seconds / double(a->steps)}};
    out.update(run.config.task_options);  // e.g. max_len
    out.update(nlohmann::json::parse("{" + platform_json_members() + "}"));
    std::cout << out.dump() << "\n";
  });
}

}  // namespace tinyrec::cli
