// Broadcasting as an op (broadcast_to, sum_to) and the reductions sum, mean, max: hand-computed
// values, the route of max's gradient on ties, and gradchecks over seeded random shapes and axes.
#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::In;
using tinyrec::test::make;
using tinyrec::test::var;

namespace {

// x = [[1,2,3],[4,5,6]]: column sums [5,7,9], row sums [6,15], total 21.
Tensor<double> x23() {
  return make({1, 2, 3, 4, 5, 6}, {2, 3});
}
// y[i][j][k] = 6i + 3j + k, shape [2,2,3].
Tensor<double> y223() {
  return make({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {2, 2, 3});
}

// A random non-empty set of distinct axes of a rank-`rank` shape, some written from the end.
Axes random_axes(std::mt19937_64& rng, size_t rank) {
  Axes axes;
  for (size_t a = 0; a < rank; ++a)
    if (rng() % 2)
      axes.push_back(rng() % 2 ? static_cast<int>(a) : static_cast<int>(a) - int(rank));
  if (axes.empty()) axes.push_back(static_cast<int>(rng() % rank));
  std::shuffle(axes.begin(), axes.end(), rng);
  return axes;
}

}  // namespace

TEST_CASE("broadcast_to repeats along new and size-1 axes") {
  CHECK_TENSOR(broadcast_to(make({1, 2, 3}, {3}), {2, 3}), {2, 3}, {1, 2, 3, 1, 2, 3});
  CHECK_TENSOR(broadcast_to(make({7, 8}, {2, 1}), {2, 3}), {2, 3}, {7, 7, 7, 8, 8, 8});
  CHECK_TENSOR(broadcast_to(Tensor<double>::scalar(4), {2, 2}), {2, 2}, {4, 4, 4, 4});
  CHECK_TENSOR(broadcast_to(make({1, 2}, {1, 2, 1}), {2, 2, 2}), {2, 2, 2},
               {1, 1, 2, 2, 1, 1, 2, 2});
  const auto x = x23();
  CHECK(broadcast_to(x, {2, 3}).same(x));  // nothing to do: the same tensor

  auto v = make({1, 2, 3}, {3}, true);
  backward(sum(broadcast_to(v, {4, 3}) * make({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {4, 3})));
  // Each element of v is used once per row: the weights summed down the columns.
  CHECK_TENSOR(v.grad(), {3}, {22, 26, 30});

  std::mt19937_64 rng(101);
  for (const auto& from_to : std::vector<std::pair<Shape, Shape>>{
           {{3}, {2, 3}}, {{2, 1}, {2, 3}}, {{}, {2, 2}}, {{1, 3, 1}, {2, 3, 4}}, {{1}, {3}}}) {
    const Shape& from = from_to.first;
    const Shape& to = from_to.second;
    INFO(shape_str(from) << " to " << shape_str(to));
    CHECK_GRADCHECK([to = to](const In& in) { return broadcast_to(in[0], to); },
                    In{test::uniform(rng, from, -2, 2)});
  }
}

TEST_CASE("sum_to sums over broadcast axes") {
  const auto x = x23();
  CHECK_TENSOR(sum_to(x, {3}), {3}, {5, 7, 9});
  CHECK_TENSOR(sum_to(x, {1, 3}), {1, 3}, {5, 7, 9});
  CHECK_TENSOR(sum_to(x, {2, 1}), {2, 1}, {6, 15});
  CHECK_TENSOR(sum_to(x, {}), {}, {21});
  CHECK_TENSOR(sum_to(x, {1, 1}), {1, 1}, {21});
  CHECK(sum_to(x, {2, 3}).same(x));
  // y summed to [2,1,1]: 0+…+5 = 15 and 6+…+11 = 51.
  CHECK_TENSOR(sum_to(y223(), {2, 1, 1}), {2, 1, 1}, {15, 51});

  std::mt19937_64 rng(103);
  for (const auto& from_to : std::vector<std::pair<Shape, Shape>>{
           {{2, 3}, {3}}, {{2, 3}, {2, 1}}, {{2, 2}, {}}, {{2, 3, 4}, {1, 3, 1}}, {{3}, {1}}}) {
    const Shape& from = from_to.first;
    const Shape& to = from_to.second;
    INFO(shape_str(from) << " to " << shape_str(to));
    CHECK_GRADCHECK([to = to](const In& in) { return sum_to(in[0], to); },
                    In{test::uniform(rng, from, -2, 2)});
  }
}

TEST_CASE("sum over everything, over axes, with keepdims") {
  const auto x = x23();
  CHECK_TENSOR(sum(x), {}, {21});
  CHECK_TENSOR(sum(x, {0}), {3}, {5, 7, 9});
  CHECK_TENSOR(sum(x, {1}), {2}, {6, 15});
  CHECK_TENSOR(sum(x, {-1}, true), {2, 1}, {6, 15});
  CHECK_TENSOR(sum(x, {0}, true), {1, 3}, {5, 7, 9});
  CHECK_TENSOR(sum(x, {0, 1}), {}, {21});
  CHECK_TENSOR(sum(x, {1, 0}, true), {1, 1}, {21});
  const auto y = y223();
  // Over axes 0 and 2: j = 0 takes 0,1,2 and 6,7,8 (24); j = 1 takes 3,4,5 and 9,10,11 (42).
  CHECK_TENSOR(sum(y, {0, 2}), {2}, {24, 42});
  CHECK_TENSOR(sum(y, {0, -1}, true), {1, 2, 1}, {24, 42});
  // Over axis 1: y[i][0][k] + y[i][1][k].
  CHECK_TENSOR(sum(y, {1}), {2, 3}, {3, 5, 7, 15, 17, 19});
  CHECK_TENSOR(sum(Tensor<double>::scalar(2.5)), {}, {2.5});

  auto v = make({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  backward(sum(sum(v, {1}) * make({10, 20}, {2})));  // each row gets its weight
  CHECK_TENSOR(v.grad(), {2, 3}, {10, 10, 10, 20, 20, 20});
}

TEST_CASE("mean over everything and over axes") {
  const auto x = x23();
  CHECK_TENSOR(mean(x), {}, {3.5});
  CHECK_TENSOR(mean(x, {0}), {3}, {2.5, 3.5, 4.5});
  CHECK_TENSOR(mean(x, {1}, true), {2, 1}, {2, 5});
  CHECK_TENSOR(mean(y223(), {0, 2}), {2}, {4, 7});  // 24 / 6 and 42 / 6

  auto v = make({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  backward(mean(v));
  CHECK_TENSOR(v.grad(), {2, 3}, {1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6});
  v.zero_grad();
  backward(sum(mean(v, {0})));  // each column averages two elements
  CHECK_TENSOR(v.grad(), {2, 3}, {0.5, 0.5, 0.5, 0.5, 0.5, 0.5});
}

TEST_CASE("max along one axis; the gradient goes to the first maximum") {
  const auto m = make({1, 5, 3, 7, 2, 7}, {2, 3});
  CHECK_TENSOR(max(m, 1), {2}, {5, 7});
  CHECK_TENSOR(max(m, 0), {3}, {7, 5, 7});
  CHECK_TENSOR(max(m, -1, true), {2, 1}, {5, 7});
  CHECK_TENSOR(max(make({-3, -1, -2}, {3}), 0), {}, {-1});
  CHECK_TENSOR(max(y223(), 1), {2, 3}, {3, 4, 5, 9, 10, 11});

  auto v = make({1, 5, 3, 7, 2, 7}, {2, 3}, true);
  backward(sum(max(v, 1)));
  // Row 1 has a tie (7 at columns 0 and 2): only the first one gets the gradient.
  CHECK_TENSOR(v.grad(), {2, 3}, {0, 1, 0, 1, 0, 0});
  v.zero_grad();
  backward(sum(max(v, 0) * make({1, 2, 3}, {3})));
  CHECK_TENSOR(v.grad(), {2, 3}, {0, 2, 0, 1, 0, 3});
}

TEST_CASE("reductions: gradcheck over random shapes and axes") {
  std::mt19937_64 rng(107);
  CHECK_GRADCHECK([](const In& in) { return sum(in[0]); }, In{test::uniform(rng, {2, 3}, -2, 2)});
  CHECK_GRADCHECK([](const In& in) { return mean(in[0]); }, In{test::uniform(rng, {3, 2}, -2, 2)});
  CHECK_GRADCHECK([](const In& in) { return sum(in[0]); }, In{var({1.5}, {})});
  for (int trial = 0; trial < 20; ++trial) {
    const Shape s = test::random_shape(rng, 1, 4, 3);
    const Axes axes = random_axes(rng, s.size());
    const bool keep = rng() % 2;
    const int axis = static_cast<int>(rng() % s.size()) - (rng() % 2 ? int(s.size()) : 0);
    std::string axes_text;
    for (int a : axes) axes_text += std::to_string(a) + " ";
    INFO("trial " << trial << ": shape " << shape_str(s) << ", axes " << axes_text << "keepdims "
                  << keep << ", max axis " << axis);
    CHECK_GRADCHECK([&](const In& in) { return sum(in[0], axes, keep); },
                    In{test::uniform(rng, s, -2, 2)});
    CHECK_GRADCHECK([&](const In& in) { return mean(in[0], axes, keep); },
                    In{test::uniform(rng, s, -2, 2)});
    CHECK_GRADCHECK([&](const In& in) { return mean(in[0]); }, In{test::uniform(rng, s, -2, 2)});
    // Distinct values at least 0.04 apart: no ties within eps.
    CHECK_GRADCHECK([&](const In& in) { return max(in[0], axis, keep); },
                    In{test::distinct(rng, s)});
  }
}
