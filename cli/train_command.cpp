// `tinyrec train`: fit any registered model, evaluating on a schedule, with a progress bar; then
// write the run files and the checkpoint.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "cli/run_files.hpp"

namespace tinyrec::cli {

namespace {

std::string fmt(double v) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(4) << v;
  return os.str();
}

std::string losses(const models::LossValues& values) {
  std::string s;
  for (const auto& [name, v] : values) s += (s.empty() ? "" : " ") + name + " " + fmt(v);
  return s;
}

void train(const models::RunConfig& config, const std::string& out, bool quiet) {
  prepare_out_dir(out);
  models::Run run = models::build_run(config);
  std::ostream& log = std::cerr;
  log << "tinyrec train: " << run.config.model << " on " << run.task->describe() << ", "
      << run.model->parameter_count() << " parameters\n";
  models::Trainer trainer(*run.task, *run.model, run.config.train);
  std::unique_ptr<ProgressBar> bar;
  models::TrainCallbacks callbacks;
  callbacks.on_step = [&](const models::StepInfo& s) {
    if (quiet) return;
    if (s.step == 1)
      bar = std::make_unique<ProgressBar>(
          "epoch " + std::to_string(s.epoch) + "/" + std::to_string(run.config.train.epochs),
          s.steps, log);
    const std::string suffix = "loss " + losses(s.loss) + " | " +
                               format_count(uint64_t(s.samples_per_second)) + " samples/s";
    if (s.step == s.steps)
      bar->finish(suffix);
    else
      bar->update(s.step, suffix);
  };
  callbacks.on_point = [&](const models::CurvePoint& p, bool end_of_epoch) {
    if (!end_of_epoch && quiet) return;
    log << (end_of_epoch ? "epoch " + std::to_string(std::lround(p.epoch))
                         : "step " + std::to_string(p.step))
        << ": train " << losses(p.train) << " | test " << run.task->summarize(p.test) << "\n";
  };
  const models::TrainReport report = trainer.fit(callbacks);
  write_run_files(out, run, report);
  write_checkpoint(out, run);
  nlohmann::json test = report.test;
  test.erase("gates");  // metrics.json has them; the summary line stays short
  std::cout << nlohmann::json{{"model", run.config.model},
                              {"dataset", run.config.dataset},
                              {"test", test},
                              {"train",
                               {{"samples_per_second", std::round(report.samples_per_second)}}}}
                   .dump()
            << "\n";
  log << "wrote " << out << "/metrics.json, curve.csv, curve.svg and checkpoint/\n";
}

}  // namespace

void add_train_command(CLI::App& app, const Prescan& scan) {
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train a model, evaluating on the test split after every epoch. `tinyrec train --model "
      "NAME --help` lists that model's, its task's and its data set's flags.");
  auto flags = std::make_shared<std::unique_ptr<RunFlags>>();
  if (scan.subcommand == "train") *flags = std::make_unique<RunFlags>(*cmd, scan);
  cmd->callback([flags] {
    const RunFlags& f = **flags;
    train(f.config(), f.out, f.quiet);
  });
}

}  // namespace tinyrec::cli
