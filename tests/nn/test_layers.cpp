// Tests of Linear, Embedding, the initializers, ReLU/Sigmoid/PReLU, Dropout and the MLP builder:
// hand-computed values, parameter names and counts, and float64 gradient checks of every layer.
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

// Values in ±[0.2, 1.2]: well away from the kink of relu/PReLU at 0.
Td away_from_zero(const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> mag(0.2, 1.2);
  xt::xarray<double> v = xt::xarray<double>::from_shape(shape);
  for (auto& e : v) e = (rng() & 1 ? 1.0 : -1.0) * mag(rng);
  return Td(std::move(v), true);
}

std::vector<std::string> names_of(const Named<double>& named) {
  std::vector<std::string> out;
  for (const auto& [name, t] : named) out.push_back(name);
  return out;
}

void check_grad(const CheckedFn& f, const std::vector<Td>& inputs) {
  const GradcheckResult r = gradcheck(f, inputs);
  CHECK_MESSAGE(r.ok, r.report());
}

// Every parameter of a module followed by extra inputs: the list gradcheck perturbs.
std::vector<Td> with_params(const Module<double>& m, std::vector<Td> inputs) {
  for (auto& p : m.parameters()) inputs.push_back(p);
  return inputs;
}

// The smallest |pre-activation| a relu/PReLU MLP meets on x: a gradient check is only meaningful
// when no unit sits within the finite-difference step of its kink.
double min_abs_preactivation(MLP<double>& mlp, const Td& x) {
  NoGradGuard no_grad;
  double lo = INFINITY;
  Td h = x;
  for (size_t i = 0; i < mlp.size(); ++i) {
    h = mlp[i].forward(h);
    if (dynamic_cast<Linear<double>*>(&mlp[i]))
      for (size_t k = 0; k < h.numel(); ++k) lo = std::min(lo, std::abs(h.data()[k]));
  }
  return lo;
}

}  // namespace

TEST_CASE("init: same seed gives the same numbers, in float and double alike") {
  std::mt19937_64 a(5), b(5), c(5);
  Td x = Td::zeros(Shape{30, 20});
  Td y = Td::zeros(Shape{30, 20});
  Tensor<float> z = Tensor<float>::zeros(Shape{30, 20});
  init::xavier_uniform_(x, a);
  init::xavier_uniform_(y, b);
  init::xavier_uniform_(z, c);
  const double bound = std::sqrt(6.0 / 50.0);
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < x.numel(); ++i) {
    CHECK(x.data()[i] == y.data()[i]);
    CHECK(z.data()[i] == static_cast<float>(x.data()[i]));
    lo = std::min(lo, x.data()[i]);
    hi = std::max(hi, x.data()[i]);
  }
  CHECK(lo >= -bound);
  CHECK(hi <= bound);
  CHECK(lo < -0.8 * bound);  // 600 draws reach near both ends of the interval
  CHECK(hi > 0.8 * bound);

  init::constant_(x, 0.25);
  for (size_t i = 0; i < x.numel(); ++i) CHECK(x.data()[i] == 0.25);
  init::zeros_(x);
  for (size_t i = 0; i < x.numel(); ++i) CHECK(x.data()[i] == 0.0);

  std::mt19937_64 r(9);
  Td u = Td::zeros(Shape{1000});
  init::uniform_(u, r, 2.0, 3.0);
  double sum = 0;
  for (size_t i = 0; i < u.numel(); ++i) {
    CHECK(u.data()[i] >= 2.0);
    CHECK(u.data()[i] <= 3.0);
    sum += u.data()[i];
  }
  CHECK(sum / 1000 == doctest::Approx(2.5).epsilon(0.02));

  Td n = Td::zeros(Shape{4000});
  init::normal_(n, r, 0.5, 1.0);
  double m = 0, sq = 0;
  for (size_t i = 0; i < n.numel(); ++i) m += n.data()[i];
  m /= 4000;
  for (size_t i = 0; i < n.numel(); ++i) sq += (n.data()[i] - m) * (n.data()[i] - m);
  CHECK(m == doctest::Approx(1.0).epsilon(0.05));
  CHECK(std::sqrt(sq / 4000) == doctest::Approx(0.5).epsilon(0.05));

  CHECK_THROWS_AS(init::xavier_uniform_(Td::zeros(Shape{3}), r), std::invalid_argument);
  CHECK_THROWS_AS(init::uniform_(u, r, 1.0, 0.0), std::invalid_argument);
}

