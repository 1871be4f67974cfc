// Anomaly mode: the first recorded op whose output holds a NaN or an Inf is named with its shapes,
// in the forward pass (when it is recorded) and in the backward pass (when its backward sends a
// non-finite gradient); off, nothing is checked and non-finite values flow as they always did.
#include <limits>
#include <string>

#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::make;

namespace {

// The message of the AnomalyError `f` throws; fails the test when it throws none.
template <class F>
std::string anomaly_of(F&& f) {
  std::string msg;
  try {
    f();
  } catch (const AnomalyError& e) {
    msg = e.what();
  }
  CHECK_MESSAGE(!msg.empty(), "no AnomalyError");
  return msg;
}

// A custom op whose backward sends NaN to its input: y = 2x, dy/dx "= NaN". A template, as the
// library's ops are: clang keeps the enclosing function in the type of a lambda only when that
// function is a template or inline (elsewhere it numbers the lambda, `$_1`).
template <class T>
Tensor<T> broken_double(const Tensor<T>& x) {
  Tensor<T> out(xt::xarray<T>(x.value() * T(2)));
  if (should_record(x))
    record(out, [x](const Tensor<T>&, const Tensor<T>& g) {
      accumulate(x, g * std::numeric_limits<T>::quiet_NaN());
    });
  return out;
}

}  // namespace

TEST_CASE("anomaly mode is off by default, and its guard restores the previous setting") {
  CHECK_FALSE(detect_anomaly_enabled());
  {
    DetectAnomalyGuard on;
    CHECK(detect_anomaly_enabled());
    {
      DetectAnomalyGuard off(false);
      CHECK_FALSE(detect_anomaly_enabled());
    }
    CHECK(detect_anomaly_enabled());
  }
  CHECK_FALSE(detect_anomaly_enabled());
  set_detect_anomaly(true);
  CHECK(detect_anomaly_enabled());
  set_detect_anomaly(false);
  CHECK_FALSE(detect_anomaly_enabled());
}

TEST_CASE("anomaly: forward — log of a negative number is named with its shapes") {
  DetectAnomalyGuard on;
  const auto x = make({0.5, -1.0, 2.0, 3.0}, {4, 1}, true);
  const std::string msg = anomaly_of([&] { log(x); });
  CHECK(msg == "anomaly: forward of log produced NaN in output [4, 1] from inputs [4, 1]");
  // A finite op before it passes; the first bad one is the one named.
  const std::string later = anomaly_of([&] { log(x * 2.0 - 1.5); });
  CHECK(later == "anomaly: forward of log produced NaN in output [4, 1] from inputs [4, 1]");
}

