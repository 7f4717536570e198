// CPU kernels for ops/pool.cpp. Every pooling variant (max / avg, fixed / adaptive, 1d / 2d) is
// described by one PoolWindows table per spatial axis, so one kernel serves them all.
// Twins: ops/pool.cpp (API, checks, backward), autograd/derivatives/norm.md (formulas).
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace ember::cpu {

// The pooling windows along one axis: output position o reads input positions
// start[o], start[o] + step, ... (< end[o]), already clipped to the input (padding removed).
// `scale[o]` is the averaging weight of that axis; an average pool's weight per element is
// scale_h[oh] * scale_w[ow] (every PyTorch divisor rule factors this way). Unused by max pool.
struct PoolWindows {
  std::vector<int64_t> start, end;
  std::vector<double> scale;
  int64_t step = 1;
  int64_t input_size = 0;
  // Regular windows (max/avg pool, not adaptive) also give their rule, which lets the kernels
  // sweep whole output rows per tap: window o has taps o * stride - padding + j * step, j < kernel.
  // kernel == 0 marks irregular (adaptive) windows.
  int64_t kernel = 0, stride = 1, padding = 0;
  int64_t output_size() const { return static_cast<int64_t>(start.size()); }
};

// x: (B, H, W) contiguous -> out: (B, OH, OW), indices: (B, OH, OW) int64 into the H*W plane.
// NaN wins (propagates), like PyTorch.
void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, const PoolWindows& rows,
                const PoolWindows& cols);

// x: (B, H, W) contiguous -> out: (B, OH, OW), out = sum over the window of x * scale_h * scale_w.
void avg_pool2d(const Tensor& out, const Tensor& x, const PoolWindows& rows, const PoolWindows& cols);
// The adjoint of avg_pool2d: grad: (B, OH, OW) contiguous -> grad_input: (B, H, W) (overwritten).
void avg_pool2d_adjoint(const Tensor& grad_input, const Tensor& grad, const PoolWindows& rows,
                        const PoolWindows& cols);

// Plane-wise scatter-add and gather (max pool's backward and its adjoint).
// out: (B, P) zero-filled here, src/indices: (B, Q): out[b, indices[b, q]] += src[b, q].
// Returns false (and skips the element) when an index lies outside [0, P).
bool plane_scatter_add(const Tensor& out, const Tensor& src, const Tensor& indices);
// out: (B, Q), x: (B, P), indices: (B, Q): out[b, q] = x[b, indices[b, q]]. False on a bad index.
bool plane_gather(const Tensor& out, const Tensor& x, const Tensor& indices);

}  // namespace ember::cpu
