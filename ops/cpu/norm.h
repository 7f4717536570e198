// CPU kernels for ops/norm.cpp: fused forward (statistics + normalize + affine) and fused
// first-order backward for layer_norm, rms_norm, group_norm and batch_norm.
// Twins: ops/norm.cpp (API, checks, autograd, the differentiable backward used under
// create_graph), autograd/derivatives/norm.md (formulas).
//
// Statistics take two passes over data that is still in cache (mean, then the sum of squared
// deviations), so a large mean next to a small spread does not cancel, and every sum is a
// careful one (Note [Careful sums] in ops/cpu/norm.cpp: vectorised float partials over short
// blocks, totals in double).
#pragma once
#include "engine/tensor.h"

namespace ember::cpu {

// Note [Row normalization layout]: layer_norm, rms_norm and group_norm see x as a contiguous
// (R, K, S) block: each of the R rows is normalised over its K*S elements, and element (k, s) of
// row r uses the affine parameters at channel (r % G) * K + k.
//   layer_norm / rms_norm: R = outer numel, K = normalized numel, S = 1, G = 1.
//   group_norm:            R = N * G,       K = C / G,            S = spatial numel.
struct RowNormShape {
  int64_t rows = 0, channels = 0, inner = 1, groups = 1;
  bool center = true;  // false: RMS norm (no mean subtracted)
  int64_t row_numel() const { return channels * inner; }
};

// The incoming gradient of a fused backward: either contiguous in x's layout, or a single value
// broadcast everywhere (what sum() and mean() hand back: an expanded 0-d tensor), which the
// kernels read in place instead of materialising a full-size tensor.
struct GradInput {
  Tensor data;             // contiguous with x's shape, or any tensor whose element 0 is the value
  bool broadcast = false;  // every element equals data's element 0
};

// x: (R, K, S) contiguous; weight, bias: (G*K) contiguous or undefined.
// -> y: (R, K, S), mean, rstd: (R) (mean is 0 for RMS norm; rstd = 1 / sqrt(var + eps)).
void row_norm_forward(const Tensor& y, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                      const Tensor& bias, const RowNormShape& shape, double eps);

// Fused first-order backward. Any of grad_x,
// grad_weight, grad_bias may be undefined (not wanted). With x̂ = (x - mean) * rstd, n = K*S:
//   grad_x = rstd * (g w - mean(g w) - x̂ mean(g w x̂))   (mean(g w) term dropped for RMS norm)
//   grad_weight = sum over rows of g x̂,   grad_bias = sum over rows of g
void row_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias,
                       const GradInput& grad, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                       const Tensor& weight, const RowNormShape& shape);

// Batch norm sees x as a contiguous (N, C, S) block; statistics are per channel over (N, S).
struct BatchNormShape {
  int64_t batch = 0, channels = 0, inner = 1;
  int64_t count() const { return batch * inner; }  // elements per channel
};

// Per-channel batch mean and biased variance of x: (N, C, S) -> mean, var: (C).
void batch_norm_stats(const Tensor& mean, const Tensor& var, const Tensor& x, const BatchNormShape& shape);

// y = (x - mean[c]) * rstd[c] * weight[c] + bias[c]; weight/bias may be undefined.
void batch_norm_forward(const Tensor& y, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                        const Tensor& weight, const Tensor& bias, const BatchNormShape& shape);

// Fused first-order backward. training: mean/rstd are
// batch statistics (so they depend on x); otherwise they are constants (running statistics).
void batch_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias,
                         const GradInput& grad, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                         const Tensor& weight, const BatchNormShape& shape, bool training);

}  // namespace ember::cpu
