// Tests of DIEN's recurrent layers (nn/gru.hpp): GRUCell against hand-computed values, the masked
// GRU runner and the attention GRUs against a loop reference, invariance to padding, the AUGRU
// identities, float64 gradient checks of every layer, the bilinear attention and shape errors.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "autograd/autograd.hpp"
#include "nn/gru.hpp"
#include "nn/init.hpp"

using namespace tinyrec;
using namespace tinyrec::nn;

namespace {

using Td = Tensor<double>;
using Vec = std::vector<double>;

Td tensor(xt::xarray<double> v, bool requires_grad = false) {
  return Td(std::move(v), requires_grad);
}

Td random_input(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  xt::xarray<double> v = xt::xarray<double>::from_shape(shape);
  for (auto& e : v) e = u(rng);
  return Td(std::move(v), true);
}

// Rows of lengths `lengths`, padded on the right to L.
Td length_mask(const std::vector<size_t>& lengths, size_t l) {
  xt::xarray<double> m = xt::zeros<double>({lengths.size(), l});
  for (size_t b = 0; b < lengths.size(); ++b)
    for (size_t t = 0; t < lengths[b]; ++t) m(b, t) = 1.0;
  return tensor(m);
}

void check_grad(const CheckedFn& f, const std::vector<Td>& inputs) {
  const GradcheckResult r = gradcheck(f, inputs);
  CHECK_MESSAGE(r.ok, r.report());
}

std::vector<Td> with_params(const Module<double>& m, std::vector<Td> inputs) {
  for (auto& p : m.parameters()) inputs.push_back(p);
  return inputs;
}

// Glorot weights are small and the biases zero, which leaves the gates near 0.5 and the
// recurrence nearly linear; larger random values exercise the nonlinearities in the checks.
void randomize(Module<double>& m, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (auto& p : m.parameters()) init::normal_(p, rng, 0.6);
}

Td param(const Module<double>& m, const std::string& name) {
  for (const auto& [n, p] : m.named_parameters())
    if (n == name) return p;
  FAIL("no parameter " << name);
  return {};
}

// A loop reference written from the formulas: the cell's parameters read out of the module.
struct Reference {
  size_t d, h;
  xt::xarray<double> w, b, ug, uh;  // [D, 3H], [3H], [H, 2H], [H, H]

  explicit Reference(const Module<double>& cell)
      : d(param(cell, "input.weight").shape()[0]),
        h(param(cell, "recurrent_candidate.weight").shape()[0]),
        w(param(cell, "input.weight").value()),
        b(param(cell, "input.bias").value()),
        ug(param(cell, "recurrent_gates.weight").value()),
        uh(param(cell, "recurrent_candidate.weight").value()) {}

  static double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

  // u and h̃ of one step, TF's form: h̃ = tanh(W_h x + U_h (r ⊙ h) + b_h).
  void gates(const Vec& x, const Vec& hp, Vec& u, Vec& c) const {
    Vec r(h);
    u.assign(h, 0.0);
    c.assign(h, 0.0);
    for (size_t k = 0; k < h; ++k) {
      double zu = b(k), zr = b(h + k);
      for (size_t i = 0; i < d; ++i) zu += x[i] * w(i, k), zr += x[i] * w(i, h + k);
      for (size_t i = 0; i < h; ++i) zu += hp[i] * ug(i, k), zr += hp[i] * ug(i, h + k);
      u[k] = sigmoid(zu);
      r[k] = sigmoid(zr);
    }
    for (size_t k = 0; k < h; ++k) {
      double z = b(2 * h + k);
      for (size_t i = 0; i < d; ++i) z += x[i] * w(i, 2 * h + k);
      for (size_t i = 0; i < h; ++i) z += r[i] * hp[i] * uh(i, k);
      c[k] = std::tanh(z);
    }
  }

