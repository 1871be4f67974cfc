// The recurrent layers of DIEN (Zhou et al., "Deep Interest Evolution Network for Click-Through
// Rate Prediction", AAAI 2019, arXiv 1809.03672): the GRU of the interest extractor layer, the
// attention-gated GRUs of the interest evolving layer (AUGRU and the ablations AIGRU and AGRU of
// the paper's Table 4) and the bilinear attention (eq. (7)) that scores the interest states.
//
// Sequences are [B, L, D] (batch, time, features) with a mask [B, L] of 1 (real) / 0 (padding),
// padding on the right. At a padded step every runner leaves its state unchanged, so a row's
// final state is its state after its last real behaviour, whatever L it was padded to (as the
// authors' dynamic_rnn with sequence_length does). Padded inputs never reach a result, but they
// must be finite: they still go through the input gemm, and 0·inf is not 0 in a gradient.
#pragma once

#include <random>
#include <string>

#include "autograd/ops.hpp"
#include "nn/layers.hpp"
#include "nn/module.hpp"

namespace tinyrec::nn {

// ---- GRUCell ----

// One GRU step, hidden size H, in the paper's orientation (eq. (1)-(4)):
//   u_t = σ(W_u x_t + U_u h_{t−1} + b_u)                       update gate, eq. (1)
//   r_t = σ(W_r x_t + U_r h_{t−1} + b_r)                       reset gate,  eq. (2)
//   h̃_t = tanh(W_h x_t + U_h (r_t ⊙ h_{t−1}) + b_h)                          eq. (3)
//   h_t = (1 − u_t) ⊙ h_{t−1} + u_t ⊙ h̃_t                                    eq. (4)
// The reset gate multiplies h_{t−1} BEFORE U_h, as in TensorFlow's GRUCell that the DIEN authors'
// code uses (the paper's eq. (3) and cuDNN/PyTorch apply it after: r_t ⊙ (U_h h_{t−1})). TF's
// cell writes h_t = u·h_{t−1} + (1 − u)·h̃ with σ of the same affine form; that is this cell with
// u → 1 − u, i.e. with the u columns of W, U and b negated, so the two learn the same functions.
//
// Parameters (vectors are rows, so x·W):
//   "input.weight"               [D, 3H]  W_u | W_r | W_h, one gemm for every step at once
//   "input.bias"                 [3H]     b_u | b_r | b_h
//   "recurrent_gates.weight"     [H, 2H]  U_u | U_r
//   "recurrent_candidate.weight" [H, H]   U_h (its own matrix: it needs r_t first)
// Each matrix is Glorot-uniform over its whole shape, as nn::Linear draws it (Keras draws its
// fused GRU kernel the same way); biases start at 0 (TF's GRUCell starts b_u, b_r at 1).
template <class T>
class GRUCell : public Module<T> {
 public:
  GRUCell(size_t input_size, size_t hidden_size, std::mt19937_64& rng);
  // One step: x [B, D], h [B, H] -> h_t [B, H].
  Tensor<T> forward(const Tensor<T>& x, const Tensor<T>& h);

  // The step in two parts, so a sequence runner projects every time step in one gemm and mixes
  // the state its own way. project: x [..., D] -> [..., 3H], the input terms (W x + b) of all
  // three gates. gates: one step's projected input [B, 3H] and h [B, H] -> u_t and h̃_t.
  Tensor<T> project(const Tensor<T>& x);
  struct Gates {
    Tensor<T> update;     // u_t [B, H]
    Tensor<T> candidate;  // h̃_t [B, H]
  };
  Gates gates(const Tensor<T>& projected, const Tensor<T>& h);

  size_t input_size() const { return input_size_; }
  size_t hidden_size() const { return hidden_size_; }
  // W [D, 3H], b [3H], U_u | U_r [H, 2H] and U_h [H, H], for the fused recurrence (gru_recurrence).
  const Tensor<T>& input_weight() const { return input_.weight(); }
  const Tensor<T>& input_bias() const { return input_.bias(); }
  const Tensor<T>& recurrent_gates_weight() const { return recurrent_gates_.weight(); }
  const Tensor<T>& recurrent_candidate_weight() const { return recurrent_candidate_.weight(); }

