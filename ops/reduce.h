// Reductions over any set of dims (empty list = all dims), with keepdim.
// Twins: ops/cpu/reduce.cpp (kernels), autograd/DERIVATIVES.md.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace ember {

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);

}  // namespace ember