  // One step of `kind` with score a (ignored by the plain GRU, which is kind = nullptr).
  Vec step(const Vec& x_in, const Vec& hp, const AttentionGRUKind* kind, double a) const {
    Vec x = x_in;
    if (kind && *kind == AttentionGRUKind::aigru)
      for (auto& e : x) e *= a;
    Vec u, c, out(h);
    gates(x, hp, u, c);
    for (size_t k = 0; k < h; ++k) {
      if (!kind || *kind == AttentionGRUKind::aigru) {
        out[k] = (1 - u[k]) * hp[k] + u[k] * c[k];
      } else if (*kind == AttentionGRUKind::augru) {
        const double ut = a * u[k];
        out[k] = (1 - ut) * hp[k] + ut * c[k];
      } else if (*kind == AttentionGRUKind::augru_vecatt) {
        const double ut = (1 - a) * u[k];
        out[k] = ut * hp[k] + (1 - ut) * c[k];
      } else {
        out[k] = (1 - a) * hp[k] + a * c[k];
      }
    }
    return out;
  }

  // Every state of row `row` (padded steps keep the state) and the final one.
  std::vector<Vec> run(const Td& x, const Td& mask, size_t row, const AttentionGRUKind* kind,
                       const Td& scores) const {
    std::vector<Vec> states;
    Vec hp(h, 0.0);
    for (size_t t = 0; t < x.shape()[1]; ++t) {
      Vec xt(d);
      for (size_t i = 0; i < d; ++i) xt[i] = x.value()(row, t, i);
      const double a = scores.defined() ? scores.value()(row, t) : 1.0;
      if (mask.value()(row, t) != 0.0) hp = step(xt, hp, kind, a);
      states.push_back(hp);
    }
    return states;
  }
};

const AttentionGRUKind kKinds[] = {AttentionGRUKind::augru, AttentionGRUKind::augru_vecatt,
                                   AttentionGRUKind::aigru, AttentionGRUKind::agru};

}  // namespace

TEST_CASE("GRUCell: names, shapes and counts; GRU and AttentionGRU nest it as 'cell'") {
  std::mt19937_64 rng(1);
  GRUCell<double> cell(3, 4, rng);
  std::vector<std::string> names;
  for (const auto& [name, p] : cell.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"input.weight", "input.bias", "recurrent_gates.weight",
                                          "recurrent_candidate.weight"});
  CHECK(param(cell, "input.weight").shape() == Shape{3, 12});
  CHECK(param(cell, "recurrent_gates.weight").shape() == Shape{4, 8});
  CHECK(param(cell, "recurrent_candidate.weight").shape() == Shape{4, 4});
  CHECK(cell.parameter_count() == 3 * 12 + 12 + 4 * 8 + 4 * 4);
  for (size_t k = 0; k < 12; ++k) CHECK(param(cell, "input.bias").value()(k) == 0.0);
  // Glorot bound √(6 / (fan_in + fan_out)) of each matrix.
  for (const auto& [name, p] : cell.named_parameters()) {
    if (p.dim() != 2) continue;
    const double bound = std::sqrt(6.0 / static_cast<double>(p.shape()[0] + p.shape()[1]));
    for (size_t i = 0; i < p.numel(); ++i) CHECK(std::abs(p.data()[i]) <= bound);
  }

  GRU<double> gru(3, 4, rng);
  CHECK(gru.named_parameters()[0].first == "cell.input.weight");
  CHECK(gru.parameter_count() == cell.parameter_count());
  AttentionGRU<double> augru(3, 4, rng);
  CHECK(augru.named_parameters()[3].first == "cell.recurrent_candidate.weight");
  CHECK(augru.kind() == AttentionGRUKind::augru);
  BilinearAttention<double> att(4, 5, rng);
  CHECK(att.named_parameters().size() == 1);
  CHECK(att.weight().shape() == Shape{4, 5});

  // Same seed, same weights, in float and double alike.
  std::mt19937_64 r1(7), r2(7);
  GRU<double> a(2, 3, r1);
  GRU<float> f(2, 3, r2);
  for (size_t i = 0; i < a.parameters().size(); ++i)
    for (size_t k = 0; k < a.parameters()[i].numel(); ++k)
      CHECK(f.parameters()[i].data()[k] == static_cast<float>(a.parameters()[i].data()[k]));

  CHECK(parse_attention_gru_kind("augru_vecatt") == AttentionGRUKind::augru_vecatt);
  for (AttentionGRUKind k : kKinds)
    CHECK(parse_attention_gru_kind(attention_gru_kind_name(k)) == k);
  CHECK_THROWS_WITH_AS(parse_attention_gru_kind("lstm"),
                       "unknown attention GRU 'lstm': expected augru, augru_vecatt, aigru or agru",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(GRUCell<double>(0, 3, rng), "GRUCell: sizes must be positive, got (0, 3)",
                       std::invalid_argument);
}

