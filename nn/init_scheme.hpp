// Initialisation schemes: which distribution each kind of layer starts from. Every model takes
// its scheme by name (the --init setting), and this is the one place that says what a name means
// for an embedding table, a Linear layer, a GRU cell and the bilinear attention weight.
//
//   scheme      Embedding      Linear weight [in, out]      Linear bias      GRU cell (hidden H)
//   torch       N(0, 1)        U(±1/√in)                    U(±1/√in)        all U(±1/√H)
//   torch-0.1   N(0, 0.1²)     U(±1/√in)                    U(±1/√in)        all U(±1/√H)
//   torch-0.01  N(0, 0.01²)    U(±1/√in)                    U(±1/√in)        all U(±1/√H)
//   glorot      N(0, 0.01²)    U(±√(6 / (in + out)))        0                as Linear
//
// "torch" is PyTorch 1.13's defaults exactly: nn.Embedding draws N(0, 1); nn.Linear draws its
// weight by kaiming_uniform_(a = √5), whose bound gain·√(3 / fan_in) with gain √(2 / (1 + 5)) is
// 1/√fan_in, and its bias from U(±1/√fan_in); nn.GRU draws every weight and bias from U(±1/√H).
// "glorot" is TensorFlow's dense-layer default (Glorot-uniform, zero bias) with the small
// embeddings of the DIN and DIEN authors' code; it is also what nn::Linear, nn::Embedding and
// nn::GRUCell draw when they are built, so a model built under it need not re-draw anything.
// Padding rows of embedding tables stay 0 under every scheme. Layers whose parameters start at a
// constant (PReLU's and Dice's α, BatchNorm's γ and β) start there under every scheme, as they do
// in PyTorch.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "nn/gru.hpp"
#include "nn/layers.hpp"

namespace tinyrec::nn::init {

// The scheme that layer constructors draw from.
inline const char* const kBuiltScheme = "glorot";

// The accepted names, in the order of the table above.
const std::vector<std::string>& scheme_names();
// Throws std::invalid_argument naming `scheme` and the accepted names.
void check_scheme(const std::string& scheme);
// The standard deviation of an embedding table's rows under `scheme`.
double embedding_std(const std::string& scheme);

// Re-draws one layer's parameters by `scheme`. For "glorot", fan_out overrides the layer's output
// width (a fused layer of several equal blocks, e.g. a mixture's experts, uses one block's).
template <class T>
void linear_(Linear<T>& layer, const std::string& scheme, std::mt19937_64& rng, size_t fan_out = 0);
template <class T>
void embedding_(Embedding<T>& table, const std::string& scheme, std::mt19937_64& rng);
template <class T>
void gru_cell_(GRUCell<T>& cell, const std::string& scheme, std::mt19937_64& rng);
// W [H, D_a] maps the query e_a (D_a wide) into the state space: fan_in = D_a.
template <class T>
void bilinear_(BilinearAttention<T>& attention, const std::string& scheme, std::mt19937_64& rng);

// Re-draws every embedding table, Linear layer, GRU cell and bilinear attention of `model`, in
// registration order, by `scheme`. A no-op under kBuiltScheme, so a model's default draws do not
// depend on whether its constructor calls this.
template <class T>
void apply_scheme(Module<T>& model, const std::string& scheme, std::mt19937_64& rng);

}  // namespace tinyrec::nn::init
