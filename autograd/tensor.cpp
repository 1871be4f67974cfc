// Tensor handle methods, the thread-local gradient mode, and the opt-in allocator tuning.
#include "autograd/tensor.hpp"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <sstream>
#include <stdexcept>

namespace tinyrec {

namespace {
thread_local bool g_grad_enabled = true;
}  // namespace

void tune_allocator() {
#ifdef __GLIBC__
  // Thresholds above any tensor of a training step: blocks up to 512 MiB come from the heap, and
  // up to 1 GiB of free heap is kept rather than trimmed.
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

bool grad_enabled() {
  return g_grad_enabled;
}
void set_grad_enabled(bool on) {
  g_grad_enabled = on;
}

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

template <class T>
Tensor<T>::Tensor(Array value, bool requires_grad)
    : node_(std::make_shared<Node<T>>(std::move(value), requires_grad)) {}

template <class T>
Tensor<T> Tensor<T>::zeros(const Shape& shape, bool requires_grad) {
  return full(shape, T(0), requires_grad);
}

template <class T>
Tensor<T> Tensor<T>::ones(const Shape& shape, bool requires_grad) {
  return full(shape, T(1), requires_grad);
}

template <class T>
Tensor<T> Tensor<T>::full(const Shape& shape, T value, bool requires_grad) {
  Array a = Array::from_shape(shape);
  std::fill(a.begin(), a.end(), value);
  return Tensor(std::move(a), requires_grad);
}

template <class T>
Tensor<T> Tensor<T>::scalar(T value, bool requires_grad) {
  Array a = Array::from_shape(Shape{});
  a() = value;
  return Tensor(std::move(a), requires_grad);
}

template <class T>
Node<T>& Tensor<T>::checked() const {
  if (!node_) throw std::logic_error("tensor: use of an undefined tensor");
  return *node_;
}

template <class T>
size_t Tensor<T>::size(int axis) const {
  const int d = static_cast<int>(dim());
  const int a = axis < 0 ? axis + d : axis;
  if (a < 0 || a >= d)
    throw std::invalid_argument("size: axis " + std::to_string(axis) + " out of range for shape " +
                                shape_str(shape()));
  return shape()[static_cast<size_t>(a)];
}

template <class T>
T Tensor<T>::item() const {
  if (numel() != 1)
    throw std::invalid_argument("item: tensor of shape " + shape_str(shape()) +
                                " has more than one element");
  return value().data()[0];
}

template <class T>
Tensor<T>& Tensor<T>::requires_grad_(bool on) {
  Node<T>& n = checked();
  if (!n.is_leaf && !on)
    throw std::logic_error(
        "requires_grad_: only leaves can stop requiring a gradient; use detach()");
  n.requires_grad = on;
  return *this;
}

template <class T>
Tensor<T> Tensor<T>::grad() const {
  return Tensor(checked().grad);
}

template <class T>
void Tensor<T>::set_grad(const Tensor& g) {
  if (g.defined() && g.shape() != shape())
    throw std::invalid_argument("set_grad: gradient shape " + shape_str(g.shape()) +
                                " does not match tensor shape " + shape_str(shape()));
  checked().grad = g.node_ptr();
}

template <class T>
Tensor<T> Tensor<T>::detach() const {
  // Shares nothing mutable with the graph: the value is copied so in-place updates stay local.
  return Tensor(value(), false);
}

template <class T>
Tensor<T> Tensor<T>::clone() const {
  return Tensor(value(), false);
}

template class Tensor<float>;
template class Tensor<double>;

}  // namespace tinyrec