TEST_CASE("GRUCell: a hand-computed step, with the reset gate applied before U_h (TF's form)") {
  std::mt19937_64 rng(2);
  GRUCell<double> cell(2, 2, rng);
  // Columns u1 u2 | r1 r2 | h̃1 h̃2.
  param(cell, "input.weight").value() =
      xt::xarray<double>{{0.5, -0.3, 0.2, 0.4, 0.7, -0.6}, {-0.1, 0.8, -0.5, 0.3, 0.2, 0.9}};
  param(cell, "input.bias").value() = xt::xarray<double>{0.1, -0.2, 0.05, 0.0, -0.1, 0.2};
  param(cell, "recurrent_gates.weight").value() =
      xt::xarray<double>{{0.3, -0.4, 0.6, -0.2}, {0.1, 0.5, -0.3, 0.7}};
  param(cell, "recurrent_candidate.weight").value() = xt::xarray<double>{{0.4, -0.8}, {0.9, 0.2}};
  const Td x = tensor({{1.0, -2.0}}), h = tensor({{0.5, -0.25}});
  const Td out = cell.forward(x, h);
  REQUIRE(out.shape() == Shape{1, 2});

  // By hand: W x + b = (0.8, −2.1 | 1.25, −0.2 | 0.2, −2.2) and h·U_g = (0.125, −0.325 | 0.375,
  // −0.275), so u = σ(0.925, −2.425) = (0.71606, 0.08129), r = σ(1.625, −0.475) = (0.83548,
  // 0.38343); r ⊙ h = (0.41774, −0.09586), whose ·U_h is (0.08083, −0.35336), so h̃ = tanh(0.28083,
  // −2.55336) = (0.27367, −0.98796); h_t = (1 − u)·h + u·h̃.
  const double u0 = 1 / (1 + std::exp(-0.925)), u1 = 1 / (1 + std::exp(2.425));
  const double r0 = 1 / (1 + std::exp(-1.625)), r1 = 1 / (1 + std::exp(0.475));
  const double c0 = std::tanh(0.2 + r0 * 0.5 * 0.4 + r1 * -0.25 * 0.9);
  const double c1 = std::tanh(-2.2 + r0 * 0.5 * -0.8 + r1 * -0.25 * 0.2);
  CHECK(out.value()(0, 0) == doctest::Approx((1 - u0) * 0.5 + u0 * c0).epsilon(1e-12));
  CHECK(out.value()(0, 1) == doctest::Approx((1 - u1) * -0.25 + u1 * c1).epsilon(1e-12));
  CHECK(out.value()(0, 0) == doctest::Approx(0.3379325384032859).epsilon(1e-12));
  CHECK(out.value()(0, 1) == doctest::Approx(-0.30998597292928715).epsilon(1e-12));
  // The other convention, tanh(W_h x + r ⊙ (U_h h) + b_h), would give 0.26887 for the first unit.
  CHECK(std::abs(out.value()(0, 0) - 0.26887149165719515) > 0.05);

  // The loop reference agrees on a random batch.
  randomize(cell, 3);
  const Td xs = random_input(Shape{3, 2}, 4), hs = random_input(Shape{3, 2}, 5);
  const Td ys = cell.forward(xs, hs);
  const Reference ref(cell);
  for (size_t b = 0; b < 3; ++b) {
    const Vec want = ref.step({xs.value()(b, 0), xs.value()(b, 1)},
                              {hs.value()(b, 0), hs.value()(b, 1)}, nullptr, 1.0);
    for (size_t k = 0; k < 2; ++k)
      CHECK(ys.value()(b, k) == doctest::Approx(want[k]).epsilon(1e-12));
  }
}

