// The tape: a thread-local Wengert list of the differentiable ops run so far, and the backward pass
// that replays it in reverse.
#pragma once

#include <deque>
#include <functional>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "autograd/tensor.hpp"

namespace tinyrec {

// How an op sends its output's gradient back: given the output and the gradient arriving at it, it
// calls accumulate(input, gradient) for each input. It is written with Tensor ops, so when the
// backward pass records (create_graph) the gradient computation becomes part of the graph.
// A move-only callable with 64 bytes of inline storage, so the usual captures (two or
// three Tensors plus a few scalars) need no heap allocation; larger ones fall back to the heap.
template <class T>
class BackwardFn {
 public:
  static constexpr size_t kInline = 64;
  BackwardFn() = default;
  BackwardFn(std::nullptr_t) {}
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, BackwardFn>>>
  BackwardFn(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (sizeof(D) <= kInline && alignof(D) <= alignof(std::max_align_t)) {
      new (buf_) D(std::forward<F>(f));
      ops_ = &inline_ops<D>;
    } else {
      *reinterpret_cast<D**>(buf_) = new D(std::forward<F>(f));
      ops_ = &heap_ops<D>;
    }
  }
  BackwardFn(BackwardFn&& o) noexcept : ops_(o.ops_) {
    if (ops_) ops_->move(buf_, o.buf_);
    o.ops_ = nullptr;
  }
  BackwardFn& operator=(BackwardFn&& o) noexcept {
    if (this != &o) {
      reset();
      ops_ = o.ops_;
      if (ops_) ops_->move(buf_, o.buf_);
      o.ops_ = nullptr;
    }
    return *this;
  }
  BackwardFn& operator=(std::nullptr_t) {
    reset();
    return *this;
  }
  ~BackwardFn() { reset(); }
  explicit operator bool() const { return ops_ != nullptr; }
  void operator()(const Tensor<T>& out, const Tensor<T>& g) const {
    ops_->call(const_cast<unsigned char*>(buf_), out, g);
  }
  // The type of the callable held. A backward lambda's type names the function that recorded it
  // (`tinyrec::log<float>(...)::{lambda...}`): anomaly mode reads the op's name from it, so the
  // name costs the tape nothing, neither a byte per entry nor a store per op.
  const std::type_info* target_type() const { return ops_ ? ops_->type : nullptr; }

