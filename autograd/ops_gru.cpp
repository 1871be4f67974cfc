// The GRU recurrence of DIEN's interest extractor and interest evolving layers as one fused op:
// the forward over every time step, backpropagation through time for the first-order backward,
// and a recorded backward from differentiable ops for higher orders.
//
// Composed from ops, one step of a GRU over [B, 36] tiles is ~15 small ops, each allocating its
// output and recording a tape entry, and twice as many in the backward; a sequence of 50 steps
// makes that 750 allocations per layer and direction. Here the forward writes each step into
// preallocated time-major buffers ([L, B, ·], so a step's tile is contiguous and feeds gemm and
// the vectorised σ and tanh directly), and the backward walks them in reverse with three scratch
// tiles, collecting the weight gradients in one gemm each over all steps.
#include <cblas.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/broadcast.hpp"
#include "autograd/ops.hpp"
#include "autograd/vec_math.hpp"

namespace tinyrec {

namespace {

// Whether a product with beta = 0 is better cleared here and run with beta = 1. OpenBLAS sends the
// step products ([128, 36]·[36, ≤108]) on its AVX-512 cores to small-matrix kernels that write C
// directly; its other cores (Haswell, Zen: an AVX2 machine) first clear C in a pass of their own
// (sgemm_beta) that costs more than a memset, up to a fifth of such a product on a Zen 4 run as
// Zen. The sum is the same either way: C = 0 + A·op(B).
bool clear_before_gemm() {
  static const bool clear = [] {
    const std::string core = openblas_get_corename();
    for (const char* small : {"SkylakeX", "Cooperlake", "SapphireRapids"})
      if (core.find(small) != std::string::npos) return false;
    return true;
  }();
  return clear;
}

// C = A·op(B) + beta·C, every operand with its own leading dimension: the step products read and
// write rows of the larger buffers in place.
template <class T>
void gemm(bool ta, bool tb, size_t m, size_t n, size_t k, const T* a, size_t lda, const T* b,
          size_t ldb, T beta, T* c, size_t ldc) {
  if (beta == T(0) && clear_before_gemm()) {
    if (ldc == n)
      std::fill_n(c, m * n, T(0));
    else
      for (size_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, T(0));
    beta = T(1);
  }
  const auto tra = ta ? CblasTrans : CblasNoTrans, trb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, tra, trb, int(m), int(n), int(k), 1.0f, a, int(lda), b, int(ldb),
                beta, c, int(ldc));
  else
    cblas_dgemm(CblasRowMajor, tra, trb, int(m), int(n), int(k), 1.0, a, int(lda), b, int(ldb),
                beta, c, int(ldc));
}

// A step whose rows are all real needs no per-row test; one whose rows are all padded changes
// nothing and is skipped (a batch padded past its longest row), as nn::GRU's composed runner does.
enum class StepKind : uint8_t { all_real, mixed, all_padded };

template <class T>
std::vector<StepKind> classify_steps(const Tensor<T>& mask, size_t b, size_t l) {
  std::vector<StepKind> kinds(l, StepKind::all_real);
  if (!mask.defined()) return kinds;
  const T* m = mask.data();
  for (size_t t = 0; t < l; ++t) {
    size_t real = 0;
    for (size_t i = 0; i < b; ++i) real += m[i * l + t] != T(0);
    kinds[t] = real == b ? StepKind::all_real : real == 0 ? StepKind::all_padded : StepKind::mixed;
  }
  return kinds;
}

// What the forward keeps for the backward, time-major. hs[t] is the state entering step t, so
// hs[0] = h_0 = 0 and hs[t + 1] = h_t.
template <class T>
struct Recurrence {
  size_t b = 0, l = 0, h = 0;
  std::vector<StepKind> kinds;
  std::unique_ptr<T[]> xt;  // [L, B, D]: the input, time-major
  std::unique_ptr<T[]> hs;  // [L + 1, B, H]
  std::unique_ptr<T[]> ur;  // [L, B, 2H]: u_t | r_t
  std::unique_ptr<T[]> c;   // [L, B, H]: h̃_t
  std::unique_ptr<T[]> rh;  // [L, B, H]: r_t ⊙ h_{t−1}, the input of U_h (0 at skipped steps)
};

// h' of one row by `mix`, in the same arithmetic order as nn/gru.cpp's composed steps.
template <class T>
void mix_row(GruMix mix, T a, const T* __restrict u, const T* __restrict c, const T* __restrict hp,
             T* __restrict out, size_t n) {
  switch (mix) {
    case GruMix::gru:
      vec::for_lanes<T>(n, [&](const auto& zero, size_t k) {
        std::decay_t<decltype(zero)> uv, cv, hv;
        vec::load(uv, u + k), vec::load(cv, c + k), vec::load(hv, hp + k);
        vec::store(out + k, hv + uv * (cv - hv));
      });
      break;
    case GruMix::augru:
      vec::for_lanes<T>(n, [&](const auto& zero, size_t k) {
        std::decay_t<decltype(zero)> uv, cv, hv;
        vec::load(uv, u + k), vec::load(cv, c + k), vec::load(hv, hp + k);
        vec::store(out + k, hv + (a * uv) * (cv - hv));
      });
      break;
    case GruMix::augru_vecatt:
      vec::for_lanes<T>(n, [&](const auto& zero, size_t k) {
        std::decay_t<decltype(zero)> uv, cv, hv;
        vec::load(uv, u + k), vec::load(cv, c + k), vec::load(hv, hp + k);
        vec::store(out + k, cv + ((T(1) - a) * uv) * (hv - cv));
      });
      break;
    case GruMix::agru:
      vec::for_lanes<T>(n, [&](const auto& zero, size_t k) {
        std::decay_t<decltype(zero)> cv, hv;
        vec::load(cv, c + k), vec::load(hv, hp + k);
        vec::store(out + k, hv + a * (cv - hv));
      });
      break;
  }
}

// The mix's backward for one row. dh = ∂L/∂h' arrives as the carried gradient plus the output's
// own (g, null when the output has no row per step); writes ∂L/∂h through the mix into dhp, and
// the gradients at the pre-activations of u (du·u(1 − u)) and h̃ (dh̃·(1 − h̃²)) into dpu and dpc.
// Returns ∂L/∂a, summed over the row in order (a scalar loop after the vectorised one, over the
// dh' + g it kept in dn).
template <class T>
T mix_row_backward(GruMix mix, T a, const T* __restrict u, const T* __restrict c,
                   const T* __restrict hp, const T* __restrict dh, const T* __restrict g,
                   T* __restrict dn, T* __restrict dhp, T* __restrict dpu, T* __restrict dpc,
                   size_t n) {
  auto incoming = [&](auto& v, size_t k) {
    vec::load(v, dh + k);
    if (g) {
      std::decay_t<decltype(v)> gv;
      vec::load(gv, g + k);
      v = v + gv;
    }
    vec::store(dn + k, v);
  };
  T da = 0;
  switch (mix) {
    case GruMix::gru:  // a = 1
      vec::for_lanes<T>(n, [&](const auto& zero, size_t k) {
        std::decay_t<decltype(zero)> d, uv, cv, hv;
        incoming(d, k);
        vec::load(uv, u + k), vec::load(cv, c + k), vec::load(hv, hp + k);
        vec::store(dhp + k, d * (T(1) - uv));
        vec::store(dpc + k, d * uv * (T(1) - cv * cv));
        vec::store(dpu + k, d * (cv - hv) * uv * (T(1) - uv));
      });
      break;
    case GruMix::augru:  // ũ = a·u
      vec::for_lanes<T>(n, [&](const auto& zero, size_t k) {
        std::decay_t<decltype(zero)> d, uv, cv, hv;
        incoming(d, k);
        vec::load(uv, u + k), vec::load(cv, c + k), vec::load(hv, hp + k);
        const auto ut = a * uv, dut = d * (cv - hv);
        vec::store(dhp + k, d * (T(1) - ut));
        vec::store(dpc + k, d * ut * (T(1) - cv * cv));
        vec::store(dpu + k, a * dut * uv * (T(1) - uv));
      });
      for (size_t k = 0; k < n; ++k) {
        const T dut = dn[k] * (c[k] - hp[k]);
        da += dut * u[k];
      }
      break;
    case GruMix::augru_vecatt:  // ũ = (1 − a)·u, h' = ũ·h + (1 − ũ)·h̃
      vec::for_lanes<T>(n, [&](const auto& zero, size_t k) {
        std::decay_t<decltype(zero)> d, uv, cv, hv;
        incoming(d, k);
        vec::load(uv, u + k), vec::load(cv, c + k), vec::load(hv, hp + k);
        const auto ut = (T(1) - a) * uv, dut = d * (hv - cv);
        vec::store(dhp + k, d * ut);
        vec::store(dpc + k, d * (T(1) - ut) * (T(1) - cv * cv));
        vec::store(dpu + k, (T(1) - a) * dut * uv * (T(1) - uv));
      });
      for (size_t k = 0; k < n; ++k) {
        const T dut = dn[k] * (hp[k] - c[k]);
        da -= dut * u[k];
      }
      break;
    case GruMix::agru:  // u unused: its pre-activation gets no gradient
      vec::for_lanes<T>(n, [&](const auto& zero, size_t k) {
        std::decay_t<decltype(zero)> d, cv;
        incoming(d, k);
        vec::load(cv, c + k);
        vec::store(dhp + k, d * (T(1) - a));
        vec::store(dpc + k, d * a * (T(1) - cv * cv));
      });
      std::fill_n(dpu, n, T(0));
      for (size_t k = 0; k < n; ++k) da += dn[k] * (c[k] - hp[k]);
      break;
  }
  return da;
}

// Through r_t ⊙ h_{t−1} for one row, from drh = ∂L/∂(r ⊙ h): dh_{t−1} = dhp + drh·r (into dhn,
// before U_g's term is added) and the reset gate's pre-activation gradient dpr.
template <class T>
void reset_row_backward(const T* __restrict r, const T* __restrict hp, const T* __restrict drh,
                        const T* __restrict dhp, T* __restrict dhn, T* __restrict dpr, size_t n) {
  vec::for_lanes<T>(n, [&](const auto& zero, size_t k) {
    std::decay_t<decltype(zero)> rv, hv, dq, dv;
    vec::load(rv, r + k), vec::load(hv, hp + k), vec::load(dq, drh + k), vec::load(dv, dhp + k);
    vec::store(dhn + k, dv + dq * rv);
    vec::store(dpr + k, dq * hv * rv * (T(1) - rv));
  });
}

// r_t ⊙ h_{t−1} for one row.
template <class T>
void reset_row(const T* __restrict r, const T* __restrict hp, T* __restrict rh, size_t n) {
  vec::for_lanes<T>(n, [&](const auto& zero, size_t k) {
    std::decay_t<decltype(zero)> rv, hv;
    vec::load(rv, r + k), vec::load(hv, hp + k);
    vec::store(rh + k, rv * hv);
  });
}

// The mix from differentiable ops ([B, H] tensors, a [B, 1]), for the recorded backward.
template <class T>
Tensor<T> mix_tensors(GruMix mix, const Tensor<T>& h, const Tensor<T>& u, const Tensor<T>& c,
                      const Tensor<T>& a) {
  switch (mix) {
    case GruMix::augru:
      return h + (a * u) * (c - h);
    case GruMix::augru_vecatt:
      return c + ((T(1) - a) * u) * (h - c);
    case GruMix::agru:
      return h + a * (c - h);
    default:
      return h + u * (c - h);
  }
}

// The backward pass recorded (create_graph): the steps are computed again from differentiable ops
// on the op's inputs, and backpropagation through time is written with ops too, so the gradients
// it returns can be differentiated again (with respect to the inputs and to the incoming g).
template <class T>
void recorded_backward(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias,
                       const Tensor<T>& ug, const Tensor<T>& uh, const Tensor<T>& mask,
                       const Tensor<T>& scores, GruMix mix, const std::vector<StepKind>& kinds,
                       const Tensor<T>& g) {
  const size_t b = x.shape()[0], l = x.shape()[1], n = uh.shape()[0];
  const Tensor<T> projected = matmul(x, w);  // [B, L, 3H]
  const Tensor<T> p = reshape(projected, Shape{b, l * 3 * n});
  const Tensor<T> gf = reshape(g, Shape{b, (l + 1) * n});
  struct Step {
    Tensor<T> u, r, c, hp, a, m;  // m undefined when every row is real
  };
  std::vector<Step> steps(l);
  Tensor<T> h = Tensor<T>::zeros(Shape{b, n});
  for (size_t t = 0; t < l; ++t) {
    if (kinds[t] == StepKind::all_padded) continue;
    Step& s = steps[t];
    Tensor<T> xp = slice(p, 1, t * 3 * n, (t + 1) * 3 * n);
    if (bias.defined()) xp = xp + bias;
    const Tensor<T> ur = sigmoid(slice(xp, 1, 0, 2 * n) + matmul(h, ug));
    s.u = slice(ur, 1, 0, n);
    s.r = slice(ur, 1, n, 2 * n);
    s.c = tanh(slice(xp, 1, 2 * n, 3 * n) + matmul(s.r * h, uh));
    s.hp = h;
    if (mix != GruMix::gru) s.a = slice(scores, 1, t, t + 1);
    const Tensor<T> next = mix_tensors(mix, h, s.u, s.c, s.a);
    if (kinds[t] == StepKind::mixed) {
      s.m = slice(mask, 1, t, t + 1);
      h = where(s.m, next, h);
    } else {
      h = next;
    }
  }
  // The output's row t < L is m_t·h_t, row L the final state.
  Tensor<T> dh = slice(gf, 1, l * n, (l + 1) * n);
  Tensors<T> dps(l), das(l);
  Tensor<T> dug, duh;
  for (size_t t = l; t-- > 0;) {
    if (kinds[t] == StepKind::all_padded) {
      dps[t] = Tensor<T>::zeros(Shape{b, 3 * n});
      das[t] = Tensor<T>::zeros(Shape{b, 1});
      continue;
    }
    const Step& s = steps[t];
    const Tensor<T> gt = slice(gf, 1, t * n, (t + 1) * n);
    dh = dh + (s.m.defined() ? gt * s.m : gt);
    const Tensor<T> dn = s.m.defined() ? dh * s.m : dh;  // padded rows pass dh on untouched
    Tensor<T> dc, du, dhp, da;
    switch (mix) {
      case GruMix::augru: {
        const Tensor<T> dut = dn * (s.c - s.hp);
        dc = dn * (s.a * s.u);
        dhp = dn * (T(1) - s.a * s.u);
        du = dut * s.a;
        da = sum(dut * s.u, {1}, true);
        break;
      }
      case GruMix::augru_vecatt: {
        const Tensor<T> dut = dn * (s.hp - s.c);
        const Tensor<T> ut = (T(1) - s.a) * s.u;
        dc = dn * (T(1) - ut);
        dhp = dn * ut;
        du = dut * (T(1) - s.a);
        da = -sum(dut * s.u, {1}, true);
        break;
      }
      case GruMix::agru:
        dc = dn * s.a;
        dhp = dn * (T(1) - s.a);
        du = Tensor<T>::zeros(Shape{b, n});
        da = sum(dn * (s.c - s.hp), {1}, true);
        break;
      default:
        dc = dn * s.u;
        dhp = dn * (T(1) - s.u);
        du = dn * (s.c - s.hp);
        da = Tensor<T>::zeros(Shape{b, 1});
    }
    const Tensor<T> dpc = dc * (T(1) - s.c * s.c);
    const Tensor<T> drh = matmul(dpc, uh, false, true);
    const Tensor<T> dpur =
        concat<T>({du * (s.u * (T(1) - s.u)), (drh * s.hp) * (s.r * (T(1) - s.r))}, 1);
    dhp = dhp + drh * s.r + matmul(dpur, ug, false, true);
    if (s.m.defined()) dhp = dhp + dh * (T(1) - s.m);
    dps[t] = concat<T>({dpur, dpc}, 1);
    das[t] = da;
    const Tensor<T> gu = matmul(s.hp, dpur, true, false), gh = matmul(s.r * s.hp, dpc, true, false);
    dug = dug.defined() ? dug + gu : gu;
    duh = duh.defined() ? duh + gh : gh;
    dh = dhp;
  }
  const Tensor<T> dp = concat(dps, 1);  // [B, L·3H]
  const Tensor<T> dp3 = reshape(dp, Shape{b, l, 3 * n});
  if (wants_grad(x)) accumulate(x, matmul(dp3, w, false, true));
  if (wants_grad(w))
    accumulate(w, matmul(reshape(x, Shape{b * l, x.shape()[2]}), reshape(dp, Shape{b * l, 3 * n}),
                         true, false));
  if (bias.defined()) accumulate(bias, sum(reshape(dp, Shape{b * l, 3 * n}), {0}));
  if (dug.defined()) accumulate(ug, dug);
  if (duh.defined()) accumulate(uh, duh);
  if (mix != GruMix::gru) accumulate(scores, concat(das, 1));
}

// A [rows, cols] matrix transposed into a new buffer.
template <class T>
std::unique_ptr<T[]> transposed(const T* x, size_t rows, size_t cols) {
  std::unique_ptr<T[]> out(new T[rows * cols]);
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j) out[j * rows + i] = x[i * cols + j];
  return out;
}

}  // namespace

