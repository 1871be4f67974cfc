// Tape semantics: gradients accumulate and zero_grad clears them; detach and NoGradGuard cut
// recording; backward releases the graph it ran unless retain_graph, and nothing else; a pass
// walks only its output's part of the tape; grad() returns gradients without touching .grad();
// leaves and non-leaves; requires_grad propagation; multiple outputs with seeds.
#include <thread>

#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::ids;
using tinyrec::test::make;

namespace {

Tape<double>& tape() {
  return Tape<double>::current();
}

// Starts a test from an empty tape: earlier tests (gradcheck keeps the tape) may have left entries.
void fresh_tape() {
  tape().clear();
  REQUIRE(tape().size() == 0);
}

}  // namespace

TEST_CASE("gradients accumulate over backward calls; zero_grad clears them") {
  auto x = make({1, 2}, {2}, true);
  backward(sum(x * x));  // 2x
  CHECK_TENSOR(x.grad(), {2}, {2, 4});
  backward(sum(x * x * 3.0));  // + 6x
  CHECK_TENSOR(x.grad(), {2}, {8, 16});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  backward(sum(x));
  CHECK_TENSOR(x.grad(), {2}, {1, 1});
}

TEST_CASE("the same tensor reached along several paths sums its contributions") {
  auto x = make({2}, {1}, true);
  auto y = x * x;                     // x²
  auto z = y + y * 3.0 + exp(y - y);  // 4x² + 1
  backward(sum(z));
  CHECK_TENSOR(x.grad(), {1}, {16});  // 8x
}

TEST_CASE("detach cuts the graph") {
  auto x = make({1, 2}, {2}, true);
  auto y = x * x;
  auto d = y.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.is_leaf());
  CHECK_TENSOR(d, {2}, {1, 4});
  backward(sum(d * x));  // y is a constant here: d/dx (x²·x with x² frozen) = x²
  CHECK_TENSOR(x.grad(), {2}, {1, 4});
  // The detached value is a copy: changing it leaves the graph's value alone.
  d.data()[0] = 100;
  CHECK(y.data()[0] == 1);
  // A graph made only of detached tensors does not record and cannot be differentiated.
  auto e = d * 2.0;
  CHECK_FALSE(e.requires_grad());
}

TEST_CASE("NoGradGuard records nothing, nests, and restores the mode") {
  fresh_tape();
  auto x = make({1, 2}, {2}, true);
  CHECK(grad_enabled());
  {
    NoGradGuard outer;
    CHECK_FALSE(grad_enabled());
    auto y = exp(x * x) + x;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
    CHECK(tape().size() == 0);
    {
      NoGradGuard inner;
      CHECK_FALSE(grad_enabled());
    }
    CHECK_FALSE(grad_enabled());  // the inner guard restored "off", not "on"
    {
      GradModeGuard on(true);
      auto z = x * 2.0;
      CHECK(z.requires_grad());
      CHECK(tape().size() == 1);
    }
    CHECK_FALSE(grad_enabled());
  }
  CHECK(grad_enabled());
  auto w = x * 2.0;
  CHECK(w.requires_grad());
  CHECK(tape().size() == 2);
}

TEST_CASE("backward releases the tape; retain_graph keeps it") {
  fresh_tape();
  auto x = make({1, 2}, {2}, true);
  auto loss = sum(x * x);
  CHECK(tape().size() == 2);  // mul, sum
  backward(loss);
  CHECK(tape().size() == 0);
  CHECK_TENSOR(x.grad(), {2}, {2, 4});
  x.zero_grad();

  auto loss2 = sum(x * x);
  backward(loss2, /*retain_graph=*/true);
  CHECK(tape().size() == 2);
  CHECK_TENSOR(x.grad(), {2}, {2, 4});
  backward(loss2);  // the second pass over the retained graph doubles the gradient
  CHECK_TENSOR(x.grad(), {2}, {4, 8});
  CHECK(tape().size() == 0);
  // Now the graph is gone: a third backward must say so rather than return nothing.
  CHECK_THROWS_WITH_AS(backward(loss2), doctest::Contains("released by an earlier backward()"),
                       std::logic_error);
  CHECK_TENSOR(x.grad(), {2}, {4, 8});  // unchanged by the failed call
}

