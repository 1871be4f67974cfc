// Tests of DIN's local activation unit and weighted_sum: the order of the unit's input features,
// masking of padded behaviours with and without softmax, names and counts, gradient checks.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include <xtensor/xview.hpp>

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

Td random_input(const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0.0, 1.0);
  xt::xarray<double> v = xt::xarray<double>::from_shape(shape);
  for (auto& e : v) e = n(rng);
  return Td(std::move(v), true);
}

void check_grad(const CheckedFn& f, const std::vector<Td>& inputs) {
  const GradcheckResult r = gradcheck(f, inputs);
  CHECK_MESSAGE(r.ok, r.report());
}

std::vector<Td> with_params(const Module<double>& m, std::vector<Td> inputs) {
  for (auto& p : m.parameters()) inputs.push_back(p);
  return inputs;
}

// B = 2, L = 3, D = 2: row 0 has two behaviours and one padded slot, row 1 is fully padded.
const xt::xarray<double> kQuery{{1., 2.}, {0.5, -1.}};
const xt::xarray<double> kKeys{{{3., -1.}, {0.5, 1.}, {9., 9.}}, {{1., 1.}, {2., 2.}, {3., 3.}}};
const xt::xarray<double> kMask{{1., 1., 0.}, {0., 0., 0.}};

// A unit with no hidden layer is one Linear on [v_A, e_j, v_A − e_j, v_A ⊙ e_j]: set it to
// w = (1..8), b = 0.5 so each score is a readable dot product.
void set_linear_scores(LocalActivationUnit<double>& unit) {
  auto params = unit.parameters();
  REQUIRE(params.size() == 2);
  params[0].value() = xt::xarray<double>{1., 2., 3., 4., 5., 6., 7., 8.};
  params[0].value().reshape({8, 1});
  params[1].value() = xt::xarray<double>{0.5};
}

}  // namespace

TEST_CASE("LocalActivationUnit: names and parameter counts") {
  std::mt19937_64 rng(1);
  LocalActivationUnit<double> unit(3, rng, {4, 2});
  std::vector<std::string> names;
  for (auto& [name, p] : unit.named_parameters()) names.push_back(name);
  // Linear, Sigmoid, Linear, Sigmoid, Linear(→1)
  CHECK(names == std::vector<std::string>{"mlp.layers.0.weight", "mlp.layers.0.bias",
                                          "mlp.layers.2.weight", "mlp.layers.2.bias",
                                          "mlp.layers.4.weight", "mlp.layers.4.bias"});
  CHECK(unit.parameter_count() == (12 * 4 + 4) + (4 * 2 + 2) + (2 + 1));
  CHECK(unit.named_parameters()[0].second.shape() == Shape{12, 4});

  LocalActivationUnit<double> din(18, rng);  // the paper's 80-40 unit
  CHECK(din.parameter_count() == (72 * 80 + 80) + (80 * 40 + 40) + (40 + 1));
  LocalActivationUnit<double> dice(3, rng, {4}, Activation::dice);
  CHECK(dice.named_parameters()[2].first == "mlp.layers.1.alpha");
  CHECK(dice.named_buffers().size() == 2);
}

TEST_CASE("LocalActivationUnit: input order [v_A, e_j, v_A − e_j, v_A ⊙ e_j], masked, no softmax") {
  std::mt19937_64 rng(2);
  LocalActivationUnit<double> unit(2, rng, {});
  set_linear_scores(unit);
  Td w = unit.forward(tensor(kQuery), tensor(kKeys), tensor(kMask));
  CHECK(w.shape() == Shape{2, 3});
  // q = (1, 2), e = (3, −1): input (1, 2, 3, −1, −2, 3, 3, −2) -> 1 + 4 + 9 − 4 − 10 + 18 + 21 − 16
  // + 0.5 = 23.5. e = (0.5, 1): (1, 2, 0.5, 1, 0.5, 1, 0.5, 2) -> 38.5 + 0.5 = 39.
  CHECK(w.value()(0, 0) == doctest::Approx(23.5));
  CHECK(w.value()(0, 1) == doctest::Approx(39.0));
  // Padded positions are exactly zero.
  CHECK(w.value()(0, 2) == 0.0);
  for (size_t j = 0; j < 3; ++j) CHECK(w.value()(1, j) == 0.0);

  // Without a mask every position is scored: (1, 2, 9, 9, −8, −7, 9, 18) -> 1 + 4 + 27 + 36 − 40
  // − 42 + 63 + 144 + 0.5 = 193.5.
  Td all = unit.forward(tensor(kQuery), tensor(kKeys));
  CHECK(all.value()(0, 2) == doctest::Approx(193.5));
}

