// CPU kernels for ops/interpolate.cpp. Every interpolation is separable: each output coordinate
// along an axis reads a few input coordinates (taps) with fixed weights, so the forward is
// out[p, oh, ow] = sum_ij wh[oh][i] ww[ow][j] x[p, h_i, w_j] and the backward is its adjoint
// (the same weights, scattered). 1-D inputs use H = OH = 1.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace ember::cpu {

enum class InterpMode { nearest, linear, cubic };

struct InterpAxis {
  int64_t in = 1;
  int64_t out = 1;
  double scale_factor = 0.0;  // the user's scale factor (out / in); 0 when a size was given
};

struct InterpPlan {
  InterpMode mode = InterpMode::nearest;
  bool align_corners = false;
  InterpAxis h, w;
};

// out: (P, OH, OW) contiguous; x: (P, H, W) contiguous.
void interpolate_fwd(const Tensor& out, const Tensor& x, const InterpPlan& plan);
// grad_in: (P, H, W) contiguous zeros on entry; grad: (P, OH, OW) contiguous.
// Deterministic: planes run in parallel, each plane accumulates serially.
void interpolate_adjoint(const Tensor& grad_in, const Tensor& grad, const InterpPlan& plan);

}  // namespace ember::cpu
