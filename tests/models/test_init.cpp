// The initialisation schemes (nn/init_scheme.hpp) on registered models: each layer kind's
// distribution under each scheme, every model taking every scheme, and the errors.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/options.hpp"
#include "models/registry.hpp"
#include "models/trainer.hpp"
#include "nn/gru.hpp"
#include "nn/init_scheme.hpp"
#include "nn/layers.hpp"

using namespace tinyrec;
using nlohmann::json;

namespace {

const std::vector<std::string> kSchemes{"torch", "torch-0.1", "torch-0.01", "glorot"};

std::unique_ptr<models::Model<double>> build(const std::string& model, json options,
                                             const json& shape, uint64_t seed = 5) {
  const models::ModelEntry& entry = models::find_model(model);
  return entry.make_double(models::model_config(entry, options, shape, seed));
}

// Mean of (x / bound)² over a tensor: 1/3 for U(±bound).
struct Scaled {
  double sum_sq = 0, largest = 0;
  size_t n = 0;
  void add(const Tensor<double>& t, double bound) {
    for (size_t i = 0; i < t.numel(); ++i) {
      const double r = t.data()[i] / bound;
      sum_sq += r * r;
      largest = std::max(largest, std::abs(r));
    }
    n += t.numel();
  }
  double mean_sq() const { return sum_sq / double(n); }
  // Four standard errors of the mean of r² for r ~ U(−1, 1) (Var r² = 1/5 − 1/9 = 4/45).
  double tolerance() const { return 4.0 * std::sqrt(4.0 / 45.0 / double(n)); }
};

// The mean and standard deviation of a table's rows other than row 0 (padding).
std::pair<double, double> row_stats(const Tensor<double>& table) {
  const size_t dim = table.shape()[1];
  double s = 0, s2 = 0;
  const size_t n = table.numel() - dim;
  for (size_t i = dim; i < table.numel(); ++i) {
    s += table.data()[i];
    s2 += table.data()[i] * table.data()[i];
  }
  const double mean = s / double(n);
  return {mean, std::sqrt(s2 / double(n) - mean * mean)};
}

bool row0_zero(const Tensor<double>& table) {
  for (size_t k = 0; k < table.shape()[1]; ++k)
    if (table.data()[k] != 0.0) return false;
  return true;
}

}  // namespace

TEST_CASE("init schemes on DIN: embeddings, Linear weights and biases, by scheme") {
  // Large enough tables and layers that the statistics are sharp: 3,000 × 18 item embeddings.
  const json shape = {{"n_items", 3000}, {"n_cats", 60}};
  for (const std::string& scheme : kSchemes) {
    CAPTURE(scheme);
    auto model = build("din", {{"init", scheme}}, shape);
    const bool torch = scheme != "glorot";
    const double emb_std = nn::init::embedding_std(scheme);
    CHECK(emb_std == (scheme == "torch" ? 1.0 : scheme == "torch-0.1" ? 0.1 : 0.01));
    Scaled weights, biases;
    size_t tables = 0, linears = 0;
    for (auto& named : model->named_modules()) {
      const std::string& name = named.first;  // a binding no lambda may capture in C++17
      auto& m = named.second;
      CAPTURE(name);
      if (auto* table = dynamic_cast<nn::Embedding<double>*>(m)) {
        ++tables;
        const Tensor<double>& w = table->weight();
        CHECK(row0_zero(w));  // padding stays zero
        const auto [mean, sd] = row_stats(w);
        const double n = double(w.numel() - w.shape()[1]);
        CHECK(std::abs(mean) < 4 * emb_std / std::sqrt(n));
        // The sample std's standard error is σ/√(2n).
        CHECK(std::abs(sd / emb_std - 1) < 4 / std::sqrt(2 * n));
      } else if (auto* layer = dynamic_cast<nn::Linear<double>*>(m)) {
        ++linears;
        const double in = double(layer->in_features()), out = double(layer->out_features());
        const double bound = torch ? 1 / std::sqrt(in) : std::sqrt(6 / (in + out));
        Scaled one;
        one.add(layer->weight(), bound);
        CHECK(one.largest <= 1.0);
        if (one.n >= 1000) {
          CHECK(one.largest > 0.99);  // the whole range is used
          CHECK(std::abs(one.mean_sq() - 1.0 / 3) < one.tolerance());
        }
        weights.add(layer->weight(), bound);
        REQUIRE(layer->bias().defined());
        if (torch) {
          biases.add(layer->bias(), bound);
        } else {
          for (size_t i = 0; i < layer->bias().numel(); ++i) CHECK(layer->bias().data()[i] == 0.0);
        }
      } else if (auto* prelu = dynamic_cast<nn::PReLU<double>*>(m)) {
        CHECK(prelu->alpha().data()[0] == 0.25);  // a constant under every scheme, as in PyTorch
      }
    }
    CHECK(tables == 2);
    CHECK(linears == 6);  // the unit's 80-40-1 and the head's 200-80-1
    // Pooled over layers, each value scaled by its own bound: variance bound²/3, i.e. 1/(3·fan_in)
    // under torch.
    CHECK(weights.largest <= 1.0);
    CHECK(std::abs(weights.mean_sq() - 1.0 / 3) < weights.tolerance());
    if (torch) {
      CHECK(biases.n == 80 + 40 + 1 + 200 + 80 + 1);
      CHECK(biases.largest <= 1.0);
      CHECK(biases.largest > 0.95);
      CHECK(std::abs(biases.mean_sq() - 1.0 / 3) < biases.tolerance());
    }
  }
}