TEST_CASE("LocalActivationUnit: masked softmax over L with 1/sqrt(D) scaling") {
  std::mt19937_64 rng(3);
  LocalActivationUnit<double> unit(2, rng, {}, Activation::sigmoid, true);
  set_linear_scores(unit);
  Td w = unit.forward(tensor(kQuery), tensor(kKeys), tensor(kMask));
  // softmax((23.5, 39) / √2) over the two real behaviours; the padded slot and the fully padded
  // row get 0.
  const double w0 = 1.0 / (1.0 + std::exp((39.0 - 23.5) / std::sqrt(2.0)));
  CHECK(w.value()(0, 0) == doctest::Approx(w0).epsilon(1e-12));
  CHECK(w.value()(0, 1) == doctest::Approx(1.0 - w0).epsilon(1e-12));
  CHECK(w.value()(0, 2) == 0.0);
  for (size_t j = 0; j < 3; ++j) CHECK(w.value()(1, j) == 0.0);
}

TEST_CASE("LocalActivationUnit: padded behaviours contribute nothing to the pooled interest") {
  for (bool softmax_on : {false, true}) {
    CAPTURE(softmax_on);
    std::mt19937_64 rng(4);
    LocalActivationUnit<double> unit(2, rng, {5, 3}, Activation::sigmoid, softmax_on);
    Td query = tensor(kQuery), keys = tensor(kKeys), mask = tensor(kMask);
    Td pooled = weighted_sum(unit.forward(query, keys, mask), keys);
    // Change what sits in the padded slots: nothing changes.
    Td other = tensor(kKeys);
    other.value()(0, 2, 0) = -4.0;
    for (size_t j = 0; j < 3; ++j) other.value()(1, j, 1) = 7.0;
    Td pooled2 = weighted_sum(unit.forward(query, other, mask), other);
    CHECK(pooled.value() == pooled2.value());
    for (size_t k = 0; k < 2; ++k) CHECK(pooled.value()(1, k) == 0.0);
    // And no gradient reaches them.
    Td keys_var = tensor(kKeys, true);
    std::vector<Td> g =
        tinyrec::grad(sum(weighted_sum(unit.forward(query, keys_var, mask), keys_var)), {keys_var});
    for (size_t k = 0; k < 2; ++k) {
      CHECK(g[0].value()(0, 2, k) == 0.0);
      for (size_t j = 0; j < 3; ++j) CHECK(g[0].value()(1, j, k) == 0.0);
      CHECK(g[0].value()(0, 0, k) != 0.0);
    }
  }
}

TEST_CASE("weighted_sum: values, shapes and gradcheck") {
  Td w = tensor({{0.5, 2.0, 0.0}});
  Td v = tensor({{{1., 2.}, {3., 4.}, {100., 100.}}});
  CHECK(weighted_sum(w, v).value() == xt::xarray<double>{{6.5, 9.0}});
  check_grad([](const std::vector<Td>& in) { return weighted_sum(in[0], in[1]); },
             {random_input(Shape{3, 4}, 5), random_input(Shape{3, 4, 2}, 6)});
  CHECK_THROWS_WITH_AS(weighted_sum(Td::zeros(Shape{2, 3}), Td::zeros(Shape{2, 4, 5})),
                       "weighted_sum: weights [2, 3] and values [2, 4, 5] must be [B, L] and "
                       "[B, L, D]",
                       std::invalid_argument);
}

TEST_CASE("LocalActivationUnit: gradcheck with padded positions, with and without softmax") {
  const Activation kinds[] = {Activation::sigmoid, Activation::dice, Activation::prelu};
  for (Activation a : kinds)
    for (bool softmax_on : {false, true}) {
      CAPTURE(activation_name(a));
      CAPTURE(softmax_on);
      std::mt19937_64 rng(7);
      LocalActivationUnit<double> unit(3, rng, {4, 3}, a, softmax_on);
      for (auto& p : unit.parameters()) init::normal_(p, rng, 0.5);
      Td query = random_input(Shape{2, 3}, 8);
      Td keys = random_input(Shape{2, 4, 3}, 9);
      Td mask = tensor({{1., 1., 1., 0.}, {1., 0., 0., 0.}});
      check_grad([&](const std::vector<Td>& in) { return unit.forward(in[0], in[1], mask); },
                 with_params(unit, {query, keys}));
      // The pooled interest v_U = Σ_j a_j e_j, as DIN uses it.
      check_grad(
          [&](const std::vector<Td>& in) {
            return weighted_sum(unit.forward(in[0], in[1], mask), in[1]);
          },
          with_params(unit, {query, keys}));
    }
}

