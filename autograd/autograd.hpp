// The whole engine in one include: Tensor, the tape and backward, every op, and gradcheck.
#pragma once

#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"
#include "autograd/tape.hpp"
#include "autograd/tensor.hpp"
