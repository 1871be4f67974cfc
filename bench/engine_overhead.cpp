// Per-op overhead of the engine on tiny tensors, where bookkeeping rather than arithmetic is the
// cost: a chain of 4x4 adds with one backward, a lone add with its backward, and the add alone
// with recording off. Prints one JSON line per case (see bench/README.md); engine_overhead_torch.py
// is its PyTorch twin.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "autograd/autograd.hpp"

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

// Each case runs `iteration` (which returns the seconds spent in its forward part) often enough to
// fill `min_seconds` per repetition, so that clock resolution and scheduler ticks wash out; the
// repetitions' medians are reported because the machine is shared.
struct Timing {
  double total = 0;    // seconds per iteration, median over repetitions
  double forward = 0;  // the forward part of it, median over repetitions
  double best = 0;     // the fastest repetition, for a sense of the noise
};

Timing measure(const std::function<double()>& iteration, int reps, double min_seconds) {
  for (int i = 0; i < 3; ++i) iteration();  // warm caches and the allocator
  std::vector<double> totals, forwards;
  for (int r = 0; r < reps; ++r) {
    size_t count = 0;
    double forward = 0;
    const Clock::time_point t0 = Clock::now();
    do {
      forward += iteration();
      ++count;
    } while (seconds_since(t0) < min_seconds);
    const double total = seconds_since(t0);
    totals.push_back(total / double(count));
    forwards.push_back(forward / double(count));
  }
  return {median(totals), median(forwards), *std::min_element(totals.begin(), totals.end())};
}

void print(const char* bench, const Timing& t, double ops, const char* extra = "") {
  std::printf(
      "{\"bench\":\"%s\",\"impl\":\"tinyrec\",\"us_per_op\":%.4f,\"fwd_us_per_op\":%.4f,"
      "\"bwd_us_per_op\":%.4f,\"best_us_per_op\":%.4f%s}\n",
      bench, 1e6 * t.total / ops, 1e6 * t.forward / ops, 1e6 * (t.total - t.forward) / ops,
      1e6 * t.best / ops, extra);
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
        [&] {
          const Clock::time_point t0 = Clock::now();
          Tensorf x = a;
          for (int i = 0; i < chain; ++i) x = x + b;
          Tensorf loss = tinyrec::sum(x);
          const double forward = seconds_since(t0);
          tinyrec::backward(loss);
          a.zero_grad();
          b.zero_grad();
          return forward;
        },
        reps, min_seconds);
    const std::string extra = ",\"n\":" + std::to_string(chain);
    print("add4x4_chain", t, double(chain), extra.c_str());
  }

  // (b) a lone op and its backward, the whole round trip per iteration: c = a + b;
  // backward(sum(c)).
  {
    const Timing t = measure(
        [&] {
          const Clock::time_point t0 = Clock::now();
          Tensorf c = a + b;
          Tensorf loss = tinyrec::sum(c);
          const double forward = seconds_since(t0);
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
        [&] {
          const Clock::time_point t0 = Clock::now();
          tinyrec::NoGradGuard no_grad;
          Tensorf x = a;
          for (int i = 0; i < chain; ++i) x = x + b;
          return seconds_since(t0);
        },
        reps, min_seconds);
    const std::string extra = ",\"n\":" + std::to_string(chain);
    print("add4x4_nograd", t, double(chain), extra.c_str());
  }
  return 0;
}
