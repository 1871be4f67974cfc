// The fused GRU recurrence (autograd/ops_gru.cpp): hand-computed steps of every mix, padding
// semantics, float64 gradcheck and gradgradcheck of every mix with padding, float32 against
// float64, the vectorised σ and tanh against libm, and shape errors. The fused op against the
// step-by-step composition of nn::GRU and nn::AttentionGRU is in tests/nn/test_gru.cpp.
#include <cmath>
#include <vector>

#include "autograd/vec_math.hpp"
#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::In;
using tinyrec::test::make;

namespace {

const GruMix kMixes[] = {GruMix::gru, GruMix::augru, GruMix::augru_vecatt, GruMix::agru};

const char* mix_name(GruMix mix) {
  switch (mix) {
    case GruMix::gru:
      return "gru";
    case GruMix::augru:
      return "augru";
    case GruMix::augru_vecatt:
      return "augru_vecatt";
    case GruMix::agru:
      return "agru";
  }
  return "?";
}

double sigmoid(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}

// Rows: real throughout but the last step; a hole at step 1 (a padded step inside a row keeps the
// state as well); empty. Step 3 is padded in every row, so it is skipped.
Tensor<double> holey_mask() {
  return make({1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0}, {3, 4});
}

// The op's inputs: x [B, L, D], W [D, 3H], b [3H], U_g [H, 2H], U_h [H, H] and scores in
// (0.05, 0.95).
In random_inputs(uint64_t seed, size_t b = 3, size_t l = 4, size_t h = 3, size_t d = 2) {
  std::mt19937_64 rng(seed);
  return {test::uniform(rng, {b, l, d}, -1.5, 1.5), test::uniform(rng, {d, 3 * h}, -1.2, 1.2),
          test::uniform(rng, {3 * h}, -0.5, 0.5),   test::uniform(rng, {h, 2 * h}, -1.2, 1.2),
          test::uniform(rng, {h, h}, -1.2, 1.2),    test::uniform(rng, {b, l}, 0.05, 0.95)};
}

Tensor<double> run(const In& in, const Tensor<double>& mask, GruMix mix,
                   GruOutput output = GruOutput::all) {
  return gru_recurrence(in[0], in[1], in[2], in[3], in[4], mask,
                        mix == GruMix::gru ? Tensor<double>() : in[5], mix, output);
}

// The inputs gradcheck perturbs: the scores only where the mix reads them.
In checked(const In& in, GruMix mix) {
  return mix == GruMix::gru ? In{in[0], in[1], in[2], in[3], in[4]} : in;
}

}  // namespace

TEST_CASE("gru_recurrence: two steps of every mix by hand (D = H = 1)") {
  // x = [x_0, x_1], W = [w_u, w_r, w_h], b = [b_u, b_r, b_h], U_g = [g_u, g_r], U_h = [k].
  const std::vector<double> x = {0.5, -0.8}, w = {0.6, -0.4, 1.0}, bias = {0.1, -0.1, 0.2};
  const double gu = 0.7, gr = -0.5, k = 0.9, a0 = 0.3, a1 = 0.8;
  for (GruMix mix : kMixes) {
    CAPTURE(mix_name(mix));
    auto step = [&](double h, size_t t, double a) {
      const double u = sigmoid(x[t] * w[0] + bias[0] + h * gu);
      const double r = sigmoid(x[t] * w[1] + bias[1] + h * gr);
      const double c = std::tanh(x[t] * w[2] + bias[2] + r * h * k);
      switch (mix) {
        case GruMix::gru:
          return (1 - u) * h + u * c;
        case GruMix::augru:
          return (1 - a * u) * h + a * u * c;
        case GruMix::augru_vecatt:
          return (1 - a) * u * h + (1 - (1 - a) * u) * c;
        default:
          return (1 - a) * h + a * c;
      }
    };
    const double h1 = step(0.0, 0, a0), h2 = step(h1, 1, a1);
    const auto out =
        gru_recurrence(make(x, {1, 2, 1}), make(w, {1, 3}), make(bias, {3}), make({gu, gr}, {1, 2}),
                       make({k}, {1, 1}), Tensor<double>(), make({a0, a1}, {1, 2}), mix);
    CHECK_TENSOR(out, {1, 3, 1}, {h1, h2, h2});
  }
}

