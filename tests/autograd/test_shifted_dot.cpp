// shifted_inner_products (autograd/ops_shifted_dot.cpp): values by hand and against the composed
// slices and product, float32 bit for bit against the composition DIEN used before, float64
// gradcheck and gradgradcheck for shifts 0, 1 and 2, shape errors.
#include <vector>

#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::In;
using tinyrec::test::make;

TEST_CASE("shifted_inner_products: by hand") {
  // B = 1, L = 3, D = 2: ⟨x_0, y_1⟩ and ⟨x_1, y_2⟩.
  const auto x = make({1, 2, 3, 4, 5, 6}, {1, 3, 2}), y = make({7, 8, 9, 10, 11, 12}, {1, 3, 2});
  CHECK_TENSOR(shifted_inner_products(x, y, 1), {1, 2}, {1 * 9 + 2 * 10, 3 * 11 + 4 * 12});
  CHECK_TENSOR(shifted_inner_products(x, y, 0), {1, 3}, {23, 67, 127});
  CHECK_TENSOR(shifted_inner_products(x, y, 3), {1, 0}, {});
}

TEST_CASE("shifted_inner_products: the composed slices and product, in both types") {
  std::mt19937_64 rng(5);
  const size_t b = 4, l = 7, d = 37;  // D past a vector and a bit
  const In in = {test::uniform(rng, {b, l, d}, -1, 1), test::uniform(rng, {b, l, d}, -1, 1)};
  for (size_t shift : {0, 1, 2}) {
    CAPTURE(shift);
    const auto got = shifted_inner_products(in[0], in[1], shift);
    const auto want = sum(slice(in[0], 1, 0, l - shift) * slice(in[1], 1, shift, l), {2});
    REQUIRE(got.shape() == want.shape());
    for (size_t i = 0; i < want.numel(); ++i)
      CHECK(got.data()[i] == doctest::Approx(want.data()[i]).epsilon(1e-13));
  }
  // float32: DIEN summed x ⊙ y against a column of ones before, and its numbers must not move.
  auto to_float = [](const Tensor<double>& x) {
    return Tensor<float>(xt::xarray<float>(xt::cast<float>(x.value())));
  };
  const Tensor<float> xf = to_float(in[0]), yf = to_float(in[1]);
  const auto got = shifted_inner_products(xf, yf, 1);
  const auto before =
      reshape(matmul(slice(xf, 1, 0, l - 1) * slice(yf, 1, 1, l), Tensor<float>::ones(Shape{d, 1})),
              Shape{b, l - 1});
  for (size_t i = 0; i < before.numel(); ++i) CHECK(got.data()[i] == before.data()[i]);
}

TEST_CASE("shifted_inner_products: float64 gradcheck and gradgradcheck") {
  std::mt19937_64 rng(7);
  const In in = {test::uniform(rng, {3, 4, 5}, -1, 1), test::uniform(rng, {3, 4, 5}, -1, 1)};
  for (size_t shift : {0, 1, 2}) {
    CAPTURE(shift);
    CHECK_GRADCHECK([&](const In& v) { return shifted_inner_products(v[0], v[1], shift); }, in);
    CHECK_GRADGRADCHECK([&](const In& v) { return shifted_inner_products(v[0], v[1], shift); }, in);
  }
  // The same tensor on both sides (h against itself): both gradients add up.
  const In one = {in[0]};
  CHECK_GRADCHECK([&](const In& v) { return shifted_inner_products(v[0], v[0], 1); }, one);
}

TEST_CASE("shifted_inner_products: shape errors name the op and the shapes") {
  const auto x = make({1, 2, 3, 4, 5, 6}, {1, 3, 2});
  CHECK_THROWS_WITH_AS(shifted_inner_products(x, make({1, 2, 3, 4}, {1, 2, 2}), 1),
                       "shifted_inner_products: x [1, 3, 2] and y [1, 2, 2] must both be [B, L, "
                       "D] with L >= shift = 1",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(shifted_inner_products(x, x, 4),
                       "shifted_inner_products: x [1, 3, 2] and y [1, 3, 2] must both be [B, L, "
                       "D] with L >= shift = 4",
                       std::invalid_argument);
}
