// unfold / fold (im2col / col2im).
// Twin: ops/cpu/fold.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {


}  // namespace ember
