// A whole-model float64 gradient check for the multi-task models: a tiny configuration (numeric and
// categorical inputs, a regression and a binary task), a tiny batch, and gradcheck over every
// parameter of the outputs and of the weighted training loss. Used by the tests and `tinyrec
// gradcheck`.
#pragma once

#include <string>
#include <vector>

#include "autograd/gradcheck.hpp"
#include "data/multitask_dataset.hpp"
#include "models/multitask_model.hpp"

namespace tinyrec::models {

// Three numeric and two categorical columns; tasks "score" (regression) and "click" (binary), or
// "ctr" and "ctcvr" (both binary) for esmm. Small experts, towers and PLE levels.
MultiTaskConfig tiny_multitask_config(const std::string& model);
// Five rows with both label kinds, and an unknown id (0) in each categorical column.
data::MultiTaskBatch tiny_multitask_batch(const MultiTaskConfig& config);
// Checks the outputs [B, K] and the loss Σ_k w_k L_k against every parameter; returns the worse.
GradcheckResult gradcheck_multitask_model(MultiTaskModel<double>& model,
                                          const data::MultiTaskBatch& batch,
                                          const std::vector<double>& task_weights = {});

}  // namespace tinyrec::models
