// Tests of SGD, Adagrad and Adam against torch.optim numbers, and of DIN's mini-batch aware
// regularization (values, which rows get a gradient, gradcheck).
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/autograd.hpp"
#include "nn/optim.hpp"

using namespace tinyrec;
using namespace tinyrec::nn;

namespace {

using Td = Tensor<double>;

template <class T>
struct Problem {
  Tensor<T> w{xt::xarray<T>{0.5, -1.0, 2.0}, true};
  Tensor<T> v{xt::xarray<T>{{0.1, 0.2}, {-0.3, 0.4}}, true};
  Tensor<T> idle{xt::xarray<T>{7.0}, true};  // never in the loss: its gradient stays undefined
  std::vector<Tensor<T>> params() { return {w, v, idle}; }
  // loss = Σ c·w² + Σ d·w + Σ v³: gradients change every step, so three steps test the state.
  void run(Optimizer<T>& opt, int steps) {
    const Tensor<T> c(xt::xarray<T>{1.0, 2.0, 0.5}), d(xt::xarray<T>{0.3, -0.2, 0.1});
    for (int s = 0; s < steps; ++s) {
      opt.zero_grad();
      backward(sum(w * w * c) + sum(w * d) + sum(v * v * v));
      opt.step();
    }
  }
};

template <class T>
void check_close(const Tensor<T>& t, const std::vector<double>& expect, double rel) {
  REQUIRE(t.numel() == expect.size());
  for (size_t i = 0; i < expect.size(); ++i) {
    CAPTURE(i);
    if (rel == 0)
      CHECK(static_cast<double>(t.data()[i]) == expect[i]);
    else
      CHECK(static_cast<double>(t.data()[i]) == doctest::Approx(expect[i]).epsilon(rel));
  }
}

// The expected values below were produced by /usr/bin/python3 with torch 1.13 running the same
// problem in float64 (torch.tensor(..., dtype=torch.float64), the optimizer named in each case,
// three steps of opt.zero_grad(); loss.backward(); opt.step()).
struct Case {
  std::string name;
  std::function<std::unique_ptr<Optimizer<double>>(std::vector<Td>)> make;
  std::vector<double> w, v;
};

}  // namespace

TEST_CASE("SGD: one step by hand") {
  Problem<double> p;
  SGD<double> opt(p.params(), 0.1);
  p.run(opt, 1);
  // g_w = 2·c·w + d = (1.3, −4.2, 2.1), g_v = 3v² = (0.03, 0.12, 0.27, 0.48); w −= 0.1·g.
  check_close(p.w, {0.37, -0.58, 1.79}, 1e-14);
  check_close(p.v, {0.097, 0.188, -0.327, 0.352}, 1e-14);
  check_close(p.idle, {7.0}, 0);
}

