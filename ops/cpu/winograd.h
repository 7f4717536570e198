// Winograd F(4x4, 3x3) convolution kernels for float32 3x3 convolutions with unit stride (most of a
// ResNet's multiply-adds): forward, input gradient and weight gradient, each as 36 GEMMs (one per
// position of the 6x6 transformed tile) between tile transforms. Chosen by ops/cpu/conv.cpp when
// winograd_applies(); every other convolution (and every float64 one) stays on im2col + GEMM.
// Twins: ops/cpu/winograd.cpp (kernels, Note [Winograd F(4,3)]), ops/cpu/conv.cpp (the dispatch),
// test/ops/test_winograd.cpp (accuracy against the im2col path).
#pragma once
#include "ops/cpu/conv.h"

namespace ember::cpu {

// True when the convolution g (float32) is a 3x3, stride-1, dilation-1, ungrouped convolution with
// padding at most 2 on each side and enough channels and tiles for the transforms to pay off.
bool winograd_applies(const Conv2dGeometry& g);

// The three kernels behind conv2d_forward / conv2d_input_backward / conv2d_weight_backward for
// such a g (any padding 0..2, any sizes; winograd_applies only adds the speed heuristics).
// Same contracts: contiguous operands, outputs overwritten; bias optional (nullptr).
void winograd_forward(float* y, const float* x, const float* w, const float* bias, const Conv2dGeometry& g);
void winograd_input_backward(float* dx, const float* dy, const float* w, const float* bias, const Conv2dGeometry& g);
void winograd_weight_backward(float* dw, const float* x, const float* dy, const Conv2dGeometry& g);

}  // namespace ember::cpu
