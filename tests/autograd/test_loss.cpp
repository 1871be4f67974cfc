// Losses: bce_with_logits, softmax_cross_entropy and mse_loss, each a mean; values and gradients
// worked out by hand, stability at large logits, and gradchecks.
#include <cmath>

#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::ids;
using tinyrec::test::In;
using tinyrec::test::make;

namespace {

const double kLn2 = std::log(2.0);
const double kLn3 = std::log(3.0);

}  // namespace

TEST_CASE("bce_with_logits") {
  // σ(0) = 1/2 with target 1: −log(1/2) = ln 2. σ(ln 3) = 3/4 with target 0: −log(1/4) = 2 ln 2.
  // The mean is 1.5 ln 2.
  CHECK_TENSOR(bce_with_logits(make({0, kLn3}, {2}), make({1, 0}, {2})), {}, {1.5 * kLn2});
  // A soft target 1/2 at σ = 3/4: −½ log(3/4) − ½ log(1/4) = ½ ln(16/3).
  CHECK_TENSOR(bce_with_logits(make({kLn3}, {1}), make({0.5}, {1})), {},
               {0.5 * std::log(16.0 / 3)});
  // Large logits: right answers cost log(1 + e^−100) ≈ 3.7e−44, wrong ones cost 100, no overflow.
  CHECK_TENSOR(bce_with_logits(make({100, -100}, {2}), make({1, 0}, {2})), {}, {0});
  CHECK_TENSOR(bce_with_logits(make({100, -100}, {2}), make({0, 1}, {2})), {}, {100});
  CHECK_TENSOR(bce_with_logits(make<float>({1000, -1000}, {2}), make<float>({0, 1}, {2})), {},
               {1000});
  // Any shape; the mean runs over every element. [[0, 0], [ln 3, ln 3]] against [[1, 0], [0, 1]]:
  // ln 2, ln 2, 2 ln 2, ln(4/3) over 4.
  CHECK_TENSOR(bce_with_logits(make({0, 0, kLn3, kLn3}, {2, 2}), make({1, 0, 0, 1}, {2, 2})), {},
               {(4 * kLn2 + std::log(4.0 / 3)) / 4});

  auto x = make({0, kLn3}, {2}, true);
  auto t = make({1, 0}, {2}, true);
  backward(bce_with_logits(x, t));
  // d/dx = (σ(x) − t)/n = [(1/2 − 1)/2, (3/4 − 0)/2]; d/dt = −x/n.
  CHECK_TENSOR(x.grad(), {2}, {-0.25, 0.375});
  CHECK_TENSOR(t.grad(), {2}, {0, -kLn3 / 2});

  std::mt19937_64 rng(601);
  CHECK_GRADCHECK([](const In& in) { return bce_with_logits(in[0], in[1]); },
                  In{test::uniform(rng, {2, 3}, -4, 4), test::uniform(rng, {2, 3}, 0, 1)});
  const auto hard = make({1, 0, 0, 1, 1}, {5});
  CHECK_GRADCHECK([&](const In& in) { return bce_with_logits(in[0], hard); },
                  In{test::uniform(rng, {5}, -6, 6)});
}

TEST_CASE("softmax_cross_entropy") {
  // Row 0: softmax [1/6, 1/3, 1/2], target 2: −log(1/2) = ln 2. Row 1 uniform over 3, target 1:
  // ln 3. The mean is ln 6 / 2.
  const auto logits = make({0, kLn2, kLn3, 0, 0, 0}, {2, 3});
  CHECK_TENSOR(softmax_cross_entropy(logits, ids({2, 1}, {2})), {}, {std::log(6.0) / 2});
  CHECK_TENSOR(softmax_cross_entropy(make({1000, 0}, {1, 2}), ids({0}, {1})), {}, {0});
  CHECK_TENSOR(softmax_cross_entropy(make({1000, 0}, {1, 2}), ids({1}, {1})), {}, {1000});

  auto x = make({0, kLn2, kLn3, 0, 0, 0}, {2, 3}, true);
  backward(softmax_cross_entropy(x, ids({2, 1}, {2})));
  // (softmax − one-hot) / N.
  CHECK_TENSOR(x.grad(), {2, 3}, {1.0 / 12, 1.0 / 6, -0.25, 1.0 / 6, -1.0 / 3, 1.0 / 6});

  std::mt19937_64 rng(603);
  CHECK_GRADCHECK(
      [](const In& in) {
        return softmax_cross_entropy(in[0], ids({2, 0, 3}, {3}));
      },
      In{test::uniform(rng, {3, 4}, -3, 3)});
  CHECK_GRADCHECK([](const In& in) { return softmax_cross_entropy(in[0], ids({0}, {1})); },
                  In{test::uniform(rng, {1, 2}, -3, 3)});
}

