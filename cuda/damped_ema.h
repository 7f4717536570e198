// CUDA kernels of the damped EMA's kernel (ops/damped_ema.h, Note [EMA Vandermonde] in
// ops/damped_ema.cpp): the twin of vandermonde_loops there, forward and first-order backward,
// with Tensors in place of raw pointers. The EMA's FFT convolution is long_conv's (cuda/long_conv.h).
// Plain C++ (Note [CUDA kernel boundary] in cuda/layout.h). Implementation: cuda/damped_ema.{cpp,cu}.
#pragma once
#include "engine/tensor.h"

namespace ember::cuda {

// weight, decay: (D, N) contiguous -> out (D, L) (written).
void ema_vandermonde_fwd(const Tensor& weight, const Tensor& decay, int64_t L, const Tensor& out);
// grad (D, L) contiguous -> grad_weight, grad_decay (D, N) (written).
void ema_vandermonde_bwd(const Tensor& weight, const Tensor& decay, const Tensor& grad, const Tensor& grad_weight,
                         const Tensor& grad_decay);

}  // namespace ember::cuda
