// CUDA twins of ops/cpu/softmax.h (same names and signatures; tensors on one CUDA device).
// ops/softmax.cpp picks them with EMBER_CUDA_KERNEL. Kernels: cuda/softmax.cu.
#pragma once
#include "ops/cpu/softmax.h"

namespace ember::cuda {

using cpu::SoftmaxLayout;

void softmax_fwd(const Tensor& out, const Tensor& x, SoftmaxLayout layout, bool log);
void softmax_bwd(const Tensor& grad_in, const Tensor& grad_out, const Tensor& y, SoftmaxLayout layout, bool log);

}  // namespace ember::cuda
