// Tutorial 1: how a tape-based reverse-mode autodiff engine works, from a 40-line scalar engine to
// tinyrec's tensors, broadcasting, the matmul gradients, the real tape and second derivatives.
// Every step checks itself; the program exits 1 if any gradient disagrees with its reference.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/autograd.hpp"

namespace {

int failures = 0;

// Prints one comparison and counts a failure when |got − want| > tol (NaN fails too).
void check(const std::string& what, double got, double want, double tol) {
  const bool ok = std::abs(got - want) <= tol;
  std::printf("  %-30s %13.9f   expected %13.9f   %s\n", what.c_str(), got, want,
              ok ? "ok" : "MISMATCH");
  if (!ok) ++failures;
}

void check_true(const std::string& what, bool ok) {
  std::printf("  %-30s %s\n", what.c_str(), ok ? "ok" : "MISMATCH");
  if (!ok) ++failures;
}

// The largest |a − b| over two arrays of one shape; infinite when the shapes differ.
double max_diff(const xt::xarray<double>& a, const xt::xarray<double>& b) {
  if (a.shape() != b.shape()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a.data()[i] - b.data()[i]));
  return m;
}

void print(const char* name, const xt::xarray<double>& a) {
  std::printf("  %s %s = [", name, tinyrec::shape_str(a.shape()).c_str());
  for (size_t i = 0; i < a.size(); ++i) std::printf("%s%g", i ? ", " : "", a.data()[i]);
  std::printf("]\n");
}

// (f(v + h) − f(v − h)) / 2h, moving v in place and putting it back.
double central_difference(const std::function<double()>& f, double& v, double h = 1e-6) {
  const double saved = v;
  v = saved + h;
  const double up = f();
  v = saved - h;
  const double down = f();
  v = saved;
  return (up - down) / (2 * h);
}

}  // namespace

// ---- Steps 1-3: the whole idea on scalars ----
namespace mini {

// A number and the gradient flowing into it, shared so the tape's closures can hold it.
struct Cell {
  double value;
  double grad = 0;
  std::string name;
};
using Value = std::shared_ptr<Cell>;

// The Wengert list: one entry per op, in the order the ops ran. `back` sends the output's gradient
// to the inputs; `text` is there only so the tutorial can print the list.
struct Entry {
  std::string text;
  std::function<void()> back;
};
std::vector<Entry> tape;
int made = 0;

Value leaf(double v, std::string name = "") {
  if (name.empty()) name = "v" + std::to_string(++made);
  return std::make_shared<Cell>(Cell{v, 0, name});
}

Value sin(const Value& x) {
  Value y = leaf(std::sin(x->value));
  tape.push_back(
      {y->name + " = sin(" + x->name + ")", [x, y] { x->grad += std::cos(x->value) * y->grad; }});
  return y;
}

Value exp(const Value& x) {
  Value y = leaf(std::exp(x->value));
  tape.push_back({y->name + " = exp(" + x->name + ")",  // (e^x)' = e^x: reuse the output
                  [x, y] { x->grad += y->value * y->grad; }});
  return y;
}

Value operator*(const Value& a, const Value& b) {
  Value y = leaf(a->value * b->value);
  tape.push_back({y->name + " = " + a->name + " * " + b->name, [a, b, y] {
                    a->grad += b->value * y->grad;
                    b->grad += a->value * y->grad;
                  }});
  return y;
}

// Seeds dy/dy = 1 and runs the entries newest first: when an entry runs, every op that used its
// output came later on the tape, so has already added its share to the output's grad.
void backward(const Value& y) {
  y->grad = 1;
  for (size_t i = tape.size(); i-- > 0;) tape[i].back();
  tape.clear();
}

}  // namespace mini

