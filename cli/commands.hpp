// The subcommands of the `tinyrec` program, each registered on the CLI11 app by one function.
// Those that build a model take the first pass over the command line (cli/flags.hpp), so they
// register exactly the flags of the chosen model, task and data set.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/flags.hpp"
#include "models/trainer.hpp"

namespace tinyrec::cli {

void add_train_command(CLI::App& app, const Prescan& scan);      // cli/train_command.cpp
void add_eval_commands(CLI::App& app);                           // eval and predict
void add_gradcheck_command(CLI::App& app, const Prescan& scan);  // cli/gradcheck_command.cpp
void add_bench_command(CLI::App& app, const Prescan& scan);      // cli/bench_command.cpp
void add_models_command(CLI::App& app);                          // cli/models_command.cpp
void add_experiment_command(CLI::App& app);                      // cli/experiment_command.cpp

// What `tinyrec train` does once its flags are read: trains `run` (just built), writing OUT's run
// files and a checkpoint after every epoch; with `resume` (a run folder, then also `out`) it
// continues that run from its last checkpoint, refusing a configuration that differs from the
// saved one in anything but the epochs. A non-finite loss (NonFiniteLoss, or AnomalyError in
// anomaly mode), a file that cannot be written (WriteError) and a stop asked for by a signal
// (Interrupted, when a StopOnSignal is installed) end the run with a message saying what was kept.
// `extra` callbacks run beside the command's own (tests use them to stop or poison a run).
void train_and_write(models::Run& run, const std::string& out, bool quiet,
                     const std::string& resume = "", const models::TrainCallbacks& extra = {});

}  // namespace tinyrec::cli
