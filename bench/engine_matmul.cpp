// A 1024x1024 matmul forward and backward through the engine against the three raw OpenBLAS sgemm
// calls it must make (C = AB, dA = G·Bᵀ, dB = Aᵀ·G), timed alternately in one run. Prints JSON
// lines (see bench/README.md); the target is tinyrec / raw <= 1.25.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "autograd/autograd.hpp"
#include "autograd/platform.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using Tensorf = tinyrec::Tensor<float>;

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

void sgemm(bool ta, bool tb, int n, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, n, n,
              n, 1.0f, a, n, b, n, 0.0f, c, n);
}

}  // namespace

int main(int argc, char** argv) {
  // As a training program does: otherwise each 4 MiB result is a fresh mmap() to page-fault in.
  tinyrec::tune_allocator();
  // Optional arguments: repetitions (default 9), matrix size (default 1024).
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 9;
  const int n = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1024;
  const size_t un = static_cast<size_t>(n);

  std::mt19937_64 rng(7);
  Tensorf a = random_tensor(rng, un, un, true);
  Tensorf b = random_tensor(rng, un, un, true);
  Tensorf g = random_tensor(rng, un, un, false);
  std::vector<float> c(un * un), da(un * un), db(un * un);

  // The floor: the three products with output buffers allocated once, as a hand-written backward
  // would do it.
  auto raw = [&] {
    sgemm(false, false, n, a.data(), b.data(), c.data());
    sgemm(false, true, n, g.data(), b.data(), da.data());
    sgemm(true, false, n, a.data(), g.data(), db.data());
  };
  // Through the engine, gradients dropped afterwards as an optimizer loop would after its step.
  double forward = 0;
  auto engine = [&] {
    const Clock::time_point t0 = Clock::now();
    Tensorf y = tinyrec::matmul(a, b);
    forward = seconds_since(t0);
    tinyrec::backward(std::vector<Tensorf>{y}, std::vector<Tensorf>{g});
    a.zero_grad();
    b.zero_grad();
  };

  raw();
  engine();
  // Alternate the two so that a busy spell on the shared machine hits both; the ratio is taken per
  // pair, and its median reported.
  std::vector<double> raw_s, engine_s, forward_s, ratios;
  for (int r = 0; r < reps; ++r) {
    Clock::time_point t0 = Clock::now();
    raw();
    raw_s.push_back(seconds_since(t0));
    t0 = Clock::now();
    engine();
    engine_s.push_back(seconds_since(t0));
    forward_s.push_back(forward);
    ratios.push_back(engine_s.back() / raw_s.back());
  }
  const double raw_med = median(raw_s), engine_med = median(engine_s), fwd_med = median(forward_s);
  const double ratio = median(ratios);
  const double gflop = 3.0 * 2.0 * double(n) * double(n) * double(n) * 1e-9;
  const std::string platform = tinyrec::platform_json_members();
  std::printf("{\"bench\":\"sgemm%d_x3\",\"impl\":\"openblas\",\"ms\":%.3f,\"gflops\":%.2f,%s}\n",
              n, 1e3 * raw_med, gflop / raw_med, platform.c_str());
  std::printf(
      "{\"bench\":\"matmul%d_fwd_bwd\",\"impl\":\"tinyrec\",\"us_per_op\":%.1f,\"ms\":%.3f,"
      "\"fwd_ms\":%.3f,\"bwd_ms\":%.3f,\"raw_ms\":%.3f,\"ratio_vs_raw\":%.4f,\"efficiency\":%.4f,"
      "\"best_ratio\":%.4f,%s}\n",
      n, 1e6 * engine_med, 1e3 * engine_med, 1e3 * fwd_med, 1e3 * (engine_med - fwd_med),
      1e3 * raw_med, ratio, 1.0 / ratio, *std::min_element(ratios.begin(), ratios.end()),
      platform.c_str());
  return 0;
}
