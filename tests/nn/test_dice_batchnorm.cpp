// Tests of Dice and BatchNorm1d: values against PyTorch, training (batch statistics with gradient)
// versus evaluation (running statistics), the running-statistics update, and gradient checks.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "autograd/autograd.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"

using namespace tinyrec;
using namespace tinyrec::nn;

namespace {

using Td = Tensor<double>;

Td tensor(xt::xarray<double> v, bool requires_grad = false) {
  return Td(std::move(v), requires_grad);
}

Td random_input(const Shape& shape, uint64_t seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0.0, scale);
  xt::xarray<double> v = xt::xarray<double>::from_shape(shape);
  for (auto& e : v) e = n(rng);
  return Td(std::move(v), true);
}

void check_values(const Td& y, const std::vector<double>& expect) {
  REQUIRE(y.numel() == expect.size());
  for (size_t i = 0; i < expect.size(); ++i) {
    CAPTURE(i);
    CHECK(y.data()[i] == doctest::Approx(expect[i]).epsilon(1e-12));
  }
}

void check_grad(const CheckedFn& f, const std::vector<Td>& inputs) {
  const GradcheckResult r = gradcheck(f, inputs);
  CHECK_MESSAGE(r.ok, r.report());
}

// Rows 0..n−1 of a [B, H] tensor.
Td head(const Td& x, size_t n) {
  NoGradGuard no_grad;
  return slice(x, 0, 0, n);
}

const xt::xarray<double> kX{{1., 2.}, {3., 6.}, {5., 10.}};

}  // namespace

TEST_CASE("BatchNorm1d: training values and running statistics match PyTorch") {
  BatchNorm1d<double> bn(2);
  CHECK(bn.parameter_count() == 4);
  REQUIRE(bn.named_buffers().size() == 2);
  CHECK(bn.named_buffers()[0].first == "running_mean");
  CHECK(bn.named_buffers()[1].first == "running_var");
  Td g = bn.weight(), b = bn.bias();
  g.value() = xt::xarray<double>{1.5, -0.5};
  b.value() = xt::xarray<double>{0.1, 0.2};
  // Expected from torch 1.13: nn.BatchNorm1d(2).double() with weight [1.5, −0.5], bias [0.1, 0.2]
  // on [[1, 2], [3, 6], [5, 10]] in training mode.
  check_values(bn.forward(tensor(kX)),
               {-1.7371138625021207, 0.8123721486464173, 0.10000000000000009, 0.2,
                1.937113862502121, -0.4123721486464172});
  // running = 0.9·initial + 0.1·batch; the variance is the unbiased one (8/3·3/2 = 4, 32/3·3/2 =
  // 16).
  check_values(bn.running_mean(), {0.3, 0.6});
  check_values(bn.running_var(), {0.9 + 0.4, 0.9 + 1.6});

  bn.eval();
  // Same layer in eval mode (torch 1.13): (x − running_mean) / √(running_var + 1e-5)·γ + β.
  check_values(bn.forward(tensor(kX)),
               {1.020907378327737, -0.2427179869884845, 3.6520713164069853, -1.5076265212412976,
                6.283235254486233, -2.7725350554941106});
  // Evaluation does not move the running statistics.
  check_values(bn.running_mean(), {0.3, 0.6});
  check_values(bn.running_var(), {1.3, 2.5});
}

