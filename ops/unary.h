// Unary math: exp, log, trig, powers, rounding and clamp.
// Twins: ops/cpu/unary.cpp (kernels), autograd/DERIVATIVES.md. Integer inputs compute in float32
// (as torch.exp(int_tensor) does), except abs/sign/neg/clamp/rounding which keep the dtype.
#pragma once
#include "engine/tensor.h"

namespace ember {

Tensor exp(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor clamp(const Tensor& x, double min_value, double max_value);
Tensor clamp_min(const Tensor& x, double min_value);
Tensor clamp_max(const Tensor& x, double max_value);

}  // namespace ember
