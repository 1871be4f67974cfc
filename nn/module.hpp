// Module: the base of every layer and model — named parameters and buffers, submodules, and the
// train/eval switch.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.hpp"

namespace tinyrec::nn {

template <class T>
using Named = std::vector<std::pair<std::string, Tensor<T>>>;

template <class T>
class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  // Submodules are registered by address, so a module stays where it was built.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Trainable tensors, depth first, named by dotted path ("mlp.layers.0.weight").
  Named<T> named_parameters() const;
  std::vector<Tensor<T>> parameters() const;
  // State that is saved but not trained (running statistics of BatchNorm and Dice).
  Named<T> named_buffers() const;
  size_t parameter_count() const;  // number of scalar parameters
  // The generators training draws from (dropout masks), depth first, named by dotted path: a
  // checkpoint keeps their states, so a resumed run draws what an uninterrupted one would.
  std::vector<std::pair<std::string, std::mt19937_64*>> named_generators();
  // This module ("") and every submodule, depth first in registration order, by dotted path.
  std::vector<std::pair<std::string, Module*>> named_modules();

  // Training mode uses mini-batch statistics and dropout; evaluation uses running statistics.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();

 protected:
  // Registers a parameter (marked as requiring a gradient) and returns the handle to keep.
  Tensor<T> register_parameter(const std::string& name, Tensor<T> p);
  Tensor<T> register_buffer(const std::string& name, Tensor<T> b);
  void register_module(const std::string& name, Module& child);
  void register_generator(const std::string& name, std::mt19937_64& generator);
  // Called on every module when train()/eval() switch; layers with modes may override.
  virtual void on_mode_change(bool /*training*/) {}

 private:
  void collect(const std::string& prefix, Named<T>& out, bool buffers) const;
  Named<T> params_, buffers_;
  std::vector<std::pair<std::string, Module*>> children_;
  std::vector<std::pair<std::string, std::mt19937_64*>> generators_;
  bool training_ = true;
};

}  // namespace tinyrec::nn
