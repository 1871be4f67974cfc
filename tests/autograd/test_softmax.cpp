// softmax and log_softmax along axis 0 and −1, with and without a mask (including a row masked
// entirely), stability for large logits, and gradchecks.
#include <cmath>

#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::In;
using tinyrec::test::make;

namespace {

const double kLn2 = std::log(2.0);
const double kLn3 = std::log(3.0);
const double kLn6 = std::log(6.0);

}  // namespace

TEST_CASE("softmax and log_softmax along the last axis") {
  // exp of [0, ln 2, ln 3] is [1, 2, 3], total 6; row 1 is constant so uniform.
  const auto x = make({0, kLn2, kLn3, 5, 5, 5}, {2, 3});
  CHECK_TENSOR(softmax(x, -1), {2, 3}, {1.0 / 6, 1.0 / 3, 0.5, 1.0 / 3, 1.0 / 3, 1.0 / 3});
  CHECK_TENSOR(softmax(x, 1), {2, 3}, {1.0 / 6, 1.0 / 3, 0.5, 1.0 / 3, 1.0 / 3, 1.0 / 3});
  CHECK_TENSOR(log_softmax(x, -1), {2, 3}, {-kLn6, -kLn3, -kLn2, -kLn3, -kLn3, -kLn3});
  // Large logits do not overflow: the maximum is subtracted first.
  CHECK_TENSOR(softmax(make({1000, 1000}, {2}), 0), {2}, {0.5, 0.5});
  CHECK_TENSOR(softmax(make({1000, 0}, {2}), 0), {2}, {1, 0});
  CHECK_TENSOR(log_softmax(make({1000, 0}, {2}), 0), {2}, {0, -1000});
  CHECK_TENSOR(softmax(make<float>({100, 100, 100, 100}, {4}), -1), {4}, {0.25, 0.25, 0.25, 0.25});
}

TEST_CASE("softmax and log_softmax along axis 0") {
  // Column 0 is [0, ln 2, ln 3], column 1 is constant.
  const auto x = make({0, 1, kLn2, 1, kLn3, 1}, {3, 2});
  CHECK_TENSOR(softmax(x, 0), {3, 2}, {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0.5, 1.0 / 3});
  CHECK_TENSOR(log_softmax(x, 0), {3, 2}, {-kLn6, -kLn3, -kLn3, -kLn3, -kLn2, -kLn3});
  // The middle axis of [2,2,2] pairs y[i][0][k] with y[i][1][k]: (0, ln 3) gives (1/4, 3/4),
  // (ln 3, 0) the reverse, and equal pairs (7, 7), (−1, −1) give halves.
  const auto y = make({0, 7, kLn3, 7, kLn3, -1, 0, -1}, {2, 2, 2});
  CHECK_TENSOR(softmax(y, 1), {2, 2, 2}, {0.25, 0.5, 0.75, 0.5, 0.75, 0.5, 0.25, 0.5});
}

TEST_CASE("masked softmax: masked entries get 0, a fully masked row gives zeros") {
  // Row 0 keeps [0, ln 3] of [0, ln 2, ln 3]: exp 1 and 3 over 4. Row 1 is masked entirely.
  const auto x = make({0, kLn2, kLn3, 1, 2, 3}, {2, 3});
  const auto mask = make({1, 0, 1, 0, 0, 0}, {2, 3});
  CHECK_TENSOR(softmax(x, -1, mask), {2, 3}, {0.25, 0, 0.75, 0, 0, 0});
  CHECK_TENSOR(log_softmax(x, -1, mask), {2, 3}, {std::log(0.25), 0, std::log(0.75), 0, 0, 0});
  // A [1,3] mask broadcast over rows: [_, ln 2, ln 3] gives 2/5, 3/5; [_, 0, ln 2] gives 1/3, 2/3.
  const auto z = make({0, kLn2, kLn3, kLn3, 0, kLn2}, {2, 3});
  CHECK_TENSOR(softmax(z, 1, make({0, 1, 1}, {1, 3})), {2, 3}, {0, 0.4, 0.6, 0, 1.0 / 3, 2.0 / 3});
  // Along axis 0 with a [3,1] mask dropping the last row: column 0 keeps [0, ln 2] (1/3, 2/3),
  // column 1 keeps [1, 1].
  const auto c = make({0, 1, kLn2, 1, kLn3, 1}, {3, 2});
  CHECK_TENSOR(softmax(c, 0, make({1, 1, 0}, {3, 1})), {3, 2}, {1.0 / 3, 0.5, 2.0 / 3, 0.5, 0, 0});
  CHECK_TENSOR(log_softmax(c, 0, make({1, 1, 0}, {3, 1})), {3, 2},
               {std::log(1.0 / 3), std::log(0.5), std::log(2.0 / 3), std::log(0.5), 0, 0});
  // Along axis 0 with column 1 masked entirely: column 0 is [0, ln 3] (1/4, 3/4), column 1 zeros.
  const auto d = make({0, 4, kLn3, 5}, {2, 2});
  const auto cols = make({1, 0, 1, 0}, {2, 2});
  CHECK_TENSOR(softmax(d, 0, cols), {2, 2}, {0.25, 0, 0.75, 0});
  CHECK_TENSOR(log_softmax(d, 0, cols), {2, 2}, {std::log(0.25), 0, std::log(0.75), 0});
  // A masked entry may hold anything, even a huge value, without changing the others.
  CHECK_TENSOR(softmax(make({1e30, 0, kLn3}, {3}), 0, make({0, 1, 1}, {3})), {3}, {0, 0.25, 0.75});
}

