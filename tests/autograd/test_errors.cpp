// Misuse is reported, never silently computed: each error names the op and the shapes (or the id,
// axis or bound) that were wrong, with the exception type the engine documents.
#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using doctest::Contains;
using tinyrec::test::ids;
using tinyrec::test::make;

namespace {

Tensor<double> zeros(const Shape& s, bool requires_grad = false) {
  return Tensor<double>::zeros(s, requires_grad);
}

}  // namespace

TEST_CASE("broadcasting errors name the op and both shapes") {
  const auto a = zeros({2, 3}), b = zeros({4});
  CHECK_THROWS_WITH_AS(add(a, b), Contains("add: shapes [2, 3] and [4] cannot be broadcast"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(sub(b, a), Contains("sub: shapes [4] and [2, 3]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(mul(zeros({2, 1, 4}), zeros({3, 2})),
                       Contains("mul: shapes [2, 1, 4] and [3, 2]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(div(a, zeros({3, 3})), Contains("div: shapes [2, 3] and [3, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(a + b, Contains("add: shapes [2, 3] and [4]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(where(zeros({2}), a, a), Contains("where: shapes [2, 3] and [2]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(broadcast_to(zeros({3}), {2, 4}),
                       Contains("broadcast_to: shapes [3] and [2, 4]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(broadcast_to(a, {3}),
                       Contains("broadcast_to: shape [2, 3] cannot be broadcast to [3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(sum_to(zeros({3}), {2, 3}),
                       Contains("sum_to: shape [3] cannot be summed to [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(sum_to(a, {4}), Contains("sum_to: shapes [2, 3] and [4]"),
                       std::invalid_argument);
}

TEST_CASE("matmul errors name both shapes and the transpose flags") {
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({4, 5})),
                       Contains("matmul: shapes [2, 3] and [4, 5] do not chain"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(matmul(zeros({3, 2}), zeros({4, 5}), true, false),
                       Contains("matmul: shapes [3, 2]^T and [4, 5]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({5, 4}), false, true),
                       Contains("matmul: shapes [2, 3] and [5, 4]^T"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 2, 3}), zeros({3, 3, 4})),
                       Contains("matmul: shapes [2, 2, 3] and [3, 3, 4] have different batch"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(matmul(zeros({3}), zeros({3, 2})),
                       Contains("matmul: shapes [3] and [3, 2]: each operand must be 2-D or 3-D"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(matmul(zeros({1, 2, 3, 4}), zeros({4, 2})), Contains("must be 2-D or 3-D"),
                       std::invalid_argument);
  // The user's shapes, not an internal reshaping of them.
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3, 4}), zeros({5, 6})),
                       Contains("matmul: shapes [2, 3, 4] and [5, 6]"), std::invalid_argument);
}

TEST_CASE("shape op errors") {
  const auto x = zeros({2, 3});
  CHECK_THROWS_WITH_AS(concat<double>({x, zeros({2, 4})}, 0),
                       Contains("concat: shapes [2, 3] and [2, 4] differ outside axis 0"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(concat<double>({x, zeros({3})}, 0),
                       Contains("concat: shapes [2, 3] and [3] differ in rank"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(concat<double>({}, 0), Contains("concat: needs at least one tensor"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(reshape(x, {4}),
                       Contains("reshape: cannot reshape [2, 3] (6 elements) to [4]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(reshape_infer(x, {-1, -1}), Contains("reshape: only one size may be -1"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(reshape_infer(x, {4, -1}),
                       Contains("cannot infer the -1 size reshaping [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(reshape_infer(x, {-2, 3}), Contains("reshape: negative size -2"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(permute(x, {0}), Contains("permute: needs 2 axes for shape [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(permute(x, {1, 1}), Contains("permute: axes are not a permutation of 0..1"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(slice(x, 1, 1, 4),
                       Contains("slice: range [1, 4) is outside axis 1 of [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(slice(x, 1, 2, 1), Contains("slice: range [2, 1)"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(split(x, {1, 3}, 1),
                       Contains("split: sizes add up to 4 but axis 1 of [2, 3] has 3"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(chunk(x, 0, 1), Contains("chunk: needs at least one chunk"),
                       std::invalid_argument);
}

TEST_CASE("a bad axis is named with the shape") {
  const auto x = zeros({2, 3});
  CHECK_THROWS_WITH_AS(sum(x, {2}), Contains("sum: axis 2 is out of range for shape [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(mean(x, {-3}), Contains("mean: axis -3 is out of range for shape [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(sum(x, {0, -2}), Contains("sum: axis -2 given twice"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(max(x, 5), Contains("max: axis 5 is out of range for shape [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(softmax(x, 2), Contains("softmax: axis 2 is out of range for shape [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(log_softmax(x, -3), Contains("log_softmax: axis -3 is out of range"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(concat<double>({x, x}, 2), Contains("concat: axis 2 is out of range"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(slice(x, -3, 0, 1), Contains("slice: axis -3 is out of range"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(pad(x, 2, 1, 1), Contains("pad: axis 2 is out of range"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(transpose(x, 0, 2), Contains("transpose: axis 2 is out of range"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(index_select(x, 2, ids({0}, {1})),
                       Contains("index_select: axis 2 is out of range for shape [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(x.size(2), Contains("size: axis 2 out of range for shape [2, 3]"),
                       std::invalid_argument);
}

TEST_CASE("indexing errors name the id and the axis size") {
  const auto x = zeros({3, 2});
  CHECK_THROWS_WITH_AS(index_select(x, 0, ids({0, 3}, {2})),
                       Contains("index_select: id 3 at position 1 is out of range for an axis of "
                                "size 3"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(index_select(x, 0, ids({-2}, {1})), Contains("id -2 at position 0"),
                       std::invalid_argument);
  // −1 is not a valid id when no padding index is given.
  CHECK_THROWS_WITH_AS(index_select(x, 0, ids({1, -1}, {2})), Contains("id -1 at position 1"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(embedding(x, ids({-1}, {1})), Contains("id -1 at position 0"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(embedding(x, ids({5}, {1})), Contains("id 5 at position 0"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(embedding(zeros({4}), ids({0}, {1})),
                       Contains("embedding: the table must be 2-D [N, D], got [4]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(index_add(x, 0, ids({0, 1}, {2}), 4),
                       Contains("index_add: ids of shape [2] do not match [3, 2] at axis 0"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(index_add(x, 0, ids({0, 4, 1}, {3}), 4),
                       Contains("index_add: id 4 at position 1 is out of range for an axis of "
                                "size 4"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(index_add(x, 2, ids({0}, {1}), 4), Contains("index_add: axis 2"),
                       std::invalid_argument);
}

TEST_CASE("loss errors") {
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(zeros({2, 3}), ids({0, 3}, {2})),
                       Contains("softmax_cross_entropy: target 3 in row 1 is not a class of 3"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(zeros({2, 3}), ids({-1, 0}, {2})),
                       Contains("softmax_cross_entropy: target -1 in row 0"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(zeros({2, 3}), ids({0, 1, 2}, {3})),
                       Contains("softmax_cross_entropy: logits [2, 3] must be [N, C] and targets "
                                "[N], got [3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(zeros({3}), ids({0}, {1})),
                       Contains("softmax_cross_entropy: logits [3]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(bce_with_logits(zeros({2}), zeros({3})),
                       Contains("bce_with_logits: logits [2] and targets [3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(mse_loss(zeros({2}), zeros({2, 1})),
                       Contains("mse_loss: prediction [2] and target [2, 1]"),
                       std::invalid_argument);
}

TEST_CASE("other op errors") {
  CHECK_THROWS_WITH_AS(clamp(zeros({2}), 2.0, 1.0), Contains("clamp: lower bound 2"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(mean(zeros({0})), Contains("mean: of an empty tensor"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(mean(zeros({2, 0}), {1}), Contains("mean: over an empty axis of [2, 0]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(max(zeros({2, 0}), 1), Contains("max: over an empty axis of [2, 0]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(softmax(zeros({2, 3}), 1, zeros({3}, true)),
                       Contains("softmax: the mask must be a constant"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(softmax(zeros({2, 3}), 1, zeros({4})),
                       Contains("softmax: shapes [4] and [2, 3]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(log_softmax(zeros({1, 3}), 1, zeros({2, 3})),
                       Contains("log_softmax: shape [2, 3] cannot be broadcast to [1, 3]"),
                       std::invalid_argument);
}

TEST_CASE("backward misuse") {
  auto x = zeros({2, 3}, true);
  auto y = x * 2.0;
  CHECK_THROWS_WITH_AS(backward(y), Contains("backward: the output has shape [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(grad(y, {x}), Contains("grad: the output has shape [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(backward<double>({y}, {zeros({3})}),
                       Contains("backward: seed gradient of shape [3] for an output of shape "
                                "[2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(backward<double>({y, y}, {zeros({2, 3})}),
                       Contains("backward: 2 outputs but 1 seed gradients"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(backward(sum(zeros({2}))),
                       Contains("backward: the output does not require a gradient"),
                       std::logic_error);
  CHECK_THROWS_WITH_AS(grad(sum(x), {zeros({2})}),
                       Contains("grad: an input does not require a gradient"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(accumulate(x, zeros({2, 3})),
                       Contains("accumulate: called outside a backward pass"), std::logic_error);
  CHECK_THROWS_WITH_AS(x.set_grad(zeros({3})),
                       Contains("set_grad: gradient shape [3] does not match tensor shape [2, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(x.item(), Contains("item: tensor of shape [2, 3] has more than one element"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(
      gradcheck([](const std::vector<Tensor<double>>& in) { return sum(in[0]); }, {zeros({2})}),
      Contains("gradcheck: input 0 does not require a gradient"), std::invalid_argument);
}

TEST_CASE("an undefined tensor is refused, not dereferenced") {
  const Tensor<double> u;
  const auto x = zeros({2});
  CHECK_FALSE(u.defined());
  CHECK_FALSE(u.requires_grad());
  CHECK_THROWS_WITH_AS(u.value(), Contains("use of an undefined tensor"), std::logic_error);
  CHECK_THROWS_WITH_AS(u.shape(), Contains("use of an undefined tensor"), std::logic_error);
  CHECK_THROWS_WITH_AS(add(u, x), Contains("use of an undefined tensor"), std::logic_error);
  CHECK_THROWS_WITH_AS(exp(u), Contains("use of an undefined tensor"), std::logic_error);
  CHECK_THROWS_WITH_AS(matmul(u, u), Contains("use of an undefined tensor"), std::logic_error);
  CHECK_THROWS_WITH_AS(backward(u), Contains("use of an undefined tensor"), std::logic_error);
  CHECK_THROWS_WITH_AS(u.grad(), Contains("use of an undefined tensor"), std::logic_error);
}
