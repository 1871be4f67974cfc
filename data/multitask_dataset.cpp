// Label statistics and the seeded mini-batcher for multi-task data.
#include "data/multitask_dataset.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace tinyrec::data {

std::string to_string(TaskKind kind) {
  return kind == TaskKind::binary ? "binary" : "regression";
}

TaskKind parse_task_kind(const std::string& text) {
  if (text == "binary") return TaskKind::binary;
  if (text == "regression") return TaskKind::regression;
  throw std::invalid_argument("unknown task kind '" + text +
                              "' (accepted values: regression, binary)");
}

namespace {

std::string shape_string(const std::vector<size_t>& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

template <class Array>
std::vector<size_t> shape_of(const Array& a) {
  return std::vector<size_t>(a.shape().begin(), a.shape().end());
}

void check_label_column(const xt::xarray<float>& y, size_t task, const char* who) {
  if (y.dimension() != 2 || task >= y.shape()[1]) {
    throw std::invalid_argument(std::string(who) + ": label array of shape " +
                                shape_string(shape_of(y)) + " has no task column " +
                                std::to_string(task));
  }
}

}  // namespace

double label_mean(const xt::xarray<float>& y, size_t task) {
  check_label_column(y, task, "label_mean");
  const size_t n = y.shape()[0], t = y.shape()[1];
  if (n == 0) return 0.0;
  const float* p = y.data();
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += p[i * t + task];
  return sum / static_cast<double>(n);
}

double label_correlation(const xt::xarray<float>& y, size_t a, size_t b) {
  check_label_column(y, a, "label_correlation");
  check_label_column(y, b, "label_correlation");
  const size_t n = y.shape()[0], t = y.shape()[1];
  if (n == 0) return 0.0;
  const float* p = y.data();
  const double mean_a = label_mean(y, a), mean_b = label_mean(y, b);
  double saa = 0.0, sbb = 0.0, sab = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double da = p[i * t + a] - mean_a, db = p[i * t + b] - mean_b;
    saa += da * da;
    sbb += db * db;
    sab += da * db;
  }
  if (saa <= 0.0 || sbb <= 0.0) return 0.0;
  return sab / std::sqrt(saa * sbb);
}

namespace {

// Resizing an xarray to the shape it already has keeps its buffer; only a new shape reallocates.
template <class Array>
void ensure_shape(Array& a, size_t rows, size_t cols) {
  if (a.dimension() != 2 || a.shape()[0] != rows || a.shape()[1] != cols) a.resize({rows, cols});
}

}  // namespace

void fill_multitask_batch(const xt::xarray<float>& x, const xt::xarray<int64_t>& cat,
                          const xt::xarray<float>& y, const std::vector<size_t>& rows,
                          MultiTaskBatch& batch) {
  const size_t b = rows.size(), d = x.shape()[1], c = cat.shape()[1], t = y.shape()[1];
  batch.size = b;
  ensure_shape(batch.x, b, d);
  ensure_shape(batch.cat, b, c);
  ensure_shape(batch.y, b, t);
  batch.rows = rows;
  const float* xs = x.data();
  const int64_t* cs = cat.data();
  const float* ys = y.data();
  float* xd = batch.x.data();
  int64_t* cd = batch.cat.data();
  float* yd = batch.y.data();
  for (size_t r = 0; r < b; ++r) {
    const size_t src = rows[r];
    for (size_t j = 0; j < d; ++j) xd[r * d + j] = xs[src * d + j];
    for (size_t j = 0; j < c; ++j) cd[r * c + j] = cs[src * c + j];
    for (size_t j = 0; j < t; ++j) yd[r * t + j] = ys[src * t + j];
  }
}

MultiTaskBatcher::MultiTaskBatcher(const xt::xarray<float>& x, const xt::xarray<int64_t>& cat,
                                   const xt::xarray<float>& y, size_t batch_size, bool shuffle,
                                   uint64_t seed)
    : x_(&x),
      cat_(&cat),
      y_(&y),
      order_(y.dimension() == 2 ? y.shape()[0] : 0, batch_size, shuffle, seed) {
  if (x.dimension() != 2 || cat.dimension() != 2 || y.dimension() != 2 ||
      x.shape()[0] != y.shape()[0] || cat.shape()[0] != y.shape()[0]) {
    throw std::invalid_argument(
        "MultiTaskBatcher: expected x [N, d], cat [N, c], y [N, t] with one N; got x " +
        shape_string(shape_of(x)) + ", cat " + shape_string(shape_of(cat)) + ", y " +
        shape_string(shape_of(y)));
  }
}

bool MultiTaskBatcher::next(MultiTaskBatch& batch) {
  if (!order_.next(rows_)) return false;
  fill_multitask_batch(*x_, *cat_, *y_, rows_, batch);
  return true;
}

}  // namespace tinyrec::data
