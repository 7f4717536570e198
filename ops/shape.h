// Shape ops that copy: cat, stack, split, chunk, pad, flip, roll, repeat, tril/triu.
// Twin: ops/cpu/shape.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {


}  // namespace ember
