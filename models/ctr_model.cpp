// The registry of CTR models: the names the command line accepts and the factory behind them.
#include "models/ctr_model.hpp"

#include "models/din.hpp"

namespace tinyrec::models {

const std::vector<std::string>& ctr_model_names() {
  static const std::vector<std::string> names{"base", "din"};
  return names;
}

template <class T>
std::unique_ptr<CtrModel<T>> make_ctr_model(const std::string& name, const CtrConfig& config) {
  if (name == "base") return std::make_unique<BaseModel<T>>(config);
  if (name == "din") return std::make_unique<DIN<T>>(config);
  std::string accepted;
  for (const auto& n : ctr_model_names()) accepted += (accepted.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown CTR model '" + name + "'; accepted: " + accepted);
}

template std::unique_ptr<CtrModel<float>> make_ctr_model(const std::string&, const CtrConfig&);
template std::unique_ptr<CtrModel<double>> make_ctr_model(const std::string&, const CtrConfig&);

}  // namespace tinyrec::models