TEST_CASE("GRU: masked runner against the loop reference; padded outputs are zero") {
  std::mt19937_64 rng(6);
  GRU<double> gru(3, 4, rng);
  randomize(gru, 7);
  const size_t l = 5;
  const Td x = random_input(Shape{3, l, 3}, 8);
  const Td mask = length_mask({5, 2, 1}, l);
  const GRUOutput<double> out = gru.forward(x, mask);
  REQUIRE(out.states.shape() == Shape{3, l, 4});
  REQUIRE(out.final_state.shape() == Shape{3, 4});
  const Reference ref(gru.cell());
  for (size_t b = 0; b < 3; ++b) {
    const std::vector<Vec> want = ref.run(x, mask, b, nullptr, {});
    for (size_t t = 0; t < l; ++t)
      for (size_t k = 0; k < 4; ++k) {
        const double expect = mask.value()(b, t) != 0.0 ? want[t][k] : 0.0;
        CHECK(out.states.value()(b, t, k) == doctest::Approx(expect).epsilon(1e-12));
      }
    for (size_t k = 0; k < 4; ++k)
      CHECK(out.final_state.value()(b, k) == doctest::Approx(want[l - 1][k]).epsilon(1e-12));
  }
  // The final state is the state at the last real step.
  for (size_t k = 0; k < 4; ++k) {
    CHECK(out.final_state.value()(1, k) == out.states.value()(1, 1, k));
    CHECK(out.final_state.value()(2, k) == out.states.value()(2, 0, k));
  }
  // Without a mask every step is real.
  const GRUOutput<double> all = gru.forward(x);
  const std::vector<Vec> want = ref.run(x, length_mask({l, l, l}, l), 2, nullptr, {});
  for (size_t k = 0; k < 4; ++k)
    CHECK(all.final_state.value()(2, k) == doctest::Approx(want[l - 1][k]).epsilon(1e-12));
  // A float GRU from the same seed computes the same thing.
  std::mt19937_64 r1(9), r2(9);
  GRU<double> gd(3, 4, r1);
  GRU<float> gf(3, 4, r2);
  Tensor<float> xf(xt::xarray<float>(x.value()));
  Tensor<float> mf(xt::xarray<float>(mask.value()));
  const Td sd = gd.forward(x, mask).states;
  const Tensor<float> sf = gf.forward(xf, mf).states;
  for (size_t i = 0; i < sd.numel(); ++i)
    CHECK(sf.data()[i] == doctest::Approx(sd.data()[i]).epsilon(1e-5));
}

TEST_CASE("AttentionGRU: every kind against the loop reference, with padding") {
  for (AttentionGRUKind kind : kKinds) {
    CAPTURE(attention_gru_kind_name(kind));
    std::mt19937_64 rng(10);
    AttentionGRU<double> layer(3, 4, rng, kind);
    randomize(layer, 11);
    const Td x = random_input(Shape{3, 4, 3}, 12);
    const Td a = random_input(Shape{3, 4}, 13, 0.0, 1.0);
    const Td mask = length_mask({4, 2, 1}, 4);
    const Td out = layer.forward(x, a, mask);
    REQUIRE(out.shape() == Shape{3, 4});
    const Reference ref(layer.cell());
    for (size_t b = 0; b < 3; ++b) {
      const Vec want = ref.run(x, mask, b, &kind, a).back();
      for (size_t k = 0; k < 4; ++k)
        CHECK(out.value()(b, k) == doctest::Approx(want[k]).epsilon(1e-12));
    }
  }
}

// Values and gradients of two computations of the same function must agree to 1e-12.
void check_same(const std::vector<Td>& got, const std::vector<Td>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    REQUIRE(got[i].shape() == want[i].shape());
    for (size_t j = 0; j < got[i].numel(); ++j)
      CHECK(got[i].data()[j] == doctest::Approx(want[i].data()[j]).epsilon(1e-12));
  }
}

