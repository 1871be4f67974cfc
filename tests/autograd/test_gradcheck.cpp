// The checker itself: gradcheck must catch a wrong backward rule and gradgradcheck one that is not
// differentiable, and report where; otherwise a passing suite would prove nothing.
#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::In;
using tinyrec::test::make;

namespace {

// x² with a backward rule of x instead of 2x.
Tensor<double> wrong_square(const Tensor<double>& x) {
  Tensor<double> out(x.value() * x.value());
  if (should_record(x))
    record(out, [x](const Tensor<double>&, const Tensor<double>& g) { accumulate(x, g * x); });
  return out;
}

// x² with the right rule, but computed from raw values: correct to first order, invisible to a
// recording backward pass.
Tensor<double> opaque_square(const Tensor<double>& x) {
  Tensor<double> out(x.value() * x.value());
  if (should_record(x))
    record(out, [x](const Tensor<double>&, const Tensor<double>& g) {
      accumulate(x, g * Tensor<double>(x.value() * 2.0));
    });
  return out;
}

}  // namespace

TEST_CASE("gradcheck catches a wrong backward rule and names the element") {
  const auto x = make({0.5, -1, 2}, {3}, true);
  const GradcheckResult bad = gradcheck([](const In& in) { return wrong_square(in[0]); }, {x});
  CHECK_FALSE(bad.ok);
  CHECK(bad.checked == 3);
  // The worst element is x = 2: analytic w·2 against numeric w·4.
  CHECK(bad.worst_index == 2);
  CHECK(bad.worst_numeric == doctest::Approx(2 * bad.worst_analytic).epsilon(1e-6));
  CHECK(bad.report().find("FAILED") != std::string::npos);
  CHECK(bad.report().find("element 2") != std::string::npos);

  const GradcheckResult good = gradcheck([](const In& in) { return square(in[0]); }, {x});
  CHECK(good.ok);
  CHECK(good.max_abs_error < 1e-8);
  CHECK(good.report().find("passed") != std::string::npos);
  // A value the gradient ignores: detach hides x from the graph, finite differences do not.
  CHECK_FALSE(gradcheck([](const In& in) { return in[0].detach() * 2.0; }, {x}).ok);
}

TEST_CASE("gradgradcheck catches a backward rule that is not differentiable") {
  const auto x = make({0.5, -1, 2}, {3}, true);
  CHECK(gradcheck([](const In& in) { return opaque_square(in[0]); }, {x}).ok);
  CHECK_FALSE(gradgradcheck([](const In& in) { return opaque_square(in[0]); }, {x}).ok);
  CHECK(gradgradcheck([](const In& in) { return square(in[0]); }, {x}).ok);
}
