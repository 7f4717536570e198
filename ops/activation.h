// Activations: relu, leaky_relu, elu, gelu (erf/tanh), silu, sigmoid, tanh, softplus, hardswish, ...
// Twin: ops/cpu/activation.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {


}  // namespace ember