Td weights(const Shape& shape, uint64_t seed) {
  return random_input(shape, seed).detach();
}

TEST_CASE("GRU: the fused recurrence equals the composed reference, values and every gradient") {
  std::mt19937_64 rng(100);
  GRU<double> gru(3, 4, rng);
  randomize(gru, 101);
  // Row 1 has a hole (a padded step inside the row), row 2 is empty, the last step is padded in
  // every row, and the composed runner skips it.
  const Td mask = tensor({{1, 1, 1, 1, 0}, {1, 0, 1, 0, 0}, {0, 0, 0, 0, 0}});
  const Td x = random_input(Shape{3, 5, 3}, 102);
  const Td ws = weights(Shape{3, 5, 4}, 103), wf = weights(Shape{3, 4}, 104);
  std::vector<Td> inputs = with_params(gru, {x});
  auto run = [&](bool fused) {
    const GRUOutput<double> out = fused ? gru.forward(x, mask) : gru.forward_composed(x, mask);
    std::vector<Td> got = {out.states, out.final_state};
    for (const Td& g : grad(sum(out.states * ws) + sum(out.final_state * wf), inputs))
      got.push_back(g);
    return got;
  };
  check_same(run(true), run(false));
  // Without a mask.
  const GRUOutput<double> f = gru.forward(x), c = gru.forward_composed(x);
  check_same({f.states, f.final_state}, {c.states, c.final_state});
}

TEST_CASE("AttentionGRU: every kind fused equals the composed reference, values and gradients") {
  const Td mask = tensor({{1, 1, 1, 1, 0}, {1, 0, 1, 0, 0}, {0, 0, 0, 0, 0}});
  for (AttentionGRUKind kind : kKinds) {
    CAPTURE(attention_gru_kind_name(kind));
    std::mt19937_64 rng(110);
    AttentionGRU<double> layer(3, 4, rng, kind);
    randomize(layer, 111);
    const Td x = random_input(Shape{3, 5, 3}, 112);
    const Td a = random_input(Shape{3, 5}, 113, 0.05, 0.95);
    const Td w = weights(Shape{3, 4}, 114);
    std::vector<Td> inputs = with_params(layer, {x, a});
    auto run = [&](bool fused) {
      const Td out = fused ? layer.forward(x, a, mask) : layer.forward_composed(x, a, mask);
      std::vector<Td> got = {out};
      for (const Td& g : grad(sum(out * w), inputs)) got.push_back(g);
      return got;
    };
    check_same(run(true), run(false));
  }
}

TEST_CASE("GRU and AttentionGRU: padding changes nothing") {
  // Row 0 has two real steps; padded to L = 3 and to L = 7 with different junk in its padded
  // slots, beside a second row that is real throughout (so the padded steps of row 0 do run).
  const size_t d = 3, n = 4;
  const Td short_x = random_input(Shape{2, 3, d}, 20, -3.0, 3.0);
  Td long_x = random_input(Shape{2, 7, d}, 21, -3.0, 3.0);
  for (size_t t = 0; t < 2; ++t)
    for (size_t i = 0; i < d; ++i) long_x.value()(0, t, i) = short_x.value()(0, t, i);
  const Td short_a = random_input(Shape{2, 3}, 22, 0.0, 1.0);
  Td long_a = random_input(Shape{2, 7}, 23, -5.0, 5.0);
  for (size_t t = 0; t < 2; ++t) long_a.value()(0, t) = short_a.value()(0, t);
  const Td short_mask = length_mask({2, 3}, 3), long_mask = length_mask({2, 7}, 7);

  std::mt19937_64 rng(24);
  GRU<double> gru(d, n, rng);
  randomize(gru, 25);
  const GRUOutput<double> s = gru.forward(short_x, short_mask);
  const GRUOutput<double> l = gru.forward(long_x, long_mask);
  for (size_t k = 0; k < n; ++k) {
    CHECK(std::abs(s.final_state.value()(0, k) - l.final_state.value()(0, k)) <= 1e-12);
    for (size_t t = 0; t < 2; ++t)
      CHECK(std::abs(s.states.value()(0, t, k) - l.states.value()(0, t, k)) <= 1e-12);
    for (size_t t = 2; t < 7; ++t) CHECK(l.states.value()(0, t, k) == 0.0);
  }
  // Padded inputs get no gradient.
  const Td gx = tinyrec::grad(sum(gru.forward(long_x, long_mask).final_state), {long_x})[0];
  for (size_t t = 2; t < 7; ++t)
    for (size_t i = 0; i < d; ++i) CHECK(gx.value()(0, t, i) == 0.0);

  for (AttentionGRUKind kind : kKinds) {
    CAPTURE(attention_gru_kind_name(kind));
    std::mt19937_64 r(26);
    AttentionGRU<double> layer(d, n, r, kind);
    randomize(layer, 27);
    const Td fs = layer.forward(short_x, short_a, short_mask);
    const Td fl = layer.forward(long_x, long_a, long_mask);
    for (size_t k = 0; k < n; ++k) CHECK(std::abs(fs.value()(0, k) - fl.value()(0, k)) <= 1e-12);
  }
}

