// The tape and the backward pass over it.
#include "autograd/tape.hpp"

#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#define TINYREC_HAVE_CXXABI 1
#endif

#include "autograd/ops.hpp"

namespace tinyrec {

namespace {

// Anomaly mode's switch. Relaxed: a plain load on the paths that test it.
std::atomic<bool> g_detect_anomaly{false};
inline bool anomaly_on() {
  return g_detect_anomaly.load(std::memory_order_relaxed);
}

// State of the backward pass running on this thread: its id, every node it gave a pass_grad (so
// the scratch gradients can be cleared, or moved into .grad, when it ends), and how many of those
// are non-leaves whose entry has not run yet. Entries run newest first and every input of an op
// is older than the op, so when that count is zero no older entry can receive anything: the walk
// stops there.
struct PassState {
  uint64_t id = 0;
  bool all_leaves = true;  // backward(); grad() wants only the leaves it was asked about
  size_t pending = 0;
  std::vector<std::shared_ptr<void>> touched;
  const void* running = nullptr;  // the Tape<T>::Entry whose backward is running
  // Set by anomaly mode's probe, which runs a backward function only to learn its inputs:
  // accumulate() then notes each input's shape here and adds nothing.
  std::vector<Shape>* probe = nullptr;
};
thread_local uint64_t g_next_pass = 1;
thread_local PassState* g_pass = nullptr;

}  // namespace

bool detect_anomaly_enabled() {
  return anomaly_on();
}

void set_detect_anomaly(bool on) {
  g_detect_anomaly.store(on, std::memory_order_relaxed);
}

namespace {

// The first component of `s` at depth 0 of <> and () that starts at `what`, or npos.
size_t find_outside_brackets(const std::string& s, const std::string& what) {
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (depth == 0 && s.compare(i, what.size(), what) == 0) return i;
    if (s[i] == '<' || s[i] == '(') ++depth;
    if ((s[i] == '>' || s[i] == ')') && depth > 0) --depth;
  }
  return std::string::npos;
}

}  // namespace

std::string op_name(const std::type_info& backward_type) {
  std::string s = backward_type.name();
#ifdef TINYREC_HAVE_CXXABI
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(s.c_str(), nullptr, nullptr, &status), std::free);
  if (status != 0 || !demangled) return s;
  s = demangled.get();
#endif
  // "tinyrec::log<float>(tinyrec::Tensor<float> const&)::{lambda(...)#1}": the function that
  // encloses the lambda, its parameter list and template arguments dropped.
  const std::string anonymous = "(anonymous namespace)::";
  for (size_t at; (at = s.find(anonymous)) != std::string::npos;) s.erase(at, anonymous.size());
  const size_t lambda = find_outside_brackets(s, "::{lambda");
  if (lambda != std::string::npos) s.resize(lambda);
  // The components of the qualified name, each without template arguments or parameter list;
  // `function` marks those that had a parameter list.
  std::vector<std::string> parts(1);
  std::vector<bool> function(1, false);
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (depth == 0 && s.compare(i, 2, "::") == 0) {
      parts.emplace_back();
      function.push_back(false);
      ++i;
      continue;
    }
    if (c == '(' && depth == 0) function.back() = true;
    if (c == '<' || c == '(') ++depth;
    if (depth == 0) parts.back() += c;
    if ((c == '>' || c == ')') && depth > 0) --depth;
  }
  std::string name = parts.back();
  name.resize(std::min(name.size(), name.find(' ')));  // a member function's " const"
  // A member function is named with its class, by the convention that classes are capitalised:
  // "GRU::forward".
  const size_t n = parts.size();
  if (n > 1 && !function[n - 2] && !parts[n - 2].empty() &&
      std::isupper(static_cast<unsigned char>(parts[n - 2][0])))
    name = parts[n - 2] + "::" + name;
  // clang numbers a lambda whose enclosing function needs no mangled name (neither a template nor
  // inline): "$_1" names nothing.
  if (!name.empty() && name[0] == '$') return "an op recorded by a lambda " + name;
  return name.empty() ? backward_type.name() : name;
}

