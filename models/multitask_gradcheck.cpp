// The tiny configuration and batch of the multi-task gradient check.
#include "models/multitask_gradcheck.hpp"

#include <cmath>

#include "autograd/ops.hpp"
#include "models/train_multitask.hpp"

namespace tinyrec::models {

MultiTaskConfig tiny_multitask_config(const std::string& model) {
  MultiTaskConfig c;
  if (model == "esmm")
    c.tasks = {{"ctr", data::TaskKind::binary}, {"ctcvr", data::TaskKind::binary}};
  else
    c.tasks = {{"score", data::TaskKind::regression}, {"click", data::TaskKind::binary}};
  c.n_numeric = 3;
  c.cat_vocab_sizes = {4, 3};
  c.embedding_dim = 2;
  c.n_experts = 3;
  c.expert_units = 4;
  c.tower = {3};
  c.bottom_units = 5;
  c.ple_specific = 1;
  c.ple_shared = 2;
  c.ple_levels = 2;
  c.esmm_tower = {4, 3};
  c.seed = 5;
  return c;
}

data::MultiTaskBatch tiny_multitask_batch(const MultiTaskConfig& c) {
  const size_t B = 5, K = c.tasks.size();
  data::MultiTaskBatch b;
  b.size = B;
  b.x = xt::xarray<float>::from_shape({B, c.n_numeric});
  b.cat = xt::xarray<int64_t>::from_shape({B, c.cat_vocab_sizes.size()});
  b.y = xt::xarray<float>::from_shape({B, K});
  b.rows.resize(B);
  for (size_t i = 0; i < B; ++i) {
    b.rows[i] = i;
    for (size_t j = 0; j < c.n_numeric; ++j)
      b.x(i, j) = float(std::sin(1.7 * double(i + 1) + 0.9 * double(j)));  // fixed, varied
    for (size_t j = 0; j < c.cat_vocab_sizes.size(); ++j)
      b.cat(i, j) = int64_t((i + j) % size_t(c.cat_vocab_sizes[j]));  // includes id 0
    for (size_t k = 0; k < K; ++k) {
      const bool binary = c.tasks[k].kind == data::TaskKind::binary;
      // CTCVR implies a click: for esmm the second label is at most the first.
      b.y(i, k) =
          binary ? float((i + k) % 2 == 0 && (k == 0 || b.y(i, 0) == 1)) : 0.4f * float(i) - 0.7f;
    }
  }
  return b;
}

GradcheckResult gradcheck_multitask_model(MultiTaskModel<double>& model,
                                          const data::MultiTaskBatch& batch,
                                          const std::vector<double>& task_weights) {
  model.train();
  const std::vector<Tensor<double>> params = model.parameters();
  auto outputs = [&](const std::vector<Tensor<double>>&) {
    Tensors<double> columns;
    for (const Tensor<double>& y : model.forward(batch))
      columns.push_back(reshape(y, Shape{batch.size, 1}));
    return concat(columns, 1);  // [B, K]
  };
  auto loss = [&](const std::vector<Tensor<double>>&) {
    return weighted_loss(task_losses(model.forward(batch), batch.y, model.tasks()), task_weights);
  };
  const GradcheckResult on_outputs = gradcheck(outputs, params);
  if (!on_outputs.ok) return on_outputs;
  const GradcheckResult on_loss = gradcheck(loss, params);
  return !on_loss.ok || on_loss.worst_rel_error > on_outputs.worst_rel_error ? on_loss : on_outputs;
}

}  // namespace tinyrec::models
