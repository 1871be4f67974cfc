// A checkpoint folder that does not fit its own config.json — a weight of the wrong shape, a
// corrupt, cut or missing .npy, a config naming another model — is refused by `eval` and
// `predict` with one line naming the file, and predict writes nothing.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_run.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using tinyrec_test::read_bytes;
using tinyrec_test::run;

namespace {

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

// `text` with its one occurrence of `from` replaced by `to`.
std::string replaced(const std::string& text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  CHECK(text.find(from, at + 1) == std::string::npos);
  return text.substr(0, at) + to + text.substr(at + from.size());
}

}  // namespace

TEST_CASE(
    "cli: eval and predict refuse a checkpoint that does not fit its config, naming the file") {
  const tinyrec_test::TempDir dir("tinyrec_cli_test", "checkpoint_mismatch");
  const fs::path out = dir.path / "run";
  const auto trained = run("train --model din --users 60 --epochs 1 --quiet --out " + out.string());
  REQUIRE_MESSAGE(trained.status == 0, trained.output);
  const fs::path good = out / "checkpoint";
  const fs::path input = dir.path / "input.txt";
  write_bytes(input,
              "0\t2\t5\t7\t3\x02"
              "4\t5\x02"
              "6\n");
  // The intact checkpoint is read: what fails below fails for the damage done to it.
  const auto ok = run("predict --checkpoint " + good.string() + " --input " + input.string());
  REQUIRE_MESSAGE(ok.status == 0, ok.output);

  // A copy of the checkpoint, damaged by `damage`, then read by eval and by predict: both exit 1
  // with the one line `expected`.
  auto check = [&](const std::string& name, auto damage, const std::string& expected) {
    CAPTURE(name);
    const fs::path ckpt = dir.path / name;
    fs::copy(good, ckpt, fs::copy_options::recursive);
    damage(ckpt);
    std::string line = "tinyrec: error: " + expected + "\n";
    for (size_t at; (at = line.find("CKPT")) != std::string::npos;)
      line.replace(at, 4, ckpt.string());
    const auto e = run("eval --checkpoint " + ckpt.string());
    CHECK(e.status == 1);
    CHECK(e.output == line);
    const fs::path scores = dir.path / (name + ".scores");
    const auto p = run("predict --checkpoint " + ckpt.string() + " --input " + input.string() +
                       " --output " + scores.string());
    CHECK(p.status == 1);
    CHECK(p.output == line);
    CHECK_FALSE(fs::exists(scores));
  };

  // (a) A weight of another tensor's shape in its place: both shapes and the file.
  check(
      "other_weight",
      [](const fs::path& c) {
        fs::copy_file(c / "embedding.cat.weight.npy", c / "mlp.layers.0.weight.npy",
                      fs::copy_options::overwrite_existing);
      },
      "load_checkpoint: tensor 'mlp.layers.0.weight' has shape [72, 200] in the module but "
      "[52, 18] in CKPT/mlp.layers.0.weight.npy");
  // (b) Cut short, or overwritten from the start.
  check(
      "truncated",
      [](const fs::path& c) {
        const fs::path f = c / "embedding.item.weight.npy";
        fs::resize_file(f, fs::file_size(f) - 4);
      },
      "load_checkpoint: npy file 'CKPT/embedding.item.weight.npy': shape (1002, 18) of '<f4' "
      "needs 72144 data bytes but the file holds 72140 (truncated)");
  check(
      "cut_in_header",
      [](const fs::path& c) {
        const fs::path f = c / "mlp.layers.2.weight.npy";
        write_bytes(f, read_bytes(f).substr(0, 40));
      },
      "load_checkpoint: npy file 'CKPT/mlp.layers.2.weight.npy': truncated header (expected 118 "
      "bytes, the file holds 30 more)");
  check(
      "corrupt",
      [](const fs::path& c) {
        const fs::path f = c / "mlp.layers.2.weight.npy";
        write_bytes(f, "garbage!" + read_bytes(f).substr(8));
      },
      "load_checkpoint: npy file 'CKPT/mlp.layers.2.weight.npy': not a .npy file (the magic "
      "string \\x93NUMPY is missing)");
  check(
      "empty", [](const fs::path& c) { write_bytes(c / "mlp.layers.4.bias.npy", ""); },
      "load_checkpoint: npy file 'CKPT/mlp.layers.4.bias.npy': too short to be a .npy file (fewer "
      "than 8 bytes)");
  // (c) Missing.
  check(
      "missing", [](const fs::path& c) { fs::remove(c / "mlp.layers.4.bias.npy"); },
      "load_checkpoint: 'CKPT' has no file for tensor 'mlp.layers.4.bias' (expected "
      "CKPT/mlp.layers.4.bias.npy)");
  // (d) config.json naming another model, or none there is.
  check(
      "other_model",
      [](const fs::path& c) {
        write_bytes(c / "config.json", replaced(read_bytes(c / "config.json"), "\"model\": \"din\"",
                                                "\"model\": \"base\""));
      },
      "CKPT/config.json: --model base: no setting 'attention'; accepted: item_dim, cat_dim, mlp, "
      "activation, init, pooling");
  check(
      "unknown_model",
      [](const fs::path& c) {
        write_bytes(c / "config.json", replaced(read_bytes(c / "config.json"), "\"model\": \"din\"",
                                                "\"model\": \"dinn\""));
      },
      "CKPT/config.json: --model: dinn not in {base, din, dien, sim, shared_bottom, omoe, mmoe, "
      "ple, esmm, stamp, stmp, melu}");

  // A config.json whose embedding width was edited: every tensor that width shapes is named, one
  // line each, so one attempt shows the whole mismatch.
  const fs::path wide = dir.path / "item_dim";
  fs::copy(good, wide, fs::copy_options::recursive);
  write_bytes(wide / "config.json",
              replaced(read_bytes(wide / "config.json"), "\"item_dim\": 18", "\"item_dim\": 16"));
  const std::string w = wide.string();
  const std::string lines =
      "tinyrec: error: load_checkpoint: tensor 'embedding.item.weight' has shape [1002, 16] in the "
      "module but [1002, 18] in " +
      w +
      "/embedding.item.weight.npy\n"
      "  and tensor 'attention.mlp.layers.0.weight' has shape [136, 80] in the module but [144, "
      "80] in " +
      w +
      "/attention.mlp.layers.0.weight.npy\n"
      "  and tensor 'mlp.layers.0.weight' has shape [68, 200] in the module but [72, 200] in " +
      w + "/mlp.layers.0.weight.npy\n";
  const auto e = run("eval --checkpoint " + w);
  CHECK(e.status == 1);
  CHECK(e.output == lines);
  const fs::path scores = dir.path / "item_dim.scores";
  const auto p = run("predict --checkpoint " + w + " --input " + input.string() + " --output " +
                     scores.string());
  CHECK(p.status == 1);
  CHECK(p.output == lines);
  CHECK_FALSE(fs::exists(scores));
}
