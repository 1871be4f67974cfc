// Every differentiable op of the engine. Each is defined, forward beside backward, in one of the
// ops_*.cpp files; all work for float (training) and double (gradient checks).
// Binary elementwise ops broadcast as NumPy does; their gradients are summed back to each input's
// shape by sum_to().
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/tape.hpp"
#include "autograd/tensor.hpp"

namespace tinyrec {

template <class T>
using Tensors = std::vector<Tensor<T>>;
using Axes = std::vector<int>;
using Ids = xt::xarray<int64_t>;  // integer indices (embedding ids); never differentiated
// A scalar argument whose type follows the tensor's (so `x * 2.0` works for float tensors too).
template <class T>
using Scalar = typename Tensor<T>::value_type;

// ---- elementwise, binary with broadcasting (ops_elementwise.cpp) ----
template <class T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b);
// ---- elementwise with a scalar ----
template <class T>
Tensor<T> add_scalar(const Tensor<T>& x, Scalar<T> s);  // x + s
template <class T>
Tensor<T> mul_scalar(const Tensor<T>& x, Scalar<T> s);  // x * s
template <class T>
Tensor<T> rsub_scalar(const Tensor<T>& x, Scalar<T> s);  // s - x
template <class T>
Tensor<T> rdiv_scalar(const Tensor<T>& x, Scalar<T> s);  // s / x
template <class T>
Tensor<T> pow(const Tensor<T>& x, Scalar<T> p);  // x^p (x > 0 unless p is whole)
// ---- elementwise, unary ----
template <class T>
Tensor<T> neg(const Tensor<T>& x);
template <class T>
Tensor<T> square(const Tensor<T>& x);
template <class T>
Tensor<T> exp(const Tensor<T>& x);
template <class T>
Tensor<T> log(const Tensor<T>& x);
template <class T>
Tensor<T> sqrt(const Tensor<T>& x);
template <class T>
Tensor<T> relu(const Tensor<T>& x);
template <class T>
Tensor<T> leaky_relu(const Tensor<T>& x, Scalar<T> slope = Scalar<T>(0.01));
// x where x > 0, else alpha·x, with a learned alpha broadcast against x (one per feature).
template <class T>
Tensor<T> prelu(const Tensor<T>& x, const Tensor<T>& alpha);
template <class T>
Tensor<T> sigmoid(const Tensor<T>& x);
template <class T>
Tensor<T> tanh(const Tensor<T>& x);
template <class T>
Tensor<T> logsigmoid(const Tensor<T>& x);  // log σ(x), computed stably
template <class T>
Tensor<T> clamp(const Tensor<T>& x, Scalar<T> lo, Scalar<T> hi);
// where(cond, a, b): a where cond != 0 else b; cond is a constant 0/1 tensor, broadcast to the
// result.
template <class T>
Tensor<T> where(const Tensor<T>& cond, const Tensor<T>& a, const Tensor<T>& b);
// x with `value` where mask != 0.
template <class T>
Tensor<T> masked_fill(const Tensor<T>& x, const Tensor<T>& mask, Scalar<T> value);

// ---- broadcasting and reductions (ops_reduce.cpp) ----
template <class T>
Tensor<T> broadcast_to(const Tensor<T>& x, const Shape& shape);
// Sums x down to `shape` (the inverse of broadcasting): the one helper every broadcasting op's
// backward uses.
template <class T>
Tensor<T> sum_to(const Tensor<T>& x, const Shape& shape);
template <class T>
Tensor<T> sum(const Tensor<T>& x);  // all elements, to a scalar
template <class T>
Tensor<T> sum(const Tensor<T>& x, const Axes& axes, bool keepdims = false);
template <class T>
Tensor<T> mean(const Tensor<T>& x);
template <class T>
Tensor<T> mean(const Tensor<T>& x, const Axes& axes, bool keepdims = false);
// Maximum along one axis; the gradient goes to the first maximal element.
template <class T>
Tensor<T> max(const Tensor<T>& x, int axis, bool keepdims = false);

