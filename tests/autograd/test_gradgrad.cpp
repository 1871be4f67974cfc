// Second order: derivatives of derivatives worked out by hand, a MAML step whose meta-gradient has
// a closed form, and gradgradcheck for every op second-order MAML (MeLU) leans on. Linear ops have
// a zero second derivative on their own, so they are checked inside a square or a product, where
// their backward is itself differentiated.
#include <cmath>

#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::ids;
using tinyrec::test::In;
using tinyrec::test::make;
using tinyrec::test::var;

namespace {

const double kLn2 = std::log(2.0);
const double kLn3 = std::log(3.0);

// d²f/dx² of a scalar function at x, through grad(create_graph) then grad.
double second_derivative(Tensor<double> (*f)(const Tensor<double>&), double x0) {
  auto x = make({x0}, {}, true);
  auto g = grad(f(x), {x}, true)[0];
  REQUIRE(g.requires_grad());
  return grad(g, {x})[0].item();
}

}  // namespace

TEST_CASE("x³ at 2: the gradient is 12 and the second derivative 6x = 12") {
  auto x = make({2}, {}, true);
  auto y = x * x * x;
  auto g = grad(y, {x}, /*create_graph=*/true)[0];
  CHECK(g.item() == doctest::Approx(12));
  CHECK(g.requires_grad());
  auto gg = grad(g, {x}, true)[0];
  CHECK(gg.item() == doctest::Approx(12));
  CHECK(grad(gg, {x})[0].item() == doctest::Approx(6));  // the third derivative

  // The same through backward(create_graph): .grad() is itself differentiable.
  auto z = make({3}, {}, true);
  backward(z * z * z, false, /*create_graph=*/true);
  auto gz = z.grad();
  CHECK(gz.item() == doctest::Approx(27));  // 3z²
  CHECK(gz.requires_grad());
  z.zero_grad();
  backward(gz);
  CHECK(z.grad().item() == doctest::Approx(18));  // 6z
  CHECK_FALSE(z.grad().requires_grad());
}

TEST_CASE("mixed partial derivatives of x²y") {
  auto x = make({3}, {}, true);
  auto y = make({5}, {}, true);
  auto gx = grad(x * x * y, {x}, true)[0];  // 2xy = 30
  CHECK(gx.item() == doctest::Approx(30));
  auto h = grad(gx, {x, y});
  CHECK(h[0].item() == doctest::Approx(10));  // ∂²/∂x² = 2y
  CHECK(h[1].item() == doctest::Approx(6));   // ∂²/∂x∂y = 2x
}

TEST_CASE("second derivatives of the unary ops by hand") {
  // σ'' = σ(1−σ)(1−2σ): at ln 3, σ = 3/4: (3/16)(−1/2).
  CHECK(second_derivative([](auto& x) { return sigmoid(x); }, kLn3) == doctest::Approx(-0.09375));
  // tanh'' = −2 tanh (1 − tanh²): at ln 2, tanh = 0.6: −1.2 · 0.64.
  CHECK(second_derivative([](auto& x) { return tanh(x); }, kLn2) == doctest::Approx(-0.768));
  // (log σ)'' = −σ(1−σ) = −3/16 at ln 3.
  CHECK(second_derivative([](auto& x) { return logsigmoid(x); }, kLn3) == doctest::Approx(-0.1875));
  CHECK(second_derivative([](auto& x) { return log(x); }, 2) == doctest::Approx(-0.25));
  CHECK(second_derivative([](auto& x) { return exp(x); }, 1) == doctest::Approx(std::exp(1.0)));
  // √x'' = −¼ x^−3/2 = −1/32 at 4; (x^2.5)'' = 3.75 x^0.5 = 7.5 at 4; (1/x)'' = 2/x³.
  CHECK(second_derivative([](auto& x) { return sqrt(x); }, 4) == doctest::Approx(-1.0 / 32));
  CHECK(second_derivative([](auto& x) { return pow(x, 2.5); }, 4) == doctest::Approx(7.5));
  CHECK(second_derivative([](auto& x) { return 1.0 / x; }, 2) == doctest::Approx(0.25));
  CHECK(second_derivative([](auto& x) { return 3.0 / x; }, 2) == doctest::Approx(0.75));
  CHECK(second_derivative([](auto& x) { return square(x); }, -7) == doctest::Approx(2));
  // relu(x)·x is x² for x > 0 and 0 for x < 0: second derivatives 2 and 0.
  CHECK(second_derivative([](auto& x) { return relu(x) * x; }, 1.5) == doctest::Approx(2));
  CHECK(second_derivative([](auto& x) { return relu(x) * x; }, -1.5) == doctest::Approx(0));
}

