// Trains one weight by gradient descent through the installed headers and library.
#include <cmath>
#include <cstdio>
#include <tinyrec/autograd/autograd.hpp>
#include <tinyrec/nn/layers.hpp>

int main() {
  using namespace tinyrec;
  Tensor<float> w = Tensor<float>::zeros({1}, true);
  const Tensor<float> x = Tensor<float>::full({4}, 2.0f);
  for (int step = 0; step < 200; ++step) {
    Tensor<float> loss = mean(square(x * w - 6.0f));  // minimum at w = 3
    w.zero_grad();
    backward(loss);
    NoGradGuard no_grad;
    w.value()(0) -= 0.05f * w.grad().value()(0);
  }
  std::mt19937_64 rng(1);
  nn::Linear<float> layer(3, 2, rng);
  std::printf("w = %.4f, linear parameters = %zu\n", w.value()(0), layer.parameter_count());
  return std::abs(w.value()(0) - 3.0f) < 1e-3f && layer.parameter_count() == 8 ? 0 : 1;
}
