// Internal helpers shared by the op files: NumPy broadcasting of shapes, loops over broadcast
// element offsets (element by element, or in contiguous runs), axis normalisation, and the
// op-naming error for bad shapes.
#pragma once

#include <stdexcept>
#include <string>

#include "autograd/tensor.hpp"

namespace tinyrec::detail {

[[noreturn]] inline void shape_error(const char* op, const std::string& what) {
  throw std::invalid_argument(std::string(op) + ": " + what);
}

inline size_t numel_of(const Shape& s) {
  size_t n = 1;
  for (size_t d : s) n *= d;
  return n;
}

// The axis in [0, rank), accepting negative axes from the end.
inline size_t normalize_axis(const char* op, int axis, const Shape& shape) {
  const int rank = static_cast<int>(shape.size());
  const int a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    shape_error(op,
                "axis " + std::to_string(axis) + " is out of range for shape " + shape_str(shape));
  return static_cast<size_t>(a);
}

inline Shape broadcast_shape(const char* op, const Shape& a, const Shape& b) {
  const size_t nd = std::max(a.size(), b.size());
  Shape out(nd, 1);
  for (size_t i = 0; i < nd; ++i) {
    const size_t da = i < nd - a.size() ? 1 : a[i - (nd - a.size())];
    const size_t db = i < nd - b.size() ? 1 : b[i - (nd - b.size())];
    if (da != db && da != 1 && db != 1)
      shape_error(op, "shapes " + shape_str(a) + " and " + shape_str(b) + " cannot be broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Element strides of `in` seen through broadcasting to `out` (0 on broadcast axes).
inline Shape broadcast_strides(const Shape& in, const Shape& out) {
  Shape st(out.size(), 0);
  size_t stride = 1;
  for (size_t k = 0; k < in.size(); ++k) {
    const size_t i = in.size() - 1 - k;
    const size_t o = out.size() - 1 - k;
    st[o] = in[i] == 1 ? 0 : stride;
    stride *= in[i];
  }
  return st;
}

// Calls f(i_out, i_a, i_b) for every element of an array of shape `out`, with the flat offsets of
// the elements of `a` and `b` that broadcast onto it. The innermost axis is a tight loop.
template <class F>
void for_each_broadcast(const Shape& out, const Shape& a, const Shape& b, F&& f) {
  const size_t total = numel_of(out);
  if (total == 0) return;
  const size_t nd = out.size();
  if (nd == 0) {
    f(size_t(0), size_t(0), size_t(0));
    return;
  }
  const Shape sa = broadcast_strides(a, out), sb = broadcast_strides(b, out);
  const size_t inner = out[nd - 1], step_a = sa[nd - 1], step_b = sb[nd - 1];
  Shape idx(nd, 0);
  size_t off_a = 0, off_b = 0;
  for (size_t o = 0; o < total; o += inner) {
    for (size_t j = 0; j < inner; ++j) f(o + j, off_a + j * step_a, off_b + j * step_b);
    for (size_t d = nd - 1; d-- > 0;) {
      off_a += sa[d];
      off_b += sb[d];
      if (++idx[d] < out[d]) break;
      off_a -= sa[d] * out[d];
      off_b -= sb[d] * out[d];
      idx[d] = 0;
    }
  }
}

// Calls f(i_out, i_a, i_b, n, step_a, step_b) for runs of n consecutive elements of an array of
// shape `out`, in order: element i_out + j takes a[i_a + j·step_a] and b[i_b + j·step_b], each step
// 0 (broadcast along the run) or 1. Axes are merged wherever both operands stay contiguous across
// them, so a bias [N] against [M, N] is one run of M·N when shapes agree and M runs of N otherwise,
// and a column [M, 1] against [M, N] is M runs of N with step 0: the caller's loop over a run has
// unit or zero strides it can test once, and the compiler vectorises it.
template <class F>
void for_each_run(const Shape& out, const Shape& a, const Shape& b, F&& f) {
  const size_t nd = out.size();
  if (numel_of(out) == 0) return;
  const Shape sa = broadcast_strides(a, out), sb = broadcast_strides(b, out);
  // Merged axes, innermost first: size and the two strides.
  Shape size, ma, mb;
  for (size_t d = nd; d-- > 0;) {
    if (out[d] == 1) continue;
    const size_t k = size.size();
    if (k > 0 && sa[d] == ma[k - 1] * size[k - 1] && sb[d] == mb[k - 1] * size[k - 1]) {
      size[k - 1] *= out[d];  // continues the axis inside it for both operands
    } else {
      size.push_back(out[d]);
      ma.push_back(sa[d]);
      mb.push_back(sb[d]);
    }
  }
  if (size.empty()) {  // a single element
    f(size_t(0), size_t(0), size_t(0), size_t(1), size_t(0), size_t(0));
    return;
  }
  const size_t inner = size[0], k = size.size();
  if (k == 1) {
    f(size_t(0), size_t(0), size_t(0), inner, ma[0], mb[0]);
    return;
  }
  Shape idx(k, 0);
  size_t off_a = 0, off_b = 0;
  const size_t total = numel_of(out);
  for (size_t o = 0; o < total; o += inner) {
    f(o, off_a, off_b, inner, ma[0], mb[0]);
    for (size_t d = 1; d < k; ++d) {
      off_a += ma[d];
      off_b += mb[d];
      if (++idx[d] < size[d]) break;
      off_a -= ma[d] * size[d];
      off_b -= mb[d] * size[d];
      idx[d] = 0;
    }
  }
}

}  // namespace tinyrec::detail
