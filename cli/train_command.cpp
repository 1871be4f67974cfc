// `tinyrec train`: fit a model, evaluate it after every epoch, and write metrics, curves and a
// checkpoint into --out.
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/multitask_commands.hpp"
#include "cli/options.hpp"
#include "cli/run_files.hpp"
#include "data/progress.hpp"
#include "nn/checkpoint.hpp"

namespace tinyrec::cli {

namespace {

std::string fmt(double v, int digits = 4) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

void train_ctr_model(const CommonFlags& common, CtrFlags& f) {
  const models::TrainOptions options = ctr_train_options(common, f);
  data::CtrDataset ds = load_ctr_data(common, f);
  fit_config_to_data(f.config, ds);
  auto model = models::make_ctr_model<float>(common.model, f.config);
  std::ostream& log = std::cerr;
  log << "tinyrec train: " << common.model << " on " << ds.name << " (" << ds.train.size()
      << " train / " << ds.test.size() << " test samples, " << ds.n_items << " items, " << ds.n_cats
      << " categories), " << model->parameter_count() << " parameters\n";

  std::unique_ptr<data::ProgressBar> bar;
  size_t epoch = 0;
  auto on_step = [&](size_t step, size_t steps, double loss, double per_second) {
    if (common.quiet) return;
    if (step == 1)
      bar = std::make_unique<data::ProgressBar>(
          "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(options.epochs), steps, log);
    const std::string suffix =
        "loss " + fmt(loss) + " | " + data::format_count(uint64_t(per_second)) + " samples/s";
    if (step == steps)
      bar->finish(suffix);
    else
      bar->update(step, suffix);
  };
  auto on_epoch = [&](const models::EpochRecord& e) {
    epoch = e.epoch;
    log << "epoch " << e.epoch << ": train loss " << fmt(e.train_loss) << " | test AUC "
        << fmt(e.test.auc) << " GAUC " << fmt(e.test.gauc) << " logloss " << fmt(e.test.logloss)
        << "\n";
  };
  const models::TrainReport report = models::train_ctr(*model, ds, options, on_step, on_epoch);

  write_run_files(common, report, model->parameter_count());
  const std::string ckpt = (std::filesystem::path(common.out) / "checkpoint").string();
  nn::save_checkpoint(*model, ckpt);
  std::ofstream(std::filesystem::path(ckpt) / "config.json")
      << config_to_json(common, f).dump(2) << "\n";
  const auto& t = report.epochs.back().test;
  std::cout << "{\"model\": \"" << common.model << "\", \"dataset\": \"" << common.dataset
            << "\", \"test\": {\"auc\": " << fmt(t.auc) << ", \"gauc\": " << fmt(t.gauc)
            << ", \"logloss\": " << fmt(t.logloss)
            << "}, \"train\": {\"samples_per_second\": " << fmt(report.samples_per_second, 0)
            << "}}\n";
  log << "wrote " << common.out << "/metrics.json, curve.csv, curve.svg and checkpoint/\n";
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto common = std::make_shared<CommonFlags>();
  auto ctr = std::make_shared<CtrFlags>();
  auto multitask = std::make_shared<MultiTaskFlags>();
  CLI::App* cmd =
      app.add_subcommand("train", "Train a model, evaluating on the test split after every epoch");
  add_common_flags(*cmd, *common);
  add_ctr_flags(*cmd, *ctr);
  add_multitask_flags(*cmd, *multitask);
  cmd->callback([common, ctr, multitask] {
    if (is_multitask_model(common->model))
      run_multitask_train(*common, *multitask);
    else
      train_ctr_model(*common, *ctr);
  });
}

}  // namespace tinyrec::cli
