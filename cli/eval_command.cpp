// `tinyrec eval` and `tinyrec predict`: rebuild a saved model from its checkpoint folder, then
// evaluate it on its data set's test split or score the lines of a file.
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/multitask_commands.hpp"
#include "cli/options.hpp"
#include "cli/run_files.hpp"
#include "data/amazon_reader.hpp"
#include "nn/checkpoint.hpp"

namespace tinyrec::cli {

namespace fs = std::filesystem;

namespace {

struct Restored {
  CommonFlags common;
  CtrFlags ctr;
  data::CtrDataset ds;
  std::unique_ptr<models::CtrModel<float>> net;
};

// Rebuilds the data set and the model a checkpoint was trained with, then loads its weights.
Restored restore(const std::string& checkpoint, const std::string& data_dir) {
  Restored r;
  config_from_json(read_json((fs::path(checkpoint) / "config.json").string()), r.common, r.ctr);
  if (!data_dir.empty()) r.common.data_dir = data_dir;
  r.ds = load_ctr_data(r.common, r.ctr);
  fit_config_to_data(r.ctr.config, r.ds);
  r.net = models::make_ctr_model<float>(r.common.model, r.ctr.config);
  nn::load_checkpoint(*r.net, checkpoint);
  return r;
}

// The model a checkpoint folder holds, from its config.json.
std::string model_of(const std::string& checkpoint) {
  return read_json((fs::path(checkpoint) / "config.json").string()).at("model").get<std::string>();
}

}  // namespace

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
    if (is_multitask_model(model_of(e->checkpoint)))
      return run_multitask_eval(e->checkpoint, e->data_dir);
    Restored r = restore(e->checkpoint, e->data_dir);
    const models::CtrMetrics m = models::evaluate_ctr(*r.net, r.ds.test, r.ctr.train.max_len);
    std::cout << std::fixed << std::setprecision(4) << "{\"model\": \"" << r.common.model
              << "\", \"dataset\": \"" << r.common.dataset << "\", \"test\": {\"auc\": " << m.auc
              << ", \"gauc\": " << m.gauc << ", \"logloss\": " << m.logloss
              << ", \"samples\": " << m.samples << "}}\n";
  });

  struct PredictArgs {
    std::string checkpoint, data_dir, input, output;
  };
  auto p = std::make_shared<PredictArgs>();
  CLI::App* predict = app.add_subcommand(
      "predict",
      "Score each line of a file. base/din: the Amazon format (label, user, item, category, "
      "history "
      "items, history categories; tab-separated, histories joined by \\x02), one probability per "
      "line. Multi-task models: a CSV with a header naming the feature columns, one line of "
      "tab-separated task predictions per row");
  predict->add_option("--checkpoint", p->checkpoint, "Checkpoint folder written by train")
      ->required()
      ->check(CLI::ExistingDirectory);
  predict->add_option("--input", p->input, "File to score")->required()->check(CLI::ExistingFile);
  predict->add_option("--output", p->output,
                      "Where to write the scores (default: standard output)");
  predict->add_option("--data-dir", p->data_dir,
                      "Override the data folder recorded in the checkpoint");
  predict->callback([p] {
    if (is_multitask_model(model_of(p->checkpoint)))
      return run_multitask_predict(p->checkpoint, p->input, p->output);
    Restored r = restore(p->checkpoint, p->data_dir);
    const std::vector<data::CtrSample> samples =
        data::read_samples_for_prediction(p->input, r.common.dataset == "amazon" ? &r.ds : nullptr);
    const std::vector<float> scores = models::predict_ctr(*r.net, samples, r.ctr.train.max_len);
    std::ofstream file;
    if (!p->output.empty()) {
      file.open(p->output);
      if (!file) throw std::runtime_error("--output: cannot write " + p->output);
    }
    std::ostream& out = p->output.empty() ? std::cout : file;
    out << std::setprecision(6);
    for (float s : scores) out << s << "\n";
  });
}

}  // namespace tinyrec::cli
