// Internal: branch-free float exp, sigmoid and tanh over 8-lane vectors, for the fused kernels
// (the softmax cross-entropy of ops_loss.cpp, the GRU recurrence of ops_gru.cpp). libm's expf and
// tanhf are scalar calls with branches; these are straight-line code that GCC keeps in AVX2
// registers (or SSE pairs on older machines), so a whole [B, H] tile runs eight lanes at a time.
// exp exists once over vectors and once for a lone float (softmax tails); both give the same
// bits. Double arrays (gradient checks) go through libm: exact, and not on a hot path.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#ifdef __AVX__
#include <immintrin.h>
#endif

namespace tinyrec::vec {

// exp's constants, shared by the 8-lane and the scalar form so both give the same bits: log2(e),
// ln 2 split into a part exact in float and a correction, and exp(r)'s polynomial from r^5 down.
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2Hi = 0.693359375f, kLn2Lo = 2.12194440e-4f;
inline constexpr float kExpPoly[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                      4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

// GCC's vector extensions. Vectors are passed by reference and transformed in place: a 32-byte
// vector passed or returned by value draws GCC's ABI warning (-Wpsabi) in a build without AVX.
using F8 = float __attribute__((vector_size(32)));
using I8 = int32_t __attribute__((vector_size(32)));

inline void load8(F8& v, const float* p) {
  std::memcpy(&v, p, sizeof v);
}
inline void store8(float* p, const F8& v) {
  std::memcpy(p, &v, sizeof v);
}

// e^x in the Cephes expf scheme: x = n·ln 2 + r with |r| <= ln 2 / 2, e^r by a degree-6
// polynomial, 2^n through the exponent bits; relative error below 1e-7. exp8_in_range takes
// arguments the caller has already kept within [−87.3, 88.7] (σ clamps to ±80); exp8 clamps them
// there itself: arguments below −87.3 give the smallest normal float, not 0 (in a softmax sum that
// is nothing next to the row's maximum, which contributes e^0 = 1); above 88.7 they give e^88.7,
// not infinity.
inline void exp8_in_range(F8& x) {
  const F8 t = x * kLog2e + 0.5f;
#ifdef __AVX__
  // floor(t) in one rounding instruction; the same value as the portable form below.
  const F8 nf = _mm256_floor_ps(t);
  const I8 n = __builtin_convertvector(nf, I8);
#else
  I8 n = __builtin_convertvector(t, I8);  // truncation; one less where that rounded up: floor
  n += __builtin_convertvector(n, F8) > t;
  const F8 nf = __builtin_convertvector(n, F8);
#endif
  F8 r = x - nf * kLn2Hi;
  r = r + nf * kLn2Lo;
  F8 p = F8{} + kExpPoly[0];
  for (int i = 1; i < 6; ++i) p = p * r + kExpPoly[i];
  const F8 y = p * r * r + r + 1.0f;
  const I8 bits = (n + 127) << 23;
  F8 scale;
  std::memcpy(&scale, &bits, sizeof scale);
  x = y * scale;
}
inline void exp8(F8& x) {
  const F8 lo = F8{} - 87.3f, hi = F8{} + 88.7f;
  x = x < lo ? lo : x;
  x = x > hi ? hi : x;
  exp8_in_range(x);
}

inline float exp1(float x) {
  x = std::min(std::max(x, -87.3f), 88.7f);
  const float n = std::floor(x * kLog2e + 0.5f);
  float r = x - n * kLn2Hi;
  r = r + n * kLn2Lo;
  float p = kExpPoly[0];
  for (int i = 1; i < 6; ++i) p = p * r + kExpPoly[i];
  const float y = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

// σ(x) = 1 / (1 + e^−x). The argument is kept within ±80 so that neither the exp saturates nor the
// result falls into the denormals (slow on some cores): σ(−80) ≈ 1.8e-35 instead of ≈ 0.
inline void sigmoid8(F8& x) {
  const F8 lo = F8{} - 80.0f, hi = F8{} + 80.0f;
  x = x < lo ? lo : x;
  x = x > hi ? hi : x;
  F8 e = -x;
  exp8_in_range(e);
  x = 1.0f / (1.0f + e);
}

// tanh(x): near 0 the odd polynomial x + x³·P(x²) of Cephes' tanhf (|x| < 0.625, where
// 1 − 2/(e^{2x} + 1) would lose the relative precision of small results), elsewhere
// sign(x)·(1 − 2/(e^{2|x|} + 1)). Both are computed and one is selected: no branch.
inline void tanh8(F8& x) {
  const F8 zero = F8{}, near = F8{} + 0.625f;
  const F8 ax = x < zero ? -x : x;
  const F8 s = x * x;
  F8 p = F8{} - 5.70498872745e-3f;
  p = p * s + 2.06390887954e-2f;
  p = p * s - 5.37397155531e-2f;
  p = p * s + 1.33314422036e-1f;
  p = p * s - 3.33332819422e-1f;
  const F8 small = p * s * x + x;
  F8 e = ax + ax;
  exp8(e);
  const F8 big = 1.0f - 2.0f / (e + 1.0f);  // |tanh|; e^{2|x|} saturates to 1 − 0
  const F8 signed_big = x < zero ? -big : big;
  x = ax < near ? small : signed_big;
}

// z = σ(z + p + q) and z = tanh(z + p + q) over n elements: a gate's pre-activation is the sum of
// its recurrent product (already in z), its input term and its bias. A length that is not a
// multiple of 8 (a GRU row of 36) ends with one vector over the last 8 elements, computed before
// the others are stored: the overlap gets the same values twice, and no element runs scalar.
template <class F>
inline void map_sum(float* z, const float* p, const float* q, size_t n, F f8) {
  F8 a, b, c;
  if (n < 8) {
    float in[8] = {}, pp[8] = {}, qq[8] = {};
    std::memcpy(in, z, n * sizeof(float));
    std::memcpy(pp, p, n * sizeof(float));
    std::memcpy(qq, q, n * sizeof(float));
    load8(a, in), load8(b, pp), load8(c, qq);
    a = a + b + c;
    f8(a);
    store8(in, a);
    std::memcpy(z, in, n * sizeof(float));
    return;
  }
  const bool tail = n % 8 != 0;  // a row of 2H = 72 has none: no vector computed twice
  F8 last;
  if (tail) {
    load8(last, z + n - 8), load8(b, p + n - 8), load8(c, q + n - 8);
    last = last + b + c;
    f8(last);
  }
  for (size_t i = 0; i + 8 <= n; i += 8) {
    load8(a, z + i), load8(b, p + i), load8(c, q + i);
    a = a + b + c;
    f8(a);
    store8(z + i, a);
  }
  if (tail) store8(z + n - 8, last);
}
inline void sigmoid_sum(float* z, const float* p, const float* q, size_t n) {
  map_sum(z, p, q, n, sigmoid8);
}
inline void sigmoid_sum(double* z, const double* p, const double* q, size_t n) {
  for (size_t i = 0; i < n; ++i) z[i] = 1.0 / (1.0 + std::exp(-(z[i] + p[i] + q[i])));
}
inline void tanh_sum(float* z, const float* p, const float* q, size_t n) {
  map_sum(z, p, q, n, tanh8);
}
inline void tanh_sum(double* z, const double* p, const double* q, size_t n) {
  for (size_t i = 0; i < n; ++i) z[i] = std::tanh(z[i] + p[i] + q[i]);
}

// Elementwise row kernels written once for both scalar types: `body(zero, k)` computes lanes
// [k, k + w) of a row, with `zero` a vector of w lanes (8 floats or 4 doubles in 32 bytes) or, for
// rows shorter than one vector, a scalar (by reference: a vector passed by value draws -Wpsabi,
// as above); `load`/`store` move either kind. for_lanes calls it on
// every full vector and, when w does not divide n, once more on the last w lanes: those overlap
// lanes already written, so a body must not read what it writes (each lane then gets the same
// value twice). A GRU row of H = 36 floats is four vectors and an overlapping fifth, with no
// scalar tail loop; each lane's arithmetic is the same expression as the scalar loop's, so the
// results are too.
using D4 = double __attribute__((vector_size(32)));
template <class T>
struct Lanes;
template <>
struct Lanes<float> {
  using V = F8;
  static constexpr size_t width = 8;
};
template <>
struct Lanes<double> {
  using V = D4;
  static constexpr size_t width = 4;
};
inline void load(F8& v, const float* p) {
  std::memcpy(&v, p, sizeof v);
}
inline void load(D4& v, const double* p) {
  std::memcpy(&v, p, sizeof v);
}
inline void load(float& v, const float* p) {
  v = *p;
}
inline void load(double& v, const double* p) {
  v = *p;
}
inline void store(float* p, const F8& v) {
  std::memcpy(p, &v, sizeof v);
}
inline void store(double* p, const D4& v) {
  std::memcpy(p, &v, sizeof v);
}
inline void store(float* p, float v) {
  *p = v;
}
inline void store(double* p, double v) {
  *p = v;
}

template <class T, class Body>
inline void for_lanes(size_t n, const Body& body) {
  using V = typename Lanes<T>::V;
  constexpr size_t w = Lanes<T>::width;
  if (n < w) {
    const T scalar = 0;
    for (size_t k = 0; k < n; ++k) body(scalar, k);
    return;
  }
  const V zero{};
  for (size_t k = 0; k + w <= n; k += w) body(zero, k);
  if (n % w) body(zero, n - w);
}

// dst[0, n) = src[0, n) for short float rows (a transposition's pieces), in vectors rather than a
// memmove call per row; the same overlapping last vector as above.
inline void copy_row(float* dst, const float* src, size_t n) {
  if (n < 8) {
    for (size_t i = 0; i < n; ++i) dst[i] = src[i];
    return;
  }
  F8 v, last;
  load8(last, src + n - 8);
  for (size_t i = 0; i + 8 <= n; i += 8) {
    load8(v, src + i);
    store8(dst + i, v);
  }
  store8(dst + n - 8, last);
}
inline void copy_row(double* dst, const double* src, size_t n) {
  std::copy(src, src + n, dst);
}

}  // namespace tinyrec::vec