TEST_CASE("gru_recurrence: padded positions are 0, a padded step keeps the state exactly") {
  const In in = random_inputs(11);
  const Tensor<double> mask = holey_mask();
  for (GruMix mix : kMixes) {
    CAPTURE(mix_name(mix));
    const auto out = run(in, mask, mix);  // [3, 5, 3]
    REQUIRE(out.shape() == Shape{3, 5, 3});
    auto at = [&](size_t b, size_t t, size_t k) { return out.value()(b, t, k); };
    for (size_t k = 0; k < 3; ++k) {
      CHECK(at(0, 3, k) == 0.0);
      CHECK(at(0, 4, k) == at(0, 2, k));  // the final state: after the last real step
      CHECK(at(1, 1, k) == 0.0);
      CHECK(at(1, 3, k) == 0.0);
      for (size_t t = 0; t < 5; ++t) CHECK(at(2, t, k) == 0.0);  // empty row: h stays 0
      CHECK(at(0, 0, k) != 0.0);
    }
    // Row 1 skips step 1, so it must equal the same op run on that row alone with step 1 removed.
    xt::xarray<double> x2 = xt::zeros<double>({1, 2, 2}), a2 = xt::zeros<double>({1, 2});
    for (size_t j = 0; j < 2; ++j) {
      x2(0, 0, j) = in[0].value()(1, 0, j);
      x2(0, 1, j) = in[0].value()(1, 2, j);
    }
    a2(0, 0) = in[5].value()(1, 0);
    a2(0, 1) = in[5].value()(1, 2);
    const auto short_row =
        gru_recurrence(Tensor<double>(x2), in[1], in[2], in[3], in[4], Tensor<double>(),
                       mix == GruMix::gru ? Tensor<double>() : Tensor<double>(a2), mix);
    for (size_t k = 0; k < 3; ++k) {
      CHECK(at(1, 0, k) == doctest::Approx(short_row.value()(0, 0, k)).epsilon(1e-14));
      CHECK(at(1, 2, k) == doctest::Approx(short_row.value()(0, 1, k)).epsilon(1e-14));
      CHECK(at(1, 4, k) == at(1, 2, k));
    }
  }
}

TEST_CASE("gru_recurrence: float64 gradcheck of every mix, with padding") {
  const Tensor<double> mask = holey_mask();
  for (GruMix mix : kMixes) {
    CAPTURE(mix_name(mix));
    const In in = random_inputs(21);
    CHECK_GRADCHECK([&](const In&) { return run(in, mask, mix); }, checked(in, mix));
    // No mask: every step real (the path without per-row tests).
    const In full = random_inputs(22, 2, 3, 2);
    CHECK_GRADCHECK([&](const In&) { return run(full, Tensor<double>(), mix); },
                    checked(full, mix));
  }
}

TEST_CASE("gru_recurrence: second order (gradgradcheck) of every mix, with padding") {
  const Tensor<double> mask = make({1, 1, 0, 1, 0, 0}, {2, 3});
  for (GruMix mix : kMixes) {
    CAPTURE(mix_name(mix));
    const In in = random_inputs(31, 2, 3, 2);
    CHECK_GRADGRADCHECK([&](const In&) { return run(in, mask, mix); }, checked(in, mix));
  }
}

TEST_CASE("gru_recurrence: the recorded backward gives the first-order backward's gradients") {
  const Tensor<double> mask = holey_mask();
  for (GruMix mix : kMixes) {
    CAPTURE(mix_name(mix));
    const In first = random_inputs(41), again = random_inputs(41);  // two separate graphs
    std::mt19937_64 rng(42);
    const Tensor<double> w = test::uniform(rng, {3, 5, 3}, -1, 1, false);
    const auto plain = grad(sum(run(first, mask, mix) * w), checked(first, mix));
    const auto recorded = grad(sum(run(again, mask, mix) * w), checked(again, mix), true);
    REQUIRE(recorded.size() == plain.size());
    for (size_t i = 0; i < plain.size(); ++i) {
      CAPTURE(i);
      CHECK(recorded[i].requires_grad());
      REQUIRE(recorded[i].shape() == plain[i].shape());
      for (size_t j = 0; j < plain[i].numel(); ++j)
        CHECK(recorded[i].data()[j] == doctest::Approx(plain[i].data()[j]).epsilon(1e-12));
    }
  }
}

