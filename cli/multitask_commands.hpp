// The multi-task family on the command line (shared_bottom, omoe, mmoe, ple, esmm): its flags and
// what `tinyrec train|eval|predict|gradcheck|bench` run for it once they dispatch on --model.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/options.hpp"
#include "data/multitask_dataset.hpp"
#include "models/multitask_model.hpp"
#include "models/train_multitask.hpp"

namespace tinyrec::cli {

// shared_bottom | omoe | mmoe | ple | esmm.
bool is_multitask_model(const std::string& name);

// The multi-task family's own flags. Data sets (--dataset): synthetic (the MMoE paper's generator,
// or the ESMM generator for --model esmm or --generator esmm), csv (--schema and --csv-train
// [--csv-test]; a single file is split by --test-fraction), income (DATA_DIR/income.csv from
// data/get_income.sh), census (DATA_DIR/census-income.data and .test, UCI).
struct MultiTaskFlags {
  // Synthetic data.
  std::string generator = "auto";  // auto | mmoe | esmm (auto: esmm for --model esmm)
  double correlation = 0.5;        // p = cos(w1, w2)
  int64_t dim = 100;               // d
  double c = 1.0;                  // scale of w1, w2
  int sine_terms = 10;             // m
  std::string sines = "gaussian";  // gaussian (α, β ~ N(0, 1)) | index (α_i = i, β_i = i²)
  int64_t train_rows = 10000, test_rows = 2000;
  // CSV data.
  std::string schema, csv_train, csv_test;
  // Model sizes (defaults: models::MultiTaskConfig's, the papers').
  size_t experts = 8, expert_units = 16, bottom_units = 0, embedding_dim = 18;
  std::string tower_units = "8", esmm_tower = "200,80";
  size_t ple_specific = 2, ple_shared = 4, ple_levels = 2;
  std::string init = "torch";  // torch | glorot (models::MultiTaskConfig::init)
  // Training.
  std::string task_weights;  // "w1,w2,..."; empty = 1 for every task
  size_t eval_every = 0;     // steps between test evaluations on the curve; 0 = each epoch
};

// Registered on train, eval, predict and bench; the names collide with no other family's flags.
void add_multitask_flags(CLI::App& cmd, MultiTaskFlags& f);

// The data set the flags name (generated or read), and the model configuration fitted to it.
data::MultiTaskDataset load_multitask_data(const CommonFlags& common, const MultiTaskFlags& f);
models::MultiTaskConfig multitask_config(const CommonFlags& common, const MultiTaskFlags& f,
                                         const data::MultiTaskDataset& data);
models::MultiTaskTrainOptions multitask_train_options(const CommonFlags& common,
                                                      const MultiTaskFlags& f);
// Everything a checkpoint folder needs to rebuild its data and model (checkpoint/config.json).
nlohmann::json multitask_config_json(const CommonFlags& common, const MultiTaskFlags& f);
void multitask_config_from_json(const nlohmann::json& j, CommonFlags& common, MultiTaskFlags& f);

// Trains, then writes OUT/metrics.json ({"model", "dataset", "tasks": {name: {"mse"} or {"auc",
// "logloss"}}, "train": {"samples_per_second", ...}, "gates": {task: {"experts", "mean", "std"}},
// "curve": [...]}), OUT/curve.csv, OUT/curve.svg, OUT/checkpoint/ (+ config.json) and prints a
// one-line JSON summary.
void run_multitask_train(const CommonFlags& common, const MultiTaskFlags& f);
// Rebuilds the model of a checkpoint folder and prints its test metrics as JSON; data_dir, when
// given, replaces the folder recorded at training.
void run_multitask_eval(const std::string& checkpoint, const std::string& data_dir);
// Writes one line per row of input_csv (a header naming the model's feature columns; others are
// ignored): the tasks' predictions, tab-separated — probabilities for binary tasks, values for
// regression tasks. output empty = standard output.
void run_multitask_predict(const std::string& checkpoint, const std::string& input_csv,
                           const std::string& output);
// Prints the worst relative error of a float64 whole-model check; throws std::runtime_error on
// failure.
void run_multitask_gradcheck(const std::string& model);
// Times `steps` training steps (after `warmup`) on the model's synthetic data at the paper's sizes;
// prints one JSON line {"model", "batch_size", "steps", "samples_per_second", "ms_per_step", ...}.
void run_multitask_bench(const std::string& model, size_t batch_size, size_t steps, size_t warmup);

// Registers `tinyrec experiment mmoe-correlation` (cli/experiment_command.cpp): Shared-Bottom, OMoE
// and MMoE on the MMoE paper's synthetic data for several task correlations and seeds; writes
// table.md/.csv, runs.csv, curves.csv and loss_curves.svg into --out.
void add_experiment_command(CLI::App& app);

}  // namespace tinyrec::cli
