// Elementwise ops: forward values worked out by hand, gradients against finite differences,
// broadcasting in both directions, and seeded random shapes.
#include <cmath>
#include <functional>
#include <limits>

#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::In;
using tinyrec::test::make;
using tinyrec::test::var;

namespace {

const double kLn2 = std::log(2.0);
const double kLn3 = std::log(3.0);

// Broadcasting pairs used by every binary op: [2,3]+[3] and its mirror, rank-3 against rank-2
// with size-1 axes on both sides, scalar-shaped tensors on either side, equal shapes.
const std::vector<std::pair<Shape, Shape>> kPairs = {
    {{2, 3}, {3}},    {{3}, {2, 3}}, {{2, 1, 4}, {3, 1}}, {{}, {2, 3}},     {{2, 3}, {}},
    {{2, 3}, {2, 3}}, {{1}, {2, 2}}, {{4, 1}, {1, 5}},    {{2, 3, 1}, {1}},
};

using Binary = std::function<Tensor<double>(const Tensor<double>&, const Tensor<double>&)>;

void gradcheck_binary(const Binary& op, bool positive_b) {
  std::mt19937_64 rng(7);
  for (const auto& sa_sb : kPairs) {
    const auto& sa = sa_sb.first;
    const auto& sb = sa_sb.second;
    INFO("shapes " << shape_str(sa) << " and " << shape_str(sb));
    Tensor<double> a = test::uniform(rng, sa, -2, 2);
    // Divisors stay in [0.5, 2]: far from the pole at 0.
    Tensor<double> b = positive_b ? test::uniform(rng, sb, 0.5, 2) : test::uniform(rng, sb, -2, 2);
    CHECK_GRADCHECK([&](const In& v) { return op(v[0], v[1]); }, In{a, b});
  }
  // Random ranks (0 to 4) and sizes, each side dropping leading axes or setting sizes to 1.
  for (int trial = 0; trial < 25; ++trial) {
    const Shape s = test::random_shape(rng, 0, 4, 3);
    const Shape sa = rng() % 3 == 0 ? s : test::broadcast_partner(rng, s);
    const Shape sb = test::broadcast_partner(rng, s);
    INFO("trial " << trial << ": shapes " << shape_str(sa) << " and " << shape_str(sb));
    Tensor<double> a = test::uniform(rng, sa, -2, 2);
    Tensor<double> b = positive_b ? test::uniform(rng, sb, 0.5, 2) : test::uniform(rng, sb, -2, 2);
    CHECK_GRADCHECK([&](const In& v) { return op(v[0], v[1]); }, In{a, b});
  }
}

using Unary = std::function<Tensor<double>(const Tensor<double>&)>;
using Sampler = std::function<Tensor<double>(std::mt19937_64&, const Shape&)>;

void gradcheck_unary(const Unary& op, const Sampler& sample, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 12; ++trial) {
    const Shape s = test::random_shape(rng, 0, 4, 3);
    INFO("trial " << trial << ": shape " << shape_str(s));
    Tensor<double> x = sample(rng, s);
    CHECK_GRADCHECK([&](const In& v) { return op(v[0]); }, In{x});
  }
}

Sampler in_range(double lo, double hi) {
  return [lo, hi](std::mt19937_64& rng, const Shape& s) { return test::uniform(rng, s, lo, hi); };
}

}  // namespace

TEST_CASE("add, sub, mul, div broadcast [2,3] with [3]") {
  const auto a = make({1, 2, 3, 4, 5, 6}, {2, 3});
  const auto b = make({10, 20, 30}, {3});
  // Each row of a meets b elementwise.
  CHECK_TENSOR(add(a, b), {2, 3}, {11, 22, 33, 14, 25, 36});
  CHECK_TENSOR(sub(a, b), {2, 3}, {-9, -18, -27, -6, -15, -24});
  CHECK_TENSOR(mul(a, b), {2, 3}, {10, 40, 90, 40, 100, 180});
  CHECK_TENSOR(div(a, b), {2, 3}, {0.1, 0.1, 0.1, 0.4, 0.25, 0.2});
  // The operators are the same ops; b on the left broadcasts the same way.
  CHECK_TENSOR(a + b, {2, 3}, {11, 22, 33, 14, 25, 36});
  CHECK_TENSOR(b - a, {2, 3}, {9, 18, 27, 6, 15, 24});
  CHECK_TENSOR(b * a, {2, 3}, {10, 40, 90, 40, 100, 180});
  CHECK_TENSOR(b / a, {2, 3}, {10, 10, 10, 2.5, 4, 5});
}