namespace {

// "NaN", "Inf", "NaN and Inf", or "" when every element is finite.
template <class T>
std::string non_finite(const T* v, size_t count) {
  bool nan = false, inf = false;
  for (size_t i = 0; i < count; ++i)
    if (!std::isfinite(v[i])) (std::isnan(v[i]) ? nan : inf) = true;
  return nan && inf ? "NaN and Inf" : nan ? "NaN" : inf ? "Inf" : "";
}

// The shapes of the inputs that `backward` sends gradients to: it runs once on a zero gradient,
// not recording, with accumulate() noting instead of adding (PassState::probe).
template <class T>
std::string input_shapes(const BackwardFn<T>& backward, const Tensor<T>& out) {
  std::vector<Shape> shapes;
  PassState probe;
  probe.id = g_next_pass++;
  probe.probe = &shapes;
  PassState* previous = g_pass;
  g_pass = &probe;
  try {
    NoGradGuard no_grad;
    backward(out, Tensor<T>::zeros(out.shape()));
  } catch (const std::exception&) {
    // The shapes noted before the failure are still worth naming.
  }
  g_pass = previous;
  std::string s;
  for (const auto& shape : shapes) s += (s.empty() ? "" : ", ") + shape_str(shape);
  return shapes.empty() ? "(none needing a gradient)" : s;
}

template <class T>
std::string running_op(const PassState* pass) {
  const auto* entry = static_cast<const typename Tape<T>::Entry*>(pass->running);
  const std::type_info* type = entry->backward.target_type();
  return type ? op_name(*type) : "an op";
}

// Forward check of anomaly mode: `out`, just computed by the op recording `backward`.
template <class T>
void check_forward(const Tensor<T>& out, const BackwardFn<T>& backward) {
  const std::string bad = non_finite(out.data(), out.numel());
  if (bad.empty()) return;
  const std::type_info* type = backward.target_type();
  const std::string op = type ? op_name(*type) : "an op";
  // Recorded while a backward pass runs (create_graph): part of another op's backward.
  const std::string where = g_pass && g_pass->running && !g_pass->probe
                                ? op + " in the backward of " + running_op<T>(g_pass)
                                : "forward of " + op;
  throw AnomalyError("anomaly: " + where + " produced " + bad + " in output " +
                     shape_str(out.shape()) + " from inputs " + input_shapes(backward, out));
}

// Backward check of anomaly mode: `grad`, sent to `input` by the entry running in the pass (or
// seeding it).
template <class T>
void check_gradient(PassState* pass, const Tensor<T>& input, const Tensor<T>& grad) {
  const std::string bad = non_finite(grad.data(), grad.numel());
  if (bad.empty()) return;
  if (!pass->running)
    throw AnomalyError("anomaly: the gradient seeding backward() holds " + bad + " (shape " +
                       shape_str(grad.shape()) + ")");
  const auto* entry = static_cast<const typename Tape<T>::Entry*>(pass->running);
  const std::shared_ptr<Node<T>> out_node = entry->out.lock();
  std::string context;
  if (out_node) {
    const Tensor<T> out(out_node);
    context = " (inputs " + input_shapes(entry->backward, out) + ", output " +
              shape_str(out.shape()) + ")";
  }
  throw AnomalyError("anomaly: backward of " + running_op<T>(pass) + " produced " + bad +
                     " in the gradient of its input " + shape_str(input.shape()) + context);
}

}  // namespace

template <class T>
Tape<T>& Tape<T>::current() {
  thread_local Tape<T> tape;
  return tape;
}

template <class T>
void Tape<T>::record(const Tensor<T>& out, BackwardFn<T> backward) {
  if (anomaly_on()) check_forward(out, backward);
  Node<T>* n = out.node();
  n->requires_grad = true;
  n->is_leaf = false;
  n->generation = generation_;
  n->tape_index = entries_.size();
  entries_.push_back(Entry{out.node_ptr(), std::move(backward)});
  if (entries_.size() >= compact_at_ && in_backward_ == 0) compact();
}

template <class T>
void Tape<T>::clear() {
  entries_.clear();
  ++generation_;
  compact_at_ = 4096;
}

template <class T>
void Tape<T>::release(size_t i) {
  Entry& e = entries_[i];
  if (std::shared_ptr<Node<T>> out = e.out.lock()) out->generation = 0;
  e.out.reset();
  e.backward = nullptr;
}

template <class T>
void Tape<T>::trim() {
  while (!entries_.empty() && entries_.back().out.expired()) entries_.pop_back();
}

