// Initialisation schemes: one rule per layer kind (see init_scheme.hpp for the table).
#include "nn/init_scheme.hpp"

#include <cmath>
#include <set>
#include <stdexcept>

#include "nn/init.hpp"

namespace tinyrec::nn::init {

namespace {

bool is_torch(const std::string& scheme) {
  check_scheme(scheme);
  return scheme != "glorot";
}

template <class T>
void uniform_bound(const Tensor<T>& t, std::mt19937_64& rng, double bound) {
  uniform_(t, rng, -bound, bound);
}

}  // namespace

const std::vector<std::string>& scheme_names() {
  static const std::vector<std::string> names{"torch", "torch-0.1", "torch-0.01", "glorot"};
  return names;
}

void check_scheme(const std::string& scheme) {
  for (const auto& n : scheme_names())
    if (n == scheme) return;
  std::string accepted;
  for (const auto& n : scheme_names()) accepted += (accepted.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown initialisation '" + scheme + "'; accepted: " + accepted);
}

double embedding_std(const std::string& scheme) {
  check_scheme(scheme);
  if (scheme == "torch") return 1.0;
  if (scheme == "torch-0.1") return 0.1;
  return 0.01;  // torch-0.01, glorot
}

template <class T>
void linear_(Linear<T>& layer, const std::string& scheme, std::mt19937_64& rng, size_t fan_out) {
  const double in = double(layer.in_features());
  if (is_torch(scheme)) {
    uniform_bound(layer.weight(), rng, 1.0 / std::sqrt(in));
    if (layer.bias().defined()) uniform_bound(layer.bias(), rng, 1.0 / std::sqrt(in));
  } else {
    const double out = double(fan_out ? fan_out : layer.out_features());
    uniform_bound(layer.weight(), rng, std::sqrt(6.0 / (in + out)));
    if (layer.bias().defined()) zeros_(layer.bias());
  }
}

template <class T>
void embedding_(Embedding<T>& table, const std::string& scheme, std::mt19937_64& rng) {
  Tensor<T> w = table.weight();
  normal_(w, rng, embedding_std(scheme));
  if (table.padding_idx() >= 0) {
    T* row = w.data() + size_t(table.padding_idx()) * table.embedding_dim();
    for (size_t k = 0; k < table.embedding_dim(); ++k) row[k] = T(0);
  }
}

template <class T>
void gru_cell_(GRUCell<T>& cell, const std::string& scheme, std::mt19937_64& rng) {
  // PyTorch's nn.GRU bounds every weight and bias of a cell by its hidden size, whatever the
  // input width; Glorot takes each matrix's own fans, as nn::Linear.
  const double bound = 1.0 / std::sqrt(double(cell.hidden_size()));
  for (auto& [name, m] : cell.named_modules()) {
    auto* layer = dynamic_cast<Linear<T>*>(m);
    if (!layer) continue;
    if (is_torch(scheme)) {
      uniform_bound(layer->weight(), rng, bound);
      if (layer->bias().defined()) uniform_bound(layer->bias(), rng, bound);
    } else {
      linear_(*layer, scheme, rng);
    }
  }
}

template <class T>
void bilinear_(BilinearAttention<T>& attention, const std::string& scheme, std::mt19937_64& rng) {
  const Tensor<T>& w = attention.weight();  // [H, D_a]
  if (is_torch(scheme))
    uniform_bound(w, rng, 1.0 / std::sqrt(double(w.shape()[1])));
  else
    xavier_uniform_(w, rng);
}

template <class T>
void apply_scheme(Module<T>& model, const std::string& scheme, std::mt19937_64& rng) {
  check_scheme(scheme);
  if (scheme == kBuiltScheme) return;
  // A GRU cell's Linear layers follow the cell's rule, not the plain Linear one.
  std::set<const Module<T>*> done;
  for (auto& [name, m] : model.named_modules()) {
    if (done.count(m)) continue;
    if (auto* cell = dynamic_cast<GRUCell<T>*>(m)) {
      gru_cell_(*cell, scheme, rng);
      for (auto& [sub, inner] : cell->named_modules()) done.insert(inner);
    } else if (auto* layer = dynamic_cast<Linear<T>*>(m)) {
      linear_(*layer, scheme, rng);
    } else if (auto* table = dynamic_cast<Embedding<T>*>(m)) {
      embedding_(*table, scheme, rng);
    } else if (auto* attention = dynamic_cast<BilinearAttention<T>*>(m)) {
      bilinear_(*attention, scheme, rng);
    }
  }
}

#define TINYREC_INSTANTIATE_INIT_SCHEME(T)                                              \
  template void linear_(Linear<T>&, const std::string&, std::mt19937_64&, size_t);      \
  template void embedding_(Embedding<T>&, const std::string&, std::mt19937_64&);        \
  template void gru_cell_(GRUCell<T>&, const std::string&, std::mt19937_64&);           \
  template void bilinear_(BilinearAttention<T>&, const std::string&, std::mt19937_64&); \
  template void apply_scheme(Module<T>&, const std::string&, std::mt19937_64&);
TINYREC_INSTANTIATE_INIT_SCHEME(float)
TINYREC_INSTANTIATE_INIT_SCHEME(double)

}  // namespace tinyrec::nn::init
