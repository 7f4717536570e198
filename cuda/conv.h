// CUDA convolutions through cuDNN, with the signatures of ops/cpu/conv.h so ops/conv.cpp picks
// one with a visible switch. Plain C++ header. Implementation: cuda/conv.cpp; host-side planning
// (explicit output sizes, the algorithm-cache key): cuda/conv_plan.h; TF32: cuda/math_mode.h.
#pragma once
#include "engine/tensor.h"
#include "ops/cpu/conv.h"

namespace ember::cuda {

// y = conv(x, w) (+ bias per output channel when defined): cudnnConvolutionForward.
// x, w contiguous; y contiguous, overwritten. float32, float64, bfloat16, float16.
void conv2d_forward(const Tensor& y, const Tensor& x, const Tensor& w, const Tensor& bias,
                    const cpu::Conv2dGeometry& g);
// dx = convᵀ(dy, w) (+ bias per input channel when defined): cudnnConvolutionBackwardData (the
// input gradient of conv2d and the forward of conv_transpose2d).
void conv2d_input_backward(const Tensor& dx, const Tensor& dy, const Tensor& w, const Tensor& bias,
                           const cpu::Conv2dGeometry& g);
// dw = Σ_n dy[n] ⋆ x[n]: cudnnConvolutionBackwardFilter.
void conv2d_weight_backward(const Tensor& dw, const Tensor& x, const Tensor& dy, const cpu::Conv2dGeometry& g);

// Cached cuDNN algorithm choices (one per shape, direction, dtype, math mode and device).
size_t conv_algorithm_cache_size();

}  // namespace ember::cuda