TEST_CASE("softmax gradients by hand, including a fully masked row") {
  // With y = softmax(x) and L = Σ w·y: dL/dx = y ⊙ (w − Σ w·y). For x = [0, ln 2, ln 3] and
  // w = [1, 0, 0]: Σ w·y = 1/6, so dx = [1/6·5/6, 1/3·(−1/6), 1/2·(−1/6)].
  auto x = make({0, kLn2, kLn3}, {3}, true);
  backward(sum(softmax(x, 0) * make({1, 0, 0}, {3})));
  CHECK_TENSOR(x.grad(), {3}, {5.0 / 36, -1.0 / 18, -1.0 / 12});
  // For log_softmax: dL/dx = w − softmax·Σw = [1 − 1/6, −1/3, −1/2].
  x.zero_grad();
  backward(sum(log_softmax(x, 0) * make({1, 0, 0}, {3})));
  CHECK_TENSOR(x.grad(), {3}, {5.0 / 6, -1.0 / 3, -0.5});

  // Masked entries and a fully masked row receive exactly zero, never NaN.
  auto v = make({0, kLn2, kLn3, 1, 2, 3}, {2, 3}, true);
  const auto mask = make({1, 0, 1, 0, 0, 0}, {2, 3});
  backward(sum(softmax(v, -1, mask) * make({1, 5, 0, 1, 2, 3}, {2, 3})));
  // Row 0: y = [1/4, 0, 3/4], Σ w·y = 1/4: dx = [1/4·3/4, 0, 3/4·(−1/4)].
  CHECK_TENSOR(v.grad(), {2, 3}, {3.0 / 16, 0, -3.0 / 16, 0, 0, 0});
  v.zero_grad();
  backward(sum(log_softmax(v, -1, mask) * make({1, 5, 0, 1, 2, 3}, {2, 3})));
  // Row 0: w kept = [1, _, 0], softmax kept = [1/4, _, 3/4]: dx = [1 − 1/4, 0, −3/4].
  CHECK_TENSOR(v.grad(), {2, 3}, {0.75, 0, -0.75, 0, 0, 0});
}

TEST_CASE("softmax and log_softmax: gradcheck with and without masks") {
  std::mt19937_64 rng(401);
  const auto row_mask = make({1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0}, {3, 4});  // row 1 all masked
  const auto col_mask = make({1, 0, 1, 1}, {4, 1});                          // for axis 0
  const auto bcast = make({1, 1, 0, 1}, {4});
  const auto mid_mask = make({1, 0, 1}, {1, 3, 1});
  const auto col_out = make({1, 0, 1, 0, 0, 0}, {3, 2});  // column 1 all masked
  for (const bool log : {false, true}) {
    INFO(std::string(log ? "log_softmax" : "softmax"));
    auto op = [log](const Tensor<double>& x, int axis, const Tensor<double>& m) {
      return log ? log_softmax(x, axis, m) : softmax(x, axis, m);
    };
    const Tensor<double> none;
    CHECK_GRADCHECK([&](const In& in) { return op(in[0], -1, none); },
                    In{test::uniform(rng, {3, 4}, -3, 3)});
    CHECK_GRADCHECK([&](const In& in) { return op(in[0], 0, none); },
                    In{test::uniform(rng, {4, 3}, -3, 3)});
    CHECK_GRADCHECK([&](const In& in) { return op(in[0], 1, none); },
                    In{test::uniform(rng, {2, 3, 2}, -3, 3)});
    CHECK_GRADCHECK([&](const In& in) { return op(in[0], 0, none); },
                    In{test::uniform(rng, {5}, -3, 3)});
    CHECK_GRADCHECK([&](const In& in) { return op(in[0], -1, row_mask); },
                    In{test::uniform(rng, {3, 4}, -3, 3)});
    CHECK_GRADCHECK([&](const In& in) { return op(in[0], 0, col_mask); },
                    In{test::uniform(rng, {4, 3}, -3, 3)});
    CHECK_GRADCHECK([&](const In& in) { return op(in[0], -1, bcast); },
                    In{test::uniform(rng, {2, 4}, -3, 3)});
    // The middle axis of a 3-D tensor with a [1,3,1] mask.
    CHECK_GRADCHECK([&](const In& in) { return op(in[0], 1, mid_mask); },
                    In{test::uniform(rng, {2, 3, 2}, -3, 3)});
    // Axis 0 with a column masked entirely.
    CHECK_GRADCHECK([&](const In& in) { return op(in[0], 0, col_out); },
                    In{test::uniform(rng, {3, 2}, -3, 3)});
    for (int trial = 0; trial < 6; ++trial) {
      const Shape s = test::random_shape(rng, 1, 4, 3);
      const int axis = static_cast<int>(rng() % s.size());
      INFO("trial " << trial << ": shape " << shape_str(s) << " axis " << axis);
      CHECK_GRADCHECK([&](const In& in) { return op(in[0], axis, none); },
                      In{test::uniform(rng, s, -3, 3)});
    }
  }
}