TEST_CASE("a tensor from a released graph refuses to carry a gradient") {
  fresh_tape();
  auto x = make({3}, {1}, true);
  auto h = x * 2.0;
  backward(sum(h * h));
  // h's own entry is gone; a new graph built on h cannot reach x.
  auto again = sum(h * x);
  CHECK_THROWS_WITH_AS(backward(again), doctest::Contains("released by an earlier backward()"),
                       std::logic_error);
  // Detaching h is the way out: the gradient then flows only through x.
  x.zero_grad();
  backward(sum(h.detach() * x));
  CHECK_TENSOR(x.grad(), {1}, {6});
}

TEST_CASE("grad() returns gradients and leaves .grad() and the tape alone") {
  fresh_tape();
  auto x = make({1, 2}, {2}, true);
  auto unused = make({5, 6, 7}, {3}, true);
  x.set_grad(make({10, 10}, {2}));
  auto y = sum(x * x * x);  // 3x²
  const size_t entries = tape().size();
  auto g = grad(y, {x, unused});
  REQUIRE(g.size() == 2);
  CHECK_TENSOR(g[0], {2}, {3, 12});
  // An input the output does not depend on gets zeros of its shape.
  CHECK_TENSOR(g[1], {3}, {0, 0, 0});
  CHECK_TENSOR(x.grad(), {2}, {10, 10});
  CHECK_FALSE(unused.grad().defined());
  CHECK(tape().size() == entries);
  // The graph is still there, so grad() can run again, here with respect to an intermediate.
  auto h = x * x;
  auto z = sum(h * 2.0);
  auto gh = grad(z, {h, x});
  CHECK_TENSOR(gh[0], {2}, {2, 2});
  CHECK_TENSOR(gh[1], {2}, {4, 8});  // 4x
  // Without create_graph the results are plain values.
  CHECK_FALSE(gh[1].requires_grad());
}

TEST_CASE("leaves get .grad, non-leaves do not") {
  auto x = make({1, 2}, {2}, true);
  auto h = x * 2.0;
  CHECK(x.is_leaf());
  CHECK_FALSE(h.is_leaf());
  CHECK(h.requires_grad());
  backward(sum(h * h));  // 4x²: 8x
  CHECK_TENSOR(x.grad(), {2}, {8, 16});
  CHECK_FALSE(h.grad().defined());
  // A non-leaf may not be switched off; detach() is the way.
  CHECK_THROWS_AS(h.requires_grad_(false), std::logic_error);
}

TEST_CASE("requires_grad propagates from any input") {
  auto a = make({1, 2}, {2}, true);
  auto b = make({3, 4}, {2});
  CHECK((a + b).requires_grad());
  CHECK((b * a).requires_grad());
  CHECK(concat<double>({b, a}, 0).requires_grad());
  CHECK(matmul(reshape(b, {1, 2}), reshape(a, {2, 1})).requires_grad());
  const auto c = b * b + 1.0;
  CHECK_FALSE(c.requires_grad());
  CHECK(c.is_leaf());
  backward(sum(a * b));
  CHECK_TENSOR(a.grad(), {2}, {3, 4});
  CHECK_FALSE(b.grad().defined());  // a constant gets nothing
  // A leaf can be switched on afterwards and then takes part.
  b.requires_grad_();
  backward(sum(a * b));
  CHECK_TENSOR(b.grad(), {2}, {1, 2});
}

TEST_CASE("backward from several outputs with seeds, and from a leaf") {
  auto x = make({1, 2}, {2}, true);
  auto y1 = x * 3.0;
  auto y2 = x * x;
  backward(std::vector<Tensor<double>>{y1, y2},
           std::vector<Tensor<double>>{make({1, 2}, {2}), make({1, 1}, {2})});
  // 3·seed1 + 2x·seed2 = [3 + 2, 6 + 4].
  CHECK_TENSOR(x.grad(), {2}, {5, 10});
  auto s = Tensor<double>::scalar(3, true);
  backward(s);
  CHECK_TENSOR(s.grad(), {}, {1});
}

