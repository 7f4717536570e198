// long_conv: depthwise convolution of a sequence with a kernel as long as the sequence, via FFT
// (O(L log L) per channel instead of O(L·K)). The long branch of CHELA / H3 / Hyena and MEGA's EMA.
// Twins: ops/long_conv.cpp (checks, dispatch, backward), ops/cpu/long_conv.cpp (kernels).
#pragma once
#include "engine/tensor.h"

namespace ember {

// Sequence ops take tokens in (B, L, D) layout (the layout of the sequence models), one kernel
// per channel d:
//   x: (B, L, D), k: (D, K) -> (B, L, D)
//   causal (K <= L):            y[b, t, d] = sum_{s=0}^{K-1} k[d, s] * x[b, t - s, d]
//   bidirectional (K odd, K <= 2L - 1), centred at c = (K - 1) / 2:
//                               y[b, t, d] = sum_{s=0}^{K-1} k[d, s] * x[b, t + c - s, d]
// with x = 0 outside [0, L). Differentiable in x and k (float32/float64).
Tensor long_conv(const Tensor& x, const Tensor& k, bool causal = true);

namespace detail {
// The same sums by direct O(L·K) loops: the reference the FFT path is tested against.
Tensor long_conv_direct(const Tensor& x, const Tensor& k, bool causal = true);
}  // namespace detail

}  // namespace ember
