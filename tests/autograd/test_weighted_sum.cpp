// The batched weighted sum y[b, d] = Σ_l w[b, l]·v[b, l, d]: values and gradients by hand and
// against plain loops for sizes around the widths its loops unroll to, gradcheck on random shapes
// down to L = 1 and D = 1, derivatives of the second and third order, and shape errors.
#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using doctest::Contains;
using tinyrec::test::In;
using tinyrec::test::make;

namespace {

// w = [[0.5, 2, 0], [1, −1, 3]], v[0] = [[1, 2], [3, 4], [100, 100]], v[1] = [[1, 0], [2, 5],
// [−1, 1]]: B = 2, L = 3, D = 2.
const std::vector<double> kW = {0.5, 2, 0, 1, -1, 3};
const std::vector<double> kV = {1, 2, 3, 4, 100, 100, 1, 0, 2, 5, -1, 1};

// The op on the checks' inputs, weights then values.
Tensor<double> pooled(const In& in) {
  return batched_weighted_sum(in[0], in[1]);
}

// The three results written as plain loops in double, for y = Σ_l w·v seeded with g: y [B, D],
// dw = Σ_d g·v [B, L] and dv = w·g [B, L, D].
struct Reference {
  std::vector<double> y, dw, dv;
};

template <class T>
Reference by_loops(const Tensor<T>& w, const Tensor<T>& v, const Tensor<T>& g) {
  const size_t B = v.shape()[0], L = v.shape()[1], D = v.shape()[2];
  auto at = [](const Tensor<T>& t, size_t i) { return static_cast<double>(t.data()[i]); };
  Reference r{std::vector<double>(B * D, 0.0), std::vector<double>(B * L, 0.0),
              std::vector<double>(B * L * D)};
  for (size_t b = 0; b < B; ++b)
    for (size_t l = 0; l < L; ++l)
      for (size_t d = 0; d < D; ++d) {
        const size_t i = (b * L + l) * D + d;
        r.y[b * D + d] += at(w, b * L + l) * at(v, i);
        r.dw[b * L + l] += at(g, b * D + d) * at(v, i);
        r.dv[i] = at(w, b * L + l) * at(g, b * D + d);
      }
  return r;
}

template <class T>
void check_against_loops(std::mt19937_64& rng, size_t B, size_t L, size_t D, double eps) {
  const auto draw = [&](const Shape& s, bool requires_grad) {
    const auto t = test::uniform(rng, s, -1, 1, false);
    return make<T>(std::vector<double>(t.data(), t.data() + t.numel()), s, requires_grad);
  };
  auto w = draw({B, L}, true), v = draw({B, L, D}, true);
  const auto g = draw({B, D}, false);
  const Reference want = by_loops(w, v, g);
  const auto y = batched_weighted_sum(w, v);
  CHECK_TENSOR(y, {B, D}, want.y, eps);
  backward<T>({y}, {g});
  CHECK_TENSOR(w.grad(), {B, L}, want.dw, eps);
  CHECK_TENSOR(v.grad(), {B, L, D}, want.dv, eps);
}

}  // namespace

TEST_CASE("batched_weighted_sum: values by hand") {
  // Row 0: 0.5·[1, 2] + 2·[3, 4] + 0·[100, 100] = [6.5, 9];
  // row 1: [1, 0] − [2, 5] + 3·[−1, 1] = [−4, −2].
  CHECK_TENSOR(batched_weighted_sum(make(kW, {2, 3}), make(kV, {2, 3, 2})), {2, 2},
               {6.5, 9, -4, -2});
  // L = 1 scales the single row; D = 1 is a dot product per batch row (2·3 − 1·4 = 2).
  CHECK_TENSOR(batched_weighted_sum(make({-2}, {1, 1}), make({1, 2, 3}, {1, 1, 3})), {1, 3},
               {-2, -4, -6});
  CHECK_TENSOR(batched_weighted_sum(make({2, -1}, {1, 2}), make({3, 4}, {1, 2, 1})), {1, 1}, {2});
  // Nothing to sum: zeros, not uninitialised memory.
  CHECK_TENSOR(batched_weighted_sum(make({}, {2, 0}), make({}, {2, 0, 3})), {2, 3},
               {0, 0, 0, 0, 0, 0});
  // Float gives the same numbers.
  CHECK_TENSOR(batched_weighted_sum(make<float>(kW, {2, 3}), make<float>(kV, {2, 3, 2})), {2, 2},
               {6.5, 9, -4, -2});
}