TEST_CASE("gru_recurrence: the states and final_state outputs are the rows of all") {
  const Tensor<double> mask = holey_mask();
  for (GruMix mix : kMixes) {
    CAPTURE(mix_name(mix));
    const In in = random_inputs(61);
    const auto all = run(in, mask, mix);  // [3, 5, 3]
    const auto states = run(in, mask, mix, GruOutput::states);
    const auto last = run(in, mask, mix, GruOutput::final_state);
    REQUIRE(states.shape() == Shape{3, 4, 3});
    REQUIRE(last.shape() == Shape{3, 3});
    for (size_t b = 0; b < 3; ++b)
      for (size_t k = 0; k < 3; ++k) {
        for (size_t t = 0; t < 4; ++t) CHECK(states.value()(b, t, k) == all.value()(b, t, k));
        CHECK(last.value()(b, k) == all.value()(b, 4, k));
      }
    // Their gradients: each mode checked on its own, and equal to those of the matching rows of
    // all (the first-order backward skips the rows no one reads).
    CHECK_GRADCHECK([&](const In&) { return run(in, mask, mix, GruOutput::states); },
                    checked(in, mix));
    CHECK_GRADCHECK([&](const In&) { return run(in, mask, mix, GruOutput::final_state); },
                    checked(in, mix));
    std::mt19937_64 rng(62);
    const Tensor<double> ws = test::uniform(rng, {3, 4, 3}, -1, 1, false),
                         wf = test::uniform(rng, {3, 3}, -1, 1, false);
    const auto narrow = grad(sum(run(in, mask, mix, GruOutput::states) * ws) +
                                 sum(run(in, mask, mix, GruOutput::final_state) * wf),
                             checked(in, mix));
    const auto full =
        grad(sum(run(in, mask, mix) * concat<double>({ws, reshape(wf, {3, 1, 3})}, 1)),
             checked(in, mix));
    for (size_t i = 0; i < full.size(); ++i) {
      CAPTURE(i);
      for (size_t j = 0; j < full[i].numel(); ++j)
        CHECK(narrow[i].data()[j] == doctest::Approx(full[i].data()[j]).epsilon(1e-13));
    }
  }
  // Second order through the narrow outputs (their recorded backward pads g back to all's shape).
  const Tensor<double> small_mask = make({1, 1, 0, 1, 0, 0}, {2, 3});
  const In small = random_inputs(63, 2, 3, 2);
  for (GruOutput output : {GruOutput::states, GruOutput::final_state})
    CHECK_GRADGRADCHECK([&](const In&) { return run(small, small_mask, GruMix::augru, output); },
                        small);
}

TEST_CASE("gru_recurrence: float32 agrees with float64 (vectorised σ and tanh, row tails)") {
  // H = 13: rows of 2H = 26 and H = 13 end in an overlapping vector; D = 2 is shorter than one.
  const size_t b = 5, l = 6, h = 13;
  const In in = random_inputs(51, b, l, h);
  xt::xarray<double> m = xt::ones<double>({b, l});
  m(1, 5) = m(2, 4) = m(2, 5) = m(3, 2) = 0;
  const Tensor<double> mask{m};
  auto to_float = [](const Tensor<double>& x) {
    return Tensor<float>(xt::xarray<float>(xt::cast<float>(x.value())), true);
  };
  for (GruMix mix : kMixes) {
    CAPTURE(mix_name(mix));
    std::vector<Tensor<float>> f;
    for (const auto& x : in) f.push_back(to_float(x));
    const auto out64 = run(in, mask, mix);
    const auto out32 = gru_recurrence(f[0], f[1], f[2], f[3], f[4], to_float(mask).detach(),
                                      mix == GruMix::gru ? Tensor<float>() : f[5], mix);
    REQUIRE(out32.shape() == out64.shape());
    double worst = 0;
    for (size_t i = 0; i < out64.numel(); ++i)
      worst = std::max(worst, std::abs(double(out32.data()[i]) - out64.data()[i]));
    CHECK(worst < 2e-6);
    // Gradients of a weighted sum, float32 against float64.
    std::mt19937_64 rng(52);
    const Tensor<double> w = test::uniform(rng, out64.shape(), -1, 1, false);
    const auto g64 = grad(sum(out64 * w), checked(in, mix));
    const auto g32 =
        grad(sum(out32 * to_float(w).detach()),
             mix == GruMix::gru ? std::vector<Tensor<float>>{f[0], f[1], f[2], f[3], f[4]} : f);
    for (size_t i = 0; i < g64.size(); ++i) {
      CAPTURE(i);
      double err = 0, scale = 0;
      for (size_t j = 0; j < g64[i].numel(); ++j) {
        err = std::max(err, std::abs(double(g32[i].data()[j]) - g64[i].data()[j]));
        scale = std::max(scale, std::abs(g64[i].data()[j]));
      }
      CHECK(err < 1e-5 * std::max(1.0, scale));
    }
  }
}

