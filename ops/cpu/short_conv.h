// CPU kernels for short_conv: causal depthwise conv1d + bias + activation over (B, L, D), one
// fused pass forward and one backward (the pre-activation is recomputed, never stored).
// Twins: ops/short_conv.cpp (API, checks, backward node), ops/short_conv.h.
#pragma once
#include <cstdint>

namespace ember::cpu {

enum class ShortConvActivation { none, silu, gelu, relu };

struct ShortConvProblem {
  int64_t batch = 0, length = 0, channels = 0, kernel_size = 0;
  ShortConvActivation activation = ShortConvActivation::none;
};

// x, y: (B, L, D) contiguous; w: (D, K); bias: (D) or null.
//   y[b, t, d] = act(bias[d] + Σ_s w[d, s] x[b, t - s, d])
template <class T>
void short_conv_fwd(const ShortConvProblem& p, const T* x, const T* w, const T* bias, T* y);

// grad_y (B, L, D) read by strides (in elements; 0 on broadcast dims, as sum's gradient).
template <class T>
struct GradView {
  const T* data = nullptr;
  int64_t batch_stride = 0, time_stride = 0, channel_stride = 0;
};

// Gradients of the above from grad_y: grad_x (B, L, D), grad_w (D, K), grad_bias (D); each may
// be null (not wanted); written, not accumulated.
template <class T>
void short_conv_bwd(const ShortConvProblem& p, const T* x, const T* w, const T* bias, GradView<T> grad_y, T* grad_x,
                    T* grad_w, T* grad_bias);

}  // namespace ember::cpu
