// Flags shared by the subcommands, grouped by what they configure, and the helpers that register
// them with CLI11 so every subcommand spells and checks them the same way. The train/eval/...
// subcommands serve two model families — CTR (base, din) and multi-task — and dispatch on --model.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "data/ctr_dataset.hpp"
#include "data/din_synthetic.hpp"
#include "models/ctr_model.hpp"
#include "models/train_ctr.hpp"

namespace tinyrec::cli {

// Flags every family understands.
struct CommonFlags {
  std::string model = "din", dataset = "synthetic", data_dir, out = "runs/latest";
  size_t epochs = 2, batch_size = 128;
  double lr = 1e-3;
  uint64_t seed = 1;
  bool quiet = false;
  uint64_t data_seed = 1;      // synthetic generators
  double test_fraction = 0.2;  // share held out for test where a data set has no split of its own
};

// Flags of the CTR family (Base model, DIN).
struct CtrFlags {
  models::CtrConfig config;
  models::TrainOptions train;  // epochs, batch size, lr and seed come from CommonFlags
  data::DinSyntheticConfig synthetic;
};

// --model accepts every family's names; --dataset every family's data sets (checked per family).
void add_common_flags(CLI::App& app, CommonFlags& common);
void add_ctr_flags(CLI::App& app, CtrFlags& ctr);
// The CTR training options: CtrFlags' own with the common ones filled in.
models::TrainOptions ctr_train_options(const CommonFlags& common, const CtrFlags& ctr);

bool is_ctr_model(const std::string& name);
// Reads or generates the CTR data set the flags name; errors name the missing file or bad flag.
data::CtrDataset load_ctr_data(const CommonFlags& common, const CtrFlags& ctr);
// Fills the vocabulary sizes and counts of the model config from the data.
void fit_config_to_data(models::CtrConfig& config, const data::CtrDataset& data);

}  // namespace tinyrec::cli
