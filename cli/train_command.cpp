// `tinyrec train`: fit any registered model, evaluating on a schedule, with a progress bar; then
// write the run files and the checkpoint.
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "autograd/atomic_file.hpp"
#include "autograd/tape.hpp"
#include "cli/commands.hpp"
#include "cli/interrupt.hpp"
#include "cli/progress.hpp"
#include "cli/run_files.hpp"
#include "cli/run_folder.hpp"
#include "nn/checkpoint.hpp"

namespace tinyrec::cli {

namespace fs = std::filesystem;

namespace {

bool cmd_has(const CLI::App& cmd, const std::string& flag) {
  return cmd.count(flag) > 0;
}

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

}  // namespace

void train_and_write(models::Run& run, const std::string& out, bool quiet,
                     const std::string& resume, const models::TrainCallbacks& extra) {
  const models::RunConfig& config = run.config;
  std::string checkpoint;
  if (!resume.empty()) {
    try {
      checkpoint = checkpoint_of(resume);
    } catch (const std::exception& e) {
      throw std::runtime_error("--resume " + std::string(e.what()));
    }
    if (!fs::is_regular_file(fs::path(checkpoint) / "train_state.json"))
      throw std::runtime_error("--resume " + resume + ": " + checkpoint +
                               " holds no train_state.json (written after each epoch since this "
                               "version; this run cannot be continued)");
    const models::RunConfig saved =
        read_json_file((fs::path(checkpoint) / "config.json").string()).get<models::RunConfig>();
    try {
      models::check_resumable(saved, config);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("--resume " + resume + ": " + e.what());
    }
  } else {
    prepare_out_dir(out);
  }
  std::ostream& log = std::cerr;
  log << "tinyrec train: " << run.config.model << " on " << run.task->describe() << ", "
      << run.model->parameter_count() << " parameters\n";
  models::Trainer trainer(*run.task, *run.model, run.config.train);
  if (!checkpoint.empty()) {
    nn::load_checkpoint(*run.model, checkpoint);
    trainer.load_state(checkpoint);
    if (trainer.epochs_done() >= run.config.train.epochs)
      throw std::invalid_argument("--resume " + resume + ": the run has finished its " +
                                  std::to_string(trainer.epochs_done()) +
                                  " epochs; pass --epochs N with N > " +
                                  std::to_string(trainer.epochs_done()) + " to train on");
    log << "resuming after epoch " << trainer.epochs_done() << " of " << run.config.train.epochs
        << "\n";
  }
  std::unique_ptr<ProgressBar> bar;
  models::TrainCallbacks callbacks;
  callbacks.on_step = [&](const models::StepInfo& s) {
    if (extra.on_step) extra.on_step(s);
    if (stop_requested())
      throw_interrupted("at epoch " + std::to_string(s.epoch) + ", step " + std::to_string(s.step));
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
    if (extra.on_point) extra.on_point(p, end_of_epoch);
    if (!end_of_epoch && quiet) return;
    log << (end_of_epoch ? "epoch " + std::to_string(std::lround(p.epoch))
                         : "step " + std::to_string(p.step))
        << ": train " << losses(p.train) << " | test " << run.task->summarize(p.test) << "\n";
  };
  // After every epoch a checkpoint to resume from, then the run's files: a run stopped by a
  // fault, a failed write or the user keeps what it finished, and says what that is.
  size_t checkpoint_epoch = trainer.epochs_done(), files_epoch = trainer.epochs_done();
  callbacks.on_epoch_end = [&](size_t epoch) {
    write_checkpoint(out, run, &trainer);
    checkpoint_epoch = epoch;
    write_run_files(out, run, trainer.report());
    files_epoch = epoch;
    if (extra.on_epoch_end) extra.on_epoch_end(epoch);
  };
  auto kept = [&](const std::string& what, const char* sep = "\n") {
    const std::string resume_line = " (tinyrec train --resume " + out + " continues from it)";
    if (checkpoint_epoch == 0) return what + sep + "no epoch had finished: nothing was written";
    if (files_epoch == 0)
      return what + sep + "kept " + out + "/checkpoint of epoch " +
             std::to_string(checkpoint_epoch) + resume_line;
    return what + sep + "kept " + out + "/metrics.json, curve.csv and curve.svg of epochs 1-" +
           std::to_string(files_epoch) + " and the checkpoint of epoch " +
           std::to_string(checkpoint_epoch) + resume_line;
  };
  models::TrainReport report;
  try {
    report = trainer.fit(callbacks);
  } catch (const models::NonFiniteLoss& e) {
    throw models::NonFiniteLoss(kept(e.what()));
  } catch (const AnomalyError& e) {
    throw AnomalyError(kept(e.what()));
  } catch (const WriteError& e) {
    throw WriteError(kept(e.what()));
  } catch (const Interrupted& e) {
    throw Interrupted(e.signal(), kept(e.what(), "; "));
  }
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

void add_train_command(CLI::App& app, const Prescan& scan) {
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train a model, evaluating on the test split after every epoch. `tinyrec train --model "
      "NAME --help` lists that model's, its task's and its data set's flags.");
  auto flags = std::make_shared<std::unique_ptr<RunFlags>>();
  if (scan.subcommand == "train") *flags = std::make_unique<RunFlags>(*cmd, scan);
  cmd->callback([flags, cmd] {
    const RunFlags& f = **flags;
    DetectAnomalyGuard anomaly(f.detect_anomaly);
    StopOnSignal stop;
    if (f.resume.empty()) {
      // Before the data is loaded, so that a bad or taken --out fails at once; the run's old files
      // go only once the new run is built.
      const models::RunConfig config = f.config();  // a bad flag is named first
      prepare_out_dir(f.out);
      RunFolderLock lock(f.out, "--out");
      if (!f.overwrite) claim_run_folder(f.out, false);
      models::Run run = models::build_run(config);
      if (f.overwrite) claim_run_folder(f.out, true);
      train_and_write(run, f.out, f.quiet);
      return;
    }
    if (f.overwrite)
      throw std::invalid_argument("--resume continues a run; --overwrite replaces one");
    if (cmd_has(*cmd, "--config"))
      throw std::invalid_argument("--resume and --config cannot be combined");
    if (cmd_has(*cmd, "--out") && fs::path(f.out) != fs::path(f.resume))
      throw std::invalid_argument("--resume " + f.resume +
                                  " continues in its own folder; leave out --out");
    RunFolderLock lock(f.resume, "--resume");
    models::Run run = models::build_run(f.config());
    train_and_write(run, f.resume, f.quiet, f.resume);
  });
}

}  // namespace tinyrec::cli