// The plain form the unit's forward() avoids: its MLP on the concatenated [B, L, 4D] input, then
// the same masking or softmax.
Td plain_unit(LocalActivationUnit<double>& unit, const Td& query, const Td& keys, const Td& mask) {
  const size_t b = keys.shape()[0], l = keys.shape()[1], d = keys.shape()[2];
  Td v_a = broadcast_to(reshape(query, Shape{b, 1, d}), keys.shape());
  Td scores = reshape(unit.mlp().forward(concat<double>({v_a, keys, v_a - keys, v_a * keys}, -1)),
                      Shape{b, l});
  if (unit.use_softmax()) return softmax(scores * (1.0 / std::sqrt(double(d))), 1, mask);
  return scores * mask;
}

TEST_CASE(
    "LocalActivationUnit: the split first layer is the concatenated form, values and "
    "gradients") {
  const Activation kinds[] = {Activation::prelu, Activation::dice, Activation::sigmoid};
  const std::vector<std::vector<size_t>> hiddens = {{}, {6, 4}};
  for (Activation a : kinds)
    for (const auto& hidden : hiddens)
      for (bool softmax_on : {false, true}) {
        CAPTURE(activation_name(a));
        CAPTURE(hidden.size());
        CAPTURE(softmax_on);
        std::mt19937_64 rng(11);
        LocalActivationUnit<double> unit(3, rng, hidden, a, softmax_on);
        for (auto& p : unit.parameters()) init::normal_(p, rng, 0.5);
        Td query = random_input(Shape{4, 3}, 12);
        Td keys = random_input(Shape{4, 5, 3}, 13);
        Td mask = tensor({{1., 1., 1., 1., 1.},
                          {1., 1., 0., 0., 0.},
                          {1., 0., 0., 0., 0.},
                          {0., 0., 0., 0., 0.}});
        // Both reduced by one fixed random weight per output, so every output has its own share
        // of the gradient.
        Td r = random_input(Shape{4, 5}, 14);
        std::vector<Td> wrt = with_params(unit, {query, keys});
        Td split = unit.forward(query, keys, mask);
        std::vector<Td> g_split = tinyrec::grad(sum(split * r), wrt);
        Td plain = plain_unit(unit, query, keys, mask);
        std::vector<Td> g_plain = tinyrec::grad(sum(plain * r), wrt);
        CHECK(xt::amax(xt::abs(split.value() - plain.value()))() < 1e-12);
        CHECK(xt::amax(xt::abs(plain.value()))() > 1e-3);  // not two zeros agreeing
        REQUIRE(g_split.size() == g_plain.size());
        for (size_t i = 0; i < wrt.size(); ++i) {
          CAPTURE(i);
          CHECK(xt::amax(xt::abs(g_split[i].value() - g_plain[i].value()))() < 1e-12);
        }
        // The first layer's weight gets a gradient in all four of its blocks — except where the
        // scores are that layer's output and go through a softmax: W_1 only shifts every score
        // of a row by the same v_A·W_1, which a softmax ignores.
        const Td& g_w = g_split[2];
        REQUIRE(g_w.shape()[0] == 12);
        for (size_t block = 0; block < 4; ++block) {
          CAPTURE(block);
          const double largest =
              xt::amax(xt::abs(xt::view(g_w.value(), xt::range(3 * block, 3 * block + 3))))();
          if (block == 0 && hidden.empty() && softmax_on)
            CHECK(largest < 1e-12);
          else
            CHECK(largest > 1e-6);
        }
      }
}

TEST_CASE("LocalActivationUnit: shape errors") {
  std::mt19937_64 rng(10);
  LocalActivationUnit<double> unit(2, rng, {3});
  CHECK_THROWS_WITH_AS(unit.forward(Td::zeros(Shape{2, 2}), Td::zeros(Shape{2, 3, 4})),
                       "LocalActivationUnit(2): query [2, 2] and keys [2, 3, 4] must be [B, 2] "
                       "and [B, L, 2]",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(
      unit.forward(Td::zeros(Shape{2, 2}), Td::zeros(Shape{2, 3, 2}), Td::zeros(Shape{2, 4})),
      "LocalActivationUnit: mask [2, 4] must be [B, L] = [2, 3]", std::invalid_argument);
}
