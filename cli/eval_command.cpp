// `tinyrec eval` and `tinyrec predict`: rebuild a saved run from its checkpoint folder, then
// evaluate it on its data set's test split or score the records of a file.
#include <fstream>
#include <iostream>
#include <memory>

#include "autograd/atomic_file.hpp"
#include "cli/commands.hpp"
#include "cli/run_files.hpp"

namespace tinyrec::cli {

void add_eval_commands(CLI::App& app) {
  struct EvalArgs {
    std::string checkpoint, data_dir;
  };
  auto e = std::make_shared<EvalArgs>();
  CLI::App* eval =
      app.add_subcommand("eval", "Evaluate a saved model on its data set's test split");
  eval->add_option("--checkpoint", e->checkpoint,
                   "Checkpoint folder written by train (OUT/checkpoint)")
      ->required()
      ->check(CLI::ExistingDirectory);
  eval->add_option("--data-dir", e->data_dir,
                   "Override the data folder recorded in the checkpoint");
  eval->callback([e] {
    models::Run run = restore_run(e->checkpoint, e->data_dir);
    std::cout << nlohmann::json{{"model", run.config.model},
                                {"dataset", run.config.dataset},
                                {"test",
                                 run.task->evaluate(*run.model, run.config.train.eval_batch_size)}}
                     .dump()
              << "\n";
  });

  struct PredictArgs {
    std::string checkpoint, data_dir, input, output;
  };
  auto p = std::make_shared<PredictArgs>();
  CLI::App* predict = app.add_subcommand(
      "predict",
      "Score each record of a file with a saved model. Click models: the Amazon format (label, "
      "user, item, category, history items, history categories; tab-separated, histories joined "
      "by \\x02), one probability per line. Multi-task models: a CSV with a header naming the "
      "feature columns, one line of tab-separated task predictions per row. Next-item models: one "
      "session per line (item tokens oldest first), its top-K items as ITEM:SCORE per line");
  predict->add_option("--checkpoint", p->checkpoint, "Checkpoint folder written by train")
      ->required()
      ->check(CLI::ExistingDirectory);
  predict->add_option("--input", p->input, "File to score")->required()->check(CLI::ExistingFile);
  predict->add_option("--output", p->output,
                      "Where to write the scores (default: standard output)");
  predict->add_option("--data-dir", p->data_dir,
                      "Override the data folder recorded in the checkpoint");
  predict->callback([p] {
    models::Run run = restore_run(p->checkpoint, p->data_dir);
    // Scored into memory first, so a malformed record leaves no half-written --output behind.
    std::ostringstream scores;
    const size_t n = run.task->predict(*run.model, p->input, scores);
    if (p->output.empty()) {
      std::cout << scores.str();
      return;
    }
    try {
      write_text_atomically(p->output, scores.str());
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("--output: " + std::string(e.what()));
    }
    std::cerr << "tinyrec predict: wrote " << n << " scores to " << p->output << "\n";
  });
}

}  // namespace tinyrec::cli
