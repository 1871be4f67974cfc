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
// curve.csv and curve.svg.
void write_run_files(const std::string& out, const models::Run& run,
                     const models::TrainReport& report);
// OUT/checkpoint: the weights as .npy files and config.json, the run configuration that
// `tinyrec train --config` reruns and `eval`/`predict` rebuild the model from.
void write_checkpoint(const std::string& out, const models::Run& run);

// The run a checkpoint folder holds, data loaded and weights restored. `data_dir`, when given,
// replaces the data folder recorded at training.
models::Run restore_run(const std::string& checkpoint, const std::string& data_dir = "");

// The numbers of a metrics object, flattened: {"tasks": {"a": {"mse": 1}}} -> {"tasks.a.mse", 1};
// counts ("samples") and the gates' arrays are left out.
std::vector<std::pair<std::string, double>> flatten_metrics(const nlohmann::json& metrics);

}  // namespace tinyrec::cli
