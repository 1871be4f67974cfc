// The Base model and DIN: whole-model float64 gradient checks, what the attention sees, and the
// paper's claim on the synthetic data (DIN beats the Base model on GAUC), seeded.
#include <doctest/doctest.h>

#include "autograd/autograd.hpp"
#include "data/din_synthetic.hpp"
#include "models/ctr_gradcheck.hpp"
#include "models/din.hpp"
#include "models/train_ctr.hpp"

using namespace tinyrec;

namespace {
GradcheckResult check(const std::string& name, const std::string& activation, bool softmax,
                      const std::string& pooling = "sum") {
  models::CtrConfig c = models::tiny_ctr_config();
  c.activation = activation;
  c.attention_softmax = softmax;
  c.pooling = pooling;
  auto model = models::make_ctr_model<double>(name, c);
  return models::gradcheck_ctr_model(*model, models::tiny_ctr_batch(c));
}
}  // namespace

TEST_CASE("whole-model gradcheck: base") {
  for (const char* act : {"prelu", "dice", "sigmoid"}) {
    CAPTURE(act);
    const GradcheckResult r = check("base", act, false);
    CHECK_MESSAGE(r.ok, r.report());
    CHECK(r.checked > 100);
  }
  const GradcheckResult mean = check("base", "prelu", false, "mean");
  CHECK_MESSAGE(mean.ok, mean.report());
}

TEST_CASE("whole-model gradcheck: din") {
  for (const char* act : {"prelu", "dice", "sigmoid"})
    for (bool softmax : {false, true}) {
      CAPTURE(act);
      CAPTURE(softmax);
      const GradcheckResult r = check("din", act, softmax);
      CHECK_MESSAGE(r.ok, r.report());
      CHECK(r.checked > 100);
    }
}

TEST_CASE("din: padded behaviours get zero weight and change nothing") {
  models::CtrConfig c = models::tiny_ctr_config();
  models::DIN<double> din(c);
  din.eval();
  data::CtrBatch b = models::tiny_ctr_batch(c);
  const Tensor<double> before = din.forward(b);
  const auto& w = din.attention_weights().value();
  for (size_t i = 0; i < b.size; ++i)
    for (size_t j = 0; j < b.max_len; ++j)
      if (b.mask(i, j) == 0) CHECK(w(i, j) == 0.0);
  // A padded slot holding garbage ids under a zero mask must not matter: ids are 0 there, and
  // the embedding's padding row is zero; widen the batch by one more padded column to be sure.
  data::CtrBatch wide = b;
  wide.max_len = b.max_len + 1;
  wide.hist_items = xt::zeros<int64_t>({b.size, wide.max_len});
  wide.hist_cats = xt::zeros<int64_t>({b.size, wide.max_len});
  wide.mask = xt::zeros<float>({b.size, wide.max_len});
  for (size_t i = 0; i < b.size; ++i)
    for (size_t j = 0; j < b.max_len; ++j) {
      wide.hist_items(i, j) = b.hist_items(i, j);
      wide.hist_cats(i, j) = b.hist_cats(i, j);
      wide.mask(i, j) = b.mask(i, j);
    }
  const Tensor<double> after = din.forward(wide);
  for (size_t i = 0; i < b.size; ++i)
    CHECK(after.data()[i] == doctest::Approx(before.data()[i]).epsilon(1e-12));
}

TEST_CASE("models: unknown name lists the accepted ones") {
  CHECK_THROWS_WITH_AS(models::make_ctr_model<float>("dinn", models::tiny_ctr_config()),
                       doctest::Contains("accepted: base, din"), std::invalid_argument);
}

// The paper's claim, on data built for it: behaviours matching the candidate decide the click, so
// attending to them beats sum pooling. Seeded, so the numbers are the same on every run.
TEST_CASE("din beats the base model on GAUC (synthetic data, seeded)") {
  data::DinSyntheticConfig s;
  s.users = 1500;
  s.seed = 3;
  const data::CtrDataset ds = data::make_din_synthetic(s);
  models::TrainOptions t;
  t.epochs = 2;
  t.batch_size = 64;
  t.max_len = 40;
  t.lr = 2e-3;
  double gauc[2], auc[2];
  int k = 0;
  for (const char* name : {"base", "din"}) {
    models::CtrConfig c;
    c.n_items = ds.n_items;
    c.n_cats = ds.n_cats;
    c.seed = 11;
    auto model = models::make_ctr_model<float>(name, c);
    const models::TrainReport r = models::train_ctr(*model, ds, t);
    gauc[k] = r.epochs.back().test.gauc;
    auc[k] = r.epochs.back().test.auc;
    ++k;
  }
  MESSAGE("base GAUC " << gauc[0] << " AUC " << auc[0] << " | din GAUC " << gauc[1] << " AUC "
                       << auc[1]);
  CHECK(gauc[1] > gauc[0] + 0.01);
  CHECK(auc[1] > auc[0]);
}
