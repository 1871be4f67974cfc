// DIEN's recurrent layers: GRUCell, the masked GRU runner, the attention-gated GRUs of the
// interest evolving layer and the bilinear attention over interest states.
#include "nn/gru.hpp"

#include <stdexcept>
#include <vector>

#include "nn/init.hpp"

namespace tinyrec::nn {

namespace {

std::string sizes_str(size_t a, size_t b) {
  return "(" + std::to_string(a) + ", " + std::to_string(b) + ")";
}

// Checked before the members are built, so the error names the layer rather than its Linear.
size_t checked_input_size(const char* who, size_t input_size, size_t hidden_size) {
  if (input_size == 0 || hidden_size == 0)
    throw std::invalid_argument(std::string(who) + ": sizes must be positive, got " +
                                sizes_str(input_size, hidden_size));
  return input_size;
}

// x [B, L, F] -> its L time steps, each [B, F]: one slice per step. In a first-order backward
// pass a slice adds its gradient into its block of the input's gradient (accumulate_block), so the
// L steps cost one pass over the data both ways; only a recorded (second-order) pass pads each
// step's gradient to the whole sequence.
template <class T>
std::vector<Tensor<T>> time_steps(const Tensor<T>& x) {
  const size_t b = x.shape()[0], l = x.shape()[1], f = x.shape()[2];
  std::vector<Tensor<T>> out;
  out.reserve(l);
  const Tensor<T> flat = reshape(x, Shape{b, l * f});
  for (size_t t = 0; t < l; ++t) out.push_back(slice(flat, 1, t * f, (t + 1) * f));
  return out;
}

template <class T>
void check_sequence(const std::string& who, size_t input_size, const Tensor<T>& x,
                    const Tensor<T>& mask) {
  if (x.dim() != 3 || x.shape()[2] != input_size)
    throw std::invalid_argument(who + ": input " + shape_str(x.shape()) + " must be [B, L, " +
                                std::to_string(input_size) + "]");
  const Shape bl{x.shape()[0], x.shape()[1]};
  if (mask.defined() && mask.shape() != bl)
    throw std::invalid_argument(who + ": mask " + shape_str(mask.shape()) +
                                " must be [B, L] = " + shape_str(bl));
}

// What a step does with the mask: every row real (no select needed), every row padded (the step
// changes nothing and is skipped, as when a batch is padded past its longest row), or a mix.
enum class StepMask { all_real, all_padded, mixed };

template <class T>
StepMask classify(const Tensor<T>& m) {
  size_t real = 0;
  for (size_t i = 0; i < m.numel(); ++i) real += m.data()[i] != T(0);
  return real == m.numel() ? StepMask::all_real
         : real == 0       ? StepMask::all_padded
                           : StepMask::mixed;
}

// The recurrence every runner shares: h_0 = 0, then h_t = mix(t, h_{t−1}, gates of step t) at real
// steps and h_t = h_{t−1} at padded ones. The select is exact (no 0·junk), so a row's final state
// does not depend on how far it is padded. Each h_t is appended to `states` when given.
template <class T, class Mix>
Tensor<T> recur(GRUCell<T>& cell, const Tensor<T>& x, const Tensor<T>& mask, const Mix& mix,
                std::vector<Tensor<T>>* states = nullptr) {
  const size_t b = x.shape()[0], l = x.shape()[1];
  const std::vector<Tensor<T>> xs = time_steps(cell.project(x));  // one gemm for every step
  std::vector<Tensor<T>> ms;
  if (mask.defined()) ms = time_steps(reshape(mask, Shape{b, l, 1}));  // each [B, 1]
  Tensor<T> h = Tensor<T>::zeros(Shape{b, cell.hidden_size()});
  for (size_t t = 0; t < l; ++t) {
    const StepMask kind = mask.defined() ? classify(ms[t]) : StepMask::all_real;
    if (kind != StepMask::all_padded) {
      Tensor<T> next = mix(t, h, cell.gates(xs[t], h));
      h = kind == StepMask::all_real ? next : where(ms[t], next, h);
    }
    if (states) states->push_back(h);
  }
  return h;
}

// The fused recurrence (autograd/ops_gru.cpp) with the cell's parameters.
template <class T>
Tensor<T> fused(const GRUCell<T>& cell, const Tensor<T>& x, const Tensor<T>& mask,
                const Tensor<T>& scores, GruMix mix, GruOutput output) {
  return gru_recurrence(x, cell.input_weight(), cell.input_bias(), cell.recurrent_gates_weight(),
                        cell.recurrent_candidate_weight(), mask, scores, mix, output);
}

}  // namespace

// ---- GRUCell ----

template <class T>
GRUCell<T>::GRUCell(size_t input_size, size_t hidden_size, std::mt19937_64& rng)
    : input_size_(checked_input_size("GRUCell", input_size, hidden_size)),
      hidden_size_(hidden_size),
      input_(input_size, 3 * hidden_size, rng),
      recurrent_gates_(hidden_size, 2 * hidden_size, rng, false),
      recurrent_candidate_(hidden_size, hidden_size, rng, false) {
  this->register_module("input", input_);
  this->register_module("recurrent_gates", recurrent_gates_);
  this->register_module("recurrent_candidate", recurrent_candidate_);
}

template <class T>
Tensor<T> GRUCell<T>::project(const Tensor<T>& x) {
  return input_.forward(x);
}

template <class T>
typename GRUCell<T>::Gates GRUCell<T>::gates(const Tensor<T>& projected, const Tensor<T>& h) {
  const size_t n = hidden_size_;
  if (projected.dim() != 2 || h.dim() != 2 || projected.shape()[1] != 3 * n || h.shape()[1] != n ||
      projected.shape()[0] != h.shape()[0])
    throw std::invalid_argument("GRUCell" + sizes_str(input_size_, n) + ": projected input " +
                                shape_str(projected.shape()) + " and state " +
                                shape_str(h.shape()) + " must be [B, " + std::to_string(3 * n) +
                                "] and [B, " + std::to_string(n) + "]");
  // eq. (1)-(2) in one sigmoid over [B, 2H]
  Tensor<T> ur = sigmoid(slice(projected, 1, 0, 2 * n) + recurrent_gates_.forward(h));
  Tensor<T> u = slice(ur, 1, 0, n);
  Tensor<T> r = slice(ur, 1, n, 2 * n);
  // eq. (3) in TF's order: r_t gates h_{t−1} before U_h
  Tensor<T> c = tanh(slice(projected, 1, 2 * n, 3 * n) + recurrent_candidate_.forward(r * h));
  return {u, c};
}

template <class T>
Tensor<T> GRUCell<T>::forward(const Tensor<T>& x, const Tensor<T>& h) {
  if (x.dim() != 2 || h.dim() != 2 || x.shape()[1] != input_size_ || h.shape()[1] != hidden_size_ ||
      x.shape()[0] != h.shape()[0])
    throw std::invalid_argument("GRUCell" + sizes_str(input_size_, hidden_size_) + ": input " +
                                shape_str(x.shape()) + " and state " + shape_str(h.shape()) +
                                " must be [B, " + std::to_string(input_size_) + "] and [B, " +
                                std::to_string(hidden_size_) + "]");
  const Gates g = gates(project(x), h);
  return h + g.update * (g.candidate - h);  // eq. (4): (1 − u)·h + u·h̃
}

// ---- GRU ----

template <class T>
GRU<T>::GRU(size_t input_size, size_t hidden_size, std::mt19937_64& rng)
    : cell_(input_size, hidden_size, rng) {
  this->register_module("cell", cell_);
}

template <class T>
GRUOutput<T> GRU<T>::forward(const Tensor<T>& x, const Tensor<T>& mask) {
  check_sequence("GRU" + sizes_str(input_size(), hidden_size()), input_size(), x, mask);
  const size_t b = x.shape()[0], l = x.shape()[1], n = hidden_size();
  if (l == 0) return {Tensor<T>::zeros(Shape{b, 0, n}), Tensor<T>::zeros(Shape{b, n})};
  const Tensor<T> all = fused(cell_, x, mask, {}, GruMix::gru, GruOutput::all);  // [B, L + 1, H]
  return {slice(all, 1, 0, l), reshape(slice(all, 1, l, l + 1), Shape{b, n})};
}

template <class T>
Tensor<T> GRU<T>::states(const Tensor<T>& x, const Tensor<T>& mask) {
  check_sequence("GRU" + sizes_str(input_size(), hidden_size()), input_size(), x, mask);
  const size_t b = x.shape()[0], l = x.shape()[1], n = hidden_size();
  if (l == 0) return Tensor<T>::zeros(Shape{b, 0, n});
  return fused(cell_, x, mask, {}, GruMix::gru, GruOutput::states);
}

template <class T>
GRUOutput<T> GRU<T>::forward_composed(const Tensor<T>& x, const Tensor<T>& mask) {
  check_sequence("GRU" + sizes_str(input_size(), hidden_size()), input_size(), x, mask);
  const size_t b = x.shape()[0], l = x.shape()[1], n = hidden_size();
  if (l == 0) return {Tensor<T>::zeros(Shape{b, 0, n}), Tensor<T>::zeros(Shape{b, n})};
  std::vector<Tensor<T>> hs;
  hs.reserve(l);
  auto step = [](size_t, const Tensor<T>& h, const typename GRUCell<T>::Gates& g) {
    return h + g.update * (g.candidate - h);  // eq. (4)
  };
  Tensor<T> final_state = recur(cell_, x, mask, step, &hs);
  Tensor<T> states = reshape(concat(hs, 1), Shape{b, l, n});
  // A padded position holds the carried-over state; zero it so nothing downstream (the auxiliary
  // loss, the attention) can read it.
  if (mask.defined()) states = states * reshape(mask, Shape{b, l, 1});
  return {states, final_state};
}

// ---- AttentionGRU ----

AttentionGRUKind parse_attention_gru_kind(const std::string& name) {
  if (name == "augru") return AttentionGRUKind::augru;
  if (name == "augru_vecatt") return AttentionGRUKind::augru_vecatt;
  if (name == "aigru") return AttentionGRUKind::aigru;
  if (name == "agru") return AttentionGRUKind::agru;
  throw std::invalid_argument("unknown attention GRU '" + name +
                              "': expected augru, augru_vecatt, aigru or agru");
}

std::string attention_gru_kind_name(AttentionGRUKind kind) {
  switch (kind) {
    case AttentionGRUKind::augru:
      return "augru";
    case AttentionGRUKind::augru_vecatt:
      return "augru_vecatt";
    case AttentionGRUKind::aigru:
      return "aigru";
    case AttentionGRUKind::agru:
      return "agru";
  }
  return "?";
}

template <class T>
AttentionGRU<T>::AttentionGRU(size_t input_size, size_t hidden_size, std::mt19937_64& rng,
                              AttentionGRUKind kind)
    : kind_(kind), cell_(input_size, hidden_size, rng) {
  this->register_module("cell", cell_);
}

template <class T>
std::string AttentionGRU<T>::check(const Tensor<T>& x, const Tensor<T>& scores,
                                   const Tensor<T>& mask) {
  const std::string who = "AttentionGRU(" + std::to_string(input_size()) + ", " +
                          std::to_string(hidden_size()) + ", " + attention_gru_kind_name(kind_) +
                          ")";
  check_sequence(who, input_size(), x, mask);
  const size_t b = x.shape()[0], l = x.shape()[1];
  if (scores.shape() != Shape{b, l})
    throw std::invalid_argument(who + ": scores " + shape_str(scores.shape()) +
                                " must be [B, L] = " + shape_str(Shape{b, l}));
  return who;
}

template <class T>
Tensor<T> AttentionGRU<T>::forward(const Tensor<T>& x, const Tensor<T>& scores,
                                   const Tensor<T>& mask) {
  check(x, scores, mask);
  const size_t b = x.shape()[0], l = x.shape()[1];
  if (l == 0) return Tensor<T>::zeros(Shape{b, hidden_size()});
  const GruMix mix = kind_ == AttentionGRUKind::augru          ? GruMix::augru
                     : kind_ == AttentionGRUKind::augru_vecatt ? GruMix::augru_vecatt
                     : kind_ == AttentionGRUKind::agru         ? GruMix::agru
                                                               : GruMix::gru;
  // AIGRU: x'_t = a_t·x_t into the plain GRU
  const Tensor<T> input =
      kind_ == AttentionGRUKind::aigru ? x * reshape(scores, Shape{b, l, 1}) : x;
  return fused(cell_, input, mask, mix == GruMix::gru ? Tensor<T>() : scores, mix,
               GruOutput::final_state);  // h'(T)
}

template <class T>
Tensor<T> AttentionGRU<T>::forward_composed(const Tensor<T>& x, const Tensor<T>& scores,
                                            const Tensor<T>& mask) {
  check(x, scores, mask);
  const size_t b = x.shape()[0], l = x.shape()[1];
  if (l == 0) return Tensor<T>::zeros(Shape{b, hidden_size()});
  using Gates = typename GRUCell<T>::Gates;
  const Tensor<T> a = reshape(scores, Shape{b, l, 1});
  if (kind_ == AttentionGRUKind::aigru) {  // x'_t = a_t·x_t into the plain GRU
    auto step = [](size_t, const Tensor<T>& h, const Gates& g) {
      return h + g.update * (g.candidate - h);
    };
    return recur(cell_, x * a, mask, step);
  }
  const std::vector<Tensor<T>> as = time_steps(a);  // each [B, 1], broadcast over H
  const AttentionGRUKind kind = kind_;
  auto step = [&as, kind](size_t t, const Tensor<T>& h, const Gates& g) {
    switch (kind) {
      case AttentionGRUKind::augru_vecatt: {
        // ũ = (1 − a)·u; h' = ũ·h + (1 − ũ)·h̃
        Tensor<T> u = (T(1) - as[t]) * g.update;
        return g.candidate + u * (h - g.candidate);
      }
      case AttentionGRUKind::agru:  // h' = (1 − a)·h + a·h̃
        return h + as[t] * (g.candidate - h);
      default: {  // augru, eq. (10)-(11): ũ = a·u; h' = (1 − ũ)·h + ũ·h̃
        Tensor<T> u = as[t] * g.update;
        return h + u * (g.candidate - h);
      }
    }
  };
  return recur(cell_, x, mask, step);
}

// ---- BilinearAttention ----

template <class T>
BilinearAttention<T>::BilinearAttention(size_t hidden_size, size_t query_size, std::mt19937_64& rng)
    : hidden_size_(hidden_size), query_size_(query_size) {
  if (hidden_size == 0 || query_size == 0)
    throw std::invalid_argument("BilinearAttention: sizes must be positive, got " +
                                sizes_str(hidden_size, query_size));
  weight_ = this->register_parameter("weight", Tensor<T>::zeros(Shape{hidden_size, query_size}));
  init::xavier_uniform_(weight_, rng);
}

template <class T>
Tensor<T> BilinearAttention<T>::forward(const Tensor<T>& states, const Tensor<T>& query,
                                        const Tensor<T>& mask) {
  const std::string who = "BilinearAttention" + sizes_str(hidden_size_, query_size_);
  if (states.dim() != 3 || query.dim() != 2 || states.shape()[2] != hidden_size_ ||
      query.shape()[1] != query_size_ || states.shape()[0] != query.shape()[0])
    throw std::invalid_argument(who + ": states " + shape_str(states.shape()) + " and query " +
                                shape_str(query.shape()) + " must be [B, L, " +
                                std::to_string(hidden_size_) + "] and [B, " +
                                std::to_string(query_size_) + "]");
  const size_t b = states.shape()[0], l = states.shape()[1];
  if (mask.defined() && mask.shape() != Shape{b, l})
    throw std::invalid_argument(who + ": mask " + shape_str(mask.shape()) +
                                " must be [B, L] = " + shape_str(Shape{b, l}));
  Tensor<T> we = matmul(query, weight_, false, true);  // (W e_a)ᵀ: [B, H]
  Tensor<T> logits = reshape(matmul(states, reshape(we, Shape{b, hidden_size_, 1})), Shape{b, l});
  return softmax(logits, 1, mask);  // eq. (7)
}

template class GRUCell<float>;
template class GRUCell<double>;
template class GRU<float>;
template class GRU<double>;
template class AttentionGRU<float>;
template class AttentionGRU<double>;
template class BilinearAttention<float>;
template class BilinearAttention<double>;

}  // namespace tinyrec::nn