TEST_CASE(
    "init schemes on DIEN: GRU cells by their hidden size, the bilinear weight by its input") {
  // A 60-wide input into 36 hidden units tells PyTorch's GRU rule (every matrix U(±1/√36)) from
  // the Linear one (the input matrix U(±1/√60)).
  const json options = {{"item_dim", 30},
                        {"cat_dim", 30},
                        {"gru_hidden", 36},
                        {"aux_loss", "mlp"},
                        {"init", "torch"}};
  auto model = build("dien", options, {{"n_items", 500}, {"n_cats", 20}});
  size_t cells = 0;
  for (auto& named : model->named_modules()) {
    const std::string& name = named.first;  // a binding no lambda may capture in C++17
    auto& m = named.second;
    CAPTURE(name);
    if (auto* cell = dynamic_cast<nn::GRUCell<double>*>(m)) {
      ++cells;
      Scaled all;
      for (auto& [sub, p] : cell->named_parameters()) all.add(p, 1 / std::sqrt(36.0));
      CHECK(all.largest <= 1.0);
      CHECK(all.largest > 0.99);
      CHECK(std::abs(all.mean_sq() - 1.0 / 3) < all.tolerance());
      // The input projection alone reaches past the Linear rule's 1/√60.
      Scaled input;
      input.add(cell->named_parameters()[0].second, 1 / std::sqrt(60.0));
      CHECK(cell->named_parameters()[0].first == "input.weight");
      CHECK(input.largest > 1.2);
    } else if (auto* att = dynamic_cast<nn::BilinearAttention<double>*>(m)) {
      Scaled w;
      w.add(att->weight(), 1 / std::sqrt(60.0));  // W [36, 60] maps the 60-wide e_a
      CHECK(w.largest <= 1.0);
      CHECK(std::abs(w.mean_sq() - 1.0 / 3) < w.tolerance());
    }
  }
  CHECK(cells == 2);  // the extractor's and the evolving layer's
}

