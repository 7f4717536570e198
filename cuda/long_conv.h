// CUDA kernels of the FFT long convolution (ops/long_conv.h): the twins of
// cpu::long_conv_fft_fwd / _bwd (ops/cpu/long_conv.h) with Tensors in place of raw pointers and
// SeqViews (x and grad_y are read through their strides, as on the CPU). Plain C++ (Note [CUDA
// kernel boundary] in cuda/layout.h). Implementation: cuda/long_conv.cpp, cuda/long_conv.cu.
// The direct O(L·K) reference (detail::long_conv_direct) stays CPU-only.
#pragma once
#include "engine/tensor.h"
#include "ops/cpu/long_conv.h"

namespace ember::cuda {

// x: (B, L, D) any strides, k: (D, K) contiguous -> y: (B, L, D) contiguous (written).
void long_conv_fft_fwd(const cpu::LongConvProblem& p, const Tensor& x, const Tensor& k, const Tensor& y);
// grad_x (B, L, D) and/or grad_k (D, K), contiguous; undefined: not wanted. x is read only for
// grad_k, k only for grad_x.
void long_conv_fft_bwd(const cpu::LongConvProblem& p, const Tensor& x, const Tensor& k, const Tensor& grad_y,
                       const Tensor& grad_x, const Tensor& grad_k);

}  // namespace ember::cuda
