// `tinyrec experiment mmoe-correlation`: the MMoE paper's central synthetic-data experiment (KDD
// 2018) — Shared-Bottom, OMoE and MMoE trained on data whose two tasks have
// correlation 1.0, 0.9, 0.5 and 0.0, over several seeds — written as tables (CSV and markdown) of
// each task's test loss and a plot of test loss against training step.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "autograd/atomic_file.hpp"
#include "autograd/tape.hpp"
#include "cli/commands.hpp"
#include "cli/interrupt.hpp"
#include "cli/run_files.hpp"
#include "cli/run_folder.hpp"
#include "cli/svg_plot.hpp"
#include "data/mmoe_synthetic.hpp"
#include "models/multitask_task.hpp"
#include "models/trainer.hpp"
#include "nn/init_scheme.hpp"

namespace tinyrec::cli {

namespace fs = std::filesystem;

namespace {

struct ExperimentArgs {
  std::string name = "mmoe-correlation";
  size_t seeds = 3, epochs = 30, batch_size = 128, eval_every = 0;
  double lr = 1e-3;
  std::string correlations = "1,0.9,0.5,0", models = "shared_bottom,omoe,mmoe";
  int64_t train_rows = 10000, test_rows = 2000;
  std::string sines = "gaussian", init = "torch";
  size_t bottom_units = 0;  // Shared-Bottom's width; 0 = experts × units (128)
  std::string out = "runs/mmoe-correlation";
  size_t steps_per_epoch = 0;
  bool quiet = false;
  bool overwrite = false;
  bool detect_anomaly = false;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

double parse_correlation(const std::string& text) {
  size_t used = 0;
  double p = 0;
  try {
    p = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(p >= -1 && p <= 1))
    throw std::invalid_argument("--correlations: '" + text + "' is not a number in [-1, 1]");
  return p;
}

struct ExperimentRun {
  std::string model;
  double p = 0;
  uint64_t seed = 0;
  std::vector<double> task_loss;  // final test MSE per task
  struct Point {
    size_t step = 0;
    double epoch = 0;
    std::vector<double> train_loss, test_loss;  // per task
  };
  std::vector<Point> curve;
  double mean() const { return (task_loss[0] + task_loss[1]) / 2; }
};

// Mean and sample standard deviation.
std::pair<double, double> mean_sd(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m += x;
  m /= double(v.size());
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return {m, v.size() > 1 ? std::sqrt(ss / double(v.size() - 1)) : 0.0};
}

std::string fixed(double v, int digits = 4) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

std::string p_label(double p) {
  std::ostringstream os;
  os << p;
  return os.str();
}

void run_correlation_experiment(const ExperimentArgs& a) {
  std::vector<double> ps;
  for (const auto& s : split_list(a.correlations)) ps.push_back(parse_correlation(s));
  const std::vector<std::string> names = split_list(a.models);
  if (ps.empty() || names.empty())
    throw std::invalid_argument("experiment: needs at least one correlation and one model");
  for (const auto& n : names)
    if (n == "esmm" || models::find_model(n).task != "multitask")
      throw std::invalid_argument("--models: '" + n +
                                  "' is not a model for this experiment; accepted: "
                                  "shared_bottom, omoe, mmoe, ple");
  if (a.seeds == 0) throw std::invalid_argument("--seeds must be at least 1");
  prepare_out_dir(a.out);  // before any training: a bad or taken --out fails at once
  RunFolderLock lock(a.out, "--out");
  if (!a.overwrite && fs::exists(fs::path(a.out) / "table.md"))
    throw std::runtime_error("--out " + a.out +
                             " already holds an experiment's results (table.md); --overwrite "
                             "replaces them, or choose another --out");
  DetectAnomalyGuard anomaly(a.detect_anomaly);
  StopOnSignal stop;
  std::ostream& log = std::cerr;
  std::vector<ExperimentRun> runs;
  const size_t total = ps.size() * a.seeds * names.size();
  const auto start = std::chrono::steady_clock::now();
  for (double p : ps)
    for (uint64_t seed = 1; seed <= a.seeds; ++seed) {
      // One data set per (p, seed), shared by the models: they differ only in architecture.
      data::MmoeSyntheticConfig s;
      s.p = p;
      s.train = a.train_rows;
      s.test = a.test_rows;
      s.sines = data::parse_sine_params(a.sines);
      s.seed = seed;
      data::MmoeSyntheticReport report;
      data::MultiTaskDataset ds;
      try {
        ds = data::make_mmoe_synthetic(s, &report);
      } catch (const std::bad_alloc&) {
        throw std::runtime_error("out of memory building the data of --train-rows " +
                                 std::to_string(a.train_rows) + " and --test-rows " +
                                 std::to_string(a.test_rows) + "; lower them");
      }
      for (const auto& name : names) {
        const models::ModelEntry& entry = models::find_model(name);
        nlohmann::json options = entry.defaults;
        options["init"] = a.init;
        if (options.contains("bottom_units")) options["bottom_units"] = a.bottom_units;
        models::MultiTaskTask task(ds, models::MultiTaskOptions{});
        auto model =
            entry.make_float(models::model_config(entry, options, task.model_shape(), seed + 100));
        models::TrainOptions t;
        t.epochs = a.epochs;
        t.batch_size = a.batch_size;
        t.lr = a.lr;
        t.seed = seed;
        t.eval_every = a.eval_every;
        t.steps_per_epoch = a.steps_per_epoch;
        models::TrainCallbacks stop_on_signal;
        stop_on_signal.on_step = [&](const models::StepInfo& step) {
          if (stop_requested())
            throw_interrupted("in run " + std::to_string(runs.size() + 1) + " of " +
                              std::to_string(total) + " (epoch " + std::to_string(step.epoch) +
                              ", step " + std::to_string(step.step) +
                              "): nothing written (an experiment writes its tables when every run "
                              "has finished)");
        };
        const auto t0 = std::chrono::steady_clock::now();
        models::TrainReport r;
        try {
          r = models::Trainer(task, *model, t).fit(stop_on_signal);
        } catch (const Interrupted&) {
          throw;
        } catch (const std::runtime_error& e) {  // a NaN loss, an anomaly, out of memory
          std::ostringstream which;
          which << name << " at correlation " << p << ", seed " << seed << ": " << e.what();
          throw std::runtime_error(which.str());
        }
        auto mse = [&](const nlohmann::json& test) {
          std::vector<double> out;
          for (const auto& info : ds.tasks) out.push_back(test.at("tasks").at(info.name).at("mse"));
          return out;
        };
        ExperimentRun run{name, p, seed, mse(r.test), {}};
        for (const auto& pt : r.curve) {
          std::vector<double> train;
          for (const auto& [term, v] : pt.train) train.push_back(v);
          run.curve.push_back({pt.step, pt.epoch, train, mse(pt.test)});
        }
        runs.push_back(run);
        if (!a.quiet)
          log << "[" << runs.size() << "/" << total << "] " << name << " p=" << p << " seed "
              << seed << " (label correlation " << fixed(report.label_correlation, 3)
              << "): test MSE " << fixed(run.task_loss[0]) << " " << fixed(run.task_loss[1]) << " ("
              << fixed(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                       1)
              << " s)\n";
      }
    }

  // Every run, and its curve.
  {
    std::ostringstream f, c;
    f << "model,correlation,seed,task1_mse,task2_mse,mean_mse\n" << std::setprecision(10);
    for (const auto& r : runs)
      f << r.model << "," << r.p << "," << r.seed << "," << r.task_loss[0] << "," << r.task_loss[1]
        << "," << r.mean() << "\n";
    c << "model,correlation,seed,step,epoch,test_task1_mse,test_task2_mse,train_task1_mse,"
         "train_task2_mse\n"
      << std::setprecision(10);
    for (const auto& r : runs)
      for (const auto& pt : r.curve)
        c << r.model << "," << r.p << "," << r.seed << "," << pt.step << "," << pt.epoch << ","
          << pt.test_loss[0] << "," << pt.test_loss[1] << "," << pt.train_loss[0] << ","
          << pt.train_loss[1] << "\n";
    write_text_atomically((fs::path(a.out) / "runs.csv").string(), f.str());
    write_text_atomically((fs::path(a.out) / "curves.csv").string(), c.str());
  }

  // The table: mean and spread over seeds per model and correlation.
  std::ostringstream table;
  table << "model,correlation,seeds,task1_mean,task1_sd,task2_mean,task2_sd,mean_mean,mean_sd,"
           "mean_min,mean_max\n"
        << std::setprecision(10);
  std::ostringstream md;
  md << "Test MSE, mean of the two tasks: mean ± sd over " << a.seeds << " seed(s)\n\n| model |";
  for (double p : ps) md << " p = " << p_label(p) << " |";
  md << "\n|---|";
  for (size_t i = 0; i < ps.size(); ++i) md << "---|";
  md << "\n";
  std::ostringstream detail;
  detail << "| model | p | task 1 MSE | task 2 MSE | mean (min – max) |\n|---|---|---|---|---|\n";
  std::map<std::string, Series> by_p;  // final loss against correlation, per model
  for (const auto& name : names) {
    md << "| " << name << " |";
    Series line{name, {}, {}};
    for (double p : ps) {
      std::vector<double> t1, t2, m;
      for (const auto& r : runs)
        if (r.model == name && r.p == p)
          t1.push_back(r.task_loss[0]), t2.push_back(r.task_loss[1]), m.push_back(r.mean());
      const auto [m1, s1] = mean_sd(t1);
      const auto [m2, s2] = mean_sd(t2);
      const auto [mm, sm] = mean_sd(m);
      const double lo = *std::min_element(m.begin(), m.end());
      const double hi = *std::max_element(m.begin(), m.end());
      table << name << "," << p << "," << m.size() << "," << m1 << "," << s1 << "," << m2 << ","
            << s2 << "," << mm << "," << sm << "," << lo << "," << hi << "\n";
      md << " " << fixed(mm) << " ± " << fixed(sm) << " |";
      detail << "| " << name << " | " << p_label(p) << " | " << fixed(m1) << " ± " << fixed(s1)
             << " | " << fixed(m2) << " ± " << fixed(s2) << " | " << fixed(mm) << " (" << fixed(lo)
             << " – " << fixed(hi) << ") |\n";
      line.x.push_back(p);
      line.y.push_back(mm);
    }
    md << "\n";
    by_p[name] = line;
  }
  // Paired: the seed changes the data (the sines' α, β), which moves every model's loss together,
  // so the count of data sets on which a model beats Shared-Bottom says more than the spreads.
  std::ostringstream paired;
  if (std::find(names.begin(), names.end(), "shared_bottom") != names.end() && names.size() > 1) {
    paired << "\nData sets (seeds) on which a model's mean test MSE is below Shared-Bottom's:\n\n"
              "| model |";
    for (double p : ps) paired << " p = " << p_label(p) << " |";
    paired << "\n|---|";
    for (size_t i = 0; i < ps.size(); ++i) paired << "---|";
    paired << "\n";
    for (const auto& name : names) {
      if (name == "shared_bottom") continue;
      paired << "| " << name << " |";
      for (double p : ps) {
        size_t wins = 0, n = 0;
        for (const auto& r : runs)
          if (r.model == name && r.p == p)
            for (const auto& b : runs)
              if (b.model == "shared_bottom" && b.p == p && b.seed == r.seed)
                wins += r.mean() < b.mean(), ++n;
        paired << " " << wins << "/" << n << " |";
      }
      paired << "\n";
    }
  }
  const std::string markdown = md.str() + paired.str() + "\n" + detail.str();
  write_text_atomically((fs::path(a.out) / "table.csv").string(), table.str());
  write_text_atomically((fs::path(a.out) / "table.md").string(), markdown);
  std::cout << markdown;

  // The plot: one panel per correlation, the seed-mean test loss of each model against the step,
  // and a last panel with the final loss against the correlation.
  std::vector<std::pair<PlotSpec, std::vector<Series>>> panels;
  for (double p : ps) {
    PlotSpec spec{"correlation " + p_label(p), "training step", "test MSE (mean of tasks)"};
    spec.log_y = true;
    std::vector<Series> lines;
    for (const auto& name : names) {
      Series line{name, {}, {}};
      std::vector<const ExperimentRun*> mine;
      for (const auto& r : runs)
        if (r.model == name && r.p == p) mine.push_back(&r);
      for (size_t i = 0; i < mine[0]->curve.size(); ++i) {
        double sum = 0;
        for (const ExperimentRun* r : mine)
          sum += (r->curve[i].test_loss[0] + r->curve[i].test_loss[1]) / 2;
        line.x.push_back(double(mine[0]->curve[i].step));
        line.y.push_back(sum / double(mine.size()));
      }
      lines.push_back(line);
    }
    panels.push_back({spec, lines});
  }
  PlotSpec summary{"final test MSE against correlation", "task correlation p",
                   "test MSE (mean of tasks)"};
  std::vector<Series> summary_lines;
  for (const auto& name : names) summary_lines.push_back(by_p[name]);
  panels.push_back({summary, summary_lines});
  write_svg_small_multiples(
      (fs::path(a.out) / "loss_curves.svg").string(),
      "MMoE paper, synthetic data: test loss, mean over " + std::to_string(a.seeds) + " seeds",
      panels, 3);
  log << "wrote " << a.out << "/table.md, table.csv, runs.csv, curves.csv and loss_curves.svg ("
      << fixed(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 0)
      << " s)\n";
}

}  // namespace

void add_experiment_command(CLI::App& app) {
  auto a = std::make_shared<ExperimentArgs>();
  CLI::App* cmd = app.add_subcommand(
      "experiment",
      "Reproduce a paper's experiment. mmoe-correlation: Shared-Bottom, OMoE and MMoE on the MMoE "
      "paper's synthetic data at several task correlations and seeds (KDD 2018)");
  cmd->add_option("name", a->name, "Experiment")
      ->check(CLI::IsMember({"mmoe-correlation"}))
      ->capture_default_str();
  cmd->add_option("--seeds", a->seeds, "Repetitions (data, weights and batch order seeded 1..N)")
      ->check(whole_number_in(1, 10000000))
      ->capture_default_str();
  cmd->add_option("--epochs", a->epochs, "Training epochs of every run")
      ->check(whole_number_in(1, 10000000))
      ->capture_default_str();
  cmd->add_option("--batch-size", a->batch_size, "Mini-batch size")
      ->check(whole_number_in(1, 10000000))
      ->capture_default_str();
  cmd->add_option("--lr", a->lr, "Adam learning rate")
      ->check(positive_number())
      ->capture_default_str();
  cmd->add_option("--correlations", a->correlations, "Task correlations p, comma-separated")
      ->capture_default_str();
  cmd->add_option("--models", a->models, "Models, comma-separated (shared_bottom, omoe, mmoe, ple)")
      ->capture_default_str();
  cmd->add_option("--train-rows", a->train_rows, "Training rows per data set")
      ->check(whole_number_in(1, 10000000))
      ->capture_default_str();
  cmd->add_option("--test-rows", a->test_rows, "Test rows per data set")
      ->check(whole_number_in(1, 10000000))
      ->capture_default_str();
  cmd->add_option("--sines", a->sines,
                  "Sine frequencies and phases: alpha, beta ~ N(0, 1) (gaussian) or alpha_i = i, "
                  "beta_i = i^2 (index)")
      ->check(CLI::IsMember({"gaussian", "index"}))
      ->capture_default_str();
  // The same names as `train --init`: the census-style data have no embeddings, so the torch
  // variants differ only there and give these runs identical dense layers.
  cmd->add_option("--init", a->init, "Initial weights of the dense layers")
      ->check(CLI::IsMember(nn::init::scheme_names()))
      ->capture_default_str();
  cmd->add_option("--bottom-units", a->bottom_units,
                  "Shared-Bottom's hidden units (0 = experts x expert units = 128)")
      ->check(whole_number_in(0, 100000))
      ->capture_default_str();
  cmd->add_option("--eval-every", a->eval_every,
                  "Training steps between points of the loss curves (0 = each epoch)")
      ->check(whole_number_in(0, uint64_t(1) << 40))
      ->capture_default_str();
  cmd->add_option("--steps-per-epoch", a->steps_per_epoch,
                  "Train each epoch on its first N batches only (0 = all): a quick look")
      ->check(whole_number_in(0, uint64_t(1) << 40))
      ->capture_default_str();
  cmd->add_option("--out", a->out,
                  "Output folder; one that holds results is refused without --overwrite")
      ->capture_default_str();
  cmd->add_flag("--overwrite", a->overwrite, "Replace the results the --out folder holds");
  cmd->add_flag("--quiet", a->quiet, "No line per run");
  cmd->add_flag("--detect-anomaly", a->detect_anomaly,
                "Stop at the first op whose output or gradient holds NaN or Inf in any run, naming "
                "it and its shapes (checks every value: slower)");
  cmd->callback([a] { run_correlation_experiment(*a); });
}

}  // namespace tinyrec::cli