template <class T>
Tensor<T> gru_recurrence(const Tensor<T>& x, const Tensor<T>& input_weight,
                         const Tensor<T>& input_bias, const Tensor<T>& recurrent_gates,
                         const Tensor<T>& recurrent_candidate, const Tensor<T>& mask,
                         const Tensor<T>& scores, GruMix mix, GruOutput output) {
  const Tensor<T>&w = input_weight, &bias = input_bias, &ug = recurrent_gates,
        &uh = recurrent_candidate;
  if (x.dim() != 3 || w.dim() != 2 || uh.dim() != 2 || ug.dim() != 2 ||
      w.shape()[0] != x.shape()[2] || uh.shape()[0] != uh.shape()[1] ||
      ug.shape()[0] != uh.shape()[0] || ug.shape()[1] != 2 * uh.shape()[0] ||
      w.shape()[1] != 3 * uh.shape()[0])
    detail::shape_error("gru_recurrence", "input " + shape_str(x.shape()) + ", input_weight " +
                                              shape_str(w.shape()) + ", recurrent_gates " +
                                              shape_str(ug.shape()) + " and recurrent_candidate " +
                                              shape_str(uh.shape()) +
                                              " must be [B, L, D], [D, 3H], [H, 2H] and [H, H]");
  const size_t b = x.shape()[0], l = x.shape()[1], d = x.shape()[2], n = uh.shape()[0];
  const Shape bl{b, l};
  if (bias.defined() && bias.shape() != Shape{3 * n})
    detail::shape_error("gru_recurrence", "input_bias " + shape_str(bias.shape()) +
                                              " must be [3H] = " + shape_str(Shape{3 * n}));
  if (mask.defined() && mask.shape() != bl)
    detail::shape_error("gru_recurrence",
                        "mask " + shape_str(mask.shape()) + " must be [B, L] = " + shape_str(bl));
  if (mix != GruMix::gru && (!scores.defined() || scores.shape() != bl))
    detail::shape_error("gru_recurrence",
                        "scores " + (scores.defined() ? shape_str(scores.shape()) : "(none)") +
                            " must be [B, L] = " + shape_str(bl));
  const bool with_states = output != GruOutput::final_state,
             with_final = output != GruOutput::states;
  const Shape out_shape = output == GruOutput::all      ? Shape{b, l + 1, n}
                          : output == GruOutput::states ? Shape{b, l, n}
                                                        : Shape{b, n};
  if (b == 0 || l == 0) return Tensor<T>::zeros(out_shape);

  auto s = std::make_shared<Recurrence<T>>();
  s->b = b, s->l = l, s->h = n;
  s->kinds = classify_steps(mask, b, l);
  const size_t tile = b * n;  // one step's [B, H]
  s->xt.reset(new T[l * b * d]);
  s->hs.reset(new T[(l + 1) * tile]);
  s->ur.reset(new T[l * 2 * tile]);
  s->c.reset(new T[l * tile]);
  s->rh.reset(new T[l * tile]);
  // The input goes time-major, [L, B, D], one step's tile at a time as the loop reaches it (the
  // copy then overlaps the step's arithmetic): the weights' gradient sums over its rows in that
  // order. The output is written batch-major as each step ends: h_t, 0 at padded steps, and the
  // final state after the loop.
  const T* xv = x.data();
  Tensor<T> out = Tensor<T>::empty(out_shape);
  const size_t rows = (with_states ? l : 0) + (with_final ? 1 : 0);
  T* o = out.data();
  std::vector<T> proj(3 * tile);  // x_t·W of the current step
  const T* m = mask.defined() ? mask.data() : nullptr;
  const T* a = mix != GruMix::gru ? scores.data() : nullptr;
  std::vector<T> zero_bias;
  if (!bias.defined()) zero_bias.assign(3 * n, T(0));
  const T* bv = bias.defined() ? bias.data() : zero_bias.data();
  std::fill(s->hs.get(), s->hs.get() + tile, T(0));
  for (size_t t = 0; t < l; ++t) {
    const T* hp = s->hs.get() + t * tile;
    T* hn = s->hs.get() + (t + 1) * tile;
    T* rh = s->rh.get() + t * tile;
    T* pt = proj.data();
    const StepKind kind = s->kinds[t];
    auto padded = [&](size_t i) { return kind == StepKind::mixed && m[i * l + t] == T(0); };
    auto out_row = [&](size_t i) { return o + (i * rows + t) * n; };
    for (size_t i = 0; i < b; ++i)
      vec::copy_row(s->xt.get() + (t * b + i) * d, xv + (i * l + t) * d, d);
    if (kind == StepKind::all_padded) {
      std::copy(hp, hp + tile, hn);
      std::fill(rh, rh + tile, T(0));  // read by U_h's gradient, whose other factor is 0 here
      for (size_t i = 0; with_states && i < b; ++i) std::fill_n(out_row(i), n, T(0));
      continue;
    }
    // [u_t, r_t] = σ(h_{t−1}·U_g + x_t·W[:, :2H] + b[:2H])
    gemm(false, false, b, 3 * n, d, s->xt.get() + t * b * d, d, w.data(), 3 * n, T(0), pt, 3 * n);
    T* ur = s->ur.get() + t * 2 * tile;
    gemm(false, false, b, 2 * n, n, hp, n, ug.data(), 2 * n, T(0), ur, 2 * n);
    for (size_t i = 0; i < b; ++i) {
      if (padded(i)) {  // no gates: the row keeps its state, and U_h sees a 0 row
        std::fill_n(rh + i * n, n, T(0));
        continue;
      }
      T* z = ur + i * 2 * n;
      vec::sigmoid_sum(z, pt + i * 3 * n, bv, 2 * n);
      reset_row(z + n, hp + i * n, rh + i * n, n);
    }
    // h̃_t = tanh((r_t ⊙ h_{t−1})·U_h + x_t·W[:, 2H:] + b[2H:]), then h_t
    T* c = s->c.get() + t * tile;
    gemm(false, false, b, n, n, rh, n, uh.data(), n, T(0), c, n);
    for (size_t i = 0; i < b; ++i) {
      if (padded(i)) {
        vec::copy_row(hn + i * n, hp + i * n, n);
        if (with_states) std::fill_n(out_row(i), n, T(0));
        continue;
      }
      vec::tanh_sum(c + i * n, pt + i * 3 * n + 2 * n, bv + 2 * n, n);
      mix_row(mix, a ? a[i * l + t] : T(1), ur + i * 2 * n, c + i * n, hp + i * n, hn + i * n, n);
      if (with_states) vec::copy_row(out_row(i), hn + i * n, n);
    }
  }
  for (size_t i = 0; with_final && i < b; ++i)
    vec::copy_row(o + (i * rows + rows - 1) * n, s->hs.get() + l * tile + i * n, n);

  const Tensor<T> none;
  const Tensor<T>& sc = mix != GruMix::gru ? scores : none;
  if (!should_record(x, w, bias, ug, uh, sc)) return out;
  const Tensor<T> kept_mask = mask.defined() ? mask.detach() : Tensor<T>();
  record(out, [x, w, bias, ug, uh, kept_mask, sc, mix, output, s](const Tensor<T>&,
                                                                  const Tensor<T>& g) {
    const size_t b = s->b, l = s->l, n = s->h, d = x.shape()[2], tile = b * n;
    if (grad_enabled()) {  // the recorded form takes the gradient of the whole [B, L + 1, H]
      const Tensor<T> g_all = output == GruOutput::states ? pad(g, 1, 0, 1)
                              : output == GruOutput::final_state
                                  ? pad(reshape(g, Shape{b, 1, n}), 1, l, 0)
                                  : g;
      recorded_backward(x, w, bias, ug, uh, kept_mask, sc, mix, s->kinds, g_all);
      return;
    }
    const T* m = kept_mask.defined() ? kept_mask.data() : nullptr;
    const T* a = sc.defined() ? sc.data() : nullptr;
    const bool want_a = sc.defined() && wants_grad(sc);
    Tensor<T> da = want_a ? Tensor<T>::zeros(Shape{b, l}) : Tensor<T>();
    // The output's gradient is read in place, one row per (batch row, step); dh starts as the
    // final state's gradient.
    const bool with_states = output != GruOutput::final_state;
    const size_t rows = with_states ? (output == GruOutput::all ? l + 1 : l) : 1;
    const T* gv = g.data();
    std::vector<T> dh(tile, T(0)), dhp(tile), dhn(tile), drh(tile), dn(n);
    if (output != GruOutput::states)
      for (size_t i = 0; i < b; ++i)
        vec::copy_row(dh.data() + i * n, gv + (i * rows + rows - 1) * n, n);
    // U_hᵀ and U_gᵀ once, so every step's products are plain (untransposed) small gemms.
    const std::unique_ptr<T[]> uht = transposed(uh.data(), n, n);
    const std::unique_ptr<T[]> ugt = transposed(ug.data(), n, 2 * n);
    std::unique_ptr<T[]> dp(new T[l * 3 * tile]);  // ∂L/∂P, time-major [L, B, 3H]
    // ∂L/∂x_t = dP_t·Wᵀ step by step, written in place into the rows of x's gradient.
    Tensor<T> dx;
    T* dxv = nullptr;
    std::unique_ptr<T[]> wt;
    if (wants_grad(x)) {
      dx = Tensor<T>::empty(x.shape());
      dxv = dx.data();
      wt = transposed(w.data(), d, 3 * n);
    }
    for (size_t t = l; t-- > 0;) {
      T* dpt = dp.get() + t * 3 * tile;
      const StepKind kind = s->kinds[t];
      if (kind == StepKind::all_padded) {  // h_t = h_{t−1} and the output row is 0
        std::fill(dpt, dpt + 3 * tile, T(0));
        if (dxv)
          for (size_t i = 0; i < b; ++i) std::fill_n(dxv + (i * l + t) * d, d, T(0));
        continue;
      }
      auto padded = [&](size_t i) { return kind == StepKind::mixed && m[i * l + t] == T(0); };
      const T* hp = s->hs.get() + t * tile;
      const T* ur = s->ur.get() + t * 2 * tile;
      const T* c = s->c.get() + t * tile;
      for (size_t i = 0; i < b; ++i) {
        T* row = dpt + i * 3 * n;
        if (padded(i)) {  // the state passes through; the 0 output row sends nothing
          vec::copy_row(dhn.data() + i * n, dh.data() + i * n, n);
          std::fill(row, row + 3 * n, T(0));
          continue;
        }
        const T g_a =
            mix_row_backward(mix, a ? a[i * l + t] : T(1), ur + i * 2 * n, c + i * n, hp + i * n,
                             dh.data() + i * n, with_states ? gv + (i * rows + t) * n : nullptr,
                             dn.data(), dhp.data() + i * n, row, row + 2 * n, n);
        if (want_a) da.data()[i * l + t] = g_a;
      }
      // through r_t ⊙ h_{t−1}: d(r ⊙ h) = dP_h̃·U_hᵀ
      gemm(false, false, b, n, n, dpt + 2 * n, 3 * n, uht.get(), n, T(0), drh.data(), n);
      for (size_t i = 0; i < b; ++i) {
        if (padded(i)) continue;  // its row of dP is 0 already, and dh passed through
        reset_row_backward(ur + i * 2 * n + n, hp + i * n, drh.data() + i * n, dhp.data() + i * n,
                           dhn.data() + i * n, dpt + i * 3 * n + n, n);
      }
      // and through U_g: dh_{t−1} += [dP_u, dP_r]·U_gᵀ
      gemm(false, false, b, n, 2 * n, dpt, 3 * n, ugt.get(), n, T(1), dhn.data(), n);
      if (dxv) gemm(false, false, b, d, 3 * n, dpt, 3 * n, wt.get(), d, T(0), dxv + t * d, l * d);
      dh.swap(dhn);
    }
    // Each weight's gradient in one gemm over all L·B rows (skipped steps and padded rows hold
    // zeros in dP): Σ_t h_{t−1}ᵀ·dP_ur,t, Σ_t (r_t ⊙ h_{t−1})ᵀ·dP_h̃,t and Σ_t x_tᵀ·dP_t.
    if (wants_grad(ug)) {
      Tensor<T> dg = Tensor<T>::empty(Shape{n, 2 * n});
      gemm(true, false, n, 2 * n, l * b, s->hs.get(), n, dp.get(), 3 * n, T(0), dg.data(), 2 * n);
      accumulate(ug, dg);
    }
    if (wants_grad(uh)) {
      Tensor<T> dg = Tensor<T>::empty(Shape{n, n});
      gemm(true, false, n, n, l * b, s->rh.get(), n, dp.get() + 2 * n, 3 * n, T(0), dg.data(), n);
      accumulate(uh, dg);
    }
    if (wants_grad(w)) {
      Tensor<T> dg = Tensor<T>::empty(Shape{d, 3 * n});
      gemm(true, false, d, 3 * n, l * b, s->xt.get(), d, dp.get(), 3 * n, T(0), dg.data(), 3 * n);
      accumulate(w, dg);
    }
    if (bias.defined() && wants_grad(bias)) {
      Tensor<T> dg = Tensor<T>::zeros(Shape{3 * n});
      T* dv = dg.data();
      for (size_t row = 0; row < l * b; ++row) {
        const T* src = dp.get() + row * 3 * n;
        for (size_t k = 0; k < 3 * n; ++k) dv[k] += src[k];
      }
      accumulate(bias, dg);
    }
    if (dxv) accumulate(x, dx);
    if (want_a) accumulate(sc, da);
  });
  return out;
}

#define TINYREC_INSTANTIATE_GRU(T)                                                        \
  template Tensor<T> gru_recurrence(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, \
                                    const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, \
                                    const Tensor<T>&, GruMix, GruOutput);
TINYREC_INSTANTIATE_GRU(float)
TINYREC_INSTANTIATE_GRU(double)

}  // namespace tinyrec