template <class T>
void Tape<T>::compact() {
  // Walk newest to oldest: dropping an entry releases its inputs, which may make older entries'
  // outputs unreachable in turn, and those are reached later in the same walk.
  std::deque<Entry> kept;
  for (size_t i = entries_.size(); i-- > 0;) {
    if (entries_[i].out.expired()) {
      entries_[i].backward = nullptr;
    } else {
      kept.push_front(std::move(entries_[i]));
    }
  }
  entries_.swap(kept);
  // The kept entries moved: their outputs learn their new positions.
  for (size_t i = 0; i < entries_.size(); ++i)
    if (std::shared_ptr<Node<T>> out = entries_[i].out.lock()) out->tape_index = i;
  compact_at_ = std::max<size_t>(4096, 2 * entries_.size());
}

namespace {

// The checks every contribution to a gradient passes.
template <class T>
void check_contribution(const Node<T>* n, const Shape& grad_shape) {
  if (!g_pass) throw std::logic_error("accumulate: called outside a backward pass");
  if (grad_shape != n->value.shape())
    throw std::logic_error("backward: gradient of shape " + shape_str(grad_shape) +
                           " for a tensor of shape " + shape_str(n->value.shape()));
  if (!n->is_leaf && n->generation != Tape<T>::current().generation())
    throw std::logic_error(
        "backward: a tensor on the path was made by an op whose tape entry was released by an "
        "earlier backward(); use retain_graph=true there, or detach() the tensor");
}

// Marks `node` as reached by the running pass.
template <class T>
void first_touch(PassState* pass, const std::shared_ptr<Node<T>>& node) {
  Node<T>* n = node.get();
  n->pass = pass->id;
  pass->touched.push_back(node);
  if (!n->is_leaf) ++pass->pending;
}

// The gradient buffer this pass owns for `n`, holding what has arrived so far (zeros if nothing).
template <class T>
T* owned_buffer(const std::shared_ptr<Node<T>>& node) {
  Node<T>* n = node.get();
  const size_t count = n->value.size();
  if (n->pass != g_pass->id) {
    first_touch(g_pass, node);
    n->pass_grad = std::make_shared<Node<T>>(xt::xarray<T>(xt::zeros<T>(n->value.shape())), false);
    n->pass_grad_owned = true;
  } else if (!n->pass_grad_owned) {
    xt::xarray<T> acc = xt::xarray<T>::from_shape(n->value.shape());
    std::copy(n->pass_grad->value.data(), n->pass_grad->value.data() + count, acc.data());
    n->pass_grad = std::make_shared<Node<T>>(std::move(acc), false);
    n->pass_grad_owned = true;
  }
  return n->pass_grad->value.data();
}

}  // namespace

template <class T>
bool wants_grad(const Tensor<T>& x) {
  const Node<T>* n = x.node();
  if (!n || !n->requires_grad) return false;
  return !g_pass || !n->is_leaf || g_pass->all_leaves || n->wanted == g_pass->id;
}

template <class T>
void accumulate(const Tensor<T>& input, const Tensor<T>& grad) {
  Node<T>* n = input.node();
  if (!n || !n->requires_grad || !grad.defined()) return;
  PassState* pass = g_pass;  // wants_grad, spelled out: this is the engine's hottest path
  if (pass && n->is_leaf && !pass->all_leaves && n->wanted != pass->id) return;
  check_contribution(n, grad.shape());
  if (anomaly_on()) {
    if (pass->probe) {
      pass->probe->push_back(n->value.shape());
      return;
    }
    check_gradient(pass, input, grad);
  }
  if (n->pass != pass->id) {
    first_touch(pass, input.node_ptr());
    n->pass_grad = grad.node_ptr();
    n->pass_grad_owned = false;
  } else if (!grad_enabled()) {
    // Not recording: sum into a buffer this pass owns, allocated on the second contribution and
    // filled with the first two's sum in one pass (rather than a copy of the first, then an add).
    const T* q = grad.data();
    const size_t count = n->value.size();
    if (!n->pass_grad_owned) {
      xt::xarray<T> acc = xt::xarray<T>::from_shape(n->value.shape());
      const T* p = n->pass_grad->value.data();
      T* o = acc.data();
      for (size_t i = 0; i < count; ++i) o[i] = p[i] + q[i];
      n->pass_grad = std::make_shared<Node<T>>(std::move(acc), false);
      n->pass_grad_owned = true;
    } else {
      T* o = n->pass_grad->value.data();
      for (size_t i = 0; i < count; ++i) o[i] += q[i];
    }
  } else {
    // Out of place: `grad` may be shared with another input (add sends one tensor to both).
    n->pass_grad = (Tensor<T>(n->pass_grad) + grad).node_ptr();
  }
}

