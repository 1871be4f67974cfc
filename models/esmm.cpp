// ESMM; see esmm.hpp for the paper's equations.
#include "models/esmm.hpp"

#include <stdexcept>

#include "autograd/ops.hpp"

namespace tinyrec::models {

namespace {

const MultiTaskConfig& checked(const MultiTaskConfig& c) {
  if (c.tasks.size() != 2 || c.tasks[0].kind != data::TaskKind::binary ||
      c.tasks[1].kind != data::TaskKind::binary)
    throw std::invalid_argument(
        "ESMM needs exactly two binary tasks, CTR then CTCVR (as the ESMM synthetic data has: "
        "--dataset synthetic with --model esmm); got " +
        std::to_string(c.tasks.size()) + " task(s)");
  return c;
}

}  // namespace

template <class T>
Tensor<T> logit_of_product(const Tensor<T>& a, const Tensor<T>& c) {
  const Shape shape = a.shape();
  const Shape column{a.numel(), 1};
  // −logit = log(e^{−a} + e^{−c} + e^{−a−c}) = z_0 − log_softmax(z)_0 with z = (−a, −c, −a−c).
  Tensor<T> z = concat<T>({reshape(-a, column), reshape(-c, column), reshape(-(a + c), column)}, 1);
  Tensor<T> lse = slice(z, 1, 0, 1) - slice(log_softmax(z, 1), 1, 0, 1);  // [N, 1]
  return reshape(-lse, shape);
}

template <class T>
ESMM<T>::ESMM(const MultiTaskConfig& c)
    : MultiTaskModel<T>(checked(c)),
      input_(c, this->rng_),
      ctr_(input_.width(), c.esmm_tower, c.init, this->rng_),
      cvr_net_(input_.width(), c.esmm_tower, c.init, this->rng_) {
  this->register_module("input", input_);  // shared by both networks
  this->register_module("ctr", ctr_);
  this->register_module("cvr", cvr_net_);
}

template <class T>
std::vector<Tensor<T>> ESMM<T>::forward(const data::MultiTaskBatch& b) {
  Tensor<T> x = input_.forward(b);        // shared embeddings, [B, d]
  Tensor<T> a = ctr_.forward(x);          // logit(pCTR), [B]
  cvr_ = cvr_net_.forward(x);             // logit(pCVR), [B]
  return {a, logit_of_product(a, cvr_)};  // eq. 1: pCTCVR = pCTR · pCVR
}

ModelEntry esmm_registration() {
  ModelEntry e =
      multitask_entry("esmm", "Ma et al., Entire Space Multi-Task Model (ESMM), SIGIR 2018",
                      "ESMM: pCTCVR = pCTR x pCVR, trained on the whole impression space",
                      {kEmbeddingDimOption,
                       {"esmm_tower",
                        "esmm-tower",
                        "hidden units of the CTR and CVR networks, comma-separated",
                        {},
                        1,
                        1e5},
                       kInitOption});
  // ESMM needs its two binary tasks, ctr and ctcvr.
  e.tiny_shape = {
      {"tasks", {{{"name", "ctr"}, {"kind", "binary"}}, {{"name", "ctcvr"}, {"kind", "binary"}}}},
      {"n_numeric", 3},
      {"cat_vocab_sizes", {4, 3}}};
  set_factories<ESMM, MultiTaskConfig>(e);
  return e;
}

template class ESMM<float>;
template class ESMM<double>;
template Tensor<float> logit_of_product(const Tensor<float>&, const Tensor<float>&);
template Tensor<double> logit_of_product(const Tensor<double>&, const Tensor<double>&);

}  // namespace tinyrec::models