namespace {

void step1_one_op() {
  std::printf("\n== Step 1: one op and its derivative ==\n");
  mini::Value x = mini::leaf(0.5, "x");
  mini::Value y = mini::sin(x);
  std::printf("  tape: %s\n", mini::tape[0].text.c_str());
  mini::backward(y);
  double xv = 0.5;
  check("dy/dx (tape)", x->grad, std::cos(0.5), 1e-15);
  check("dy/dx (finite difference)", x->grad, central_difference([&] { return std::sin(xv); }, xv),
        1e-9);
}

void step2_chain() {
  std::printf("\n== Step 2: the chain rule, walked backwards ==\n");
  // f(x1, x2, x3) = sin(x1·x2) · exp(x3)
  auto f = [](double a, double b, double c) { return std::sin(a * b) * std::exp(c); };
  double a = 1.5, b = -0.8, c = 0.3;
  mini::made = 0;
  mini::Value x1 = mini::leaf(a, "x1"), x2 = mini::leaf(b, "x2"), x3 = mini::leaf(c, "x3");
  mini::Value v1 = x1 * x2;
  mini::Value v2 = mini::sin(v1);
  mini::Value v3 = mini::exp(x3);
  mini::Value y = v2 * v3;
  std::printf("  the Wengert list, in execution order:\n");
  for (const auto& e : mini::tape) std::printf("    %s\n", e.text.c_str());
  mini::backward(y);
  std::printf("  adjoints df/dv after the backward pass: v4 %.6f, v3 %.6f, v2 %.6f, v1 %.6f\n",
              y->grad, v3->grad, v2->grad, v1->grad);
  const double c12 = std::cos(a * b), e3 = std::exp(c);
  check("df/dx1", x1->grad, c12 * b * e3, 1e-15);
  check("df/dx2", x2->grad, c12 * a * e3, 1e-15);
  check("df/dx3", x3->grad, std::sin(a * b) * e3, 1e-15);
  check("df/dx1 (finite difference)", x1->grad, central_difference([&] { return f(a, b, c); }, a),
        1e-8);
  check("df/dx2 (finite difference)", x2->grad, central_difference([&] { return f(a, b, c); }, b),
        1e-8);
  check("df/dx3 (finite difference)", x3->grad, central_difference([&] { return f(a, b, c); }, c),
        1e-8);
}

// mul with `=` where the engine has `+=`: the second write erases the first.
mini::Value mul_overwriting(const mini::Value& a, const mini::Value& b) {
  mini::Value y = mini::leaf(a->value * b->value);
  mini::tape.push_back({y->name + " = " + a->name + " *= " + b->name, [a, b, y] {
                          a->grad = b->value * y->grad;
                          b->grad = a->value * y->grad;
                        }});
  return y;
}

void step3_accumulate() {
  std::printf("\n== Step 3: a value used twice: gradients add up ==\n");
  mini::Value x = mini::leaf(3.0, "x");
  mini::backward(x * x);
  check("d(x*x)/dx with +=", x->grad, 6.0, 0);
  mini::Value z = mini::leaf(3.0, "z");
  mini::backward(mul_overwriting(z, z));
  check("d(z*z)/dz with = (the bug)", z->grad, 3.0, 0);
  std::printf("  (with = the second input's write erases the first: 3 instead of 6)\n");
}

using tinyrec::Shape;
using T = tinyrec::Tensor<double>;

void step4_broadcasting() {
  std::printf("\n== Step 4: arrays, broadcasting, and sum_to ==\n");
  const xt::xarray<double> m{{1, 2, 3}, {4, 5, 6}};
  // sum_to is broadcasting run backwards: it adds up the axes that broadcasting had repeated.
  T to_row = tinyrec::sum_to(T(m), Shape{3});
  T to_col = tinyrec::sum_to(T(m), Shape{2, 1});
  print("sum_to(m, [3])   ", to_row.value());
  print("sum_to(m, [2, 1])", to_col.value());
  check_true("column sums", max_diff(to_row.value(), xt::xarray<double>{5, 7, 9}) == 0);
  xt::xarray<double> row_sums{6, 15};
  row_sums.reshape({2, 1});
  check_true("row sums", max_diff(to_col.value(), row_sums) == 0);

  T a(m, true);                               // [2, 3]
  T b(xt::xarray<double>{10, 20, 30}, true);  // [3], repeated over a's two rows
  const xt::xarray<double> r{{1, -1, 2}, {0.5, 3, -2}};
  T loss = tinyrec::sum(a * b * T(r));  // L = Σ_ij a_ij b_j r_ij, so dL/d(a*b) = r
  tinyrec::backward(loss);
  xt::xarray<double> want_a = xt::zeros<double>({2, 3}), want_b = xt::zeros<double>({3});
  for (size_t i = 0; i < 2; ++i)
    for (size_t j = 0; j < 3; ++j) {
      want_a(i, j) = r(i, j) * b.value()(j);
      want_b(j) += r(i, j) * m(i, j);  // b_j was used in both rows: both rows send gradient
    }
  print("dL/db", b.grad().value());
  check_true("dL/da == r * b", max_diff(a.grad().value(), want_a) < 1e-12);
  check_true("dL/db == sum over rows", max_diff(b.grad().value(), want_b) < 1e-12);
  auto f = [&] {
    tinyrec::NoGradGuard off;
    return tinyrec::sum(a * b * T(r)).item();
  };
  check("dL/db[1] (finite difference)", b.grad().value()(1), central_difference(f, b.value()(1)),
        1e-6);
}

void step5_linear() {
  std::printf("\n== Step 5: y = x.W + b, by hand and by the engine ==\n");
  const xt::xarray<double> xv{{0.5, -1, 2}, {1.5, 0.25, -0.5}, {-2, 1, 0}, {0, 3, 1}};  // [4, 3]
  const xt::xarray<double> wv{{0.1, -0.2}, {0.4, 0.3}, {-0.6, 0.5}};                    // [3, 2]
  const xt::xarray<double> bv{0.05, -0.1};                                              // [2]
  const xt::xarray<double> g{{1, 2}, {-1, 0.5}, {0.25, -3}, {2, 1}};  // dL/dy, [4, 2]

  // By hand: dW = xᵀ·g, dx = g·Wᵀ, db = Σ_rows g (b was broadcast over the 4 rows).
  xt::xarray<double> dw = xt::zeros<double>({3, 2}), dx = xt::zeros<double>({4, 3}),
                     db = xt::zeros<double>({2});
  for (size_t i = 0; i < 4; ++i)
    for (size_t k = 0; k < 3; ++k)
      for (size_t j = 0; j < 2; ++j) {
        dw(k, j) += xv(i, k) * g(i, j);
        dx(i, k) += g(i, j) * wv(k, j);
      }
  for (size_t i = 0; i < 4; ++i)
    for (size_t j = 0; j < 2; ++j) db(j) += g(i, j);

  // By the engine: seeding with L = Σ y ⊙ g makes dL/dy = g.
  T x(xv, true), W(wv, true), b(bv, true);
  T y = tinyrec::matmul(x, W) + b;
  tinyrec::backward(tinyrec::sum(y * T(g)));
  print("dW", W.grad().value());
  print("db", b.grad().value());
  check_true("dW == x^T . g", max_diff(W.grad().value(), dw) < 1e-12);
  check_true("dx == g . W^T", max_diff(x.grad().value(), dx) < 1e-12);
  check_true("db == sum over rows of g", max_diff(b.grad().value(), db) < 1e-12);
  auto loss = [&] {
    tinyrec::NoGradGuard off;
    return tinyrec::sum((tinyrec::matmul(x, W) + b) * T(g)).item();
  };
  check("dW[2,1] (finite difference)", dw(2, 1), central_difference(loss, W.value()(2, 1)), 1e-6);
}

// x³ written the way every tinyrec op is: compute the value, then, if recording, append one tape
// entry whose closure sends g·3x² to x — built from Tensor ops, so it can be differentiated again.
T cube(const T& x) {
  T y(xt::xarray<double>(x.value() * x.value() * x.value()));
  if (tinyrec::should_record(x))
    tinyrec::record(y, [x](const T& /*out*/, const T& g) {
      tinyrec::accumulate(x, g * 3.0 * tinyrec::square(x));
    });
  return y;
}

void step6_tape() {
  std::printf("\n== Step 6: tinyrec's tape ==\n");
  auto& tape = tinyrec::Tape<double>::current();
  const size_t start = tape.size();
  T w(xt::xarray<double>{1, -2, 3}, true);
  T x(xt::xarray<double>{0.5, 0.25, -0.4});  // data: needs no gradient
  T loss = tinyrec::sum(tinyrec::tanh(w * x));
  std::printf("  entries recorded by sum(tanh(w * x)): %zu\n", tape.size() - start);
  check_true("three ops, three entries", tape.size() - start == 3);
  {
    tinyrec::NoGradGuard off;  // evaluation and optimizer steps: nothing is recorded
    T eval = tinyrec::sum(tinyrec::tanh(w * x));
    check_true("NoGradGuard: no entries", tape.size() - start == 3 && !eval.requires_grad());
  }
  tinyrec::backward(loss, /*retain_graph=*/true);
  tinyrec::backward(loss);  // a second pass: gradients add up (+=), then the tape is released
  std::printf("  entries after backward: %zu\n", tape.size());
  check_true("backward released the tape", tape.size() == 0);
  for (size_t i = 0; i < 3; ++i) {
    const double t = std::tanh(w.value()(i) * x.value()(i));
    check("dL/dw[" + std::to_string(i) + "], two passes", w.grad().value()(i),
          2 * (1 - t * t) * x.value()(i), 1e-12);
  }
  try {
    tinyrec::backward(loss);
    check_true("a third backward throws", false);
  } catch (const std::logic_error& e) {
    std::printf("  a third backward: %s\n", e.what());
  }
  w.zero_grad();
  check_true("zero_grad clears the gradient", !w.grad().defined());

  T c = cube(w);
  std::printf("  entries recorded by cube(w): %zu\n", tape.size());
  T dc = tinyrec::grad(tinyrec::sum(c), {w})[0];  // returned, not accumulated into w.grad()
  for (size_t i = 0; i < 3; ++i)
    check("d sum(w^3)/dw[" + std::to_string(i) + "]", dc.value()(i),
          3 * w.value()(i) * w.value()(i), 1e-12);
  check_true("grad() left w.grad() alone", !w.grad().defined());
  tape.clear();

  // What a recorded op costs on top of its arithmetic (machine-dependent; not checked).
  const int n = 200000;
  T a(xt::xarray<double>{1, 2, 3, 4, 5, 6, 7, 8}, true);
  auto time_adds = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    double keep = 0;
    for (int i = 0; i < n; ++i) keep += (a + a).data()[0];
    const auto t1 = std::chrono::steady_clock::now();
    if (keep != 2.0 * n) ++failures;
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / n;
  };
  const double recorded = time_adds();
  double plain;
  {
    tinyrec::NoGradGuard off;
    plain = time_adds();
  }
  std::printf("  add of 8 doubles: %.0f ns recorded, %.0f ns not recorded\n", recorded, plain);
  tape.clear();
}