TEST_CASE("Linear: names, counts, values on 2-D and 3-D inputs") {
  std::mt19937_64 rng(1);
  Linear<double> lin(3, 2, rng);
  CHECK(names_of(lin.named_parameters()) == std::vector<std::string>{"weight", "bias"});
  CHECK(lin.parameter_count() == 3 * 2 + 2);
  CHECK(lin.weight().shape() == Shape{3, 2});
  for (size_t i = 0; i < 2; ++i) CHECK(lin.bias().data()[i] == 0.0);

  Td w = lin.weight(), b = lin.bias();
  w.value() = xt::xarray<double>{{1, 2}, {3, 4}, {5, 6}};
  b.value() = xt::xarray<double>{0.5, -1};
  // [1, 0, -1]·W + b = [1 − 5, 2 − 6] + b; [2, 1, 1]·W + b = [2 + 3 + 5, 4 + 4 + 6] + b
  Td y = lin.forward(tensor({{1, 0, -1}, {2, 1, 1}}));
  CHECK(y.shape() == Shape{2, 2});
  CHECK(y.value() == xt::xarray<double>{{-3.5, -5}, {10.5, 13}});
  Td y3 = lin.forward(tensor({{{1, 0, -1}}, {{2, 1, 1}}}));  // [2, 1, 3]
  CHECK(y3.shape() == Shape{2, 1, 2});
  CHECK(y3.value() == xt::xarray<double>{{{-3.5, -5}}, {{10.5, 13}}});
  Td y1 = lin.forward(tensor({2, 1, 1}));  // a single row of rank 1
  CHECK(y1.value() == xt::xarray<double>{10.5, 13});

  CHECK_THROWS_WITH_AS(lin.forward(Td::zeros(Shape{2, 4})),
                       "Linear(3, 2): input of shape [2, 4] must end in an axis of size 3",
                       std::invalid_argument);

  Linear<double> nobias(3, 2, rng, false);
  CHECK(names_of(nobias.named_parameters()) == std::vector<std::string>{"weight"});
  CHECK_FALSE(nobias.bias().defined());
}

TEST_CASE("Linear: same seed, same weights") {
  std::mt19937_64 a(42), b(42), c(43);
  Linear<double> l1(5, 4, a), l2(5, 4, b), l3(5, 4, c);
  CHECK(l1.weight().value() == l2.weight().value());
  CHECK(l1.weight().value() != l3.weight().value());
}

TEST_CASE("Linear: gradcheck on [B, in] and [B, L, in]") {
  std::mt19937_64 rng(2);
  Linear<double> lin(4, 3, rng);
  init::normal_(lin.bias(), rng, 0.5);
  Td x = away_from_zero(Shape{5, 4}, 3);
  check_grad([&](const std::vector<Td>& in) { return lin.forward(in[0]); }, with_params(lin, {x}));
  Td x3 = away_from_zero(Shape{2, 3, 4}, 4);
  check_grad([&](const std::vector<Td>& in) { return lin.forward(in[0]); }, with_params(lin, {x3}));
  Linear<double> nobias(4, 2, rng, false);
  check_grad([&](const std::vector<Td>& in) { return nobias.forward(in[0]); },
             with_params(nobias, {x}));
}

