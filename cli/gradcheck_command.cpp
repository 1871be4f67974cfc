// `tinyrec gradcheck --model NAME`: a float64 finite-difference check of a whole model's gradient
// with respect to every parameter, on a tiny batch with padded histories.
#include <iostream>

#include "autograd/autograd.hpp"
#include "cli/commands.hpp"
#include "cli/multitask_commands.hpp"
#include "models/ctr_gradcheck.hpp"
#include "models/ctr_model.hpp"

namespace tinyrec::cli {

void add_gradcheck_command(CLI::App& app) {
  struct Args {
    std::string model = "din";
    std::string activation = "prelu";
    bool softmax = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "gradcheck", "Check a whole model's gradient in float64 against central differences");
  std::vector<std::string> names = models::ctr_model_names();
  for (const auto& n : models::multitask_model_names()) names.push_back(n);
  cmd->add_option("--model", a->model, "Model")->check(CLI::IsMember(names))->capture_default_str();
  cmd->add_option("--activation", a->activation, "Activation of the MLPs")
      ->check(CLI::IsMember({"prelu", "dice", "relu", "sigmoid"}))
      ->capture_default_str();
  cmd->add_flag("--softmax", a->softmax, "din: masked softmax attention");
  cmd->callback([a] {
    if (is_multitask_model(a->model)) return run_multitask_gradcheck(a->model);
    models::CtrConfig config = models::tiny_ctr_config();
    config.activation = a->activation;
    config.attention_softmax = a->softmax;
    auto model = models::make_ctr_model<double>(a->model, config);
    const data::CtrBatch batch = models::tiny_ctr_batch(config);
    const GradcheckResult r = models::gradcheck_ctr_model(*model, batch);
    std::cout << a->model << " (" << model->parameter_count() << " parameters): " << r.report()
              << "\n";
    if (!r.ok) throw std::runtime_error("gradcheck failed for " + a->model);
  });
}

}  // namespace tinyrec::cli