TEST_CASE("MAML on a 1-D quadratic: the meta-gradient has the second-order term") {
  // Model ŷ = θ·x, loss (θx − y)². Support (x_s, y_s) = (2, 3), query (1, 2), θ = 0.5, β = 0.1.
  // ∇L_s(θ) = 2x_s(θx_s − y_s) = 4·(−2) = −8, so θ' = θ − β·(−8) = 1.3.
  // dθ'/dθ = 1 − 2βx_s² = 0.2; dL_q/dθ' = 2x_q(θ'x_q − y_q) = −1.4; dL_q/dθ = −0.28.
  // (First-order MAML, dropping dθ'/dθ, would give −1.4.)
  auto theta = make({0.5}, {}, true);
  const double xs = 2, ys = 3, xq = 1, yq = 2, beta = 0.1;
  auto loss_s = square(theta * xs - ys);
  auto g = grad(loss_s, {theta}, /*create_graph=*/true)[0];
  CHECK(g.item() == doctest::Approx(-8));
  auto adapted = theta - g * beta;
  CHECK(adapted.item() == doctest::Approx(1.3));
  auto loss_q = square(adapted * xq - yq);
  CHECK(loss_q.item() == doctest::Approx(0.49));
  backward(loss_q);
  CHECK(theta.grad().item() == doctest::Approx(-0.28));
}

TEST_CASE("MAML on linear regression: the engine matches (I − βH)·∇L_q(w')") {
  // L(w) = mean((Xw − y)²), so ∇L = (2/n) Xᵀ(Xw − y) and H = (2/n) XᵀX (constant). One inner step
  // w' = w − β∇L_s(w) gives dL_q(w')/dw = (I − βH_s) ∇L_q(w'). Computed here in plain loops.
  const std::vector<double> xs = {1, 2, 0, 1, 2, -1}, ys = {1, 0, 2};  // support [3,2], [3]
  const std::vector<double> xq = {1, 1, -1, 2}, yq = {0.5, 1};         // query [2,2], [2]
  const std::vector<double> w0 = {0.3, -0.2};
  const double beta = 0.05;
  auto gradient = [](const std::vector<double>& x, const std::vector<double>& y,
                     const std::vector<double>& w) {
    const size_t n = y.size();
    std::vector<double> g(2, 0);
    for (size_t i = 0; i < n; ++i) {
      const double r = x[2 * i] * w[0] + x[2 * i + 1] * w[1] - y[i];
      for (size_t k = 0; k < 2; ++k) g[k] += 2.0 / double(n) * x[2 * i + k] * r;
    }
    return g;
  };
  const std::vector<double> gs = gradient(xs, ys, w0);
  const std::vector<double> w1 = {w0[0] - beta * gs[0], w0[1] - beta * gs[1]};
  const std::vector<double> gq = gradient(xq, yq, w1);
  double h[2][2] = {{0, 0}, {0, 0}};
  for (size_t i = 0; i < 3; ++i)
    for (size_t a = 0; a < 2; ++a)
      for (size_t b = 0; b < 2; ++b) h[a][b] += 2.0 / 3 * xs[2 * i + a] * xs[2 * i + b];
  const double want0 = (1 - beta * h[0][0]) * gq[0] - beta * h[0][1] * gq[1];
  const double want1 = -beta * h[1][0] * gq[0] + (1 - beta * h[1][1]) * gq[1];

  auto w = make(w0, {2, 1}, true);
  auto loss = [](const Tensor<double>& x, const Tensor<double>& y, const Tensor<double>& p) {
    return mse_loss(reshape(matmul(x, p), {y.numel()}), y);
  };
  auto g = grad(loss(make(xs, {3, 2}), make(ys, {3}), w), {w}, true)[0];
  auto adapted = w - g * beta;
  auto meta = grad(loss(make(xq, {2, 2}), make(yq, {2}), adapted), {w})[0];
  CHECK_TENSOR(meta, {2, 1}, {want0, want1}, 1e-12);
  // The first-order approximation differs, so the check above is really about the Hessian term.
  CHECK(std::abs(gq[0] - want0) + std::abs(gq[1] - want1) > 1e-3);
}

