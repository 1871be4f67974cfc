// prelu: the fused PReLU op (its first-order backward is one pass; the recorded one is built from
// ops for higher order), checked by value, gradcheck and gradgradcheck.
#include "helpers.hpp"

using namespace tinyrec;
using namespace tinyrec::test;

TEST_CASE("prelu: forward by hand, alpha broadcast over the last axis") {
  const Tensor<double> x = make({1.5, -2.0, 0.5, -0.25, 3.0, -1.0}, Shape{2, 3});
  const Tensor<double> a = make({0.1, 0.2, 0.3}, Shape{3});
  // positive entries pass; negative ones are scaled by their column's alpha
  CHECK_TENSOR(prelu(x, a), Shape({2, 3}), {1.5, -0.4, 0.5, -0.025, 3.0, -0.3});
}

TEST_CASE("prelu: gradients, first and second order") {
  const In in = {
      var({0.7, -1.3, 0.4, -0.6, 1.1, -0.9, 0.3, -0.2, 0.8, -1.7, 0.6, -0.5}, Shape{2, 2, 3}),
      var({0.25, -0.1, 0.4}, Shape{3})};
  auto f = [](const In& v) { return prelu(v[0], v[1]); };
  CHECK_GRADCHECK(f, in);
  // Second order: the product with another input keeps second derivatives non-zero.
  auto g = [](const In& v) { return prelu(v[0], v[1]) * v[0]; };
  CHECK_GRADGRADCHECK(g, in);
}

TEST_CASE("prelu: matches relu(x) + alpha * (x - relu(x))") {
  const Tensor<double> x = make({0.9, -0.4, -1.2, 0.05}, Shape{4, 1});
  const Tensor<double> a = make({0.3}, Shape{1});
  const Tensor<double> composed = relu(x) + a * (x - relu(x));
  const Tensor<double> fused = prelu(x, a);
  for (size_t i = 0; i < 4; ++i) CHECK(fused.data()[i] == doctest::Approx(composed.data()[i]));
}

TEST_CASE("prelu: alpha that does not broadcast to x is an error naming both shapes") {
  const Tensor<double> x = Tensor<double>::zeros({2, 3});
  CHECK_THROWS_WITH_AS(prelu(x, Tensor<double>::zeros({4})),
                       doctest::Contains("prelu: shapes [2, 3] and [4]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(prelu(x, Tensor<double>::zeros({2, 2, 3})),
                       doctest::Contains("[2, 2, 3] must broadcast to x of shape [2, 3]"),
                       std::invalid_argument);
}
