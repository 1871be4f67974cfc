// Parameter initializers.
#include "nn/init.hpp"

#include <cmath>
#include <stdexcept>

namespace tinyrec::nn::init {

template <class T>
void xavier_uniform_(Tensor<T> t, std::mt19937_64& rng, double gain) {
  if (t.dim() != 2)
    throw std::invalid_argument("xavier_uniform_: needs a 2-D tensor, got shape " +
                                shape_str(t.shape()));
  const double fans = static_cast<double>(t.shape()[0] + t.shape()[1]);
  const double bound = gain * std::sqrt(6.0 / fans);
  uniform_(t, rng, -bound, bound);
}

template <class T>
void normal_(Tensor<T> t, std::mt19937_64& rng, double std, double mean) {
  if (!(std >= 0))
    throw std::invalid_argument("normal_: std must be >= 0, got " + std::to_string(std));
  std::normal_distribution<double> dist(mean, std);
  T* p = t.data();
  for (size_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(dist(rng));
}

template <class T>
void uniform_(Tensor<T> t, std::mt19937_64& rng, double a, double b) {
  if (!(a <= b))
    throw std::invalid_argument("uniform_: lower bound " + std::to_string(a) +
                                " is above upper bound " + std::to_string(b));
  std::uniform_real_distribution<double> dist(a, b);
  T* p = t.data();
  for (size_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(dist(rng));
}

template <class T>
void constant_(Tensor<T> t, double value) {
  T* p = t.data();
  for (size_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(value);
}

#define TINYREC_INSTANTIATE_INIT(T)                                    \
  template void xavier_uniform_(Tensor<T>, std::mt19937_64&, double);  \
  template void normal_(Tensor<T>, std::mt19937_64&, double, double);  \
  template void uniform_(Tensor<T>, std::mt19937_64&, double, double); \
  template void constant_(Tensor<T>, double);
TINYREC_INSTANTIATE_INIT(float)
TINYREC_INSTANTIATE_INIT(double)

}  // namespace tinyrec::nn::init
