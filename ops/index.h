// Indexing ops: masked_fill, gather/scatter, index_select/index_add, one_hot.
// Twin: ops/cpu/index.cpp.
#pragma once
#include "engine/tensor.h"

namespace ember {

// x with `value` where mask (bool, broadcastable to x) is true.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

}  // namespace ember