TEST_CASE("BatchNorm1d: a row's output depends on the batch in training, not in eval") {
  BatchNorm1d<double> bn(3);
  Td x = random_input(Shape{6, 3}, 1);
  Td other = random_input(Shape{6, 3}, 2);
  // Same first two rows, different rest.
  Td mixed = tensor(xt::concatenate(xt::xtuple(xt::xarray<double>(head(x, 2).value()),
                                               xt::xarray<double>(head(other, 4).value()))));
  Td a = bn.forward(x), c = bn.forward(mixed);
  CHECK(head(a, 2).value() != head(c, 2).value());
  // Training normalises each feature of the batch to mean 0 and (biased) variance ≈ 1.
  for (size_t k = 0; k < 3; ++k) {
    double m = 0, v = 0;
    for (size_t i = 0; i < 6; ++i) m += a.value()(i, k) / 6;
    for (size_t i = 0; i < 6; ++i) v += (a.value()(i, k) - m) * (a.value()(i, k) - m) / 6;
    CHECK(m == doctest::Approx(0.0).scale(1.0));
    CHECK(v == doctest::Approx(1.0).epsilon(1e-4));  // eps = 1e-5 in the denominator
  }
  bn.eval();
  Td ea = bn.forward(x), ec = bn.forward(mixed), single = bn.forward(head(x, 1));
  CHECK(head(ea, 2).value() == head(ec, 2).value());
  CHECK(single.value() == head(ea, 1).value());
}

TEST_CASE("BatchNorm1d: [B, L, H] uses statistics over B and L") {
  BatchNorm1d<double> bn3(2), bn2(2);
  Td x = random_input(Shape{2, 3, 2}, 3);
  Td y3 = bn3.forward(x);
  Td y2 = bn2.forward(reshape(x, Shape{6, 2}));
  CHECK(y3.shape() == x.shape());
  CHECK(reshape(y3, Shape{6, 2}).value() == y2.value());
  CHECK(bn3.running_mean().value() == bn2.running_mean().value());
  CHECK(bn3.running_var().value() == bn2.running_var().value());
}

TEST_CASE("BatchNorm1d: gradcheck in training and eval") {
  BatchNorm1d<double> bn(3);
  std::mt19937_64 rng(4);
  init::normal_(bn.weight(), rng, 1.0, 1.0);
  init::normal_(bn.bias(), rng, 0.5);
  std::vector<Td> params = bn.parameters();
  auto f = [&](const std::vector<Td>& in) { return bn.forward(in[0]); };
  Td x = random_input(Shape{5, 3}, 5);
  check_grad(f, {x, params[0], params[1]});
  Td x3 = random_input(Shape{2, 3, 3}, 6);
  check_grad(f, {x3, params[0], params[1]});
  bn.eval();
  check_grad(f, {x, params[0], params[1]});
}

TEST_CASE("BatchNorm1d: errors") {
  BatchNorm1d<double> bn(2);
  CHECK_THROWS_WITH_AS(bn.forward(Td::zeros(Shape{4, 3})),
                       "BatchNorm1d(2): input of shape [4, 3] must end in an axis of size 2",
                       std::invalid_argument);
  CHECK_THROWS_AS(bn.forward(Td::zeros(Shape{1, 2})), std::invalid_argument);
  bn.eval();
  CHECK(bn.forward(Td::zeros(Shape{1, 2})).shape() == Shape{1, 2});
  CHECK_THROWS_AS(BatchNorm1d<double>(2, 1e-5, 1.5), std::invalid_argument);
}

TEST_CASE("Dice: training and eval values, running statistics") {
  Dice<double> dice(2);
  CHECK(dice.parameter_count() == 2);
  CHECK(dice.alpha().value() == xt::xarray<double>{0.0, 0.0});
  CHECK(dice.named_parameters()[0].first == "alpha");
  REQUIRE(dice.named_buffers().size() == 2);
  CHECK(dice.named_buffers()[0].first == "running_mean");
  CHECK(dice.named_buffers()[1].first == "running_var");
  Td a = dice.alpha();
  a.value() = xt::xarray<double>{0.2, -0.1};
  // Expected from torch 1.13 in float64, written from the formula:
  // p = sigmoid((x − x.mean(0)) / sqrt(x.var(0, unbiased=False) + 1e-8)); y = p·x + (1 − p)·α·x
  check_values(dice.forward(tensor(kX)), {0.381682015871011, 0.29962554298019894, 1.8, 2.7,
                                          4.091589920644945, 7.501872285099005});
  // momentum 0.01: 0.99·(0, 1) + 0.01·(mean, unbiased var) with means (3, 6), variances (4, 16).
  check_values(dice.running_mean(), {0.03, 0.06});
  check_values(dice.running_var(), {1.03, 1.15});

  dice.eval();
  // The same formula with running_mean (0.03, 0.06) and running_var (1.03, 1.15).
  check_values(dice.forward(tensor(kX)),
               {0.7778191748117315, 1.6903459215493828, 2.8779300205999023, 5.974162576935246,
                4.970348207149757, 9.99896286872842});
  check_values(dice.running_mean(), {0.03, 0.06});
  check_values(dice.running_var(), {1.03, 1.15});
}

