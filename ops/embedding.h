// embedding lookup with padding_idx.
// Twin: ops/cpu/embedding.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {


}  // namespace ember
