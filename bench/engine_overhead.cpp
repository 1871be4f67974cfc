// Per-op overhead of the engine on tiny tensors, where bookkeeping rather than arithmetic is the
// cost: a chain of 4x4 adds with one backward, a lone add with its backward, and the add alone
// with recording off. Prints one JSON line per case (see bench/README.md); engine_overhead_torch.py
// is its PyTorch twin.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "autograd/autograd.hpp"
#include "autograd/platform.hpp"

namespace {

using tinyrec::Tensor;
using Clock = std::chrono::steady_clock;
using Tensorf = Tensor<float>;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Tensorf random_tensor(std::mt19937_64& rng, size_t rows, size_t cols, bool requires_grad) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Tensorf t = Tensorf::zeros({rows, cols}, requires_grad);
  for (size_t i = 0; i < t.numel(); ++i) t.data()[i] = normal(rng);
  return t;
}

// Each case runs `iteration` often enough to fill `min_seconds` per repetition, so that clock
// resolution and scheduler ticks wash out; the repetitions' medians are reported because the
// machine is shared. The clock is read once per batch of iterations, not per iteration: on a
// virtual machine a read costs 20-70 ns, a fifth of the round trip being measured. The forward
// part is measured in separate repetitions that read the clock around it, less one read's cost.
struct Timing {
  double total = 0;    // seconds per iteration, median over repetitions
  double forward = 0;  // the forward part of it, median over repetitions
  double best = 0;     // the fastest repetition, for a sense of the noise
  double cpu = 0;      // this thread's processor time per iteration, median over repetitions:
                       // on a loaded machine, the wall-clock time less the time spent waiting
};

// This thread's processor time in seconds.
double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Seconds one clock read adds to an interval measured between two reads.
double clock_cost() {
  std::vector<double> v;
  for (int r = 0; r < 9; ++r) {
    const int n = 100000;
    const Clock::time_point t0 = Clock::now();
    for (int i = 0; i < n; ++i) (void)Clock::now();
    v.push_back(seconds_since(t0) / n);
  }
  return median(v);
}

// `iteration(split)` runs one iteration; with split it returns the seconds its forward part took.
Timing measure(const std::function<double(bool)>& iteration, int reps, double min_seconds) {
  for (int i = 0; i < 3; ++i) iteration(false);  // warm caches and the allocator
  const int batch = 64;
  std::vector<double> totals, forwards, cpus;
  for (int r = 0; r < reps; ++r) {
    size_t count = 0;
    const double c0 = thread_seconds();
    const Clock::time_point t0 = Clock::now();
    do {
      for (int i = 0; i < batch; ++i) iteration(false);
      count += batch;
    } while (seconds_since(t0) < min_seconds);
    totals.push_back(seconds_since(t0) / double(count));
    cpus.push_back((thread_seconds() - c0) / double(count));
  }
  const double read = clock_cost();
  for (int r = 0; r < reps; ++r) {
    size_t count = 0;
    double forward = 0;
    const Clock::time_point t0 = Clock::now();
    do {
      forward += iteration(true) - read;
      ++count;
    } while (seconds_since(t0) < min_seconds);
    forwards.push_back(forward / double(count));
  }
  return {median(totals), median(forwards), *std::min_element(totals.begin(), totals.end()),
          median(cpus)};
}

void print(const char* bench, const Timing& t, double ops, const std::string& extra = "") {
  static const std::string platform = tinyrec::platform_json_members();
  std::printf(
      "{\"bench\":\"%s\",\"impl\":\"tinyrec\",\"us_per_op\":%.4f,\"fwd_us_per_op\":%.4f,"
      "\"bwd_us_per_op\":%.4f,\"best_us_per_op\":%.4f,\"cpu_us_per_op\":%.4f%s,%s}\n",
      bench, 1e6 * t.total / ops, 1e6 * t.forward / ops, 1e6 * (t.total - t.forward) / ops,
      1e6 * t.best / ops, 1e6 * t.cpu / ops, extra.c_str(), platform.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  tinyrec::tune_allocator();  // as a training program does, so the engine is measured as it runs
  // Optional arguments: repetitions (default 9), chain length (default 1000).
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 9;
  const int chain = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1000;
  const double min_seconds = 0.05;

  std::mt19937_64 rng(42);
  Tensorf a = random_tensor(rng, 4, 4, true);
  Tensorf b = random_tensor(rng, 4, 4, true);

  // (a) N adds in a chain, then one backward: per op = total / N. Both operands need gradients, so
  // b's gradient is accumulated N times, as in PyTorch.
  {
    const Timing t = measure(
        [&](bool split) {
          const Clock::time_point t0 = split ? Clock::now() : Clock::time_point();
          Tensorf x = a;
          for (int i = 0; i < chain; ++i) x = x + b;
          Tensorf loss = tinyrec::sum(x);
          const double forward = split ? seconds_since(t0) : 0.0;
          tinyrec::backward(loss);
          a.zero_grad();
          b.zero_grad();
          return forward;
        },
        reps, min_seconds);
    const std::string extra = ",\"n\":" + std::to_string(chain);
    print("add4x4_chain", t, double(chain), extra);
  }

  // (b) a lone op and its backward, the whole round trip per iteration: c = a + b;
  // backward(sum(c)).
  {
    const Timing t = measure(
        [&](bool split) {
          const Clock::time_point t0 = split ? Clock::now() : Clock::time_point();
          Tensorf c = a + b;
          Tensorf loss = tinyrec::sum(c);
          const double forward = split ? seconds_since(t0) : 0.0;
          tinyrec::backward(loss);
          a.zero_grad();
          b.zero_grad();
          return forward;
        },
        reps, min_seconds);
    print("add4x4_lone", t, 1.0);
  }

  // The same add with recording off: what a forward op costs without the tape, for reference.
  {
    const Timing t = measure(
        [&](bool split) {
          const Clock::time_point t0 = split ? Clock::now() : Clock::time_point();
          tinyrec::NoGradGuard no_grad;
          Tensorf x = a;
          for (int i = 0; i < chain; ++i) x = x + b;
          return split ? seconds_since(t0) : 0.0;
        },
        reps, min_seconds);
    const std::string extra = ",\"n\":" + std::to_string(chain);
    print("add4x4_nograd", t, double(chain), extra);
  }
  return 0;
}
