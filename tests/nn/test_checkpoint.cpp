// Tests of save_checkpoint / load_checkpoint: a round trip restores identical outputs, files are
// plain .npy named by dotted path, float checkpoints load into double models, and every error
// names what was wrong while leaving the module untouched.
#include <doctest/doctest.h>

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include <nlohmann/json.hpp>

#include "autograd/autograd.hpp"
#include "nn/checkpoint.hpp"
#include "nn/layers.hpp"
#include "nn/npy.hpp"
#include "tests/test_support.hpp"

using namespace tinyrec;
using namespace tinyrec::nn;
using tinyrec_test::TempDir;
namespace fs = std::filesystem;

namespace {

// A small model with parameters and buffers at several depths.
template <class T>
struct Net : Module<T> {
  std::mt19937_64 rng;
  Embedding<T> items;
  MLP<T> mlp;
  Net(uint64_t seed, size_t hidden = 4)
      : rng(seed), items(10, 3, rng), mlp(6, {hidden, 1}, rng, Activation::dice, 0.0, true, false) {
    this->register_module("items", items);
    this->register_module("mlp", mlp);
  }
  Tensor<T> forward(const Ids& a, const Ids& b) {
    return mlp.forward(concat<T>({items.forward(a), items.forward(b)}, 1));
  }
};

const Ids kA{1, 2, 3, 0, 9};
const Ids kB{4, 4, 0, 5, 7};

// Trains one step so that parameters and running statistics move away from their initial values.
template <class T>
void train_one_step(Net<T>& net) {
  net.train();
  backward(sum(square(net.forward(kA, kB))));
  NoGradGuard no_grad;
  for (auto& p : net.parameters()) {
    Tensor<T> g = p.grad();
    if (!g.defined()) continue;
    for (size_t i = 0; i < p.numel(); ++i) p.data()[i] -= T(0.1) * g.data()[i];
  }
  net.zero_grad();
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace

TEST_CASE("checkpoint: round trip gives identical outputs and buffers") {
  TempDir dir("tinyrec_ckpt", "roundtrip");
  Net<float> a(1);
  train_one_step(a);
  a.eval();
  const xt::xarray<float> expected = a.forward(kA, kB).value();
  save_checkpoint(a, dir.str());

  Net<float> b(2);  // a different initialization
  b.eval();
  REQUIRE(b.forward(kA, kB).value() != expected);
  Tensor<float> kept = b.parameters()[0];  // a handle an optimizer might hold
  load_checkpoint(b, dir.str());
  CHECK(b.forward(kA, kB).value() == expected);
  CHECK(kept.same(b.parameters()[0]));
  CHECK(kept.value() == a.parameters()[0].value());
  auto pa = a.named_parameters(), pb = b.named_parameters();
  for (size_t i = 0; i < pa.size(); ++i) CHECK(pa[i].second.value() == pb[i].second.value());
  auto ba = a.named_buffers(), bb = b.named_buffers();
  REQUIRE(ba.size() == 4);
  for (size_t i = 0; i < ba.size(); ++i) {
    CAPTURE(ba[i].first);
    CHECK(ba[i].second.value() == bb[i].second.value());
  }
  // The running statistics did move in training, so the buffers were really restored.
  CHECK(ba[0].second.value() != xt::zeros<float>(ba[0].second.shape()));
}

TEST_CASE("checkpoint: one .npy per tensor, named by dotted path, plus a manifest") {
  TempDir dir("tinyrec_ckpt", "files");
  Net<float> net(3);
  save_checkpoint(net, dir.str());
  for (const auto& named : {net.named_parameters(), net.named_buffers()})
    for (const auto& name_t : named) {
      const auto& name = name_t.first;
      const auto& t = name_t.second;
      CAPTURE(name);
      const fs::path file = dir.path / (name + ".npy");
      REQUIRE(fs::exists(file));
      CHECK(npy_dtype(file.string()) == "<f4");
      CHECK(load_npy<float>(file.string()) == t.value());
    }
  CHECK(fs::exists(dir.path / "items.weight.npy"));
  CHECK(fs::exists(dir.path / "mlp.layers.0.weight.npy"));
  CHECK(fs::exists(dir.path / "mlp.layers.1.running_var.npy"));
  CHECK(fs::exists(dir.path / "mlp.layers.2.alpha.npy"));
  std::ifstream in(dir.path / "manifest.json");
  const nlohmann::json manifest = nlohmann::json::parse(in);
  CHECK(manifest["format"] == "tinyrec-checkpoint");
  CHECK(manifest["dtype"] == "float32");
  CHECK(manifest["parameters"].size() == net.named_parameters().size());
  CHECK(manifest["buffers"].size() == net.named_buffers().size());
  CHECK(manifest["parameters"]["mlp.layers.0.weight"] == nlohmann::json{6, 4});
  CHECK(manifest["buffers"]["mlp.layers.2.running_mean"] == nlohmann::json{4});
  // Saving again into the same folder overwrites it.
  save_checkpoint(net, dir.str());
}

TEST_CASE("checkpoint: a float checkpoint loads into a double model") {
  TempDir dir("tinyrec_ckpt", "convert");
  Net<float> f(4);
  train_one_step(f);
  save_checkpoint(f, dir.str());
  Net<double> d(5);
  load_checkpoint(d, dir.str());
  auto pf = f.named_parameters();
  auto pd = d.named_parameters();
  for (size_t i = 0; i < pf.size(); ++i)
    for (size_t k = 0; k < pf[i].second.numel(); ++k)
      CHECK(pd[i].second.data()[k] == static_cast<double>(pf[i].second.data()[k]));
  f.eval();
  d.eval();
  const Tensor<float> yf = f.forward(kA, kB);
  const Tensor<double> yd = d.forward(kA, kB);
  for (size_t i = 0; i < yf.numel(); ++i)
    CHECK(yd.data()[i] == doctest::Approx(yf.data()[i]).epsilon(1e-5));
  // And back: a double checkpoint loads into a float model.
  TempDir back("tinyrec_ckpt", "convert_back");
  save_checkpoint(d, back.str());
  CHECK(npy_dtype((back.path / "items.weight.npy").string()) == "<f8");
  Net<float> g(6);
  load_checkpoint(g, back.str());
  CHECK(g.parameters()[0].value() == f.parameters()[0].value());
}

TEST_CASE("checkpoint: errors name the tensor and the file, and leave the module untouched") {
  TempDir dir("tinyrec_ckpt", "errors");
  Net<float> net(7);
  save_checkpoint(net, dir.str());
  Net<float> target(8);
  const xt::xarray<float> before = target.parameters()[0].value();

  SUBCASE("missing file") {
    fs::remove(dir.path / "mlp.layers.3.bias.npy");
    const std::string msg = message_of([&] { load_checkpoint(target, dir.str()); });
    CHECK(msg == "load_checkpoint: '" + dir.str() + "' has no file for tensor 'mlp.layers.3.bias'" +
                     " (expected " + (dir.path / "mlp.layers.3.bias.npy").string() + ")");
  }
  SUBCASE("shape mismatch") {
    Net<float> wider(9, 5);
    const std::string msg = message_of([&] { load_checkpoint(wider, dir.str()); });
    CHECK(msg.find("load_checkpoint: tensor 'mlp.layers.0.weight' has shape [6, 5] in the module " +
                   std::string("but [6, 4] in ") + (dir.path / "mlp.layers.0.weight.npy").string() +
                   "\n") == 0);
    // Every other mismatch too, one per line.
    CHECK(msg.find(
              "\n  and tensor 'mlp.layers.3.weight' has shape [5, 1] in the module but [4, 1]") !=
          std::string::npos);
    // 6 parameters and 4 running statistics (BatchNorm's and Dice's) change with the width.
    CHECK(std::count(msg.begin(), msg.end(), '\n') == 9);
  }
  SUBCASE("unexpected file") {
    save_npy((dir.path / "extra.weight.npy").string(), xt::xarray<float>{1.0f});
    const std::string msg = message_of([&] { load_checkpoint(target, dir.str()); });
    CHECK(msg == "load_checkpoint: " + (dir.path / "extra.weight.npy").string() +
                     " matches no parameter or buffer of the module");
    // Saving there would mix two models: refused as well.
    CHECK_THROWS_AS(save_checkpoint(target, dir.str()), std::runtime_error);
  }
  SUBCASE("wrong dtype") {
    save_npy((dir.path / "items.weight.npy").string(), xt::xarray<int64_t>{{1, 2, 3}});
    const std::string msg = message_of([&] { load_checkpoint(target, dir.str()); });
    CHECK(msg.find("has dtype '<i8'; expected float32 or float64") != std::string::npos);
  }
  SUBCASE("every mismatch at once, a truncated file among them") {
    fs::remove(dir.path / "mlp.layers.3.bias.npy");
    const fs::path items = dir.path / "items.weight.npy";
    fs::resize_file(items, fs::file_size(items) - 7);
    save_npy((dir.path / "extra.weight.npy").string(), xt::xarray<float>{1.0f});
    const std::string msg = message_of([&] { load_checkpoint(target, dir.str()); });
    CHECK(msg.find("load_checkpoint: " + (dir.path / "extra.weight.npy").string() +
                   " matches no parameter or buffer of the module") == 0);
    CHECK(msg.find("\n  and npy file '" + items.string() + "'") != std::string::npos);
    CHECK(msg.find("truncated") != std::string::npos);
    CHECK(msg.find("\n  and '" + dir.str() + "' has no file for tensor 'mlp.layers.3.bias'") !=
          std::string::npos);
  }
  SUBCASE("not a directory") {
    CHECK_THROWS_WITH_AS(
        load_checkpoint(target, (dir.path / "nowhere").string()),
        ("load_checkpoint: '" + (dir.path / "nowhere").string() + "' is not a directory").c_str(),
        std::runtime_error);
  }
  CHECK(target.parameters()[0].value() == before);
}

TEST_CASE("checkpoint: files other than .npy are ignored") {
  TempDir dir("tinyrec_ckpt", "other_files");
  Net<float> net(10);
  save_checkpoint(net, dir.str());
  std::ofstream(dir.path / "notes.txt") << "trained on sample data";
  Net<float> target(11);
  load_checkpoint(target, dir.str());
  CHECK(target.parameters()[0].value() == net.parameters()[0].value());
}
