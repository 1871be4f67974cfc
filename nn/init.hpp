// Parameter initializers. Each fills a tensor's value in place from an explicitly seeded
// std::mt19937_64, so the same seed builds the same model. Draws are made in double and rounded
// to T, so a float model and a double model built from one seed hold the same numbers.
#pragma once

#include <random>

#include "autograd/tensor.hpp"

namespace tinyrec::nn::init {

// Glorot & Bengio (2010): U(−b, b) with b = gain·√(6 / (fan_in + fan_out)); t must be 2-D
// ([in, out] or [num, dim]), where fan_in = shape[0] and fan_out = shape[1].
template <class T>
void xavier_uniform_(Tensor<T> t, std::mt19937_64& rng, double gain = 1.0);
// N(mean, std²).
template <class T>
void normal_(Tensor<T> t, std::mt19937_64& rng, double std, double mean = 0.0);
// U(a, b).
template <class T>
void uniform_(Tensor<T> t, std::mt19937_64& rng, double a, double b);
template <class T>
void constant_(Tensor<T> t, double value);
template <class T>
void zeros_(Tensor<T> t) {
  constant_(t, 0.0);
}

}  // namespace tinyrec::nn::init
