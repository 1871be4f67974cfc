// tinyrec: train, evaluate, check and time the library's recommendation models.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "tinyrec: readable recommendation models on a small autodiff engine.\n"
      "Run `tinyrec SUBCOMMAND --help` for each subcommand's flags."};
  app.require_subcommand(1);
  tinyrec::cli::add_train_command(app);
  tinyrec::cli::add_eval_commands(app);
  tinyrec::cli::add_gradcheck_command(app);
  tinyrec::cli::add_bench_command(app);
  tinyrec::cli::add_experiment_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "tinyrec: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