// ---- shape (ops_shape.cpp) ----
template <class T>
Tensor<T> reshape(const Tensor<T>& x, const Shape& shape);
// As reshape, where one size may be −1 and is inferred from the others.
template <class T>
Tensor<T> reshape_infer(const Tensor<T>& x, const std::vector<int64_t>& shape);
template <class T>
Tensor<T> permute(const Tensor<T>& x, const std::vector<size_t>& axes);
template <class T>
Tensor<T> transpose(const Tensor<T>& x, int axis0 = -2, int axis1 = -1);
template <class T>
Tensor<T> concat(const Tensors<T>& xs, int axis);
template <class T>
Tensor<T> slice(const Tensor<T>& x, int axis, size_t start, size_t stop);
// Zero-pads along one axis (the backward of slice, and sliced back in its own backward).
template <class T>
Tensor<T> pad(const Tensor<T>& x, int axis, size_t before, size_t after);
template <class T>
Tensors<T> split(const Tensor<T>& x, const std::vector<size_t>& sizes, int axis);
template <class T>
Tensors<T> chunk(const Tensor<T>& x, size_t chunks, int axis);

// ---- matrix products (ops_matmul.cpp), through BLAS gemm with transpose flags ----
// [M,K]·[K,N] -> [M,N]; [B,M,K]·[B,K,N] -> [B,M,N]; [B,M,K]·[K,N] -> [B,M,N].
// trans_a / trans_b use the transpose of the last two axes without copying.
template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b, bool trans_a = false,
                 bool trans_b = false);

// Scores of queries q [B, D] against every row of table [N, D] from `first` on: [B, N − first] =
// q · table[first:]ᵀ, one gemm reading the table in place (next-item scoring over every item, with
// row 0 a padding row left out).
template <class T>
Tensor<T> row_scores(const Tensor<T>& q, const Tensor<T>& table, size_t first = 0);

// ---- inner products of shifted pairs (ops_shifted_dot.cpp) ----
// out[b, t] = ⟨x[b, t, :], y[b, t + shift, :]⟩ for x, y [B, L, D] and t < L − shift: [B, L −
// shift]. DIEN's auxiliary loss scores each interest state h_t against the next behaviour e_{t+1}
// (shift 1) without slicing and multiplying copies of both sequences; the backward writes both
// gradients straight into rows of the inputs' shapes.
template <class T>
Tensor<T> shifted_inner_products(const Tensor<T>& x, const Tensor<T>& y, size_t shift);

// ---- batched weighted sum (ops_weighted_sum.cpp) ----
// out[b, d] = Σ_l w[b, l]·v[b, l, d] for weights [B, L] and values [B, L, D]: attention pooling
// (nn::weighted_sum) and gate mixtures (models::mix_experts). Not named weighted_sum, which would
// make unqualified calls ambiguous in code that uses both tinyrec and tinyrec::nn.
template <class T>
Tensor<T> batched_weighted_sum(const Tensor<T>& w, const Tensor<T>& v);

// ---- softmax family (ops_softmax.cpp) ----
// Along `axis`; where a mask is given (broadcastable, 1 = keep), masked entries get probability 0,
// and a row masked entirely gives all zeros rather than NaN.
template <class T>
Tensor<T> softmax(const Tensor<T>& x, int axis, const Tensor<T>& mask = {});
// Masked entries of log_softmax are 0 (not −inf) and receive no gradient.
template <class T>
Tensor<T> log_softmax(const Tensor<T>& x, int axis, const Tensor<T>& mask = {});

// ---- indexing (ops_index.cpp) ----
// Rows of x along `axis` picked by ids (any shape): the result's `axis` is replaced by ids' axes.
// Entries equal to padding_idx (if >= 0) give zeros and send no gradient.
template <class T>
Tensor<T> index_select(const Tensor<T>& x, int axis, const Ids& ids, int64_t padding_idx = -1);
// The adjoint of index_select: adds x's slices into `size` rows along `axis` at ids.
template <class T>
Tensor<T> index_add(const Tensor<T>& x, int axis, const Ids& ids, size_t size,
                    int64_t padding_idx = -1);
// Embedding lookup: table [N, D], ids of any shape -> ids.shape + [D].
template <class T>
Tensor<T> embedding(const Tensor<T>& table, const Ids& ids, int64_t padding_idx = -1);
// Lookups in several tables [N_k, D_k], each with its own ids (all of one shape) and padding id,
// side by side: ids.shape + [D_0 + D_1 + ...], the same values as concat of the embedding()s
// along the last axis, written in one pass without the pieces; the backward adds each table's
// column block of the gradient into its rows directly (DIN's e = [E_item(i), E_cat(c)]).
template <class T>
Tensor<T> embedding_concat(const Tensors<T>& tables, const std::vector<const Ids*>& ids,
                           const std::vector<int64_t>& padding_idx);