TEST_CASE("AUGRU: a score of 0 keeps the state exactly") {
  std::mt19937_64 rng(30);
  AttentionGRU<double> augru(3, 4, rng);
  randomize(augru, 31);
  const Td x = random_input(Shape{1, 3, 3}, 32);
  Td a = random_input(Shape{1, 3}, 33, 0.2, 1.0);
  // With a_1 = 0, step 1 is the identity: the same as step 1 being padding.
  a.value()(0, 1) = 0.0;
  const Td kept = augru.forward(x, a, length_mask({2}, 3));
  const Td skipped = augru.forward(x, a, length_mask({1}, 3));
  for (size_t k = 0; k < 4; ++k) CHECK(kept.value()(0, k) == skipped.value()(0, k));
  // And the step after it continues from h'_0, as if x_1 were not there.
  const Td x02 = tensor({{{x.value()(0, 0, 0), x.value()(0, 0, 1), x.value()(0, 0, 2)},
                          {x.value()(0, 2, 0), x.value()(0, 2, 1), x.value()(0, 2, 2)}}});
  const Td a02 = tensor({{a.value()(0, 0), a.value()(0, 2)}});
  const Td full = augru.forward(x, a);
  const Td without = augru.forward(x02, a02);
  for (size_t k = 0; k < 4; ++k)
    CHECK(std::abs(full.value()(0, k) - without.value()(0, k)) <= 1e-12);
}

TEST_CASE("AUGRU identities: scores of 1 give the plain GRU; the authors' form at 0 is TF's GRU") {
  const size_t d = 3, n = 4;
  const Td x = random_input(Shape{3, 5, d}, 40);
  const Td mask = length_mask({5, 3, 1}, 5);
  const Td ones = Td::ones(Shape{3, 5}), zeros = Td::zeros(Shape{3, 5});
  std::mt19937_64 r1(41), r2(41), r3(41), r4(41);
  GRU<double> gru(d, n, r1);  // the same seed draws the same cell in every layer
  AttentionGRU<double> augru(d, n, r2, AttentionGRUKind::augru);
  AttentionGRU<double> aigru(d, n, r3, AttentionGRUKind::aigru);
  AttentionGRU<double> vecatt(d, n, r4, AttentionGRUKind::augru_vecatt);
  const Td plain = gru.forward(x, mask).final_state;
  const Td gated = augru.forward(x, ones, mask);
  const Td scaled = aigru.forward(x, ones, mask);
  for (size_t i = 0; i < plain.numel(); ++i) {
    CHECK(std::abs(gated.data()[i] - plain.data()[i]) <= 1e-14);
    CHECK(std::abs(scaled.data()[i] - plain.data()[i]) <= 1e-14);
  }
  // VecAttGRUCell with a = 0 is h = u·h + (1 − u)·h̃: the paper's GRU with 1 − u in place of u,
  // i.e. with the u columns of W, b and U_u negated (σ(−z) = 1 − σ(z)).
  for (const char* name : {"cell.input.weight", "cell.input.bias", "cell.recurrent_gates.weight"}) {
    Td p = param(gru, name);
    const size_t cols = p.shape().back(), rows = p.numel() / cols;
    for (size_t i = 0; i < rows; ++i)
      for (size_t k = 0; k < n; ++k) p.data()[i * cols + k] *= -1.0;
  }
  const Td flipped = gru.forward(x, mask).final_state;
  const Td tf_form = vecatt.forward(x, zeros, mask);
  for (size_t i = 0; i < plain.numel(); ++i)
    CHECK(std::abs(tf_form.data()[i] - flipped.data()[i]) <= 1e-12);
}

