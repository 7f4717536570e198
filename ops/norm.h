// Normalization: batch_norm, layer_norm, group_norm, rms_norm.
// Twin: ops/cpu/norm.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {


}  // namespace ember
