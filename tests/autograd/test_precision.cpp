// float (training) and double (gradient checks) run through the same templated code: a forward pass
// touching every family of ops, and its gradients, agree in both types to float precision.
#include <cmath>

#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::ids;
using tinyrec::test::make;

namespace {

std::vector<double> values(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(n);
  for (auto& e : v) e = u(rng);
  return v;
}

// One output per op family, all computed in T from the same inputs x [2,3] and w [3,2].
template <class T>
std::vector<Tensor<T>> forward_all(const Tensor<T>& x, const Tensor<T>& w) {
  const auto pos = exp(x);  // positive, for log, sqrt and pow
  const auto mask = make<T>({1, 0, 1, 1, 1, 0}, {2, 3});
  const auto wt = transpose(w);
  std::vector<Tensor<T>> out;
  out.push_back(x + wt * x - x / (pos + 1.0) + (3.0 - x) * 0.5);
  out.push_back(pow(pos, 1.7) + sqrt(pos) + log(pos + 0.5) + square(x) - 2.0 / pos);
  out.push_back(relu(x) + leaky_relu(x, 0.1) + clamp(x, -0.5, 0.5) + sigmoid(x) + tanh(x) +
                logsigmoid(x) - neg(x));
  out.push_back(where(mask, x, wt) + masked_fill(x, mask, 3.0));
  out.push_back(concat<T>({sum(x, {1}, true), mean(x, {1}, true), max(x, 1, true),
                           broadcast_to(reshape(sum(x), {1, 1}), {2, 1}), sum_to(x, {2, 1})},
                          1));
  out.push_back(matmul(x, w) + matmul(w, x, true, true));
  out.push_back(softmax(x, -1) + log_softmax(x, 0) + softmax(x, 1, mask) +
                log_softmax(x, -1, mask));
  out.push_back(reshape(slice(pad(permute(x, {1, 0}), 0, 1, 1), 0, 0, 4), {2, 4}));
  out.push_back(embedding(w, ids({2, 0, 2}, {3})) * 2.0);
  out.push_back(index_add(x, 1, ids({1, 0, 1}, {3}), 2) + index_select(x, 1, ids({2, 2}, {2})));
  out.push_back(chunk(x, 2, 1)[0] * split(x, {2, 1}, 1)[0]);
  out.push_back(concat<T>(
      {reshape(bce_with_logits(x, sigmoid(wt)), {1}),
       reshape(softmax_cross_entropy(x, ids({2, 0}, {2})), {1}), reshape(mse_loss(x, wt), {1})},
      0));
  return out;
}

}  // namespace

TEST_CASE("float and double agree on forward values and gradients") {
  const std::vector<double> a = values(6, 901), b = values(6, 902);
  auto xf = make<float>(a, {2, 3}, true), wf = make<float>(b, {3, 2}, true);
  auto xd = make<double>(a, {2, 3}, true), wd = make<double>(b, {3, 2}, true);
  const auto of = forward_all(xf, wf);
  const auto od = forward_all(xd, wd);
  REQUIRE(of.size() == od.size());
  Tensor<float> total_f = Tensor<float>::scalar(0);
  Tensor<double> total_d = Tensor<double>::scalar(0);
  for (size_t k = 0; k < of.size(); ++k) {
    INFO("output " << k);
    REQUIRE(shape_str(of[k].shape()) == shape_str(od[k].shape()));
    for (size_t i = 0; i < od[k].numel(); ++i) {
      INFO("element " << i);
      const double d = od[k].data()[i];
      CHECK(std::abs(static_cast<double>(of[k].data()[i]) - d) <=
            2e-6 * std::max(1.0, std::abs(d)));
    }
    total_f = total_f + sum(of[k]) * static_cast<float>(k + 1);
    total_d = total_d + sum(od[k]) * static_cast<double>(k + 1);
  }
  backward(total_f);
  backward(total_d);
  for (const auto& [gf, gd] : {std::pair{xf.grad(), xd.grad()}, std::pair{wf.grad(), wd.grad()}}) {
    REQUIRE(gf.defined());
    for (size_t i = 0; i < gd.numel(); ++i) {
      INFO("gradient element " << i);
      const double d = gd.data()[i];
      CHECK(std::abs(static_cast<double>(gf.data()[i]) - d) <= 1e-5 * std::max(1.0, std::abs(d)));
    }
  }
}