 private:
  struct Ops {
    void (*call)(void*, const Tensor<T>&, const Tensor<T>&);
    void (*move)(void* dst, void* src);  // move-constructs dst from src; src is then destroyed
    void (*destroy)(void*);
    const std::type_info* type;
  };
  template <class D>
  static constexpr Ops inline_ops{
      [](void* p, const Tensor<T>& o, const Tensor<T>& g) { (*static_cast<D*>(p))(o, g); },
      [](void* d, void* s) {
        new (d) D(std::move(*static_cast<D*>(s)));
        static_cast<D*>(s)->~D();
      },
      [](void* p) { static_cast<D*>(p)->~D(); }, &typeid(D)};
  template <class D>
  static constexpr Ops heap_ops{
      [](void* p, const Tensor<T>& o, const Tensor<T>& g) { (**static_cast<D**>(p))(o, g); },
      [](void* d, void* s) {
        *static_cast<D**>(d) = *static_cast<D**>(s);
        *static_cast<D**>(s) = nullptr;
      },
      [](void* p) { delete *static_cast<D**>(p); }, &typeid(D)};
  void reset() {
    if (ops_) {
      ops_->destroy(buf_);
      ops_ = nullptr;
    }
  }
  alignas(std::max_align_t) unsigned char buf_[kInline];
  const Ops* ops_ = nullptr;
};

// Anomaly mode: while on, the first recorded op whose output holds a NaN or an Inf throws
// AnomalyError naming the op and its shapes — in the forward pass when the op is recorded, in the
// backward pass when an op's backward sends a non-finite gradient to one of its inputs:
//   anomaly: forward of log produced NaN in output [128, 1] from inputs [128, 1]
//   anomaly: backward of sqrt produced Inf in the gradient of its input [3] (inputs [3], output
//   [3])
// Inputs are those that need a gradient (the op's others are data). Ops run without recording
// (NoGradGuard, or no input needing a gradient) are not checked; an op run by a recording backward
// pass (create_graph) is named with the op whose backward ran it. The check reads every element
// of every recorded output and gradient, so it slows training; off (the default), it costs one
// predictable branch per recorded op and per gradient contribution. The switch is process-wide.
bool detect_anomaly_enabled();
void set_detect_anomaly(bool on);
class DetectAnomalyGuard {
 public:
  explicit DetectAnomalyGuard(bool on = true) : previous_(detect_anomaly_enabled()) {
    set_detect_anomaly(on);
  }
  ~DetectAnomalyGuard() { set_detect_anomaly(previous_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};
struct AnomalyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The op that recorded `backward`, read from its type: "log", "matmul", "GRU::forward"; the
// mangled type name when it cannot be read.
std::string op_name(const std::type_info& backward_type);

template <class T>
class Tape {
 public:
  static Tape& current();  // one tape per thread and scalar type

  // Appends an entry for `out`, which becomes a non-leaf that requires a gradient. The entry holds
  // `out` weakly: an output nobody can reach any more can never receive a gradient, so its entry
  // is dropped by compact().
  void record(const Tensor<T>& out, BackwardFn<T> backward);

  // Entries held, released ones not yet dropped included.
  size_t size() const { return entries_.size(); }
  // Forgets every entry. Tensors made by the forgotten ops refuse a later backward() with a clear
  // error rather than silently returning partial gradients.
  void clear();
  // Drops entries whose output is unreachable (a forward pass whose result was thrown away) and
  // entries a backward pass released.
  void compact();
  uint64_t generation() const { return generation_; }

  struct Entry {
    std::weak_ptr<Node<T>> out;
    BackwardFn<T> backward;
  };
  // A deque, because a recording backward pass appends while it walks: references stay valid.
  const Entry& entry(size_t i) const { return entries_[i]; }
  // Forgets entry i after a backward pass ran it without retain_graph: its backward function (and
  // the tensors it captured) goes, and its output refuses a later backward with a clear error.
  void release(size_t i);
  // Drops released and unreachable entries from the end, where a backward pass over the newest
  // graph leaves them; the rest wait for compact().
  void trim();
  // While a backward pass walks the tape, compaction would move entries under it. Passes may
  // nest (a backward function calling grad()), so this counts.
  void set_in_backward(bool on) { in_backward_ += on ? 1 : -1; }

  // Entries examined by backward passes on this thread so far: a pass's cost, for tests.
  uint64_t entries_walked() const { return walked_; }
  void count_walked(size_t entries) { walked_ += entries; }

 private:
  std::deque<Entry> entries_;
  uint64_t generation_ = 1;
  uint64_t walked_ = 0;
  size_t compact_at_ = 4096;
  int in_backward_ = 0;
};

// True when an op on these inputs must be recorded: recording is on and some input needs a
// gradient.
template <class T, class... Ts>
bool should_record(const Tensor<T>& first, const Ts&... rest) {
  if (!grad_enabled()) return false;
  return first.requires_grad() || (... || rest.requires_grad());
}
template <class T>
bool should_record(const std::vector<Tensor<T>>& inputs) {
  if (!grad_enabled()) return false;
  for (const auto& t : inputs)
    if (t.requires_grad()) return true;
  return false;
}

template <class T, class F>
void record(const Tensor<T>& out, F&& backward) {
  if (!grad_enabled()) return;  // an op that forgot should_record still records nothing here
  Tape<T>::current().record(out, BackwardFn<T>(std::forward<F>(backward)));
}

// Adds `grad` to the gradient flowing into `input` during the running backward pass; does nothing
// when `input` needs no gradient. Called only from backward functions.
template <class T>
void accumulate(const Tensor<T>& input, const Tensor<T>& grad);

// True when the running backward pass sends a gradient to `x`: it requires one, and it is not a
// leaf the pass was not asked about (grad() with respect to other tensors computes nothing for
// the model's other parameters). Outside a pass: whether x requires a gradient. A backward
// function may skip the work for an input where this is false; accumulate() ignores it anyway.
template <class T>
bool wants_grad(const Tensor<T>& x);

// Adds `grad` into the block [start, stop) along one axis of the gradient flowing into `input`,
// seen as [outer, n, inner] with stop − start = grad's extent on that axis. Only while the pass is
// not recorded (first order): the backward of a slice then costs the slice, not the whole input —
// a sequence cut into L steps would otherwise pad L gradients to full size. Returns false (doing
// nothing) when the pass is recorded, so the caller falls back to accumulate(input, pad(grad)).
template <class T>
bool accumulate_block(const Tensor<T>& input, size_t outer, size_t n, size_t inner, size_t start,
                      size_t stop, const Tensor<T>& grad);

// Reverse-mode pass from a scalar `loss` (or from `outputs` seeded with `seeds`), accumulating into
// the .grad() of every leaf that requires one. The pass walks the tape from the newest entry among
// the outputs down, and stops as soon as no older entry can receive a gradient: its cost follows
// the graph of the outputs, not everything recorded. Unless retain_graph, the entries the pass ran
// are released afterwards — and only they: other graphs on the tape (other users of a meta-batch,
// losses recorded but not yet differentiated) stay usable. create_graph records the backward
// computation so it can be differentiated again (and retains).
template <class T>
void backward(const Tensor<T>& loss, bool retain_graph = false, bool create_graph = false);
template <class T>
void backward(const std::vector<Tensor<T>>& outputs, const std::vector<Tensor<T>>& seeds,
              bool retain_graph = false, bool create_graph = false);

// Gradients of a scalar `output` with respect to `inputs`, returned rather than accumulated into
// .grad(); leaves' .grad() are left untouched. The tape is kept (other grads may follow); the walk
// costs the output's graph, as in backward(). An input the output does not depend on gets a zero
// gradient. With create_graph the results are themselves
// differentiable: this is what second-order MAML needs.
template <class T>
std::vector<Tensor<T>> grad(const Tensor<T>& output, const std::vector<Tensor<T>>& inputs,
                            bool create_graph = false);

}  // namespace tinyrec
