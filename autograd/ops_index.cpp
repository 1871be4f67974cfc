// Indexing by integer ids: index_select (and the embedding lookup built on it) and its adjoint
// index_add, a scatter-add. Each is the other's backward, so both differentiate to any order.
// embedding_concat: several lookups side by side in one op.
#include <algorithm>
#include <cstring>

#include "autograd/broadcast.hpp"
#include "autograd/ops.hpp"
#include "autograd/vec_math.hpp"

namespace tinyrec {

namespace {

struct Layout {
  size_t outer = 1, inner = 1;
};

Layout layout(const Shape& s, size_t axis, size_t span) {
  Layout l;
  for (size_t i = 0; i < axis; ++i) l.outer *= s[i];
  for (size_t i = axis + span; i < s.size(); ++i) l.inner *= s[i];
  return l;
}

void check_ids(const char* op, const Ids& ids, size_t size, int64_t padding_idx) {
  const int64_t* p = ids.data();
  for (size_t j = 0; j < ids.size(); ++j)
    if ((p[j] < 0 || static_cast<size_t>(p[j]) >= size) &&
        !(padding_idx >= 0 && p[j] == padding_idx))
      detail::shape_error(op, "id " + std::to_string(p[j]) + " at position " + std::to_string(j) +
                                  " is out of range for an axis of size " + std::to_string(size));
}

}  // namespace

template <class T>
Tensor<T> index_select(const Tensor<T>& x, int axis, const Ids& ids, int64_t padding_idx) {
  const size_t ax = detail::normalize_axis("index_select", axis, x.shape());
  const size_t n = x.shape()[ax];
  check_ids("index_select", ids, n, padding_idx);
  const Layout l = layout(x.shape(), ax, 1);
  Shape out_shape;
  for (size_t i = 0; i < ax; ++i) out_shape.push_back(x.shape()[i]);
  for (size_t d : ids.shape()) out_shape.push_back(d);
  for (size_t i = ax + 1; i < x.dim(); ++i) out_shape.push_back(x.shape()[i]);
  xt::xarray<T> v = xt::xarray<T>::from_shape(out_shape);
  const size_t m = ids.size();
  const int64_t* id = ids.data();
  for (size_t o = 0; l.inner > 0 && o < l.outer; ++o)  // rows of width 0 have no buffer
    for (size_t j = 0; j < m; ++j) {
      T* dst = v.data() + (o * m + j) * l.inner;
      if (padding_idx >= 0 && id[j] == padding_idx)
        std::memset(dst, 0, l.inner * sizeof(T));
      else
        std::memcpy(dst, x.data() + (o * n + static_cast<size_t>(id[j])) * l.inner,
                    l.inner * sizeof(T));
    }
  Tensor<T> out(std::move(v));
  if (should_record(x))
    record(out, [x, ax, ids, n, padding_idx](const Tensor<T>&, const Tensor<T>& g) {
      // A table-sized gradient is worth skipping when grad() asks about other tensors only (MAML's
      // local update differentiates with respect to the dense layers, not the embeddings).
      if (wants_grad(x)) accumulate(x, index_add(g, static_cast<int>(ax), ids, n, padding_idx));
    });
  return out;
}

template <class T>
Tensor<T> index_add(const Tensor<T>& x, int axis, const Ids& ids, size_t size,
                    int64_t padding_idx) {
  // x has shape pre + ids.shape + post, with `axis` = len(pre); the result has pre + [size] + post.
  const Shape& s = x.shape();
  const size_t span = ids.dimension();
  if (axis < 0 || static_cast<size_t>(axis) + span > s.size())
    detail::shape_error("index_add", "axis " + std::to_string(axis) + " with ids of shape " +
                                         shape_str(ids.shape()) + " does not fit " + shape_str(s));
  const size_t ax = static_cast<size_t>(axis);
  for (size_t k = 0; k < span; ++k)
    if (s[ax + k] != ids.shape()[k])
      detail::shape_error("index_add", "ids of shape " + shape_str(ids.shape()) + " do not match " +
                                           shape_str(s) + " at axis " + std::to_string(axis));
  check_ids("index_add", ids, size, padding_idx);
  const Layout l = layout(s, ax, span);
  Shape out_shape;
  for (size_t i = 0; i < ax; ++i) out_shape.push_back(s[i]);
  out_shape.push_back(size);
  for (size_t i = ax + span; i < s.size(); ++i) out_shape.push_back(s[i]);
  xt::xarray<T> v = xt::zeros<T>(out_shape);
  const size_t m = ids.size();
  const int64_t* id = ids.data();
  for (size_t o = 0; o < l.outer; ++o)
    for (size_t j = 0; j < m; ++j) {
      if (padding_idx >= 0 && id[j] == padding_idx) continue;
      const T* src = x.data() + (o * m + j) * l.inner;
      T* dst = v.data() + (o * size + static_cast<size_t>(id[j])) * l.inner;
      for (size_t i = 0; i < l.inner; ++i) dst[i] += src[i];
    }
  Tensor<T> out(std::move(v));
  if (should_record(x))
    record(out, [x, ax, ids, padding_idx](const Tensor<T>&, const Tensor<T>& g) {
      accumulate(x, index_select(g, static_cast<int>(ax), ids, padding_idx));
    });
  return out;
}

template <class T>
Tensor<T> embedding(const Tensor<T>& table, const Ids& ids, int64_t padding_idx) {
  if (table.dim() != 2)
    detail::shape_error("embedding",
                        "the table must be 2-D [N, D], got " + shape_str(table.shape()));
  return index_select(table, 0, ids, padding_idx);
}

template <class T>
Tensor<T> embedding_concat(const Tensors<T>& tables, const std::vector<const Ids*>& ids,
                           const std::vector<int64_t>& padding_idx) {
  const size_t parts = tables.size();
  if (parts == 0 || ids.size() != parts || padding_idx.size() != parts)
    detail::shape_error("embedding_concat", std::to_string(tables.size()) + " tables, " +
                                                std::to_string(ids.size()) + " id sets and " +
                                                std::to_string(padding_idx.size()) +
                                                " padding ids: need one of each per part");
  std::vector<size_t> offset(parts + 1, 0);
  for (size_t k = 0; k < parts; ++k) {
    if (tables[k].dim() != 2)
      detail::shape_error("embedding_concat", "table " + std::to_string(k) +
                                                  " must be 2-D [N, D], got " +
                                                  shape_str(tables[k].shape()));
    if (ids[k]->shape() != ids[0]->shape())
      detail::shape_error("embedding_concat", "ids " + shape_str(ids[k]->shape()) + " of part " +
                                                  std::to_string(k) + " differ from part 0's " +
                                                  shape_str(ids[0]->shape()));
    check_ids("embedding_concat", *ids[k], tables[k].shape()[0], padding_idx[k]);
    offset[k + 1] = offset[k] + tables[k].shape()[1];
  }
  const size_t width = offset[parts], m = ids[0]->size();
  Shape out_shape(ids[0]->shape().begin(), ids[0]->shape().end());
  out_shape.push_back(width);
  Tensor<T> out = Tensor<T>::empty(out_shape);
  T* o = out.data();
  for (size_t j = 0; j < m; ++j)
    for (size_t k = 0; k < parts; ++k) {
      const size_t d = offset[k + 1] - offset[k];
      const int64_t id = ids[k]->data()[j];
      T* dst = o + j * width + offset[k];
      if (padding_idx[k] >= 0 && id == padding_idx[k])
        std::fill_n(dst, d, T(0));
      else
        vec::copy_row(dst, tables[k].data() + static_cast<size_t>(id) * d, d);
    }
  if (!should_record(tables)) return out;
  std::vector<Ids> kept;
  for (const Ids* i : ids) kept.push_back(*i);
  record(out, [tables, kept, padding_idx, offset, width](const Tensor<T>&, const Tensor<T>& g) {
    for (size_t k = 0; k < tables.size(); ++k) {
      if (!wants_grad(tables[k])) continue;
      const size_t n = tables[k].shape()[0], d = offset[k + 1] - offset[k];
      if (grad_enabled()) {  // recorded, so it can be differentiated again
        accumulate(tables[k], index_add(slice(g, -1, offset[k], offset[k + 1]), 0, kept[k], n,
                                        padding_idx[k]));
        continue;
      }
      // index_add's loop on the part's columns: the rows in the order of the ids.
      Tensor<T> v = Tensor<T>::zeros(Shape{n, d});
      const int64_t* id = kept[k].data();
      for (size_t j = 0; j < kept[k].size(); ++j) {
        if (padding_idx[k] >= 0 && id[j] == padding_idx[k]) continue;
        const T* src = g.data() + j * width + offset[k];
        T* dst = v.data() + static_cast<size_t>(id[j]) * d;
        for (size_t i = 0; i < d; ++i) dst[i] += src[i];
      }
      accumulate(tables[k], v);
    }
  });
  return out;
}

#define TINYREC_INSTANTIATE_INDEX(T)                                                     \
  template Tensor<T> index_select(const Tensor<T>&, int, const Ids&, int64_t);           \
  template Tensor<T> index_add(const Tensor<T>&, int, const Ids&, size_t, int64_t);      \
  template Tensor<T> embedding(const Tensor<T>&, const Ids&, int64_t);                   \
  template Tensor<T> embedding_concat(const Tensors<T>&, const std::vector<const Ids*>&, \
                                      const std::vector<int64_t>&);
TINYREC_INSTANTIATE_INDEX(float)
TINYREC_INSTANTIATE_INDEX(double)

}  // namespace tinyrec