TEST_CASE("vectorised σ and tanh: within 2e-7 of libm, the same value wherever an element sits") {
  // 8·k + 3 values from −30 to 30: the last eight run as one overlapping vector.
  const size_t n = 8 * 750 + 3;
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = -30.0f + 60.0f * float(i) / float(n - 1);
  x[n - 1] = 0.3f, x[n - 2] = -0.01f, x[n - 3] = 7.0f;
  const std::vector<float> zero(n, 0.0f);
  std::vector<float> s = x, t = x;
  vec::sigmoid_sum(s.data(), zero.data(), zero.data(), n);
  vec::tanh_sum(t.data(), zero.data(), zero.data(), n);
  double worst_s = 0, worst_t = 0, worst_t_rel = 0;
  for (size_t i = 0; i < n; ++i) {
    const double v = x[i];
    worst_s = std::max(worst_s, std::abs(s[i] - 1.0 / (1.0 + std::exp(-v))));
    worst_t = std::max(worst_t, std::abs(t[i] - std::tanh(v)));
    if (v != 0 && std::abs(v) < 0.625)
      worst_t_rel = std::max(worst_t_rel, std::abs(t[i] / std::tanh(v) - 1));
  }
  CHECK(worst_s < 2e-7);
  CHECK(worst_t < 2e-7);
  CHECK(worst_t_rel < 1e-6);  // small arguments keep their relative precision
  // A value alone in a short row (padded to one vector) equals the same value in a full row.
  for (size_t i = 0; i < 8; ++i) {
    std::vector<float> lane(8, x[i * 97]), tail(1, x[i * 97]);
    vec::tanh_sum(lane.data(), zero.data(), zero.data(), 8);
    vec::tanh_sum(tail.data(), zero.data(), zero.data(), 1);
    CHECK(lane[3] == tail[0]);
    lane.assign(8, x[i * 97]), tail.assign(1, x[i * 97]);
    vec::sigmoid_sum(lane.data(), zero.data(), zero.data(), 8);
    vec::sigmoid_sum(tail.data(), zero.data(), zero.data(), 1);
    CHECK(lane[5] == tail[0]);
  }
  // Far out: finite, saturated, never a denormal from σ.
  std::vector<float> far = {-1000, -100, 100, 1000, -1000, -100, 100, 1000}, far_t = far;
  vec::sigmoid_sum(far.data(), zero.data(), zero.data(), 8);
  vec::tanh_sum(far_t.data(), zero.data(), zero.data(), 8);
  for (size_t i = 0; i < 8; ++i) {
    CHECK(std::isnormal(far[i]));
    CHECK(std::abs(far_t[i]) == 1.0f);
  }
  CHECK(far[0] < 1e-30f);
  CHECK(far[3] == 1.0f);
}

TEST_CASE("gru_recurrence: shape errors name the op and the shapes") {
  const In in = random_inputs(61);  // B = 3, L = 4, H = 3, D = 2
  const Tensor<double> none;
  CHECK_THROWS_WITH_AS(
      gru_recurrence(in[0], in[1], in[2], in[4], in[4], none, none, GruMix::gru),
      "gru_recurrence: input [3, 4, 2], input_weight [2, 9], recurrent_gates [3, 3] and "
      "recurrent_candidate [3, 3] must be [B, L, D], [D, 3H], [H, 2H] and [H, H]",
      std::invalid_argument);
  CHECK_THROWS_WITH_AS(
      gru_recurrence(in[1], in[1], in[2], in[3], in[4], none, none, GruMix::gru),
      "gru_recurrence: input [2, 9], input_weight [2, 9], recurrent_gates [3, 6] and "
      "recurrent_candidate [3, 3] must be [B, L, D], [D, 3H], [H, 2H] and [H, H]",
      std::invalid_argument);
  CHECK_THROWS_WITH_AS(gru_recurrence(in[0], in[1], in[4], in[3], in[4], none, none, GruMix::gru),
                       "gru_recurrence: input_bias [3, 3] must be [3H] = [9]",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(
      gru_recurrence(in[0], in[1], in[2], in[3], in[4], make({1, 1, 1}, {3}), none, GruMix::gru),
      "gru_recurrence: mask [3] must be [B, L] = [3, 4]", std::invalid_argument);
  CHECK_THROWS_WITH_AS(gru_recurrence(in[0], in[1], in[2], in[3], in[4], none, none, GruMix::augru),
                       "gru_recurrence: scores (none) must be [B, L] = [3, 4]",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(gru_recurrence(in[0], in[1], in[2], in[3], in[4], none, in[3], GruMix::agru),
                       "gru_recurrence: scores [3, 6] must be [B, L] = [3, 4]",
                       std::invalid_argument);
}