TEST_CASE("BilinearAttention: eq. (7) values, masked softmax over real positions") {
  std::mt19937_64 rng(50);
  BilinearAttention<double> att(3, 2, rng);
  const Td states = random_input(Shape{3, 4, 3}, 51);
  const Td query = random_input(Shape{3, 2}, 52);
  const Td mask = length_mask({4, 2, 0}, 4);
  const Td a = att.forward(states, query, mask);
  REQUIRE(a.shape() == Shape{3, 4});
  const auto& w = att.weight().value();
  for (size_t b = 0; b < 2; ++b) {
    const size_t len = b == 0 ? 4 : 2;
    Vec logit(len);
    double total = 0;
    for (size_t t = 0; t < len; ++t) {
      for (size_t i = 0; i < 3; ++i)
        for (size_t j = 0; j < 2; ++j)
          logit[t] += states.value()(b, t, i) * w(i, j) * query.value()(b, j);
      total += std::exp(logit[t]);
    }
    for (size_t t = 0; t < len; ++t)
      CHECK(a.value()(b, t) == doctest::Approx(std::exp(logit[t]) / total).epsilon(1e-12));
    for (size_t t = len; t < 4; ++t) CHECK(a.value()(b, t) == 0.0);
  }
  for (size_t t = 0; t < 4; ++t) CHECK(a.value()(2, t) == 0.0);  // a row with no behaviour
  // Without a mask every position counts.
  const Td all = att.forward(states, query);
  double total = 0;
  for (size_t t = 0; t < 4; ++t) total += all.value()(1, t);
  CHECK(total == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("GRUCell and GRU: gradcheck w.r.t. inputs and every parameter") {
  std::mt19937_64 rng(60);
  GRUCell<double> cell(3, 4, rng);
  randomize(cell, 61);
  check_grad([&](const std::vector<Td>& in) { return cell.forward(in[0], in[1]); },
             with_params(cell, {random_input(Shape{3, 3}, 62), random_input(Shape{3, 4}, 63)}));

  GRU<double> gru(3, 4, rng);
  randomize(gru, 64);
  const Td mask = length_mask({4, 2, 1}, 4);
  // Every state and the final state, so both outputs' gradients are checked.
  check_grad(
      [&](const std::vector<Td>& in) {
        const GRUOutput<double> out = gru.forward(in[0], mask);
        return concat<double>({reshape(out.states, Shape{3, 16}), out.final_state}, 1);
      },
      with_params(gru, {random_input(Shape{3, 4, 3}, 65)}));
  check_grad([&](const std::vector<Td>& in) { return gru.forward(in[0]).final_state; },
             with_params(gru, {random_input(Shape{2, 3, 3}, 66)}));
}

TEST_CASE("GRU: second-order gradients (gradgradcheck) with padding") {
  std::mt19937_64 rng(67);
  GRU<double> gru(2, 2, rng);
  randomize(gru, 68);
  const Td mask = length_mask({3, 1}, 3);
  const GradcheckResult r =
      gradgradcheck([&](const std::vector<Td>& in) { return gru.forward(in[0], mask).final_state; },
                    with_params(gru, {random_input(Shape{2, 3, 2}, 69)}));
  CHECK_MESSAGE(r.ok, r.report());
}

TEST_CASE("AttentionGRU (AUGRU both orientations, AIGRU, AGRU): gradcheck with padding") {
  for (AttentionGRUKind kind : kKinds) {
    CAPTURE(attention_gru_kind_name(kind));
    std::mt19937_64 rng(70);
    AttentionGRU<double> layer(3, 4, rng, kind);
    randomize(layer, 71);
    const Td mask = length_mask({4, 2, 1}, 4);
    check_grad([&](const std::vector<Td>& in) { return layer.forward(in[0], in[1], mask); },
               with_params(layer, {random_input(Shape{3, 4, 3}, 72),
                                   random_input(Shape{3, 4}, 73, 0.05, 0.95)}));
  }
}

TEST_CASE("BilinearAttention: gradcheck with padding, and DIEN's chain GRU -> attention -> AUGRU") {
  std::mt19937_64 rng(80);
  BilinearAttention<double> att(4, 3, rng);
  randomize(att, 81);
  const Td mask = length_mask({4, 2, 1}, 4);
  check_grad([&](const std::vector<Td>& in) { return att.forward(in[0], in[1], mask); },
             with_params(att, {random_input(Shape{3, 4, 4}, 82), random_input(Shape{3, 3}, 83)}));

  // The interest extractor's states feed both the attention and the evolving layer.
  GRU<double> gru(3, 4, rng);
  AttentionGRU<double> augru(4, 4, rng);
  randomize(gru, 84);
  randomize(augru, 85);
  std::vector<Td> inputs = {random_input(Shape{3, 4, 3}, 86), random_input(Shape{3, 3}, 87)};
  for (const Module<double>* m : std::vector<const Module<double>*>{&gru, &att, &augru})
    inputs = with_params(*m, inputs);
  check_grad(
      [&](const std::vector<Td>& in) {
        const Td states = gru.forward(in[0], mask).states;
        return augru.forward(states, att.forward(states, in[1], mask), mask);
      },
      inputs);
}

TEST_CASE("GRU layers: shape errors name the layer and the shapes") {
  std::mt19937_64 rng(90);
  GRUCell<double> cell(2, 3, rng);
  CHECK_THROWS_WITH_AS(cell.forward(Td::zeros(Shape{4, 2}), Td::zeros(Shape{4, 2})),
                       "GRUCell(2, 3): input [4, 2] and state [4, 2] must be [B, 2] and [B, 3]",
                       std::invalid_argument);
  GRU<double> gru(2, 3, rng);
  CHECK_THROWS_WITH_AS(gru.forward(Td::zeros(Shape{4, 5, 3})),
                       "GRU(2, 3): input [4, 5, 3] must be [B, L, 2]", std::invalid_argument);
  CHECK_THROWS_WITH_AS(gru.forward(Td::zeros(Shape{4, 5, 2}), Td::zeros(Shape{4, 6})),
                       "GRU(2, 3): mask [4, 6] must be [B, L] = [4, 5]", std::invalid_argument);
  AttentionGRU<double> agru(2, 3, rng, AttentionGRUKind::agru);
  CHECK_THROWS_WITH_AS(agru.forward(Td::zeros(Shape{4, 5, 2}), Td::zeros(Shape{4, 4})),
                       "AttentionGRU(2, 3, agru): scores [4, 4] must be [B, L] = [4, 5]",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(agru.forward(Td::zeros(Shape{4, 5}), Td::zeros(Shape{4, 5})),
                       "AttentionGRU(2, 3, agru): input [4, 5] must be [B, L, 2]",
                       std::invalid_argument);
  BilinearAttention<double> att(3, 2, rng);
  CHECK_THROWS_WITH_AS(att.forward(Td::zeros(Shape{4, 5, 3}), Td::zeros(Shape{4, 3})),
                       "BilinearAttention(3, 2): states [4, 5, 3] and query [4, 3] must be "
                       "[B, L, 3] and [B, 2]",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(
      att.forward(Td::zeros(Shape{4, 5, 3}), Td::zeros(Shape{4, 2}), Td::zeros(Shape{5, 4})),
      "BilinearAttention(3, 2): mask [5, 4] must be [B, L] = [4, 5]", std::invalid_argument);
}