TEST_CASE("batched_weighted_sum: gradients by hand") {
  auto w = make(kW, {2, 3}, true);
  auto v = make(kV, {2, 3, 2}, true);
  const auto g = make({1, -1, 2, 0.5}, {2, 2});  // the gradient arriving at y
  backward<double>({batched_weighted_sum(w, v)}, {g});
  // dw[b, l] = Σ_d g[b, d]·v[b, l, d]: row 0: 1 − 2, 3 − 4, 100 − 100; row 1: 2 + 0, 4 + 2.5,
  // −2 + 0.5.
  CHECK_TENSOR(w.grad(), {2, 3}, {-1, -1, 0, 2, 6.5, -1.5});
  // dv[b, l, d] = w[b, l]·g[b, d].
  CHECK_TENSOR(v.grad(), {2, 3, 2}, {0.5, -0.5, 2, -2, 0, 0, 2, 0.5, -2, -0.5, 6, 1.5});

  // A constant operand receives nothing and the other still gets its gradient.
  auto w2 = make(kW, {2, 3}, true);
  const auto v_const = make(kV, {2, 3, 2});
  backward<double>({batched_weighted_sum(w2, v_const)}, {g});
  CHECK_TENSOR(w2.grad(), {2, 3}, {-1, -1, 0, 2, 6.5, -1.5});
  CHECK_FALSE(v_const.grad().defined());
}

TEST_CASE("batched_weighted_sum: plain loops agree for L and D around the loops' unrolled widths") {
  // The sum over L takes four rows per pass and then the rest one by one: L = 1, 3, 4, 5, 8, 11.
  // The weights' gradient sums over D in eight lanes and then a scalar tail: D = 1 and 3 are all
  // tail, 8 and 16 whole lanes, 11 and 36 (DIN's embedding width) both.
  std::mt19937_64 rng(907);
  for (size_t l : {1, 3, 4, 5, 8, 11})
    for (size_t d : {1, 3, 8, 11, 16, 36}) {
      INFO("L = " << l << ", D = " << d);
      check_against_loops<double>(rng, 3, l, d, 1e-12);
      check_against_loops<float>(rng, 3, l, d, 1e-5);
    }
}

TEST_CASE("batched_weighted_sum: gradcheck on random shapes, with L = 1 and D = 1") {
  std::mt19937_64 rng(911);
  std::vector<Shape> shapes = {{1, 1, 1}, {3, 1, 4}, {2, 5, 1}, {2, 3, 9}};
  for (int i = 0; i < 6; ++i) shapes.push_back({1 + rng() % 3, 1 + rng() % 5, 1 + rng() % 10});
  for (const Shape& s : shapes) {
    INFO("values " << shape_str(s));
    const auto w = test::uniform(rng, {s[0], s[1]}, -2, 2);
    const auto v = test::uniform(rng, s, -2, 2);
    CHECK_GRADCHECK(pooled, In{w, v});
    // Each operand alone, the other a constant.
    CHECK_GRADCHECK([&](const In& in) { return batched_weighted_sum(in[0], v.detach()); }, In{w});
    CHECK_GRADCHECK([&](const In& in) { return batched_weighted_sum(w.detach(), in[0]); }, In{v});
  }
}

TEST_CASE("batched_weighted_sum: second and third derivatives") {
  std::mt19937_64 rng(913);
  for (const Shape& s : std::vector<Shape>{{2, 3, 4}, {3, 1, 5}, {2, 4, 1}}) {
    INFO("values " << shape_str(s));
    const auto w = test::uniform(rng, {s[0], s[1]}, -2, 2);
    const auto v = test::uniform(rng, s, -2, 2);
    CHECK_GRADGRADCHECK(pooled, In{w, v});
    // Squared, the gradient arriving at the op depends on w and v, so the backward of every op
    // the first-order gradient is made of is itself differentiated with respect to each input.
    CHECK_GRADGRADCHECK([](const In& in) { return square(pooled(in)); }, In{w, v});
    // Third order: gradgradcheck of a function that is itself a recorded gradient.
    const auto seed = test::uniform(rng, {s[0], s[2]}, -1, 1, false);
    CHECK_GRADGRADCHECK(
        [&](const In& in) {
          const Tensors<double> g = grad(sum(square(pooled(in)) * seed), in, true);
          return concat<double>({reshape(g[0], {g[0].numel()}), reshape(g[1], {g[1].numel()})}, 0);
        },
        In{w, v});
  }
}

TEST_CASE("batched_weighted_sum: shape errors name the op and both shapes") {
  const auto z = [](const Shape& s) { return Tensor<double>::zeros(s); };
  CHECK_THROWS_WITH_AS(batched_weighted_sum(z({2, 3}), z({2, 4, 5})),
                       Contains("batched_weighted_sum: weights [2, 3] and values [2, 4, 5] must be "
                                "[B, L] and [B, L, D]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(batched_weighted_sum(z({2, 3}), z({1, 3, 5})),
                       Contains("batched_weighted_sum: weights [2, 3] and values [1, 3, 5]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(batched_weighted_sum(z({3}), z({1, 3, 5})),
                       Contains("batched_weighted_sum: weights [3] and values [1, 3, 5]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(batched_weighted_sum(z({2, 3}), z({2, 3})),
                       Contains("batched_weighted_sum: weights [2, 3] and values [2, 3]"),
                       std::invalid_argument);
}
