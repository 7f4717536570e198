// Normalization: batch_norm, layer_norm, group_norm, rms_norm (PyTorch's functional forms).
// Twins: ops/norm.cpp (checks, dispatch, backward), ops/cpu/norm.cpp (fused kernels),
// autograd/derivatives/norm.md (formulas). weight / bias are optional: pass an undefined Tensor().
#pragma once
#include <optional>

#include "engine/tensor.h"

namespace ember {

// x: (N, C), (N, C, L), (N, C, H, W) or any (N, C, *). Statistics per channel over (N, *).
// training: uses the batch statistics and, when running_mean / running_var are defined, updates
// them in place: running = (1 - momentum) * running + momentum * batch, with the unbiased batch
// variance for running_var (as PyTorch). Eval: normalises with the running statistics.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight = {},
                  const Tensor& bias = {}, bool training = false, double momentum = 0.1, double eps = 1e-5);

// Normalises over the trailing dims `normalized_shape`; weight / bias have that shape.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5);

// x: (N, C, *); statistics per (sample, group of C / num_groups channels); weight / bias: (C).
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5);

// x / sqrt(mean(x^2) + eps) * weight over the trailing dims `normalized_shape`.
// eps defaults to the machine epsilon of x's dtype, as torch.nn.functional.rms_norm.
Tensor rms_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                std::optional<double> eps = std::nullopt);

}  // namespace ember
