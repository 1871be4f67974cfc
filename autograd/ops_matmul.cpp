// Matrix products through BLAS gemm. Transposes are gemm flags, never copies, and the backward rule
// is itself a pair of matmuls with flags, so it can be differentiated again.
#include <cblas.h>

#include "autograd/broadcast.hpp"
#include "autograd/ops.hpp"

namespace tinyrec {

namespace {

void gemm(bool ta, bool tb, size_t m, size_t n, size_t k, const float* a, size_t lda,
          const float* b, size_t ldb, float* c) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m),
              int(n), int(k), 1.0f, a, int(lda), b, int(ldb), 0.0f, c, int(n));
}
void gemm(bool ta, bool tb, size_t m, size_t n, size_t k, const double* a, size_t lda,
          const double* b, size_t ldb, double* c) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m),
              int(n), int(k), 1.0, a, int(lda), b, int(ldb), 0.0, c, int(n));
}

// Rows and columns of the last two axes as the product sees them (after the transpose flag).
std::pair<size_t, size_t> rows_cols(const Shape& s, bool trans) {
  const size_t r = s[s.size() - 2], c = s[s.size() - 1];
  return trans ? std::make_pair(c, r) : std::make_pair(r, c);
}

std::string describe(const Shape& a, const Shape& b, bool ta, bool tb) {
  return "shapes " + shape_str(a) + (ta ? "^T" : "") + " and " + shape_str(b) + (tb ? "^T" : "");
}

// x [..., K] times op(b) ([K, N]) -> [..., N], as one gemm over every row of x.
template <class T>
Tensor<T> rows_matmul(const Tensor<T>& x, const Tensor<T>& b, bool tb);

// Σ over rows of xᵀ·y for x [..., P] and y [..., Q] with the same leading axes -> [P, Q]: the
// weight gradient of rows_matmul, one gemm with no copies.
template <class T>
Tensor<T> rows_outer(const Tensor<T>& x, const Tensor<T>& y) {
  const size_t p = x.shape().back(), q = y.shape().back(), rows = x.numel() / p;
  xt::xarray<T> c = xt::xarray<T>::from_shape(Shape{p, q});
  gemm(true, false, p, q, rows, x.data(), p, y.data(), q, c.data());
  Tensor<T> out(std::move(c));
  if (should_record(x, y))
    record(out, [x, y](const Tensor<T>&, const Tensor<T>& g) {
      if (x.requires_grad()) accumulate(x, rows_matmul(y, g, true));   // y·Gᵀ
      if (y.requires_grad()) accumulate(y, rows_matmul(x, g, false));  // x·G
    });
  return out;
}

template <class T>
Tensor<T> rows_matmul(const Tensor<T>& x, const Tensor<T>& b, bool tb) {
  const size_t k = x.shape().back(), rows = x.numel() / k;
  const size_t n = tb ? b.shape()[0] : b.shape()[1];
  Shape out_shape = x.shape();
  out_shape.back() = n;
  xt::xarray<T> c = xt::xarray<T>::from_shape(out_shape);
  gemm(false, tb, rows, n, k, x.data(), k, b.data(), b.shape()[1], c.data());
  Tensor<T> out(std::move(c));
  if (should_record(x, b))
    record(out, [x, b, tb](const Tensor<T>&, const Tensor<T>& g) {
      if (x.requires_grad()) accumulate(x, rows_matmul(g, b, !tb));  // G·op(B)ᵀ
      if (b.requires_grad()) accumulate(b, tb ? rows_outer(g, x) : rows_outer(x, g));
    });
  return out;
}

}  // namespace

