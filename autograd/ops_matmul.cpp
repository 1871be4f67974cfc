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
  // [B,M,K]·[K,N] is one big gemm on the rows of a: reshape, so the backward is one gemm too.
  if (da == 3 && db == 2 && !ta) {
    Tensor<T> flat = reshape(a, Shape{sa[0] * sa[1], sa[2]});
    Tensor<T> y = matmul(flat, b, false, tb);
    return reshape(y, Shape{sa[0], sa[1], y.shape()[1]});
  }
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

template Tensor<float> matmul(const Tensor<float>&, const Tensor<float>&, bool, bool);
template Tensor<double> matmul(const Tensor<double>&, const Tensor<double>&, bool, bool);

}  // namespace tinyrec
