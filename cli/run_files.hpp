// What a training run leaves in its --out folder — metrics.json, curve.csv, curve.svg and
// checkpoint/ with the run's config.json — written in one place for every model, and reading a
// checkpoint folder back into a run.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "models/trainer.hpp"

namespace tinyrec::cli {

// Fails early — before any training — when `out` exists and is not a folder, or cannot be created.
void prepare_out_dir(const std::string& out);

// metrics.json ({"model", "dataset", "data", "parameters", "config", "test", "train", "curve"}),
// curve.csv and curve.svg, each written to a temporary name and renamed.
void write_run_files(const std::string& out, const models::Run& run,
                     const models::TrainReport& report);
// OUT/checkpoint: the weights as .npy files and config.json, the run configuration that
// `tinyrec train --config` reruns and `eval`/`predict` rebuild the model from; given a trainer,
// also its state (train_state.json, optimizer/) that `tinyrec train --resume OUT` continues from.
// Written into OUT/checkpoint.tmp and renamed into place, so a crash while writing leaves the
// previous checkpoint whole (as OUT/checkpoint, or OUT/checkpoint.old for an instant).
void write_checkpoint(const std::string& out, const models::Run& run,
                      const models::Trainer* trainer = nullptr);
// The checkpoint folder of run folder `out`: OUT/checkpoint, or OUT/checkpoint.old when a crash
// came between the two renames of write_checkpoint. Throws naming `out` when neither exists.
std::string checkpoint_of(const std::string& out);

// The run a checkpoint folder holds, data loaded and weights restored. `data_dir`, when given,
// replaces the data folder recorded at training.
models::Run restore_run(const std::string& checkpoint, const std::string& data_dir = "");

// The numbers of a metrics object, flattened: {"tasks": {"a": {"mse": 1}}} -> {"tasks.a.mse", 1};
// counts ("samples") and the gates' arrays are left out.
std::vector<std::pair<std::string, double>> flatten_metrics(const nlohmann::json& metrics);

}  // namespace tinyrec::cli
