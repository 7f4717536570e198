// short_conv: causal depthwise conv1d with a small kernel (K = 2..8), fused with its bias and
// activation; the "short" branch of CHELA's short-long convolutions (and Mamba/H3's shift conv).
// Twins: ops/short_conv.cpp (checks, dispatch, backward), ops/cpu/short_conv.cpp (kernels).
#pragma once
#include <string>

#include "engine/tensor.h"

namespace ember {

// x: (B, L, D), w: (D, K), bias: (D) or undefined ->
//   y[b, t, d] = act(bias[d] + sum_{s=0}^{K-1} w[d, s] * x[b, t - s, d]),  x = 0 for t - s < 0.
// activation: "none", "silu", "gelu" (erf), "relu". Differentiable in x, w and bias.
Tensor short_conv(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor(),
                  const std::string& activation = "none");

}  // namespace ember
