// `tinyrec models`: every registered model with its paper, task and size at its defaults.
#include <iomanip>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"

namespace tinyrec::cli {

namespace {

// Parameters at the model's defaults on its task's default synthetic data.
size_t default_parameters(const models::ModelEntry& m) {
  models::RunConfig c;
  c.model = m.name;
  const models::TaskEntry& task = models::find_task(m.task);
  c = models::resolve(c);
  // The data's shape (vocabularies, tasks) is all the model needs; the smallest synthetic set
  // with the default shape keeps this quick.
  auto probe = task.make({c.model, c.task_options, c.dataset, c.data_options, c.data_seed});
  return m.make_double(models::model_config(m, m.defaults, probe->model_shape(), 1))
      ->parameter_count();
}

}  // namespace

void add_models_command(CLI::App& app) {
  auto as_json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("models", "List the models: name, task, paper, parameters");
  cmd->add_flag("--json", *as_json, "One JSON object per model instead of a table");
  cmd->callback([as_json] {
    for (const auto& m : models::model_registry()) {
      const size_t params = default_parameters(m);
      if (*as_json) {
        std::cout << nlohmann::json{{"name", m.name},       {"task", m.task},
                                    {"paper", m.paper},     {"summary", m.summary},
                                    {"parameters", params}, {"defaults", m.defaults}}
                         .dump()
                  << "\n";
        continue;
      }
      std::cout << std::left << std::setw(14) << m.name << std::setw(10) << m.task << std::right
                << std::setw(10) << params << "  " << m.paper << "\n"
                << std::string(36, ' ') << m.summary << "\n";
    }
  });
}

}  // namespace tinyrec::cli
