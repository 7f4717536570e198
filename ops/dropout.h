// dropout and drop_path (stochastic depth), seeded.
// Twin: ops/cpu/dropout.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {


}  // namespace ember