template <class T>
bool accumulate_block(const Tensor<T>& input, size_t outer, size_t n, size_t inner, size_t start,
                      size_t stop, const Tensor<T>& grad) {
  if (grad_enabled()) return false;
  if (!wants_grad(input) || !grad.defined()) return true;
  Node<T>* node = input.node();
  check_contribution(node, node->value.shape());
  if (anomaly_on()) {
    if (g_pass->probe) {
      g_pass->probe->push_back(node->value.shape());
      return true;
    }
    check_gradient(g_pass, input, grad);
  }
  const size_t width = stop - start;
  if (grad.numel() != outer * width * inner || node->value.size() != outer * n * inner)
    throw std::logic_error("backward: a block gradient of shape " + shape_str(grad.shape()) +
                           " for a tensor of shape " + shape_str(node->value.shape()));
  T* o = owned_buffer(input.node_ptr());
  const T* q = grad.data();
  const size_t chunk = width * inner;
  for (size_t b = 0; b < outer; ++b) {
    T* dst = o + (b * n + start) * inner;
    const T* src = q + b * chunk;
    for (size_t i = 0; i < chunk; ++i) dst[i] += src[i];
  }
  return true;
}

namespace {

// Seeds the outputs and walks the tape down from the newest entry among them, calling each entry
// whose output received a gradient. Entries are in execution order, so every consumer of a value
// has sent its contribution before the value's own entry runs; the walk stops when no reached
// non-leaf waits for its entry (PassState::pending). With `release`, the entries that ran are
// released once the whole pass has succeeded (a failed pass leaves the graph as it was).
template <class T>
void run_pass(const Tensor<T>* outputs, const Tensor<T>* seeds, size_t count, bool create_graph,
              bool release, PassState& state) {
  Tape<T>& tape = Tape<T>::current();
  size_t start = 0;  // one past the newest entry that can receive a gradient
  for (size_t i = 0; i < count; ++i) {
    const Tensor<T>& out = outputs[i];
    if (out.is_leaf()) continue;
    if (out.node()->generation != tape.generation())
      throw std::logic_error(
          "backward: the graph of this tensor was released by an earlier backward(); pass "
          "retain_graph=true to the first one, or run the forward pass again");
    start = std::max(start, out.node()->tape_index + 1);
  }
  // Every entry touches at least its output; reserving once avoids regrowing from empty per pass.
  state.touched.reserve(2 * start + count);
  size_t low = start;  // the oldest entry walked
  size_t ran = 0;
  GradModeGuard mode(create_graph);
  tape.set_in_backward(true);
  try {
    for (size_t i = 0; i < count; ++i) accumulate(outputs[i], seeds[i]);
    for (size_t i = start; i-- > 0 && state.pending > 0;) {
      low = i;
      const auto& entry = tape.entry(i);
      std::shared_ptr<Node<T>> out = entry.out.lock();
      if (!out || out->pass != state.id || !out->pass_grad) continue;
      --state.pending;
      Tensor<T> grad_out(out->pass_grad);
      state.running = &entry;
      entry.backward(Tensor<T>(out), grad_out);
      ++ran;
    }
  } catch (...) {
    tape.set_in_backward(false);
    throw;
  }
  tape.set_in_backward(false);
  tape.count_walked(start - low);
  if (release && ran == tape.size()) {
    tape.clear();  // the usual training step: the pass ran every entry there is
  } else if (release) {
    // The entries that ran are those of the walked range whose output this pass reached.
    for (size_t i = low; i < start; ++i) {
      const std::shared_ptr<Node<T>> out = tape.entry(i).out.lock();
      if (out && out->pass == state.id) tape.release(i);
    }
    tape.trim();
  }
}

template <class T>
struct PassScope {
  PassState state;
  PassState* previous;
  PassScope() : previous(g_pass) {
    state.id = g_next_pass++;
    g_pass = &state;
  }
  ~PassScope() {
    for (auto& p : state.touched) static_cast<Node<T>*>(p.get())->pass_grad.reset();
    g_pass = previous;
  }
};

template <class T>
void check_seeds(const Tensor<T>* outputs, const Tensor<T>* seeds, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (!outputs[i].requires_grad())
      throw std::logic_error(
          "backward: the output does not require a gradient (was it computed under "
          "NoGradGuard, or from tensors that do not require one?)");
    if (seeds[i].shape() != outputs[i].shape())
      throw std::invalid_argument("backward: seed gradient of shape " +
                                  shape_str(seeds[i].shape()) + " for an output of shape " +
                                  shape_str(outputs[i].shape()));
  }
}