 private:
  size_t input_size_, hidden_size_;
  Linear<T> input_, recurrent_gates_, recurrent_candidate_;
};

// ---- GRU: the masked sequence runner (the interest extractor layer) ----

template <class T>
struct GRUOutput {
  Tensor<T> states;       // [B, L, H]: h_t at real positions, exactly 0 at padded ones
  Tensor<T> final_state;  // [B, H]: the state after each row's last real step (0 for an empty row)
};

// h_0 = 0, then the cell over t = 0..L−1, except that a padded step keeps the state:
// h_t = m_t·h_new + (1 − m_t)·h_{t−1}, computed as a select so it is exact. Its parameters are the
// cell's, under "cell." ("cell.input.weight", ...).
//
// Two implementations of the same function. forward_composed is the recurrence written out from
// the cell's ops, step by step (the readable form, and the reference of the tests); forward runs
// the fused op gru_recurrence (autograd/ops_gru.cpp): one tape entry for all L steps, the
// backward through time in one loop, several times faster. They agree to rounding (1e-12 in
// float64; float32 differs in the last digits, the fused σ and tanh being vectorised).
template <class T>
class GRU : public Module<T> {
 public:
  GRU(size_t input_size, size_t hidden_size, std::mt19937_64& rng);
  // x [B, L, D], mask [B, L] of 0/1 (undefined = every step real).
  GRUOutput<T> forward(const Tensor<T>& x, const Tensor<T>& mask = {});
  // forward's states alone (DIEN's interest extractor needs no final state): the fused op then
  // writes and receives [B, L, H] only.
  Tensor<T> states(const Tensor<T>& x, const Tensor<T>& mask = {});
  GRUOutput<T> forward_composed(const Tensor<T>& x, const Tensor<T>& mask = {});
  GRUCell<T>& cell() { return cell_; }
  size_t input_size() const { return cell_.input_size(); }
  size_t hidden_size() const { return cell_.hidden_size(); }

 private:
  GRUCell<T> cell_;
};

// ---- the interest evolving layer: a GRU gated by attention scores a_t ----

// How a_t [B, L] enters the GRU (u_t, r_t, h̃_t as in GRUCell, from the gated input x'_t):
//   augru         the paper's AUGRU, eq. (10)-(11):  ũ_t = a_t·u_t,
//                   h'_t = (1 − ũ_t) ⊙ h'_{t−1} + ũ_t ⊙ h̃'_t
//                 a_t = 0 keeps the state, a_t = 1 is the plain GRU step.
//   augru_vecatt  the authors' code (VecAttGRUCell in script/utils.py of the DIEN repository),
//                 which keeps TF's orientation of u:  ũ_t = (1 − a_t)·u_t,
//                   h'_t = ũ_t ⊙ h'_{t−1} + (1 − ũ_t) ⊙ h̃'_t
//                 a_t = 1 replaces the state by h̃'_t, a_t = 0 is a (TF-oriented) GRU step.
//   aigru         Table 4's AIGRU: the attention scales the input, x'_t = a_t·x_t, into a plain
//   GRU. agru          Table 4's AGRU: the score replaces the update gate,
//                   h'_t = (1 − a_t)·h'_{t−1} + a_t·h̃'_t   (u_t is computed but unused, so the
//                 u columns of the cell's parameters get no gradient).
enum class AttentionGRUKind { augru, augru_vecatt, aigru, agru };
// "augru", "augru_vecatt", "aigru" or "agru"; anything else throws, listing those.
AttentionGRUKind parse_attention_gru_kind(const std::string& name);
std::string attention_gru_kind_name(AttentionGRUKind kind);

// Runs like GRU (h'_0 = 0, padded steps keep the state) and returns the final state [B, H]: DIEN's
// h'(T), the evolved interest fed to the MLP. Parameters under "cell." as in GRU; forward is the
// fused op, forward_composed the step-by-step reference, as in GRU.
template <class T>
class AttentionGRU : public Module<T> {
 public:
  AttentionGRU(size_t input_size, size_t hidden_size, std::mt19937_64& rng,
               AttentionGRUKind kind = AttentionGRUKind::augru);
  // x [B, L, D] (the interest states h_t), scores a_t [B, L] (BilinearAttention's, or any
  // attention), mask [B, L] of 0/1 (undefined = every step real) -> h'(T) [B, H].
  Tensor<T> forward(const Tensor<T>& x, const Tensor<T>& scores, const Tensor<T>& mask = {});
  Tensor<T> forward_composed(const Tensor<T>& x, const Tensor<T>& scores,
                             const Tensor<T>& mask = {});
  AttentionGRUKind kind() const { return kind_; }
  GRUCell<T>& cell() { return cell_; }
  size_t input_size() const { return cell_.input_size(); }
  size_t hidden_size() const { return cell_.hidden_size(); }

 private:
  std::string check(const Tensor<T>& x, const Tensor<T>& scores, const Tensor<T>& mask);
  AttentionGRUKind kind_;
  GRUCell<T> cell_;
};

// ---- the paper's attention over interest states, eq. (7) ----

// a_t = exp(h_t W e_a) / Σ_j exp(h_j W e_a), the sum over the row's real positions only (padded
// positions get exactly 0; a fully padded row gives all zeros). h_t are the interest states
// [B, L, H], e_a the target ad's embedding [B, D_a]; "weight" W [H, D_a] starts Glorot-uniform.
// (The authors' code scores with a DIN-style MLP instead: LocalActivationUnit with use_softmax.)
template <class T>
class BilinearAttention : public Module<T> {
 public:
  BilinearAttention(size_t hidden_size, size_t query_size, std::mt19937_64& rng);
  // states [B, L, H], query e_a [B, D_a], mask [B, L] (undefined = all real) -> a [B, L].
  Tensor<T> forward(const Tensor<T>& states, const Tensor<T>& query, const Tensor<T>& mask = {});
  const Tensor<T>& weight() const { return weight_; }

 private:
  size_t hidden_size_, query_size_;
  Tensor<T> weight_;
};

}  // namespace tinyrec::nn
