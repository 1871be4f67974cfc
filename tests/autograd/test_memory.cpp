// Memory: a long training loop leaves an empty tape after each backward and a flat resident size,
// forward passes thrown away without backward do not pile up on the tape, and compaction keeps
// every entry a live graph still needs.
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::make;

namespace {

// Resident set size in bytes, from the second field of /proc/self/statm (pages).
size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t total_pages = 0, resident_pages = 0;
  statm >> total_pages >> resident_pages;
  REQUIRE(statm);
  return resident_pages * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST_CASE("10,000 training steps: the tape empties after each backward and memory stays flat") {
  // A 4-8-1 MLP learning a fixed XOR-like labelling of 16 points, with plain SGD under NoGradGuard.
  constexpr size_t kSteps = 10000, kN = 16, kIn = 4, kHidden = 8;
  std::mt19937_64 rng(801);
  std::uniform_real_distribution<float> u(-1, 1);
  xt::xarray<float> xv = xt::xarray<float>::from_shape({kN, kIn});
  xt::xarray<float> yv = xt::xarray<float>::from_shape({kN});
  for (size_t i = 0; i < kN; ++i) {
    for (size_t k = 0; k < kIn; ++k) xv(i, k) = u(rng);
    yv(i) = (xv(i, 0) * xv(i, 1) > 0) ? 1.f : 0.f;
  }
  const Tensor<float> x(xv), y(yv);
  auto init = [&](const Shape& s, float scale) {
    xt::xarray<float> a = xt::xarray<float>::from_shape(s);
    for (auto& v : a) v = scale * u(rng);
    return Tensor<float>(std::move(a), true);
  };
  std::vector<Tensor<float>> params{init({kIn, kHidden}, 0.8f), init({kHidden}, 0.1f),
                                    init({kHidden, 1}, 0.8f), init({1}, 0.1f)};
  auto& tape = Tape<float>::current();
  tape.clear();

  size_t tape_not_empty = 0;
  size_t rss_at_1000 = 0;
  float first_loss = 0, last_loss = 0;
  for (size_t step = 1; step <= kSteps; ++step) {
    auto h = relu(matmul(x, params[0]) + params[1]);
    auto logits = reshape(matmul(h, params[2]) + params[3], {kN});
    auto loss = bce_with_logits(logits, y);
    backward(loss);
    if (tape.size() != 0) ++tape_not_empty;
    if (step == 1) first_loss = loss.item();
    last_loss = loss.item();
    {
      NoGradGuard no_grad;
      for (auto& p : params) {
        float* pv = p.data();
        const float* g = p.grad().data();
        for (size_t i = 0; i < p.numel(); ++i) pv[i] -= 0.5f * g[i];
        p.zero_grad();
      }
    }
    if (step == 1000) rss_at_1000 = resident_bytes();
  }
  const size_t rss_at_end = resident_bytes();
  CHECK(tape_not_empty == 0);
  CHECK(tape.size() == 0);
  INFO("resident at step 1000: " << rss_at_1000 << " bytes, at step " << kSteps << ": "
                                 << rss_at_end);
  CHECK(rss_at_end < rss_at_1000 + 2 * 1024 * 1024);
  // It did learn: the loop ran real steps, not a no-op.
  INFO("loss " << first_loss << " -> " << last_loss);
  CHECK(last_loss < 0.5f * first_loss);
}

TEST_CASE("forward passes dropped without backward do not grow the tape without bound") {
  auto& tape = Tape<double>::current();
  tape.clear();
  auto x = make({1, 2, 3}, {3}, true);
  size_t largest = 0;
  for (int i = 0; i < 100000; ++i) {
    auto y = x * 2.0;  // recorded, then dropped at the end of the iteration
    largest = std::max(largest, tape.size());
  }
  INFO("largest tape size seen: " << largest);
  CHECK(largest <= 8192);
  // Chains of several ops, dropped as a whole.
  largest = 0;
  for (int i = 0; i < 30000; ++i) {
    auto y = sum(exp(x * 0.5) + x);
    largest = std::max(largest, tape.size());
  }
  INFO("largest tape size seen with chains: " << largest);
  CHECK(largest <= 8192);
  // Results still alive are not lost: the tape keeps what a later backward needs.
  auto kept = x * 3.0;
  for (int i = 0; i < 20000; ++i) auto dropped = x * 2.0;
  backward(sum(kept));
  CHECK_TENSOR(x.grad(), {3}, {3, 3, 3});
}

TEST_CASE("compaction keeps a long live chain intact") {
  auto& tape = Tape<double>::current();
  tape.clear();
  auto x = make({1}, {1}, true);
  auto h = x;
  // 5000 kept links interleaved with dropped work: compaction runs several times along the way.
  for (int i = 0; i < 5000; ++i) {
    h = h * 1.0001;
    auto dropped = exp(h) * 2.0;
  }
  CHECK(tape.size() >= 5000);
  backward(sum(h));
  CHECK_TENSOR(x.grad(), {1}, {std::pow(1.0001, 5000)}, 1e-9);
  CHECK(tape.size() == 0);
}
