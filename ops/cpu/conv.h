// CPU convolution kernels: im2col + GEMM per (image, group, row band), parallel over images, direct
// kernels for depthwise convolutions, Winograd for float32 3x3 stride-1 ones (ops/cpu/winograd.h).
// Twins: ops/cpu/conv.cpp, ops/conv.cpp (API + backward).
#pragma once
#include "engine/tensor.h"
#include "ops/cpu/fold.h"

namespace ember::cpu {

// A grouped 2-D convolution y = conv(x, w): x (N, C_in, H, W), w (C_out, C_in / groups, kh, kw),
// y (N, C_out, out_h, out_w). `patch` describes one group of one image (channels = C_in / groups).
struct Conv2dGeometry {
  int64_t batch = 1, in_channels = 1, out_channels = 1, groups = 1;
  PatchGeometry patch;
  // groups == C_in == C_out: one filter per channel, run by the direct kernels.
  bool is_depthwise() const { return groups > 1 && groups == in_channels && groups == out_channels; }
};

// y = conv(x, w) (+ bias per output channel when defined). x, w contiguous; y contiguous, overwritten.
void conv2d_forward(const Tensor& y, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dGeometry& g);
// dx = convᵀ(dy, w) (+ bias per input channel when defined): the input gradient of conv2d and the
// forward of conv_transpose2d. dy, w contiguous; dx contiguous, overwritten.
void conv2d_input_backward(const Tensor& dx, const Tensor& dy, const Tensor& w, const Tensor& bias,
                           const Conv2dGeometry& g);
// dw = Σ_n dy[n] ⋆ x[n]: the weight gradient of conv2d. x, dy contiguous; dw contiguous, overwritten.
void conv2d_weight_backward(const Tensor& dw, const Tensor& x, const Tensor& dy, const Conv2dGeometry& g);

}  // namespace ember::cpu