TEST_CASE("gradgradcheck: matmul in every rank and flag combination") {
  std::mt19937_64 rng(701);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      INFO("trans_a " << ta << ", trans_b " << tb);
      const Shape sa = ta ? Shape{3, 2} : Shape{2, 3};
      const Shape sb = tb ? Shape{2, 3} : Shape{3, 2};
      CHECK_GRADGRADCHECK([=](const In& in) { return matmul(in[0], in[1], ta, tb); },
                          In{test::uniform(rng, sa, -2, 2), test::uniform(rng, sb, -2, 2)});
    }
  CHECK_GRADGRADCHECK(
      [](const In& in) { return matmul(in[0], in[1]); },
      In{test::uniform(rng, {2, 2, 3}, -2, 2), test::uniform(rng, {2, 3, 2}, -2, 2)});
  CHECK_GRADGRADCHECK([](const In& in) { return matmul(in[0], in[1], false, true); },
                      In{test::uniform(rng, {2, 2, 3}, -2, 2), test::uniform(rng, {2, 3}, -2, 2)});
  CHECK_GRADGRADCHECK([](const In& in) { return matmul(in[0], in[1], true, false); },
                      In{test::uniform(rng, {2, 3, 2}, -2, 2), test::uniform(rng, {3, 2}, -2, 2)});
  CHECK_GRADGRADCHECK([](const In& in) { return matmul(in[0], in[1]); },
                      In{test::uniform(rng, {2, 3}, -2, 2), test::uniform(rng, {2, 3, 2}, -2, 2)});
  // Through a nonlinearity, as in a layer.
  CHECK_GRADGRADCHECK([](const In& in) { return tanh(matmul(in[0], in[1])); },
                      In{test::uniform(rng, {2, 3}, -1, 1), test::uniform(rng, {3, 2}, -1, 1)});
}

TEST_CASE("gradgradcheck: binary ops with broadcasting") {
  std::mt19937_64 rng(703);
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{2, 3}, {3}}, {{2, 1, 3}, {2, 1}}, {{}, {2, 2}}, {{2, 2}, {2, 2}}};
  for (const auto& sa_sb : pairs) {
    const auto& sa = sa_sb.first;
    const auto& sb = sa_sb.second;
    INFO("shapes " << shape_str(sa) << " and " << shape_str(sb));
    auto a = [&] { return test::uniform(rng, sa, -2, 2); };
    auto b = [&] { return test::uniform(rng, sb, 0.5, 2); };
    CHECK_GRADGRADCHECK([](const In& in) { return square(in[0] + in[1]); }, In{a(), b()});
    CHECK_GRADGRADCHECK([](const In& in) { return square(in[0] - in[1]); }, In{a(), b()});
    CHECK_GRADGRADCHECK([](const In& in) { return in[0] * in[1]; }, In{a(), b()});
    CHECK_GRADGRADCHECK([](const In& in) { return in[0] / in[1]; }, In{a(), b()});
    CHECK_GRADGRADCHECK(
        [](const In& in) {
          return where(make({1, 0}, {2, 1, 1}), in[0], in[1]) * in[1];
        },
        In{a(), b()});
  }
}

TEST_CASE("gradgradcheck: ops with a scalar") {
  std::mt19937_64 rng(705);
  const auto x = test::uniform(rng, {2, 3}, 0.5, 2);
  CHECK_GRADGRADCHECK([](const In& in) { return square(in[0] + 0.5); }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return square(in[0] * -1.5); }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return square(2.5 - in[0]); }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return 1.7 / in[0]; }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return square(-in[0]); }, In{x});
}