TEST_CASE("Dice: a row's output depends on the batch in training, not in eval") {
  Dice<double> dice(3, 1e-8, 0.01, 0.3);
  Td x = random_input(Shape{5, 3}, 7);
  Td shifted = tensor(x.value());
  for (size_t k = 0; k < 3; ++k) shifted.value()(4, k) += 3.0;  // only the last row moves
  Td a = dice.forward(x), b = dice.forward(shifted);
  CHECK(head(a, 1).value() != head(b, 1).value());
  dice.eval();
  Td ea = dice.forward(x), eb = dice.forward(shifted);
  CHECK(head(ea, 4).value() == head(eb, 4).value());
  CHECK(dice.forward(head(x, 1)).value() == head(ea, 1).value());
}

TEST_CASE("Dice: [B, L, H] uses statistics over B and L") {
  Dice<double> d3(2), d2(2);
  Td x = random_input(Shape{3, 4, 2}, 8);
  CHECK(reshape(d3.forward(x), Shape{12, 2}).value() ==
        d2.forward(reshape(x, Shape{12, 2})).value());
  CHECK(d3.running_var().value() == d2.running_var().value());
}

TEST_CASE("Dice: gradcheck in training (statistics carry the gradient) and in eval") {
  Dice<double> dice(3, 1e-8, 0.01, 0.0);
  Td alpha = dice.alpha();
  alpha.value() = xt::xarray<double>{0.25, -0.4, 0.8};
  auto f = [&](const std::vector<Td>& in) { return dice.forward(in[0]); };
  Td x = random_input(Shape{6, 3}, 9, 2.0);
  check_grad(f, {x, alpha});
  Td x3 = random_input(Shape{2, 4, 3}, 10, 2.0);
  check_grad(f, {x3, alpha});

  // The batch statistics must be differentiated through: a gradient that treats them as constants
  // differs from the true one.
  std::vector<Td> full = tinyrec::grad(sum(dice.forward(x) * x), {x});
  Td constant_stats;
  {
    Td xd = tensor(x.value(), true);
    Td xs = tensor(x.value());  // statistics from a copy that carries no gradient
    Td mu = mean(xs, {0}, true);
    Td var = mean(square(xs - mu), {0}, true);
    Td p = sigmoid((xd - mu) / sqrt(var + 1e-8));
    constant_stats = tinyrec::grad(sum(xd * (alpha + p * (1.0 - alpha)) * x), {xd})[0];
  }
  double diff = 0;
  for (size_t i = 0; i < x.numel(); ++i)
    diff = std::max(diff, std::abs(full[0].data()[i] - constant_stats.data()[i]));
  CHECK(diff > 1e-3);

  dice.eval();
  check_grad(f, {x, alpha});
}

TEST_CASE("Dice: errors") {
  Dice<double> dice(4);
  CHECK_THROWS_WITH_AS(dice.forward(Td::zeros(Shape{3, 2})),
                       "Dice(4): input of shape [3, 2] must end in an axis of size 4",
                       std::invalid_argument);
  CHECK_THROWS_AS(dice.forward(Td::zeros(Shape{1, 4})), std::invalid_argument);
}