TEST_CASE("softmax_cross_entropy: the fused float kernel over 4,000 classes matches double") {
  // The float forward and backward use a polynomial e^x; against exact double arithmetic on the
  // same logits the loss and every gradient element agree to float precision.
  std::mt19937_64 rng(607);
  const size_t n = 3, c = 4000;
  const auto x64 = test::uniform(rng, {n, c}, -8, 8);
  const Ids t = ids({5, 3999, 0}, {3});
  xt::xarray<float> v = xt::cast<float>(x64.value());
  Tensor<float> x32(v, true);
  xt::xarray<double> rounded = xt::cast<double>(v);  // the same logits in both precisions
  Tensor<double> xd(rounded, true);
  const Tensor<float> l32 = softmax_cross_entropy(x32, t);
  const Tensor<double> l64 = softmax_cross_entropy(xd, t);
  CHECK(l32.item() == doctest::Approx(l64.item()).epsilon(1e-6));
  backward(l32);
  backward(l64);
  // Each element to a relative 4e-6: the exponent x − lse is made of float numbers below 32 in
  // size (|x| <= 8, lse <= 8 + log 4000), and the rounding of lse and of the difference can each
  // move it by half a float ulp at 32, 2⁻¹⁹ ≈ 1.9e-6, which e^· turns into that relative error.
  double worst = 0;
  for (size_t i = 0; i < n * c; ++i) {
    const double exact = xd.grad().data()[i];
    worst = std::max(
        worst, std::abs(double(x32.grad().data()[i]) - exact) / (4e-6 * std::abs(exact) + 1e-15));
  }
  CHECK(worst <= 1.0);
  // The fused double loss and gradient equal the composed −(1/N) Σ log_softmax(x)[t].
  xt::xarray<double> onehot = xt::zeros<double>({n, c});
  for (size_t i = 0; i < n; ++i) onehot(i, size_t(t(i))) = 1;
  auto again = Tensor<double>(rounded, true);
  const Tensor<double> composed =
      sum(log_softmax(again, 1) * Tensor<double>(onehot)) * (-1.0 / double(n));
  CHECK(composed.item() == doctest::Approx(l64.item()).epsilon(1e-12));
  backward(composed);
  double differ = 0;
  for (size_t i = 0; i < n * c; ++i)
    differ = std::max(differ, std::abs(again.grad().data()[i] - xd.grad().data()[i]));
  CHECK(differ < 1e-15);
}

TEST_CASE("mse_loss") {
  // Squared errors 0, 4, 4 over 3.
  CHECK_TENSOR(mse_loss(make({1, 2, 3}, {3}), make({1, 0, 5}, {3})), {}, {8.0 / 3});
  CHECK_TENSOR(mse_loss(make({1, 2, 3, 4}, {2, 2}), make({0, 0, 0, 0}, {2, 2})), {}, {7.5});
  CHECK_TENSOR(mse_loss(Tensor<double>::scalar(3), Tensor<double>::scalar(1)), {}, {4});

  auto p = make({1, 2, 3}, {3}, true);
  auto t = make({1, 0, 5}, {3}, true);
  backward(mse_loss(p, t));
  // 2(p − t)/n and its negative.
  CHECK_TENSOR(p.grad(), {3}, {0, 4.0 / 3, -4.0 / 3});
  CHECK_TENSOR(t.grad(), {3}, {0, -4.0 / 3, 4.0 / 3});

  std::mt19937_64 rng(605);
  CHECK_GRADCHECK([](const In& in) { return mse_loss(in[0], in[1]); },
                  In{test::uniform(rng, {2, 3}, -2, 2), test::uniform(rng, {2, 3}, -2, 2)});
}