TEST_CASE("Embedding: padding row is zero, looks up zeros and gets no gradient") {
  std::mt19937_64 rng(7);
  Embedding<double> emb(6, 3, rng);
  CHECK(names_of(emb.named_parameters()) == std::vector<std::string>{"weight"});
  CHECK(emb.parameter_count() == 18);
  CHECK(emb.padding_idx() == 0);
  for (size_t k = 0; k < 3; ++k) CHECK(emb.weight().data()[k] == 0.0);
  for (size_t k = 3; k < 18; ++k) CHECK(emb.weight().data()[k] != 0.0);

  // Even if the padding row were changed (say by a checkpoint), a padded position stays zero.
  Td w = emb.weight();
  w.data()[0] = 5.0;
  const Ids ids{{2, 0, 2}, {5, 1, 0}};
  Td e = emb.forward(ids);
  CHECK(e.shape() == Shape{2, 3, 3});
  for (size_t k = 0; k < 3; ++k) {
    CHECK(e.value()(0, 0, k) == w.value()(2, k));
    CHECK(e.value()(0, 1, k) == 0.0);
    CHECK(e.value()(1, 0, k) == w.value()(5, k));
    CHECK(e.value()(1, 2, k) == 0.0);
  }

  // d Σ e / d w_j = (occurrences of j)·1, and nothing for the padding row.
  backward(sum(e));
  const xt::xarray<double> expect{{0, 0, 0}, {1, 1, 1}, {2, 2, 2}, {0, 0, 0}, {0, 0, 0}, {1, 1, 1}};
  CHECK(emb.weight().grad().value() == expect);
  emb.zero_grad();

  check_grad([&](const std::vector<Td>&) { return emb.forward(ids); }, emb.parameters());
  std::vector<Td> gs = tinyrec::grad(sum(emb.forward(ids) * 3.0), emb.parameters());
  for (size_t k = 0; k < 3; ++k) CHECK(gs[0].value()(0, k) == 0.0);

  Embedding<double> nopad(4, 2, rng, -1);
  for (size_t k = 0; k < 2; ++k) CHECK(nopad.weight().data()[k] != 0.0);
  CHECK(nopad.forward(Ids{0}).value() != xt::zeros<double>({1, 2}));

  CHECK_THROWS_AS(Embedding<double>(4, 2, rng, 4), std::invalid_argument);
  CHECK_THROWS_AS(emb.forward(Ids{6}), std::invalid_argument);
}

TEST_CASE("ReLU, Sigmoid and PReLU: values") {
  Td x = tensor({{-2.0, 0.5, 3.0}});
  ReLU<double> r;
  Sigmoid<double> s;
  CHECK(r.forward(x).value() == xt::xarray<double>{{0, 0.5, 3}});
  CHECK(s.forward(x).value()(0, 1) == doctest::Approx(1 / (1 + std::exp(-0.5))));
  CHECK(r.parameter_count() == 0);

  PReLU<double> p(3);
  CHECK(names_of(p.named_parameters()) == std::vector<std::string>{"alpha"});
  CHECK(p.alpha().value() == xt::xarray<double>{0.25, 0.25, 0.25});
  Td a = p.alpha();
  a.value() = xt::xarray<double>{0.1, 0.2, 0.3};
  Td y = p.forward(tensor({{-2.0, 0.5, 3.0}, {1.0, -4.0, -1.0}}));
  CHECK(y.value()(0, 0) == doctest::Approx(-0.2));
  CHECK(y.value()(0, 1) == 0.5);
  CHECK(y.value()(0, 2) == 3.0);
  CHECK(y.value()(1, 0) == 1.0);
  CHECK(y.value()(1, 1) == doctest::Approx(-0.8));
  CHECK(y.value()(1, 2) == doctest::Approx(-0.3));
  // d Σ y / dα_k = Σ over rows of min(x, 0)
  backward(sum(y));
  CHECK(p.alpha().grad().value()(0) == doctest::Approx(-2.0));
  CHECK(p.alpha().grad().value()(1) == doctest::Approx(-4.0));
  CHECK(p.alpha().grad().value()(2) == doctest::Approx(-1.0));
  CHECK_THROWS_AS(p.forward(Td::zeros(Shape{2, 4})), std::invalid_argument);
}

TEST_CASE("PReLU: gradcheck on [B, H] and [B, L, H]") {
  PReLU<double> p(3, 0.3);
  Td alpha = p.alpha();
  alpha.value() = xt::xarray<double>{0.3, -0.2, 0.7};
  check_grad([&](const std::vector<Td>& in) { return p.forward(in[0]); },
             with_params(p, {away_from_zero(Shape{4, 3}, 11)}));
  check_grad([&](const std::vector<Td>& in) { return p.forward(in[0]); },
             with_params(p, {away_from_zero(Shape{2, 5, 3}, 12)}));
}

