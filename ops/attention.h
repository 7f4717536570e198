// scaled_dot_product_attention with a key-tiled CPU kernel (O(L·d) memory).
// Twin: ops/cpu/attention.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {


}  // namespace ember
