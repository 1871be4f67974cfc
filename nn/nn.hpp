// The whole nn layer in one include: Module, layers, initializers, optimizers, checkpoints, .npy
// files and metrics.
#pragma once

#include "nn/checkpoint.hpp"
#include "nn/gru.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"
#include "nn/metrics.hpp"
#include "nn/module.hpp"
#include "nn/npy.hpp"
#include "nn/optim.hpp"
