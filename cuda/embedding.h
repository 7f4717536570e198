// CUDA twins of ops/cpu/embedding.h (same names and signatures; tensors on one CUDA device).
// ops/embedding.cpp picks them with EMBER_CUDA_KERNEL. Kernels: cuda/embedding.cu.
#pragma once
#include "engine/tensor.h"

namespace ember::cuda {

void embedding_fwd(const Tensor& out, const Tensor& weight, const Tensor& indices, int64_t zero_row);
void embedding_bwd(const Tensor& grad_weight, const Tensor& grad, const Tensor& indices, int64_t skip_row);

}  // namespace ember::cuda