TEST_CASE("leaf gradients are independent tensors") {
  // d(a + b) sends the same incoming gradient to both inputs; what lands in a.grad() and
  // b.grad() must still be separate storage, as an optimizer or a clipping step may scale one
  // gradient in place.
  auto a = make({1, 2}, {2}, true);
  auto b = make({3, 4}, {2}, true);
  backward(sum(a + b));
  CHECK_FALSE(a.grad().same(b.grad()));
  a.grad().value() *= 0.5;
  CHECK_TENSOR(a.grad(), {2}, {0.5, 0.5});
  CHECK_TENSOR(b.grad(), {2}, {1, 1});
  // Nor is a user's seed tensor handed back as a gradient.
  auto c = make({1, 2}, {2}, true);
  auto seed = make({1, 1}, {2});
  backward(std::vector<Tensor<double>>{c + 1.0}, std::vector<Tensor<double>>{seed});
  c.grad().value() *= 2.0;
  CHECK_TENSOR(seed, {2}, {1, 1});
}

TEST_CASE("set_grad installs a gradient of the right shape") {
  auto x = make({1, 2}, {2}, true);
  x.set_grad(make({5, 6}, {2}));
  backward(sum(x));
  CHECK_TENSOR(x.grad(), {2}, {6, 7});
  x.set_grad(Tensor<double>());
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("backward releases its own graph and leaves another graph on the tape usable") {
  // Two graphs on one tape: the first backward releases only the entries it ran, so the second
  // still differentiates; the first refuses a second backward with the usual message.
  fresh_tape();
  auto x = make({1, 2}, {2}, true);
  auto first = sum(x * x);
  auto second = sum(x * 3.0);
  backward(first);
  CHECK_TENSOR(x.grad(), {2}, {2, 4});
  CHECK_THROWS_WITH_AS(backward(first), doctest::Contains("released by an earlier backward()"),
                       std::logic_error);
  backward(second);
  CHECK_TENSOR(x.grad(), {2}, {5, 7});  // 2x + 3
  CHECK(tape().size() == 0);            // both graphs gone: nothing is left behind
  CHECK_THROWS_WITH_AS(backward(second), doctest::Contains("released by an earlier backward()"),
                       std::logic_error);

  // The other order: the older graph first, while a newer one waits above it on the tape.
  x.zero_grad();
  auto older = sum(x * x);
  auto newer = sum(exp(x) * 0.0 + x * 4.0);
  backward(older);
  CHECK(tape().size() > 0);  // the newer graph's entries are still there
  backward(newer);
  CHECK_TENSOR(x.grad(), {2}, {6, 8});  // 2x + 4
  CHECK(tape().size() == 0);
}

TEST_CASE("a backward through a shared part releases it for the graphs that share it") {
  // h feeds two losses. Releasing the first loss's graph releases h's entry too, so the second
  // loss cannot reach x through h any more: that is refused, not answered with half a gradient.
  fresh_tape();
  auto x = make({2}, {1}, true);
  auto h = x * x;
  auto a = sum(h * 2.0);
  auto b = sum(h * 5.0);
  backward(a);
  CHECK_THROWS_WITH_AS(backward(b), doctest::Contains("released by an earlier backward()"),
                       std::logic_error);
  // retain_graph on the first keeps the shared part for the second.
  x.zero_grad();
  auto h2 = x * x;
  auto c = sum(h2 * 2.0);
  auto d = sum(h2 * 5.0);
  backward(c, /*retain_graph=*/true);
  backward(d);
  CHECK_TENSOR(x.grad(), {1}, {28});  // (2 + 5)·2x
}

TEST_CASE("grad(create_graph) per user leaves the other users' graphs and losses intact") {
  // A meta-batch in miniature: each user's query loss goes through a local step taken with
  // grad(create_graph); the losses are summed and differentiated once at the end. The same
  // meta-gradient must come out as the users' separate computations summed.
  const std::vector<std::vector<double>> xs = {{1, 2}, {-1, 0.5}, {0.3, -2}};
  const double beta = 0.1;
  auto user_loss = [&](const Tensor<double>& w, size_t u) {
    auto x = make(xs[u], {1, 2});
    auto support = square(sum(matmul(x, w)) - 1.0);
    auto g = grad(support, {w}, /*create_graph=*/true)[0];
    auto adapted = w - g * beta;
    return square(sum(matmul(x * 2.0, adapted)) + 0.5);
  };
  auto w = make({0.4, -0.3}, {2, 1}, true);
  Tensor<double> total;
  for (size_t u = 0; u < xs.size(); ++u) {
    auto l = user_loss(w, u);
    total = total.defined() ? total + l : l;
  }
  backward(total);
  const Tensor<double> together = w.grad();
  w.zero_grad();
  std::vector<double> separate(2, 0.0);
  for (size_t u = 0; u < xs.size(); ++u) {
    backward(user_loss(w, u));
    for (size_t k = 0; k < 2; ++k) separate[k] += w.grad().data()[k];
    w.zero_grad();
  }
  CHECK_TENSOR(together, {2, 1}, separate, 1e-12);
}

TEST_CASE("a pass walks only the entries its output depends on") {
  // The cost of grad()/backward() follows the output's graph: entries recorded before it (another
  // user's graph) or after it are not visited. Counted through the tape's walk counter.
  fresh_tape();
  auto x = make({1, 2}, {2}, true);
  auto y = make({3, 4}, {2}, true);
  Tensor<double> big = x;
  for (int i = 0; i < 200; ++i) big = big * 1.001;  // 200 entries
  auto big_loss = sum(big);                         // 201
  auto small_loss = sum(y * y);                     // 2 entries, newest
  uint64_t before = tape().entries_walked();
  auto gy = grad(small_loss, {y});
  CHECK(tape().entries_walked() - before == 2);
  CHECK_TENSOR(gy[0], {2}, {6, 8});
  // The older graph: the newer entries above it are skipped, and it walks its own 201.
  before = tape().entries_walked();
  auto gx = grad(big_loss, {x});
  CHECK(tape().entries_walked() - before == 201);
  CHECK(gx[0].data()[0] == doctest::Approx(std::pow(1.001, 200)));
  // A graph recorded after a long unrelated one: its backward costs its own entries.
  auto late = sum(y * 3.0);
  before = tape().entries_walked();
  backward(late);
  CHECK(tape().entries_walked() - before == 2);
  CHECK_TENSOR(y.grad(), {2}, {3, 3});
  // Interleaved graphs: a pass visits the entries between its oldest and newest, and no more.
  auto a1 = x * 2.0;  // a's
  auto b1 = y * 2.0;  // b's
  auto a2 = sum(a1);  // a's
  auto b2 = sum(b1);  // b's
  before = tape().entries_walked();
  grad(a2, {x});
  CHECK(tape().entries_walked() - before == 3);  // a2, b1 (skipped), a1
  (void)b2;
}

TEST_CASE(
    "grad() asked about some leaves computes nothing for an embedding it was not asked about") {
  // The loss depends on the table and on w; grad with respect to w alone must give w's gradient
  // and leave the table without any scratch gradient (its table-sized backward is skipped).
  fresh_tape();
  auto table = make({1, 2, 3, 4, 5, 6}, {3, 2}, true);
  auto w = make({0.5, -1}, {2, 1}, true);
  auto e = embedding(table, ids({2, 0}, {2}));  // [2, 2]
  auto loss = sum(square(matmul(e, w)));
  auto gw = grad(loss, {w})[0];
  // ŷ = e·w = [5·0.5 − 6, 1·0.5 − 2] = [−3.5, −1.5]; d/dw Σŷ² = 2 eᵀŷ.
  CHECK_TENSOR(gw, {2, 1}, {2 * (5 * -3.5 + 1 * -1.5), 2 * (6 * -3.5 + 2 * -1.5)});
  auto both = grad(loss, {w, table});
  CHECK_TENSOR(both[0], {2, 1}, {2 * (5 * -3.5 + 1 * -1.5), 2 * (6 * -3.5 + 2 * -1.5)});
  // Row 0 gets 2ŷ₁·w, row 2 gets 2ŷ₀·w, row 1 nothing.
  CHECK_TENSOR(both[1], {3, 2}, {-3 * 0.5, -3 * -1, 0, 0, -7 * 0.5, -7 * -1});
}

TEST_CASE("the tape and the gradient mode belong to one thread") {
  fresh_tape();
  auto x = make({1, 2}, {2}, true);
  NoGradGuard no_grad;
  size_t other_tape = 0;
  bool other_enabled = false, other_records = false;
  std::thread worker([&] {
    // A fresh thread records by default and has its own, empty tape.
    other_enabled = grad_enabled();
    auto y = make({1}, {1}, true) * 2.0;
    other_records = y.requires_grad();
    other_tape = Tape<double>::current().size();
  });
  worker.join();
  CHECK(other_enabled);
  CHECK(other_records);
  CHECK(other_tape == 1);
  CHECK_FALSE(grad_enabled());
  CHECK(tape().size() == 0);
}
