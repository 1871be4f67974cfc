// Matrix products: 2-D, batched 3-D, 3-D x 2-D and 2-D x 3-D, each with all four transpose-flag
// combinations; hand-computed products and gradchecks on non-square sizes.
#include "tests/autograd/helpers.hpp"

using namespace tinyrec;
using tinyrec::test::In;
using tinyrec::test::make;

namespace {

// A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]]: A·B = [[58,64],[139,154]]
// (1·7 + 2·9 + 3·11 = 58, 1·8 + 2·10 + 3·12 = 64, 4·7 + 5·9 + 6·11 = 139, 4·8 + 5·10 + 6·12 = 154).
const std::vector<double> kAB = {58, 64, 139, 154};

// Stored shape of an operand of logical shape [rows, cols] (after the flag), with a batch axis.
Shape stored(size_t batch, size_t rows, size_t cols, bool trans) {
  const size_t r = trans ? cols : rows, c = trans ? rows : cols;
  return batch ? Shape{batch, r, c} : Shape{r, c};
}

}  // namespace

TEST_CASE("matmul 2-D with every transpose flag") {
  const auto a = make({1, 2, 3, 4, 5, 6}, {2, 3});
  const auto at = make({1, 4, 2, 5, 3, 6}, {3, 2});  // Aᵀ stored
  const auto b = make({7, 8, 9, 10, 11, 12}, {3, 2});
  const auto bt = make({7, 9, 11, 8, 10, 12}, {2, 3});  // Bᵀ stored
  CHECK_TENSOR(matmul(a, b), {2, 2}, kAB);
  CHECK_TENSOR(matmul(at, b, true, false), {2, 2}, kAB);
  CHECK_TENSOR(matmul(a, bt, false, true), {2, 2}, kAB);
  CHECK_TENSOR(matmul(at, bt, true, true), {2, 2}, kAB);
  // B·A is [3,3]: row 0 = 7·[1,2,3] + 8·[4,5,6] = [39,54,69].
  CHECK_TENSOR(matmul(b, a), {3, 3}, {39, 54, 69, 49, 68, 87, 59, 82, 105});
  // A row times a column: [1,3]·[3,1].
  CHECK_TENSOR(matmul(make({1, 2, 3}, {1, 3}), make({4, 5, 6}, {3, 1})), {1, 1}, {32});
}

TEST_CASE("matmul batched and mixed ranks") {
  // A3 = [[[1,2],[3,4]], [[0,1],[1,0]]], B3 = [[[5,6],[7,8]], [[1,2],[3,4]]].
  const auto a3 = make({1, 2, 3, 4, 0, 1, 1, 0}, {2, 2, 2});
  const auto b3 = make({5, 6, 7, 8, 1, 2, 3, 4}, {2, 2, 2});
  const auto m = make({5, 6, 7, 8}, {2, 2});
  const auto p = make({1, 2, 3, 4}, {2, 2});
  // [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]; swapping rows of B: [[0,1],[1,0]]·X = X
  // with its rows swapped.
  CHECK_TENSOR(matmul(a3, b3), {2, 2, 2}, {19, 22, 43, 50, 3, 4, 1, 2});
  CHECK_TENSOR(matmul(a3, m), {2, 2, 2}, {19, 22, 43, 50, 7, 8, 5, 6});
  // [[1,2],[3,4]]² = [[7,10],[15,22]].
  CHECK_TENSOR(matmul(p, b3), {2, 2, 2}, {19, 22, 43, 50, 7, 10, 15, 22});
  // A3 batch 0 transposed is [[1,3],[2,4]]: times [[5,6],[7,8]] gives [[26,30],[38,44]];
  // batch 1 is symmetric.
  CHECK_TENSOR(matmul(a3, b3, true, false), {2, 2, 2}, {26, 30, 38, 44, 3, 4, 1, 2});
  CHECK_TENSOR(matmul(a3, m, true, false), {2, 2, 2}, {26, 30, 38, 44, 7, 8, 5, 6});
  // Mᵀ = [[5,7],[6,8]]: [[1,2],[3,4]]·Mᵀ = [[17,23],[39,53]].
  CHECK_TENSOR(matmul(a3, m, false, true), {2, 2, 2}, {17, 23, 39, 53, 6, 8, 5, 7});
  // [[1,2],[3,4]]·B3 batch 1 transposed ([[1,3],[2,4]]) = [[5,11],[11,25]].
  CHECK_TENSOR(matmul(p, b3, false, true), {2, 2, 2}, {17, 23, 39, 53, 5, 11, 11, 25});
}

TEST_CASE("matmul: every flag and rank combination equals the product of explicit transposes") {
  std::mt19937_64 rng(301);
  const size_t B = 2, M = 2, K = 3, N = 4;
  for (int ra : {2, 3})
    for (int rb : {2, 3})
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          INFO("ranks " << ra << "x" << rb << ", trans_a " << ta << ", trans_b " << tb);
          const auto a = test::uniform(rng, stored(ra == 3 ? B : 0, M, K, ta), -2, 2, false);
          const auto b = test::uniform(rng, stored(rb == 3 ? B : 0, K, N, tb), -2, 2, false);
          const auto want = matmul(ta ? transpose(a) : a, tb ? transpose(b) : b);
          const Shape shape = (ra == 3 || rb == 3) ? Shape{B, M, N} : Shape{M, N};
          const auto got = matmul(a, b, ta, tb);
          CHECK_TENSOR(got, shape, std::vector<double>(want.data(), want.data() + want.numel()),
                       1e-13);
          // A batch entry computed on its own, against hand-summed products.
          const size_t i = B - 1;
          double c01 = 0;
          for (size_t k = 0; k < K; ++k) {
            const size_t ia = (ra == 3 ? i * M * K : 0) + (ta ? k * M + 0 : 0 * K + k);
            const size_t ib = (rb == 3 ? i * K * N : 0) + (tb ? 1 * K + k : k * N + 1);
            c01 += a.data()[ia] * b.data()[ib];
          }
          const size_t at = (shape.size() == 3 ? i * M * N : 0) + 1;
          CHECK(got.data()[at] == doctest::Approx(c01).epsilon(1e-13));
        }
}

