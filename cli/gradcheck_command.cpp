// `tinyrec gradcheck --model NAME`: a float64 finite-difference check of a whole model's gradient
// with respect to every parameter, on its task's tiny batch (with padding where the task has it).
#include <iostream>
#include <memory>

#include "cli/commands.hpp"

namespace tinyrec::cli {

namespace {

// Returns whether the check passed, after printing one line.
bool check_model(const models::ModelEntry& m, const nlohmann::json& options) {
  const models::TaskEntry& task = models::find_task(m.task);
  const nlohmann::json& shape = m.tiny_shape.empty() ? task.tiny_shape : m.tiny_shape;
  auto model = m.make_double(models::model_config(m, options, shape, 7));
  const GradcheckResult r = task.gradcheck(*model, shape, task.defaults);
  std::cout << m.name << " (" << model->parameter_count() << " parameters): " << r.report() << "\n";
  return r.ok;
}

}  // namespace

void add_gradcheck_command(CLI::App& app, const Prescan& scan) {
  struct Args {
    std::string model = "din";
    std::unique_ptr<OptionFlags> options;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "gradcheck",
      "Check a whole model's gradient in float64 against central differences, at a tiny size "
      "(the model's own flags change its settings)");
  std::vector<std::string> names = models::model_names();
  names.push_back("all");
  cmd->add_option("--model", a->model, "Model, or all")
      ->check(CLI::IsMember(names))
      ->capture_default_str();
  cmd->allow_extras();
  const std::string chosen = scan.model.empty() ? a->model : scan.model;
  if (scan.subcommand == "gradcheck" && chosen != "all") {
    for (const auto& m : models::model_registry())
      if (m.name == chosen) {
        a->options = std::make_unique<OptionFlags>("--model " + m.name, m.options, m.tiny);
        a->options->add_to(*cmd, "Model " + m.name);
      }
  }
  cmd->callback([a, cmd] {
    reject_extras(*cmd, a->model, "synthetic");
    bool ok = true;
    for (const auto& m : models::model_registry()) {
      if (a->model != "all" && m.name != a->model) continue;
      ok = check_model(m, a->options ? a->options->values(m.tiny) : m.tiny) && ok;
    }
    if (!ok) throw std::runtime_error("gradcheck failed for " + a->model);
  });
}

}  // namespace tinyrec::cli
