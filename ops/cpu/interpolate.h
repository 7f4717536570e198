// CPU kernels for ops/interpolate.cpp. Every interpolation is separable: each output coordinate
// along an axis reads a few input coordinates (taps) with fixed weights, so the forward is
// out[p, oh, ow] = sum_ij wh[oh][i] ww[ow][j] x[p, h_i, w_j] and the backward is its adjoint
// (the same weights, scattered). 1-D inputs use H = OH = 1.
#pragma once
#include <cstdint>
#include <vector>

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

// The taps of one axis: output coordinate o reads input index[o * count + k] with weight
// weight[o * count + k], k < count. Shared with the CUDA twin (cuda/interpolate.cpp).
struct InterpTaps {
  int64_t count = 1;
  std::vector<int64_t> index;
  std::vector<double> weight;
};
InterpTaps make_taps(InterpMode mode, bool align_corners, const InterpAxis& axis);

// out: (P, OH, OW) contiguous; x: (P, H, W) contiguous.
void interpolate_fwd(const Tensor& out, const Tensor& x, const InterpPlan& plan);
// grad_in: (P, H, W) contiguous zeros on entry; grad: (P, OH, OW) contiguous.
// Deterministic: planes run in parallel, each plane accumulates serially.
void interpolate_adjoint(const Tensor& grad_in, const Tensor& grad, const InterpPlan& plan);

}  // namespace ember::cpu