TEST_CASE("Dropout: identity in eval, inverted dropout in training, seeded") {
  Dropout<double> d(0.25, 99);
  Td x = Td::ones(Shape{200, 50});
  d.eval();
  CHECK(d.forward(x).same(x));
  d.train();
  Td y = d.forward(x);
  size_t zeros = 0;
  for (size_t i = 0; i < y.numel(); ++i) {
    const double v = y.data()[i];
    CHECK((v == 0.0 || v == doctest::Approx(1 / 0.75)));
    zeros += v == 0.0;
  }
  CHECK(static_cast<double>(zeros) / 10000 == doctest::Approx(0.25).epsilon(0.08));
  // Same seed, same mask; the next draw is a different mask.
  Dropout<double> d2(0.25, 99);
  CHECK(d2.forward(x).value() == y.value());
  CHECK(d2.forward(x).value() != y.value());
  d2.seed(99);
  CHECK(d2.forward(x).value() == y.value());

  Dropout<double> all(1.0);
  CHECK(all.forward(x).value() == xt::zeros<double>(x.shape()));
  Dropout<double> none(0.0);
  CHECK(none.forward(x).same(x));
  CHECK_THROWS_AS(Dropout<double>(1.5), std::invalid_argument);
  CHECK_THROWS_AS(Dropout<double>(-0.1), std::invalid_argument);
}

TEST_CASE("Dropout: gradcheck in eval and in training with a fixed mask") {
  Dropout<double> d(0.4, 5);
  Td x = away_from_zero(Shape{6, 4}, 21);
  d.eval();
  check_grad([&](const std::vector<Td>& in) { return d.forward(in[0]) * 1.0; }, {x});
  d.train();
  check_grad(
      [&](const std::vector<Td>& in) {
        d.seed(5);  // the same mask for every evaluation of the finite difference
        return d.forward(in[0]);
      },
      {x});
  // The gradient is the mask itself: 0 or 1/(1 − p).
  d.seed(5);
  Td y = d.forward(x);
  std::vector<Td> g = tinyrec::grad(sum(y), {x});
  for (size_t i = 0; i < x.numel(); ++i)
    CHECK(g[0].data()[i] == doctest::Approx(y.data()[i] / x.data()[i]));
}

TEST_CASE("MLP: layer numbering, names and parameter counts") {
  std::mt19937_64 rng(3);
  MLP<double> plain(5, {4, 2}, rng);
  // Linear, ReLU, Linear, ReLU
  CHECK(plain.size() == 4);
  CHECK(names_of(plain.named_parameters()) ==
        std::vector<std::string>{"layers.0.weight", "layers.0.bias", "layers.2.weight",
                                 "layers.2.bias"});
  CHECK(plain.parameter_count() == 5 * 4 + 4 + 4 * 2 + 2);
  CHECK(plain.out_features() == 2);

  MLP<double> head(5, {4, 1}, rng, Activation::prelu, 0.0, false, false);
  // Linear, PReLU, Linear: the output layer has no activation.
  CHECK(head.size() == 3);
  CHECK(names_of(head.named_parameters()) ==
        std::vector<std::string>{"layers.0.weight", "layers.0.bias", "layers.1.alpha",
                                 "layers.2.weight", "layers.2.bias"});
  CHECK(head.parameter_count() == 5 * 4 + 4 + 4 + 4 + 1);

  MLP<double> full(3, {4, 2}, rng, Activation::dice, 0.5, true, true);
  // Linear, BatchNorm1d, Dice, Dropout for each block.
  CHECK(full.size() == 8);
  CHECK(names_of(full.named_parameters()) ==
        std::vector<std::string>{"layers.0.weight", "layers.0.bias", "layers.1.weight",
                                 "layers.1.bias", "layers.2.alpha", "layers.4.weight",
                                 "layers.4.bias", "layers.5.weight", "layers.5.bias",
                                 "layers.6.alpha"});
  CHECK(names_of(full.named_buffers()) ==
        std::vector<std::string>{"layers.1.running_mean", "layers.1.running_var",
                                 "layers.2.running_mean", "layers.2.running_var",
                                 "layers.5.running_mean", "layers.5.running_var",
                                 "layers.6.running_mean", "layers.6.running_var"});
  CHECK(full.parameter_count() == (12 + 4 + 8 + 4) + (8 + 2 + 4 + 2));
  CHECK(dynamic_cast<Dropout<double>*>(&full[3]) != nullptr);
  // eval() reaches every layer.
  full.eval();
  for (size_t i = 0; i < full.size(); ++i) CHECK_FALSE(full[i].is_training());

  MLP<double> linear_only(3, {2}, rng, Activation::none);
  CHECK(linear_only.size() == 1);

  CHECK_THROWS_AS(MLP<double>(3, {}, rng), std::invalid_argument);
  CHECK_THROWS_AS(MLP<double>(3, {2}, rng, Activation::relu, 1.0), std::invalid_argument);
  CHECK(parse_activation("dice") == Activation::dice);
  CHECK(activation_name(Activation::prelu) == "prelu");
  CHECK_THROWS_WITH_AS(
      parse_activation("gelu"),
      "unknown activation 'gelu'; expected one of none, relu, sigmoid, prelu, dice",
      std::invalid_argument);
}

