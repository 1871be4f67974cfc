// Activations as modules: PReLU and DIN's Dice (ReLU and Sigmoid are one-liners in the header),
// and the activation chooser used by MLP.
#include <stdexcept>

#include "nn/layers.hpp"

namespace tinyrec::nn {

Activation parse_activation(const std::string& name) {
  if (name == "none") return Activation::none;
  if (name == "relu") return Activation::relu;
  if (name == "sigmoid") return Activation::sigmoid;
  if (name == "prelu") return Activation::prelu;
  if (name == "dice") return Activation::dice;
  throw std::invalid_argument("unknown activation '" + name +
                              "'; expected one of none, relu, sigmoid, prelu, dice");
}

std::string activation_name(Activation a) {
  switch (a) {
    case Activation::none:
      return "none";
    case Activation::relu:
      return "relu";
    case Activation::sigmoid:
      return "sigmoid";
    case Activation::prelu:
      return "prelu";
    case Activation::dice:
      return "dice";
  }
  throw std::invalid_argument("activation_name: invalid Activation value");
}

namespace {
void check_features(const char* who, const Shape& shape, size_t features) {
  if (shape.empty() || shape.back() != features)
    throw std::invalid_argument(std::string(who) + "(" + std::to_string(features) +
                                "): input of shape " + shape_str(shape) +
                                " must end in an axis of size " + std::to_string(features));
}
}  // namespace

template <class T>
PReLU<T>::PReLU(size_t features, double alpha_init) : features_(features) {
  if (features == 0) throw std::invalid_argument("PReLU: features must be positive");
  alpha_ = this->register_parameter("alpha",
                                    Tensor<T>::full(Shape{features}, static_cast<T>(alpha_init)));
}

template <class T>
Tensor<T> PReLU<T>::forward(const Tensor<T>& x) {
  check_features("PReLU", x.shape(), features_);
  return tinyrec::prelu(x, alpha_);
}

template <class T>
Dice<T>::Dice(size_t features, double eps, double momentum, double alpha_init)
    : features_(features), eps_(eps), momentum_(momentum) {
  if (features == 0) throw std::invalid_argument("Dice: features must be positive");
  if (!(eps > 0)) throw std::invalid_argument("Dice: eps must be positive");
  if (!(momentum >= 0 && momentum <= 1))
    throw std::invalid_argument("Dice: momentum must be in [0, 1], got " +
                                std::to_string(momentum));
  alpha_ = this->register_parameter("alpha",
                                    Tensor<T>::full(Shape{features}, static_cast<T>(alpha_init)));
  running_mean_ = this->register_buffer("running_mean", Tensor<T>::zeros(Shape{features}));
  running_var_ = this->register_buffer("running_var", Tensor<T>::ones(Shape{features}));
}

template <class T>
Tensor<T> Dice<T>::forward(const Tensor<T>& x) {
  check_features("Dice", x.shape(), features_);
  Tensor<T> p = sigmoid(normalize_features(x, running_mean_, running_var_, this->is_training(),
                                           momentum_, eps_, "Dice"));
  // p·s + (1 − p)·α·s = s·(α + p·(1 − α))
  return x * (alpha_ + p * (T(1) - alpha_));
}

template <class T>
std::unique_ptr<Layer<T>> make_activation(Activation a, size_t features) {
  switch (a) {
    case Activation::none:
      return nullptr;
    case Activation::relu:
      return std::make_unique<ReLU<T>>();
    case Activation::sigmoid:
      return std::make_unique<Sigmoid<T>>();
    case Activation::prelu:
      return std::make_unique<PReLU<T>>(features);
    case Activation::dice:
      return std::make_unique<Dice<T>>(features);
  }
  throw std::invalid_argument("make_activation: invalid Activation value");
}

template class PReLU<float>;
template class PReLU<double>;
template class Dice<float>;
template class Dice<double>;
template std::unique_ptr<Layer<float>> make_activation(Activation, size_t);
template std::unique_ptr<Layer<double>> make_activation(Activation, size_t);

}  // namespace tinyrec::nn