TEST_CASE("gradgradcheck: unary ops") {
  std::mt19937_64 rng(707);
  const Shape s{2, 3};
  const auto any = test::uniform(rng, s, -2, 2);
  const auto positive = test::uniform(rng, s, 0.5, 2.5);
  const auto off_kink = test::signed_away_from_zero(rng, s, 0.1, 2);
  CHECK_GRADGRADCHECK([](const In& in) { return sigmoid(in[0]); }, In{any});
  CHECK_GRADGRADCHECK([](const In& in) { return tanh(in[0]); }, In{any});
  CHECK_GRADGRADCHECK([](const In& in) { return exp(in[0]); }, In{any});
  CHECK_GRADGRADCHECK([](const In& in) { return logsigmoid(in[0]); }, In{any});
  CHECK_GRADGRADCHECK([](const In& in) { return square(in[0]); }, In{any});
  CHECK_GRADGRADCHECK([](const In& in) { return log(in[0]); }, In{positive});
  CHECK_GRADGRADCHECK([](const In& in) { return sqrt(in[0]); }, In{positive});
  for (double p : {2.5, 3.0, -1.5}) {
    INFO("p = " << p);
    CHECK_GRADGRADCHECK([p](const In& in) { return pow(in[0], p); }, In{positive});
  }
  CHECK_GRADGRADCHECK([](const In& in) { return pow(in[0], 3.0); }, In{any});
  CHECK_GRADGRADCHECK([](const In& in) { return square(relu(in[0])); }, In{off_kink});
  CHECK_GRADGRADCHECK([](const In& in) { return relu(in[0]) * in[0]; }, In{off_kink});
  CHECK_GRADGRADCHECK([](const In& in) { return square(leaky_relu(in[0], 0.2)); }, In{off_kink});
  // Kinks of clamp at ±1: inputs pushed at least 0.1 away.
  const auto c = make({-1.5, -0.5, 0.3, 0.9, 1.2, 2.0}, {2, 3}, true);
  CHECK_GRADGRADCHECK([](const In& in) { return square(clamp(in[0], -1.0, 1.0)); }, In{c});
  CHECK_GRADGRADCHECK(
      [](const In& in) {
        return square(masked_fill(in[0], make({0, 1, 0}, {3}), 2.0));
      },
      In{any});
}

TEST_CASE("gradgradcheck: reductions and broadcasting ops") {
  std::mt19937_64 rng(709);
  const auto x = test::uniform(rng, {2, 3, 2}, -2, 2);
  CHECK_GRADGRADCHECK([](const In& in) { return square(sum(in[0])); }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return square(sum(in[0], {1})); }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return square(sum(in[0], {0, -1}, true)); }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return square(mean(in[0])); }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return square(mean(in[0], {2}, true)); }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return square(max(in[0], 1)); },
                      In{test::distinct(rng, {2, 3, 2})});
  CHECK_GRADGRADCHECK(
      [](const In& in) {
        return square(broadcast_to(in[0], {2, 3}));
      },
      In{test::uniform(rng, {3}, -2, 2)});
  CHECK_GRADGRADCHECK(
      [](const In& in) {
        return square(sum_to(in[0], {3, 1}));
      },
      In{test::uniform(rng, {2, 3, 2}, -2, 2)});
}

TEST_CASE("gradgradcheck: shape ops") {
  std::mt19937_64 rng(711);
  const auto x = test::uniform(rng, {2, 3}, -2, 2);
  const auto y = test::uniform(rng, {2, 2}, -2, 2);
  CHECK_GRADGRADCHECK([](const In& in) { return square(reshape(in[0], {3, 2})); }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return reshape_infer(in[0], {-1}) * in[1]; },
                      In{x, test::uniform(rng, {6}, -2, 2)});
  CHECK_GRADGRADCHECK([](const In& in) { return square(transpose(in[0])); }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return matmul(transpose(in[0]), in[0]); }, In{x});
  CHECK_GRADGRADCHECK(
      [](const In& in) {
        return square(permute(in[0], {2, 0, 1}));
      },
      In{test::uniform(rng, {2, 3, 2}, -2, 2)});
  CHECK_GRADGRADCHECK([](const In& in) { return square(concat(in, 1)); }, In{x, y});
  CHECK_GRADGRADCHECK(
      [](const In& in) {
        return concat<double>({in[0] * in[0], in[1]}, 0);
      },
      In{test::uniform(rng, {1, 3}, -2, 2), test::uniform(rng, {2, 3}, -2, 2)});
  CHECK_GRADGRADCHECK([](const In& in) { return square(slice(in[0], 1, 1, 3)); }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return square(pad(in[0], 0, 1, 2)); }, In{y});
  CHECK_GRADGRADCHECK(
      [](const In& in) {
        auto s = split(in[0], {1, 2}, 1);
        return s[0] * sum(s[1], {1}, true);
      },
      In{x});
  CHECK_GRADGRADCHECK(
      [](const In& in) {
        auto c = chunk(in[0], 2, 0);
        return c[0] * c[1];
      },
      In{x});
}

