// Shared helpers for the engine tests: building tensors from literal values, comparing a tensor
// with hand-computed numbers, seeded random tensors kept away from kinks, and gradcheck assertions
// that report the caller's line and the worst element.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "autograd/autograd.hpp"

namespace tinyrec::test {

using In = std::vector<Tensor<double>>;

// A tensor of `shape` holding `values` in row-major order.
template <class T = double>
Tensor<T> make(const std::vector<double>& values, const Shape& shape, bool requires_grad = false) {
  xt::xarray<T> a = xt::xarray<T>::from_shape(shape);
  REQUIRE(a.size() == values.size());
  for (size_t i = 0; i < values.size(); ++i) a.data()[i] = static_cast<T>(values[i]);
  return Tensor<T>(std::move(a), requires_grad);
}

// As make(), requiring a gradient: a variable for gradcheck.
inline Tensor<double> var(const std::vector<double>& values, const Shape& shape) {
  return make<double>(values, shape, true);
}

inline Ids ids(const std::vector<int64_t>& values, const Shape& shape) {
  Ids a = Ids::from_shape(shape);
  REQUIRE(a.size() == values.size());
  std::copy(values.begin(), values.end(), a.data());
  return a;
}

template <class T>
void check_tensor(const char* file, int line, const Tensor<T>& t, const Shape& shape,
                  const std::vector<double>& expected, double eps = 1e-12) {
  INFO("checked at " << std::string(file) << ":" << line);
  REQUIRE(t.defined());
  REQUIRE(shape_str(t.shape()) == shape_str(shape));
  REQUIRE(t.numel() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i);
    const double got = static_cast<double>(t.data()[i]);
    if (std::isfinite(expected[i]))
      CHECK(got == doctest::Approx(expected[i]).epsilon(eps));
    else
      CHECK(got == expected[i]);  // an infinity must come out exactly
  }
}

inline void expect_gradcheck(const char* file, int line, const CheckedFn& f, const In& inputs) {
  INFO("gradcheck at " << std::string(file) << ":" << line);
  size_t total = 0;
  for (const auto& x : inputs) total += x.numel();
  const GradcheckResult r = gradcheck(f, inputs);
  INFO(r.report());
  CHECK(r.ok);
  CHECK(r.checked == total);
}

inline void expect_gradgradcheck(const char* file, int line, const CheckedFn& f, const In& inputs) {
  INFO("gradgradcheck at " << std::string(file) << ":" << line);
  size_t total = 0;
  for (const auto& x : inputs) total += x.numel();
  const GradcheckResult r = gradgradcheck(f, inputs);
  INFO(r.report());
  CHECK(r.ok);
  CHECK(r.checked == total);
}

// Uniform values in [lo, hi].
inline Tensor<double> uniform(std::mt19937_64& rng, const Shape& shape, double lo, double hi,
                              bool requires_grad = true) {
  std::uniform_real_distribution<double> u(lo, hi);
  xt::xarray<double> a = xt::xarray<double>::from_shape(shape);
  for (auto& v : a) v = u(rng);
  return Tensor<double>(std::move(a), requires_grad);
}

// Values in ±[lo, hi] with a random sign, so at least `lo` away from a kink at 0 (relu,
// leaky_relu).
inline Tensor<double> signed_away_from_zero(std::mt19937_64& rng, const Shape& shape, double lo,
                                            double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  xt::xarray<double> a = xt::xarray<double>::from_shape(shape);
  for (auto& v : a) v = (rng() & 1 ? 1.0 : -1.0) * u(rng);
  return Tensor<double>(std::move(a), true);
}

// Distinct values at least 0.04 apart in a random order: no ties for max.
inline Tensor<double> distinct(std::mt19937_64& rng, const Shape& shape) {
  xt::xarray<double> a = xt::xarray<double>::from_shape(shape);
  std::vector<size_t> order(a.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::uniform_real_distribution<double> jitter(0.0, 0.01);
  for (size_t i = 0; i < a.size(); ++i)
    a.data()[i] = -1.0 + 0.05 * static_cast<double>(order[i]) + jitter(rng);
  return Tensor<double>(std::move(a), true);
}

// A shape of rank [min_rank, max_rank] with sizes in [1, max_size].
inline Shape random_shape(std::mt19937_64& rng, size_t min_rank, size_t max_rank, size_t max_size) {
  const size_t rank = min_rank + rng() % (max_rank - min_rank + 1);
  Shape s(rank, 1);
  for (auto& d : s) d = 1 + rng() % max_size;
  return s;
}

// A shape that broadcasts onto `s`: some leading axes dropped and some sizes set to 1.
inline Shape broadcast_partner(std::mt19937_64& rng, const Shape& s) {
  const size_t keep = rng() % (s.size() + 1);
  Shape p(s.begin() + static_cast<std::ptrdiff_t>(s.size() - keep), s.end());
  for (auto& d : p)
    if (rng() % 2) d = 1;
  return p;
}

}  // namespace tinyrec::test

#define CHECK_TENSOR(...) ::tinyrec::test::check_tensor(__FILE__, __LINE__, __VA_ARGS__)
#define CHECK_GRADCHECK(...) ::tinyrec::test::expect_gradcheck(__FILE__, __LINE__, __VA_ARGS__)
#define CHECK_GRADGRADCHECK(...) \
  ::tinyrec::test::expect_gradgradcheck(__FILE__, __LINE__, __VA_ARGS__)