// ---- losses (ops_loss.cpp), each the mean over its elements or rows ----
template <class T>
Tensor<T> bce_with_logits(const Tensor<T>& logits, const Tensor<T>& targets);
// Rows of logits [N, C] against class ids [N].
template <class T>
Tensor<T> softmax_cross_entropy(const Tensor<T>& logits, const Ids& targets);
template <class T>
Tensor<T> mse_loss(const Tensor<T>& pred, const Tensor<T>& target);

// ---- the fused recurrence of DIEN's GRUs (ops_gru.cpp) ----
// How a step mixes the state h with the candidate h̃ (u the update gate, a the step's score):
//   gru            h' = (1 − u)·h + u·h̃                         (nn::GRU, and AIGRU)
//   augru          h' = (1 − a·u)·h + a·u·h̃                     (the paper's AUGRU)
//   augru_vecatt   h' = (1 − a)·u·h + (1 − (1 − a)·u)·h̃         (the DIEN authors' VecAttGRUCell)
//   agru           h' = (1 − a)·h + a·h̃                         (AGRU: u unused)
enum class GruMix { gru, augru, augru_vecatt, agru };
enum class GruOutput { all, states, final_state };

// The recurrence of nn::GRUCell over a whole padded sequence as one op (nn/gru.hpp has the
// equations, and the composed reference it must match): from h_0 = 0, at each step t
//   [u_t, r_t] = σ(x_t·W[:, :2H] + b[:2H] + h_{t−1}·U_g),
//   h̃_t = tanh(x_t·W[:, 2H:] + b[2H:] + (r_t ⊙ h_{t−1})·U_h),
// then h_t by `mix` where mask[b, t] != 0, and h_t = h_{t−1} (exactly) where it is 0.
// x [B, L, D]; input_weight W [D, 3H] and input_bias b [3H] (undefined: none), applied to every
// step in one gemm; recurrent_gates U_g [H, 2H]; recurrent_candidate U_h [H, H]; mask [B, L] of
// 0/1, a constant (undefined: every step real); scores a [B, L], required by every mix but gru
// (which ignores them).
// Returns, by `output`:
//   all          [B, L + 1, H]: row t < L holds h_t at real steps and exactly 0 at padded ones, row
//                L the final state (each row's state after its last real step);
//   states       [B, L, H]: the rows t < L of `all` (the interest extractor's h_t);
//   final_state  [B, H]: row L of `all` (the interest evolving layer's h'(T)).
// The narrower outputs are the same numbers without the copies and zero gradients of a slice.
// One tape entry. The first-order backward runs backpropagation through time in one loop over
// buffers the forward kept, two small gemms per step, and one gemm per weight over all steps. A
// recorded backward (create_graph) recomputes the steps from differentiable ops instead, so the op
// has derivatives of every order.
template <class T>
Tensor<T> gru_recurrence(const Tensor<T>& x, const Tensor<T>& input_weight,
                         const Tensor<T>& input_bias, const Tensor<T>& recurrent_gates,
                         const Tensor<T>& recurrent_candidate, const Tensor<T>& mask,
                         const Tensor<T>& scores, GruMix mix, GruOutput output = GruOutput::all);

// ---- operators ----
template <class T>
Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) {
  return add(a, b);
}
template <class T>
Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) {
  return sub(a, b);
}
template <class T>
Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) {
  return mul(a, b);
}
template <class T>
Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) {
  return div(a, b);
}
template <class T>
Tensor<T> operator-(const Tensor<T>& x) {
  return neg(x);
}
template <class T>
Tensor<T> operator+(const Tensor<T>& x, Scalar<T> s) {
  return add_scalar(x, s);
}
template <class T>
Tensor<T> operator+(Scalar<T> s, const Tensor<T>& x) {
  return add_scalar(x, s);
}
template <class T>
Tensor<T> operator-(const Tensor<T>& x, Scalar<T> s) {
  return add_scalar(x, -s);
}
template <class T>
Tensor<T> operator-(Scalar<T> s, const Tensor<T>& x) {
  return rsub_scalar(x, s);
}
template <class T>
Tensor<T> operator*(const Tensor<T>& x, Scalar<T> s) {
  return mul_scalar(x, s);
}
template <class T>
Tensor<T> operator*(Scalar<T> s, const Tensor<T>& x) {
  return mul_scalar(x, s);
}
template <class T>
Tensor<T> operator/(const Tensor<T>& x, Scalar<T> s) {
  return mul_scalar(x, T(1) / s);
}
template <class T>
Tensor<T> operator/(Scalar<T> s, const Tensor<T>& x) {
  return rdiv_scalar(x, s);
}

}  // namespace tinyrec