TEST_CASE("anomaly: forward — Inf, and only the inputs needing a gradient are listed") {
  DetectAnomalyGuard on;
  const auto w = make({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  const auto data =
      make({1.0, std::numeric_limits<double>::infinity(), 0.0, 1.0, 0.0, 1.0}, {3, 2});
  CHECK(anomaly_of([&] { matmul(w, data); }) ==
        "anomaly: forward of matmul produced Inf in output [2, 2] from inputs [2, 3]");
  const auto both = make({0.0, 1.0}, {2}, true);
  CHECK(anomaly_of([&] { both / both; }) ==
        "anomaly: forward of div produced NaN in output [2] from inputs [2], [2]");
  // An op on data alone is not recorded, so not checked: its NaN reaches the next recorded op.
  const auto nan_data = make({std::numeric_limits<double>::quiet_NaN(), 1.0}, {2});
  const auto v = make({1.0, 1.0}, {2}, true);
  CHECK(anomaly_of([&] { exp(log(nan_data)) + v; }) ==
        "anomaly: forward of add produced NaN in output [2] from inputs [2]");
}

TEST_CASE("anomaly: backward — sqrt at 0 sends an infinite gradient, named with its op") {
  const auto x = make({0.0, 4.0}, {2}, true);
  {
    DetectAnomalyGuard on;
    const auto y = sqrt(x);  // finite: 0 and 2
    const auto loss = sum(y * 3.0);
    CHECK(anomaly_of([&] { backward(loss); }) ==
          "anomaly: backward of sqrt produced Inf in the gradient of its input [2] (inputs [2], "
          "output [2])");
    CHECK_FALSE(x.grad().defined());  // the failed pass accumulated nothing
  }
  Tape<double>::current().clear();
}

TEST_CASE("anomaly: backward — a custom op is named by the function that records it") {
  DetectAnomalyGuard on;
  const auto x = make({1.0, 2.0, 3.0}, {3}, true);
  const auto loss = sum(broken_double(x));
  CHECK(anomaly_of([&] { backward(loss); }) ==
        "anomaly: backward of broken_double produced NaN in the gradient of its input [3] "
        "(inputs [3], output [3])");
  Tape<double>::current().clear();
}

TEST_CASE("anomaly: an op run by a recording backward pass names the op whose backward ran it") {
  DetectAnomalyGuard on;
  const auto x = make({0.0, 4.0}, {2}, true);
  const auto y = sqrt(x);
  // create_graph records sqrt's backward, g / (2y): the division by 2·0 is where Inf appears.
  const std::string msg = anomaly_of([&] { grad(sum(y), {x}, true); });
  CHECK(msg.rfind("anomaly: div in the backward of sqrt produced Inf in output [2] from inputs ",
                  0) == 0);
  Tape<double>::current().clear();
}

TEST_CASE("anomaly: a non-finite seed gradient is named as the seed") {
  DetectAnomalyGuard on;
  const auto x = make({1.0, 2.0}, {2}, true);
  const auto y = x * 2.0;
  const auto seed = make({std::numeric_limits<double>::quiet_NaN(), 1.0}, {2});
  CHECK(anomaly_of([&] { backward(std::vector<Tensor<double>>{y}, {seed}); }) ==
        "anomaly: the gradient seeding backward() holds NaN (shape [2])");
  Tape<double>::current().clear();
}

TEST_CASE("anomaly mode off: nothing is checked, non-finite values flow as before") {
  REQUIRE_FALSE(detect_anomaly_enabled());
  const auto x = make({0.0, -1.0}, {2}, true);
  const auto y = log(x);  // -Inf and NaN, no error
  CHECK(std::isinf(y.value()(0)));
  CHECK(std::isnan(y.value()(1)));
  const auto r = make({0.0, 4.0}, {2}, true);
  backward(sum(sqrt(r)));
  CHECK(std::isinf(r.grad().value()(0)));
  CHECK(r.grad().value()(1) == doctest::Approx(0.25));
  const auto z = make({1.0}, {1}, true);
  backward(sum(broken_double(z)));
  CHECK(std::isnan(z.grad().value()(0)));
}

TEST_CASE("op_name reads the recording function from a backward lambda's type") {
  auto in_a_test = [](const Tensor<double>&, const Tensor<double>&) {};
  const BackwardFn<double> fn(in_a_test);
  REQUIRE(fn.target_type() != nullptr);
  // This lambda is defined in a doctest test function, whose generated name is not ours to know
  // (and clang numbers the lambda instead): no template arguments, parameters or namespaces.
  const std::string name = op_name(*fn.target_type());
  CHECK(!name.empty());
  CHECK(name.find_first_of("<>():") == std::string::npos);
  struct NamedFunctor {
    void operator()(const Tensor<double>&, const Tensor<double>&) const {}
  };
  const BackwardFn<double> functor{NamedFunctor{}};
  CHECK(op_name(*functor.target_type()) == "NamedFunctor");
  struct Layer {  // a lambda recorded by a member function is named with its class
    BackwardFn<double> forward() const {
      return [](const Tensor<double>&, const Tensor<double>&) {};
    }
  };
  CHECK(op_name(*Layer().forward().target_type()) == "Layer::forward");
  CHECK(BackwardFn<double>().target_type() == nullptr);
}