TEST_CASE("gradgradcheck: softmax family, indexing, losses") {
  std::mt19937_64 rng(713);
  const auto x = test::uniform(rng, {3, 4}, -2, 2);
  const auto mask = make({1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1}, {3, 4});  // row 1 all masked
  CHECK_GRADGRADCHECK([](const In& in) { return softmax(in[0], -1); }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return softmax(in[0], 0); }, In{x});
  CHECK_GRADGRADCHECK([&](const In& in) { return softmax(in[0], -1, mask); }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return log_softmax(in[0], -1); }, In{x});
  CHECK_GRADGRADCHECK([](const In& in) { return log_softmax(in[0], 0); }, In{x});
  CHECK_GRADGRADCHECK([&](const In& in) { return log_softmax(in[0], 1, mask); }, In{x});

  const auto table = test::uniform(rng, {4, 3}, -2, 2);
  CHECK_GRADGRADCHECK(
      [](const In& in) {
        return square(embedding(in[0], ids({1, 3, 1, 0, 2, 1}, {2, 3})));
      },
      In{table});
  CHECK_GRADGRADCHECK(
      [](const In& in) {
        return square(embedding(in[0], ids({1, 0, 3}, {3}), 0));
      },
      In{table});
  CHECK_GRADGRADCHECK(
      [](const In& in) {
        return square(index_select(in[0], 1, ids({2, 0, 2}, {3})));
      },
      In{table});
  CHECK_GRADGRADCHECK(
      [](const In& in) {
        return square(index_add(in[0], 0, ids({2, 0, 2, 1}, {4}), 3));
      },
      In{table});

  CHECK_GRADGRADCHECK([](const In& in) { return bce_with_logits(in[0], in[1]); },
                      In{test::uniform(rng, {2, 3}, -3, 3), test::uniform(rng, {2, 3}, 0, 1)});
  CHECK_GRADGRADCHECK([](const In& in) { return mse_loss(in[0], in[1]); },
                      In{test::uniform(rng, {2, 3}, -2, 2), test::uniform(rng, {2, 3}, -2, 2)});
  CHECK_GRADGRADCHECK(
      [](const In& in) {
        return softmax_cross_entropy(in[0], ids({2, 0, 3}, {3}));
      },
      In{x});
}

TEST_CASE("gradgradcheck: a MeLU-shaped model, end to end") {
  // Embeddings of an item and a user concatenated, two dense layers with relu, mse against a
  // rating: the path second-order MAML differentiates twice.
  std::mt19937_64 rng(715);
  const auto item_table = test::uniform(rng, {3, 2}, -1, 1);
  const auto user_table = test::uniform(rng, {2, 2}, -1, 1);
  const auto w1 = test::uniform(rng, {4, 3}, -1, 1);
  const auto b1 = test::uniform(rng, {3}, 0.2, 0.6);  // keeps the relu inputs mostly positive
  const auto w2 = test::uniform(rng, {3, 1}, -1, 1);
  const auto rating = make({1, 0.5}, {2});
  auto model = [&](const In& in) {
    auto e =
        concat<double>({embedding(in[0], ids({2, 0}, {2})), embedding(in[1], ids({1, 1}, {2}))},
                       1);                    // [2, 4]
    auto h = relu(matmul(e, in[2]) + in[3]);  // [2, 3]
    auto y = reshape(matmul(h, in[4]), {2});  // [2]
    return mse_loss(y, rating);
  };
  // The relu inputs must stay away from 0 for finite differences to be meaningful.
  {
    NoGradGuard no_grad;
    auto e = concat<double>(
        {embedding(item_table, ids({2, 0}, {2})), embedding(user_table, ids({1, 1}, {2}))}, 1);
    auto pre = matmul(e, w1) + b1;
    for (size_t i = 0; i < pre.numel(); ++i) REQUIRE(std::abs(pre.data()[i]) > 1e-2);
  }
  const In params{item_table, user_table, w1, b1, w2};
  CHECK_GRADCHECK(model, params);
  CHECK_GRADGRADCHECK(model, params);
}
