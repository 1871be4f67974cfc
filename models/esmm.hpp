// Entire Space Multi-Task Model: An Effective Approach for Estimating Post-Click Conversion Rate —
// Ma, Zhao, Huang, Wang, Hu, Zhu and Gai, SIGIR 2018 (arXiv 1804.07931).
//
// An impression x may be clicked (y) and a click may convert (z). The post-click conversion rate
// pCVR = p(z = 1 | y = 1, x) is what the system wants, but conversions are only seen after clicks:
// a CVR model fitted on clicked impressions alone is used on every impression (sample selection
// bias), and has few samples (data sparsity). ESMM models the two probabilities that ARE defined on
// every impression,
//       p(y = 1, z = 1 | x) = p(y = 1 | x) · p(z = 1 | y = 1, x)        (eq. 1)
//       pCTCVR              = pCTR         · pCVR
// with one network per factor on a shared embedding layer ("feature representation transfer"),
// and trains on every impression with losses on CTR and CTCVR only,
//       L = Σ_i l(y_i, pCTR_i) + Σ_i l(y_i & z_i, pCTR_i · pCVR_i)       (eq. 3)
// so pCVR is never fitted to the clicked subset; it is what remains of pCTCVR once pCTR is known
// (never computed as the unstable ratio pCTCVR / pCTR, eq. 2).
//
// Here the model's two task outputs are logits, so training is the family's usual binary
// cross-entropy with logits: logit(pCTR) = a, the CTR network's output, and, with c the CVR
// network's output,
//       logit(pCTCVR) = log(σ(a)σ(c) / (1 − σ(a)σ(c))) = −log(e^{−a} + e^{−c} + e^{−a−c}),
// exact and stable for any a, c (a log-sum-exp), so BCE on it is the paper's l(y & z, pCTR·pCVR).
// Sizes: embeddings of 18 per feature field and MLPs 360-200-80-2 in the paper (input width, then
// 200 and 80 hidden units, then a 2-way softmax); ours end in one logit, which is the same model.
// The tasks must be two binary tasks, CTR first and CTCVR second (data/esmm_synthetic.hpp).
#pragma once

#include "models/multitask_model.hpp"

namespace tinyrec::models {

template <class T>
class ESMM : public MultiTaskModel<T> {
 public:
  explicit ESMM(const MultiTaskConfig& config);
  // {logit(pCTR), logit(pCTCVR)}, each [B].
  std::vector<Tensor<T>> forward(const data::MultiTaskBatch& batch) override;
  std::string name() const override { return "esmm"; }
  // logit(pCVR) of the last forward pass, [B]: the CVR network's output, defined on every
  // impression.
  const Tensor<T>& cvr_logits() const { return cvr_; }

 private:
  MultiTaskInput<T> input_;
  Tower<T> ctr_, cvr_net_;
  Tensor<T> cvr_;
};

// logit(σ(a)·σ(c)) for logits a and c of one shape, computed stably.
template <class T>
Tensor<T> logit_of_product(const Tensor<T>& a, const Tensor<T>& c);

ModelEntry esmm_registration();

}  // namespace tinyrec::models
