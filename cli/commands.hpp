// The subcommands of the `tinyrec` program, each registered on the CLI11 app by one function.
#pragma once

#include <CLI/CLI.hpp>

namespace tinyrec::cli {

void add_train_command(CLI::App& app);
void add_eval_commands(CLI::App& app);  // eval and predict
void add_gradcheck_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_experiment_command(CLI::App& app);  // cli/experiment_command.cpp

}  // namespace tinyrec::cli
