// Memory over a long run: trains a registered model for many steps (default DIN on the synthetic
// data, 100,000 steps of batch 32) through the shared trainer's step, and prints the resident set
// size every 10,000 steps as one JSON line each. A run that keeps its memory flat prints about the
// same size from the first report to the last; a leak of even a few bytes per step shows as a
// steady climb. Usage: bench_long_run_memory [MODEL] [STEPS] [BATCH].
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "autograd/platform.hpp"
#include "autograd/tensor.hpp"
#include "data/batching.hpp"
#include "models/registry.hpp"
#include "models/trainer.hpp"

namespace {

// Resident set size in MiB, from /proc/self/statm (its second field counts pages).
double resident_mib() {
  std::ifstream statm("/proc/self/statm");
  size_t total = 0, resident = 0;
  statm >> total >> resident;
  return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  tinyrec::tune_allocator();
  const std::string model = argc > 1 ? argv[1] : "din";
  const size_t steps = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 100000;
  const size_t batch = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 32;
  if (steps == 0 || batch == 0) {
    std::fprintf(stderr, "usage: bench_long_run_memory [MODEL] [STEPS >= 1] [BATCH >= 1]\n");
    return 2;
  }
  tinyrec::models::RunConfig config;
  config.model = model;
  config.train.batch_size = batch;
  tinyrec::models::Run run = tinyrec::models::build_run(config);
  tinyrec::models::Trainer trainer(*run.task, *run.model, run.config.train);
  tinyrec::data::BatchOrder order(run.task->train_size(), batch, true, 1);
  std::vector<size_t> rows;
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t step = 1; step <= steps; ++step) {
    if (!order.next(rows)) {
      order.start_epoch();
      order.next(rows);
    }
    const auto loss = trainer.step(rows);
    if (step == 1 || step % 10000 == 0 || step == steps)
      std::printf(
          "{\"model\": \"%s\", \"step\": %zu, \"rss_mib\": %.1f, \"loss\": %.4f, \"seconds\": "
          "%.1f, %s}\n",
          model.c_str(), step, resident_mib(), loss.front().second,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
          tinyrec::platform_json_members().c_str());
    std::fflush(stdout);
  }
  return 0;
}
