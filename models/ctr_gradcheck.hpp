// A whole-model float64 gradient check for the CTR models: a tiny configuration, a tiny batch with
// padded histories, and gradcheck over every parameter. Used by the tests and `tinyrec gradcheck`.
#pragma once

#include "autograd/gradcheck.hpp"
#include "data/ctr_dataset.hpp"
#include "models/ctr_model.hpp"

namespace tinyrec::models {

CtrConfig tiny_ctr_config();
// Three samples with histories of lengths 4, 2 and 1 in a batch of length 4 (so padding is
// present).
data::CtrBatch tiny_ctr_batch(const CtrConfig& config);
// Checks the logits and the training loss (click loss plus auxiliary loss) against every parameter.
GradcheckResult gradcheck_ctr_model(CtrModel<double>& model, const data::CtrBatch& batch);

}  // namespace tinyrec::models
