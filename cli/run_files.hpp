// What a training run leaves in its --out folder, and reading a checkpoint folder back.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cli/options.hpp"
#include "models/train_ctr.hpp"

namespace tinyrec::cli {

// The flags a checkpoint needs to be rebuilt: stored as checkpoint/config.json.
nlohmann::json config_to_json(const CommonFlags& common, const CtrFlags& ctr);
void config_from_json(const nlohmann::json& j, CommonFlags& common, CtrFlags& ctr);

// metrics.json, curve.csv and curve.svg for one run.
void write_run_files(const CommonFlags& common, const models::TrainReport& report,
                     size_t parameter_count);

nlohmann::json read_json(const std::string& path);

}  // namespace tinyrec::cli
