// The Tensor handle: factories, element access, shared handles, clone and detach.
#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::make;

TEST_CASE("factories fill the requested shape") {
  CHECK_TENSOR(Tensor<double>::zeros({2, 3}), {2, 3}, {0, 0, 0, 0, 0, 0});
  CHECK_TENSOR(Tensor<double>::ones({2}), {2}, {1, 1});
  CHECK_TENSOR(Tensor<float>::full({1, 2}, 2.5f), {1, 2}, {2.5, 2.5});
  const auto s = Tensor<double>::scalar(4);
  CHECK_TENSOR(s, {}, {4});
  CHECK(s.dim() == 0);
  CHECK(s.item() == 4);
  CHECK(Tensor<double>::zeros({2}, true).requires_grad());
  CHECK_FALSE(Tensor<double>::zeros({2}).requires_grad());
  CHECK(shape_str({}) == "[]");
  CHECK(shape_str({2, 3}) == "[2, 3]");
}

TEST_CASE("sizes, element access and shared handles") {
  auto x = make({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(x.dim() == 2);
  CHECK(x.numel() == 6);
  CHECK(x.size(0) == 2);
  CHECK(x.size(-1) == 3);
  CHECK(make({7}, {1, 1}).item() == 7);
  // Copies of a handle share the node, as in PyTorch.
  auto y = x;
  CHECK(y.same(x));
  y.data()[0] = 10;
  CHECK(x.data()[0] == 10);
  CHECK(x.value()(1, 2) == 6);
}

TEST_CASE("clone and detach copy the value into a new leaf") {
  auto x = make({1, 2}, {2}, true);
  auto c = x.clone();
  auto d = x.detach();
  for (auto* t : {&c, &d}) {
    CHECK_FALSE(t->same(x));
    CHECK(t->is_leaf());
    CHECK_FALSE(t->requires_grad());
    CHECK_TENSOR(*t, {2}, {1, 2});
  }
  c.data()[0] = 5;
  d.data()[1] = 7;
  CHECK_TENSOR(x, {2}, {1, 2});
}
