// Writing metrics.json, the learning curve (CSV and SVG) and checkpoint configs.
#include "cli/run_files.hpp"

#include <filesystem>
#include <fstream>

#include "data/svg_plot.hpp"

namespace tinyrec::cli {

namespace fs = std::filesystem;
using nlohmann::json;

json config_to_json(const CommonFlags& m, const CtrFlags& f) {
  const auto& c = f.config;
  const auto& s = f.synthetic;
  return json{{"model", m.model},
              {"dataset", m.dataset},
              {"data_dir", m.data_dir},
              {"data_seed", m.data_seed},
              {"test_fraction", m.test_fraction},
              {"synthetic",
               {{"users", s.users},
                {"items", s.items},
                {"cats", s.cats},
                {"samples_per_user", s.samples_per_user}}},
              {"item_dim", c.item_dim},
              {"cat_dim", c.cat_dim},
              {"mlp", c.mlp},
              {"attention", c.attention},
              {"activation", c.activation},
              {"attention_softmax", c.attention_softmax},
              {"pooling", c.pooling},
              {"model_seed", c.seed},
              {"max_len", f.train.max_len}};
}

void config_from_json(const json& j, CommonFlags& m, CtrFlags& f) {
  auto& c = f.config;
  auto& s = f.synthetic;
  m.model = j.at("model").get<std::string>();
  m.dataset = j.at("dataset").get<std::string>();
  m.data_dir = j.at("data_dir").get<std::string>();
  m.data_seed = j.at("data_seed");
  m.test_fraction = j.at("test_fraction");
  const json& js = j.at("synthetic");
  s.users = js.at("users");
  s.items = js.at("items");
  s.cats = js.at("cats");
  s.samples_per_user = js.at("samples_per_user");
  c.item_dim = j.at("item_dim");
  c.cat_dim = j.at("cat_dim");
  c.mlp = j.at("mlp").get<std::vector<size_t>>();
  c.attention = j.at("attention").get<std::vector<size_t>>();
  c.activation = j.at("activation").get<std::string>();
  c.attention_softmax = j.at("attention_softmax");
  c.pooling = j.at("pooling").get<std::string>();
  c.seed = j.at("model_seed");
  f.train.max_len = j.at("max_len");
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw std::runtime_error(path + ": not valid JSON: " + e.what());
  }
}

void write_run_files(const CommonFlags& m, const models::TrainReport& r, size_t parameter_count) {
  const std::string& out_dir = m.out;
  fs::create_directories(out_dir);
  const models::EpochRecord& last = r.epochs.back();
  json curve = json::array();
  std::vector<std::vector<double>> rows;
  data::Series loss{"train loss", {}, {}}, test_logloss{"test logloss", {}, {}};
  data::Series auc{"test AUC", {}, {}}, gauc{"test GAUC", {}, {}};
  for (const auto& e : r.epochs) {
    curve.push_back({{"epoch", e.epoch},
                     {"train_loss", e.train_loss},
                     {"test_auc", e.test.auc},
                     {"test_gauc", e.test.gauc},
                     {"test_logloss", e.test.logloss}});
    rows.push_back({double(e.epoch), e.train_loss, e.test.auc, e.test.gauc, e.test.logloss});
    const double x = double(e.epoch);
    loss.x.push_back(x), loss.y.push_back(e.train_loss);
    test_logloss.x.push_back(x), test_logloss.y.push_back(e.test.logloss);
    auc.x.push_back(x), auc.y.push_back(e.test.auc);
    gauc.x.push_back(x), gauc.y.push_back(e.test.gauc);
  }
  json metrics{{"model", m.model},
               {"dataset", m.dataset},
               {"parameters", parameter_count},
               {"test",
                {{"auc", last.test.auc},
                 {"gauc", last.test.gauc},
                 {"logloss", last.test.logloss},
                 {"samples", last.test.samples}}},
               {"train", {{"samples_per_second", r.samples_per_second}, {"loss", last.train_loss}}},
               {"curve", curve}};
  std::ofstream(fs::path(out_dir) / "metrics.json") << metrics.dump(2) << "\n";
  data::write_csv((fs::path(out_dir) / "curve.csv").string(),
                  {"epoch", "train_loss", "test_auc", "test_gauc", "test_logloss"}, rows);
  const std::string title = m.model + " on " + m.dataset;
  data::write_svg_small_multiples(
      (fs::path(out_dir) / "curve.svg").string(), title + ": learning curve",
      {{data::PlotSpec{"loss", "epoch", "logloss"}, {loss, test_logloss}},
       {data::PlotSpec{"ranking", "epoch", "AUC"}, {auc, gauc}}},
      2);
}

}  // namespace tinyrec::cli
