// The registrations: one line per model and per task.
#include "models/registry.hpp"

#include <stdexcept>

#include "models/click_task.hpp"
#include "models/dien.hpp"
#include "models/din.hpp"
#include "models/esmm.hpp"
#include "models/melu.hpp"
#include "models/meta_task.hpp"
#include "models/mmoe.hpp"
#include "models/multitask_task.hpp"
#include "models/next_item_task.hpp"
#include "models/ple.hpp"
#include "models/sim.hpp"
#include "models/stamp.hpp"

namespace tinyrec::models {

const std::vector<ModelEntry>& model_registry() {
  // One line per model; `tinyrec models` lists them in this order.
  // clang-format off
  static const std::vector<ModelEntry> entries{
      base_registration(),
      din_registration(),
      dien_registration(),
      sim_registration(),
      shared_bottom_registration(),
      omoe_registration(),
      mmoe_registration(),
      ple_registration(),
      esmm_registration(),
      stamp_registration(),
      stmp_registration(),
      melu_registration(),
  };
  // clang-format on
  return entries;
}

const std::vector<TaskEntry>& task_registry() {
  static const std::vector<TaskEntry> entries{click_task_entry(), multitask_task_entry(),
                                              next_item_task_entry(), meta_task_entry()};
  return entries;
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& m : model_registry()) names.push_back(m.name);
  return names;
}

const ModelEntry& find_model(const std::string& name) {
  for (const auto& m : model_registry())
    if (m.name == name) return m;
  throw std::invalid_argument("--model: " + name + " not in {" + join_names(model_names()) + "}");
}

const TaskEntry& find_task(const std::string& name) {
  for (const auto& t : task_registry())
    if (t.name == name) return t;
  std::vector<std::string> names;
  for (const auto& t : task_registry()) names.push_back(t.name);
  throw std::invalid_argument("no task '" + name + "'; accepted: " + join_names(names));
}

std::vector<std::string> models_of_task(const std::string& task) {
  std::vector<std::string> names;
  for (const auto& m : model_registry())
    if (m.task == task) names.push_back(m.name);
  return names;
}

const DatasetEntry& find_dataset(const TaskEntry& task, const std::string& name,
                                 const std::string& model) {
  std::vector<std::string> names;
  for (const auto& d : task.datasets) {
    if (d.name == name) return d;
    names.push_back(d.name);
  }
  std::string elsewhere;
  for (const auto& t : task_registry())
    for (const auto& d : t.datasets)
      if (d.name == name && t.name != task.name)
        elsewhere =
            " (" + name + " is a data set of --model " + join_names(models_of_task(t.name)) + ")";
  throw std::invalid_argument("--dataset: " + name + " not in {" + join_names(names) +
                              "} for --model " + model + elsewhere);
}

}  // namespace tinyrec::models