template <class T>
Tensor<T> scalar_seed(const Tensor<T>& loss, const char* fn) {
  if (loss.numel() != 1)
    throw std::invalid_argument(std::string(fn) + ": the output has shape " +
                                shape_str(loss.shape()) +
                                "; a gradient can be created implicitly only for a scalar, pass a "
                                "seed gradient of the same shape");
  if (loss.dim() == 0) {
    // The usual case, a 0-D loss: one shared constant 1 per thread. It is only ever read (a
    // gradient that ends up as a leaf's .grad() is copied when shared, see backward_impl).
    thread_local const Tensor<T> one = Tensor<T>::scalar(T(1));
    return one;
  }
  return Tensor<T>::ones(loss.shape());
}

}  // namespace

template <class T>
void backward_impl(const Tensor<T>* outputs, const Tensor<T>* seeds, size_t count,
                   bool retain_graph, bool create_graph) {
  check_seeds(outputs, seeds, count);
  // Leaves and the gradient this pass computed for each; taken before the scratch is cleared.
  std::vector<std::pair<Node<T>*, std::shared_ptr<Node<T>>>> leaves;
  leaves.reserve(8);
  {
    PassScope<T> scope;
    run_pass(outputs, seeds, count, create_graph, !retain_graph && !create_graph, scope.state);
    for (auto& p : scope.state.touched) {
      auto* node = static_cast<Node<T>*>(p.get());
      if (node->is_leaf) leaves.emplace_back(node, node->pass_grad);
    }
  }
  GradModeGuard mode(create_graph);
  for (auto& [node, g] : leaves) {
    // A gradient still shared with something else (add sends one tensor to both inputs, a seed
    // belongs to the caller) is copied, so no two .grad() alias and in-place edits stay local.
    if (g.use_count() > 1 && !create_graph) g = Tensor<T>(g->value).node_ptr();
    node->grad = node->grad ? (Tensor<T>(node->grad) + Tensor<T>(g)).node_ptr() : g;
  }
}

template <class T>
void backward(const std::vector<Tensor<T>>& outputs, const std::vector<Tensor<T>>& seeds,
              bool retain_graph, bool create_graph) {
  if (outputs.size() != seeds.size())
    throw std::invalid_argument("backward: " + std::to_string(outputs.size()) + " outputs but " +
                                std::to_string(seeds.size()) + " seed gradients");
  backward_impl(outputs.data(), seeds.data(), outputs.size(), retain_graph, create_graph);
}

template <class T>
void backward(const Tensor<T>& loss, bool retain_graph, bool create_graph) {
  const Tensor<T> seed = scalar_seed(loss, "backward");
  backward_impl(&loss, &seed, 1, retain_graph, create_graph);
}

template <class T>
std::vector<Tensor<T>> grad(const Tensor<T>& output, const std::vector<Tensor<T>>& inputs,
                            bool create_graph) {
  const Tensor<T> seed = scalar_seed(output, "grad");
  check_seeds(&output, &seed, 1);
  for (const auto& x : inputs)
    if (!x.requires_grad())
      throw std::invalid_argument("grad: an input does not require a gradient");
  std::vector<Tensor<T>> result;
  PassScope<T> scope;
  scope.state.all_leaves = false;
  for (const auto& x : inputs) x.node()->wanted = scope.state.id;
  run_pass(&output, &seed, 1, create_graph, false, scope.state);
  for (const auto& x : inputs) {
    Node<T>* n = x.node();
    if (n->pass == scope.state.id && n->pass_grad)
      result.emplace_back(n->pass_grad);
    else
      result.push_back(Tensor<T>::zeros(x.shape()));
  }
  return result;
}

#define TINYREC_INSTANTIATE_TAPE(T)                                                          \
  template class Tape<T>;                                                                    \
  template bool wants_grad(const Tensor<T>&);                                                \
  template void accumulate(const Tensor<T>&, const Tensor<T>&);                              \
  template bool accumulate_block(const Tensor<T>&, size_t, size_t, size_t, size_t, size_t,   \
                                 const Tensor<T>&);                                          \
  template void backward(const Tensor<T>&, bool, bool);                                      \
  template void backward(const std::vector<Tensor<T>>&, const std::vector<Tensor<T>>&, bool, \
                         bool);                                                              \
  template std::vector<Tensor<T>> grad(const Tensor<T>&, const std::vector<Tensor<T>>&, bool);
TINYREC_INSTANTIATE_TAPE(float)
TINYREC_INSTANTIATE_TAPE(double)

}  // namespace tinyrec
