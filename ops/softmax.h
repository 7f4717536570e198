// softmax and log_softmax along a dim.
// Twin: ops/cpu/softmax.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

}  // namespace ember
