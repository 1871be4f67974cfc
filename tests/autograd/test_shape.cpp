// Ops that move elements without arithmetic: reshape, reshape_infer, permute, transpose, concat,
// slice, pad, split, chunk. Expected element orders are written out by hand (row-major).
#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::In;
using tinyrec::test::make;
using tinyrec::test::var;

namespace {

// 0, 1, …, n−1 in `shape`.
Tensor<double> iota(const Shape& shape, bool requires_grad = false) {
  size_t n = 1;
  for (size_t d : shape) n *= d;
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<double>(i);
  return make(v, shape, requires_grad);
}

}  // namespace

TEST_CASE("reshape and reshape_infer keep the row-major order") {
  const auto x = make({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK_TENSOR(reshape(x, {3, 2}), {3, 2}, {1, 2, 3, 4, 5, 6});
  CHECK_TENSOR(reshape(x, {6}), {6}, {1, 2, 3, 4, 5, 6});
  CHECK_TENSOR(reshape(x, {1, 2, 3}), {1, 2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK_TENSOR(reshape(make({5}, {1, 1}), {}), {}, {5});
  CHECK_TENSOR(reshape_infer(x, {-1, 2}), {3, 2}, {1, 2, 3, 4, 5, 6});
  CHECK_TENSOR(reshape_infer(x, {3, -1}), {3, 2}, {1, 2, 3, 4, 5, 6});
  CHECK_TENSOR(reshape_infer(x, {-1}), {6}, {1, 2, 3, 4, 5, 6});
  CHECK_TENSOR(reshape_infer(x, {1, -1, 3}), {1, 2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK_TENSOR(reshape_infer(x, {2, 3}), {2, 3}, {1, 2, 3, 4, 5, 6});

  auto v = make({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  backward(sum(reshape(v, {3, 2}) * make({1, 2, 3, 4, 5, 6}, {3, 2})));
  CHECK_TENSOR(v.grad(), {2, 3}, {1, 2, 3, 4, 5, 6});

  std::mt19937_64 rng(201);
  CHECK_GRADCHECK(
      [](const In& in) {
        return reshape(in[0], {3, 1, 2});
      },
      In{test::uniform(rng, {2, 3}, -2, 2)});
  CHECK_GRADCHECK([](const In& in) { return reshape(in[0], {}); },
                  In{test::uniform(rng, {1}, -2, 2)});
  CHECK_GRADCHECK(
      [](const In& in) {
        return reshape_infer(in[0], {-1, 4});
      },
      In{test::uniform(rng, {2, 2, 2}, -2, 2)});
}

TEST_CASE("permute and transpose") {
  // y[i][j][k] = 6i + 2j + k in [2,3,2]; permute {1,2,0} gives out[j][k][i] = y[i][j][k],
  // listed with i fastest.
  const auto y = iota({2, 3, 2});
  CHECK_TENSOR(permute(y, {1, 2, 0}), {3, 2, 2}, {0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11});
  CHECK_TENSOR(permute(y, {0, 1, 2}), {2, 3, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  const auto x = make({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK_TENSOR(permute(x, {1, 0}), {3, 2}, {1, 4, 2, 5, 3, 6});
  CHECK_TENSOR(transpose(x), {3, 2}, {1, 4, 2, 5, 3, 6});
  CHECK_TENSOR(transpose(x, 1, 0), {3, 2}, {1, 4, 2, 5, 3, 6});
  // z[i][j][k] = 6i + 3j + k in [2,2,3]. transpose(z, 0, 2): out[k][j][i].
  const auto z = iota({2, 2, 3});
  CHECK_TENSOR(transpose(z, 0, 2), {3, 2, 2}, {0, 6, 3, 9, 1, 7, 4, 10, 2, 8, 5, 11});
  // The default swaps the last two axes: out[i][k][j].
  CHECK_TENSOR(transpose(z), {2, 3, 2}, {0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11});

  auto v = make({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  backward(sum(transpose(v) * make({10, 40, 20, 50, 30, 60}, {3, 2})));
  CHECK_TENSOR(v.grad(), {2, 3}, {10, 20, 30, 40, 50, 60});

  std::mt19937_64 rng(203);
  for (int trial = 0; trial < 8; ++trial) {
    const Shape s = test::random_shape(rng, 2, 4, 3);
    std::vector<size_t> axes(s.size());
    for (size_t i = 0; i < axes.size(); ++i) axes[i] = i;
    std::shuffle(axes.begin(), axes.end(), rng);
    INFO("trial " << trial << ": shape " << shape_str(s));
    CHECK_GRADCHECK([&](const In& in) { return permute(in[0], axes); },
                    In{test::uniform(rng, s, -2, 2)});
    CHECK_GRADCHECK([&](const In& in) { return transpose(in[0], 0, -1); },
                    In{test::uniform(rng, s, -2, 2)});
  }
  CHECK_GRADCHECK([](const In& in) { return transpose(in[0]); },
                  In{test::uniform(rng, {2, 3, 4}, -2, 2)});
}

TEST_CASE("concat") {
  CHECK_TENSOR(concat<double>({make({1, 2}, {1, 2}), make({3, 4, 5, 6}, {2, 2})}, 0), {3, 2},
               {1, 2, 3, 4, 5, 6});
  CHECK_TENSOR(concat<double>({make({1, 2}, {2, 1}), make({3, 4, 5, 6}, {2, 2})}, 1), {2, 3},
               {1, 3, 4, 2, 5, 6});
  CHECK_TENSOR(concat<double>({make({1}, {1}), make({2, 3}, {2}), make({4}, {1})}, -1), {4},
               {1, 2, 3, 4});
  // [2,1,2] and [2,2,2] along axis 1: for each i, a's row then b's two rows.
  CHECK_TENSOR(concat<double>({make({1, 2, 3, 4}, {2, 1, 2}), iota({2, 2, 2})}, 1), {2, 3, 2},
               {1, 2, 0, 1, 2, 3, 3, 4, 4, 5, 6, 7});
  CHECK_TENSOR(concat<double>({make({7, 8}, {2})}, 0), {2}, {7, 8});

  auto a = make({1, 2}, {2, 1}, true);
  auto b = make({3, 4, 5, 6}, {2, 2}, true);
  backward(sum(concat<double>({a, b}, 1) * make({1, 2, 3, 4, 5, 6}, {2, 3})));
  CHECK_TENSOR(a.grad(), {2, 1}, {1, 4});
  CHECK_TENSOR(b.grad(), {2, 2}, {2, 3, 5, 6});

  std::mt19937_64 rng(205);
  CHECK_GRADCHECK([](const In& in) { return concat(in, 0); },
                  In{test::uniform(rng, {1, 3}, -2, 2), test::uniform(rng, {2, 3}, -2, 2),
                     test::uniform(rng, {3, 3}, -2, 2)});
  CHECK_GRADCHECK([](const In& in) { return concat(in, -1); },
                  In{test::uniform(rng, {2, 2, 1}, -2, 2), test::uniform(rng, {2, 2, 3}, -2, 2)});
  CHECK_GRADCHECK([](const In& in) { return concat(in, 1); },
                  In{test::uniform(rng, {2, 1, 2}, -2, 2), test::uniform(rng, {2, 2, 2}, -2, 2)});
  // A constant among the inputs: only the variables get gradients.
  const auto c = make({9, 9}, {1, 2});
  CHECK_GRADCHECK(
      [&](const In& in) {
        return concat<double>({in[0], c}, 0);
      },
      In{test::uniform(rng, {2, 2}, -2, 2)});
}

TEST_CASE("slice and pad") {
  const auto x = iota({2, 4});  // [[0,1,2,3],[4,5,6,7]]
  CHECK_TENSOR(slice(x, 1, 1, 3), {2, 2}, {1, 2, 5, 6});
  CHECK_TENSOR(slice(x, 0, 1, 2), {1, 4}, {4, 5, 6, 7});
  CHECK_TENSOR(slice(x, -1, 3, 4), {2, 1}, {3, 7});
  CHECK_TENSOR(slice(x, 1, 2, 2), {2, 0}, {});
  CHECK_TENSOR(slice(x, 1, 0, 4), {2, 4}, {0, 1, 2, 3, 4, 5, 6, 7});

  const auto p = make({1, 2, 3, 4}, {2, 2});
  CHECK_TENSOR(pad(p, 1, 1, 2), {2, 5}, {0, 1, 2, 0, 0, 0, 3, 4, 0, 0});
  CHECK_TENSOR(pad(p, 0, 1, 0), {3, 2}, {0, 0, 1, 2, 3, 4});
  CHECK_TENSOR(pad(p, -1, 0, 0), {2, 2}, {1, 2, 3, 4});

  auto v = iota({2, 4}, true);
  backward(sum(slice(v, 1, 1, 3)));
  CHECK_TENSOR(v.grad(), {2, 4}, {0, 1, 1, 0, 0, 1, 1, 0});
  auto w = make({1, 2, 3, 4}, {2, 2}, true);
  backward(sum(pad(w, 1, 1, 2) * iota({2, 5})));
  // w[i][j] sits at column j + 1 of row i of the padded [2,5].
  CHECK_TENSOR(w.grad(), {2, 2}, {1, 2, 6, 7});

  std::mt19937_64 rng(207);
  CHECK_GRADCHECK([](const In& in) { return slice(in[0], 1, 1, 3); },
                  In{test::uniform(rng, {2, 4, 2}, -2, 2)});
  CHECK_GRADCHECK([](const In& in) { return slice(in[0], 0, 2, 3); },
                  In{test::uniform(rng, {3, 2}, -2, 2)});
  CHECK_GRADCHECK([](const In& in) { return slice(in[0], -1, 0, 2); },
                  In{test::uniform(rng, {2, 2, 3}, -2, 2)});
  CHECK_GRADCHECK([](const In& in) { return pad(in[0], 1, 2, 1); },
                  In{test::uniform(rng, {2, 2, 2}, -2, 2)});
  CHECK_GRADCHECK([](const In& in) { return pad(in[0], 0, 0, 3); },
                  In{test::uniform(rng, {2}, -2, 2)});
}

TEST_CASE("slice: the first-order block path equals the padded path, alone and mixed") {
  // Overlapping slices of one tensor along the middle axis, plus a use of the whole tensor: the
  // first-order backward adds each slice's gradient into its block; a recorded backward
  // (create_graph) pads each to the whole shape. Both must give the same gradient, here by hand.
  std::mt19937_64 rng(31);
  const Tensor<double> x0 = test::uniform(rng, {2, 5, 3}, -1, 1);
  const Tensor<double> c = test::uniform(rng, {2, 2, 3}, -1, 1);
  auto loss_of = [&](const Tensor<double>& x) {
    return sum(slice(x, 1, 0, 2) * c) + sum(square(slice(x, 1, 1, 3))) + sum(slice(x, 1, 4, 5)) +
           sum(x) * 0.5;
  };
  xt::xarray<double> expected = xt::zeros<double>({2, 5, 3});
  for (size_t b = 0; b < 2; ++b)
    for (size_t t = 0; t < 5; ++t)
      for (size_t f = 0; f < 3; ++f) {
        double g = 0.5;
        if (t < 2) g += c.value()(b, t, f);
        if (t >= 1 && t < 3) g += 2 * x0.value()(b, t, f);
        if (t == 4) g += 1;
        expected(b, t, f) = g;
      }
  Tensor<double> x(x0.value(), true);
  backward(loss_of(x));  // first order: block path
  CHECK(xt::allclose(x.grad().value(), expected, 0, 1e-14));
  Tensor<double> y(x0.value(), true);
  const Tensors<double> g = grad(loss_of(y), {y}, /*create_graph=*/true);  // padded path
  CHECK(xt::allclose(g[0].value(), expected, 0, 1e-14));
  // The recorded gradient differentiates again: d/dy Σ(g ⊙ y) = g + (∂g/∂y)ᵀ y, where only the
  // square term depends on y (∂g/∂y = 2 on its block).
  backward(sum(g[0] * y));
  xt::xarray<double> second = expected;
  for (size_t b = 0; b < 2; ++b)
    for (size_t t = 1; t < 3; ++t)
      for (size_t f = 0; f < 3; ++f) second(b, t, f) += 2 * x0.value()(b, t, f);
  CHECK(xt::allclose(y.grad().value(), second, 0, 1e-12));
  CHECK_GRADGRADCHECK([](const In& in) { return square(slice(in[0], 1, 1, 4)); },
                      In{test::uniform(rng, {2, 5, 3}, -2, 2)});
}

TEST_CASE("split and chunk") {
  const auto x = iota({2, 5});  // [[0..4],[5..9]]
  auto parts = split(x, {2, 3}, 1);
  REQUIRE(parts.size() == 2);
  CHECK_TENSOR(parts[0], {2, 2}, {0, 1, 5, 6});
  CHECK_TENSOR(parts[1], {2, 3}, {2, 3, 4, 7, 8, 9});
  parts = split(x, {1, 0, 1}, 0);
  REQUIRE(parts.size() == 3);
  CHECK_TENSOR(parts[0], {1, 5}, {0, 1, 2, 3, 4});
  CHECK_TENSOR(parts[1], {0, 5}, {});
  CHECK_TENSOR(parts[2], {1, 5}, {5, 6, 7, 8, 9});

  // As torch.chunk: ceil(n / chunks) each, the last smaller, and fewer chunks when they run out.
  auto c = chunk(iota({5}), 2, 0);
  REQUIRE(c.size() == 2);
  CHECK_TENSOR(c[0], {3}, {0, 1, 2});
  CHECK_TENSOR(c[1], {2}, {3, 4});
  c = chunk(iota({7}), 3, 0);
  REQUIRE(c.size() == 3);
  CHECK_TENSOR(c[2], {1}, {6});
  c = chunk(iota({5}), 4, 0);
  REQUIRE(c.size() == 3);
  CHECK_TENSOR(c[0], {2}, {0, 1});
  CHECK_TENSOR(c[2], {1}, {4});
  c = chunk(iota({2, 4}), 2, -1);
  REQUIRE(c.size() == 2);
  CHECK_TENSOR(c[0], {2, 2}, {0, 1, 4, 5});
  CHECK_TENSOR(c[1], {2, 2}, {2, 3, 6, 7});

  auto v = iota({2, 5}, true);
  parts = split(v, {2, 3}, 1);
  backward(sum(parts[0]) + sum(parts[1]) * 3.0);
  CHECK_TENSOR(v.grad(), {2, 5}, {1, 1, 3, 3, 3, 1, 1, 3, 3, 3});

  // Each piece is weighted differently before they are put back together, so a piece sent to the
  // wrong place shows.
  std::mt19937_64 rng(209);
  CHECK_GRADCHECK(
      [](const In& in) {
        auto s = split(in[0], {1, 3}, 1);
        return concat<double>({s[1] * 2.0, square(s[0])}, 1);
      },
      In{test::uniform(rng, {2, 4}, -2, 2)});
  CHECK_GRADCHECK(
      [](const In& in) {
        auto s = chunk(in[0], 3, 0);
        return concat<double>({s[2], s[0] * 3.0, exp(s[1])}, 0);
      },
      In{test::uniform(rng, {5, 2}, -2, 2)});
}
