// tinyrec: train, evaluate, check and time the library's recommendation models.
#include <CLI/CLI.hpp>
#include <iostream>
#include <new>

#include "autograd/tensor.hpp"
#include "cli/commands.hpp"
#include "cli/interrupt.hpp"

int main(int argc, char** argv) {
  tinyrec::tune_allocator();  // a program's choice, not the library's: see autograd/tensor.hpp
  CLI::App app{
      "tinyrec: readable recommendation models on a small autodiff engine.\n"
      "Run `tinyrec SUBCOMMAND --help` for each subcommand's flags, and "
      "`tinyrec train --model NAME --help` for a model's own."};
  app.require_subcommand(1);
  try {
    const tinyrec::cli::Prescan scan = tinyrec::cli::prescan(argc, argv);
    tinyrec::cli::add_train_command(app, scan);
    tinyrec::cli::add_eval_commands(app);
    tinyrec::cli::add_gradcheck_command(app, scan);
    tinyrec::cli::add_bench_command(app, scan);
    tinyrec::cli::add_models_command(app);
    tinyrec::cli::add_experiment_command(app);
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, like every other error; the subcommand's --help lists what it takes.
    std::string sub;
    for (int i = 1; i < argc && sub.empty(); ++i)
      if (argv[i][0] != '-') sub = argv[i];
    std::cerr << tinyrec::cli::parse_error_line(e, sub) << "\n";
    return e.get_exit_code();
  } catch (const tinyrec::cli::Interrupted& e) {
    std::cerr << "tinyrec: " << e.what() << "\n";
    return 128 + e.signal();
  } catch (const std::bad_alloc&) {
    // What the commands do not name themselves (they name the sizes where they can).
    std::cerr << "tinyrec: error: out of memory; lower the sizes of the data or the model\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "tinyrec: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
