// Launchers of cuda/norm.cu: layer/rms/group norm (the row norms of Note [Row normalization
// layout] in ops/cpu/norm.h) and batch norm, forward and fused first-order backward. Raw
// pointers only (Note [CUDA kernel boundary] in cuda/layout.h); Tensor side: cuda/norm.cpp.
// Optional tensors (weight, bias, mean output, gradients not wanted) are null pointers.
#pragma once
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// x: (rows, channels, inner) contiguous; each row normalised over its channels*inner elements;
// affine parameters of element (k, s) of row r at (r % groups) * channels + k.
struct RowNormDims {
  int64_t rows = 0, channels = 0, inner = 1, groups = 1;
  bool center = true;  // false: RMS norm
};

// The incoming gradient: contiguous like x, or one value (element 0) broadcast everywhere.
struct GradPointer {
  const void* data = nullptr;
  bool broadcast = false;
};

void row_norm_forward(void* y, void* mean, void* rstd, const void* x, const void* weight, const void* bias,
                      ScalarType type, RowNormDims dims, double eps, Stream stream);
void row_norm_backward(void* grad_x, void* grad_weight, void* grad_bias, GradPointer grad, const void* x,
                       const void* mean, const void* rstd, const void* weight, ScalarType type, RowNormDims dims,
                       Stream stream);

// x: (batch, channels, inner) contiguous; statistics per channel.
struct BatchNormDims {
  int64_t batch = 0, channels = 0, inner = 1;
};

// Per-channel mean and biased variance (two passes).
void batch_norm_stats(void* mean, void* var, const void* x, ScalarType type, BatchNormDims dims, Stream stream);
void batch_norm_forward(void* y, const void* x, const void* mean, const void* rstd, const void* weight, const void* bias,
                        ScalarType type, BatchNormDims dims, Stream stream);
// `workspace`: 3 * channels doubles of device memory (per-channel coefficients of grad_x).
void batch_norm_backward(void* grad_x, void* grad_weight, void* grad_bias, double* workspace, GradPointer grad,
                         const void* x, const void* mean, const void* rstd, const void* weight, ScalarType type,
                         BatchNormDims dims, bool training, Stream stream);

}  // namespace ember::cuda
