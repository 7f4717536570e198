// CUDA kernels of short_conv (ops/short_conv.h): the twins of cpu::short_conv_fwd / _bwd
// (ops/cpu/short_conv.h) with Tensors in place of raw pointers and the GradView (grad_y is read
// through its strides, as on the CPU). Plain C++ (Note [CUDA kernel boundary] in cuda/layout.h).
// Implementation: cuda/short_conv.cpp, cuda/short_conv.cu.
#pragma once
#include "engine/tensor.h"
#include "ops/cpu/short_conv.h"

namespace ember::cuda {

// x: (B, L, D), w: (D, K), bias: (D) or undefined, all contiguous -> y (B, L, D) (written).
void short_conv_fwd(const cpu::ShortConvProblem& p, const Tensor& x, const Tensor& w, const Tensor& bias,
                    const Tensor& y);
// grad_y (B, L, D) any strides; grad_x, grad_w, grad_bias contiguous or undefined (not wanted).
void short_conv_bwd(const cpu::ShortConvProblem& p, const Tensor& x, const Tensor& w, const Tensor& bias,
                    const Tensor& grad_y, const Tensor& grad_x, const Tensor& grad_w, const Tensor& grad_bias);

}  // namespace ember::cuda
