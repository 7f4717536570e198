// Launchers of cuda/short_conv.cu: fused causal depthwise conv1d + bias + activation, forward and
// backward (raw pointers, Note [CUDA kernel boundary] in cuda/layout.h). Driven by
// cuda/short_conv.cpp. CPU twin: ops/cpu/short_conv.cpp.
#pragma once
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// The activations by the numbers of cpu::ShortConvActivation (static_assert in cuda/short_conv.cpp).
enum class ShortConvAct : int { none = 0, silu = 1, gelu = 2, relu = 3 };

struct ShortConvShape {
  int64_t batch = 0, length = 0, channels = 0, kernel_size = 0;
  ShortConvAct activation = ShortConvAct::none;
};

// x, y: (B, L, D) contiguous; w (D, K); bias (D) or null.
void short_conv_forward(const ShortConvShape& s, ScalarType type, const void* x, const void* w, const void* bias,
                        void* y, Stream stream);

// grad_y read by strides (batch, time, channel; 0 on broadcast dims). gz: (B, L, D) scratch that
// receives grad_y · act'(z). partials: (chunks, K + 1, D) float64 scratch for the deterministic
// per-channel sums, chunks = short_conv_reduction_chunks(s). grad_x (B, L, D), grad_w (D, K),
// grad_bias (D) may each be null.
int64_t short_conv_reduction_chunks(const ShortConvShape& s);
void short_conv_backward(const ShortConvShape& s, ScalarType type, const void* x, const void* w, const void* bias,
                         const void* grad_y, int64_t grad_batch_stride, int64_t grad_time_stride,
                         int64_t grad_channel_stride, void* gz, double* partials, void* grad_x, void* grad_w,
                         void* grad_bias, Stream stream);

}  // namespace ember::cuda
