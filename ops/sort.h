// Sorting and scans: sort/argsort, topk, cumsum, cumprod.
// Twin: ops/cpu/sort.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {


}  // namespace ember