TEST_CASE("matmul: gradcheck for every flag and rank combination") {
  std::mt19937_64 rng(303);
  const size_t B = 2, M = 2, K = 3, N = 4;
  for (int ra : {2, 3})
    for (int rb : {2, 3})
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          INFO("ranks " << ra << "x" << rb << ", trans_a " << ta << ", trans_b " << tb);
          const auto a = test::uniform(rng, stored(ra == 3 ? B : 0, M, K, ta), -2, 2);
          const auto b = test::uniform(rng, stored(rb == 3 ? B : 0, K, N, tb), -2, 2);
          CHECK_GRADCHECK([=](const In& in) { return matmul(in[0], in[1], ta, tb); }, In{a, b});
        }
}

TEST_CASE("matmul: gradients by hand, and a constant operand") {
  auto a = make({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  auto b = make({7, 8, 9, 10, 11, 12}, {3, 2}, true);
  backward(sum(matmul(a, b)));
  // d sum(AB)/dA = 1·Bᵀ: each row of A gets B's row sums [15, 19, 23];
  // d/dB = Aᵀ·1: each column of B gets A's column sums [5, 7, 9].
  CHECK_TENSOR(a.grad(), {2, 3}, {15, 19, 23, 15, 19, 23});
  CHECK_TENSOR(b.grad(), {3, 2}, {5, 5, 7, 7, 9, 9});

  // A 2-D weight shared across the batch collects the gradient of every batch entry.
  auto w = make({1, 0, 0, 1}, {2, 2}, true);
  const auto x3 = make({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  backward(sum(matmul(x3, w)));
  // d/dW = Σ_batch X_iᵀ·1: column sums of all rows: [1+3+5+7, 2+4+6+8] per column of W.
  CHECK_TENSOR(w.grad(), {2, 2}, {16, 16, 20, 20});

  std::mt19937_64 rng(305);
  const auto c = test::uniform(rng, {3, 4}, -2, 2, false);
  CHECK_GRADCHECK([&](const In& in) { return matmul(in[0], c); },
                  In{test::uniform(rng, {2, 2, 3}, -2, 2)});
  CHECK_GRADCHECK([&](const In& in) { return matmul(c, in[0], true, false); },
                  In{test::uniform(rng, {2, 3, 5}, -2, 2)});
}

TEST_CASE("row_scores: queries against a table's rows from `first` on, one product") {
  // Table rows r0 = [9, 9] (skipped), r1 = [1, 2], r2 = [3, 4], r3 = [0, -1]; queries [1, 1] and
  // [2, -1]: [1·1 + 1·2, 3 + 4, 0 − 1] = [3, 7, −1] and [2 − 2, 6 − 4, 0 + 1] = [0, 2, 1].
  const auto table = make({9, 9, 1, 2, 3, 4, 0, -1}, {4, 2});
  const auto q = make({1, 1, 2, -1}, {2, 2});
  CHECK_TENSOR(row_scores(q, table, 1), {2, 3}, {3, 7, -1, 0, 2, 1});
  CHECK_TENSOR(row_scores(q, table), {2, 4}, {18, 3, 7, -1, 9, 0, 2, 1});

  // The skipped rows get no gradient; the others Gᵀ·q, and q gets G·E[first:].
  auto qv = make({1, 1, 2, -1}, {2, 2}, true);
  auto tv = make({9, 9, 1, 2, 3, 4, 0, -1}, {4, 2}, true);
  backward(sum(row_scores(qv, tv, 1)));
  CHECK_TENSOR(tv.grad(), {4, 2}, {0, 0, 3, 0, 3, 0, 3, 0});
  CHECK_TENSOR(qv.grad(), {2, 2}, {4, 5, 4, 5});

  std::mt19937_64 rng(811);
  for (size_t first : {0, 1, 3}) {
    CAPTURE(first);
    CHECK_GRADCHECK([first](const In& in) { return row_scores(in[0], in[1], first); },
                    In{test::uniform(rng, {3, 4}, -1, 1), test::uniform(rng, {5, 4}, -1, 1)});
    CHECK_GRADGRADCHECK([first](const In& in) { return square(row_scores(in[0], in[1], first)); },
                        In{test::uniform(rng, {3, 4}, -1, 1), test::uniform(rng, {5, 4}, -1, 1)});
  }
  CHECK_THROWS_WITH_AS(row_scores(q, table, 4),
                       doctest::Contains("row_scores: query [2, 2] and table [4, 2] from row 4"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(row_scores(make({1, 2, 3}, {1, 3}), table, 1),
                       doctest::Contains("row_scores: query [1, 3] and table [4, 2]"),
                       std::invalid_argument);
}