TEST_CASE("optimizers: three steps match torch.optim") {
  const std::vector<Case> cases = {
      {"SGD(lr=0.1)",
       [](std::vector<Td> ps) { return std::make_unique<SGD<double>>(ps, 0.1); },
       {0.18279999999999996, -0.1768, 1.4309},
       {0.091516490849413, 0.16795591260492798, -0.397759953838107, 0.285093648007168}},
      {"SGD(lr=0.1, momentum=0.9, weight_decay=0.01)",
       [](std::vector<Td> ps) { return std::make_unique<SGD<double>>(ps, 0.1, 0.9, 0.01); },
       {-0.1114709305, 0.6191664210000002, 0.911294988},
       {0.08347659108446667, 0.1380399546740411, -0.476065837730493, 0.17546492619568094}},
      {"Adagrad(lr=0.1, initial_accumulator_value=0.1, eps=1e-10)",
       [](std::vector<Td> ps) { return std::make_unique<Adagrad<double>>(ps, 0.1, 0.1, 1e-10); },
       {0.2900296727599122, -0.7804221545447646, 1.777318292967194},
       {0.0763864968760066, 0.12423563585878458, -0.5042434438686674, 0.23817797771350604}},
      {"Adagrad(lr=0.1, initial_accumulator_value=0.1, eps=1e-10, weight_decay=0.05)",
       [](std::vector<Td> ps) {
         return std::make_unique<Adagrad<double>>(ps, 0.1, 0.1, 1e-10, 0.05);
       },
       {0.2899690217886999, -0.7804176310019237, 1.7771779478145622},
       {0.0728946286074021, 0.11965812588325142, -0.5002402768106313, 0.2361145041480796}},
      {"Adam(lr=0.01)",
       [](std::vector<Td> ps) { return std::make_unique<Adam<double>>(ps, 0.01); },
       {0.47001600251588854, -0.9700095931540014, 1.9700046715408028},
       {0.07041539010285694, 0.170148775414821, -0.3300426134574204, 0.3700606567437342}},
      {"Adam(lr=0.01, weight_decay=0.1)",
       [](std::vector<Td> ps) {
         return std::make_unique<Adam<double>>(ps, 0.01, 0.9, 0.999, 1e-8, 0.1);
       },
       {0.4700161953638621, -0.9700096048940859, 1.970004692381293},
       {0.07033792639600066, 0.1701344655622716, -0.33004395436209194, 0.37005783378466656}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Problem<double> p;
    auto opt = c.make(p.params());
    p.run(*opt, 3);
    check_close(p.w, c.w, 1e-12);
    check_close(p.v, c.v, 1e-12);
    check_close(p.idle, {7.0}, 0);  // no gradient: skipped
  }
}

TEST_CASE("make_optimizer: the optimizer a name selects, with its defaults but for lr") {
  CHECK(optimizer_names() == std::vector<std::string>{"adam", "adagrad", "sgd"});
  const std::vector<std::pair<
      std::string, std::function<std::unique_ptr<Optimizer<double>>(std::vector<Td>, double)>>>
      direct = {
          {"adam",
           [](std::vector<Td> ps, double lr) { return std::make_unique<Adam<double>>(ps, lr); }},
          {"adagrad",
           [](std::vector<Td> ps, double lr) { return std::make_unique<Adagrad<double>>(ps, lr); }},
          {"sgd",
           [](std::vector<Td> ps, double lr) { return std::make_unique<SGD<double>>(ps, lr); }},
      };
  for (const auto& entry : direct) {
    const std::string& name = entry.first;
    const auto& make = entry.second;
    CAPTURE(name);
    Problem<double> by_name, by_type;
    auto named = make_optimizer<double>(name, by_name.params(), 0.05);
    REQUIRE(named != nullptr);
    CHECK(named->lr() == 0.05);
    CHECK(named->params().size() == 3);
    if (name == "adam") CHECK(dynamic_cast<Adam<double>*>(named.get()) != nullptr);
    if (name == "adagrad") CHECK(dynamic_cast<Adagrad<double>*>(named.get()) != nullptr);
    if (name == "sgd") CHECK(dynamic_cast<SGD<double>*>(named.get()) != nullptr);
    auto typed = make(by_type.params(), 0.05);
    by_name.run(*named, 3);
    by_type.run(*typed, 3);
    check_close(by_name.w, {by_type.w.data()[0], by_type.w.data()[1], by_type.w.data()[2]}, 0);
    check_close(
        by_name.v,
        {by_type.v.data()[0], by_type.v.data()[1], by_type.v.data()[2], by_type.v.data()[3]}, 0);
  }
  // Adam at lr 0.01 by name: torch.optim's numbers above.
  Problem<double> p;
  auto adam = make_optimizer<double>("adam", p.params(), 0.01);
  p.run(*adam, 3);
  check_close(p.w, {0.47001600251588854, -0.9700095931540014, 1.9700046715408028}, 1e-12);
  auto f = make_optimizer<float>("sgd", Problem<float>{}.params(), 0.1);
  CHECK(dynamic_cast<SGD<float>*>(f.get()) != nullptr);
  CHECK_THROWS_WITH_AS(make_optimizer<double>("rmsprop", p.params(), 0.1),
                       doctest::Contains("accepted: adam, adagrad, sgd"), std::invalid_argument);
}

TEST_CASE("Adam in float32 matches torch float32") {
  // torch 1.13, the same problem with dtype=torch.float32, Adam(lr=0.01), three steps.
  Problem<float> p;
  Adam<float> opt(p.params(), 0.01);
  p.run(opt, 3);
  check_close(p.w, {0.4700160026550293, -0.9700096249580383, 1.970004677772522}, 1e-6);
  check_close(p.v,
              {0.07041538506746292, 0.17014877498149872, -0.33004260063171387, 0.37006068229675293},
              1e-6);
}

TEST_CASE("Optimizer: lr, zero_grad, updates land in the model's tensors") {
  Problem<double> p;
  Adam<double> opt(p.params(), 0.5);
  CHECK(opt.lr() == 0.5);
  opt.set_lr(0.25);
  CHECK(opt.lr() == 0.25);
  CHECK_THROWS_AS(opt.set_lr(-1.0), std::invalid_argument);
  backward(sum(p.w));
  CHECK(p.w.grad().defined());
  opt.zero_grad();
  CHECK_FALSE(p.w.grad().defined());
  opt.step();  // no gradients: nothing moves
  check_close(p.w, {0.5, -1.0, 2.0}, 0);
  // The update lands in the tensor the caller holds (a handle, not a copy).
  backward(sum(p.w));
  opt.step();
  CHECK(p.w.data()[0] != 0.5);
  CHECK(opt.params()[0].same(p.w));
  CHECK_THROWS_AS(Adam<double>(p.params(), 0.1, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(SGD<double>({Td()}, 0.1), std::invalid_argument);
}

TEST_CASE("mba_regularization: penalises the unique touched rows, scaled by 1/n_j") {
  Td table(xt::xarray<double>{{0, 0}, {1, 2}, {3, 0}, {-1, 1}, {2, 2}}, true);
  const std::vector<int64_t> counts{0, 4, 10, 2, 0};  // id 4 never occurs, padding 0 has none
  // Batch ids 3, 1, 3 (twice), 0 (padding): unique {1, 3}.
  const Ids batch{{3, 1, 0}, {3, 0, 0}};
  Td r = mba_regularization(table, batch, counts, 0.5);
  // 0.5·(‖(1, 2)‖²/4 + ‖(−1, 1)‖²/2) = 0.5·(5/4 + 1) = 1.125
  CHECK(r.shape() == Shape{});
  CHECK(r.item() == doctest::Approx(1.125).epsilon(1e-15));
  backward(r);
  // d/dw_j = 2λ·w_j / n_j on touched rows, zero elsewhere.
  const xt::xarray<double> expect{{0, 0}, {0.25, 0.5}, {0, 0}, {-0.5, 0.5}, {0, 0}};
  CHECK(table.grad().value() == expect);

  const GradcheckResult g = gradcheck(
      [&](const std::vector<Td>&) { return mba_regularization(table, batch, counts, 0.5); },
      {table});
  CHECK_MESSAGE(g.ok, g.report());

  // Only padding in the batch: no penalty.
  CHECK(mba_regularization(table, Ids{{0, 0}}, counts, 0.5).item() == 0.0);
  CHECK_THROWS_WITH_AS(mba_regularization(table, Ids{4}, counts, 0.5),
                       "mba_regularization: id 4 occurs in the batch but has no training-set "
                       "count (counts has 5 entries)",
                       std::invalid_argument);
  CHECK_THROWS_AS(mba_regularization(table, Ids{5}, counts, 0.5), std::invalid_argument);
}

TEST_CASE("count_ids: occurrences over the training set") {
  std::vector<int64_t> counts(5, 0);
  count_ids(Ids{{1, 2, 2}, {0, 0, 4}}, counts);
  count_ids(Ids{2, 1}, counts);
  CHECK(counts == std::vector<int64_t>{2, 2, 3, 0, 1});
  CHECK_THROWS_WITH_AS(count_ids(Ids{1, 5}, counts),
                       "count_ids: id 5 at position 1 is outside [0, 5)", std::invalid_argument);
}
