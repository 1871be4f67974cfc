// Checkpoints: a Module's parameters and buffers as a folder of .npy files, one per tensor,
// named by dotted path ("layers.0.weight.npy"), plus a manifest.json listing them. numpy reads
// each with np.load; PyTorch with torch.from_numpy(np.load(...)).
#pragma once

#include <string>

#include "nn/module.hpp"
#include "nn/optim.hpp"

namespace tinyrec::nn {

// Writes every parameter and buffer of `module` into `dir` (created if missing; files of the same
// names are overwritten). Throws std::runtime_error if `dir` already holds a .npy file that is not
// one of the module's tensors (so a later load cannot mix two models), or if a write fails.
template <class T>
void save_checkpoint(const Module<T>& module, const std::string& dir);

// Reads every parameter and buffer of `module` from `dir` into the existing tensors, in place
// (handles held by optimizers stay valid). Files of float32 or float64 are accepted whatever T
// is, and converted: a float-trained model loads into a double model for gradient checks.
// Everything is read and checked before anything is written, so on error the module is
// untouched. Throws std::runtime_error naming the tensor and file for a missing file, a shape
// mismatch (with both shapes), an unsupported dtype, or a .npy file in `dir` that matches no
// tensor of the module. Every mismatch is listed in the one error, not only the first. Files other
// than *.npy (such as manifest.json) are ignored.
template <class T>
void load_checkpoint(Module<T>& module, const std::string& dir);

// An optimizer's state (Optimizer::state_slots) as DIR/SLOT/PARAM.npy, one file per parameter that
// has state, named by `params` (the optimizer's parameters with their dotted names, in its order),
// and the step counts as DIR/COUNT.npy (int64, one per parameter). `dir` is created if missing.
template <class T>
void save_optimizer_state(Optimizer<T>& optimizer, const Named<T>& params, const std::string& dir);
// Reads what save_optimizer_state wrote back into an optimizer of the same kind over the same
// parameters. Checks every file's name, shape and dtype first and lists each mismatch in one
// error; on error the optimizer is untouched.
template <class T>
void load_optimizer_state(Optimizer<T>& optimizer, const Named<T>& params, const std::string& dir);

}  // namespace tinyrec::nn
