// The tiny configuration and batch of the whole-model gradient check.
#include "models/ctr_gradcheck.hpp"

#include "autograd/ops.hpp"

namespace tinyrec::models {

CtrConfig tiny_ctr_config() {
  CtrConfig c;
  c.n_items = 9;
  c.n_cats = 5;
  c.item_counts = {0, 0, 3, 1, 2, 4, 1, 1, 2};
  c.cat_counts = {0, 0, 5, 3, 2};
  c.item_dim = 3;
  c.cat_dim = 2;
  c.mlp = {6, 4};
  c.attention = {5, 3};
  c.seed = 7;
  return c;
}

data::CtrBatch tiny_ctr_batch(const CtrConfig& c) {
  const std::vector<std::vector<int64_t>> hist = {{2, 5, 3, 8}, {4, 6}, {7}};
  const size_t B = hist.size(), L = 4;
  data::CtrBatch b;
  b.size = B;
  b.max_len = L;
  b.user = xt::xarray<int64_t>::from_shape({B});
  b.item = xt::xarray<int64_t>::from_shape({B});
  b.cat = xt::xarray<int64_t>::from_shape({B});
  b.label = xt::xarray<float>::from_shape({B});
  b.hist_items = xt::zeros<int64_t>({B, L});
  b.hist_cats = xt::zeros<int64_t>({B, L});
  b.mask = xt::zeros<float>({B, L});
  auto cat_of = [&](int64_t item) { return 2 + item % (c.n_cats - 2); };
  for (size_t i = 0; i < B; ++i) {
    b.user(i) = int64_t(2 + i);
    b.item(i) = int64_t(3 + 2 * i);
    b.cat(i) = cat_of(b.item(i));
    b.label(i) = float(i % 2);
    for (size_t j = 0; j < hist[i].size(); ++j) {
      b.hist_items(i, j) = hist[i][j];
      b.hist_cats(i, j) = cat_of(hist[i][j]);
      b.mask(i, j) = 1;
    }
  }
  return b;
}

GradcheckResult gradcheck_ctr_model(CtrModel<double>& model, const data::CtrBatch& batch) {
  model.train();
  const std::vector<Tensor<double>> params = model.parameters();
  const Tensor<double> labels(xt::xarray<double>(xt::cast<double>(batch.label)));
  auto logits = [&](const std::vector<Tensor<double>>&) { return model.forward(batch); };
  auto loss = [&](const std::vector<Tensor<double>>&) {
    Tensor<double> l = bce_with_logits(model.forward(batch), labels);
    Tensor<double> aux = model.auxiliary_loss(batch);
    return aux.defined() ? l + aux : l;
  };
  const GradcheckResult on_logits = gradcheck(logits, params);
  if (!on_logits.ok) return on_logits;
  const GradcheckResult on_loss = gradcheck(loss, params);
  return !on_loss.ok || on_loss.worst_rel_error > on_logits.worst_rel_error ? on_loss : on_logits;
}

}  // namespace tinyrec::models
