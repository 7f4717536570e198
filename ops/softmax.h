// softmax and log_softmax along a dim.
// Twin: ops/cpu/softmax.cpp (kernels), autograd/derivatives/nn.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {

// exp(x - max) / sum(exp(x - max)) along `dim` (floating inputs; a 0-d input counts as one element).
Tensor softmax(const Tensor& x, int64_t dim);
// x - max - log(sum(exp(x - max))) along `dim`.
Tensor log_softmax(const Tensor& x, int64_t dim);

}  // namespace ember
