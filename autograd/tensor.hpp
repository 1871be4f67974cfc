// Tensor: a cheap handle to a value (an xtensor array), an optional gradient, and whether it needs
// one. The handle is shared: copies of a Tensor refer to the same node, as in PyTorch.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <xtensor/xarray.hpp>

namespace tinyrec {

using Shape = xt::xarray<float>::shape_type;  // a small vector of sizes; no allocation up to rank 4

template <class T>
class Tensor;

// One value in the graph. `grad` holds the gradient accumulated by backward() on leaves;
// `pass_grad` is scratch space for the backward pass currently running.
template <class T>
struct Node {
  Node() = default;
  explicit Node(xt::xarray<T>&& v, bool rg) : value(std::move(v)), requires_grad(rg) {}
  explicit Node(const xt::svector<size_t, 4>& shape) : value(xt::xarray<T>::from_shape(shape)) {}
  xt::xarray<T> value;
  std::shared_ptr<Node> grad;
  std::shared_ptr<Node> pass_grad;
  uint64_t pass = 0;        // id of the backward pass that last touched pass_grad
  uint64_t generation = 0;  // tape generation the op that made this node was recorded in; 0 once
                            // a backward pass has released that op's entry
  uint64_t wanted = 0;      // id of the grad() pass that asked for this leaf's gradient
  size_t tape_index = 0;    // position of the op's entry on the tape (non-leaves)
  bool requires_grad = false;
  bool pass_grad_owned = false;
  bool is_leaf = true;  // made by the user, not by a recorded op
};

template <class T>
class Tensor {
 public:
  using value_type = T;
  using Array = xt::xarray<T>;

  Tensor() = default;  // an undefined tensor (e.g. a gradient not computed yet)
  explicit Tensor(Array value, bool requires_grad = false);
  explicit Tensor(std::shared_ptr<Node<T>> node) : node_(std::move(node)) {}

  static Tensor zeros(const Shape& shape, bool requires_grad = false);
  static Tensor ones(const Shape& shape, bool requires_grad = false);
  static Tensor full(const Shape& shape, T value, bool requires_grad = false);
  static Tensor scalar(T value, bool requires_grad = false);
  // A new tensor of this shape whose elements the caller is about to write.
  static Tensor empty(const Shape& shape) { return Tensor(std::make_shared<Node<T>>(shape)); }

  bool defined() const { return node_ != nullptr; }
  const Array& value() const { return checked().value; }
  // Mutable access is for optimizers and initializers (under NoGradGuard); changing a value that a
  // recorded op still needs for its backward makes that backward wrong, as in any tape engine.
  Array& value() { return checked().value; }
  const T* data() const { return value().data(); }
  T* data() { return value().data(); }
  const Shape& shape() const { return value().shape(); }
  size_t dim() const { return value().dimension(); }
  size_t size(int axis) const;
  size_t numel() const { return value().size(); }
  T item() const;  // the single element of a one-element tensor

  bool requires_grad() const { return defined() && node_->requires_grad; }
  // Marks a leaf as a variable to differentiate with respect to.
  Tensor& requires_grad_(bool on = true);
  bool is_leaf() const { return checked().is_leaf; }

  // The gradient accumulated by backward(); undefined until one reaches this tensor.
  Tensor grad() const;
  void set_grad(const Tensor& g);
  void zero_grad() { checked().grad.reset(); }

  // The same value, cut from the graph: a new leaf that does not require a gradient.
  Tensor detach() const;
  // A deep copy of the value, as a new leaf.
  Tensor clone() const;

  Node<T>* node() const { return node_.get(); }
  const std::shared_ptr<Node<T>>& node_ptr() const { return node_; }
  bool same(const Tensor& other) const { return node_ == other.node_; }

 private:
  Node<T>& checked() const;
  std::shared_ptr<Node<T>> node_;
};

// Gradient recording is on by default; NoGradGuard turns it off for its scope (evaluation,
// optimizer steps), and GradModeGuard sets it either way.
bool grad_enabled();
void set_grad_enabled(bool on);

class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) : previous_(grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeGuard() { set_grad_enabled(previous_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

class NoGradGuard : public GradModeGuard {
 public:
  NoGradGuard() : GradModeGuard(false) {}
};

// Makes glibc's malloc keep large freed blocks for reuse instead of returning them to the OS. A
// training step allocates and frees the same large temporaries again and again; by default glibc
// serves blocks above 128 KiB with fresh mmap()s and unmaps them when freed, so every step pays
// page faults and page clearing for them (a third of a DIN step's time), where keeping them lets
// the next step reuse them, as PyTorch's caching allocator does. The cost is a resident size that
// stays at its peak. The setting is process-wide, so the library never makes it by itself: a
// program that trains calls this once, at the start of main. Does nothing without glibc.
void tune_allocator();

// "[2, 3]" — used in every error message that names a shape.
std::string shape_str(const Shape& shape);

}  // namespace tinyrec