void step7_second_order() {
  std::printf("\n== Step 7: differentiating the backward pass ==\n");
  const double xv = 0.7, t = std::tanh(xv);
  T x = T::scalar(xv, true);
  T y = tinyrec::tanh(x);
  // create_graph: the backward rule g * (1 − y²) runs as recorded ops, so its result has a graph.
  T dy = tinyrec::grad(y, {x}, /*create_graph=*/true)[0];
  T d2y = tinyrec::grad(dy, {x}, /*create_graph=*/true)[0];
  T d3y = tinyrec::grad(d2y, {x})[0];
  check("tanh'(0.7)", dy.item(), 1 - t * t, 1e-15);
  check("tanh''(0.7)", d2y.item(), -2 * t * (1 - t * t), 1e-15);
  check("tanh'''(0.7)", d3y.item(), -2 * (1 - t * t) * (1 - 3 * t * t), 1e-15);
  double v = xv;
  auto first = [&] {
    T p = T::scalar(v, true);
    return tinyrec::grad(tinyrec::tanh(p), {p})[0].item();
  };
  check("tanh'' (finite diff of tanh')", d2y.item(), central_difference(first, v), 1e-8);
  // The same holds for an op of our own, because cube's backward is made of Tensor ops.
  T c = cube(x);
  T dc = tinyrec::grad(c, {x}, /*create_graph=*/true)[0];
  check("d2(x^3)/dx2 at 0.7", tinyrec::grad(dc, {x})[0].item(), 6 * xv, 1e-14);
  tinyrec::Tape<double>::current().clear();
}

}  // namespace

int main() {
  try {
    step1_one_op();
    step2_chain();
    step3_accumulate();
    step4_broadcasting();
    step5_linear();
    step6_tape();
    step7_second_order();
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
  if (failures) {
    std::printf("\n%d check(s) FAILED\n", failures);
    return 1;
  }
  std::printf("\nall checks passed\n");
  return 0;
}
