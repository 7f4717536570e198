// Convolutions: conv1d, conv2d (stride, padding, dilation, groups), conv_transpose2d.
// Twin: ops/cpu/conv.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {


}  // namespace ember
