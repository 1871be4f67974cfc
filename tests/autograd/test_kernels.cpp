// The vectorised kernels against plain scalar loops, bit for bit: broadcasting walks contiguous
// runs and sum_to adds row by row across the kept axis, and neither may change a single result. The
// references here index every element from its multi-index, the slow obvious way, and sum each
// output's terms in the order they lie in the input. Run lengths like 37 leave a tail after the
// vector body, so both the vector loop and its scalar epilogue are checked.
#include <cmath>
#include <cstring>
#include <limits>

#include "autograd/broadcast.hpp"
#include "helpers.hpp"

using namespace tinyrec;

namespace {

// Row-major strides of `shape`, and the offset in an array of shape `in` that broadcasts onto the
// multi-index `idx` of the output (size-1 and missing leading axes repeat).
size_t broadcast_offset(const std::vector<size_t>& idx, const Shape& in) {
  const size_t lead = idx.size() - in.size();
  size_t off = 0;
  for (size_t d = 0; d < in.size(); ++d) off = off * in[d] + (in[d] == 1 ? 0 : idx[lead + d]);
  return off;
}

// Visits every multi-index of `shape` in row-major order.
template <class F>
void for_each_index(const Shape& shape, F f) {
  size_t total = 1;
  for (size_t d : shape) total *= d;
  std::vector<size_t> idx(shape.size(), 0);
  for (size_t i = 0; i < total; ++i) {
    f(i, idx);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

template <class T>
Tensor<T> random_values(std::mt19937_64& rng, const Shape& shape, bool requires_grad = false) {
  std::normal_distribution<double> normal(0.0, 1.0);
  Tensor<T> t = Tensor<T>::zeros(shape, requires_grad);
  for (size_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<T>(normal(rng));
  // A few exact zeros: PReLU's kink, and signed zeros through the sums.
  if (t.numel() > 3) t.data()[3] = T(0);
  if (t.numel() > 5) t.data()[5] = -T(0);
  return t;
}

template <class T>
bool same_bits(const Tensor<T>& a, const xt::xarray<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.numel() * sizeof(T)) == 0;
}

// Shape pairs covering every run form: equal shapes, a scalar, a row [1, N] or a bias [N] against
// a matrix or a [B, L, N] batch, a column [M, 1], an outer product [M, 1] × [1, N], a middle axis
// broadcast, and rank 4 with axes broadcast on both sides.
const std::vector<std::pair<Shape, Shape>> kPairs = {{{5, 37}, {5, 37}},
                                                     {{5, 37}, {}},
                                                     {{}, {4, 37}},
                                                     {{6, 37}, {1, 37}},
                                                     {{3, 7, 37}, {37}},
                                                     {{37}, {3, 7, 37}},
                                                     {{9, 1}, {9, 37}},
                                                     {{9, 37}, {9, 1}},
                                                     {{9, 1}, {1, 37}},
                                                     {{4, 1, 37}, {4, 11, 37}},
                                                     {{2, 3, 1, 19}, {1, 3, 5, 1}},
                                                     {{3, 1, 8}, {3, 6, 1}}};

template <class T, class Op, class Ref>
void check_binary(const char* name, Op op, Ref ref) {
  std::mt19937_64 rng(7);
  // Plain references, not a structured binding: C++17 lets no lambda capture a binding.
  for (const auto& pair : kPairs) {
    const Shape& sa = pair.first;
    const Shape& sb = pair.second;
    INFO(name << " " << shape_str(sa) << " with " << shape_str(sb));
    const Tensor<T> a = random_values<T>(rng, sa), b = random_values<T>(rng, sb);
    const Tensor<T> got = op(a, b);
    const Shape out = detail::broadcast_shape(name, sa, sb);
    xt::xarray<T> want = xt::xarray<T>::from_shape(out);
    for_each_index(out, [&](size_t i, const std::vector<size_t>& idx) {
      want.data()[i] =
          ref(a.data()[broadcast_offset(idx, sa)], b.data()[broadcast_offset(idx, sb)]);
    });
    CHECK(same_bits(got, want));
  }
}

}  // namespace

TEST_CASE_TEMPLATE("kernels: broadcasting add, sub, mul, div match a scalar loop bit for bit", T,
                   float, double) {
  check_binary<T>(
      "add", [](const Tensor<T>& a, const Tensor<T>& b) { return a + b; },
      [](T x, T y) { return x + y; });
  check_binary<T>(
      "sub", [](const Tensor<T>& a, const Tensor<T>& b) { return a - b; },
      [](T x, T y) { return x - y; });
  check_binary<T>(
      "mul", [](const Tensor<T>& a, const Tensor<T>& b) { return a * b; },
      [](T x, T y) { return x * y; });
  check_binary<T>(
      "div", [](const Tensor<T>& a, const Tensor<T>& b) { return a / b; },
      [](T x, T y) { return x / y; });
}

TEST_CASE_TEMPLATE("kernels: broadcast_to and sum_to match scalar loops bit for bit", T, float,
                   double) {
  std::mt19937_64 rng(11);
  // (small, big): broadcast_to goes small -> big, sum_to big -> small.
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{1, 37}, {13, 37}},          {{37}, {3, 9, 37}},       {{13, 1}, {13, 37}},
      {{1, 9, 1}, {3, 9, 37}},      {{3, 1, 37}, {3, 9, 37}}, {{}, {5, 37}},
      {{2, 1, 4, 1}, {2, 3, 4, 19}}};
  for (const auto& shapes : cases) {
    const Shape& small = shapes.first;
    const Shape& big = shapes.second;
    INFO(shape_str(small) << " <-> " << shape_str(big));
    const Tensor<T> s = random_values<T>(rng, small), x = random_values<T>(rng, big);

    xt::xarray<T> spread = xt::xarray<T>::from_shape(big);
    for_each_index(big, [&](size_t i, const std::vector<size_t>& idx) {
      spread.data()[i] = s.data()[broadcast_offset(idx, small)];
    });
    CHECK(same_bits(broadcast_to(s, big), spread));

    // Each output starts at zero and adds its terms in the order they lie in x.
    xt::xarray<T> summed = xt::zeros<T>(small);
    for_each_index(big, [&](size_t i, const std::vector<size_t>& idx) {
      summed.data()[broadcast_offset(idx, small)] += x.data()[i];
    });
    CHECK(same_bits(sum_to(x, small), summed));
  }
}

