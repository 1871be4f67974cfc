// Module bookkeeping.
#include "nn/module.hpp"

#include <stdexcept>

namespace tinyrec::nn {

template <class T>
Tensor<T> Module<T>::register_parameter(const std::string& name, Tensor<T> p) {
  if (!p.defined()) throw std::invalid_argument("register_parameter: '" + name + "' is undefined");
  p.requires_grad_(true);
  params_.emplace_back(name, p);
  return p;
}

template <class T>
Tensor<T> Module<T>::register_buffer(const std::string& name, Tensor<T> b) {
  buffers_.emplace_back(name, b);
  return b;
}

template <class T>
void Module<T>::register_module(const std::string& name, Module& child) {
  child.train(training_);
  children_.emplace_back(name, &child);
}

template <class T>
void Module<T>::register_generator(const std::string& name, std::mt19937_64& generator) {
  generators_.emplace_back(name, &generator);
}

template <class T>
std::vector<std::pair<std::string, std::mt19937_64*>> Module<T>::named_generators() {
  std::vector<std::pair<std::string, std::mt19937_64*>> out = generators_;
  for (const auto& [name, child] : children_)
    for (const auto& [sub, g] : child->named_generators()) out.emplace_back(name + "." + sub, g);
  return out;
}

template <class T>
std::vector<std::pair<std::string, Module<T>*>> Module<T>::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (const auto& [name, child] : children_)
    for (const auto& [sub, m] : child->named_modules())
      out.emplace_back(sub.empty() ? name : name + "." + sub, m);
  return out;
}

template <class T>
void Module<T>::collect(const std::string& prefix, Named<T>& out, bool buffers) const {
  for (const auto& [name, t] : buffers ? buffers_ : params_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out, buffers);
}

template <class T>
Named<T> Module<T>::named_parameters() const {
  Named<T> out;
  collect("", out, false);
  return out;
}

template <class T>
std::vector<Tensor<T>> Module<T>::parameters() const {
  std::vector<Tensor<T>> out;
  for (auto& [name, p] : named_parameters()) out.push_back(p);
  return out;
}

template <class T>
Named<T> Module<T>::named_buffers() const {
  Named<T> out;
  collect("", out, true);
  return out;
}

template <class T>
size_t Module<T>::parameter_count() const {
  size_t n = 0;
  for (auto& [name, p] : named_parameters()) n += p.numel();
  return n;
}

template <class T>
void Module<T>::train(bool on) {
  training_ = on;
  on_mode_change(on);
  for (auto& [name, child] : children_) child->train(on);
}

template <class T>
void Module<T>::zero_grad() {
  for (auto& [name, p] : named_parameters()) p.zero_grad();
}

template class Module<float>;
template class Module<double>;

}  // namespace tinyrec::nn