TEST_CASE("MLP: a hand-computed forward pass") {
  std::mt19937_64 rng(4);
  MLP<double> mlp(2, {2, 1}, rng, Activation::relu, 0.0, false, false);
  auto& l0 = dynamic_cast<Linear<double>&>(mlp[0]);
  auto& l2 = dynamic_cast<Linear<double>&>(mlp[2]);
  Td w0 = l0.weight(), b0 = l0.bias(), w2 = l2.weight(), b2 = l2.bias();
  w0.value() = xt::xarray<double>{{1, -1}, {2, 1}};
  b0.value() = xt::xarray<double>{0, 0.5};
  w2.value() = xt::xarray<double>{3.0, -2.0};
  w2.value().reshape({2, 1});
  b2.value() = xt::xarray<double>{1};
  // x = [1, 1]: h = relu([3, 0.5]) = [3, 0.5], y = 9 − 1 + 1 = 9
  // x = [1, -1]: h = relu([-1, -1.5]) = [0, 0], y = 1
  Td y = mlp.forward(tensor({{1, 1}, {1, -1}}));
  CHECK(y.shape() == Shape{2, 1});
  CHECK(y.value()(0, 0) == 9.0);
  CHECK(y.value()(1, 0) == 1.0);
}

TEST_CASE("MLP: gradcheck with each activation") {
  const Activation kinds[] = {Activation::none, Activation::relu, Activation::sigmoid,
                              Activation::prelu, Activation::dice};
  for (Activation a : kinds) {
    CAPTURE(activation_name(a));
    std::mt19937_64 rng(17);
    MLP<double> mlp(3, {4, 3, 1}, rng, a, 0.0, false, false);
    for (auto& p : mlp.parameters()) init::normal_(p, rng, 0.6);  // biases and α too
    Td x = away_from_zero(Shape{6, 3}, 23);
    if (a == Activation::relu || a == Activation::prelu)
      REQUIRE(min_abs_preactivation(mlp, x) > 1e-3);
    check_grad([&](const std::vector<Td>& in) { return mlp.forward(in[0]); },
               with_params(mlp, {x}));
  }
}

TEST_CASE("MLP: gradcheck with batchnorm in training and dropout with a fixed mask") {
  std::mt19937_64 rng(19);
  MLP<double> mlp(3, {4, 2}, rng, Activation::sigmoid, 0.3, true, true);
  for (auto& p : mlp.parameters()) init::normal_(p, rng, 0.6);
  auto& drop0 = dynamic_cast<Dropout<double>&>(mlp[3]);
  auto& drop1 = dynamic_cast<Dropout<double>&>(mlp[7]);
  Td x = away_from_zero(Shape{5, 3}, 29);
  check_grad(
      [&](const std::vector<Td>& in) {
        drop0.seed(1);
        drop1.seed(2);
        return mlp.forward(in[0]);
      },
      with_params(mlp, {x}));
  mlp.eval();
  check_grad([&](const std::vector<Td>& in) { return mlp.forward(in[0]); }, with_params(mlp, {x}));
}

TEST_CASE("MLP: second-order gradients (gradgradcheck) with sigmoid and with Dice in training") {
  for (Activation a : {Activation::sigmoid, Activation::dice}) {
    CAPTURE(activation_name(a));
    std::mt19937_64 rng(31);
    MLP<double> mlp(2, {3, 1}, rng, a, 0.0, false, false);
    for (auto& p : mlp.parameters()) init::normal_(p, rng, 0.6);
    Td x = away_from_zero(Shape{4, 2}, 37);
    const GradcheckResult r = gradgradcheck(
        [&](const std::vector<Td>& in) { return mlp.forward(in[0]); }, with_params(mlp, {x}));
    CHECK_MESSAGE(r.ok, r.report());
  }
}