TEST_CASE_TEMPLATE("kernels: PReLU forward and first-order backward match scalar loops", T, float,
                   double) {
  std::mt19937_64 rng(13);
  for (const Shape& shape : {Shape{6, 37}, Shape{3, 5, 37}, Shape{1, 8}}) {
    INFO(shape_str(shape));
    const size_t f = shape.back(), rows = detail::numel_of(shape) / f;
    Tensor<T> x = random_values<T>(rng, shape, true);
    Tensor<T> alpha = random_values<T>(rng, {f}, true);
    const Tensor<T> g = random_values<T>(rng, shape);
    const Tensor<T> y = prelu(x, alpha);
    backward(std::vector<Tensor<T>>{y}, std::vector<Tensor<T>>{g});

    xt::xarray<T> want_y = xt::xarray<T>::from_shape(shape), want_dx = want_y;
    xt::xarray<T> want_da = xt::zeros<T>({f});
    for (size_t r = 0; r < rows; ++r)
      for (size_t j = 0; j < f; ++j) {
        const size_t i = r * f + j;
        const T v = x.data()[i], a = alpha.data()[j], gv = g.data()[i];
        want_y.data()[i] = v > T(0) ? v : a * v;
        want_dx.data()[i] = v > T(0) ? gv : gv * a;
        want_da.data()[j] += v > T(0) ? T(0) : gv * v;  // rows in order
      }
    // One multiply or select per value: the same bits on every compiler and processor.
    CHECK(same_bits(y, want_y));
    CHECK(same_bits(x.grad(), want_dx));
    // A sum of products, which a compiler may contract into fused multiply-adds in either loop
    // (GCC does across -march=native, clang within a statement): each of the `rows` terms may
    // then round once less, so the two sums agree to rows units in the last place, not in bits.
    const T ulp = std::numeric_limits<T>::epsilon();
    for (size_t j = 0; j < f; ++j) {
      T scale = 0;
      for (size_t r = 0; r < rows; ++r)
        scale += std::abs(g.data()[r * f + j] * x.data()[r * f + j]);
      CHECK(std::abs(alpha.grad().data()[j] - want_da.data()[j]) <= T(2 * rows) * ulp * scale);
    }
  }
}