template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b, bool ta, bool tb) {
  const Shape &sa = a.shape(), &sb = b.shape();
  const size_t da = sa.size(), db = sb.size();
  if (da < 2 || da > 3 || db < 2 || db > 3)
    detail::shape_error("matmul", describe(sa, sb, ta, tb) + ": each operand must be 2-D or 3-D");
  const auto [m, k] = rows_cols(sa, ta);
  const auto [k2, n] = rows_cols(sb, tb);
  if (k != k2)
    detail::shape_error("matmul", describe(sa, sb, ta, tb) + " do not chain (inner sizes " +
                                      std::to_string(k) + " and " + std::to_string(k2) + ")");
  // [B,M,K]·[K,N]: the rows of a are contiguous, so this is one gemm over B·M rows, no copy.
  if (da == 3 && db == 2 && !ta) return rows_matmul(a, b, tb);
  const size_t batch = da == 3 ? sa[0] : sb.size() == 3 ? sb[0] : 1;
  if (da == 3 && db == 3 && sa[0] != sb[0])
    detail::shape_error("matmul", describe(sa, sb, ta, tb) + " have different batch sizes");
  Shape out_shape = (da == 3 || db == 3) ? Shape{batch, m, n} : Shape{m, n};
  xt::xarray<T> c = xt::xarray<T>::from_shape(out_shape);
  // A 2-D operand is shared by every batch entry: its batch stride is 0.
  const size_t stride_a = da == 3 ? m * k : 0, stride_b = db == 3 ? k * n : 0;
  for (size_t i = 0; i < batch; ++i)
    gemm(ta, tb, m, n, k, a.data() + i * stride_a, sa[da - 1], b.data() + i * stride_b, sb[db - 1],
         c.data() + i * m * n);
  Tensor<T> out(std::move(c));
  if (should_record(a, b))
    record(out, [a, b, ta, tb](const Tensor<T>&, const Tensor<T>& g) {
      // With C = op(A)·op(B): d op(A) = G·op(B)ᵀ and d op(B) = op(A)ᵀ·G, written so that the
      // stored (untransposed) A and B get their gradients directly.
      if (a.requires_grad()) {
        Tensor<T> ga = ta ? matmul(b, g, tb, true) : matmul(g, b, false, !tb);
        if (a.dim() == 2 && ga.dim() == 3) ga = sum(ga, {0});
        accumulate(a, ga);
      }
      if (b.requires_grad()) {
        Tensor<T> gb = tb ? matmul(g, a, true, ta) : matmul(a, g, !ta, false);
        if (b.dim() == 2 && gb.dim() == 3) gb = sum(gb, {0});
        accumulate(b, gb);
      }
    });
  return out;
}

// One gemm against the rows of the table from `first` on, read in place (a pointer offset, no
// slice copy); the table's gradient goes straight into that block of its gradient.
template <class T>
Tensor<T> row_scores(const Tensor<T>& q, const Tensor<T>& table, size_t first) {
  if (q.dim() != 2 || table.dim() != 2 || q.shape()[1] != table.shape()[1] ||
      first >= table.shape()[0])
    detail::shape_error("row_scores", "query " + shape_str(q.shape()) + " and table " +
                                          shape_str(table.shape()) + " from row " +
                                          std::to_string(first) +
                                          ": need [B, D] and [N, D] with first < N");
  const size_t b = q.shape()[0], d = q.shape()[1], n = table.shape()[0], m = n - first;
  xt::xarray<T> c = xt::xarray<T>::from_shape(Shape{b, m});
  gemm(false, true, b, m, d, q.data(), d, table.data() + first * d, d, c.data());
  Tensor<T> out(std::move(c));
  if (should_record(q, table))
    record(out, [q, table, first](const Tensor<T>&, const Tensor<T>& g) {
      const size_t rows = q.shape()[0], dim = q.shape()[1], total = table.shape()[0];
      const size_t items = total - first;
      if (grad_enabled()) {  // recorded (create_graph): the same products from differentiable ops
        if (q.requires_grad()) accumulate(q, matmul(g, slice(table, 0, first, total)));
        if (table.requires_grad()) accumulate(table, pad(matmul(g, q, true), 0, first, 0));
        return;
      }
      if (q.requires_grad()) {  // dq = G·E[first:]
        xt::xarray<T> dq = xt::xarray<T>::from_shape(Shape{rows, dim});
        gemm(false, false, rows, dim, items, g.data(), items, table.data() + first * dim, dim,
             dq.data());
        accumulate(q, Tensor<T>(std::move(dq)));
      }
      if (table.requires_grad()) {  // dE[first:] = Gᵀ·q
        xt::xarray<T> de = xt::xarray<T>::from_shape(Shape{items, dim});
        gemm(true, false, items, dim, rows, g.data(), items, q.data(), dim, de.data());
        accumulate_block(table, 1, total, dim, first, total, Tensor<T>(std::move(de)));
      }
    });
  return out;
}

template Tensor<float> row_scores(const Tensor<float>&, const Tensor<float>&, size_t);
template Tensor<double> row_scores(const Tensor<double>&, const Tensor<double>&, size_t);
template Tensor<float> matmul(const Tensor<float>&, const Tensor<float>&, bool, bool);
template Tensor<double> matmul(const Tensor<double>&, const Tensor<double>&, bool, bool);

}  // namespace tinyrec
