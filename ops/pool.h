// Pooling: max/avg pool 1d/2d, adaptive avg/max pool.
// Twin: ops/cpu/pool.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {


}  // namespace ember