TEST_CASE("mul broadcasts [2,1,2] with [3,1] to [2,3,2], and a scalar-shaped tensor") {
  const auto a = make({1, 2, 3, 4}, {2, 1, 2});
  const auto b = make({1, 2, 3}, {3, 1});
  // out[i][j][k] = a[i][0][k] * b[j][0].
  CHECK_TENSOR(mul(a, b), {2, 3, 2}, {1, 2, 2, 4, 3, 6, 3, 4, 6, 8, 9, 12});
  const auto s = Tensor<double>::scalar(5);
  const auto x = make({1, 2, 3, 4}, {2, 2});
  CHECK_TENSOR(add(s, x), {2, 2}, {6, 7, 8, 9});
  CHECK_TENSOR(sub(x, s), {2, 2}, {-4, -3, -2, -1});
  CHECK_TENSOR(add(s, s), {}, {10});
}

TEST_CASE("broadcast gradients are summed back to each input's shape") {
  auto a = make({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  auto b = make({10, 20, 30}, {3}, true);
  backward(sum(mul(a, b)));
  // d/da = b repeated on each row; d/db = the column sums of a.
  CHECK_TENSOR(a.grad(), {2, 3}, {10, 20, 30, 10, 20, 30});
  CHECK_TENSOR(b.grad(), {3}, {5, 7, 9});

  auto p = make({2, 4}, {2}, true);
  auto q = make({8}, {1}, true);
  backward(sum(div(p, q)));
  // d(p/q)/dp = 1/q; d(p/q)/dq = −p/q², summed: −(2 + 4)/64.
  CHECK_TENSOR(p.grad(), {2}, {0.125, 0.125});
  CHECK_TENSOR(q.grad(), {1}, {-6.0 / 64});
}

TEST_CASE("binary ops: gradcheck with broadcasting and random shapes") {
  SUBCASE("add") {
    gradcheck_binary([](auto& a, auto& b) { return add(a, b); }, false);
  }
  SUBCASE("sub") {
    gradcheck_binary([](auto& a, auto& b) { return sub(a, b); }, false);
  }
  SUBCASE("mul") {
    gradcheck_binary([](auto& a, auto& b) { return mul(a, b); }, false);
  }
  SUBCASE("div") {
    gradcheck_binary([](auto& a, auto& b) { return div(a, b); }, true);
  }
  SUBCASE("operators") {
    gradcheck_binary([](auto& a, auto& b) { return (a + b) * a - b / (b * b); }, true);
  }
}

TEST_CASE("binary ops: the same tensor on both sides gets both contributions") {
  auto x = make({3}, {1}, true);
  backward(sum(mul(x, x)));  // d(x²)/dx = 2x
  CHECK_TENSOR(x.grad(), {1}, {6});
  x.zero_grad();
  backward(sum(sub(x, x)));  // identically 0
  CHECK_TENSOR(x.grad(), {1}, {0});
  x.zero_grad();
  backward(sum(div(x, x)));  // identically 1
  CHECK_TENSOR(x.grad(), {1}, {0});
}

TEST_CASE("ops with a scalar and the scalar operators") {
  const auto x = make({1, 2, 4}, {3});
  CHECK_TENSOR(add_scalar(x, 0.5), {3}, {1.5, 2.5, 4.5});
  CHECK_TENSOR(mul_scalar(x, 3.0), {3}, {3, 6, 12});
  CHECK_TENSOR(rsub_scalar(x, 10.0), {3}, {9, 8, 6});
  CHECK_TENSOR(rdiv_scalar(x, 8.0), {3}, {8, 4, 2});
  CHECK_TENSOR(x + 1.0, {3}, {2, 3, 5});
  CHECK_TENSOR(1.0 + x, {3}, {2, 3, 5});
  CHECK_TENSOR(x - 1.0, {3}, {0, 1, 3});
  CHECK_TENSOR(10.0 - x, {3}, {9, 8, 6});
  CHECK_TENSOR(x * 2.0, {3}, {2, 4, 8});
  CHECK_TENSOR(2.0 * x, {3}, {2, 4, 8});
  CHECK_TENSOR(x / 2.0, {3}, {0.5, 1, 2});
  CHECK_TENSOR(8.0 / x, {3}, {8, 4, 2});
  CHECK_TENSOR(-x, {3}, {-1, -2, -4});
  CHECK_TENSOR(neg(x), {3}, {-1, -2, -4});
  // A float tensor takes double literals: the scalar's type follows the tensor's.
  const auto xf = make<float>({1, 2, 4}, {3});
  CHECK_TENSOR(xf * 0.5 + 1.0, {3}, {1.5, 2, 3});
}

TEST_CASE("ops with a scalar: gradcheck") {
  std::mt19937_64 rng(11);
  // Positive inputs in [0.5, 2] keep s / x away from its pole.
  const Tensor<double> x = test::uniform(rng, {2, 3}, 0.5, 2);
  using Fn = Tensor<double> (*)(const Tensor<double>&);
  const std::vector<std::pair<const char*, Fn>> ops = {
      {"add_scalar", [](const Tensor<double>& t) { return add_scalar(t, 0.7); }},
      {"mul_scalar", [](const Tensor<double>& t) { return mul_scalar(t, -1.3); }},
      {"rsub_scalar", [](const Tensor<double>& t) { return rsub_scalar(t, 2.5); }},
      {"rdiv_scalar", [](const Tensor<double>& t) { return rdiv_scalar(t, 1.7); }},
      {"x + s", [](const Tensor<double>& t) { return t + 0.5; }},
      {"s + x", [](const Tensor<double>& t) { return 0.5 + t; }},
      {"x - s", [](const Tensor<double>& t) { return t - 0.5; }},
      {"s - x", [](const Tensor<double>& t) { return 0.5 - t; }},
      {"x * s", [](const Tensor<double>& t) { return t * 3.0; }},
      {"s * x", [](const Tensor<double>& t) { return 3.0 * t; }},
      {"x / s", [](const Tensor<double>& t) { return t / 4.0; }},
      {"s / x", [](const Tensor<double>& t) { return 4.0 / t; }},
      {"-x", [](const Tensor<double>& t) { return -t; }},
  };
  for (const auto& name_op : ops) {
    const auto& name = name_op.first;
    const auto& op = name_op.second;
    INFO(name);
    CHECK_GRADCHECK([op = op](const In& v) { return op(v[0]); }, In{x});
  }
  // The scalar-shaped case.
  CHECK_GRADCHECK([](const In& v) { return rdiv_scalar(v[0], 3.0); }, In{var({1.5}, {})});
}

TEST_CASE("pow") {
  CHECK_TENSOR(pow(make({4, 9, 0.25}, {3}), 0.5), {3}, {2, 3, 0.5});
  // A whole exponent accepts negative bases.
  CHECK_TENSOR(pow(make({-2, 1.5}, {2}), 3.0), {2}, {-8, 3.375});
  CHECK_TENSOR(pow(make({2, 4}, {2}), -1.0), {2}, {0.5, 0.25});
  CHECK_TENSOR(pow(make({2, -3}, {2}), 0.0), {2}, {1, 1});
  auto x = make({-2, 4}, {2}, true);
  backward(sum(pow(x, 3.0)));  // 3x²
  CHECK_TENSOR(x.grad(), {2}, {12, 48});

  for (double p : {0.5, 2.0, 3.0, -1.5, 2.7}) {
    INFO("p = " << p);
    gradcheck_unary([p](const Tensor<double>& t) { return pow(t, p); }, in_range(0.5, 2), 13);
  }
  for (double p : {2.0, 3.0}) {
    INFO("whole p = " << p << " on negative bases");
    gradcheck_unary([p](const Tensor<double>& t) { return pow(t, p); }, in_range(-2, -0.5), 17);
  }
}

TEST_CASE("neg, square, exp, log, sqrt") {
  CHECK_TENSOR(square(make({-3, 0.5}, {2})), {2}, {9, 0.25});
  CHECK_TENSOR(exp(make({0, 1, kLn2}, {3})), {3}, {1, std::exp(1.0), 2});
  CHECK_TENSOR(log(make({1, std::exp(1.0), 0.5}, {3})), {3}, {0, 1, -kLn2});
  CHECK_TENSOR(sqrt(make({4, 2.25}, {2})), {2}, {2, 1.5});

  auto x = make({0.5, 4}, {2}, true);
  backward(sum(log(x) + sqrt(x)));  // 1/x + 1/(2√x)
  CHECK_TENSOR(x.grad(), {2}, {2 + 1 / (2 * std::sqrt(0.5)), 0.25 + 0.25});

  gradcheck_unary([](auto& t) { return neg(t); }, in_range(-2, 2), 19);
  gradcheck_unary([](auto& t) { return square(t); }, in_range(-2, 2), 23);
  gradcheck_unary([](auto& t) { return exp(t); }, in_range(-2, 2), 29);
  gradcheck_unary([](auto& t) { return log(t); }, in_range(0.3, 3), 31);
  gradcheck_unary([](auto& t) { return sqrt(t); }, in_range(0.3, 3), 37);
}

TEST_CASE("relu and leaky_relu") {
  CHECK_TENSOR(relu(make({-1.5, 0.5, 2}, {3})), {3}, {0, 0.5, 2});
  CHECK_TENSOR(leaky_relu(make({-2, 3}, {2})), {2}, {-0.02, 3});  // default slope 0.01
  CHECK_TENSOR(leaky_relu(make({-5, 1}, {2}), 0.2), {2}, {-1, 1});

  // At exactly 0 the derivative is taken from the left: 0 for relu, the slope for leaky_relu.
  auto x = make({-1, 0, 2}, {3}, true);
  backward(sum(relu(x)));
  CHECK_TENSOR(x.grad(), {3}, {0, 0, 1});
  x.zero_grad();
  backward(sum(leaky_relu(x, 0.1)));
  CHECK_TENSOR(x.grad(), {3}, {0.1, 0.1, 1});

  // Inputs at least 0.05 from the kink at 0.
  auto away = [](std::mt19937_64& rng, const Shape& s) {
    return test::signed_away_from_zero(rng, s, 0.05, 2);
  };
  gradcheck_unary([](auto& t) { return relu(t); }, away, 41);
  gradcheck_unary([](auto& t) { return leaky_relu(t); }, away, 43);
  gradcheck_unary([](auto& t) { return leaky_relu(t, 0.3); }, away, 47);
}

TEST_CASE("sigmoid, tanh, logsigmoid") {
  // σ(ln 3) = 1 / (1 + 1/3) = 3/4; σ(−x) = 1 − σ(x).
  CHECK_TENSOR(sigmoid(make({0, kLn3, -kLn3}, {3})), {3}, {0.5, 0.75, 0.25});
  // tanh(ln 2) = (2 − 1/2) / (2 + 1/2) = 0.6.
  CHECK_TENSOR(tanh(make({0, kLn2, -kLn2}, {3})), {3}, {0, 0.6, -0.6});
  CHECK_TENSOR(logsigmoid(make({0, kLn3, -kLn3}, {3})), {3},
               {std::log(0.5), std::log(0.75), std::log(0.25)});
  // Far out in the tails: no overflow, no NaN; log σ(−1000) = −1000 − log(1 + e^−1000).
  CHECK_TENSOR(sigmoid(make({-1000, 1000}, {2})), {2}, {0, 1});
  CHECK_TENSOR(logsigmoid(make({-1000, 1000}, {2})), {2}, {-1000, 0});
  CHECK_TENSOR(logsigmoid(make<float>({-200, 200}, {2})), {2}, {-200, 0});

  auto x = make({0, kLn3, -1000, 1000}, {4}, true);
  backward(sum(sigmoid(x)));  // σ(1 − σ): 1/4, 3/16, then 0 in both tails
  CHECK_TENSOR(x.grad(), {4}, {0.25, 0.1875, 0, 0});
  x.zero_grad();
  backward(sum(logsigmoid(x)));  // 1 − σ(x)
  CHECK_TENSOR(x.grad(), {4}, {0.5, 0.25, 1, 0});
  x.zero_grad();
  backward(sum(tanh(x)));  // 1 − tanh²: tanh(ln 3) = 0.8
  CHECK_TENSOR(x.grad(), {4}, {1, 0.36, 0, 0});

  gradcheck_unary([](auto& t) { return sigmoid(t); }, in_range(-4, 4), 53);
  gradcheck_unary([](auto& t) { return tanh(t); }, in_range(-3, 3), 59);
  gradcheck_unary([](auto& t) { return logsigmoid(t); }, in_range(-6, 6), 61);
}

TEST_CASE("clamp") {
  CHECK_TENSOR(clamp(make({-3, -0.5, 1.5, 5}, {4}), -1.0, 2.0), {4}, {-1, -0.5, 1.5, 2});
  auto x = make({-3, -1, 1.5, 2, 5}, {5}, true);
  backward(sum(clamp(x, -1.0, 2.0)));
  // 1 inside [lo, hi] including the bounds, 0 outside.
  CHECK_TENSOR(x.grad(), {5}, {0, 1, 1, 1, 0});

  // Inputs at least 0.05 from both kinks: uniform in [−3, 3] pushed off ±1.
  auto away = [](std::mt19937_64& rng, const Shape& s) {
    Tensor<double> t = test::uniform(rng, s, -3, 3);
    for (size_t i = 0; i < t.numel(); ++i) {
      double& v = t.data()[i];
      for (double kink : {-1.0, 1.0})
        if (std::abs(v - kink) < 0.05) v = kink + (v < kink ? -0.05 : 0.05);
    }
    return t;
  };
  gradcheck_unary([](auto& t) { return clamp(t, -1.0, 1.0); }, away, 67);
}

TEST_CASE("where and masked_fill") {
  const auto cond = make({1, 0, 0, 1}, {2, 2});
  const auto a = make({1, 2, 3, 4}, {2, 2});
  CHECK_TENSOR(where(cond, a, make({10}, {1})), {2, 2}, {1, 10, 10, 4});
  // The condition broadcasts too: row 0 from a, row 1 from b.
  CHECK_TENSOR(where(make({1, 0}, {2, 1}), a, make({5, 6, 7, 8}, {2, 2})), {2, 2}, {1, 2, 7, 8});
  // Any non-zero value counts as true.
  CHECK_TENSOR(where(make({-2, 0.5}, {2}), make({1, 2}, {2}), make({0, 0}, {2})), {2}, {1, 2});
  // The branch not taken may be infinite without spoiling the result.
  const double inf = std::numeric_limits<double>::infinity();
  CHECK_TENSOR(where(cond, a, make({inf}, {1})), {2, 2}, {1, inf, inf, 4});
  CHECK_TENSOR(masked_fill(a, make({0, 1, 1, 0}, {2, 2}), -9.0), {2, 2}, {1, -9, -9, 4});
  CHECK_TENSOR(masked_fill(a, make({0, 1}, {2}), -9.0), {2, 2}, {1, -9, 3, -9});

  auto x = make({1, 2, 3, 4}, {2, 2}, true);
  auto y = make({5, 6}, {2}, true);
  backward(sum(where(cond, x, y) * make({1, 2, 3, 4}, {2, 2})));
  // x gets the weights where cond holds; y gets the rest, summed over rows: [3, 2].
  CHECK_TENSOR(x.grad(), {2, 2}, {1, 0, 0, 4});
  CHECK_TENSOR(y.grad(), {2}, {3, 2});
  x.zero_grad();
  backward(sum(masked_fill(x, make({0, 1}, {2}), -9.0)));
  CHECK_TENSOR(x.grad(), {2, 2}, {1, 0, 1, 0});

  std::mt19937_64 rng(71);
  const auto c23 = make({1, 0, 1, 0, 0, 1}, {2, 3});
  CHECK_GRADCHECK([&](const In& v) { return where(c23, v[0], v[1]); },
                  In{test::uniform(rng, {2, 3}, -2, 2), test::uniform(rng, {3}, -2, 2)});
  CHECK_GRADCHECK(
      [&](const In& v) {
        return where(make({0, 1}, {2, 1}), v[0], v[1]);
      },
      In{test::uniform(rng, {}, -2, 2), test::uniform(rng, {2, 3}, -2, 2)});
  CHECK_GRADCHECK(
      [&](const In& v) {
        return masked_fill(v[0], make({1, 0, 1}, {3}), 0.5);
      },
      In{test::uniform(rng, {2, 3}, -2, 2)});
}