TEST_CASE("init schemes: every registered model takes each one, and the default is its own") {
  for (const models::ModelEntry& entry : models::model_registry()) {
    CAPTURE(entry.name);
    REQUIRE(entry.defaults.contains("init"));
    bool has_option = false;
    for (const auto& o : entry.options) has_option = has_option || o.key == "init";
    CHECK(has_option);
    const json shape =
        entry.tiny_shape.empty() ? models::find_task(entry.task).tiny_shape : entry.tiny_shape;
    const std::string own = entry.defaults["init"].get<std::string>();
    auto values = [&](const std::string& scheme) {
      json options = entry.tiny;
      options["init"] = scheme;
      std::vector<xt::xarray<double>> v;
      for (const auto& p : build(entry.name, options, shape)->parameters()) v.push_back(p.value());
      return v;
    };
    json no_init = entry.tiny;
    no_init.erase("init");
    std::vector<xt::xarray<double>> by_default;
    for (const auto& p : build(entry.name, no_init, shape)->parameters())
      by_default.push_back(p.value());
    CHECK(values(own) == by_default);
    // Under torch every Linear stays within ±1/√fan_in (GRU cells within ±1/√H) and the
    // embedding tables are N(0, 1); the other schemes draw other numbers.
    json options = entry.tiny;
    options["init"] = "torch";
    auto model = build(entry.name, options, shape);
    std::set<const nn::Module<double>*> in_cells;
    for (auto& [name, m] : model->named_modules())
      if (auto* cell = dynamic_cast<nn::GRUCell<double>*>(m)) {
        for (auto& [sub, p] : cell->named_parameters())
          CHECK(xt::amax(xt::abs(p.value()))() <= 1 / std::sqrt(double(cell->hidden_size())));
        for (auto& [sub, inner] : cell->named_modules()) in_cells.insert(inner);
      }
    for (auto& named : model->named_modules()) {
      const std::string& name = named.first;  // a binding no lambda may capture in C++17
      auto& m = named.second;
      CAPTURE(name);
      if (auto* layer = dynamic_cast<nn::Linear<double>*>(m); layer && !in_cells.count(m)) {
        const double bound = 1 / std::sqrt(double(layer->in_features()));
        CHECK(xt::amax(xt::abs(layer->weight().value()))() <= bound);
        if (layer->bias().defined() && !(entry.name == "melu" && name == "out"))
          CHECK(xt::amax(xt::abs(layer->bias().value()))() <= bound);
      } else if (auto* table = dynamic_cast<nn::Embedding<double>*>(m)) {
        const auto [mean, sd] = row_stats(table->weight());
        if (table->weight().numel() >= 30) CHECK((sd > 0.6 && sd < 1.4));
      }
    }
    for (const std::string& scheme : kSchemes)
      if (scheme != "torch") CHECK(values(scheme) != values("torch"));
  }
}

TEST_CASE("init schemes: MeLU's output bias starts at the mean rating under every scheme") {
  const models::ModelEntry& entry = models::find_model("melu");
  json shape =
      entry.tiny_shape.empty() ? models::find_task(entry.task).tiny_shape : entry.tiny_shape;
  shape["rating_mean"] = 3.5;
  for (const std::string& scheme : kSchemes) {
    CAPTURE(scheme);
    json options = entry.tiny;
    options["init"] = scheme;
    auto model = build("melu", options, shape);
    bool found = false;
    for (auto& [name, p] : model->named_parameters())
      if (name == "out.bias") {
        found = true;
        CHECK(p.value()(0) == 3.5);
      }
    CHECK(found);
  }
}

TEST_CASE("init schemes: an unknown name is an error naming the accepted ones") {
  CHECK_THROWS_WITH_AS(nn::init::check_scheme("xavier"),
                       "unknown initialisation 'xavier'; accepted: torch, torch-0.1, torch-0.01, "
                       "glorot",
                       std::invalid_argument);
  for (const char* model : {"din", "dien", "stamp", "mmoe", "melu"}) {
    CAPTURE(model);
    const models::ModelEntry& entry = models::find_model(model);
    CHECK_THROWS_WITH_AS(
        models::merge_options(model, entry.options, entry.defaults, {{"init", "xavier"}}),
        (std::string(model) + " --init: xavier not in {torch, torch-0.1, torch-0.01, glorot}")
            .c_str(),
        std::invalid_argument);
    // Past the option check (a configuration built by hand), the model itself refuses it.
    json options = entry.tiny;
    options["init"] = "xavier";
    const json shape =
        entry.tiny_shape.empty() ? models::find_task(entry.task).tiny_shape : entry.tiny_shape;
    CHECK_THROWS_WITH_AS(build(model, options, shape), doctest::Contains("accepted: torch"),
                         std::invalid_argument);
  }
}
