// The MMoE paper's synthetic-data experiment, one data set at a time, written out so that the
// PyTorch twin can run it on the same rows from the same start (bench/mmoe_recipe.py):
//
//   bench_mmoe_recipe OUT [p] [seed] [models] [bottom_units] [epochs]
//
// draws the data as `tinyrec experiment mmoe-correlation` does for that correlation and seed
// (data/mmoe_synthetic.hpp: d = 100, 10,000 training and 2,000 test rows), writes it to
// OUT/{train,test}_{x,y}.npy with the generator's draws (OUT/generator.json: w1, w2, alpha, beta,
// the label correlation), then for each model (default shared_bottom,mmoe) builds it as the
// experiment does (the registry's defaults, --init torch, weights seeded seed + 100), saves the
// start to OUT/MODEL/init, trains it with the trainer (Adam 1e-3, batch 128, `epochs` epochs,
// default 30, batch order seeded `seed`) and prints one JSON line: its test MSE per task, from
// the run's own evaluation. OUT/order.npy holds each epoch's visiting order of the training rows,
// as data::BatchOrder draws it for the trainer.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/batching.hpp"
#include "data/mmoe_synthetic.hpp"
#include "models/multitask_task.hpp"
#include "models/trainer.hpp"
#include "nn/checkpoint.hpp"
#include "nn/npy.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace tinyrec;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_mmoe_recipe OUT [p] [seed] [models] [bottom_units] [epochs]\n");
    return 2;
  }
  try {
    const fs::path out = argv[1];
    const double p = argc > 2 ? std::stod(argv[2]) : 0.5;
    const uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
    const std::string names = argc > 4 ? argv[4] : "shared_bottom,mmoe";
    const size_t bottom_units = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 0;
    const size_t epochs = argc > 6 ? std::strtoull(argv[6], nullptr, 10) : 30;

    data::MmoeSyntheticConfig s;
    s.p = p;
    s.seed = seed;
    data::MmoeSyntheticReport report;
    const data::MultiTaskDataset ds = data::make_mmoe_synthetic(s, &report);
    fs::create_directories(out);
    nn::save_npy((out / "train_x.npy").string(), ds.train_x);
    nn::save_npy((out / "train_y.npy").string(), ds.train_y);
    nn::save_npy((out / "test_x.npy").string(), ds.test_x);
    nn::save_npy((out / "test_y.npy").string(), ds.test_y);
    std::ofstream(out / "generator.json") << json{{"p", p},
                                                  {"seed", seed},
                                                  {"c", s.c},
                                                  {"m", s.m},
                                                  {"noise_var", s.noise_var},
                                                  {"w1", report.w1},
                                                  {"w2", report.w2},
                                                  {"alpha", report.alpha},
                                                  {"beta", report.beta},
                                                  {"label_correlation", report.label_correlation}}
                                                 .dump()
                                          << "\n";

    models::TrainOptions t;
    t.epochs = epochs;
    t.batch_size = 128;
    t.lr = 1e-3;
    t.seed = seed;
    {
      data::BatchOrder order(ds.num_train(), t.batch_size, true, t.seed);
      xt::xarray<int64_t> rows = xt::zeros<int64_t>({epochs, ds.num_train()});
      for (size_t e = 0; e < epochs; ++e) {
        order.start_epoch();
        for (size_t i = 0; i < ds.num_train(); ++i) rows(e, i) = int64_t(order.order()[i]);
      }
      nn::save_npy((out / "order.npy").string(), rows);
    }

    std::stringstream list(names);
    std::string name;
    while (std::getline(list, name, ',')) {
      const models::ModelEntry& entry = models::find_model(name);
      json options = entry.defaults;
      options["init"] = "torch";
      if (options.contains("bottom_units")) options["bottom_units"] = bottom_units;
      models::MultiTaskTask task(ds, models::MultiTaskOptions{});
      auto model =
          entry.make_float(models::model_config(entry, options, task.model_shape(), seed + 100));
      const fs::path init = out / name / "init";
      fs::create_directories(init);
      nn::save_checkpoint(*model, init.string());
      models::RunConfig config;
      config.model = name;
      config.model_options = options;
      std::ofstream(init / "config.json") << json(config).dump(2) << "\n";
      const models::TrainReport r = models::Trainer(task, *model, t).fit();
      const double mse1 = r.test.at("tasks").at("task1").at("mse");
      const double mse2 = r.test.at("tasks").at("task2").at("mse");
      std::printf("%s\n", json{{"model", name},
                               {"p", p},
                               {"seed", seed},
                               {"epochs", epochs},
                               {"label_correlation", report.label_correlation},
                               {"task_mse", {mse1, mse2}},
                               {"mean_mse", (mse1 + mse2) / 2}}
                              .dump()
                              .c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_mmoe_recipe: %s\n", e.what());
    return 1;
  }
  return 0;
}
